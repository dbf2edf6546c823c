//! baresip's SIP trace (`baresip -s`, or `sip_trace yes`).

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::stacklog::{
    Clock, Driver, DumpHeader, Dumps, End, LineReader, endpoint, time_of_day, transport,
};
use super::{Format, Parser, Spec, TextParser, TextStart, level};
use crate::event::Event;

pub const FORMAT: Format = Format(&Spec {
    name: "baresip",
    summary: "baresip's SIP trace (baresip -s): `#`, then `UDP src -> dst` and the message",
    looks: "a baresip SIP trace",
    recognises: "baresip SIP trace blocks (`#` then `UDP addr:port -> addr:port`)",
    sniff,
    parser: Parser::Text(new),
    packets: false,
    docs: include_str!("baresip.md"),
    fixtures: &[
        "stacks/baresip.log",
        "stacks/public/baresip-3033-tcp-trace.log",
        "stacks/public/baresip-2073-reinvite-trace.log",
    ],
});

/// The line that opens a trace block: `#`, in baresip's cyan (`ESC[36;1m`) when printed to a
/// terminal or a file, perhaps after a line of baresip's that ended in a colour reset without a
/// line end; baresip 2 and later put the time before it (`15:50:23.709#`).
static HASH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|\x1b\[[0-9;]*m)(?:(\d\d):(\d\d):(\d\d)\.(\d{1,6}))?#\r?\n?$")
        .expect("static regex")
});

/// The line after it: the time (baresip 1.1), the transport, the sender and the receiver.
static ADDRS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(\d\d):(\d\d):(\d\d)\.(\d{1,6}) )?(UDP|TCP|TLS|WS|WSS) (\[[0-9A-Fa-f:.]+\]|[0-9.]+):(\d{1,5}) -> (\[[0-9A-Fa-f:.]+\]|[0-9.]+):(\d{1,5})\r?\n?$",
    )
    .expect("static regex")
});

/// The colour reset that ends a block (right after the message's last byte).
const RESET: &[u8] = b"\x1b[;m";

fn sniff(head: &[u8]) -> Option<u8> {
    let mut lines = head.split_inclusive(|&b| b == b'\n').take(20_000);
    let mut prev_hash = false;
    for line in lines.by_ref() {
        if prev_hash && ADDRS.is_match(line) {
            return Some(level::STACK_LOG);
        }
        prev_hash = HASH.is_match(line);
    }
    None
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    let reader = Baresip {
        clock: Clock::new(start.date),
        hash: None,
    };
    Box::new(Driver::new(reader, start.input, emit))
}

struct Baresip {
    clock: Clock,
    /// The `#` line just read: its number, its start and the time it shows.
    hash: Option<(u32, usize, Option<i64>)>,
}

impl LineReader for Baresip {
    fn line(&mut self, dumps: &mut Dumps<'_>, line: &[u8], no: u32, start: usize) {
        let end = start + line.len();
        if let Some((hash_no, hash_start, hash_time)) = self.hash.take()
            && let Some(c) = ADDRS.captures(line)
        {
            let get = |i: usize| c.get(i).map_or(&b""[..], |m| m.as_bytes());
            let ts = time_of_day(get(1), get(2), get(3), get(4))
                .or(hash_time)
                .map(|t| self.clock.stamp(None, t));
            let header = DumpHeader {
                ts,
                direction: None,
                transport: transport(get(5)),
                src: Some(endpoint(get(6), get(7))),
                dst: Some(endpoint(get(8), get(9))),
                declared_len: None,
            };
            dumps.start(header, hash_no, hash_start..end);
            return;
        }
        if let Some(c) = HASH.captures(line) {
            dumps.end(End::Record);
            let get = |i: usize| c.get(i).map_or(&b""[..], |m| m.as_bytes());
            let time = time_of_day(get(1), get(2), get(3), get(4));
            self.hash = Some((no, start, time));
            return;
        }
        if !dumps.is_open() {
            return;
        }
        if let Some(at) = memchr::memmem::find(line, RESET) {
            dumps.push(&line[..at], start + at);
            dumps.end(End::Marker);
            return;
        }
        // Without its colours (a paste), the block ends with the message: a line that is
        // not blank after a whole message is baresip's own.
        dumps.push_or_end(line, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Cut, Transport};
    use crate::testutil::start_line;

    fn messages(text: &[u8]) -> Vec<crate::event::MessageEvent> {
        crate::testutil::messages_as(FORMAT, text)
    }

    fn fixture() -> Vec<u8> {
        crate::testutil::fixture("stacks/baresip.log")
    }

    /// The recorded call: six messages, byte for byte as sent (CRLF, framed by
    /// Content-Length), with baresip's addresses.
    #[test]
    fn the_recorded_trace_gives_every_message() {
        let m = messages(&fixture());
        let starts: Vec<String> = m.iter().map(start_line).collect();
        assert_eq!(m.len(), 6, "{starts:?}");
        assert!(
            starts[0].starts_with("INVITE sip:callee@127.0.0.1:5752"),
            "{starts:?}"
        );
        assert!(starts[5].starts_with("SIP/2.0 200 OK"), "{starts:?}");
        assert!(
            m.iter()
                .all(|m| m.cut.is_none() && m.transport == Transport::Udp)
        );
        assert_eq!(m[0].src.as_deref(), Some("127.0.0.1:5751"));
        assert_eq!(m[0].dst.as_deref(), Some("127.0.0.1:5750"));
        let invite = m[0].raw();
        assert!(
            invite.ends_with(b"a=ptime:20\r\n"),
            "{}",
            String::from_utf8_lossy(invite)
        );
    }

    /// Without its colours (as pasted), with a time (newer baresip), IPv6, and cut by the end.
    #[test]
    fn a_paste_without_colours_and_a_cut_block() {
        let text = b"call: connecting\n#\n10:20:30.123 UDP [::1]:5060 -> [::1]:5070\n\
            BYE sip:a@b SIP/2.0\nCall-ID: x\nCSeq: 2 BYE\nContent-Length: 0\n\n\
            call: hangup\n#\nTCP 10.0.0.1:5060 -> 10.0.0.2:5060\nINVITE sip:a@b SIP/2.0\n\
            Content-Length: 100\n\nv=0\n";
        let m = messages(text);
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0].raw(),
            b"BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
        );
        assert_eq!(m[0].src.as_deref(), Some("[::1]:5060"));
        assert_eq!(m[0].ts.to_string(), "10:20:30.123");
        assert_eq!(m[1].cut, Some(Cut::InputEdge));
        assert_eq!(m[1].transport, Transport::Tcp);
    }

    /// Traces of baresip 2 and 3 that its maintainer posted in baresip's issues: the time is
    /// on the `#` line (`15:50:23.709#`), console lines come between blocks, and each excerpt
    /// ends inside a message (the input's edge).
    #[test]
    fn public_excerpts_are_read() {
        let public = |name: &str| {
            messages(&crate::testutil::fixture(&format!(
                "stacks/public/baresip-{name}"
            )))
        };
        let m = public("3033-tcp-trace.log");
        assert_eq!(m.len(), 2);
        assert!(start_line(&m[0]).starts_with("INVITE sip:test-0x55d86e70be70@"));
        assert_eq!(m[0].ts.to_string(), "15:50:23.709");
        assert_eq!(m[0].transport, Transport::Tcp);
        assert_eq!(m[0].src.as_deref(), Some("192.168.187.215:5060"));
        assert_eq!(m[0].cut, None, "framed by its Content-Length");
        assert_eq!(start_line(&m[1]), "SIP/2.0 180 Ringing");
        assert_eq!(m[1].cut, Some(Cut::InputEdge));
        let m = public("2073-reinvite-trace.log");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].ts.to_string(), "16:33:36.638");
        assert_eq!(m[0].dst.as_deref(), Some("192.168.238.215:5060"));
        assert_eq!(m[0].cut, Some(Cut::InputEdge), "ends inside its body");
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(&fixture()), Some(level::STACK_LOG));
        assert_eq!(
            sniff(b"#\nnot an address line\nINVITE sip:a@b SIP/2.0\n"),
            None
        );
        assert_eq!(sniff(b"# comment\nUDP 1.2.3.4:5 -> 1.2.3.4:6\n"), None);
    }

    /// Hostile inputs: a 1 MiB line inside a block, blocks that never end, no message at all.
    #[test]
    fn hostile_inputs_are_bounded() {
        let mut text = b"#\nUDP 1.1.1.1:1 -> 2.2.2.2:2\nINVITE sip:a@b SIP/2.0\nX: ".to_vec();
        text.extend(std::iter::repeat_n(b'a', 1 << 20));
        text.extend_from_slice(b"\n#\nUDP 1.1.1.1:1 -> 2.2.2.2:2\n#\n#\n\x1b[;m\n");
        let m = messages(&text);
        assert_eq!(m.len(), 1);
        assert!(m[0].raw().len() <= super::super::stacklog::MAX_DUMP);
        assert!(messages(b"#\nUDP 1.1.1.1:1 -> 2.2.2.2:2\n\x00\xff\n").len() <= 1);
    }
}
