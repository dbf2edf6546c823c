//! Kamailio's and OpenSIPS's logs with the messages the script logged (xlog of `$mb`,
//! `$snd(buf)`), on stderr or through syslog.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::stacklog::{
    Clock, Driver, DumpHeader, Dumps, End, LineReader, bare, endpoint, time_of_day, transport,
};
use super::{Format, Parser, Spec, TextParser, TextStart, level};
use crate::event::{Direction, Event};

pub const FORMAT: Format = Format(&Spec {
    name: "kamailio",
    summary: "Kamailio / OpenSIPS logs with messages logged by xlog ($mb, $snd(buf)), on \
              stderr or syslog",
    looks: "a Kamailio log",
    recognises: "Kamailio/OpenSIPS log lines (` 1(123) INFO: <script>: …`) followed by a message",
    sniff,
    parser: Parser::Text(new),
    packets: false,
    docs: include_str!("kamailio.md"),
    fixtures: &[
        "stacks/kamailio.log",
        "stacks/public/kamailio-1257-xlog-mb-invite.log",
    ],
});

/// A log record: stderr's ` 1(7766) INFO: <script>: …` (process number and PID), or syslog's
/// `Dec  6 10:00:00 host /usr/sbin/kamailio[7766]: INFO: <script>: …`; the text after the
/// level and module.
static RECORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:([A-Z][a-z]{2}) +\d{1,2} (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))? \S+ \S*(?:kamailio|opensips)\[\d+\]: | *\d+\(\d+\) )(?:[A-Z]+|[A-Z][a-z]+): (?:<[^>\n]{1,64}>|[\w:-]{1,64}):? ?(.*?)\r?\n?$",
    )
    .expect("static regex")
});

/// Where the script said the message came from or goes to: `from udp:1.2.3.4:5060`,
/// `to [::1]:5070`.
static PEER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(from|to) (?:(udp|tcp|tls|sctp|ws|wss):)?(\[[0-9a-f:.]{2,45}\]|\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\b",
    )
    .expect("static regex")
});

fn sniff(head: &[u8]) -> Option<u8> {
    let mut record = false;
    for line in head.split_inclusive(|&b| b == b'\n').take(20_000) {
        if let Some(c) = RECORD.captures(line) {
            if c.get(6)
                .is_some_and(|t| crate::sip::is_start_line(t.as_bytes()))
            {
                return Some(level::STACK_LOG);
            }
            record = true;
        } else if record && crate::sip::is_start_line(bare(&line[indent(line)..])) {
            return Some(level::STACK_LOG);
        } else {
            record = false;
        }
    }
    None
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    let reader = Kamailio {
        clock: Clock::new(start.date),
        record: None,
    };
    Box::new(Driver::new(reader, start.input, emit))
}

struct Kamailio {
    clock: Clock,
    /// The last log record, while the line after it may start its message: what it says, its
    /// number and span.
    record: Option<(DumpHeader, u32, std::ops::Range<usize>)>,
}

impl Kamailio {
    fn header(&mut self, c: &regex::bytes::Captures<'_>, text: &[u8]) -> DumpHeader {
        let get = |i: usize| c.get(i).map_or(&b""[..], |m| m.as_bytes());
        let ts = c
            .get(1)
            .and_then(|_| time_of_day(get(2), get(3), get(4), get(5)))
            .map(|t| self.clock.stamp(None, t));
        let mut h = DumpHeader {
            ts,
            ..DumpHeader::default()
        };
        if let Some(p) = PEER.captures(text) {
            let peer = endpoint(&p[3], &p[4]);
            if p[1].eq_ignore_ascii_case(b"from") {
                (h.direction, h.src) = (Some(Direction::Rx), Some(peer));
            } else {
                (h.direction, h.dst) = (Some(Direction::Tx), Some(peer));
            }
            if let Some(t) = p.get(2) {
                h.transport = transport(t.as_bytes());
            }
        }
        h
    }
}

impl LineReader for Kamailio {
    fn line(&mut self, dumps: &mut Dumps<'_>, line: &[u8], no: u32, start: usize) {
        let end = start + line.len();
        if let Some(c) = RECORD.captures(line) {
            dumps.end(End::Record);
            let text = c.get(6).map_or(&b""[..], |m| m.as_bytes());
            let header = self.header(&c, text);
            if crate::sip::is_start_line(text) {
                // The message on the record's own line (xlog("$mb") without a line end first).
                let at = c.get(6).map_or(0, |m| m.start());
                dumps.start(header, no, start..end);
                dumps.push(&line[at..], end);
                self.record = None;
            } else {
                self.record = Some((header, no, start..end));
            }
            return;
        }
        let at = indent(line);
        if let Some((header, rec_no, span)) = self.record.take()
            && crate::sip::is_start_line(bare(&line[at..]))
        {
            dumps.start(header, rec_no, span);
            if at > 0 {
                // The script's own text before `$mb` (`xlog("New message:\n $mb")`).
                dumps.push(&line[at..], end);
                return;
            }
        }
        if !dumps.is_open() {
            return;
        }
        dumps.push_or_end(line, end);
    }
}

/// The spaces and tabs a line starts with: the script's format may put some between the
/// record's line end and the message.
fn indent(line: &[u8]) -> usize {
    line.iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Cut, Transport};

    fn messages(text: &[u8]) -> Vec<crate::event::MessageEvent> {
        crate::testutil::messages_as(FORMAT, text)
    }

    fn fixture() -> Vec<u8> {
        crate::testutil::fixture("stacks/kamailio.log")
    }

    /// The recorded proxy: every message of the call in and out (INVITE, 180, 200, ACK, BYE,
    /// 200, each twice) and the OPTIONS it answered itself, byte for byte, with the peer.
    #[test]
    fn the_recorded_proxy_log_gives_every_message() {
        let m = messages(&fixture());
        assert_eq!(m.len(), 13);
        assert!(m.iter().all(|m| m.cut.is_none() && m.parsed().is_some()));
        assert_eq!(m[0].direction, Some(Direction::Rx));
        assert_eq!(m[0].src.as_deref(), Some("127.0.0.1:5751"));
        assert_eq!(m[0].transport, Transport::Udp);
        assert_eq!(m[1].direction, Some(Direction::Tx));
        assert_eq!(m[1].dst.as_deref(), Some("127.0.0.1:5752"));
        assert!(
            m[1].raw()
                .starts_with(b"INVITE sip:callee@127.0.0.1:5752 SIP/2.0\r\nRecord-Route: ")
        );
        assert!(m[1].raw().ends_with(b"a=ptime:20\r\n"));
    }

    /// syslog's form (a time, no date), a message on the record's own line, a cut one.
    #[test]
    fn syslog_and_cut_messages() {
        let text = b"Dec  6 10:00:00 pbx /usr/sbin/kamailio[812]: INFO: <script>: in from tcp:10.0.0.1:5060\n\
            OPTIONS sip:p SIP/2.0\r\nCall-ID: a\r\nContent-Length: 0\r\n\r\n\n\
            Dec  6 10:00:01 pbx /usr/sbin/kamailio[812]: INFO: <script>: BYE sip:x SIP/2.0\r\n\
            Call-ID: b\r\nContent-Length: 10\r\n\r\nv=0\r\n";
        let m = messages(text);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].ts.to_string(), "10:00:00.000");
        assert_eq!(m[0].transport, Transport::Tcp);
        assert_eq!(m[0].cut, None);
        assert!(m[1].raw().starts_with(b"BYE sip:x SIP/2.0\r\n"));
        assert_eq!(m[1].cut, Some(Cut::InputEdge));
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(&fixture()), Some(level::STACK_LOG));
        // Kamailio's lines without a message are not a trace of messages.
        assert_eq!(
            sniff(
                b" 1(12679) INFO: <script>: INVITE sip:callee@127.0.0.1:6502 from 127.0.0.1:6501\n"
            ),
            None
        );
        assert_eq!(sniff(b"INVITE sip:a@b SIP/2.0\r\n\r\n"), None);
    }

    #[test]
    fn hostile_inputs_are_bounded() {
        let mut text =
            b" 1(1) INFO: <script>: from 1.2.3.4:5\nINVITE sip:a@b SIP/2.0\nX: ".to_vec();
        text.extend(std::iter::repeat_n(b'a', 1 << 20));
        text.extend_from_slice(b"\n\n");
        for _ in 0..10_000 {
            text.extend_from_slice(b"more\n");
        }
        let m = messages(&text);
        assert_eq!(m.len(), 1);
        assert!(m[0].raw().len() <= super::super::stacklog::MAX_DUMP);
        assert!(messages(b" 1(1) INFO: <script>: \xff\xfe\n\x00\n").is_empty());
    }
}
