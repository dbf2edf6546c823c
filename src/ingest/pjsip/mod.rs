//! pjsip log ingest: pjsua / pjsua2 / pjsip log output into [`Event`]s.
//!
//! Owns: finding pjsip's line prefix in every decor variant, also inside an application's own
//! prefix (logcat, Python logging, NSLog, log4net) or colour codes (`prefix`); log time with
//! midnight rollover (`clock`); `TX`/`RX` message dumps, including those cut by pjsip's
//! 4000-byte record cap (`dump`); the local address of each dump (`local`); and the table of
//! evidence lines that become [`LogEvent`]s (`evidence`). Does not own: SIP grammar (each dump
//! body goes to [`SipMessage::parse`]), reading or sniffing files in general
//! ([`crate::ingest`]), or what the events mean for calls ([`crate::dialog`]).

mod clock;
mod dump;
mod evidence;
mod line;
mod local;
mod prefix;

#[cfg(test)]
mod tests;

use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::event::{Cut, Event, Locator, LogEvent, MessageEvent, Origin, Timestamp};
use crate::sip::SipMessage;
use clock::Clock;
use dump::{Dump, Feed, Finished, Header};
use line::{Line, Lines};
use local::Locals;
use prefix::{Layout, Prefix, clean_head};

/// Options for reading a pjsip log.
#[derive(Debug, Clone, Default)]
pub struct PjsipOptions {
    /// Day (days since 1970-01-01) to put on timestamps when the log has no date (`--date`).
    pub date: Option<i64>,
}

/// What a pjsip log yields besides its events.
#[derive(Debug, Default)]
pub struct PjsipLog {
    /// Number of `TX`/`RX` dump headers seen (complete or cut).
    pub dumps: usize,
    /// Number of dumps marked truncated.
    pub truncated: usize,
}

/// How much of an input [`sniff`] looks at.
const SNIFF_BYTES: usize = 64 * 1024;

static SNIFF_DUMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)(?:^|[\n .!])(?:TX|RX) [0-9]+ bytes (?:Request|Response) msg ")
        .expect("static regex")
});

static SNIFF_SENDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})? +(?:pjsua_[a-z0-9_]+|sip_[a-z0-9_]+|os_core_[a-z0-9_]+)\.c[ !]",
    )
    .expect("static regex")
});

/// Whether the first bytes of an input look like a pjsip log: a `TX`/`RX` dump header, or at
/// least two prefixed lines from well-known pjsip senders. Raw SIP never has either.
pub fn sniff(head: &[u8]) -> bool {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    SNIFF_DUMP.is_match(head) || SNIFF_SENDER.find_iter(head).nth(1).is_some()
}

/// Message events are held back while one of them waits for its local address (a connection
/// line later in the log may tell it), but never more than this many: then what is known so far
/// fills them, so that memory stays bounded.
const HOLD_EVENTS: usize = 1024;

/// Reads a whole pjsip log in memory, handing its events to `emit` in input order. `input` is
/// the index of this input in the run.
pub fn parse(
    text: &[u8],
    input: usize,
    opts: &PjsipOptions,
    emit: &mut dyn FnMut(Event),
) -> PjsipLog {
    let mut parser = Parser::new(text, input, opts, emit);
    parser.feed(text);
    parser.finish()
}

/// Reads a pjsip log piece by piece, so that it need not be held whole: each piece is whole
/// lines (all but the last end in `\n`), in order. Events go to `emit` as in [`parse`].
pub struct Parser<'a> {
    reader: Reader<'a>,
    /// Bytes and lines fed so far.
    offset: usize,
    lines: u32,
}

impl<'a> Parser<'a> {
    /// `head` is the start of the log (its first 4 MiB, or all of it), from which the layout
    /// of its line prefix is learnt.
    pub fn new(
        head: &[u8],
        input: usize,
        opts: &PjsipOptions,
        emit: &'a mut dyn FnMut(Event),
    ) -> Self {
        Parser {
            reader: Reader::new(Layout::learn(head), input, opts, emit),
            offset: 0,
            lines: 0,
        }
    }

    pub fn feed(&mut self, piece: &[u8]) {
        for line in Lines::at(piece, self.offset, self.lines) {
            self.lines = line.no;
            self.reader.line(line);
        }
        self.offset += piece.len();
    }

    pub fn finish(self) -> PjsipLog {
        self.reader.finish()
    }
}

/// The state of one pass over an input.
struct Reader<'a> {
    input: usize,
    layout: Layout,
    clock: Clock,
    locals: Locals,
    /// The dump being collected, if the last record is one.
    dump: Option<Box<Dump>>,
    /// Time of the last prefixed line (`None` before the first).
    last: Option<Timestamp>,
    /// Events not handed on yet: see [`HOLD_EVENTS`].
    held: Vec<Event>,
    /// Held message events whose local address no connection line had shown when they were
    /// read (indexes into `held`).
    pending: Vec<local::Pending>,
    out: PjsipLog,
    emit: &'a mut dyn FnMut(Event),
}

impl<'a> Reader<'a> {
    fn new(
        layout: Layout,
        input: usize,
        opts: &PjsipOptions,
        emit: &'a mut dyn FnMut(Event),
    ) -> Self {
        Reader {
            input,
            layout,
            clock: Clock::new(opts.date),
            locals: Locals::default(),
            dump: None,
            last: None,
            held: Vec::new(),
            pending: Vec::new(),
            out: PjsipLog::default(),
            emit,
        }
    }

    /// Hands an event on, or holds it (see [`HOLD_EVENTS`]).
    fn push(&mut self, event: Event) {
        self.held.push(event);
        if self.pending.is_empty() || self.held.len() >= HOLD_EVENTS {
            self.release();
        }
    }

    /// Fills the pending local addresses with what the log has shown so far and hands every
    /// held event on.
    fn release(&mut self) {
        local::fill(&mut self.held, &self.pending, &self.locals);
        self.pending.clear();
        for e in self.held.drain(..) {
            (self.emit)(e);
        }
    }

    fn line(&mut self, line: Line<'_>) {
        let clean = clean_head(line.bytes);
        let prefix = self.layout.parse(&clean);
        if prefix.is_none() && self.feed_dump(line) {
            return;
        }
        self.close_dump(false, false);
        match prefix {
            Some(p) => self.record(line, &clean, &p),
            None => self.foreign(line, &clean),
        }
    }

    /// Gives an unprefixed line to the open dump; `false` if there is none or it is over.
    fn feed_dump(&mut self, line: Line<'_>) -> bool {
        let Some(dump) = self.dump.as_mut() else {
            return false;
        };
        match dump.feed(line) {
            Feed::Body => true,
            Feed::End => {
                self.close_dump(true, false);
                true
            }
            Feed::Overflow => false,
        }
    }

    /// A line with pjsip's prefix: a dump header, a transport line, an evidence line or chatter.
    fn record(&mut self, line: Line<'_>, clean: &[u8], p: &Prefix) {
        let ts = self.clock.stamp(p.date, p.tod);
        self.last = Some(ts);
        let text = clean.get(p.text.clone()).unwrap_or_default();
        if let Some(header) = Header::parse(text) {
            self.out.dumps += 1;
            let wrapper = clean.get(p.wrapper.clone()).unwrap_or_default();
            self.dump = Some(Box::new(Dump::new(header, ts, line, wrapper)));
            return;
        }
        let text = String::from_utf8_lossy(text);
        if let Some(fact) = evidence::fact(&text) {
            self.locals.learn(fact);
        }
        let sender = String::from_utf8_lossy(clean.get(p.sender.clone()).unwrap_or_default());
        self.evidence(line, ts, &sender, &text);
    }

    /// A line without pjsip's prefix outside a dump (a multi-line record's tail, or another
    /// writer's output such as an assertion): evidence only, at the time of the last record.
    fn foreign(&mut self, line: Line<'_>, clean: &[u8]) {
        if let Some(ts) = self.last {
            self.evidence(line, ts, "", &String::from_utf8_lossy(clean));
        }
    }

    fn evidence(&mut self, line: Line<'_>, ts: Timestamp, sender: &str, text: &str) {
        let Some(kind) = evidence::classify(text) else {
            return;
        };
        let origin = self.origin(line.no, line.start..line.end());
        self.push(Event::Log(LogEvent {
            ts,
            origin,
            sender: sender.to_string(),
            kind,
            errors: evidence::errors(text),
            text: text.trim_end().to_string(),
        }));
    }

    fn origin(&self, line: u32, span: Range<usize>) -> Origin {
        Origin {
            input: self.input,
            locator: Locator::Text { line, span },
        }
    }

    /// Turns the open dump, if any, into a message event. `ended`: its `--end msg--` was seen;
    /// `eof`: the input ends here.
    fn close_dump(&mut self, ended: bool, eof: bool) {
        let Some(dump) = self.dump.take() else {
            return;
        };
        let Finished {
            dump,
            raw,
            truncated,
        } = dump.finish(ended);
        self.out.truncated += usize::from(truncated);
        // A dump still open when the input ends was cut by the input's edge, not by pjsip.
        let cut = truncated.then_some(if eof && !ended {
            Cut::InputEdge
        } else {
            Cut::RecordLimit
        });
        let h = dump.header;
        let local = self.locals.conn(h.transport, &h.peer);
        if local.is_none() {
            let listening = self.locals.listening(h.transport, &h.peer);
            self.pending.push((self.held.len(), listening));
        }
        let mut m = MessageEvent {
            ts: dump.ts,
            origin: self.origin(dump.line, dump.span),
            direction: Some(h.direction),
            transport: h.transport,
            src: None,
            dst: None,
            handle: h.handle,
            declared_len: h.declared,
            cut,
            msg: SipMessage::parse(&raw),
        };
        *local::slot(&mut m) = local;
        *local::peer_slot(&mut m) = Some(h.peer);
        self.push(Event::Message(m));
    }

    fn finish(mut self) -> PjsipLog {
        self.close_dump(false, true);
        self.release();
        self.out
    }
}
