//! Asterisk's SIP message logs: res_pjsip's (`pjsip set logger on`) and chan_sip's
//! (`sip set debug on`), on the console or in a log file.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::stacklog::{
    Clock, Driver, DumpHeader, Dumps, End, LineReader, endpoint, time_of_day, transport,
};
use super::{Format, Parser, Spec, TextParser, TextStart, level};
use crate::event::{Direction, Event, days_from_civil};

pub const FORMAT: Format = Format(&Spec {
    name: "asterisk",
    summary: "Asterisk SIP logs: `pjsip set logger on` (`<--- Received SIP request (N bytes) from \
              UDP:addr:port --->`) and chan_sip's `sip set debug on`",
    looks: "an Asterisk SIP log",
    recognises: "Asterisk `<--- Received SIP request … --->` / `<--- SIP read from … --->` blocks",
    sniff,
    parser: Parser::Text(new),
    packets: false,
    docs: include_str!("asterisk.md"),
    fixtures: &[
        "stacks/public/asterisk-293-pjsip-logger-invite.log",
        "stacks/public/asterisk-449-pjsip-logger-invite.log",
    ],
});

/// res_pjsip_logger's header: `<--- Received SIP request (921 bytes) from UDP:1.2.3.4:5060 --->`,
/// `<--- Transmitting SIP response (523 bytes) to TLS:[::1]:5061 --->`, after whatever prefix
/// the log gave the line.
static PJSIP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)<--- (Received|Transmitting) SIP (?:request|response) \((\d{1,12}) bytes\) (?:from|to) (UDP|TCP|TLS|WS|WSS):(\[[0-9a-f:.]{2,45}\]|[^\s:]{1,253}):(\d{1,5}) --->",
    )
    .expect("static regex")
});

/// chan_sip's headers: `<--- SIP read from UDP:1.2.3.4:5060 --->`, `<--- Transmitting (NAT) to
/// 1.2.3.4:5060 --->`, `<--- Reliably Transmitting (no NAT) to 1.2.3.4:5060 --->`.
static CHAN_SIP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)<--- (?:(SIP read from)|(?:Reliably )?Transmitting(?: \((?:no )?NAT\))? to) (?:(UDP|TCP|TLS|WS|WSS):)?(\[[0-9a-f:.]{2,45}\]|[^\s:]{1,253}):(\d{1,5}) --->",
    )
    .expect("static regex")
});

/// chan_sip's end of a message: `<------------->`.
static END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*<-{5,}>\s*$").expect("static regex"));

/// Another `<--- … --->` record of Asterisk's (`<--- Transaction Packet request … --->`).
static OTHER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<--- .* --->").expect("static regex"));

/// The time in a log file's prefix: `[Dec  6 10:00:00]`, `[2023-09-01 23:19:35.558-0400]`.
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^\[?(?:(\d{4})-(\d\d)-(\d\d)|[A-Z][a-z]{2} +\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?",
    )
    .expect("static regex")
});

/// A line of Asterisk's that is no part of a message: a log file record, a console verbose
/// line (`    -- …`, `  == …`, `       > …`), the CLI prompt.
static RECORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:\[?\d{4}-\d\d-\d\d \d\d:|\[[A-Z][a-z]{2} +\d{1,2} \d\d:| +(?:--|==|>) |\S+\*CLI> )",
    )
    .expect("static regex")
});

fn sniff(head: &[u8]) -> Option<u8> {
    head.split_inclusive(|&b| b == b'\n')
        .take(20_000)
        .any(|l| PJSIP.is_match(l) || CHAN_SIP.is_match(l))
        .then_some(level::STACK_LOG)
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    let reader = Asterisk {
        clock: Clock::new(start.date),
    };
    Box::new(Driver::new(reader, start.input, emit))
}

struct Asterisk {
    clock: Clock,
}

impl Asterisk {
    fn time(&mut self, line: &[u8]) -> Option<crate::event::Timestamp> {
        let c = TIME.captures(line)?;
        let get = |i: usize| c.get(i).map_or(&b""[..], |m| m.as_bytes());
        let date = c.get(1).and_then(|_| {
            let num = |i: usize| std::str::from_utf8(get(i)).ok()?.parse::<u32>().ok();
            Some(days_from_civil(i64::from(num(1)?), num(2)?, num(3)?))
        });
        let tod = time_of_day(get(4), get(5), get(6), get(7))?;
        Some(self.clock.stamp(date, tod))
    }

    /// The dump a header line opens, if it is one.
    fn header(&mut self, line: &[u8]) -> Option<DumpHeader> {
        let (direction, proto, peer, declared) = if let Some(c) = PJSIP.captures(line) {
            let rx = c[1].eq_ignore_ascii_case(b"received");
            let declared = std::str::from_utf8(&c[2]).ok().and_then(|n| n.parse().ok());
            (rx, transport(&c[3]), endpoint(&c[4], &c[5]), declared)
        } else {
            let c = CHAN_SIP.captures(line)?;
            let proto = c.get(2).map_or(crate::event::Transport::Unknown, |p| {
                transport(p.as_bytes())
            });
            (c.get(1).is_some(), proto, endpoint(&c[3], &c[4]), None)
        };
        Some(DumpHeader {
            ts: self.time(line),
            direction: Some(if direction {
                Direction::Rx
            } else {
                Direction::Tx
            }),
            transport: proto,
            src: direction.then(|| peer.clone()),
            dst: (!direction).then_some(peer),
            declared_len: declared,
        })
    }
}

impl LineReader for Asterisk {
    fn line(&mut self, dumps: &mut Dumps<'_>, line: &[u8], no: u32, start: usize) {
        let end = start + line.len();
        if let Some(header) = self.header(line) {
            dumps.start(header, no, start..end);
            return;
        }
        if !dumps.is_open() {
            return;
        }
        if END.is_match(line) {
            dumps.end(End::Marker);
            return;
        }
        if OTHER.is_match(line) || RECORD.is_match(line) {
            dumps.end(End::Record);
            return;
        }
        dumps.push_or_end(line, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Cut, Transport};
    use crate::testutil::start_line as start;

    fn messages(text: &[u8]) -> Vec<crate::event::MessageEvent> {
        crate::testutil::messages_as(FORMAT, text)
    }

    fn fixture(rel: &str) -> Vec<u8> {
        crate::testutil::fixture(&format!("stacks/{rel}"))
    }

    /// Excerpts users posted in Asterisk's issues: the log file's prefix with its date, and
    /// the console's bare blocks; each ends inside the INVITE's body (cut by the excerpt).
    #[test]
    fn public_excerpts_are_read() {
        let m = messages(&fixture("public/asterisk-293-pjsip-logger-invite.log"));
        assert_eq!(m.len(), 1);
        assert_eq!(
            start(&m[0]),
            "INVITE sip:1181179609@50.12.34.56:5060 SIP/2.0"
        );
        assert_eq!(m[0].direction, Some(Direction::Rx));
        assert_eq!(m[0].src.as_deref(), Some("167.98.76.54:5060"));
        assert_eq!(m[0].declared_len, Some(1286));
        assert_eq!(m[0].ts.to_string(), "2023-09-01 23:19:35.558");
        assert_eq!(m[0].cut, Some(Cut::InputEdge));

        let m = messages(&fixture("public/asterisk-449-pjsip-logger-invite.log"));
        // `<--- Transaction Packet request … --->` is no SIP log's header: only the INVITE
        // transmitted after it is a message.
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].direction, Some(Direction::Tx));
        assert_eq!(m[0].dst.as_deref(), Some("213.170.92.166:5060"));
        assert_eq!(m[0].transport, Transport::Udp);
        assert_eq!(m[0].cut, Some(Cut::InputEdge));
    }

    /// The forms the stack's documentation and its source give: a verbose-prefixed pjsip
    /// block and chan_sip's blocks with their end markers, a paste without CRs.
    #[test]
    fn pjsip_logger_and_chan_sip_blocks() {
        let text = b"[Dec  6 10:00:00] VERBOSE[1234][C-00000001] res_pjsip_logger.c: <--- Transmitting SIP response (99 bytes) to UDP:10.0.0.1:5060 --->\n\
            SIP/2.0 486 Busy Here\nCall-ID: a\nCSeq: 1 INVITE\nContent-Length:  0\n\n\n\
            <--- SIP read from TCP:[2001:db8::1]:5060 --->\nBYE sip:b SIP/2.0\nCall-ID: b\nCSeq: 2 BYE\nContent-Length: 0\n\n<------------->\n\
            --- (4 headers 0 lines) ---\n\
            <--- Reliably Transmitting (no NAT) to 10.0.0.2:5060 --->\nOPTIONS sip:c SIP/2.0\nCall-ID: c\nContent-Length: 0\n\n<------------>\n";
        let m = messages(text);
        assert_eq!(m.len(), 3);
        assert_eq!(start(&m[0]), "SIP/2.0 486 Busy Here");
        assert_eq!(m[0].ts.to_string(), "10:00:00.000");
        assert!(m[0].raw().ends_with(b"Content-Length:  0\r\n\r\n"));
        assert_eq!(m[1].src.as_deref(), Some("[2001:db8::1]:5060"));
        assert_eq!(
            (m[1].transport, m[1].direction),
            (Transport::Tcp, Some(Direction::Rx))
        );
        assert_eq!(m[2].dst.as_deref(), Some("10.0.0.2:5060"));
        assert!(m.iter().all(|m| m.cut.is_none()));
    }

    #[test]
    fn sniffing() {
        assert_eq!(
            sniff(b"[Jul 26 17:19:22] VERBOSE[2980272] dial.c: PJSIP/ISP-00000010 is ringing\n"),
            None
        );
        assert_eq!(
            sniff(b"<--- Received SIP request (1 bytes) from UDP:1.2.3.4:5060 --->\n"),
            Some(level::STACK_LOG)
        );
    }

    #[test]
    fn hostile_inputs_are_bounded() {
        let mut text =
            b"<--- SIP read from UDP:1.2.3.4:5060 --->\nINVITE sip:a@b SIP/2.0\nX: ".to_vec();
        text.extend(std::iter::repeat_n(b'a', 1 << 20));
        text.extend_from_slice(
            b"\n<--- Received SIP request (999999999999 bytes) from UDP:1.2.3.4:5060 --->\n\xff\n",
        );
        let m = messages(&text);
        assert_eq!(m.len(), 2);
        assert!(m[0].raw().len() <= super::super::stacklog::MAX_DUMP);
        assert_eq!(m[0].cut, Some(Cut::Damaged));
    }
}
