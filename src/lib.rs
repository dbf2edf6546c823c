//! sipflow: a SIP log analyzer and call-flow debugger.
//!
//! The pipeline is `ingest → sip → dialog → report`: [`ingest`] reads pjsip logs, SIPp traces
//! and raw SIP dumps into [`event::Event`]s, [`sip`] parses messages, [`dialog`] rebuilds
//! transactions, dialogs and calls, and [`report`] renders them. [`cli`] ties them to the
//! command line. See `docs/architecture.md`.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod dialog;
pub mod event;
pub mod hash;
pub mod ingest;
pub mod media;
pub mod report;
pub mod rules;
pub mod sip;

#[cfg(test)]
mod testutil;
