//! pjsip log ingest. CONTRACT STUB: the pjsip helper replaces the body, keeping the signatures.

use crate::event::Event;

/// Options for reading a pjsip log.
#[derive(Debug, Clone, Default)]
pub struct PjsipOptions {
    /// Day (days since 1970-01-01) to put on timestamps when the log has no date (`--date`).
    pub date: Option<i64>,
}

/// What a pjsip log yields.
#[derive(Debug, Default)]
pub struct PjsipLog {
    /// Message and log events in input order.
    pub events: Vec<Event>,
    /// Number of `TX`/`RX` dump headers seen (complete or cut).
    pub dumps: usize,
    /// Number of dumps marked truncated.
    pub truncated: usize,
}

/// Whether the first bytes of an input look like a pjsip log.
pub fn sniff(head: &[u8]) -> bool {
    let _ = head;
    false
}

/// Reads a whole pjsip log. `input` is the index of this input in the run.
pub fn parse(text: &[u8], input: usize, opts: &PjsipOptions) -> PjsipLog {
    let _ = (text, input, opts);
    PjsipLog::default()
}
