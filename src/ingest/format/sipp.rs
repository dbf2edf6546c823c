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
    docs: DOCS,
    fixtures: &[
        "rules-message-extra/content-length-mismatch/uac.msg",
        "register-401/registrar.msg",
    ],
});

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    Box::new(raw::RawParser::new(true, start.input, start.date, emit))
}

const DOCS: &str = "## What it is

The message log SIPp writes with `-trace_msg`: every message sent or received, each after a
line of dashes with its date and time and a `UDP message sent (N bytes):` or `… message
received [N] bytes :` line.

## How to make one

```
sipp -sf scenario.xml -trace_msg -message_file call.msg 127.0.0.1:5060
```

## How sipflow recognises it

A separator line (20 or more dashes, a date and a time) followed by a `… message sent` or
`… message received` line.

## What sipflow takes from it

Each message with its time (to the microsecond when SIPp writes six digits), direction and
transport. SIPp does not write the addresses.

## Limits

A record without its separator or header line is skipped. Lines longer than 1 MiB are cut,
with a warning.
";
