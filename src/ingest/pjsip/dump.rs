//! pjsip message dumps: the `TX|RX N bytes … to|from TRANSPORT ADDR:` header, the raw message
//! lines after it (which carry no pjsip prefix), and the `--end msg--` marker.
//!
//! pjsip prints `msg + "\n" + "--end msg--"` as one log record, capped at `PJ_LOG_MAX_SIZE`
//! (4000 bytes): a big message loses its tail and its end marker, and the next prefixed line
//! follows at once. Such dumps are kept and marked truncated.

use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::Regex;

use super::line::{Line, Shape, strip_ansi};
use crate::event::{Direction, Timestamp, Transport};

/// Body bytes collected for a dump beyond its declared size before the dump is given up as
/// unterminated (its remaining lines are then read as ordinary lines).
const SLACK: usize = 4096;
/// Cap on the size a header may make us collect, and the size assumed when it declares none.
const MAX_DECLARED: usize = 64 << 20;
const UNDECLARED: usize = 64 << 10;

static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)^(TX|RX) ([0-9]+) bytes ((?:Request|Response) msg .*) (?:to|from) ([A-Za-z][A-Za-z0-9]*) ([^ ]+):[ \t]*$",
    )
    .expect("static regex")
});

static HANDLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)\(([a-z]+(?:0x)?[0-9A-Fa-f]{6,})\)").expect("static regex"));

/// What a dump header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    pub direction: Direction,
    /// The declared byte count (`None` if it does not fit a `usize`).
    pub declared: Option<usize>,
    /// The message info, e.g. `Request msg INVITE/cseq=320 (tdta0x55a2d07eb028)`.
    pub info: String,
    /// `tdta0x…`/`rdata0x…` (or a Windows handle without `0x`).
    pub handle: Option<String>,
    pub transport: Transport,
    /// The peer's `ip:port` as the header prints it (IPv6 in brackets).
    pub peer: String,
}

impl Header {
    /// Parses the text of a prefixed line (after pjsip's prefix and indent).
    pub fn parse(text: &[u8]) -> Option<Header> {
        let c = HEADER.captures(text)?;
        let s = |i: usize| c.get(i).map_or_else(String::new, |m| lossy(m.as_bytes()));
        let info = s(3);
        Some(Header {
            direction: if &c[1] == b"TX" {
                Direction::Tx
            } else {
                Direction::Rx
            },
            declared: s(2).parse().ok(),
            handle: HANDLE
                .captures_iter(info.as_bytes())
                .last()
                .map(|h| lossy(&h[1])),
            info,
            transport: Transport::from_name(&s(4)),
            peer: s(5),
        })
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// What feeding one more unprefixed line did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Feed {
    /// A body line, kept.
    Body,
    /// The `--end msg--` line: the dump is complete.
    End,
    /// More bytes than the header allows: the dump ended unterminated before this line.
    Overflow,
}

/// A dump being collected.
#[derive(Debug)]
pub(super) struct Dump {
    pub header: Header,
    pub ts: Timestamp,
    /// Line number of the header.
    pub line: u32,
    /// Span of the record so far (header line to the last line taken).
    pub span: Range<usize>,
    /// The application prefix of the header line, which body lines may repeat.
    wrapper: Option<Shape>,
    /// The whole input had its line ends converted to CRLF (the header line ends in `\r`).
    crlf: bool,
    /// The body lines' bytes, back to back (without `\n`), and where each ends: copied as they
    /// come, so that the input need not be kept.
    body: Vec<u8>,
    ends: Vec<usize>,
    collected: usize,
}

/// A finished dump: its raw message bytes and whether it was cut.
#[derive(Debug)]
pub(super) struct Finished {
    pub dump: Dump,
    pub raw: Vec<u8>,
    pub truncated: bool,
}

impl Dump {
    pub fn new(header: Header, ts: Timestamp, line: Line<'_>, wrapper: &[u8]) -> Dump {
        Dump {
            header,
            ts,
            line: line.no,
            span: line.start..line.end(),
            wrapper: Shape::of(wrapper),
            crlf: line.bytes.ends_with(b"\r"),
            body: Vec::new(),
            ends: Vec::new(),
            collected: 0,
        }
    }

    /// Takes the next unprefixed line.
    pub fn feed(&mut self, line: Line<'_>) -> Feed {
        if self.is_end(line.bytes) {
            self.span.end = line.end();
            return Feed::End;
        }
        let limit = self.header.declared.unwrap_or(UNDECLARED).min(MAX_DECLARED);
        if self.collected + line.bytes.len() > limit + limit / 4 + SLACK {
            return Feed::Overflow;
        }
        self.collected += line.bytes.len() + 1;
        self.body.extend_from_slice(line.bytes);
        self.ends.push(self.body.len());
        self.span.end = line.end();
        Feed::Body
    }

    fn is_end(&self, bytes: &[u8]) -> bool {
        let clean = strip_ansi(bytes);
        let rest = self
            .wrapper
            .as_ref()
            .and_then(|w| w.strip(&clean))
            .unwrap_or(&clean);
        rest.trim_ascii() == b"--end msg--"
    }

    /// The message bytes: the body lines joined with `\n` (which drops the line end pjsip adds
    /// before the end marker), without colour codes, without the application prefix when every
    /// line has it, and without the `\r` a CRLF conversion added.
    pub fn finish(self, ended: bool) -> Finished {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        let lines = || {
            starts
                .clone()
                .zip(&self.ends)
                .filter_map(|(start, &end)| self.body.get(start..end))
                .map(strip_ansi)
        };
        let strip = self
            .wrapper
            .as_ref()
            .filter(|w| lines().all(|l| w.strip(&l).is_some()));
        let mut raw = Vec::with_capacity(self.collected);
        for (i, line) in lines().enumerate() {
            if i > 0 {
                raw.push(b'\n');
            }
            let content = strip.and_then(|w| w.strip(&line)).unwrap_or(&line);
            let content = if self.crlf {
                content.strip_suffix(b"\r").unwrap_or(content)
            } else {
                content
            };
            raw.extend_from_slice(content);
        }
        let truncated = !ended || self.header.declared.is_some_and(|d| short_of(&raw, d));
        Finished {
            dump: self,
            raw,
            truncated,
        }
    }
}

/// Whether `raw` is clearly smaller than `declared` bytes, allowing for the `\r` each bare `\n`
/// lost if the log's line ends were converted to LF.
fn short_of(raw: &[u8], declared: usize) -> bool {
    let before = std::iter::once(&0).chain(raw);
    let bare_lf = raw
        .iter()
        .zip(before)
        .filter(|&(&b, &prev)| b == b'\n' && prev != b'\r')
        .count();
    raw.len() + bare_lf < declared
}
