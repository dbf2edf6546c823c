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
    docs: DOCS,
    fixtures: &[],
});

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    Box::new(raw::RawParser::new(false, start.input, start.date, emit))
}

const DOCS: &str = "## What it is

SIP messages one after the other, as they went on the wire: a start line (`INVITE sip:… SIP/2.0`
or `SIP/2.0 200 OK`), headers, a blank line and the body. What people paste into a ticket,
or save from a capture's payload.

## How to make one

Copy the messages; or from a capture, each SIP payload as text.

## How sipflow recognises it

The first non-blank line is a SIP start line.

## What sipflow takes from it

Each message, split at its Content-Length where it has one, else at the next start line;
the transport from its top Via. Bytes that are not a message are kept as an unparsed message
so that nothing is lost.

## Limits

Raw SIP has no times, directions or addresses: every message gets time 0 and keeps the
input's order. Lines longer than 1 MiB are cut, with a warning.
";
