//! SIPp `-trace_msg` message logs (the reader is `crate::ingest::raw`).

use super::{Format, Parser, Spec, TextParser, TextStart, level};
use crate::event::Event;
use crate::ingest::raw;

pub const FORMAT: Format = Format(&Spec {
    name: "sipp",
    summary: "SIPp's -trace_msg message log",
    looks: "a SIPp message trace",
    recognises: "SIPp `-trace_msg` records",
    sniff: |head| raw::sniff_sipp(head).then_some(level::RECORDS),
    parser: Parser::Text(new),
    packets: false,
    docs: include_str!("sipp.md"),
    fixtures: &[
        "rules-message-extra/content-length-mismatch/uac.msg",
        "register-401/registrar.msg",
    ],
});

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    Box::new(raw::RawParser::new(true, start.input, start.date, emit))
}
