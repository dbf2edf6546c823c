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
    packets: false,
    docs: include_str!("pjsip.md"),
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

    fn pause(&mut self) {
        pjsip::Parser::pause(self);
    }

    fn finish(mut self: Box<Self>, rest: &[u8]) -> TextCounts {
        pjsip::Parser::feed(&mut self, rest);
        let log = pjsip::Parser::finish(*self);
        TextCounts {
            messages: log.dumps,
            truncated: log.truncated,
            ..TextCounts::default()
        }
    }
}
