//! sngrep's text save: the `.txt` its Save dialog (F2) writes of the dialogs it shows.
//!
//! Owns: finding each message's header line (`2026/11/21 06:11:05.124863 127.0.0.1:5411 ->
//! 127.0.0.1:5410`) and its time and addresses. Does not own: framing the message
//! (`super::stacklog`).

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::stacklog::{Clock, Driver, DumpHeader, Dumps, LineReader, endpoint, time_of_day};
use super::{Format, Parser, Spec, TextParser, TextStart, level};
use crate::event::{Event, Transport, days_from_civil};

pub const FORMAT: Format = Format(&Spec {
    name: "sngrep",
    summary: "sngrep's text save (Save dialog, .txt): `YYYY/MM/DD HH:MM:SS.ffffff src -> dst` \
              before each message",
    looks: "an sngrep text save",
    recognises: "sngrep's saved text (`2026/11/21 06:11:05.124863 addr:port -> addr:port`, then \
                 the message)",
    sniff,
    parser: Parser::Text(new),
    // sngrep saves the messages it took from packets, each whole (reassembled).
    packets: true,
    docs: include_str!("sngrep.md"),
    fixtures: &[
        "derived-text/sngrep/pjsua-udp.txt",
        "derived-text/sngrep/sipp-tcp-big.txt",
        "derived-text/sngrep/ipv6.txt",
    ],
});

/// The line before each message: its date and time, its sender and its receiver (an IPv6
/// address in brackets).
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,6}) (\[[0-9A-Fa-f:.]{2,45}\]|[^\s:\[\]]{1,253}):(\d{1,5}) -> (\[[0-9A-Fa-f:.]{2,45}\]|[^\s:\[\]]{1,253}):(\d{1,5})\r?\n?$",
    )
    .expect("static regex")
});

/// A header line followed by a SIP start line.
fn sniff(head: &[u8]) -> Option<u8> {
    let mut lines = head.split_inclusive(|&b| b == b'\n').take(20_000);
    let mut after_header = false;
    for line in lines.by_ref() {
        if after_header && crate::sip::is_start_line(super::stacklog::bare(line)) {
            return Some(level::TOOL_TEXT);
        }
        after_header = HEADER.is_match(line);
    }
    None
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    let reader = Sngrep {
        clock: Clock::new(start.date),
    };
    Box::new(Driver::new(reader, start.input, emit))
}

struct Sngrep {
    clock: Clock,
}

impl LineReader for Sngrep {
    fn line(&mut self, dumps: &mut Dumps<'_>, line: &[u8], no: u32, start: usize) {
        let end = start + line.len();
        if let Some(c) = HEADER.captures(line) {
            let num = |i: usize| std::str::from_utf8(&c[i]).ok()?.parse::<u32>().ok();
            let date = (|| Some(days_from_civil(i64::from(num(1)?), num(2)?, num(3)?)))();
            let ts = time_of_day(&c[4], &c[5], &c[6], &c[7]).map(|t| self.clock.stamp(date, t));
            let header = DumpHeader {
                ts,
                direction: None,
                // sngrep's text does not say: UDP, TCP, TLS (decrypted) and WebSocket alike.
                transport: Transport::Unknown,
                src: Some(endpoint(&c[8], &c[9])),
                dst: Some(endpoint(&c[10], &c[11])),
                declared_len: None,
            };
            // sngrep writes each message whole, then two line ends (not the message's: a body
            // short of its Content-Length is as it was on the wire, which `packets` says).
            dumps.end_before(b"\n\n");
            dumps.start(header, no, start..end);
            return;
        }
        dumps.push_or_end(line, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Cut;
    use crate::testutil::start_line as start;

    fn messages(text: &[u8]) -> Vec<crate::event::MessageEvent> {
        crate::testutil::messages_as(FORMAT, text)
    }

    /// The recorded call saved by sngrep: its seven messages, whole, with their times and
    /// addresses; IPv6 addresses in brackets.
    #[test]
    fn the_saved_texts_give_every_message() {
        let m = messages(&crate::testutil::fixture(
            "derived-text/sngrep/pjsua-udp.txt",
        ));
        let starts: Vec<String> = m.iter().map(start).collect();
        assert_eq!(m.len(), 7, "{starts:?}");
        assert_eq!(starts[0], "INVITE sip:callee@127.0.0.1:5410 SIP/2.0");
        assert_eq!(starts[6], "SIP/2.0 200 OK");
        assert_eq!(m[0].ts.to_string(), "2026-11-21 06:11:05.124");
        assert_eq!(m[0].src.as_deref(), Some("127.0.0.1:5411"));
        assert_eq!(m[0].dst.as_deref(), Some("127.0.0.1:5410"));
        assert!(m.iter().all(|m| m.cut.is_none()));
        assert!(m[0].raw().ends_with(b"cname:70f1d8f3379d8c4d\r\n"));

        let m = messages(&crate::testutil::fixture("derived-text/sngrep/ipv6.txt"));
        assert_eq!(m.len(), 7);
        assert_eq!(m[0].src.as_deref(), Some("[::1]:5451"));
    }

    /// A text that ends inside a message: cut by the input's edge.
    #[test]
    fn a_text_ending_inside_a_message() {
        let m = messages(
            b"2026/11/21 06:11:05.124863 10.0.0.1:5060 -> 10.0.0.2:5060\r\nINVITE sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nv=0\r\n",
        );
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].cut, Some(Cut::InputEdge));
    }

    /// A message whose body is shorter than its Content-Length, as the content-length-mismatch
    /// recording sent it (declared 40, 28 sent), saved by sngrep: read as sent, without
    /// sngrep's two line ends after it, and marked damaged as a capture marks that datagram
    /// (`content-length-mismatch` knows a packet input's damaged datagram for the sender's
    /// fault); the last message of the text, short, is cut by the input's edge instead.
    #[test]
    fn a_short_body_before_the_next_message_is_as_sent() {
        let text = b"2026/11/21 06:55:15.777456 127.0.0.1:5853 -> 127.0.0.1:5852\nMESSAGE sip:ua@127.0.0.1:5852 SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 40\r\n\r\nhello from sipflow, take 1\r\n\n\n2026/11/21 06:55:15.777739 127.0.0.1:5852 -> 127.0.0.1:5853\nSIP/2.0 200 OK\r\nCall-ID: 1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 9\r\n\r\n\n\n";
        let m = messages(text);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].cut, Some(Cut::Damaged));
        assert!(m[0].raw().ends_with(b"take 1\r\n"), "{:?}", m[0].raw());
        assert_eq!(m[1].cut, Some(Cut::InputEdge));
    }

    #[test]
    fn sniffing() {
        assert_eq!(
            sniff(
                b"2026/11/21 06:11:05.124863 127.0.0.1:5411 -> 127.0.0.1:5410\nSIP/2.0 200 OK\r\n"
            ),
            Some(level::TOOL_TEXT)
        );
        assert_eq!(
            sniff(b"2026/11/21 06:11:05.124863 127.0.0.1:5411 -> 127.0.0.1:5410\nhello\n"),
            None
        );
    }
}
