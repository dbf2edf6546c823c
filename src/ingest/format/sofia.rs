//! sofia-sip's transport dumps (`TPORT_LOG=1`), as FreeSWITCH (`sofia global siptrace on`) and
//! drachtio print them too.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::stacklog::{
    Clock, Driver, DumpHeader, Dumps, End, LineReader, bare, endpoint, time_of_day, transport,
};
use super::{Format, Parser, Spec, TextParser, TextStart, level};
use crate::event::{Direction, Event, days_from_civil};

pub const FORMAT: Format = Format(&Spec {
    name: "sofia",
    summary: "sofia-sip transport dumps (TPORT_LOG=1), FreeSWITCH `sofia global siptrace on`, \
              drachtio: `recv N bytes from udp/[addr]:port at HH:MM:SS.ffffff:`",
    looks: "a sofia-sip or FreeSWITCH SIP trace",
    recognises: "sofia-sip/FreeSWITCH `send|recv N bytes to|from udp/[addr]:port` dumps",
    sniff,
    parser: Parser::Text(new),
    packets: false,
    docs: include_str!("sofia.md"),
    fixtures: &[
        "stacks/sofia.log",
        "stacks/public/freeswitch-323-ack-siptrace.log",
        "stacks/public/freeswitch-1144-siptrace.log",
        "stacks/public/drachtio-siprec-49-udp-invite.log",
    ],
});

/// A dump's header: `send|recv N bytes to|from proto/[addr]:port at HH:MM:SS.ffffff:`, after
/// whatever the log put first (drachtio's date and time).
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(.*?)\b(send|recv) (\d{1,12}) bytes (to|from) (udp|tcp|tls|sctp|ws|wss)/\[([^\]\s]{1,64})\]:(\d{1,5})(?: at (\d\d):(\d\d):(\d\d)\.(\d{1,9}))?:\r?\n?$",
    )
    .expect("static regex")
});

/// A date at the start of the line (drachtio, FreeSWITCH's console log).
static DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{4})-(\d\d)-(\d\d)[ T]").expect("static regex"));

/// The rule of dashes around a dump's message.
static DASHES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*-{20,}\s*$").expect("static regex"));

/// A log record that is no part of a message: FreeSWITCH's and drachtio's dated lines, and
/// sofia-sip's own debug lines (`tport.c:3273 tport_tsend() …`, `nta: …`).
static RECORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ |[a-z_]+\.c:\d+ [a-z_]+\(\) |(?:nta|nua|tport|tport_[a-z_]+|nth|su)(?:\([0-9a-fx]+\))?: )")
        .expect("static regex")
});

/// Above a stack log's level: a dump header this precise beats pjsip's looser sniff, which
/// takes drachtio's dated lines (`2021-09-07 07:36:14.784517 tport.c:2777 …`) for pjsip's.
const SPECIFICITY: u8 = level::STACK_LOG + 5;

fn sniff(head: &[u8]) -> Option<u8> {
    head.split_inclusive(|&b| b == b'\n')
        .take(20_000)
        .any(|l| HEADER.is_match(l))
        .then_some(SPECIFICITY)
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    let reader = Sofia {
        clock: Clock::new(start.date),
        state: State::Outside,
    };
    Box::new(Driver::new(reader, start.input, emit))
}

struct Sofia {
    clock: Clock,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Outside,
    /// After a header, before the first message line (the opening dashes may come).
    Opened,
    /// Inside the message; sofia-sip's own dumps indent each line by three spaces.
    Message {
        indent: bool,
    },
}

impl Sofia {
    fn header(&mut self, c: &regex::bytes::Captures<'_>) -> DumpHeader {
        let get = |i: usize| c.get(i).map_or(&b""[..], |m| m.as_bytes());
        let date = DATE.captures(get(1)).and_then(|d| {
            let num = |i: usize| std::str::from_utf8(&d[i]).ok()?.parse::<u32>().ok();
            Some(days_from_civil(i64::from(num(1)?), num(2)?, num(3)?))
        });
        let ts = time_of_day(get(8), get(9), get(10), get(11)).map(|t| self.clock.stamp(date, t));
        let peer = endpoint(get(6), get(7));
        let send = get(2) == b"send";
        DumpHeader {
            ts,
            direction: Some(if send { Direction::Tx } else { Direction::Rx }),
            transport: transport(get(5)),
            src: (!send).then(|| peer.clone()),
            dst: send.then_some(peer),
            declared_len: std::str::from_utf8(get(3))
                .ok()
                .and_then(|n| n.parse().ok()),
        }
    }
}

impl LineReader for Sofia {
    fn line(&mut self, dumps: &mut Dumps<'_>, line: &[u8], no: u32, start: usize) {
        let end = start + line.len();
        if let Some(c) = HEADER.captures(line) {
            let header = self.header(&c);
            dumps.start(header, no, start..end);
            self.state = State::Opened;
            return;
        }
        match self.state {
            State::Outside => {}
            State::Opened if DASHES.is_match(line) => {
                dumps.push(b"", end);
            }
            State::Opened | State::Message { .. } if DASHES.is_match(line) => {
                dumps.end(End::Marker);
                self.state = State::Outside;
            }
            State::Opened | State::Message { .. } => {
                let content = bare(line);
                if !content.trim_ascii().is_empty() && (dumps.complete() || RECORD.is_match(line)) {
                    dumps.end(if dumps.complete() {
                        End::Marker
                    } else {
                        End::Record
                    });
                    self.state = State::Outside;
                    return;
                }
                let indent = match self.state {
                    State::Message { indent } => indent,
                    _ => line.starts_with(b"   "),
                };
                self.state = State::Message { indent };
                let text = if indent {
                    let n = line.iter().take(3).take_while(|&&b| b == b' ').count();
                    &line[n..]
                } else {
                    line
                };
                dumps.push(text, end);
            }
        }
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

    /// sofia-sip's own dump: indented lines without CRs come back as the bytes it sent, as
    /// many as it said.
    #[test]
    fn the_recorded_dump_gives_the_bytes_sent() {
        let m = messages(&fixture("sofia.log"));
        assert_eq!(m.len(), 2);
        assert_eq!(start(&m[0]), "OPTIONS sip:127.0.0.1:5750 SIP/2.0");
        assert_eq!(start(&m[1]), "SIP/2.0 200 OK");
        for m in &m {
            assert_eq!(Some(m.raw().len()), m.declared_len);
            assert!(m.cut.is_none());
        }
        assert_eq!(m[0].direction, Some(Direction::Tx));
        assert_eq!(m[0].dst.as_deref(), Some("127.0.0.1:5750"));
        assert_eq!(m[1].direction, Some(Direction::Rx));
        assert_eq!(m[1].src.as_deref(), Some("127.0.0.1:5750"));
        assert_eq!(m[1].transport, Transport::Udp);
        assert!(m[1].ts > m[0].ts);
    }

    /// Excerpts users posted: FreeSWITCH's siptrace between its console lines (no closing
    /// dashes), and drachtio's dated log, cut inside a message by the excerpt's end.
    #[test]
    fn public_excerpts_are_read() {
        let fs = messages(&fixture("public/freeswitch-323-ack-siptrace.log"));
        assert_eq!(fs.len(), 1);
        assert_eq!(
            start(&fs[0]),
            "ACK sip:1004@192.168.100.157:5060;gr=00507A45-1D4B-EA11-AF85-787FC359E795 SIP/2.0"
        );
        assert_eq!(Some(fs[0].raw().len()), fs[0].declared_len);
        assert_eq!(fs[0].ts.to_string(), "14:37:05.523");
        let fs = messages(&fixture("public/freeswitch-1144-siptrace.log"));
        // The INVITE the excerpt starts inside is no dump; the second dump's message is not in
        // the excerpt at all.
        let starts: Vec<String> = fs.iter().map(start).collect();
        assert_eq!(starts, ["SIP/2.0 100 Trying"]);
        // The poster masked the addresses (`XX.XX.XX.XXX1`), so the size no longer agrees.
        assert_eq!((fs[0].cut, fs[0].declared_len), (None, Some(352)));
        let dr = messages(&fixture("public/drachtio-siprec-49-udp-invite.log"));
        assert_eq!(dr.len(), 1);
        assert_eq!(start(&dr[0]), "INVITE sip:DRACHTIO:15060 SIP/2.0");
        assert_eq!(dr[0].cut, Some(Cut::InputEdge));
        assert_eq!(dr[0].ts.to_string(), "2021-09-07 07:36:14.784");
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(&fixture("sofia.log")), Some(SPECIFICITY));
        assert_eq!(
            sniff(b"recv 12 bytes from somewhere\nINVITE sip:a@b SIP/2.0\n"),
            None
        );
        assert_eq!(
            sniff(b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n"),
            None
        );
    }

    /// Hostile inputs: a byte count that lies, a 1 MiB line, a dump that never ends.
    #[test]
    fn hostile_inputs_are_bounded() {
        let lies = b"send 99999999999 bytes to udp/[1.2.3.4]:5060 at 10:00:00.000000:\n\
            ---------------------------------------------\nBYE sip:a@b SIP/2.0\nContent-Length: 0\n\n\
            ---------------------------------------------\n";
        let m = messages(lies);
        assert_eq!((m.len(), m[0].cut), (1, None));
        let mut long =
            b"recv 10 bytes from tcp/[::1]:5060 at 10:00:00.000000:\nINVITE sip:a@b SIP/2.0\nX: "
                .to_vec();
        long.extend(std::iter::repeat_n(b'x', 1 << 20));
        long.extend_from_slice(b"\n");
        for _ in 0..10_000 {
            long.extend_from_slice(b"a=line\n");
        }
        let m = messages(&long);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].src.as_deref(), Some("[::1]:5060"));
        assert!(m[0].raw().len() <= super::super::stacklog::MAX_DUMP);
    }
}
