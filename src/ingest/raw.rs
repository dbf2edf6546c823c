//! Text traces that are not pjsip logs: raw SIP messages back to back, and SIPp `-trace_msg`
//! message logs.
//!
//! Owns: splitting such text into messages (by Content-Length where present, else at the next
//! start line) and, for SIPp, reading each record's time, direction and transport. Does not own:
//! the SIP grammar ([`crate::sip`]) or format sniffing order ([`super`]).
//!
//! Raw dumps carry no time: every message gets timestamp 0 and keeps its file order.

use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::Regex;

use crate::event::{
    Direction, Event, Locator, MessageEvent, Origin, Timestamp, Transport, days_from_civil,
};
use crate::sip::{self, SipMessage};

/// SIPp's record separator: `----…---- 2026-11-21 05:32:59.268909`.
static SIPP_SEP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^-{20,} (\d{4})-(\d{2})-(\d{2})[ \t](\d{2}):(\d{2}):(\d{2})\.(\d{1,6})[^\n]*\n",
    )
    .expect("static regex")
});
/// `UDP message sent (506 bytes):` / `UDP message received [305] bytes :`
static SIPP_HDR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\w+) message (sent|received) (?:\((\d+) bytes\)|\[(\d+)\] bytes ?):\r?\n")
        .expect("static regex")
});

pub fn sniff_sipp(head: &[u8]) -> bool {
    SIPP_SEP
        .find(head)
        .is_some_and(|m| SIPP_HDR.is_match(&head[m.end()..]))
}

/// Raw SIP: the first non-blank line is a SIP start line.
pub fn sniff_raw(head: &[u8]) -> bool {
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let rest = &head[start..];
    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    sip::is_start_line(trim_cr(&rest[..end]))
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Reads raw SIP messages back to back.
pub fn parse_raw(text: &[u8], input: usize) -> Vec<Event> {
    let mut out = Vec::new();
    raw_at(text, input, At::default(), &mut |e| out.push(e));
    out
}

/// Where a piece of a text input starts in the whole input: the bytes and the lines before it.
#[derive(Debug, Clone, Copy, Default)]
pub struct At {
    pub offset: usize,
    pub lines: u32,
}

impl At {
    /// Past `piece`, which started here.
    pub fn after(self, piece: &[u8]) -> At {
        let lines = u32::try_from(memchr::memchr_iter(b'\n', piece).count()).unwrap_or(u32::MAX);
        At {
            offset: self.offset + piece.len(),
            lines: self.lines.saturating_add(lines),
        }
    }

    fn origin(
        self,
        input: usize,
        lines: &mut LineCounter<'_>,
        start: usize,
        span: Range<usize>,
    ) -> Origin {
        Origin {
            input,
            locator: Locator::Text {
                line: self.lines.saturating_add(lines.line_of(start)),
                span: self.offset + span.start..self.offset + span.end,
            },
        }
    }
}

/// Reads raw SIP messages back to back in `text`, a piece of an input that starts `at`.
fn raw_at(text: &[u8], input: usize, at: At, emit: &mut dyn FnMut(Event)) {
    let mut lines = LineCounter::new(text);
    for (start, end) in split_messages(text, 0) {
        let origin = at.origin(input, &mut lines, start, start..end);
        emit(Event::Message(message_event(
            &text[start..end],
            origin,
            Timestamp::UNKNOWN,
            None,
            Transport::Unknown,
        )));
    }
}

/// Reads a SIPp `-trace_msg` file.
pub fn parse_sipp(text: &[u8], input: usize, date: Option<i64>) -> Vec<Event> {
    let mut out = Vec::new();
    sipp_at(text, input, date, At::default(), &mut |e| out.push(e));
    out
}

/// Reads the records of a SIPp trace in `text`, a piece of an input that starts `at` (and, but
/// for the first piece, with a record separator).
fn sipp_at(text: &[u8], input: usize, date: Option<i64>, at: At, emit: &mut dyn FnMut(Event)) {
    let mut lines = LineCounter::new(text);
    let seps: Vec<_> = SIPP_SEP.captures_iter(text).collect();
    for (i, cap) in seps.iter().enumerate() {
        let (Some(whole), Some(ts)) = (cap.get(0), sipp_time(cap, date)) else {
            continue;
        };
        let record_end = seps
            .get(i + 1)
            .and_then(|c| c.get(0))
            .map_or(text.len(), |m| m.start());
        let body = &text[whole.end()..record_end];
        let Some(hdr) = SIPP_HDR.captures(body) else {
            continue;
        };
        let transport = Transport::from_name(&String::from_utf8_lossy(&hdr[1]));
        let direction = if &hdr[2] == b"sent" {
            Direction::Tx
        } else {
            Direction::Rx
        };
        let msg_start = whole.end() + hdr.get(0).map_or(0, |m| m.end());
        for (s, e) in split_messages(&text[..record_end], msg_start) {
            let origin = at.origin(input, &mut lines, whole.start(), whole.start()..e);
            let ev = message_event(&text[s..e], origin, ts, Some(direction), transport);
            emit(Event::Message(ev));
        }
    }
}

fn sipp_time(cap: &regex::bytes::Captures<'_>, date: Option<i64>) -> Option<Timestamp> {
    let num = |i: usize| -> Option<u32> {
        std::str::from_utf8(cap.get(i)?.as_bytes())
            .ok()?
            .parse()
            .ok()
    };
    let frac = cap.get(7)?.as_bytes();
    let mut micros = num(7)?;
    for _ in frac.len()..6 {
        micros *= 10;
    }
    let (y, mo, d) = (num(1)?, num(2)?, num(3)?);
    let day = date.unwrap_or_else(|| days_from_civil(i64::from(y), mo, d));
    Some(Timestamp {
        // SIPp writes six digits; a trace with three gives milliseconds only.
        micro: frac.len() > 3,
        ..Timestamp::from_parts(day, num(4)?, num(5)?, num(6)?, micros, true)
    })
}

fn message_event(
    bytes: &[u8],
    origin: Origin,
    ts: Timestamp,
    direction: Option<Direction>,
    transport: Transport,
) -> MessageEvent {
    let msg = SipMessage::parse(bytes);
    let transport = match (&msg, transport) {
        (Ok(m), Transport::Unknown) => m.top_via().map_or(Transport::Unknown, |v| v.transport),
        _ => transport,
    };
    MessageEvent {
        ts,
        origin,
        direction,
        transport,
        src: None,
        dst: None,
        handle: None,
        declared_len: None,
        stack_error: None,
        cut: None,
        msg,
    }
}

/// Splits `text[from..]` into message byte ranges. A message ends where its Content-Length says;
/// without one (or when it overruns), at the next line that is a SIP start line. Bytes before the
/// first start line, or between messages, become a range of their own so that they are reported
/// as unparsed rather than lost. Blank lines between messages are skipped.
fn split_messages(text: &[u8], from: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = skip_blank(text, from);
    while pos < text.len() {
        let next_start = next_start_line(text, line_end(text, pos));
        let end = match sip::message_len(&text[pos..]) {
            Some(len) if is_start_at(text, pos) && pos + len <= next_start => pos + len,
            _ => next_start,
        };
        let end = end.max(pos + 1).min(text.len());
        out.push((pos, trim_trailing_blank(text, pos, end)));
        pos = skip_blank(text, end);
    }
    out
}

fn is_start_at(text: &[u8], pos: usize) -> bool {
    sip::is_start_line(trim_cr(&text[pos..line_end(text, pos)]))
}

/// The offset of the next start line at or after `pos`, or the end of the text.
fn next_start_line(text: &[u8], mut pos: usize) -> usize {
    while pos < text.len() {
        if is_start_at(text, pos) {
            return pos;
        }
        pos = line_end(text, pos) + 1;
    }
    text.len()
}

/// The offset of the `\n` ending the line at `pos` (or the text end).
fn line_end(text: &[u8], pos: usize) -> usize {
    text[pos..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| pos + i)
}

fn skip_blank(text: &[u8], pos: usize) -> usize {
    text[pos.min(text.len())..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(text.len(), |i| pos + i)
}

/// Drops trailing blank lines after a body-less message, but never cuts into a body.
fn trim_trailing_blank(text: &[u8], start: usize, end: usize) -> usize {
    let slice = &text[start..end];
    sip::message_len(slice)
        .filter(|&l| l <= slice.len())
        .map_or(end, |l| start + l)
}

/// Maps byte offsets, asked in increasing order, to 1-based line numbers, counting the lines
/// between one and the next (no index of every line: a flood of tiny lines costs nothing).
struct LineCounter<'a> {
    text: &'a [u8],
    pos: usize,
    line: u32,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter {
            text,
            pos: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, offset: usize) -> u32 {
        let offset = offset.min(self.text.len());
        if offset < self.pos {
            // Not in increasing order: count from the start.
            *self = LineCounter::new(self.text);
        }
        let n = memchr::memchr_iter(b'\n', &self.text[self.pos..offset]).count();
        self.line = self
            .line
            .saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        self.pos = offset;
        self.line
    }
}

/// The longest message or record of raw SIP or a SIPp trace held while reading it piece by
/// piece: without a start line (or a record separator) in this many bytes, what is held is read
/// as it is (the rest of such a message is then unparsed text, and reported), so that memory
/// does not grow with the input.
const HELD: usize = 64 << 20;

/// Reads raw SIP (`sipp` false) or a SIPp trace fed piece by piece, handing on the messages of
/// each whole part of it as it is read (see [`Splitter`]): the same events as [`parse_raw`] or
/// [`parse_sipp`] on the whole text, holding at most one message or record (up to [`HELD`]).
pub struct RawParser<'a> {
    sipp: bool,
    input: usize,
    date: Option<i64>,
    emit: &'a mut dyn FnMut(Event),
    splitter: Splitter,
    /// The text read and not handed on yet.
    held: Vec<u8>,
    /// Where `held` starts in the input.
    at: At,
    messages: usize,
    /// Of the events the text held will give, how many were handed on at a pause (a SIPp
    /// record's whole message: its record is held until the next separator).
    sent: usize,
}

impl<'a> RawParser<'a> {
    pub fn new(
        sipp: bool,
        input: usize,
        date: Option<i64>,
        emit: &'a mut dyn FnMut(Event),
    ) -> Self {
        RawParser {
            sipp,
            input,
            date,
            emit,
            splitter: Splitter::new(sipp),
            held: Vec::new(),
            at: At::default(),
            messages: 0,
            sent: 0,
        }
    }

    /// Hands on the messages of `text`, which starts where the input read so far ends.
    fn read(&mut self, text: &[u8]) {
        let messages = &mut self.messages;
        let emit = &mut *self.emit;
        let sent = &mut self.sent;
        let mut counted = |e: Event| {
            if *sent > 0 {
                *sent -= 1;
                return;
            }
            *messages += usize::from(matches!(e, Event::Message(_)));
            emit(e);
        };
        if self.sipp {
            sipp_at(text, self.input, self.date, self.at, &mut counted);
        } else {
            raw_at(text, self.input, self.at, &mut counted);
        }
        self.at = self.at.after(text);
    }
}

impl super::format::TextParser for RawParser<'_> {
    fn feed(&mut self, piece: &[u8]) {
        self.held.extend_from_slice(piece);
        let mut cut = self.splitter.boundary(&self.held);
        if cut == 0 && self.held.len() > HELD {
            cut = memchr::memrchr(b'\n', &self.held).map_or(self.held.len(), |p| p + 1);
        }
        if cut == 0 {
            return;
        }
        let held = std::mem::take(&mut self.held);
        self.read(&held[..cut]);
        self.held = held;
        self.held.drain(..cut);
        self.splitter.cut(cut);
        // A long message held grew the buffer: give that memory back.
        if self.held.capacity() > (16 << 20).max(self.held.len() * 2) {
            self.held.shrink_to_fit();
        }
    }

    /// The input paused (live): raw SIP held whose last message is whole by its
    /// Content-Length (and ends with a line) is handed on, as the next start line would hand
    /// it on; a message short of its header block's end or its Content-Length is kept (the
    /// writer may be in the middle of it), and so is one without a Content-Length whose
    /// header block is followed by more than line ends. A SIPp record is kept whole until the
    /// next separator (its time and direction are on that record's first lines).
    fn pause(&mut self) {
        if self.held.is_empty() {
            return;
        }
        if self.sipp {
            self.pause_sipp();
            return;
        }
        let cut = whole_prefix(&self.held);
        if cut == 0 {
            return;
        }
        let held = std::mem::take(&mut self.held);
        self.read(&held[..cut]);
        self.held = held;
        self.held.drain(..cut);
        self.splitter.cut(cut);
    }

    fn finish(mut self: Box<Self>, rest: &[u8]) -> super::format::TextCounts {
        if self.held.is_empty() {
            self.read(rest);
        } else {
            let mut held = std::mem::take(&mut self.held);
            held.extend_from_slice(rest);
            self.read(&held);
        }
        super::format::TextCounts {
            messages: self.messages,
            ..Default::default()
        }
    }
}

impl RawParser<'_> {
    /// A pause in a SIPp trace: the messages of the record held that are whole (the last one
    /// by its Content-Length, ending with a line) are handed on, and left out when the record
    /// is read at the next separator (its time and direction are on its first lines, and what
    /// follows its message up to that separator is still the record's).
    fn pause_sipp(&mut self) {
        let mut events = Vec::new();
        sipp_at(&self.held, self.input, self.date, self.at, &mut |e| {
            events.push(e)
        });
        let whole = |e: &Event| {
            let Event::Message(m) = e else {
                return true;
            };
            let crate::event::Locator::Text { span, .. } = &m.origin.locator else {
                return false;
            };
            let end = span.end.saturating_sub(self.at.offset);
            let raw = m.raw();
            sip::message_len(raw) == Some(raw.len())
                && end > 0
                && self.held.get(end - 1) == Some(&b'\n')
        };
        let last = events.len().saturating_sub(1);
        let out = events
            .iter()
            .enumerate()
            .take_while(|(i, e)| *i < last || whole(e))
            .count();
        for e in events.into_iter().take(out).skip(self.sent) {
            self.messages += usize::from(matches!(e, Event::Message(_)));
            (self.emit)(e);
        }
        self.sent = self.sent.max(out);
    }
}

/// How much of raw SIP `held` (whole lines) reads as it would with whatever text follows: up
/// to the end of its last message when that message is whole by its Content-Length and ends
/// with a line, else up to where that message starts; 0 when nothing can be handed on yet.
fn whole_prefix(held: &[u8]) -> usize {
    let Some(&(pos, end)) = split_messages(held, 0).last() else {
        return 0;
    };
    let whole = is_start_at(held, pos)
        && sip::message_len(&held[pos..])
            .is_some_and(|len| pos + len == end && held.get(end.wrapping_sub(1)) == Some(&b'\n'));
    if whole {
        end
    } else if pos == 0 || held[pos - 1] == b'\n' {
        pos
    } else {
        0
    }
}

/// Where raw SIP or a SIPp trace read piece by piece may be cut: before a start line (raw SIP)
/// or a record separator (SIPp) other than the first of the text held. Messages and records
/// never run past either (a message ends at the next start line whatever its Content-Length
/// says, a record at the next separator), so reading the parts one after the other finds the
/// same messages as reading the text whole. Lines are looked at from the last read, each at
/// most once.
#[derive(Debug)]
pub struct Splitter {
    sipp: bool,
    /// How much of the text held was looked at (whole lines).
    scanned: usize,
    /// The last place found to cut at (0: none yet).
    last: usize,
}

impl Splitter {
    pub fn new(sipp: bool) -> Self {
        Splitter {
            sipp,
            scanned: 0,
            last: 0,
        }
    }

    /// Where the text held (`held`, all that was read and not yet handed on) may be cut now; 0
    /// when it may not yet.
    pub fn boundary(&mut self, held: &[u8]) -> usize {
        let complete = memchr::memrchr(b'\n', held).map_or(0, |p| p + 1);
        let from = self.scanned.min(complete);
        // The lines not looked at yet, from the last: the first that may be cut before is the
        // place (usually among the last few lines).
        let mut end = complete;
        while end > from {
            let start = memchr::memrchr(b'\n', &held[from..end - 1]).map_or(from, |p| from + p + 1);
            let line = &held[start..end];
            let at = if self.sipp {
                line.starts_with(b"--------------------") && SIPP_SEP.is_match(line)
            } else {
                is_start_at(held, start)
            };
            if at && start > 0 {
                self.last = start;
                break;
            }
            end = start;
        }
        self.scanned = complete;
        self.last
    }

    /// The first `cut` bytes of the text held were handed on. They end with a whole line.
    pub fn cut(&mut self, cut: usize) {
        self.scanned = self.scanned.saturating_sub(cut);
        self.last = self.last.saturating_sub(cut);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `text` in pieces of about `piece` bytes, each cut after a line end.
    fn pieces(text: &[u8], sipp: bool, piece: usize) -> Vec<String> {
        use crate::ingest::format::TextParser;
        let mut out = Vec::new();
        let mut emit = |e: Event| out.push(format!("{e:?}"));
        let mut parser = Box::new(RawParser::new(sipp, 0, None, &mut emit));
        let mut rest = text;
        while rest.len() > piece {
            let Some(nl) = memchr::memchr(b'\n', &rest[piece..]) else {
                break;
            };
            let (now, later) = rest.split_at(piece + nl + 1);
            parser.feed(now);
            rest = later;
        }
        let counts = parser.finish(rest);
        assert_eq!(counts.messages, out.len());
        out
    }

    fn debug(events: &[Event]) -> Vec<String> {
        events.iter().map(|e| format!("{e:?}")).collect()
    }

    /// Every SIPp trace of the fixtures: its path, its text and its events.
    fn sipp_traces() -> Vec<(std::path::PathBuf, Vec<u8>, Vec<Event>)> {
        crate::testutil::fixture_files(&[])
            .into_iter()
            .filter_map(|entry| {
                let text = std::fs::read(&entry).ok()?;
                sniff_sipp(&text[..text.len().min(64 * 1024)]).then_some(())?;
                let events = parse_sipp(&text, 0, None);
                Some((entry, text, events))
            })
            .collect()
    }

    /// The messages of `events` as raw SIP, back to back (each followed by a CRLF), with
    /// where each ends in it and whether it is whole (its Content-Length body complete and
    /// ending with a line end).
    fn as_raw(events: &[Event]) -> (Vec<u8>, Vec<(usize, bool)>) {
        let mut raw = Vec::new();
        let mut ends = Vec::new();
        for e in events {
            if let Event::Message(m) = e {
                raw.extend_from_slice(m.raw());
                ends.push((
                    raw.len(),
                    sip::message_len(m.raw()) == Some(m.raw().len()) && m.raw().ends_with(b"\n"),
                ));
                raw.extend_from_slice(b"\r\n");
            }
        }
        (raw, ends)
    }

    /// Piece by piece, in pieces of any size, the same events as the whole text: every SIPp
    /// trace of the fixtures, and as raw SIP the messages each holds, back to back.
    #[test]
    fn pieces_give_the_events_of_the_whole() {
        let mut traces = 0;
        for (entry, text, events) in sipp_traces() {
            traces += 1;
            let (raw, _) = as_raw(&events);
            for piece in [1, 7, 100, 1000, 1 << 22] {
                let at = format!("{entry:?} in pieces of {piece}");
                assert_eq!(pieces(&text, true, piece), debug(&events), "{at}");
                assert_eq!(
                    pieces(&raw, false, piece),
                    debug(&parse_raw(&raw, 0)),
                    "{at}, raw"
                );
            }
        }
        assert!(traces > 10, "{traces} SIPp traces read");
    }

    /// Raw SIP (the messages of the fixtures' SIPp traces, back to back) told of a pause after
    /// every line: the events of the whole text, and each message whose Content-Length body
    /// is complete is out at the pause after its last line.
    #[test]
    fn a_pause_hands_on_whole_messages_and_changes_nothing() {
        use crate::ingest::format::TextParser;
        let mut texts = 0;
        for (entry, _, events) in sipp_traces() {
            let (raw, ends) = as_raw(&events);
            let events = std::cell::RefCell::new(Vec::new());
            let mut emit = |e: Event| events.borrow_mut().push(format!("{e:?}"));
            let mut parser = Box::new(RawParser::new(false, 0, None, &mut emit));
            let mut at = 0;
            for line in raw.split_inclusive(|&b| b == b'\n') {
                parser.feed(line);
                at += line.len();
                parser.pause();
                let out = events.borrow().len();
                for (k, &(end, whole)) in ends.iter().enumerate() {
                    if whole && end == at {
                        assert!(out > k, "{entry:?}: message {k} not out at {at}");
                    }
                }
            }
            parser.finish(b"");
            assert_eq!(events.into_inner(), debug(&parse_raw(&raw, 0)), "{entry:?}");
            texts += 1;
        }
        assert!(texts > 10, "{texts} texts read");
    }
}
