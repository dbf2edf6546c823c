//! ngrep's `-W byline` output.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::packets::{PacketText, Proto, TextPacket};
use super::{Format, Parser, Spec, TextCounts, TextParser, TextStart, level};
use crate::event::{Event, Timestamp, days_from_civil};

pub const FORMAT: Format = Format(&Spec {
    name: "ngrep",
    summary: "ngrep -W byline output (with or without -t/-T times, -q, IPv6) and sipgrep's, as \
              posted in tickets",
    looks: "an ngrep trace",
    recognises: "`ngrep -W byline` or sipgrep output",
    sniff,
    parser: Parser::Text(new),
    packets: true,
    docs: include_str!("ngrep.md"),
    fixtures: &[
        "derived-text/ngrep/pjsua-udp.byline.txt",
        "derived-text/ngrep/sipp-tcp-big.t.byline.txt",
        "derived-text/ngrep/ipv6.T.byline.txt",
        "derived-text/ngrep/register-no-listener.t.byline.txt",
        "derived-text/ngrep/pjsua-udp.noq.byline.txt",
        "derived-text/sipgrep/pjsua-udp.txt",
        "derived-text/sipgrep/sipp-tcp-big.C.txt",
        "derived-text/sipgrep/stacks-call.txt",
        "stacks/public/ngrep-kamailio-2007-invite.txt",
    ],
});

/// A packet's header line: `U 127.0.0.1:5411 -> 127.0.0.1:5410 #1`, with `-t` a date and time
/// after the letter, with `-T` a `+seconds` delta; TCP flags in brackets; the `#N` packet
/// count; hash marks (`#`) before it when `-q` was not given.
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^#*([UT]) (?:(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,9}) |\+(\d+)\.(\d{1,9}) )?(\S+):([0-9A-Za-z-]+) -> (\S+):([0-9A-Za-z-]+)(?: \[([A-Z]*)\])?(?: #\d+)?\r?$",
    )
    .expect("static regex")
});

/// A later fragment of a datagram ngrep did not reassemble: `U [time] 10.0.0.1 -> 10.0.0.2
/// +55649@552:552` (IP id, offset, length); its payload continues the packet before.
static FRAGMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^#*[UT] (?:(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,9}) |\+(\d+)\.(\d{1,9}) )?\S+ -> \S+ \+\d+@\d+:\d+(?: #\d+)?\r?$",
    )
    .expect("static regex")
});

/// A packet of another protocol (`I` ICMP with its `type:code`, `?` unknown): it ends the
/// packet before it, and its payload is skipped (an ICMP error quotes the datagram that caused
/// it: that is no message sent, as the capture reader says too).
static OTHER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^#*[A-Z?] (?:\S+ \S+ |\+\S+ )?\S+ -> \S+(?: \d+:\d+)?(?: \[[A-Z]*\])?(?: #\d+)?\r?$",
    )
    .expect("static regex")
});

/// A colour of sipgrep's (`ESC[1m`, `ESC[31m`, `ESC[0m`).
static COLOUR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\x1b\[[0-9;]{0,16}m").expect("static regex"));

/// What ngrep prints before the packets.
static PREAMBLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^(?:interface|input|filter|match): ").expect("static regex"));

/// ngrep's default layout (`-W normal`): the payload on one line after two spaces, CR and LF
/// both printed as `.`.
static SINGLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^#*[UT] [^\n]*-> [^\n]*\n  (?:[A-Z]+ sip:|SIP/2\.0 \d{3} )[^\n]*SIP/2\.0\.\.")
        .expect("static regex")
});

fn sniff(head: &[u8]) -> Option<u8> {
    let headers = head
        .split(|&b| b == b'\n')
        .take(4096)
        .filter(|l| HEADER.is_match(l))
        .count();
    let preamble = PREAMBLE.is_match(head);
    // A header and then a SIP start line on its own line (byline), or two headers.
    let sip_after = head
        .split(|&b| b == b'\n')
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| HEADER.is_match(w[0]) && crate::sip::is_start_line(strip_cr_dot(w[1])));
    ((sip_after || (preamble && headers > 0) || headers >= 2) && !SINGLE.is_match(head))
        .then_some(level::TOOL_TEXT)
}

/// ngrep's default single-line layout, which loses where lines end: refused with advice.
pub fn unreadable(head: &[u8]) -> Option<&'static str> {
    SINGLE.is_match(head).then_some(
        "ngrep's single-line layout (without -W byline) prints CR and LF both as `.`, so the \
         messages cannot be rebuilt; run ngrep again with `-W byline` (e.g. \
         `ngrep -q -t -W byline -I capture.pcap`), or give sipflow the capture itself",
    )
}

fn strip_cr_dot(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_suffix(b".").unwrap_or(line)
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    Box::new(Ngrep {
        packets: PacketText::new(start, emit),
        date: start.date,
        current: None,
        offset: 0,
        line: 0,
        clock: None,
    })
}

/// The longest payload kept for one packet (ngrep prints at most its snaplen, 64 KiB by
/// default); the rest of a longer one is dropped and the packet marked as such.
const MAX_PAYLOAD: usize = 256 << 10;

struct Ngrep<'a> {
    packets: PacketText<'a>,
    date: Option<i64>,
    /// The packet being read.
    current: Option<Current>,
    /// Bytes and lines read so far.
    offset: usize,
    line: u32,
    /// With `-T`, the time of the last packet (deltas add up from the first, at 0).
    clock: Option<i64>,
}

struct Current {
    packet: TextPacket,
    /// The payload's lines as printed, each with its `\n`.
    text: Vec<u8>,
    /// Blank lines (and hash-mark lines) seen after the last payload line.
    blank: usize,
}

impl Ngrep<'_> {
    fn line(&mut self, line: &[u8], start: usize) {
        self.line = self.line.saturating_add(1);
        let len = line.len();
        // sipgrep colours the start line and a few header values, even into a file; ngrep
        // prints an ESC byte of a payload as `.`, so every ESC here is a colour.
        let plain = if line.contains(&0x1b) {
            COLOUR.replace_all(line, &b""[..])
        } else {
            std::borrow::Cow::Borrowed(line)
        };
        let bare = plain.strip_suffix(b"\n").unwrap_or(&plain);
        if let Some(caps) = HEADER.captures(bare) {
            self.end_packet(true);
            let Some(packet) = self.header(&caps, start, len) else {
                return;
            };
            self.current = Some(Current {
                packet,
                text: Vec::new(),
                blank: 0,
            });
            return;
        }
        if let Some(caps) = FRAGMENT.captures(bare) {
            self.continue_packet(&caps);
            return;
        }
        if OTHER.is_match(bare) {
            self.end_packet(true);
            return;
        }
        // sipgrep prints `NOT PARSED!` after a blank line for a packet it did not take for
        // SIP (without a header line of its own, unless -x): no payload of the packet before.
        if bare.strip_suffix(b"\r").unwrap_or(bare) == b"NOT PARSED!"
            && self.current.as_ref().is_some_and(|c| c.blank > 0)
        {
            // One empty line before it, as before the end of the input.
            self.end_packet(false);
            return;
        }
        // Without -q, ngrep ends its output with `exit` after a blank line: the end of the
        // last packet, as the end of the input is with -q.
        if bare.strip_suffix(b"\r").unwrap_or(bare) == b"exit"
            && self.current.as_ref().is_some_and(|c| c.blank > 0)
        {
            self.end_packet(false);
            return;
        }
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        let content = bare.strip_suffix(b"\r").unwrap_or(bare);
        if content.is_empty() || content.iter().all(|&b| b == b'#') {
            cur.blank += 1;
            return;
        }
        // The packet's text ends with its last payload line (the blank lines after it are
        // ngrep's, and may come after a pause).
        cur.packet.span.end = start + len;
        cur.text.extend(std::iter::repeat_n(b'\n', cur.blank));
        cur.blank = 0;
        if cur.text.len() + content.len() < MAX_PAYLOAD {
            cur.text.extend_from_slice(content);
            cur.text.push(b'\n');
        }
    }

    /// A later fragment: its payload goes on from the packet's (ngrep's two line ends between
    /// them are not the payload's), and the datagram's time is its last fragment's, as a
    /// capture gives it.
    fn continue_packet(&mut self, caps: &regex::bytes::Captures<'_>) {
        let ts = self.time(caps, 1);
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        let own = (1 + cur.blank).saturating_sub(2);
        if own == 0 && cur.text.last() == Some(&b'\n') {
            cur.text.pop();
        }
        cur.text
            .extend(std::iter::repeat_n(b'\n', own.saturating_sub(1)));
        cur.blank = 0;
        if let Some(ts) = ts {
            cur.packet.ts = ts;
        }
    }

    /// The time in a header whose date is at capture group `at` (the `-T` delta at `at + 7`).
    fn time(&mut self, caps: &regex::bytes::Captures<'_>, at: usize) -> Option<Timestamp> {
        let text = |i: usize| caps.get(i).map(|m| String::from_utf8_lossy(m.as_bytes()));
        let num = |i: usize| text(i).and_then(|t| t.parse::<i64>().ok());
        let micros = |i: usize| {
            let t = text(i)?;
            let mut v: i64 = t.get(..t.len().min(6))?.parse().ok()?;
            for _ in t.len()..6 {
                v *= 10;
            }
            Some(v)
        };
        if let (Some(y), Some(mo), Some(d)) = (num(at), num(at + 1), num(at + 2)) {
            let day = self.date.unwrap_or_else(|| {
                days_from_civil(
                    y,
                    u32::try_from(mo).unwrap_or(1),
                    u32::try_from(d).unwrap_or(1),
                )
            });
            let secs = (num(at + 3)? * 60 + num(at + 4)?) * 60 + num(at + 5)?;
            return Some(Timestamp {
                micros: day * crate::event::MICROS_PER_DAY + secs * 1_000_000 + micros(at + 6)?,
                dated: true,
                micro: true,
                unknown: false,
            });
        }
        if let Some(s) = num(at + 7) {
            // `-T`: the first delta is from nothing (ngrep prints nonsense there).
            let delta = s.saturating_mul(1_000_000).saturating_add(micros(at + 8)?);
            let now = self.clock.map_or(0, |c| c.saturating_add(delta));
            self.clock = Some(now);
            return Some(Timestamp {
                micros: self.date.unwrap_or(0) * crate::event::MICROS_PER_DAY + now,
                dated: self.date.is_some(),
                micro: true,
                unknown: false,
            });
        }
        None
    }

    fn header(
        &mut self,
        caps: &regex::bytes::Captures<'_>,
        start: usize,
        len: usize,
    ) -> Option<TextPacket> {
        let ts = self.time(caps, 2).unwrap_or(Timestamp::UNKNOWN);
        let text = |i: usize| caps.get(i).map(|m| String::from_utf8_lossy(m.as_bytes()));
        let flags = caps.get(15).map(|m| m.as_bytes().to_vec());
        let proto = if &caps[1] == b"T" {
            let has = |c: u8| flags.as_ref().is_some_and(|f| f.contains(&c));
            Proto::Tcp {
                seq: None,
                syn: has(b'S'),
                fin: has(b'F'),
                rst: has(b'R'),
            }
        } else {
            Proto::Udp
        };
        Some(TextPacket {
            ts,
            src: (text(11)?.into_owned(), text(12)?.into_owned()),
            dst: (text(13)?.into_owned(), text(14)?.into_owned()),
            proto,
            payload: Vec::new(),
            line: self.line,
            span: start..start + len,
        })
    }

    /// Rebuilds the packet's payload and hands it on. ngrep ends a payload with a line end of
    /// its own, and starts the next header with another (`header`: a header follows, not the
    /// end of the input): the line ends beyond those are the payload's.
    fn end_packet(&mut self, header: bool) {
        let Some(cur) = self.current.take() else {
            return;
        };
        let ngrep_own = 1 + usize::from(header);
        let own = (1 + cur.blank).saturating_sub(ngrep_own);
        let mut packet = cur.packet;
        packet.payload = payload(&cur.text, own);
        self.packets.push(packet);
    }

    /// The input paused (live): the packet being read is handed on if its text has ended as
    /// ngrep ends a packet (a blank line after it: ngrep prints a packet at once, and the
    /// blank line before the next header comes with that header), taking its payload as the
    /// next header would end it, when it is a datagram of whole SIP messages (a later
    /// fragment of it, ngrep's `+id@offset` line, would have made them short of their
    /// Content-Length). A TCP segment waits for the next header (see below).
    fn end_at_pause(&mut self) {
        let Some(cur) = self.current.as_ref().filter(|c| c.blank > 0) else {
            return;
        };
        // A TCP segment waits for the next header: one cut inside a line is followed by one
        // blank line only, which may be all of them, so its end is not sure at a pause.
        if cur.packet.proto != Proto::Udp || !cur.text.ends_with(b".\n") {
            return;
        }
        let own = cur.blank.max(2) - 1;
        let payload = payload(&cur.text, own);
        if !super::packets::whole_messages(&payload) {
            return;
        }
        if let Some(cur) = self.current.take() {
            let mut packet = cur.packet;
            packet.payload = payload;
            self.packets.push(packet);
        }
    }
}

/// A packet's payload from its lines as ngrep printed them (`text`, each with its `\n`, the
/// blank lines after the last left out), `own` of the line ends after its last line being the
/// payload's (0: that line had no line end of its own). A `.` ending a line is the CR ngrep
/// cannot print.
fn payload(text: &[u8], own: usize) -> Vec<u8> {
    let mut payload = Vec::with_capacity(text.len());
    for line in text.split_inclusive(|&b| b == b'\n') {
        match line.strip_suffix(b".\n") {
            Some(content) => {
                payload.extend_from_slice(content);
                payload.extend_from_slice(b"\r\n");
            }
            None => payload.extend_from_slice(line),
        }
    }
    if own == 0 && payload.last() == Some(&b'\n') {
        // The payload's last line had no line end of its own (a TCP segment cut inside a
        // line): its `.` was a `.`, not a CR.
        payload.pop();
        if payload.last() == Some(&b'\r') {
            payload.pop();
            payload.push(b'.');
        }
    }
    payload.extend(std::iter::repeat_n(b'\n', own.saturating_sub(1)));
    payload
}

impl TextParser for Ngrep<'_> {
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
        self.end_packet(false);
        self.packets.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Cut;
    use crate::ingest::{IngestOptions, InputError, ingest_bytes};

    fn fixture(name: &str) -> Vec<u8> {
        crate::testutil::fixture(&format!("derived-text/ngrep/{name}"))
    }

    fn messages(text: &[u8]) -> Vec<crate::event::MessageEvent> {
        crate::testutil::messages_as(FORMAT, text)
    }

    /// An excerpt a user posted in Kamailio's issues (`ngrep -d any -qt -W byline`, after the
    /// shell prompt and ngrep's `interface:`/`filter:`/`match:` lines), ending inside the
    /// INVITE's body: one message, with the poster's times and addresses, cut by the input's
    /// edge (not a short datagram: `content-length-mismatch` says nothing).
    #[test]
    fn public_excerpt_is_read() {
        let m = messages(&crate::testutil::fixture(
            "stacks/public/ngrep-kamailio-2007-invite.txt",
        ));
        assert_eq!(m.len(), 1);
        assert!(
            m[0].raw()
                .starts_with(b"INVITE sip:+919468673014@43.231.124.208;transport=UDP SIP/2.0\r\n")
        );
        assert_eq!(m[0].ts.to_string(), "2019-07-17 11:08:42.785");
        assert_eq!(m[0].src.as_deref(), Some("122.161.88.226:63134"));
        assert_eq!(m[0].dst.as_deref(), Some("43.231.124.208:5060"));
        let p = m[0].parsed().expect("parsed");
        assert_eq!(p.call_id().as_deref(), Some("lHbCe0C_nm8AeSIRTVRYww.."));
        assert_eq!(m[0].cut, Some(crate::event::Cut::InputEdge));
    }

    /// sipgrep's output (the real tool's, `derived-text/sipgrep/`): its colours are not the
    /// message's, and its `NOT PARSED!` for a packet that is not SIP is no line of the packet
    /// before; the messages are the capture's, byte for byte.
    #[test]
    fn sipgrep_output_is_read() {
        let sipgrep = |name: &str| {
            messages(&crate::testutil::fixture(&format!(
                "derived-text/sipgrep/{name}"
            )))
        };
        let m = sipgrep("pjsua-udp.txt");
        assert_eq!(m.len(), 7);
        assert!(
            m.iter()
                .all(|m| !m.raw().contains(&0x1b) && m.cut.is_none())
        );
        assert!(
            m[0].raw()
                .starts_with(b"INVITE sip:callee@127.0.0.1:5410 SIP/2.0\r\n")
        );
        let m = sipgrep("stacks-call.txt");
        // The call's 12 and the OPTIONS ping's 2; sofia-sip's `TEST` probe is not SIP.
        assert_eq!(m.len(), 14);
        let before = m
            .iter()
            .position(|m| m.raw().starts_with(b"OPTIONS "))
            .expect("the ping");
        assert!(m[before - 1].raw().ends_with(b"Content-Length: 0\r\n\r\n"));
        assert!(m.iter().all(|m| m.cut.is_none()));
    }

    /// The CRs come back, the addresses and times are the capture's, and the payload ends
    /// where the capture's did (the `.` before ngrep's own line ends is a CR, not a byte more).
    #[test]
    fn byline_gives_the_bytes_addresses_and_times() {
        let m = messages(&fixture("pjsua-udp.byline.txt"));
        assert_eq!(m.len(), 7);
        assert!(
            m[0].raw()
                .starts_with(b"INVITE sip:callee@127.0.0.1:5410 SIP/2.0\r\nVia: ")
        );
        assert!(
            m.iter()
                .all(|m| m.raw().ends_with(b"\r\n") && !m.truncated())
        );
        assert_eq!(m[0].src.as_deref(), Some("127.0.0.1:5411"));
        assert_eq!(m[0].dst.as_deref(), Some("127.0.0.1:5410"));
        let t = messages(&fixture("sipp-tcp-big.t.byline.txt"));
        assert_eq!(t[0].ts.to_string(), "2026-11-21 06:11:16.844");
        assert_eq!(t[0].transport, crate::event::Transport::Tcp);
        let v6 = messages(&fixture("ipv6.T.byline.txt"));
        assert_eq!(v6[0].src.as_deref(), Some("[::1]:5451"));
        assert_eq!((v6[0].ts.micros, v6[0].ts.dated), (0, false));
        assert!(v6[1].ts.micros > 0);
    }

    /// The ICMP errors ngrep prints between the retransmissions of a REGISTER sent to a closed
    /// port (`I … 3:3`, quoting the datagram) are no messages and add nothing to the one before:
    /// eleven REGISTERs, each whole with its empty body.
    #[test]
    fn icmp_errors_are_skipped() {
        let m = messages(&fixture("register-no-listener.t.byline.txt"));
        assert_eq!(m.len(), 11);
        for r in &m {
            assert!(
                r.raw()
                    .starts_with(b"REGISTER sip:127.0.0.1:5740 SIP/2.0\r\n")
            );
            assert!(
                r.raw().ends_with(b"Content-Length:  0\r\n\r\n"),
                "{:?}",
                r.raw()
            );
            assert!(!r.truncated());
        }
    }

    /// Without -q, ngrep's `#` marks and its closing `exit` are no payload: the same messages
    /// as with -q.
    #[test]
    fn the_marks_and_exit_of_a_run_without_q_are_skipped() {
        let raw = |text| -> Vec<Vec<u8>> {
            messages(&fixture(text))
                .iter()
                .map(|m| m.raw().to_vec())
                .collect()
        };
        let noq = fixture("pjsua-udp.noq.byline.txt");
        assert!(noq.ends_with(b"\nexit\n"));
        assert_eq!(raw("pjsua-udp.noq.byline.txt"), raw("pjsua-udp.byline.txt"));
    }

    #[test]
    fn the_single_line_layout_is_refused_with_advice() {
        let text = fixture("pjsua-udp.single.txt");
        match ingest_bytes("single.txt", text, &IngestOptions::default()) {
            Err(InputError::Unreadable { reason, .. }) => assert!(reason.contains("-W byline")),
            other => panic!("{:?}", other.map(|(info, ..)| info)),
        }
    }

    /// Hostile and cut inputs: a 1 MiB payload line (kept bounded), a TCP message the input
    /// ends inside (cut at the input's edge, not damaged), headers with nothing after them,
    /// lines that are no header at all.
    #[test]
    fn hostile_and_cut_inputs_are_bounded() {
        let mut text =
            b"U 10.0.0.1:5060 -> 10.0.0.2:5060 #1\nINVITE sip:a@b SIP/2.0.\nX: ".to_vec();
        text.extend(std::iter::repeat_n(b'a', 1 << 20));
        text.extend_from_slice(b".\n.\n\n");
        let m = messages(&text);
        assert_eq!(m.len(), 1);
        assert!(m[0].raw().len() <= MAX_PAYLOAD, "{}", m[0].raw().len());

        let never_ends = b"T 10.0.0.1:5060 -> 10.0.0.2:5060 [AP] #1\nINVITE sip:a@b SIP/2.0.\n\
            Call-ID: x.\nContent-Length: 500.\n.\nv=0.\n\n";
        let m = messages(never_ends);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].cut, Some(Cut::InputEdge));

        let headers_only =
            b"U 10.0.0.1:5060 -> 10.0.0.2:5060 #1\n\nT 1.2.3.4:1 -> 5.6.7.8:2 [S] #2\n";
        assert!(messages(headers_only).is_empty());
        let junk = b"U 10.0.0.1:5060 -> 10.0.0.2:5060\n\x00\xff\xfe garbage .\n#####\n\n";
        assert!(messages(junk).len() <= 1);
    }
}
