//! OPAL's (and so sipcmd's, Ekiga's older releases') PTLib trace at level 4 and above: each
//! SIP PDU sent or received, after the trace line that says so.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::stacklog::{
    Clock, Driver, DumpHeader, Dumps, End, LineReader, bare, endpoint, time_of_day, transport,
};
use super::{Format, Parser, Spec, TextParser, TextStart, level};
use crate::event::{Direction, Event, MICROS_PER_DAY, Timestamp, Transport, days_from_civil};

pub const FORMAT: Format = Format(&Spec {
    name: "opal",
    summary: "OPAL / PTLib trace (level 4+, e.g. sipcmd): `SIP\\tSending PDU (N bytes) to: \
              rem=udp$addr:port,…` or `PDU received: rem=…`, then the message",
    looks: "an OPAL trace",
    recognises: "OPAL/PTLib trace lines (`0:10.144\\tthread\\tSIP\\tSending PDU (N bytes) to: \
                 rem=udp$…`) followed by a message",
    sniff,
    parser: Parser::Text(new),
    packets: false,
    docs: include_str!("opal.md"),
    fixtures: &["stacks/public/opal-sipcmd-59-sending-pdu-invite.log"],
});

/// A PTLib trace line: an optional date and time of day (`2018/10/15 10:00:00.123`), then an
/// optional elapsed time (`  0:10.144`, `1:02:03.456`), at least one of them, each followed by
/// a tab; the text after them.
static RECORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[ \t]*(?:(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,6})\t)?(?:[ \t]*(?:(\d{1,6}):)?(\d{1,6}):(\d\d)\.(\d{3})\t)?",
    )
    .expect("static regex")
});

/// OPAL's lines around a PDU (`src/sip/sippdu.cxx`, `SIP_PDU::Write` and `SIP_PDU::Read`):
/// `SIP\tSending PDU (2271 bytes) to: rem=udp$1.2.3.4:5060,local=udp$…` and
/// `SIP\tPDU received: rem=udp$…,local=…` (`Truncated (EMSGSIZE) PDU received` for a datagram
/// too long for its buffer).
static PDU: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|\t)SIP\t(?:(Sending) PDU \((\d{1,12}) bytes\) to|(?:Truncated \(EMSGSIZE\) )?PDU received): rem=([a-z]{1,5})\$(\[[0-9A-Fa-f:.%\w]{1,64}\]|[^,:\s\[\]]{1,255}):(\d{1,5}),local=([a-z]{1,5})\$(\[[0-9A-Fa-f:.%\w]{1,64}\]|[^,:\s\[\]]{1,255}):(\d{1,5})",
    )
    .expect("static regex")
});

fn sniff(head: &[u8]) -> Option<u8> {
    let mut pdu = false;
    for line in head.split_inclusive(|&b| b == b'\n').take(20_000) {
        if pdu && crate::sip::is_start_line(bare(&line[indent(line)..])) {
            return Some(level::STACK_LOG);
        }
        pdu = PDU.is_match(line);
    }
    None
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    let reader = Opal {
        clock: Clock::new(start.date),
        pdu: None,
        indent: 0,
    };
    Box::new(Driver::new(reader, start.input, emit))
}

struct Opal {
    clock: Clock,
    /// The last PDU line, while the line after it may start its message: what it says, its
    /// number and span.
    pdu: Option<(DumpHeader, u32, std::ops::Range<usize>)>,
    /// The spaces and tabs before the open message's start line (the poster's or the log
    /// viewer's), taken off each of its lines.
    indent: usize,
}

impl Opal {
    /// The trace line's time: its date and time of day when PTLib printed them, else the time
    /// since the process started, undated (not a time of day: `--date` does not apply).
    fn time(&mut self, c: &regex::bytes::Captures<'_>) -> Option<Timestamp> {
        let get = |i: usize| c.get(i).map_or(&b""[..], |m| m.as_bytes());
        let num = |i: usize| std::str::from_utf8(get(i)).ok()?.parse::<i64>().ok();
        if c.get(1).is_some() {
            let date = match (num(1), num(2), num(3)) {
                (Some(y), Some(m), Some(d)) => Some(days_from_civil(
                    y,
                    u32::try_from(m).unwrap_or(1),
                    u32::try_from(d).unwrap_or(1),
                )),
                _ => None,
            };
            let tod = time_of_day(get(4), get(5), get(6), get(7))?;
            return Some(self.clock.stamp(date, tod));
        }
        let (h, m, s, ms) = (num(8).unwrap_or(0), num(9)?, num(10)?, num(11)?);
        let micros = ((h.min(1_000_000) * 60 + m) * 60 + s) * 1_000_000 + ms * 1_000;
        Some(Timestamp {
            micros: micros.min(MICROS_PER_DAY * 100_000),
            dated: false,
            micro: true,
            unknown: false,
        })
    }

    /// What a PDU line `p` says, with the time of its trace line `rec` (none: no time shown).
    fn header(
        &mut self,
        rec: Option<&regex::bytes::Captures<'_>>,
        p: &regex::bytes::Captures<'_>,
    ) -> DumpHeader {
        let send = p.get(1).is_some();
        let remote = endpoint(&p[4], &p[5]);
        let local = endpoint(&p[7], &p[8]);
        let (src, dst) = if send {
            (local, remote)
        } else {
            (remote, local)
        };
        DumpHeader {
            ts: rec.and_then(|r| self.time(r)),
            direction: Some(if send { Direction::Tx } else { Direction::Rx }),
            transport: opal_transport(&p[3]),
            src: Some(src),
            dst: Some(dst),
            declared_len: p
                .get(2)
                .and_then(|n| std::str::from_utf8(n.as_bytes()).ok()?.parse().ok()),
        }
    }
}

/// OPAL's transport prefix: `udp$`, `tcp$`, `tls$` (`tcps$` in older releases), `ws$`, `wss$`.
fn opal_transport(prefix: &[u8]) -> Transport {
    match prefix {
        b"tcps" => Transport::Tls,
        other => transport(other),
    }
}

impl LineReader for Opal {
    fn line(&mut self, dumps: &mut Dumps<'_>, line: &[u8], no: u32, start: usize) {
        let end = start + line.len();
        let record = RECORD
            .captures(line)
            .filter(|c| c.get(1).is_some() || c.get(9).is_some());
        let pdu = PDU.captures(line);
        if record.is_some() || pdu.is_some() {
            dumps.end(End::Record);
            self.pdu = pdu.map(|p| (self.header(record.as_ref(), &p), no, start..end));
            return;
        }
        let at = indent(line);
        if let Some((header, pdu_no, span)) = self.pdu.take()
            && crate::sip::is_start_line(bare(&line[at..]))
        {
            dumps.start(header, pdu_no, span);
            self.indent = at;
        }
        if !dumps.is_open() {
            return;
        }
        let strip = indent(line).min(self.indent);
        dumps.push_or_end(&line[strip..], end);
    }
}

/// The spaces and tabs a line starts with.
fn indent(line: &[u8]) -> usize {
    line.iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Cut;
    use crate::testutil::start_line as start;

    fn messages(text: &[u8]) -> Vec<crate::event::MessageEvent> {
        crate::testutil::messages_as(FORMAT, text)
    }

    const RX: &[u8] = b"2018/10/15 10:00:00.123\t   0:01.500\tSIP Transport\tSIP\tPDU received: rem=udp$[2001:db8::1]:5060,local=udp$[2001:db8::2]:5062,if=udp$[2001:db8::2]\n\
        SIP/2.0 200 OK\nCall-ID: a\nCSeq: 1 OPTIONS\nContent-Length: 5\n\nv=0\n\
        2018/10/15 10:00:00.200\t   0:01.577\tSIP Transport\tSIP\tSending PDU (99 bytes) to: rem=tcps$10.0.0.1:5061,local=tcps$10.0.0.2:40000,if=10.0.0.2\n\
        BYE sip:a@b SIP/2.0\nCall-ID: a\nContent-Length: 10\n\nv=0\n\
        2018/10/15 10:00:00.300\t   0:01.677\tHousekeeper\tSIP\tTransaction timeout\n";

    /// A received PDU and a sent one, with the date and time PTLib printed, an IPv6 peer and
    /// older releases' `tcps$`: the second one is cut short by the next trace line.
    #[test]
    fn received_and_sent_pdus() {
        let m = messages(RX);
        assert_eq!(m.len(), 2);
        assert_eq!(start(&m[0]), "SIP/2.0 200 OK");
        assert_eq!(m[0].direction, Some(Direction::Rx));
        assert_eq!(m[0].src.as_deref(), Some("[2001:db8::1]:5060"));
        assert_eq!(m[0].dst.as_deref(), Some("[2001:db8::2]:5062"));
        assert_eq!((m[0].cut, m[0].declared_len), (None, None));
        assert!(m[0].raw().ends_with(b"Content-Length: 5\r\n\r\nv=0\r\n"));
        assert_eq!(m[0].ts.to_string(), "2018-10-15 10:00:00.123");
        assert_eq!(m[1].direction, Some(Direction::Tx));
        assert_eq!(m[1].transport, Transport::Tls);
        assert_eq!(m[1].dst.as_deref(), Some("10.0.0.1:5061"));
        assert_eq!(m[1].declared_len, Some(99));
        assert_eq!(m[1].cut, Some(Cut::Damaged));
    }

    /// The elapsed time since the process started is no time of day: undated, hours allowed.
    #[test]
    fn elapsed_time_is_undated() {
        let text = b"  1:02:03.456\tt\tSIP\tSending PDU (10 bytes) to: rem=udp$1.2.3.4:5060,local=udp$5.6.7.8:5060,if=x\n\
            OPTIONS sip:a SIP/2.0\nContent-Length: 0\n\n";
        let m = messages(text);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].cut, None);
        assert!(!m[0].ts.dated);
        assert_eq!(m[0].ts.micros, ((3600 + 2 * 60 + 3) * 1000 + 456) * 1000);
    }

    /// Live: a pause after the whole 200 hands it on at once (the trace line after it may be a
    /// long time coming), and reading on gives what the input read whole gives.
    #[test]
    fn a_pause_hands_on_a_whole_message() {
        let read = |pauses: bool| {
            let events = std::cell::RefCell::new(Vec::new());
            let mut out = Vec::new();
            let mut emit = |e: Event| events.borrow_mut().push(e);
            let start = TextStart {
                head: RX,
                input: 0,
                date: None,
                capture: &Default::default(),
            };
            let mut p = new(&start, &mut emit);
            for line in RX.split_inclusive(|&b| b == b'\n') {
                p.feed(line);
                if pauses {
                    p.pause();
                    out.push(events.borrow().len());
                }
            }
            p.finish(b"");
            let all: Vec<String> = events
                .into_inner()
                .iter()
                .map(|e| format!("{e:?}"))
                .collect();
            (all, out)
        };
        let (whole, _) = read(false);
        let (paused, out) = read(true);
        assert_eq!(paused, whole);
        // The 200's body line is the 7th line: out at the pause after it.
        assert_eq!(out[6], 1);
        assert_eq!(out[5], 0);
    }

    #[test]
    fn sniffing() {
        let fixture =
            crate::testutil::fixture("stacks/public/opal-sipcmd-59-sending-pdu-invite.log");
        assert_eq!(sniff(&fixture), Some(level::STACK_LOG));
        assert_eq!(sniff(RX), Some(level::STACK_LOG));
        // Level 3: the PDU line names the message, but none follows.
        assert_eq!(
            sniff(b"  0:01.000\tt\tSIP\tSending PDU INVITE sip:a@b (10 bytes) to: rem=udp$1.2.3.4:5060,local=udp$5.6.7.8:5060,if=x\n  0:01.001\tt\tSIP\tother\n"),
            None
        );
        // A PDU line followed by something that is not a start line.
        assert_eq!(
            sniff(b"  0:01.000\tt\tSIP\tPDU received: rem=udp$1.2.3.4:5060,local=udp$5.6.7.8:5060,if=x\nhello\n"),
            None
        );
        assert_eq!(sniff(b"INVITE sip:a@b SIP/2.0\r\n\r\n"), None);
    }

    /// A 1 MiB header line, a message that never ends, bytes that are not text.
    #[test]
    fn hostile_inputs_are_bounded() {
        let mut text = b"  0:00.001\tt\tSIP\tPDU received: rem=udp$1.2.3.4:5060,local=udp$5.6.7.8:5060,if=x\nINVITE sip:a@b SIP/2.0\nX: ".to_vec();
        text.extend(std::iter::repeat_n(b'a', 1 << 20));
        text.extend_from_slice(b"\n\n");
        for _ in 0..10_000 {
            text.extend_from_slice(b"more\n");
        }
        let m = messages(&text);
        assert_eq!(m.len(), 1);
        assert!(m[0].raw().len() <= super::super::stacklog::MAX_DUMP);
        assert!(
            messages(b"  0:00.001\tt\tSIP\tPDU received: rem=udp$\xff:1,local=udp$\xfe:2\n\x00\n")
                .is_empty()
        );
        assert!(messages(b"99999999:99:99.999\tt\tSIP\tSending PDU (1 bytes) to: rem=udp$a:1,local=udp$b:2,if=x\nBYE sip:a SIP/2.0\n").len() == 1);
    }
}
