//! pjsip log ingest: pjsua / pjsua2 / pjsip log output into [`Event`]s, as it is written and as
//! people paste it.
//!
//! Owns: finding pjsip's line prefix in every decor variant, also inside an application's own
//! prefix (logcat, Python logging, NSLog, log4net) or colour codes (`prefix`); learning, from
//! the constant dump header and `--end msg--`, the record prefix of a log whose records do not
//! carry pjsip's decor and what a dump's continuation lines carry (`prefix::Learnt`,
//! `line::Cont`); log time with midnight rollover, and the first time shown for lines read
//! before it (`clock`); `TX`/`RX` message dumps: found anywhere on a line, their exact bytes
//! rebuilt from pastes that lost CRs, doubled or collapsed line ends, the reason one is
//! incomplete ([`crate::event::Cut`]), and dumps interrupted by other lines (`dump`), also
//! pjsip's records of packets it could not parse (`Error processing … packet`, read as RX
//! messages with [`MessageEvent::stack_error`]), a dump header the input ends inside, and the
//! tail of a dump the input starts inside (a message without a start line); records found
//! inside other loggers' lines by well-known senders and pjsip's texts (`anchor`); the local
//! address of each dump (`local`); pjsua's multi-line call dump, one [`LogEvent`] per stream
//! (`media`); and the table of evidence lines that become [`LogEvent`]s
//! (`evidence`). Does not own: SIP grammar (each dump body goes to
//! [`crate::sip::SipMessage::parse`]), reading or sniffing files in general
//! ([`crate::ingest`]), or what the events mean for calls ([`crate::dialog`]).

mod anchor;
mod clock;
mod dump;
mod evidence;
mod line;
mod local;
mod media;
mod prefix;

#[cfg(test)]
mod tests;

use std::ops::Range;
use std::sync::{Arc, LazyLock};

use regex::bytes::Regex;

use crate::event::{Cut, Event, Locator, LogEvent, MessageEvent, Origin, Timestamp};
use clock::Clock;
use dump::{Close, Dump, Feed, Finished, Found, find_header};
use line::{Cont, Line, Lines};
use local::Locals;
use prefix::{Learnt, Prefix, clean_head};

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
    Regex::new(r"(?-u)(?:TX|RX) [0-9]+ bytes (?:Request|Response) msg ").expect("static regex")
});

/// An end marker alone on its line (a colour reset may follow it), whatever precedes it (a log
/// that starts with the tail of a dump).
static SNIFF_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m-u)--end msg--(?:[ \t\r]|\x1b\[[0-9;]*m)*$").expect("static regex")
});

/// Whether the first bytes of an input look like a pjsip log: a `TX`/`RX` dump header or an
/// `--end msg--` line, whatever precedes them; or one record in pjsip's own columns (a sender
/// right-aligned in its 14- or 22-byte column after a time, see [`prefix::in_pjsip_columns`]);
/// or pjsip records after a time, wherever they sit on their line (see [`anchor`]): two lines
/// with a well-known sender and pjsip's separator or with one of pjsip's message texts, or one
/// line with both. Raw SIP never has any of them;
/// prose that names pjsip's files, or a C source file quoting its texts, does not show them
/// after a time.
pub fn sniff(head: &[u8]) -> bool {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    if SNIFF_DUMP.is_match(head) || SNIFF_END.is_match(head) {
        return true;
    }
    let mut weight = 0;
    for line in Lines::new(head) {
        let clean = clean_head(line.bytes);
        if prefix::in_pjsip_columns(&clean) {
            return true;
        }
        if let Some((_, a)) = prefix::anchored(&clean) {
            weight += if a.known_text && !a.sender.is_empty() {
                2
            } else {
                1
            };
            if weight >= 2 {
                return true;
            }
        }
    }
    false
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
            reader: Reader::new(Learnt::learn(head), input, opts, emit),
            offset: 0,
            lines: 0,
        }
    }

    /// The input paused (a live input whose writer has written nothing more for a while):
    /// the events held for what later lines may tell are handed on with what is known now,
    /// as when too many are held.
    pub fn pause(&mut self) {
        if !self.reader.held.is_empty() {
            self.reader.release();
        }
    }

    pub fn feed(&mut self, piece: &[u8]) {
        let mut lines = Lines::at(piece, self.offset, self.lines);
        while let Some(line) = lines.next() {
            self.lines = line.no;
            self.reader.line(line);
            // A dump header: its message lines, as far as they are sure to be nothing else, go
            // to the dump at once.
            let next = line.start - self.offset + line.bytes.len() + 1;
            if let Some(last) = piece.get(next..).and_then(|rest| {
                self.reader
                    .body_run(line.no, rest, line.start + line.bytes.len() + 1)
            }) {
                self.lines = last.no;
                lines.resume_after(last);
            }
        }
        self.offset += piece.len();
    }

    pub fn finish(self) -> PjsipLog {
        self.reader.finish()
    }
}

/// A dump header the input may end inside.
struct Partial {
    header: dump::Header,
    ts: Option<Timestamp>,
    line: u32,
    span: Range<usize>,
    /// Its place among the held events.
    slot: usize,
}

/// The state of one pass over an input.
/// Where a record starts, and its sender.
#[derive(Debug, Clone)]
struct Anchor {
    line: u32,
    start: usize,
    sender: String,
}

struct Reader<'a> {
    input: usize,
    learnt: Learnt,
    /// The continuation prefix of the log's dumps as shown so far (see [`line::Cont`]).
    cont: Cont,
    clock: Clock,
    locals: Locals,
    /// The dump being collected, if the last record is one (or it was interrupted).
    dump: Option<Dump>,
    /// The line-ends buffer of the last dump, for the next one.
    scratch: Vec<usize>,
    /// Time of the last timed line (`None` before the first).
    last: Option<Timestamp>,
    /// Events not handed on yet: see [`HOLD_EVENTS`].
    held: Vec<Event>,
    /// Held message events whose local address no connection line had shown when they were
    /// read (indexes into `held`).
    pending: Vec<local::Pending>,
    /// Held events read before the input showed any time (indexes into `held`): they get the
    /// first time it shows.
    untimed: Vec<usize>,
    /// A dump header the last non-blank line ended inside (see [`dump::partial_header`]): a
    /// message cut by the input's end if no other line follows.
    partial: Option<Partial>,
    /// The lines read before the first record or dump, while no dump has been seen: the input
    /// may start inside a message (see [`Reader::tail`]).
    lead: Option<dump::Lead>,
    /// A pjsua call dump being read (see [`media`]).
    call_dump: Option<(media::CallDump, Timestamp, bool, Anchor)>,
    /// The last record line read: where a call dump that follows it in unprefixed lines
    /// starts (pjsua writes the dump as one record whose text begins on the next line).
    last_record: Option<Anchor>,
    out: PjsipLog,
    emit: &'a mut dyn FnMut(Event),
}

impl<'a> Reader<'a> {
    fn new(
        learnt: Learnt,
        input: usize,
        opts: &PjsipOptions,
        emit: &'a mut dyn FnMut(Event),
    ) -> Self {
        Reader {
            input,
            cont: learnt.cont.clone(),
            learnt,
            clock: Clock::new(opts.date),
            locals: Locals::default(),
            dump: None,
            scratch: Vec::new(),
            last: None,
            held: Vec::new(),
            pending: Vec::new(),
            untimed: Vec::new(),
            partial: None,
            lead: Some(dump::Lead::default()),
            call_dump: None,
            last_record: None,
            out: PjsipLog::default(),
            emit,
        }
    }

    /// Hands an event on, or holds it (see [`HOLD_EVENTS`]).
    fn push(&mut self, event: Event, timed: bool) {
        self.insert(self.held.len(), event, timed, None);
    }

    /// Puts an event at `slot` among the held ones (an interrupted dump's message goes before
    /// the lines that interrupted it), then hands the held events on unless they must wait: for
    /// a local address (`pending`: the address its transport listens at, if the log showed no
    /// connection), for an interrupted dump that may still take its place, or for the first
    /// time the input shows. They never wait past [`HOLD_EVENTS`].
    fn insert(&mut self, slot: usize, event: Event, timed: bool, pending: Option<Option<String>>) {
        let slot = slot.min(self.held.len());
        for (i, _) in &mut self.pending {
            *i += usize::from(*i >= slot);
        }
        for i in &mut self.untimed {
            *i += usize::from(*i >= slot);
        }
        if !timed {
            self.untimed.push(slot);
        }
        if let Some(listening) = pending {
            self.pending.push((slot, listening));
        }
        self.held.insert(slot, event);
        let waiting = !self.pending.is_empty()
            || !self.untimed.is_empty()
            || self.dump.as_ref().is_some_and(|d| d.slot.is_some());
        if !waiting || self.held.len() >= HOLD_EVENTS {
            self.release();
        }
    }

    /// Fills the pending local addresses with what the log has shown so far and hands every
    /// held event on. An interrupted dump that is still open gives up its place (it is
    /// [`dump::SUSPENDED_LINES`]-bounded, so this happens only past [`HOLD_EVENTS`]).
    fn release(&mut self) {
        if let Some(d) = self.dump.as_mut() {
            d.slot = None;
        }
        local::fill(&mut self.held, &self.pending, &self.locals);
        self.pending.clear();
        self.untimed.clear();
        for e in self.held.drain(..) {
            (self.emit)(e);
        }
    }

    /// The time for an event read now: the last time shown, or a placeholder until the input
    /// shows one (`false`).
    fn now(&self) -> (Timestamp, bool) {
        match self.last {
            Some(ts) => (ts, true),
            None => (Timestamp::UNKNOWN, false),
        }
    }

    /// The input shows a time: events read before any time get it.
    fn timed(&mut self, ts: Timestamp) {
        if self.last.is_none() {
            for &i in &self.untimed {
                match self.held.get_mut(i) {
                    Some(Event::Message(m)) => m.ts = ts,
                    Some(Event::Log(l)) => l.ts = ts,
                    None => {}
                }
            }
            self.untimed.clear();
            if let Some(d) = self.dump.as_mut() {
                d.ts.get_or_insert(ts);
            }
        }
        self.last = Some(ts);
    }

    fn line(&mut self, line: Line<'_>) {
        let clean = clean_head(line.bytes);
        let found = find_header(&clean);
        let end = found.is_none().then(|| dump::end_marker(&clean)).flatten();
        let prefix = end.is_none().then(|| self.learnt.parse(&clean)).flatten();
        if !clean.trim_ascii().is_empty() {
            self.partial_header(line, &clean, found.is_some(), prefix.is_some());
        }
        if let Some(at) = end {
            self.end_marker(line, &clean, at);
            return;
        }
        if let Some(lead) = self.lead.as_mut() {
            if found.is_some() || prefix.is_some() {
                self.lead = None;
            } else {
                lead.push(line, &clean);
            }
        }
        if self.dump.is_some() {
            if found.is_none() && prefix.is_none() && self.feed_dump(line, &clean) {
                return;
            }
            self.interrupt(found.is_some());
        }
        if let Some(found) = found {
            self.header(line, &clean, prefix.as_ref(), found);
            return;
        }
        match prefix {
            Some(p) => self.record(line, &clean, &p),
            None => self.foreign(line, &clean),
        }
    }

    /// The lines after the dump header on line `no` (`rest`, at offset `start` of the input), as
    /// far as the dump's declared size goes and [`dump::run_of_body`] finds them sure to be
    /// message lines, fed to the dump as [`Reader::line`] would feed them, without looking for
    /// records, headers and end markers on each. Stops before a line the dump does not take
    /// (the line-by-line reader then reads it again: the dump is left as that reading needs it).
    /// The last line fed, if any.
    fn body_run<'t>(&mut self, no: u32, rest: &'t [u8], start: usize) -> Option<Line<'t>> {
        let dump = self
            .dump
            .as_mut()
            .filter(|d| d.line == no && d.is_fresh())?;
        if self.partial.is_some() || self.lead.is_some() || self.learnt.record.is_some() {
            return None;
        }
        let declared = dump.header.declared?;
        let run = &rest[..rest.len().min(declared.saturating_add(1))];
        let learnt = &self.learnt;
        let run = &run[..dump::run_of_body(run, |l| learnt.parse(&clean_head(l)).is_some())];
        let mut last = None;
        for (i, line) in Lines::at(run, start, no).enumerate() {
            if i == 0 {
                dump.learn_cont(&clean_head(line.bytes));
            }
            match dump.feed_text(line, line.bytes) {
                Feed::Body | Feed::Cut => last = Some(line),
                Feed::Foreign | Feed::Overflow => break,
            }
        }
        last
    }

    /// A line that is not blank: a partial dump header seen before is not at the input's end
    /// (it stays the line it was read as); this line may be one (`whole`: it holds a whole dump
    /// header; `record`: it has a record prefix).
    fn partial_header(&mut self, line: Line<'_>, clean: &[u8], whole: bool, record: bool) {
        if let Some(p) = self.partial.take() {
            // A record stopped inside its header for no visible reason.
            self.partial_message(p, Some(Cut::Damaged));
        }
        // Inside an open dump, only a record's line starts a new record (a message body may
        // quote a log).
        if whole || (self.dump.is_some() && !record) {
            return;
        }
        if let Some((at, header)) = dump::partial_header(clean) {
            // A new record starts, as with a whole header.
            self.interrupt(true);
            let (date, tod) = prefix::loose_time(clean, at).unzip();
            let ts = tod.map(|tod| self.clock.stamp(date.flatten(), tod));
            self.partial = Some(Partial {
                header,
                ts,
                line: line.no,
                span: line.start..line.end(),
                slot: self.held.len(),
            });
        }
    }

    /// The message event of a dump header cut by the input (or, when another line follows it,
    /// by something else): no message text, what the header shows.
    fn partial_message(&mut self, p: Partial, cut: Option<Cut>) {
        self.out.dumps += 1;
        self.out.truncated += 1;
        let (ts, timed) = match p.ts {
            Some(ts) => (ts, true),
            None => self.now(),
        };
        let h = p.header;
        let error = crate::sip::ParseError {
            message: "the dump's header line is cut: no message text".into(),
            span: 0..0,
        };
        let m = MessageEvent {
            ts,
            origin: self.origin(p.line, p.span),
            direction: Some(h.direction),
            transport: h.transport,
            src: None,
            dst: None,
            handle: h.handle,
            declared_len: h.declared,
            stack_error: h.stack_error,
            cut,
            msg: Err(crate::sip::Unparsed {
                raw: Vec::new(),
                error,
            }),
        };
        self.insert(p.slot, Event::Message(m), timed, None);
    }

    /// An `--end msg--` line: the open dump ends. Without one, it ends a message whose start
    /// the input does not hold (an excerpt that starts inside a dump): nothing is read from
    /// that tail, and its continuation prefix is learnt.
    fn end_marker(&mut self, line: Line<'_>, clean: &[u8], at: usize) {
        self.end_call_dump();
        match self.dump.as_mut() {
            Some(dump) => {
                dump.end(line);
                self.close_dump(Close::Ended);
            }
            None if self.out.dumps == 0 => {
                self.cont = Cont::of(&clean[..at], None);
                self.tail(line);
            }
            None => {}
        }
    }

    /// The input starts inside a message: the header lines and body just before the first
    /// `--end msg--` become a message event cut by the input's edge, without a start line (so it
    /// counts as no message of any kind), whose Call-ID still joins it to its call.
    fn tail(&mut self, end: Line<'_>) {
        let Some(lead) = self.lead.take() else {
            return;
        };
        let Some(t) = lead.finish(&self.cont) else {
            return;
        };
        let (ts, timed) = self.now();
        let error = crate::sip::ParseError {
            message: "the input starts inside this message: its start line is not in the input"
                .into(),
            span: 0..0,
        };
        let m = MessageEvent {
            ts,
            origin: self.origin(t.line, t.start..end.end()),
            direction: None,
            transport: Default::default(),
            src: None,
            dst: None,
            handle: None,
            declared_len: None,
            stack_error: None,
            cut: Some(Cut::InputEdge),
            msg: Err(crate::sip::Unparsed { raw: t.raw, error }),
        };
        self.push(Event::Message(m), timed);
    }

    /// Gives a line that is neither a record nor a dump header to the open dump; `false` if it
    /// is not the dump's (the dump is then interrupted or over).
    fn feed_dump(&mut self, line: Line<'_>, clean: &[u8]) -> bool {
        let Some(dump) = self.dump.as_mut() else {
            return false;
        };
        match dump.feed(line, clean) {
            Feed::Body | Feed::Cut => true,
            Feed::Foreign => {
                if dump.is_suspended() {
                    if !dump.wait() {
                        self.close_dump(Close::Stopped);
                    }
                } else {
                    dump.suspend();
                    dump.slot = Some(self.held.len());
                }
                false
            }
            Feed::Overflow => {
                self.close_dump(Close::Stopped);
                false
            }
        }
    }

    /// A record line or a dump header while a dump is open: a new dump ends it; a record ends
    /// it if it is whole or cut by pjsip's record limit, or else interrupts it (another
    /// thread's line: the dump goes on after it).
    fn interrupt(&mut self, new_dump: bool) {
        let Some(dump) = self.dump.as_mut() else {
            return;
        };
        if new_dump || dump.stops_here() {
            self.close_dump(Close::Stopped);
        } else if dump.is_suspended() {
            if !dump.wait() {
                self.close_dump(Close::Stopped);
            }
        } else {
            dump.suspend();
            dump.slot = Some(self.held.len());
        }
    }

    /// A dump header line: a new dump starts.
    fn header(&mut self, line: Line<'_>, clean: &[u8], prefix: Option<&Prefix>, found: Found) {
        self.end_call_dump();
        self.out.dumps += 1;
        // The header right after a record prefix takes its time; one elsewhere on the line (no
        // known prefix, or a paste that joined several records into one line) the last time
        // shown before it.
        let (decor, ts) = match prefix.filter(|p| p.text.start == found.at) {
            Some(p) => (
                p.wrapper.end,
                p.tod.map(|tod| self.clock.stamp(p.date, tod)),
            ),
            None => {
                let time = prefix::loose_time(clean, found.at);
                (0, time.map(|(date, tod)| self.clock.stamp(date, tod)))
            }
        };
        if let Some(ts) = ts {
            self.timed(ts);
        }
        let wrapper = clean.get(..decor).unwrap_or_default();
        let ends = found
            .collapsed
            .is_some()
            .then(|| dump::end_marker(clean))
            .flatten();
        let dump = Dump::new(
            found,
            ts.or(self.last),
            line,
            clean,
            decor,
            wrapper,
            self.cont.clone(),
            std::mem::take(&mut self.scratch),
        );
        self.dump = Some(dump);
        if ends.is_some() {
            self.close_dump(Close::Ended);
        }
    }

    /// A line with a record prefix: a transport line, an evidence line or chatter.
    fn record(&mut self, line: Line<'_>, clean: &[u8], p: &Prefix) {
        if let Some(tod) = p.tod {
            let ts = self.clock.stamp(p.date, tod);
            self.timed(ts);
        }
        let mut text = clean.get(p.text.clone()).unwrap_or_default();
        // A line pasted as Markdown inline code (`` `…` ``): the closing backtick is the paste's.
        if clean
            .get(p.wrapper.clone())
            .is_some_and(|w| w.contains(&b'`'))
        {
            text = text.strip_suffix(b"`").unwrap_or(text);
        }
        let text = String::from_utf8_lossy(text);
        if let Some(fact) = evidence::fact(&text) {
            self.locals.learn(fact);
        }
        let sender = String::from_utf8_lossy(clean.get(p.sender.clone()).unwrap_or_default());
        self.last_record = Some(Anchor {
            line: line.no,
            start: line.start,
            sender: sender.to_string(),
        });
        if self.call_dump_line(line, &text) {
            return;
        }
        self.evidence(line, &sender, &text);
    }

    /// A line without a record prefix outside a dump (a multi-line record's tail, or another
    /// writer's output such as an assertion): evidence only, once the input has shown a time.
    fn foreign(&mut self, line: Line<'_>, clean: &[u8]) {
        let text = String::from_utf8_lossy(clean);
        if !self.call_dump_line(line, &text) && self.last.is_some() {
            self.evidence(line, "", &text);
        }
    }

    /// A line of a pjsua call dump (its header starts one; the lines after it continue it,
    /// with or without a record prefix): `true` if the dump took it. Any other line ends the
    /// dump.
    fn call_dump_line(&mut self, line: Line<'_>, text: &str) -> bool {
        if let Some((d, ..)) = self.call_dump.as_mut() {
            if d.feed(text, line.no, line.end()) {
                return true;
            }
            self.end_call_dump();
        }
        let (ts, timed) = self.now();
        let anchor = self.last_record.clone().unwrap_or(Anchor {
            line: line.no,
            start: line.start,
            sender: String::new(),
        });
        self.call_dump =
            media::CallDump::start(text, line.no, line.end()).map(|d| (d, ts, timed, anchor));
        self.call_dump.is_some()
    }

    /// The call dump being read, if any, ends: one event per stream, timed as the record.
    fn end_call_dump(&mut self) {
        let Some((d, ts, timed, anchor)) = self.call_dump.take() else {
            return;
        };
        let end = d.last.1;
        for r in d.finish() {
            // Each stream points at the whole record, from its prefixed first line.
            let origin = self.origin(anchor.line, anchor.start..end);
            self.push(
                Event::Log(LogEvent {
                    ts,
                    origin,
                    sender: anchor.sender.clone(),
                    kind: crate::event::LogKind::MediaStats(Box::new(r.stats)),
                    errors: Vec::new(),
                    text: r.text,
                }),
                timed,
            );
        }
    }

    fn evidence(&mut self, line: Line<'_>, sender: &str, text: &str) {
        let Some(kind) = evidence::classify(text) else {
            return;
        };
        let origin = self.origin(line.no, line.start..line.end());
        let (ts, timed) = self.now();
        self.push(
            Event::Log(LogEvent {
                ts,
                origin,
                sender: sender.to_string(),
                kind,
                errors: evidence::errors(text),
                text: text.trim_end().to_string(),
            }),
            timed,
        );
    }

    fn origin(&self, line: u32, span: Range<usize>) -> Origin {
        Origin {
            input: self.input,
            locator: Locator::Text { line, span },
        }
    }

    /// Turns the open dump, if any, into a message event (see [`Dump::finish`] for its cut).
    fn close_dump(&mut self, close: Close) {
        let Some(dump) = self.dump.take() else {
            return;
        };
        if let Some(cont) = dump.learnt_cont() {
            self.cont = cont.clone();
        }
        let Finished { mut dump, msg, cut } = dump.finish(close);
        self.out.truncated += usize::from(cut.is_some());
        let origin = self.origin(dump.line, dump.span.clone());
        let slot = dump.slot.unwrap_or(self.held.len());
        let h = &mut dump.header;
        let (ts, timed) = match dump.ts {
            Some(ts) => (ts, true),
            None => self.now(),
        };
        let local = self.locals.conn(h.transport, &h.peer);
        let pending = local
            .is_none()
            .then(|| self.locals.listening(h.transport, &h.peer));
        let mut m = MessageEvent {
            ts,
            origin,
            direction: Some(h.direction),
            transport: h.transport,
            src: None,
            dst: None,
            handle: h.handle.take(),
            declared_len: h.declared,
            stack_error: h.stack_error.take(),
            cut,
            msg,
        };
        *local::slot(&mut m) = local.map(Arc::from);
        *local::peer_slot(&mut m) = Some(Arc::from(h.peer.as_str()));
        self.scratch = dump.into_scratch();
        self.insert(slot, Event::Message(m), timed, pending);
    }

    fn finish(mut self) -> PjsipLog {
        self.end_call_dump();
        self.close_dump(Close::Eof);
        if let Some(p) = self.partial.take() {
            self.partial_message(p, Some(Cut::InputEdge));
        }
        self.release();
        self.out
    }
}
