//! Text traces that are not pjsip logs: raw SIP messages back to back, and SIPp `-trace_msg`
//! message logs.
//!
//! Owns: splitting such text into messages (by Content-Length where present, else at the next
//! start line) and, for SIPp, reading each record's time, direction and transport. Does not own:
//! the SIP grammar ([`crate::sip`]) or format sniffing order ([`super`]).
//!
//! Raw dumps carry no time: every message gets timestamp 0 and keeps its file order.

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
    let lines = LineIndex::new(text);
    split_messages(text, 0)
        .into_iter()
        .map(|(start, end)| {
            let origin = Origin {
                input,
                locator: Locator::Text {
                    line: lines.line_of(start),
                    span: start..end,
                },
            };
            message_event(
                &text[start..end],
                origin,
                Timestamp::default(),
                None,
                Transport::Unknown,
            )
        })
        .map(Event::Message)
        .collect()
}

/// Reads a SIPp `-trace_msg` file.
pub fn parse_sipp(text: &[u8], input: usize, date: Option<i64>) -> Vec<Event> {
    let lines = LineIndex::new(text);
    let seps: Vec<_> = SIPP_SEP.captures_iter(text).collect();
    let mut out = Vec::new();
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
            let origin = Origin {
                input,
                locator: Locator::Text {
                    line: lines.line_of(whole.start()),
                    span: whole.start()..e,
                },
            };
            let ev = message_event(&text[s..e], origin, ts, Some(direction), transport);
            out.push(Event::Message(ev));
        }
    }
    out
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

/// Maps byte offsets to 1-based line numbers.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &[u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    pub fn line_of(&self, offset: usize) -> u32 {
        let idx = self.starts.partition_point(|&s| s <= offset);
        u32::try_from(idx).unwrap_or(u32::MAX)
    }
}
