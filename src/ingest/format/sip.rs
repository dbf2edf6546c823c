//! Raw SIP messages back to back (the reader is `crate::ingest::raw`).

use super::{Format, Parser, Spec, TextParser, TextStart, level};
use crate::event::Event;
use crate::ingest::raw;

pub const FORMAT: Format = Format(&Spec {
    name: "sip",
    summary: "Raw SIP messages back to back (a paste, a saved message, a payload export)",
    looks: "a raw SIP dump",
    recognises: "raw SIP starting with a start line",
    sniff: |head| raw::sniff_raw(head).then_some(level::BARE),
    parser: Parser::Text(new),
    packets: false,
    docs: include_str!("sip.md"),
    fixtures: &[],
});

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    Box::new(raw::RawParser::new(false, start.input, start.date, emit))
}
