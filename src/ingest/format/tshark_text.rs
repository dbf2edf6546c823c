//! tshark's packet details as text: `-V` (alone or after `-P` summary lines), `-O sip` (only SIP
//! expanded), and Wireshark's "Export Packet Dissections → As Plain Text" (summary lines and
//! details, without the packet bytes).
//!
//! Owns: recognising the layout, and rebuilding each SIP message from its dissection tree (the
//! Request-Line or Status-Line, the header lines in order, the body from its SDP fields or
//! its text lines), with the time, addresses and transport its frame's layers show. Does not
//! own: the event made of a rebuilt message (`super::dissect`), and the layouts that carry the
//! packet bytes too (`-x`: `super::tshark_hex`, which reads them byte for byte).

use std::net::IpAddr;
use std::sync::LazyLock;

use regex::Regex;

use super::dissect::{self, MAX_MESSAGE, Packet};
use super::tshark_hex::{SUMMARY, summary_time};
use super::{Format, Parser, Spec, TextCounts, TextParser, TextStart, level};
use crate::event::{Cut, Event, Timestamp, Transport};

pub const FORMAT: Format = Format(&Spec {
    name: "tshark-text",
    summary: "tshark -V or -O sip packet details and Wireshark's plain-text export of packet dissections",
    looks: "a tshark packet dissection",
    recognises: "`tshark -V` / `-O sip` packet details (`Frame 1: … bytes on wire`)",
    sniff,
    parser: Parser::Text(new),
    // A datagram's body shorter than its Content-Length is the sender's fault here too: it is
    // only said so where the body is rebuilt byte for byte (see the docs page).
    packets: true,
    docs: include_str!("tshark_text.md"),
    fixtures: &[
        "derived-text/tshark-text/pjsua-udp.V.txt",
        "derived-text/tshark-text/pjsua-udp.P.V.txt",
        "derived-text/tshark-text/oversized-tcp.O-sip.txt",
        "stacks/public/wireshark-export-nathanlys-m4205c-call.txt",
    ],
});

/// Below the hex dumps' level: `-V -x` is read from its bytes (`tshark-hex`), exactly.
const LEVEL: u8 = level::TOOL_TEXT - 5;

static FRAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Frame \d+: \d+ bytes on wire").expect("static regex"));
static IP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^Internet Protocol Version [46], Src: (\S+), Dst: (\S+)").expect("static regex")
});
static L4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(User Datagram|Transmission Control|Stream Control Transmission) Protocol, Src Port: (\d+), Dst Port: (\d+)",
    )
    .expect("static regex")
});
static EPOCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^    Epoch (?:Arrival )?Time: (\d+(?:\.\d+)?) seconds").expect("static regex")
});
/// An SDP field as tshark names it: `Owner/Creator, Session Id (o): - 4004230265 …`.
static SDP_FIELD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[^()]*\(([a-z])\): (.*)$").expect("static regex"));

fn sniff(head: &[u8]) -> Option<u8> {
    head.split(|&b| b == b'\n')
        .take(16384)
        .any(|l| std::str::from_utf8(l).is_ok_and(|l| FRAME.is_match(l)))
        .then_some(LEVEL)
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    Box::new(TsharkText {
        emit,
        input: start.input,
        date: start.date,
        offset: 0,
        line: 0,
        packet: Packet::default(),
        summary: None,
        msg: None,
        counts: TextCounts::default(),
    })
}

struct TsharkText<'a> {
    emit: &'a mut dyn FnMut(Event),
    input: usize,
    /// `--date`, for summary times of day or since the first frame.
    date: Option<i64>,
    offset: usize,
    line: u32,
    packet: Packet,
    /// The time on the summary line before the frame (Wireshark's export, `-P`): the frame's
    /// time where its `Epoch Time` is not shown (its subtree collapsed).
    summary: Option<Timestamp>,
    msg: Option<Building>,
    counts: TextCounts,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Other,
    Header,
    Body,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    None,
    /// SDP fields (`… (v): 0`).
    Sdp,
    /// Text lines as tshark prints them, their line ends escaped (`\r\n`): exact.
    Text,
    /// A body tshark shows as a tree of its own (XML, sipfrag, multipart …): its lines at the
    /// first level are taken, not byte for byte.
    Tree,
}

/// A SIP message being rebuilt from its tree.
struct Building {
    start: Option<String>,
    headers: Vec<u8>,
    body: Vec<u8>,
    section: Section,
    kind: Body,
    line: u32,
    span: std::ops::Range<usize>,
    too_big: bool,
    /// A header line is printed cut (`[truncated]`).
    cut_line: bool,
    /// The last `Message Header` or `Message Body` heading has shown no line under it yet.
    open: bool,
    /// A heading was shown collapsed (Wireshark's export "as displayed"): its lines are not in
    /// the text.
    collapsed: bool,
}

impl Building {
    fn size(&self) -> usize {
        self.start.as_ref().map_or(0, String::len) + self.headers.len() + self.body.len()
    }

    fn push(&mut self, to_body: bool, bytes: &[u8]) {
        if self.size() + bytes.len() > MAX_MESSAGE {
            self.too_big = true;
            return;
        }
        if to_body {
            self.body.extend_from_slice(bytes);
        } else {
            self.headers.extend_from_slice(bytes);
        }
    }

    /// The message's bytes, with a Content-Length the rebuilt body agrees with unless the body
    /// is exact (see the docs).
    fn bytes(self) -> Option<Vec<u8>> {
        let start = self.start.filter(|_| !self.too_big)?;
        let mut body = self.body;
        let declared = content_length(&self.headers);
        let exact = match self.kind {
            Body::None | Body::Text => true,
            Body::Sdp => {
                // tshark shows the fields, not their line ends: CRLF, or LF where that is what
                // the Content-Length counted.
                if declared != Some(body.len()) {
                    let lf: Vec<u8> = body.iter().copied().filter(|&b| b != b'\r').collect();
                    if declared == Some(lf.len()) {
                        body = lf;
                    }
                }
                declared == Some(body.len())
            }
            Body::Tree => false,
        };
        let headers = if exact || declared.is_none_or(|n| n == body.len()) {
            self.headers
        } else {
            with_content_length(&self.headers, body.len())
        };
        let mut out = Vec::with_capacity(start.len() + headers.len() + body.len() + 4);
        out.extend_from_slice(start.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&headers);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        Some(out)
    }
}

/// Whether a header line is `Content-Length` (or its compact form `l`), and its value.
fn content_length_line(line: &[u8]) -> Option<&[u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line[..colon].trim_ascii();
    (name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l"))
        .then(|| line[colon + 1..].trim_ascii())
}

fn content_length(headers: &[u8]) -> Option<usize> {
    headers
        .split(|&b| b == b'\n')
        .find_map(content_length_line)
        .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
}

/// The header block with its Content-Length lines saying `len`.
fn with_content_length(headers: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(headers.len());
    for line in headers.split_inclusive(|&b| b == b'\n') {
        if content_length_line(line).is_some() {
            out.extend_from_slice(format!("Content-Length: {len}\r\n").as_bytes());
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// A line as tshark printed it, with its escapes (`\r`, `\n`, `\t`, `\\`, `\xNN` …) undone.
fn unescape(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b != b'\\' || i + 1 == text.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let (byte, used) = match text[i + 1] {
            b'r' => (b'\r', 2),
            b'n' => (b'\n', 2),
            b't' => (b'\t', 2),
            b'a' => (0x07, 2),
            b'b' => (0x08, 2),
            b'f' => (0x0c, 2),
            b'v' => (0x0b, 2),
            b'\\' => (b'\\', 2),
            b'x' => match text
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())
            {
                Some(v) => (v, 4),
                None => (b'\\', 1),
            },
            _ => (b'\\', 1),
        };
        out.push(byte);
        i += used;
    }
    out
}

/// Whether a line tshark printed ends in an escaped line end (a text body's line).
fn escaped_line_end(text: &[u8]) -> bool {
    text.ends_with(b"\\n") || text.ends_with(b"\\r")
}

impl TsharkText<'_> {
    fn line(&mut self, line: &[u8], at: usize) {
        self.line = self.line.saturating_add(1);
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        let bare = bare.strip_suffix(b"\r").unwrap_or(bare);
        let indent = bare.iter().take_while(|&&b| b == b' ').count();
        let text = &bare[indent..];
        if text.is_empty() || indent == 0 {
            self.end_message();
        }
        if text.is_empty() {
            return;
        }
        if indent == 0 {
            self.layer(text, at, line.len());
            return;
        }
        if let Some(m) = self.msg.as_mut() {
            m.span.end = at + line.len();
            self.in_message(indent, text);
        } else if let Ok(l) = std::str::from_utf8(bare) {
            if let Some(caps) = EPOCH.captures(l) {
                self.packet.ts = dissect::epoch(&caps[1]);
            } else if let Some(caps) = SUMMARY.captures(l.as_bytes()) {
                self.summary = summary_time(&caps, self.date);
            }
        }
    }

    /// A layer's summary line (column 0).
    fn layer(&mut self, text: &[u8], at: usize, len: usize) {
        let Ok(text) = std::str::from_utf8(text) else {
            return;
        };
        if FRAME.is_match(text) {
            self.packet = Packet {
                ts: self.summary.take(),
                ..Packet::default()
            };
        } else if let Some(caps) = SUMMARY.captures(text.as_bytes()) {
            self.summary = summary_time(&caps, self.date);
        } else if let Some(caps) = IP.captures(text) {
            self.packet.src_ip = caps[1].parse::<IpAddr>().ok();
            self.packet.dst_ip = caps[2].parse::<IpAddr>().ok();
        } else if let Some(caps) = L4.captures(text) {
            self.packet.ports = caps[2].parse().ok().zip(caps[3].parse().ok());
            self.packet.transport = match &caps[1] {
                "User Datagram" => Transport::Udp,
                "Transmission Control" => Transport::Tcp,
                _ => Transport::Sctp,
            };
        } else if text == "Session Initiation Protocol"
            || text.starts_with("Session Initiation Protocol (")
        {
            self.msg = Some(Building {
                start: None,
                headers: Vec::new(),
                body: Vec::new(),
                section: Section::Other,
                kind: Body::None,
                line: self.line,
                span: at..at + len,
                too_big: false,
                cut_line: false,
                open: false,
                collapsed: false,
            });
        }
    }

    fn in_message(&mut self, indent: usize, text: &[u8]) {
        let Some(m) = self.msg.as_mut() else {
            return;
        };
        if indent == 4 {
            m.collapsed |= m.open;
            m.open = text == b"Message Header" || text == b"Message Body";
        } else {
            m.open = false;
        }
        match indent {
            4 => {
                m.section = Section::Other;
                if let Some(s) = text
                    .strip_prefix(b"Request-Line: ")
                    .or_else(|| text.strip_prefix(b"Status-Line: "))
                {
                    m.start = Some(String::from_utf8_lossy(s).into_owned());
                } else if text == b"Message Header" {
                    m.section = Section::Header;
                } else if text == b"Message Body" {
                    m.section = Section::Body;
                }
            }
            8 if m.section == Section::Header && !text.starts_with(b"[") => {
                m.push(false, text);
                m.push(false, b"\r\n");
            }
            // A header line longer than tshark's label limit (240 characters), printed cut.
            9 if m.section == Section::Header && text.starts_with(b"[truncated]") => {
                m.cut_line = true;
                m.push(false, &text[b"[truncated]".len()..]);
                m.push(false, b"\r\n");
            }
            8 if m.section == Section::Body => {
                if text.starts_with(b"Session Description Protocol") {
                    m.kind = Body::Sdp;
                } else if text.starts_with(b"Line-based text data") {
                    m.kind = Body::Text;
                } else if escaped_line_end(text) && matches!(m.kind, Body::None | Body::Text) {
                    // A body tshark knows only as text (`application/dtmf-relay`): its lines
                    // straight under `Message Body`.
                    m.kind = Body::Text;
                    m.push(true, &unescape(text));
                } else {
                    m.kind = Body::Tree;
                }
            }
            12 if m.section == Section::Body => match m.kind {
                Body::Sdp => {
                    let field = std::str::from_utf8(text)
                        .ok()
                        .filter(|t| !t.starts_with("[truncated]"))
                        .and_then(|t| SDP_FIELD.captures(t))
                        .map(|c| format!("{}={}\r\n", &c[1], &c[2]));
                    match field {
                        Some(f) => m.push(true, f.as_bytes()),
                        // tshark's own note (`[Generated Call-ID: …]`): not the body's.
                        None if text.starts_with(b"[") && !text.starts_with(b"[truncated]") => {}
                        // A line tshark does not give whole: `Invalid line [truncated]: XXX…`
                        // (no `=`), or a field cut at its label limit. The text lost bytes of
                        // the body.
                        None => m.cut_line = true,
                    }
                }
                Body::Text => m.push(true, &unescape(text)),
                Body::Tree if escaped_line_end(text) => m.push(true, &unescape(text)),
                Body::Tree => {
                    m.push(true, text);
                    m.push(true, b"\r\n");
                }
                Body::None => {}
            },
            _ => {}
        }
    }

    fn end_message(&mut self) {
        let Some(m) = self.msg.take() else {
            return;
        };
        let (line, span, cut_line) = (m.line, m.span.clone(), m.cut_line);
        let collapsed = m.collapsed || m.open;
        let Some(bytes) = m.bytes() else {
            return;
        };
        let mut event = dissect::message(bytes, &self.packet, self.input, line, span, cut_line);
        if let Event::Message(m) = &mut event {
            // A collapsed heading left lines out of the text, not of the message sent: the
            // text holds the message only in part, as an excerpt does.
            if collapsed {
                m.cut = Some(Cut::InputEdge);
            }
            self.counts.messages += 1;
            self.counts.truncated += usize::from(m.cut.is_some());
        }
        (self.emit)(event);
    }
}

impl TextParser for TsharkText<'_> {
    fn feed(&mut self, piece: &[u8]) {
        for (line, at) in super::lines_at(piece, &mut self.offset) {
            self.line(line, at);
        }
    }

    fn finish(mut self: Box<Self>, rest: &[u8]) -> TextCounts {
        self.feed(rest);
        self.end_message();
        self.counts
    }
}
