//! Ingest: turns inputs into events. (Being written.)
pub mod pjsip;
