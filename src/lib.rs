//! sipflow: a SIP log analyzer and call-flow debugger.
//!
//! The pipeline is `ingest → sip → dialog → report`: [`ingest`] reads pjsip logs and raw SIP
//! dumps into [`event::Event`]s, [`sip`] parses messages, [`dialog`] rebuilds transactions,
//! dialogs and calls, and [`report`] renders them. See `docs/architecture.md`.
#![forbid(unsafe_code)]

pub mod event;
pub mod ingest;
pub mod sip;
