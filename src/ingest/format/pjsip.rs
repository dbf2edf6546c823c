//! pjsip, pjsua and pjsua2 logs (the reader is `crate::ingest::pjsip`).

use super::{Format, Parser, Spec, TextCounts, TextParser, TextStart, level};
use crate::event::Event;
use crate::ingest::pjsip;

pub const FORMAT: Format = Format(&Spec {
    name: "pjsip",
    summary: "PJSIP / pjsua / pjsua2 log output with TX/RX message dumps, in any decor or \
              wrapper (logcat, NSLog, syslog, logging prefixes)",
    looks: "a pjsip log",
    recognises: "pjsip log lines (`HH:MM:SS.mmm sender message`)",
    sniff: |head| pjsip::sniff(head).then_some(level::STACK_LOG),
    parser: Parser::Text(new),
    docs: DOCS,
    fixtures: &[
        "basic-call/caller.log",
        "tcp-call/callee.log",
        "python-logging/callee.log",
    ],
});

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    let opts = pjsip::PjsipOptions { date: start.date };
    Box::new(pjsip::Parser::new(start.head, start.input, &opts, emit))
}

impl TextParser for pjsip::Parser<'_> {
    fn feed(&mut self, piece: &[u8]) {
        pjsip::Parser::feed(self, piece);
    }

    fn finish(mut self: Box<Self>, rest: &[u8]) -> TextCounts {
        pjsip::Parser::feed(&mut self, rest);
        let log = pjsip::Parser::finish(*self);
        TextCounts {
            messages: log.dumps,
            truncated: log.truncated,
        }
    }
}

const DOCS: &str = "## What it is

The log of an application built on PJSIP (pjsua, pjsua2, and the many softphones and SDKs on
top of them), at level 4 or more with message logging on, so that every message sent or
received is dumped between a `TX`/`RX … bytes … msg …` header and `--end msg--`.

## How to make one

In pjsua2, `EpConfig.logConfig.level = 5` (or at least 4) with `msgLogging` on, and a
`filename` or a writer; with the `pjsua` CLI, `--log-level=5 --log-file=FILE`.

## How sipflow recognises it

A `TX`/`RX … bytes Request|Response msg` header or an `--end msg--` line anywhere in the first
64 KiB; or a record in pjsip's own columns (a time, then the sender right-aligned in its 14-
or 22-character column); or two pjsip records after a time wherever they sit on their line
(behind a logcat, NSLog, syslog or Python `logging` prefix).

## What sipflow takes from it

Every dump as a message with its time (to the millisecond; dated when the decor has a date,
else `--date`), direction (TX/RX), transport, local and peer address, pjsip's handle
(`tdta0x…`) and declared length; the evidence lines the rules read (`Answering call`,
`hanging up`, call states, registration results, PJ error names, DNS and TLS errors).

## Limits

pjsip cuts a log record at 4,000 bytes (`PJ_LOG_MAX_SIZE`): a longer dump is marked
`record-limit` (the wire message was whole). A dump the input starts or ends inside is cut at
the input's edge. Lines longer than 1 MiB are cut, with a warning.
";
