//! Message dumps in SIP stacks' logs (baresip, Kamailio, sofia-sip and FreeSWITCH, …): what
//! their formats share once each has found where its dumps start.
//!
//! Owns: [`Dumps`], which collects the lines of one dump at a time and hands each on as a
//! message event (time, direction, addresses, transport, the message with the text it was read
//! from, why it is cut), framing the message by its Content-Length and giving a paste that lost
//! its CRs its CRLF line ends back; [`Driver`], the [`TextParser`] that feeds a format's line
//! reader whole lines with their place in the input; [`Clock`], times of day that roll over
//! midnight. Does not own: any one stack's layout (its format module), pjsip's logs
//! (`crate::ingest::pjsip`), packet dumps (`super::packets`).

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

use super::{TextCounts, TextParser};
use crate::event::{
    Cut, Direction, Event, Locator, MICROS_PER_DAY, MessageEvent, Origin, Timestamp, Transport,
};
use crate::sip::{ContentLength, MessageHead, SipMessage};

/// The most bytes kept of one dump: the rest of a longer one is dropped and the message marked
/// as damaged (no SIP message over UDP comes near it; a dump that long is a runaway block).
pub const MAX_DUMP: usize = 256 << 10;

/// Names of endpoints remembered for sharing (beyond, forgotten all at once).
const NAMES: usize = 4096;

/// What the line that opens a dump says about the message.
#[derive(Debug, Clone, Default)]
pub struct DumpHeader {
    /// `None`: the dump shows no time (the message gets the time of the last one that did).
    pub ts: Option<Timestamp>,
    /// Sent or received, as the logging process saw it, when the log says.
    pub direction: Option<Direction>,
    pub transport: Transport,
    /// `ip:port` (IPv6 in brackets) of the sender and the receiver, when the log shows them.
    pub src: Option<String>,
    pub dst: Option<String>,
    /// The byte count the header declared (kept, never trusted for reading).
    pub declared_len: Option<usize>,
}

/// How a dump ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The format's own end marker: the message is whole in the log.
    Marker,
    /// Another log record started: whatever the message lacks is missing inside the input.
    Record,
    /// The input ended.
    Input,
}

struct Open {
    header: DumpHeader,
    line: u32,
    span: Range<usize>,
    text: Vec<u8>,
    /// Bytes were dropped past [`MAX_DUMP`].
    overflow: bool,
    /// Once the header block has ended: what the body needs and has.
    head: Option<Head>,
    /// Its message was handed on at a pause of a live input, whole: the dump stays open for
    /// the lines the reader still gives it, and its end hands on nothing more.
    sent: bool,
}

/// The body of an open dump whose header block ended, counted as it comes.
#[derive(Debug, Clone, Copy)]
struct Head {
    /// Content-Length (0 without one).
    need: usize,
    /// Body bytes so far (with the CRs a paste lost counted back).
    have: usize,
    /// The header lines had no CRs: each body line end will get one back.
    crs_lost: bool,
}

/// Collects one dump at a time and hands each on as a message event (see the module docs).
pub struct Dumps<'a> {
    input: usize,
    emit: &'a mut dyn FnMut(Event),
    open: Option<Open>,
    last_ts: Timestamp,
    names: BTreeMap<String, Arc<str>>,
    counts: TextCounts,
}

impl<'a> Dumps<'a> {
    pub fn new(input: usize, emit: &'a mut dyn FnMut(Event)) -> Self {
        Dumps {
            input,
            emit,
            open: None,
            last_ts: Timestamp::UNKNOWN,
            names: BTreeMap::new(),
            counts: TextCounts::default(),
        }
    }

    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// A dump starts with the header line numbered `line` (1-based) at `span`; one still open
    /// ends, cut by this record if it was not whole.
    pub fn start(&mut self, header: DumpHeader, line: u32, span: Range<usize>) {
        self.end(End::Record);
        self.open = Some(Open {
            header,
            line,
            span,
            text: Vec::new(),
            overflow: false,
            head: None,
            sent: false,
        });
    }

    /// A line of the open dump's message, as the stack printed it (the log's own indentation
    /// removed), with its line end if it had one; `end` is where the line ends in the input.
    /// Once the message is whole ([`Dumps::complete`]) the lines after it (blank lines, what
    /// comes before an end marker) are not the message's: its text and span end with the line
    /// that completed it, whenever the dump ends.
    pub fn push(&mut self, text: &[u8], end: usize) {
        if self.complete() {
            return;
        }
        let Some(open) = self.open.as_mut() else {
            return;
        };
        open.span.end = open.span.end.max(end);
        if open.text.len() + text.len() > MAX_DUMP {
            open.overflow = true;
            return;
        }
        open.text.extend_from_slice(text);
        match open.head.as_mut() {
            Some(h) => {
                let lost = h.crs_lost && text.ends_with(b"\n") && !text.ends_with(b"\r\n");
                h.have = h.have.saturating_add(text.len() + usize::from(lost));
            }
            None if bare(text).is_empty() => {
                let msg = trim_start(&open.text);
                if !msg.is_empty() {
                    let need =
                        match MessageHead::read(&restore_crs(msg)).map(|h| h.content_length()) {
                            Ok(ContentLength::Value(n)) => n,
                            _ => 0,
                        };
                    open.head = Some(Head {
                        need,
                        have: 0,
                        crs_lost: memchr::memmem::find(msg, b"\r\n").is_none(),
                    });
                }
            }
            None => {}
        }
    }

    /// Whether the open dump already holds a whole message: its header block ended and as many
    /// body bytes as its Content-Length says (none without one). A line after it that is not
    /// blank is no longer the message's.
    pub fn complete(&self) -> bool {
        self.open
            .as_ref()
            .and_then(|o| o.head)
            .is_some_and(|h| h.have >= h.need)
    }

    /// Whether the open dump is inside its message's header block: its start line was read
    /// and the blank line that ends the headers not yet.
    pub fn in_header_block(&self) -> bool {
        self.open
            .as_ref()
            .is_some_and(|o| o.head.is_none() && !trim_start(&o.text).is_empty())
    }

    /// A line after the open dump's header: the message's next line, unless the message is
    /// already whole ([`Dumps::complete`]) and the line is not blank: then the dump ends there
    /// (a block without an end marker: a paste that lost baresip's colours, a log whose
    /// records carry no end) and the line is not the message's.
    pub fn push_or_end(&mut self, line: &[u8], end: usize) {
        if self.complete() && !bare(line).is_empty() {
            self.end(End::Marker);
        } else {
            self.push(line, end);
        }
    }

    /// The open dump's message ends, followed by the writer's `separator` (which is not the
    /// message's, and is dropped), as another record starts ([`End::Record`]).
    pub fn end_before(&mut self, separator: &[u8]) {
        if let Some(open) = self.open.as_mut()
            && open.text.ends_with(separator)
        {
            open.text.truncate(open.text.len() - separator.len());
        }
        self.end(End::Record);
    }

    /// The input paused (live): a dump whose message is already whole is handed on now, as
    /// its end would hand it on (a whole message is not cut, however the dump ends, and no
    /// later line is its: see [`Dumps::push`]). The dump stays open, so the reader goes on as
    /// it would have, and its end hands on nothing more. A message still short of its header
    /// block's end or its Content-Length is kept: the writer may be in the middle of it.
    pub fn pause(&mut self) {
        if !self.complete() {
            return;
        }
        let Some(mut open) = self.open.take() else {
            return;
        };
        let event = (!open.sent).then(|| self.event(Some(&open), End::Marker));
        open.sent = true;
        self.open = Some(open);
        if let Some(Some(event)) = event {
            (self.emit)(event);
        }
    }

    /// The open dump ends (`how`): its message is handed on (unless it was at a pause).
    pub fn end(&mut self, how: End) {
        let open = self.open.take();
        if open.as_ref().is_some_and(|o| o.sent) {
            return;
        }
        if let Some(event) = self.event(open.as_ref(), how) {
            (self.emit)(event);
        }
    }

    /// The message event of dump `open` ended `how` (counted), or nothing when it holds no
    /// text.
    fn event(&mut self, open: Option<&Open>, how: End) -> Option<Event> {
        let open = open?;
        let raw = restore_crs(trim_start(&open.text));
        if raw.is_empty() {
            return None;
        }
        let (mut raw, short) = frame(&raw);
        // Bytes dropped past the cap are missing inside the input, wherever the dump ended.
        let cut = match (short, how) {
            (None, _) => None,
            (Some(_), _) if open.overflow => Some(Cut::Damaged),
            (Some(Short::HeaderEnd), End::Marker) => {
                // The paste lost the blank line that ends a bodyless message: its end marker
                // shows that the message ended there.
                raw.extend_from_slice(if raw.ends_with(b"\r\n") {
                    b"\r\n"
                } else {
                    b"\r\n\r\n"
                });
                None
            }
            (Some(_), End::Input) => Some(Cut::InputEdge),
            (Some(_), End::Marker | End::Record) => Some(Cut::Damaged),
        };
        let ts = match open.header.ts {
            Some(ts) => {
                self.last_ts = ts;
                ts
            }
            None => self.last_ts,
        };
        self.counts.messages += 1;
        self.counts.truncated += usize::from(cut.is_some());
        let src = open.header.src.as_deref().map(|s| self.name(s));
        let dst = open.header.dst.as_deref().map(|s| self.name(s));
        let event = Event::Message(MessageEvent {
            ts,
            origin: Origin {
                input: self.input,
                locator: Locator::Text {
                    line: open.line,
                    span: open.span.clone(),
                },
            },
            direction: open.header.direction,
            transport: open.header.transport,
            src,
            dst,
            handle: None,
            declared_len: open.header.declared_len,
            stack_error: None,
            cut,
            msg: SipMessage::parse_shared(Bytes::from(raw)),
        });
        Some(event)
    }

    /// The input ended: a dump still open is cut by it unless it is whole.
    pub fn finish(mut self) -> TextCounts {
        self.end(End::Input);
        self.counts
    }

    fn name(&mut self, text: &str) -> Arc<str> {
        if self.names.len() >= NAMES {
            self.names.clear();
        }
        self.names
            .entry(text.to_string())
            .or_insert_with(|| text.into())
            .clone()
    }
}

/// What a dump's message lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Short {
    /// The blank line that ends the header block.
    HeaderEnd,
    /// Body bytes its Content-Length promises.
    Body,
}

/// The message in a dump's bytes, framed by its Content-Length (the bytes after it are the
/// log's), and what it lacks. Without a Content-Length the body is what follows the header
/// block, unless that is only line ends (the log's own).
fn frame(raw: &[u8]) -> (Vec<u8>, Option<Short>) {
    let Ok(head) = MessageHead::read(raw) else {
        return (raw.to_vec(), Some(Short::HeaderEnd));
    };
    let Some(body) = head.body_start() else {
        return (raw.to_vec(), Some(Short::HeaderEnd));
    };
    let body = body.min(raw.len());
    match head.content_length() {
        ContentLength::Value(n) => match body.checked_add(n) {
            Some(end) if end <= raw.len() => (raw[..end].to_vec(), None),
            _ => (raw.to_vec(), Some(Short::Body)),
        },
        ContentLength::Absent | ContentLength::Invalid => {
            if raw[body..].iter().all(|&b| b == b'\r' || b == b'\n') {
                (raw[..body].to_vec(), None)
            } else {
                (raw.to_vec(), None)
            }
        }
    }
}

/// The dump without the blank lines before its first line.
fn trim_start(text: &[u8]) -> &[u8] {
    let at = text
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(text.len());
    &text[at..]
}

/// The message's bytes with CRLF line ends: kept as they are when any line but the last ends
/// in CR (the stack printed them); a paste that lost every CR gets them back.
fn restore_crs(text: &[u8]) -> Vec<u8> {
    let lines: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
    let with_cr = lines.iter().any(|l| l.ends_with(b"\r\n"));
    if with_cr || lines.len() < 2 {
        return text.to_vec();
    }
    let mut out = Vec::with_capacity(text.len() + lines.len());
    for line in lines {
        match line.strip_suffix(b"\n") {
            Some(content) => {
                out.extend_from_slice(content);
                out.extend_from_slice(b"\r\n");
            }
            None => out.extend_from_slice(line),
        }
    }
    out
}

/// A stack log format's line reader: fed every line with its place, and the dumps to open,
/// fill and end.
pub trait LineReader {
    /// One line (with its `\n`, but the last line of the input may lack it), 1-based `no`,
    /// starting at byte `start` of the input.
    fn line(&mut self, dumps: &mut Dumps<'_>, line: &[u8], no: u32, start: usize);
}

/// The [`TextParser`] of a stack log format: cuts the input into lines for its reader.
pub struct Driver<'a, R> {
    reader: R,
    dumps: Dumps<'a>,
    offset: usize,
    line: u32,
}

impl<'a, R: LineReader> Driver<'a, R> {
    pub fn new(reader: R, input: usize, emit: &'a mut dyn FnMut(Event)) -> Self {
        Driver {
            reader,
            dumps: Dumps::new(input, emit),
            offset: 0,
            line: 0,
        }
    }
}

impl<R: LineReader> TextParser for Driver<'_, R> {
    fn feed(&mut self, piece: &[u8]) {
        for (line, at) in super::lines_at(piece, &mut self.offset) {
            self.line = self.line.saturating_add(1);
            self.reader.line(&mut self.dumps, line, self.line, at);
        }
    }

    fn pause(&mut self) {
        self.dumps.pause();
    }

    fn finish(mut self: Box<Self>, rest: &[u8]) -> TextCounts {
        self.feed(rest);
        self.dumps.finish()
    }
}

/// Times of day in input order, put on a day: `--date`'s (then dated), else day 0 (undated),
/// one day later each time the time of day goes back by more than 12 hours (midnight passed).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    date: Option<i64>,
    day: i64,
    last: Option<i64>,
}

impl Clock {
    pub fn new(date: Option<i64>) -> Self {
        Clock {
            date,
            day: date.unwrap_or(0),
            last: None,
        }
    }

    /// The time of `tod` (microseconds since midnight) on the day this clock is at; `date`
    /// when the line itself shows one (then dated, whatever `--date` says).
    pub fn stamp(&mut self, date: Option<i64>, tod: i64) -> Timestamp {
        if let Some(d) = date {
            self.day = d;
        } else if self.last.is_some_and(|l| tod + MICROS_PER_DAY / 2 < l) {
            self.day += 1;
        }
        self.last = Some(tod);
        Timestamp {
            micros: self.day * MICROS_PER_DAY + tod,
            dated: date.is_some() || self.date.is_some(),
            micro: true,
            unknown: false,
        }
    }
}

/// Microseconds since midnight of `h:m:s` and a fraction of a second given by its digits
/// (`"123"` is 123 ms, `"123456"` 123456 µs), if they are a time of day.
pub fn time_of_day(h: &[u8], m: &[u8], s: &[u8], frac: &[u8]) -> Option<i64> {
    let num = |b: &[u8]| std::str::from_utf8(b).ok()?.parse::<i64>().ok();
    let (h, m, s) = (num(h)?, num(m)?, num(s)?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let mut us = 0;
    for i in 0..6 {
        let d = frac.get(i).map_or(Some(0), |&b| {
            b.is_ascii_digit().then_some(i64::from(b - b'0'))
        })?;
        us = us * 10 + d;
    }
    Some(((h * 60 + m) * 60 + s) * 1_000_000 + us)
}

/// The transport named as logs write it (`udp`, `TCP`, `tls`, `ws`, `wss`, `sctp`).
pub fn transport(name: &[u8]) -> Transport {
    match name.to_ascii_lowercase().as_slice() {
        b"udp" => Transport::Udp,
        b"tcp" => Transport::Tcp,
        b"tls" => Transport::Tls,
        b"ws" => Transport::Ws,
        b"wss" => Transport::Wss,
        b"sctp" => Transport::Sctp,
        _ => Transport::Unknown,
    }
}

/// `host:port` as sipflow writes addresses: an IPv6 host in brackets.
pub fn endpoint(host: &[u8], port: &[u8]) -> String {
    let host = String::from_utf8_lossy(host);
    let port = String::from_utf8_lossy(port);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.contains(':') {
        format!("[{bare}]:{port}")
    } else {
        format!("{bare}:{port}")
    }
}

/// The line without its line end (`\n`, `\r\n`).
pub fn bare(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &[u8], how: End) -> MessageEvent {
        let mut out = Vec::new();
        let mut emit = |e: Event| out.push(e);
        let mut d = Dumps::new(0, &mut emit);
        d.start(DumpHeader::default(), 1, 0..1);
        for line in text.split_inclusive(|&b| b == b'\n') {
            d.push(line, 0);
        }
        match how {
            End::Input => {
                d.finish();
            }
            how => d.end(how),
        }
        match out.pop() {
            Some(Event::Message(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn content_length_frames_the_message_and_crs_come_back() {
        let m = one(
            b"\nINVITE sip:a@b SIP/2.0\nCall-ID: x\nContent-Length: 5\n\nv=0\n\n\n",
            End::Record,
        );
        assert_eq!(
            m.raw(),
            b"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 5\r\n\r\nv=0\r\n"
        );
        assert_eq!(m.cut, None);
        let kept = one(
            b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n\n",
            End::Marker,
        );
        assert_eq!(kept.raw(), b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    }

    #[test]
    fn what_a_message_lacks_is_a_cut_by_where_it_ended() {
        let short = b"INVITE sip:a@b SIP/2.0\nContent-Length: 50\n\nv=0\n";
        assert_eq!(one(short, End::Input).cut, Some(Cut::InputEdge));
        assert_eq!(one(short, End::Record).cut, Some(Cut::Damaged));
        // A lost blank line before an end marker is not a cut.
        let m = one(b"BYE sip:a@b SIP/2.0\nContent-Length: 0\n", End::Marker);
        assert_eq!((m.cut, m.raw().ends_with(b"\r\n\r\n")), (None, true));
        assert!(m.parsed().is_some());
    }

    #[test]
    fn a_runaway_dump_is_bounded() {
        let mut out = Vec::new();
        let mut emit = |e: Event| out.push(e);
        let mut d = Dumps::new(0, &mut emit);
        d.start(DumpHeader::default(), 1, 0..1);
        d.push(
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 99999999\r\n\r\n",
            10,
        );
        let line = vec![b'a'; 1 << 20];
        for _ in 0..4 {
            d.push(&line, 20);
        }
        let counts = d.finish();
        assert_eq!((counts.messages, counts.truncated), (1, 1));
        match &out[0] {
            Event::Message(m) => {
                assert!(m.raw().len() <= MAX_DUMP);
                assert_eq!(m.cut, Some(Cut::Damaged));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_clock_rolls_over_midnight() {
        let mut c = Clock::new(None);
        let late = c.stamp(None, 23 * 3_600_000_000);
        let early = c.stamp(None, 1_000);
        assert!(early.micros > late.micros);
        assert!(!early.dated);
        assert_eq!(time_of_day(b"25", b"00", b"00", b""), None);
        assert_eq!(time_of_day(b"00", b"00", b"01", b"5"), Some(1_500_000));
    }
}
