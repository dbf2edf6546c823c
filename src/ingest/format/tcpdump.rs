//! tcpdump's text output with payloads: `-A` (ASCII) and `-X`/`-XX` (hex and ASCII).
//!
//! Owns: recognising tcpdump's packet lines, rebuilding each packet (from the hex columns when
//! there are any, else from the ASCII) and handing it to [`PacketText`]. Does not own: datagram
//! splitting, TCP reassembly and framing (`super::packets`, the capture's payload layer).

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::packets::{PacketText, Proto, TextPacket};
use super::{Format, Parser, Spec, TextCounts, TextParser, TextStart, level};
use crate::event::{Event, MICROS_PER_DAY, Timestamp, days_from_civil};
use crate::ingest::capture::decode::linktype;

pub const FORMAT: Format = Format(&Spec {
    name: "tcpdump",
    summary: "tcpdump -A, -X or -XX output (any time layout, with or without -n), as posted in tickets",
    looks: "a tcpdump trace",
    recognises: "`tcpdump -A`/`-X`/`-XX` output",
    sniff,
    parser: Parser::Text(new),
    packets: true,
    docs: include_str!("tcpdump.md"),
    fixtures: &[
        "derived-text/tcpdump/pjsua-udp.A.txt",
        "derived-text/tcpdump/sipp-tcp-big.nn.tttt.A.txt",
        "derived-text/tcpdump/udp-fragments.nn.X.txt",
        "derived-text/tcpdump/ipv6.tt.XX.txt",
    ],
});

/// A packet's first line: an optional time (default `HH:MM:SS.ffffff`, `-tttt` with the date,
/// `-tt` seconds since 1970), with `-i any` the interface and direction, then `IP` or `IP6`,
/// `source > destination:` and what tcpdump made of the packet.
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?:(\d{4})-(\d\d)-(\d\d) )?(\d\d):(\d\d):(\d\d)\.(\d{1,9}) |(\d{1,12})\.(\d{1,9}) )?(?:\S+ +(?:In|Out|M|P|B) +)?(IP6?) (\S+) > (\S+): ?(.*?)\r?$",
    )
    .expect("static regex")
});

/// A line of `-X`/`-XX`: a tab, the offset, then up to 16 bytes in hex, then the ASCII.
static HEX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\t0x([0-9a-f]{4,8}):").expect("static regex"));

/// Where a SIP message starts in a line of `-A` (after the headers printed as ASCII).
static START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Z][A-Z-]* (?:sips?|tel|urn):\S* SIP/2\.0|SIP/2\.0 \d{3} ")
        .expect("static regex")
});

static LENGTH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"length:? (\d+)").expect("static regex"));
static SEQ: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r", seq (\d+)(?::(\d+))?").expect("static regex"));

fn sniff(head: &[u8]) -> Option<u8> {
    let lines: Vec<&[u8]> = head.split(|&b| b == b'\n').take(4096).collect();
    // A packet line followed by a hex line (-X), or by a SIP start line within its next few
    // lines (-A: the headers printed as ASCII may hold line ends of their own).
    (0..lines.len())
        .any(|i| {
            HEADER.is_match(lines[i])
                && lines[i + 1..lines.len().min(i + 5)]
                    .iter()
                    .enumerate()
                    .any(|(k, l)| (k == 0 && l.starts_with(b"\t0x0000:")) || START.is_match(l))
        })
        .then_some(level::TOOL_TEXT)
}

/// tcpdump without `-A` or `-X`, which prints no payload: refused with advice.
pub fn unreadable(head: &[u8]) -> Option<&'static str> {
    let lines: Vec<&[u8]> = head.split(|&b| b == b'\n').take(64).collect();
    let headers = lines.iter().filter(|l| HEADER.is_match(l)).count();
    (headers >= 2 && headers * 10 >= lines.len().saturating_sub(1) * 9).then_some(
        "this is tcpdump's summary output, which prints no payload; run tcpdump again with \
         `-A` or `-X` (e.g. `tcpdump -nn -tttt -A -r capture.pcap`), or give sipflow the \
         capture itself",
    )
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    Box::new(Tcpdump {
        packets: PacketText::new(start, emit),
        date: start.date,
        current: None,
        offset: 0,
        line: 0,
        bases: HashMap::new(),
    })
}

/// The most bytes kept for one packet's text or hex (tcpdump's default snaplen is 256 KiB);
/// the rest of a longer one is dropped.
const MAX_PACKET: usize = 256 << 10;
/// TCP directions whose first sequence number is remembered (then forgotten all at once).
const BASES: usize = 4096;

struct Tcpdump<'a> {
    packets: PacketText<'a>,
    date: Option<i64>,
    current: Option<Current>,
    offset: usize,
    line: u32,
    /// The first sequence number printed for each TCP direction (tcpdump prints the first
    /// one absolute and the next ones relative to it, unless `-S`).
    bases: HashMap<(String, String), u32>,
}

struct Current {
    packet: TextPacket,
    /// The payload's length, when tcpdump printed it (or its TCP sequence range).
    len: Option<usize>,
    /// `IP6`.
    v6: bool,
    /// The lines after the packet line: with `-A` the text, with `-X` the bytes.
    text: Vec<u8>,
    hex: Vec<u8>,
    /// A hex line was bad or out of order: the frame is dropped.
    bad_hex: bool,
    is_hex: bool,
    /// UDP or TCP with its ports: its `-A` text can be read.
    ascii: bool,
}

impl Tcpdump<'_> {
    fn line(&mut self, line: &[u8], start: usize) {
        self.line = self.line.saturating_add(1);
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        if let Some(caps) = HEADER.captures(bare) {
            self.header(&caps, start, line.len());
            return;
        }
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        cur.packet.span.end = start + line.len();
        if let Some(caps) = HEX.captures(bare) {
            cur.is_hex = true;
            hex_line(cur, &caps[1], &bare[caps.get(0).map_or(0, |m| m.end())..]);
        } else if !cur.is_hex && cur.text.len() + line.len() < MAX_PACKET {
            cur.text.extend_from_slice(line);
        }
    }

    fn header(&mut self, caps: &regex::bytes::Captures<'_>, start: usize, len: usize) {
        let ts = self.time(caps);
        let text =
            |i: usize| String::from_utf8_lossy(caps.get(i).map_or(&b""[..], |m| m.as_bytes()));
        let rest = caps.get(13).map_or(&b""[..], |m| m.as_bytes());
        let v6 = &caps[10] == b"IP6";
        // A later fragment of the datagram before (`-A`: no ports, `ip-proto-17`); with `-X`
        // the decoder reassembles the fragments itself.
        if (rest.starts_with(b"ip-proto-17") || rest.starts_with(b"frag "))
            && let Some(cur) = self.current.as_mut()
            && !cur.is_hex
        {
            cur.packet.ts = ts;
            cur.packet.span.end = start + len;
            // The fragment's own IP header, printed as ASCII, is not the datagram's.
            cur.text.push(FRAGMENT_MARK);
            return;
        }
        self.end_packet();
        let tcp = rest.starts_with(b"Flags [");
        let udp = rest.starts_with(b"UDP") || rest.starts_with(b"SIP");
        // Without ports (a later IP fragment, another protocol) only a hex dump is read: the
        // decoder reads its headers.
        let ports = if tcp || udp {
            split_port(&text(11)).zip(split_port(&text(12)))
        } else {
            None
        };
        let (src, dst) = ports.clone().unwrap_or_default();
        let length = LENGTH
            .captures(rest)
            .and_then(|c| std::str::from_utf8(&c[1]).ok()?.parse::<usize>().ok());
        let proto = if tcp && ports.is_some() {
            let flags = rest
                .get(7..)
                .and_then(|r| r.split(|&b| b == b']').next())
                .unwrap_or(b"");
            let seq = SEQ
                .captures(rest)
                .and_then(|c| std::str::from_utf8(&c[1]).ok()?.parse::<u32>().ok());
            let seq = seq.map(|s| self.absolute(&src, &dst, s));
            Proto::Tcp {
                seq,
                syn: flags.contains(&b'S'),
                fin: flags.contains(&b'F'),
                rst: flags.contains(&b'R'),
            }
        } else {
            Proto::Udp
        };
        self.current = Some(Current {
            packet: TextPacket {
                ts,
                src,
                dst,
                proto,
                payload: Vec::new(),
                line: self.line,
                span: start..start + len,
            },
            len: length,
            v6,
            text: Vec::new(),
            hex: Vec::new(),
            bad_hex: false,
            is_hex: false,
            ascii: ports.is_some(),
        });
    }

    /// tcpdump prints a direction's first sequence number in full and the next relative to
    /// it (unless `-S`): the full number, either way.
    fn absolute(&mut self, src: &(String, String), dst: &(String, String), seq: u32) -> u32 {
        if self.bases.len() >= BASES {
            self.bases.clear();
        }
        let key = (
            format!("{}.{}", src.0, src.1),
            format!("{}.{}", dst.0, dst.1),
        );
        match self.bases.get(&key) {
            None => {
                self.bases.insert(key, seq);
                seq
            }
            // Printed in full (`-S`, or past the first): at or just above the first.
            Some(&base) if seq.wrapping_sub(base) < 1 << 31 && seq >= base => seq,
            Some(&base) => base.wrapping_add(seq),
        }
    }

    fn time(&self, caps: &regex::bytes::Captures<'_>) -> Timestamp {
        let num = |i: usize| {
            caps.get(i)
                .and_then(|m| std::str::from_utf8(m.as_bytes()).ok()?.parse::<i64>().ok())
        };
        let frac = |i: usize| {
            let t = caps.get(i)?.as_bytes();
            let mut v: i64 = std::str::from_utf8(t.get(..t.len().min(6))?)
                .ok()?
                .parse()
                .ok()?;
            for _ in t.len()..6 {
                v *= 10;
            }
            Some(v)
        };
        if let (Some(s), Some(f)) = (num(8), frac(9)) {
            return Timestamp {
                micros: s.saturating_mul(1_000_000).saturating_add(f),
                dated: true,
                micro: true,
                unknown: false,
            };
        }
        let (Some(h), Some(m), Some(s), Some(f)) = (num(4), num(5), num(6), frac(7)) else {
            // `-t`: no times; the text's order is kept.
            return Timestamp::UNKNOWN;
        };
        let day = match (num(1), num(2), num(3)) {
            (Some(y), Some(mo), Some(d)) => Some(days_from_civil(
                y,
                u32::try_from(mo).unwrap_or(1),
                u32::try_from(d).unwrap_or(1),
            )),
            _ => self.date,
        };
        Timestamp {
            micros: day.unwrap_or(0) * MICROS_PER_DAY + ((h * 60 + m) * 60 + s) * 1_000_000 + f,
            dated: day.is_some(),
            micro: true,
            unknown: false,
        }
    }

    fn end_packet(&mut self) {
        let Some(mut cur) = self.current.take() else {
            return;
        };
        if cur.is_hex {
            if cur.bad_hex || cur.hex.is_empty() {
                return;
            }
            let link = if cur
                .hex
                .first()
                .is_some_and(|b| b >> 4 == if cur.v6 { 6 } else { 4 })
                && super::packets::ip_fits(&cur.hex)
            {
                linktype::RAW
            } else {
                match super::packets::guess_linktype(&cur.hex) {
                    Some(l) => l,
                    None => return,
                }
            };
            let len = u32::try_from(cur.hex.len()).unwrap_or(u32::MAX);
            self.packets.push_frame(
                cur.packet.ts,
                link,
                &cur.hex,
                len,
                cur.packet.line,
                cur.packet.span,
            );
            return;
        }
        if !cur.ascii {
            return;
        }
        cur.packet.payload = ascii_payload(&cur.text, cur.len, cur.v6);
        if cur.len.is_none() && matches!(cur.packet.proto, Proto::Udp) {
            drop_trailer(&mut cur.packet.payload);
        }
        if cur.packet.payload.is_empty() && matches!(cur.packet.proto, Proto::Udp) {
            return;
        }
        self.packets.push(cur.packet);
    }

    /// The input paused (live): the packet being read is handed on if what was printed of it
    /// is whole (tcpdump prints a packet at once): a `-X` frame whose IP packet is all there;
    /// a `-A` payload of the length tcpdump printed, which for a datagram must be whole SIP
    /// messages besides (a later fragment of it would have made them short of their
    /// Content-Length). A TCP segment goes on to the reassembly, which hands on only whole
    /// messages.
    fn end_at_pause(&mut self) {
        let Some(cur) = self.current.as_ref() else {
            return;
        };
        let whole = if cur.is_hex {
            !cur.bad_hex && frame_fits(&cur.hex, cur.v6)
        } else {
            // A TCP segment's `-A` text waits for the next packet line: where its payload
            // starts in the text is not sure until then (the pause tests found it).
            cur.ascii
                && cur.packet.proto == Proto::Udp
                && whole_printed(&cur.text, cur.len, cur.v6, true)
        };
        if whole {
            self.end_packet();
        }
    }
}

/// Whether a `-X` frame's bytes hold a whole IP packet (at the start, or after a link layer
/// told by where one fits).
fn frame_fits(hex: &[u8], v6: bool) -> bool {
    let ip = hex
        .first()
        .is_some_and(|b| b >> 4 == if v6 { 6 } else { 4 })
        && super::packets::ip_fits(hex);
    ip || super::packets::guess_linktype(hex).is_some()
}

/// Whether the `-A` text of a packet whose payload length tcpdump printed holds all of it
/// (and, for a datagram, it is whole SIP messages).
fn whole_printed(text: &[u8], len: Option<usize>, v6: bool, datagram: bool) -> bool {
    let Some(n) = len.filter(|&n| n > 0) else {
        return false;
    };
    let payload = ascii_payload(text, len, v6);
    payload.len() == n && (!datagram || super::packets::whole_messages(&payload))
}

/// A `-A` datagram printed without its length: dots (bytes that do not print) after its whole
/// SIP messages, with nothing but line ends among them, are bytes a NIC or switch appended to
/// the frame (a trailer), which `-A` prints past the IP datagram. No SIP text is made of bytes
/// that do not print, so they are not taken for a body longer than its Content-Length.
fn drop_trailer(payload: &mut Vec<u8>) {
    let Some(end) = super::packets::whole_messages_end(payload) else {
        return;
    };
    let tail = &payload[end..];
    if tail.contains(&b'.') && tail.iter().all(|&b| matches!(b, b'.' | b'\r' | b'\n')) {
        payload.truncate(end);
    }
}

/// Stands for a later fragment's start in the `-A` text.
const FRAGMENT_MARK: u8 = 0;

/// One `-X` line: its bytes are appended if its offset is where the packet's bytes are.
fn hex_line(cur: &mut Current, offset: &[u8], rest: &[u8]) {
    let at = std::str::from_utf8(offset)
        .ok()
        .and_then(|o| usize::from_str_radix(o, 16).ok());
    if at != Some(cur.hex.len()) || cur.hex.len() >= MAX_PACKET {
        cur.bad_hex = true;
        return;
    }
    // The hex column: a space and eight groups of ` xxxx` after the colon, then two spaces
    // and the ASCII.
    let column = &rest[..rest.len().min(41)];
    for group in column.split(|&b| b == b' ').filter(|g| !g.is_empty()) {
        if group.len() % 2 != 0 || group.len() > 4 {
            cur.bad_hex = true;
            return;
        }
        for pair in group.chunks(2) {
            match std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
            {
                Some(b) => cur.hex.push(b),
                None => {
                    cur.bad_hex = true;
                    return;
                }
            }
        }
    }
}

/// The payload of a `-A` packet: tcpdump prints the IP and transport headers as ASCII before
/// it, drops each CR before an LF and every other non-printable byte as `.`, and ends the
/// packet with a line end of its own. The payload is the last `len` bytes once each LF is CR LF
/// again; without a length, from the SIP start line on.
fn ascii_payload(text: &[u8], len: Option<usize>, v6: bool) -> Vec<u8> {
    let mut restored = Vec::with_capacity(text.len() + text.len() / 16);
    for (i, part) in text.split(|&b| b == FRAGMENT_MARK).enumerate() {
        // Each packet's text ends with tcpdump's own line end; a later fragment's starts with
        // its own IP header (and, for IPv6, the fragment header).
        let part = part.strip_suffix(b"\n").unwrap_or(part);
        let skip = match i {
            0 => 0,
            _ if v6 => 48,
            _ => 20,
        };
        for &b in part.get(skip..).unwrap_or(b"") {
            if b == b'\n' {
                restored.push(b'\r');
            }
            restored.push(b);
        }
    }
    match len {
        Some(0) => Vec::new(),
        Some(n) if n <= restored.len() => restored[restored.len() - n..].to_vec(),
        // The headers printed as ASCII come first (their bytes may print as line ends).
        _ => match START.find(&restored) {
            Some(m) => restored[m.start()..].to_vec(),
            None => Vec::new(),
        },
    }
}

/// `host.port` as tcpdump prints it (the port after the last dot; IPv6 addresses have none).
fn split_port(text: &str) -> Option<(String, String)> {
    let (host, port) = text.rsplit_once('.')?;
    (!host.is_empty() && !port.is_empty()).then(|| (host.to_string(), port.to_string()))
}

impl TextParser for Tcpdump<'_> {
    fn feed(&mut self, piece: &[u8]) {
        for (line, at) in super::lines_at(piece, &mut self.offset) {
            self.line(line, at);
        }
    }

    fn pause(&mut self) {
        self.end_at_pause();
        self.packets.pause();
    }

    fn finish(mut self: Box<Self>, rest: &[u8]) -> TextCounts {
        self.feed(rest);
        self.end_packet();
        self.packets.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Cut, Transport};
    use crate::ingest::{IngestOptions, InputError, ingest_bytes};

    fn fixture(name: &str) -> Vec<u8> {
        crate::testutil::fixture(&format!("derived-text/tcpdump/{name}"))
    }

    fn messages(text: &[u8]) -> Vec<crate::event::MessageEvent> {
        crate::testutil::messages_as(FORMAT, text)
    }

    /// `-A` gives the CRs back and the addresses as printed (names without `-n`); `-X` gives
    /// the capture's bytes, addresses and times, IP fragments reassembled; `-tt -XX` reads the
    /// link layer and epoch times; TCP segments become one message.
    #[test]
    fn every_layout_gives_the_messages() {
        let a = messages(&fixture("pjsua-udp.A.txt"));
        assert_eq!(a.len(), 7);
        assert!(
            a[0].raw()
                .starts_with(b"INVITE sip:callee@127.0.0.1:5410 SIP/2.0\r\nVia: ")
        );
        assert!(
            a.iter()
                .all(|m| m.raw().ends_with(b"\r\n") && !m.truncated())
        );
        assert_eq!(a[0].src.as_deref(), Some("localhost:5411"));
        assert!(!a[0].ts.dated);

        let x = messages(&fixture("udp-fragments.nn.X.txt"));
        assert_eq!(x.len(), 35);
        assert!(
            x.iter().any(|m| m.raw().len() > 3000),
            "a reassembled datagram"
        );
        assert_eq!(x[0].src.as_deref(), Some("10.99.4.1:5441"));

        let xx = messages(&fixture("ipv6.tt.XX.txt"));
        assert_eq!(xx[0].src.as_deref(), Some("[::1]:5451"));
        assert_eq!(xx[0].ts.to_string(), "2026-11-21 06:11:25.405");

        let tcp = messages(&fixture("sipp-tcp-big.nn.tttt.A.txt"));
        assert_eq!(tcp[0].transport, Transport::Tcp);
        assert!(tcp[0].raw().len() > 948, "{}", tcp[0].raw().len());
        assert!(tcp.iter().all(|m| !m.truncated()));
        assert_eq!(tcp[0].ts.to_string(), "2026-11-21 06:11:16.844");
    }

    #[test]
    fn the_summary_output_is_refused_with_advice() {
        let text = fixture("pjsua-udp.summary.txt");
        match ingest_bytes("summary.txt", text, &IngestOptions::default()) {
            Err(InputError::Unreadable { reason, .. }) => assert!(reason.contains("-A")),
            other => panic!("{:?}", other.map(|(info, ..)| info)),
        }
    }

    /// Hostile and cut inputs: a 1 MiB line (kept bounded), bad and out-of-order hex columns
    /// (the frame is dropped, nothing else), a TCP message the input ends inside (cut at the
    /// input's edge), packet lines with nothing after them.
    #[test]
    fn hostile_and_cut_inputs_are_bounded() {
        let mut text = b"10:00:00.000000 IP 10.0.0.1.5060 > 10.0.0.2.5060: UDP, length 2000000\n\
              E....INVITE sip:a@b SIP/2.0\nX: "
            .to_vec();
        text.extend(std::iter::repeat_n(b'a', 1 << 20));
        text.extend_from_slice(b"\n\n");
        let m = messages(&text);
        assert!(m.len() <= 1);
        assert!(m.iter().all(|m| m.raw().len() <= MAX_PACKET));

        let bad_hex = b"10:00:00.000000 IP 10.0.0.1.5060 > 10.0.0.2.5060: UDP, length 4\n\
            \t0x0000:  45zz 0020 0000 0000 4011 0000 0a00 0001  E...\n\
            10:00:00.000001 IP 10.0.0.1.5060 > 10.0.0.2.5060: UDP, length 4\n\
            \t0x0010:  4500 0020 0000 0000 4011 0000 0a00 0001  E...\n\
            \t0x0000:  4500\n";
        assert!(messages(bad_hex).is_empty());

        let never_ends = b"10:00:00.000000 IP 10.0.0.1.5060 > 10.0.0.2.5060: Flags [P.], seq 1:60, ack 1, length 59\n\
            E..(....INVITE sip:a@b SIP/2.0\nCall-ID: x\nContent-Length: 500\n\n\n";
        let m = messages(never_ends);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].cut, Some(Cut::InputEdge));

        let lines_only = b"10:00:00.000000 IP 10.0.0.1.5060 > 10.0.0.2.5060: UDP, length 4\n\
            10:00:00.000000 IP6 ::1.1 > ::1.2: Flags [S], seq 5, length 0\n\
            10:00:00.000000 IP 1.2.3.4 > 5.6.7.8: ICMP echo request\n";
        assert!(messages(lines_only).is_empty());
    }
}
