//! tshark's `-x` hex dumps (alone, after `-P` summary lines or after `-V` packet details) and
//! Wireshark's "Export Packet Dissections" as plain text with the packet bytes.
//!
//! Owns: recognising the layout, rebuilding each frame from its hex lines (the frame's own
//! bytes, not the reassembled data sources tshark prints after them), its time and link type
//! where the text gives them, and handing it to [`PacketText::push_frame`]. Does not own:
//! decoding the frames, reassembly and framing (the capture's decoder and payload layer).

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::packets::{PacketText, guess_linktype};
use super::{Format, Parser, Spec, TextCounts, TextParser, TextStart, level};
use crate::event::{Event, MICROS_PER_DAY, Timestamp, days_from_civil};

pub const FORMAT: Format = Format(&Spec {
    name: "tshark-hex",
    summary: "tshark -x hex dumps (alone, with -P or -V) and Wireshark's plain-text export with packet bytes",
    looks: "a tshark hex dump",
    recognises: "`tshark -x` hex dumps",
    sniff,
    parser: Parser::Text(new),
    packets: true,
    docs: include_str!("tshark_hex.md"),
    fixtures: &[
        "derived-text/tshark/pjsua-udp.x.txt",
        "derived-text/tshark/udp-fragments.ad.P.x.txt",
        "derived-text/tshark/pjsua-udp.V.x.txt",
    ],
});

/// A hex line: the offset, two spaces, up to 16 bytes as `xx `, then the ASCII.
static HEX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([0-9a-f]{4,8})  [0-9a-f]{2}(?: |$)").expect("static regex"));

/// The label of a data source when a packet has several (`Frame (1243 bytes):`,
/// `Reassembled TCP (305 bytes):`): only the frame's own bytes are read.
static LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\S[^:]*) \(\d+ bytes\):\r?$").expect("static regex"));

/// A `-P` summary line or a line of Wireshark's export: the frame number, its time (`-t ad`,
/// `-t a`, `-t e`, or the default seconds since the first frame), then the columns.
pub(super) static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^ *\d+ +(?:(?:(\d{4})-(\d\d)-(\d\d) )?(\d\d):(\d\d):(\d\d)\.(\d{1,9})|(-?\d+)\.(\d{1,9})) +\S",
    )
    .expect("static regex")
});

/// `-V`: the first line of a frame's details, its epoch time and its link type.
static FRAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Frame \d+: \d+ bytes on wire").expect("static regex"));
static EPOCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^ +Epoch (?:Arrival )?Time: (\d+)\.(\d{1,9}) seconds").expect("static regex")
});
static ENCAPSULATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^ +Encapsulation type: .*\((\d+)\)\r?$").expect("static regex"));

/// `-V`'s `Data` layer (bytes no dissector took), whose details are a hex dump of those bytes
/// (a blank line, then the dump): not a frame's bytes.
static DATA_LAYER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z][^:]* \(\d+ bytes\)\r?$").expect("static regex"));

fn sniff(head: &[u8]) -> Option<u8> {
    // A dump's first line (offset 0000) followed by its second (0010), not a `Data` layer's.
    let lines: Vec<&[u8]> = head.split(|&b| b == b'\n').take(16384).collect();
    (0..lines.len().saturating_sub(1))
        .any(|i| {
            lines[i].starts_with(b"0000  ")
                && lines[i + 1].starts_with(b"0010  ")
                && HEX.is_match(lines[i + 1])
                && !i
                    .checked_sub(2)
                    .is_some_and(|j| DATA_LAYER.is_match(lines[j]))
        })
        .then_some(level::TOOL_TEXT)
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    Box::new(TsharkHex {
        packets: PacketText::new(start, emit),
        date: start.date,
        offset: 0,
        line: 0,
        frame: None,
        next_ts: None,
        next_link: None,
    })
}

/// The most bytes kept for one frame (tshark's largest snaplen is 256 KiB); a longer one is
/// dropped.
const MAX_FRAME: usize = 256 << 10;

struct TsharkHex<'a> {
    packets: PacketText<'a>,
    date: Option<i64>,
    offset: usize,
    line: u32,
    frame: Option<Frame>,
    /// What the lines before the next frame's bytes said of it.
    next_ts: Option<Timestamp>,
    next_link: Option<i32>,
}

struct Frame {
    bytes: Vec<u8>,
    ts: Timestamp,
    link: Option<i32>,
    line: u32,
    span: std::ops::Range<usize>,
    /// Reading another data source's bytes (skipped), or the frame's block has ended.
    other_source: bool,
    ended: bool,
    bad: bool,
    /// Handed on at a pause of a live input, its block having ended: the lines after it are
    /// still read as this frame's (another data source's), and its end hands on nothing more.
    sent: bool,
}

impl TsharkHex<'_> {
    fn line(&mut self, line: &[u8], start: usize) {
        self.line = self.line.saturating_add(1);
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        let bare = bare.strip_suffix(b"\r").unwrap_or(bare);
        if let Some(caps) = HEX.captures(bare) {
            self.hex(&caps[1], bare, start, line.len());
            return;
        }
        if bare.is_empty() {
            if let Some(f) = self.frame.as_mut() {
                f.ended = true;
            }
            return;
        }
        if let Some(caps) = LABEL.captures(bare) {
            if caps[1].starts_with(b"Frame") {
                self.end_frame();
                self.frame = Some(self.begin(start, line.len()));
            } else if let Some(f) = self.frame.as_mut() {
                f.other_source = true;
            }
            return;
        }
        if FRAME.is_match(bare) {
            self.end_frame();
            return;
        }
        if let Some(caps) = SUMMARY.captures(bare) {
            self.end_frame();
            self.next_ts = summary_time(&caps, self.date);
            return;
        }
        if let Some(caps) = EPOCH.captures(bare) {
            self.next_ts = epoch(&caps[1], &caps[2]);
            return;
        }
        if let Some(caps) = ENCAPSULATION.captures(bare) {
            self.next_link = std::str::from_utf8(&caps[1])
                .ok()
                .and_then(|l| l.parse().ok());
        }
    }

    fn begin(&mut self, start: usize, len: usize) -> Frame {
        Frame {
            bytes: Vec::new(),
            ts: self.next_ts.take().unwrap_or(Timestamp::UNKNOWN),
            link: self.next_link.take(),
            line: self.line,
            span: start..start + len,
            other_source: false,
            ended: false,
            bad: false,
            sent: false,
        }
    }

    fn hex(&mut self, offset: &[u8], bare: &[u8], start: usize, len: usize) {
        let at = std::str::from_utf8(offset)
            .ok()
            .and_then(|o| usize::from_str_radix(o, 16).ok());
        // A dump at offset 0 after the frame's block ended is the next frame (`-x` alone
        // separates frames by a blank line only).
        if at == Some(0) && self.frame.as_ref().is_none_or(|f| f.ended) {
            self.end_frame();
            self.frame = Some(self.begin(start, len));
        }
        let Some(f) = self.frame.as_mut() else {
            return;
        };
        if f.other_source {
            return;
        }
        f.span.end = start + len;
        if at != Some(f.bytes.len()) || f.bytes.len() >= MAX_FRAME {
            f.bad = true;
            return;
        }
        // The hex column: 16 × `xx ` after the offset and two spaces.
        let from = offset.len() + 2;
        let column = bare.get(from..bare.len().min(from + 48)).unwrap_or(b"");
        for pair in column.split(|&b| b == b' ').filter(|p| !p.is_empty()) {
            match std::str::from_utf8(pair)
                .ok()
                .filter(|p| p.len() == 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
            {
                Some(b) => f.bytes.push(b),
                None => {
                    f.bad = true;
                    return;
                }
            }
        }
    }

    fn end_frame(&mut self) {
        if let Some(f) = self.frame.take() {
            self.push(&f);
        }
    }

    /// Hands frame `f` on to the packet layer (once).
    fn push(&mut self, f: &Frame) {
        if f.sent || f.bad || f.bytes.is_empty() {
            return;
        }
        let Some(link) = f.link.or_else(|| guess_linktype(&f.bytes)) else {
            return;
        };
        let len = u32::try_from(f.bytes.len()).unwrap_or(u32::MAX);
        self.packets
            .push_frame(f.ts, link, &f.bytes, len, f.line, f.span.clone());
    }

    /// The input paused (live): a frame whose hex block has ended (the blank line after it)
    /// is handed on now; tshark prints a frame at once. It stays the frame being read, so the
    /// lines after it are read as before.
    fn end_at_pause(&mut self) {
        let Some(f) = self.frame.take() else {
            return;
        };
        if f.ended {
            self.push(&f);
        }
        self.frame = Some(Frame {
            sent: f.sent || f.ended,
            ..f
        });
    }
}

/// The time of a [`SUMMARY`] line: dated with `-t ad` or `-t e`; the time of day alone with
/// `-t a`, and the default seconds since the first frame as a time from midnight, both on
/// `date` (`--date`) or undated. `tshark_text` reads Wireshark's export with it too.
pub(super) fn summary_time(
    caps: &regex::bytes::Captures<'_>,
    date: Option<i64>,
) -> Option<Timestamp> {
    let num = |i: usize| {
        caps.get(i)
            .and_then(|m| std::str::from_utf8(m.as_bytes()).ok()?.parse::<i64>().ok())
    };
    let frac = |i: usize| micros(caps.get(i)?.as_bytes());
    if let (Some(h), Some(m), Some(s), Some(f)) = (num(4), num(5), num(6), frac(7)) {
        let day = match (num(1), num(2), num(3)) {
            (Some(y), Some(mo), Some(d)) => Some(days_from_civil(
                y,
                u32::try_from(mo).unwrap_or(1),
                u32::try_from(d).unwrap_or(1),
            )),
            _ => date,
        };
        return Some(Timestamp {
            micros: day.unwrap_or(0) * MICROS_PER_DAY + ((h * 60 + m) * 60 + s) * 1_000_000 + f,
            dated: day.is_some(),
            micro: true,
            unknown: false,
        });
    }
    let s = num(8)?;
    let f = frac(9)?;
    let micros = s.saturating_mul(1_000_000).saturating_add(f);
    // `-t e` (seconds since 1970) or the default seconds since the first frame: no capture
    // is 3 years long.
    Some(if s > 100_000_000 {
        Timestamp {
            micros,
            dated: true,
            micro: true,
            unknown: false,
        }
    } else {
        Timestamp {
            micros: date.unwrap_or(0) * MICROS_PER_DAY + micros,
            dated: date.is_some(),
            micro: true,
            unknown: false,
        }
    })
}

/// Microseconds of a fraction of a second as printed (any number of digits).
fn micros(digits: &[u8]) -> Option<i64> {
    let mut v: i64 = std::str::from_utf8(digits.get(..digits.len().min(6))?)
        .ok()?
        .parse()
        .ok()?;
    for _ in digits.len()..6 {
        v *= 10;
    }
    Some(v)
}

fn epoch(secs: &[u8], frac: &[u8]) -> Option<Timestamp> {
    let s: i64 = std::str::from_utf8(secs).ok()?.parse().ok()?;
    Some(Timestamp {
        micros: s.saturating_mul(1_000_000).saturating_add(micros(frac)?),
        dated: true,
        micro: true,
        unknown: false,
    })
}

impl TextParser for TsharkHex<'_> {
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
        self.end_frame();
        self.packets.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Cut;

    fn fixture(name: &str) -> Vec<u8> {
        crate::testutil::fixture(&format!("derived-text/tshark/{name}"))
    }

    fn messages(text: &[u8]) -> Vec<crate::event::MessageEvent> {
        crate::testutil::messages_as(FORMAT, text)
    }

    /// `-x` alone: the capture's bytes and addresses, at time 0 in the text's order; `-V -x`:
    /// the same with the details' times; `-P -x` with reassembled IP fragments printed after
    /// the frames: each datagram once, reassembled from the frames.
    #[test]
    fn every_layout_gives_the_messages() {
        let x = messages(&fixture("pjsua-udp.x.txt"));
        assert_eq!(x.len(), 7);
        assert!(
            x[0].raw()
                .starts_with(b"INVITE sip:callee@127.0.0.1:5410 SIP/2.0\r\nVia: ")
        );
        assert_eq!(x[0].src.as_deref(), Some("127.0.0.1:5411"));
        assert!(x.iter().all(|m| (m.ts.micros, m.ts.dated) == (0, false)));
        let v = messages(&fixture("pjsua-udp.V.x.txt"));
        assert_eq!(v.len(), 7);
        assert_eq!(v[0].ts.to_string(), "2026-11-21 06:11:05.124");
        assert!(v.iter().zip(&x).all(|(a, b)| a.raw() == b.raw()));
        let p = messages(&fixture("udp-fragments.ad.P.x.txt"));
        assert_eq!(p.iter().filter(|m| m.raw().len() > 3000).count(), 1);
        assert_eq!(p[0].ts.to_string(), "2026-11-21 06:11:22.217");
    }

    /// Hostile and cut inputs: a 1 MiB line, bad hex and out-of-order offsets (that frame is
    /// dropped, the next one read), a frame that never ends (bounded), a TCP message the input
    /// ends inside (cut at the input's edge).
    #[test]
    fn hostile_and_cut_inputs_are_bounded() {
        let frame = |payload: &[u8], tcp: bool| {
            // An IPv4 packet from 10.0.0.1:5060 to 10.0.0.2:5060, as tshark prints it.
            let l4 = if tcp { 20 } else { 8 };
            let total = 20 + l4 + payload.len();
            let mut b = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0x40, 0, 64];
            b.push(if tcp { 6 } else { 17 });
            b.extend_from_slice(&[0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x13, 0xc4, 0x13, 0xc4]);
            if tcp {
                b.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
            } else {
                let len = 8 + payload.len();
                b.extend_from_slice(&[(len >> 8) as u8, len as u8, 0, 0]);
            }
            b.extend_from_slice(payload);
            let mut text = String::new();
            for (i, row) in b.chunks(16).enumerate() {
                let hex: Vec<String> = row.iter().map(|x| format!("{x:02x}")).collect();
                text.push_str(&format!(
                    "{:04x}  {:<48}  ................\n",
                    i * 16,
                    hex.join(" ")
                ));
            }
            text.push('\n');
            text.into_bytes()
        };
        let invite = b"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n";
        let good = frame(invite, false);
        assert_eq!(messages(&good).len(), 1);

        let mut text = b"0000  45 ".to_vec();
        text.extend(std::iter::repeat_n(b'a', 1 << 20));
        text.extend_from_slice(b"\n\n");
        let mut bad_hex = good.clone();
        bad_hex[6..8].copy_from_slice(b"zz");
        text.extend_from_slice(&bad_hex);
        let mut out_of_order = String::from_utf8_lossy(&good)
            .replacen("0010  ", "0020  ", 1)
            .into_bytes();
        text.append(&mut out_of_order);
        text.extend_from_slice(&good);
        let m = messages(&text);
        assert_eq!(m.len(), 1, "only the good frame");

        let mut endless = Vec::new();
        for i in 0..(MAX_FRAME / 16 + 100) {
            endless.extend_from_slice(
                format!(
                    "{:04x}  45 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  E\n",
                    i * 16
                )
                .as_bytes(),
            );
        }
        assert!(messages(&endless).is_empty());

        let cut = frame(
            b"INVITE sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 500\r\n\r\nv=0\r\n",
            true,
        );
        let m = messages(&cut);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].cut, Some(Cut::InputEdge));
    }
}
