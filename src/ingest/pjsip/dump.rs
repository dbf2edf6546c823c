//! pjsip message dumps: the `TX|RX N bytes … to|from TRANSPORT ADDR:` header, the raw message
//! lines after it (which carry no pjsip prefix), and the `--end msg--` marker.
//!
//! The header and the end marker are constant in every pjsip version (2.5 to 2.17 print
//! `"%sTX %d bytes %s to %s %s:\n%.*s\n--end msg--"`), whatever decor or wrapper surrounds them,
//! so they are found anywhere on a line ([`find_header`], [`end_marker`]). What precedes the
//! message's start line (or the end marker) on its line is what every continuation line of the
//! record carries ([`Cont`]): it is learnt per dump and stripped.
//!
//! pjsip prints the header, the message and the end marker as one log record, capped at
//! `PJ_LOG_MAX_SIZE` (4000 bytes, the record's last byte replaced by its newline): a big message
//! loses its tail and its end marker, and the next record follows at once. How a dump ends
//! decides its [`Cut`] (see [`Dump::finish`]). The message bytes are rebuilt exactly: a paste
//! that lost the CRs gets them back, a paste that doubled every line end loses the doubling.

use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem;
use regex::bytes::Regex;

use super::line::{Carry, Cont, Line, Shape, strip_ansi};
use crate::event::{Cut, Direction, Timestamp, Transport};
use crate::sip::{HeaderName, IssueKind, ParseError, ParseIssue, SipMessage, Unparsed};

/// Body bytes collected for a dump beyond its declared size before the dump is given up as
/// unterminated (its remaining lines are then read as ordinary lines).
const SLACK: usize = 4096;
/// Cap on the size a header may make us collect, and the size assumed when it declares none.
const MAX_DECLARED: usize = 64 << 20;
const UNDECLARED: usize = 64 << 10;
/// pjsip's `PJ_LOG_MAX_SIZE`: a record cut by it holds `PJ_LOG_MAX_SIZE - 2` bytes before its
/// newline (decor, header line, message).
const PJ_LOG_MAX_SIZE: usize = 4000;
/// How far below that a record may measure and still be taken as cut by it (a wrapper's or a
/// paste's changes: trimmed spaces, a decor start not found exactly).
const RECORD_SLOP: usize = 64;
/// Lines of other records a dump waits through for its own next line (see [`Dump::suspend`]).
pub(super) const SUSPENDED_LINES: u32 = 256;

static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)^(TX|RX) ([0-9]+) bytes ((?:Request|Response) msg .*) (?:to|from) ([A-Za-z][A-Za-z0-9]*) ([^ ]+):[ \t]*$",
    )
    .expect("static regex")
});

/// A header whose message text follows on the same line: a paste that turned line ends into
/// spaces.
static COLLAPSED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)^(TX|RX) ([0-9]+) bytes ((?:Request|Response) msg .*?) (?:to|from) ([A-Za-z][A-Za-z0-9]*) ([^ ]+): +([^ ].*)$",
    )
    .expect("static regex")
});

/// pjsip's record of a packet it could not parse and dropped (sip_transport.c):
/// `Error processing 557 bytes packet from UDP 27.111.250.164:5060 : PJSIP syntax error
/// exception when parsing '' header on line 5 col 35:` (older versions print no transport
/// name), then the packet's text and `-- end of packet.`.
static ERROR_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)^Error processing ([0-9]+) bytes packet from (?:([A-Za-z][A-Za-z0-9]*) )?([^ ]+) : (.+?):[ \t]*$",
    )
    .expect("static regex")
});

/// The same from sip_endpoint.c, for a packet that parsed but lacks a mandatory header:
/// `Error processing packet from 10.0.0.1:5060: Missing required header(s)  (missing Call-ID)
/// [code 171141]:`.
static ENDPOINT_ERROR_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)^Error processing packet from ([^ ]+?): (.+?) *\[code [0-9]+\]:[ \t]*$")
        .expect("static regex")
});

/// The start of a dump header whose line the input ends inside (`RX 647 bytes Response msg
/// 407/REGISTER/cseq=20`, `Error processing 559 bytes packet`).
static PARTIAL_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)(?:^|[^A-Za-z0-9])(?:(TX|RX) ([0-9]+) bytes (?:Request|Response) msg|Error processing ([0-9]+) bytes packet)(?:[^A-Za-z0-9]|$)",
    )
    .expect("static regex")
});

static HANDLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)\(([a-z]+(?:0x)?[0-9A-Fa-f]{6,})\)").expect("static regex"));

/// What every dump header holds, whatever precedes it: the prefilter of [`find_header`].
static BYTES_MSG: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b" bytes Re"));
/// What every record of a dropped packet holds.
static ERROR_PROCESSING: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"Error processing "));

const END: &[u8] = b"--end msg--";
/// The end marker of a dropped packet's record.
const END_OF_PACKET: &[u8] = b"-- end of packet.";

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
    /// The peer's `ip:port`, IPv6 in brackets (pjsip before 2.8 printed it without).
    pub peer: String,
    /// Why pjsip dropped the packet, for its `Error processing … packet` record.
    pub stack_error: Option<String>,
}

/// A dump header found on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    /// Where `TX`/`RX` starts: what precedes it is the wrapper and pjsip's decor.
    pub at: usize,
    pub header: Header,
    /// Where the message text starts when it follows the header on the same line (a paste that
    /// collapsed the line ends).
    pub collapsed: Option<usize>,
}

/// The dump header on a line, wherever it is: a `TX`/`RX` dump, or the record of a packet pjsip
/// could not parse. Most lines lack `" bytes Re"` and `"Error processing "`, which a substring
/// search rules out without a regex.
pub(super) fn find_header(line: &[u8]) -> Option<Found> {
    find_dump_header(line).or_else(|| find_error_header(line))
}

/// The record of a packet pjsip received and dropped (see [`ERROR_HEADER`]): an RX dump whose
/// header says why.
fn find_error_header(line: &[u8]) -> Option<Found> {
    let at = ERROR_PROCESSING.find(line)?;
    let text = &line[at..];
    let s =
        |m: Option<regex::bytes::Match<'_>>| m.map_or_else(String::new, |m| lossy(m.as_bytes()));
    let (declared, transport, peer, reason) = if let Some(c) = ERROR_HEADER.captures(text) {
        (
            s(c.get(1)).parse().ok(),
            s(c.get(2)),
            s(c.get(3)),
            s(c.get(4)),
        )
    } else {
        let c = ENDPOINT_ERROR_HEADER.captures(text)?;
        (None, String::new(), s(c.get(1)), s(c.get(2)))
    };
    Some(Found {
        at,
        header: Header {
            direction: Direction::Rx,
            declared,
            info: String::new(),
            handle: None,
            transport: Transport::from_name(&transport),
            peer: bracket_v6(peer),
            stack_error: Some(reason.trim().to_string()),
        },
        collapsed: None,
    })
}

/// A dump header the input ends inside (see [`PARTIAL_HEADER`]): where it starts, and what it
/// shows.
pub(super) fn partial_header(line: &[u8]) -> Option<(usize, Header)> {
    if BYTES_MSG.find(line).is_none() && memmem::find(line, b" bytes packet").is_none() {
        return None;
    }
    let c = PARTIAL_HEADER.captures(line)?;
    let tag = c.get(1);
    let at = tag.or(c.get(3)).map(|m| m.start())?;
    let at = if tag.is_none() {
        at.checked_sub(b"Error processing ".len())?
    } else {
        at
    };
    let declared = c
        .get(2)
        .or(c.get(3))
        .and_then(|m| lossy(m.as_bytes()).parse().ok());
    let header = Header {
        direction: if tag.is_some_and(|t| t.as_bytes() == b"TX") {
            Direction::Tx
        } else {
            Direction::Rx
        },
        declared,
        info: String::new(),
        handle: None,
        transport: Transport::Unknown,
        peer: String::new(),
        stack_error: tag
            .is_none()
            .then(|| "(the input ends before pjsip's reason)".to_string()),
    };
    Some((at, header))
}

fn find_dump_header(line: &[u8]) -> Option<Found> {
    let mut from = 0;
    while let Some(hit) = BYTES_MSG.find(line.get(from..)?) {
        let bytes = from + hit;
        from = bytes + 1;
        let digits = line[..bytes]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let Some(at) = bytes.checked_sub(digits + 3) else {
            continue;
        };
        let tag = &line[at..at + 3];
        if digits == 0 || !(tag == b"TX " || tag == b"RX ") {
            continue;
        }
        let text = &line[at..];
        if let Some(header) = Header::read(text) {
            return Some(Found {
                at,
                header,
                collapsed: None,
            });
        }
        if let Some(c) = HEADER.captures(text) {
            return Some(Found {
                at,
                header: Header::of(&c),
                collapsed: None,
            });
        }
        if let Some(c) = COLLAPSED.captures(text) {
            return Some(Found {
                at,
                header: Header::of(&c),
                collapsed: c.get(6).map(|m| at + m.start()),
            });
        }
    }
    None
}

impl Header {
    /// What [`HEADER`] captures on `text`, read by hand for the shape pjsip writes: `Some` only
    /// when the regex matches with these captures. `None` when the line is not that shape (a
    /// tab, a message text after the colon, no peer …): the regexes decide.
    ///
    /// The match is unique: after the colon only blanks may follow, so the colon is the last
    /// byte before the trailing spaces; the peer has no space and follows one, so it is what
    /// follows the last space; the transport likewise follows the space before that one.
    fn read(text: &[u8]) -> Option<Header> {
        let tx = match text.get(..3)? {
            b"TX " => true,
            b"RX " => false,
            _ => return None,
        };
        let digits = text[3..].iter().take_while(|b| b.is_ascii_digit()).count();
        let after = text.get(3 + digits..)?.strip_prefix(b" bytes ")?;
        if digits == 0 || memchr::memchr(b'\t', text).is_some() {
            return None;
        }
        let info_start = text.len() - after.len();
        let kind = if after.starts_with(b"Request msg ") {
            b"Request msg ".len()
        } else if after.starts_with(b"Response msg ") {
            b"Response msg ".len()
        } else {
            return None;
        };
        let end = text.iter().rposition(|&b| b != b' ')?;
        if text[end] != b':' {
            return None;
        }
        let b = &text[..end];
        let sp1 = memchr::memrchr(b' ', b)?;
        let peer = &b[sp1 + 1..];
        let sp2 = memchr::memrchr(b' ', &b[..sp1])?;
        let transport = &b[sp2 + 1..sp1];
        let name_ok = transport.first().is_some_and(u8::is_ascii_alphabetic)
            && transport.iter().all(u8::is_ascii_alphanumeric);
        if peer.is_empty() || !name_ok {
            return None;
        }
        let before = &b[..=sp2];
        let info_end = if before.ends_with(b" to ") {
            before.len() - 4
        } else if before.ends_with(b" from ") {
            before.len() - 6
        } else {
            return None;
        };
        if info_end < info_start + kind {
            return None;
        }
        let info = lossy(&text[info_start..info_end]);
        let digits = std::str::from_utf8(&text[3..3 + digits]).unwrap_or_default();
        Some(Header {
            direction: if tx { Direction::Tx } else { Direction::Rx },
            declared: digits.parse().ok(),
            handle: last_handle(info.as_bytes()).map(lossy),
            info,
            transport: Transport::from_name(std::str::from_utf8(transport).unwrap_or_default()),
            peer: bracket_v6(lossy(peer)),
            stack_error: None,
        })
    }

    fn of(c: &regex::bytes::Captures<'_>) -> Header {
        let s = |i: usize| c.get(i).map_or_else(String::new, |m| lossy(m.as_bytes()));
        let info = s(3);
        Header {
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
            peer: bracket_v6(s(5)),
            stack_error: None,
        }
    }

    /// The start line's fixed part: `METHOD ` of a request, `SIP/2.0 CODE` of a response; for a
    /// dropped packet's record, which does not say, any start line.
    fn start_key(&self) -> StartKey {
        let rest = self.info.strip_prefix("Request msg ");
        if let Some(method) = rest.and_then(|r| r.split('/').next()) {
            return StartKey::Request(format!("{method} "));
        }
        match self.info.strip_prefix("Response msg ") {
            Some(r) => StartKey::Response(format!("SIP/2.0 {}", r.split('/').next().unwrap_or(""))),
            None => StartKey::Any,
        }
    }
}

/// The last match of [`HANDLE`] in `info` (its group), found by hand: a match is `(`, a run
/// of letters and digits of the handle's shape, `)`; matches cannot overlap (no parenthesis
/// inside), so the last one starts at the last `(` that starts one.
fn last_handle(info: &[u8]) -> Option<&[u8]> {
    let hex = |h: &[u8]| h.len() >= 6 && h.iter().all(u8::is_ascii_hexdigit);
    let shaped = |run: &[u8]| {
        let letters = run.iter().take_while(|b| b.is_ascii_lowercase()).count();
        (1..=letters).any(|k| {
            let rest = &run[k..];
            hex(rest) || rest.strip_prefix(b"0x").is_some_and(hex)
        })
    };
    let mut end = info.len();
    while let Some(open) = memchr::memrchr(b'(', &info[..end]) {
        let inside = &info[open + 1..];
        let run = inside
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if inside.get(run) == Some(&b')') && shaped(&inside[..run]) {
            return Some(&inside[..run]);
        }
        end = open;
    }
    None
}

/// What a dump's start line is known to begin with.
enum StartKey {
    Request(String),
    Response(String),
    Any,
}

/// `host:port` with an IPv6 host in brackets: pjsip up to 2.7 printed `%s:%d`, so an IPv6 peer
/// reads `64:ff9b::c308:60ac:5061` (the port after the last colon).
fn bracket_v6(peer: String) -> String {
    if peer.starts_with('[') || peer.matches(':').count() < 2 {
        return peer;
    }
    match peer.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() => {
            format!("[{host}]:{port}")
        }
        _ => peer,
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Where `--end msg--` (or a dropped packet's `-- end of packet.`) starts on a line that ends
/// with it (trailing blanks allowed), if it does.
pub(super) fn end_marker(line: &[u8]) -> Option<usize> {
    let trimmed = line.trim_ascii_end();
    [END, END_OF_PACKET]
        .into_iter()
        .find(|end| trimmed.ends_with(end))
        .map(|end| trimmed.len() - end.len())
}

/// The length of the whole lines that `text` starts with (the lines after a dump's header) that
/// can be nothing but message lines to the line-by-line reader: no colour code, no dump header or
/// end marker (not even inside a line), and no time unless `is_record` says the line holds no
/// record prefix (`true`: it does). The reader may give them to the dump at once.
pub(super) fn run_of_body(text: &[u8], is_record: impl Fn(&[u8]) -> bool) -> usize {
    let whole = memchr::memrchr(b'\n', text).map_or(0, |p| p + 1);
    let text = &text[..whole];
    // Where the first line that is not surely a message line may start.
    let mut stop = memchr::memchr(0x1b, text).unwrap_or(text.len());
    // XcodeColors codes that lost their ESC (see [`strip_ansi`]).
    let pasted = memchr::memchr_iter(b'[', &text[..stop]).find(|&at| {
        matches!(
            text.get(at + 1..at + 3),
            Some([b'f' | b'b', b'g']) | Some([b';', _])
        ) || text.get(at + 1) == Some(&b';')
    });
    stop = stop.min(pasted.unwrap_or(stop));
    for needle in [
        BYTES_MSG.needle(),
        ERROR_PROCESSING.needle(),
        END,
        END_OF_PACKET,
    ] {
        if let Some(at) = memmem::find(&text[..stop], needle) {
            stop = at;
        }
    }
    let line_at = |at: usize| memchr::memrchr(b'\n', &text[..at]).map_or(0, |p| p + 1);
    let digits = |r: Range<usize>| {
        text.get(r)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    // `DD:DD:DD`, which every record prefix that a line may show holds.
    let mut checked = None;
    for p in memchr::memchr_iter(b':', &text[..stop]) {
        let time = p >= 2
            && digits(p - 2..p)
            && digits(p + 1..p + 3)
            && text.get(p + 3) == Some(&b':')
            && digits(p + 4..p + 6);
        if !time {
            continue;
        }
        let start = line_at(p);
        if checked == Some(start) {
            continue;
        }
        checked = Some(start);
        let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |e| start + e);
        if is_record(&text[start..end]) {
            stop = start;
            break;
        }
    }
    if stop == text.len() {
        stop
    } else {
        line_at(stop)
    }
}

/// What feeding one more line to a dump did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Feed {
    /// A message line, kept.
    Body,
    /// A line that ends inside the continuation prefix (cut by the excerpt or the paste):
    /// dropped.
    Cut,
    /// Not a line of this dump (another thread's or program's line in between).
    Foreign,
    /// More bytes than the header allows: the dump ended unterminated before this line.
    Overflow,
}

/// Why a dump is being closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Close {
    /// Its `--end msg--` line.
    Ended,
    /// The input ended.
    Eof,
    /// Another record or dump started and the dump cannot go on.
    Stopped,
}

/// Where the dump is in its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Start,
    Headers,
    Body,
}

/// A dump being collected.
#[derive(Debug)]
pub(super) struct Dump {
    pub header: Header,
    /// The header line's time (`None` if neither it nor an earlier line showed one).
    pub ts: Option<Timestamp>,
    /// Line number of the header.
    pub line: u32,
    /// Span of the record so far (header line to the last line taken).
    pub span: Range<usize>,
    /// Bytes of the header line from pjsip's decor on, for the record's size.
    head_len: usize,
    /// The application prefix of the header line, which continuation lines may repeat.
    header_wrapper: Option<Shape>,
    /// The log's continuation prefix as learnt so far, for a dump whose start line is missing.
    fallback: Cont,
    /// This dump's continuation prefix, learnt at its first line.
    cont: Option<Cont>,
    /// It was learnt from the message's start line (not assumed).
    from_start: bool,
    /// The whole input had its line ends converted to CRLF (the header line ends in `\r`).
    crlf: bool,
    /// The header line carried the message text (a paste that collapsed the line ends).
    collapsed: bool,
    /// The message lines' bytes (prefix stripped), joined by `\n`, and where each ends: copied as
    /// they come, so that the input need not be kept. Joined so, they are most often the message
    /// itself (see [`Dump::finish`]), which then takes this buffer as it is.
    body: Vec<u8>,
    ends: Vec<usize>,
    collected: usize,
    section: Section,
    /// The last message line was blank (the header block may have ended, or the paste doubled
    /// the line ends).
    blank: bool,
    /// The message declares an SDP body (its lines then all read `x=…`).
    sdp: bool,
    /// Lines of other records seen since the dump was interrupted, if it is.
    suspended: Option<u32>,
    /// Where the message event goes among the events held back while the dump was suspended.
    pub slot: Option<usize>,
}

/// A finished dump: its message and why it is incomplete, if it is.
#[derive(Debug)]
pub(super) struct Finished {
    pub dump: Dump,
    pub msg: Result<SipMessage, Unparsed>,
    pub cut: Option<Cut>,
}

impl Dump {
    /// A dump from its header line. `decor_start` is where pjsip's decor starts on the cleaned
    /// line (after the wrapper), `wrapper` the wrapper's bytes, `fallback` the continuation
    /// prefix the log has shown so far, `ends` an empty buffer to reuse (see
    /// [`Dump::into_scratch`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        found: Found,
        ts: Option<Timestamp>,
        line: Line<'_>,
        clean: &[u8],
        decor_start: usize,
        wrapper: &[u8],
        fallback: Cont,
        mut ends: Vec<usize>,
    ) -> Dump {
        ends.clear();
        // The declared size is the message's, which the body most often is: one allocation of
        // the right size (bounded, whatever a header declares).
        let reserve = found.header.declared.unwrap_or(0).min(UNDECLARED);
        let mut dump = Dump {
            header: found.header,
            ts,
            line: line.no,
            span: line.start..line.end(),
            head_len: found
                .collapsed
                .unwrap_or(clean.len())
                .saturating_sub(decor_start),
            header_wrapper: Shape::of(wrapper),
            fallback,
            cont: None,
            from_start: false,
            crlf: line.bytes.ends_with(b"\r"),
            collapsed: found.collapsed.is_some(),
            body: Vec::with_capacity(reserve),
            ends,
            collected: 0,
            section: Section::Start,
            blank: false,
            sdp: false,
            suspended: None,
            slot: None,
        };
        if let Some(text) = found.collapsed.and_then(|at| clean.get(at..)) {
            dump.cont = Some(Cont::Plain);
            dump.take(text);
        }
        dump
    }

    pub fn is_suspended(&self) -> bool {
        self.suspended.is_some()
    }

    /// The dump was interrupted by a line of another record; it waits for its next line.
    pub fn suspend(&mut self) {
        self.suspended.get_or_insert(0);
    }

    /// Counts a line of another record while suspended; `false` once it has waited too long.
    pub fn wait(&mut self) -> bool {
        let n = self.suspended.get_or_insert(0);
        *n += 1;
        *n <= SUSPENDED_LINES
    }

    /// The continuation prefix this dump's lines carry, learnt from the first of them: what
    /// precedes the start line, or else what the log has shown so far, or else the header's
    /// wrapper if the line carries it.
    fn learn(&mut self, line: &[u8]) -> Cont {
        if let Some(at) = self.start_line_at(line) {
            self.from_start = true;
            return Cont::of(&line[..at], self.header_wrapper.as_ref());
        }
        if self.fallback != Cont::Plain {
            return self.fallback.clone();
        }
        match &self.header_wrapper {
            Some(w) if matches!(w.carry(line), Carry::Yes(_) | Carry::Cut) => Cont::Wrap(w.clone()),
            _ => Cont::Plain,
        }
    }

    /// Where the message's start line starts on `line`, if it is there.
    fn start_line_at(&self, line: &[u8]) -> Option<usize> {
        let end = line.trim_ascii_end();
        let request_line = end.ends_with(b" SIP/2.0");
        match self.header.start_key() {
            StartKey::Request(key) => memmem::find(line, key.as_bytes()).filter(|_| request_line),
            StartKey::Response(key) => memmem::find(line, key.as_bytes()),
            // `METHOD URI SIP/2.0`: the method is the word before the URI; or `SIP/2.0 NNN`.
            StartKey::Any if request_line => {
                let before_uri = end[..end.len() - 8].trim_ascii_end();
                let uri = before_uri.iter().rposition(|&b| b == b' ')?;
                let method = before_uri[..uri]
                    .iter()
                    .rposition(|&b| b == b' ')
                    .map_or(0, |p| p + 1);
                let token = &before_uri[method..uri];
                (!token.is_empty() && token.iter().all(u8::is_ascii_uppercase)).then_some(method)
            }
            StartKey::Any => {
                let at = memmem::find(line, b"SIP/2.0 ")?;
                let code = line.get(at + 8..at + 11)?;
                code.iter().all(u8::is_ascii_digit).then_some(at)
            }
        }
    }

    /// Takes the next line after the header (the caller has ruled out end markers and records).
    pub fn feed(&mut self, line: Line<'_>, clean: &[u8]) -> Feed {
        self.learn_cont(clean);
        self.feed_text(line, &strip_ansi(line.bytes))
    }

    /// Learns the continuation prefix from the first line after the header (`clean`: that line
    /// as [`super::prefix::clean_head`] gives it), if not done yet.
    pub fn learn_cont(&mut self, clean: &[u8]) {
        if self.cont.is_none() {
            let cont = self.learn(clean);
            self.cont = Some(cont);
        }
    }

    /// Whether the dump has taken no line yet and is not interrupted: [`run_of_body`]'s lines
    /// may go to [`Dump::feed_text`] at once.
    pub fn is_fresh(&self) -> bool {
        self.ends.is_empty() && self.suspended.is_none() && !self.collapsed
    }

    /// [`Dump::feed`] after [`Dump::learn_cont`], for a line whose colour codes are removed
    /// (`bytes`; the line itself when it has none).
    pub fn feed_text(&mut self, line: Line<'_>, bytes: &[u8]) -> Feed {
        let cont = self.cont.as_ref().unwrap_or(&Cont::Plain);
        let text = match cont.carry(bytes) {
            Carry::Yes(text) => text,
            Carry::Cut => return Feed::Cut,
            Carry::No => return Feed::Foreign,
        };
        let plain = *cont == Cont::Plain;
        let resuming = self.suspended.is_some();
        if !self.collapsed && !self.fits(text, plain, resuming) {
            return Feed::Foreign;
        }
        let limit = self.header.declared.unwrap_or(UNDECLARED).min(MAX_DECLARED);
        if self.collected + text.len() > limit + limit / 4 + SLACK {
            return Feed::Overflow;
        }
        self.suspended = None;
        self.take(text);
        self.span.end = line.end();
        Feed::Body
    }

    /// Whether `text` can be the message's next line. Without a continuation prefix to tell, a
    /// line of another program in the header block (`W (5581) tag: …`) or in an SDP body is
    /// told by the message grammar; after an interruption only a header or SDP line resumes.
    fn fits(&self, text: &[u8], plain: bool, resuming: bool) -> bool {
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let blank = text.trim_ascii().is_empty();
        match self.section {
            Section::Start => !resuming,
            Section::Headers if blank => !resuming,
            Section::Headers if is_header_line(text) => true,
            Section::Headers if self.blank => !resuming || (self.sdp && is_sdp_line(text)),
            Section::Headers => {
                !plain || (!resuming && text.first().is_some_and(|b| *b == b' ' || *b == b'\t'))
            }
            Section::Body if self.sdp => is_sdp_line(text) || (blank && !resuming),
            Section::Body => !resuming,
        }
    }

    /// Keeps a message line.
    fn take(&mut self, text: &[u8]) {
        let bare = text.strip_suffix(b"\r").unwrap_or(text);
        let blank = bare.trim_ascii().is_empty();
        match self.section {
            Section::Start => self.section = Section::Headers,
            Section::Headers if blank => {}
            Section::Headers if self.blank && !is_header_line(bare) => self.section = Section::Body,
            Section::Headers => {
                self.sdp |= declares_sdp(bare);
            }
            Section::Body => {}
        }
        self.blank = blank;
        self.collected += text.len() + 1;
        if !self.ends.is_empty() {
            self.body.push(b'\n');
        }
        self.body.extend_from_slice(text);
        self.ends.push(self.body.len());
    }

    /// The continuation prefix this dump learnt from its start line, if it did.
    pub fn learnt_cont(&self) -> Option<&Cont> {
        self.cont.as_ref().filter(|_| self.from_start)
    }

    /// Whether the dump ends when another record starts before its end marker: when its text
    /// already holds the declared bytes (a paste without the end marker), or when the record
    /// reaches pjsip's record limit. Otherwise that record interrupted it.
    pub fn stops_here(&self) -> bool {
        let len = match rebuild(self.lines(), false, self.header.declared) {
            Some(raw) => raw.len(),
            None => self.joined_len(),
        };
        self.header.declared.is_none_or(|d| len >= d) || self.at_record_limit(len)
    }

    /// Extends the record's span to its end marker.
    pub fn end(&mut self, line: Line<'_>) {
        self.span.end = line.end();
    }

    /// The message lines joined by `\n` (the body, unless a whole-file CRLF conversion added a
    /// `\r` to each).
    fn joined(&mut self) -> Vec<u8> {
        if self.crlf {
            join(self.lines(), b"\n")
        } else {
            std::mem::take(&mut self.body)
        }
    }

    /// The length of [`Dump::joined`].
    fn joined_len(&self) -> usize {
        if self.crlf {
            self.lines()
                .map(|l| l.len() + 1)
                .sum::<usize>()
                .saturating_sub(1)
        } else {
            self.body.len()
        }
    }

    /// The buffer this dump kept its line ends in, emptied, for the next dump.
    pub fn into_scratch(self) -> Vec<usize> {
        self.ends
    }

    /// The message lines, without the `\r` a whole-file CRLF conversion added.
    fn lines(&self) -> impl Iterator<Item = &[u8]> + Clone {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&e| e + 1));
        starts
            .zip(&self.ends)
            .filter_map(|(start, &end)| self.body.get(start..end))
            .map(|l| {
                if self.crlf {
                    l.strip_suffix(b"\r").unwrap_or(l)
                } else {
                    l
                }
            })
    }

    /// Whether the record, as pjsip formatted it (decor, header line, message with its CRs),
    /// reaches pjsip's record limit.
    fn at_record_limit(&self, raw_len: usize) -> bool {
        self.head_len + 1 + raw_len + RECORD_SLOP >= PJ_LOG_MAX_SIZE - 2
    }

    /// The message bytes and why the dump is incomplete, if it is.
    ///
    /// The bytes: the lines joined as pjsip wrote them (its own `\n` before the end marker
    /// dropped). A paste that lost every CR gets `\r\n` back; one that doubled every line end
    /// (each message line followed by a blank line) loses the doubling, the real blank line
    /// before a body found by the grammar (the first line after the headers that is not a
    /// header); one that lost the blank line ending a bodyless message gets it back when the
    /// declared size shows it. A paste that collapsed the line ends is not rebuilt (no header
    /// is made up): its text is kept, unparsed, with a diagnostic.
    ///
    /// The cut: a dump with its end marker is whole unless its text falls well short of the
    /// declared size (lines lost inside the input: [`Cut::Damaged`]). One without: cut by the
    /// input's edge if the input ended inside it ([`Cut::InputEdge`]); whole if its text
    /// reaches the declared size; cut by pjsip's record limit if the record reaches it
    /// ([`Cut::RecordLimit`]); outside the input if another record came before any line of it
    /// ([`Cut::InputEdge`]: a quote, or a logger keeping only each record's first line); else it
    /// stopped for no visible reason ([`Cut::Damaged`]).
    pub fn finish(mut self, close: Close) -> Finished {
        if self.collapsed {
            return self.finish_collapsed();
        }
        let raw = rebuild(self.lines(), close == Close::Ended, self.header.declared)
            .unwrap_or_else(|| self.joined());
        let declared = self.header.declared;
        let short = declared.is_some_and(|d| raw.len() < d);
        let cut = match close {
            Close::Ended => declared
                .is_some_and(|d| raw.len() + RECORD_SLOP.max(d / 8) < d)
                .then_some(Cut::Damaged),
            Close::Eof if short || declared.is_none() => Some(Cut::InputEdge),
            Close::Eof => None,
            Close::Stopped if !short && declared.is_some() => None,
            // Not one line of its text: a quote of header lines, or a logger that keeps only
            // the first line of each record. The input does not hold the message; nothing
            // shows it was damaged.
            Close::Stopped if self.ends.is_empty() => Some(Cut::InputEdge),
            Close::Stopped if self.at_record_limit(raw.len()) => Some(Cut::RecordLimit),
            Close::Stopped => Some(Cut::Damaged),
        };
        Finished {
            msg: SipMessage::parse_owned(raw),
            cut,
            dump: self,
        }
    }

    fn finish_collapsed(self) -> Finished {
        let lines: Vec<&[u8]> = self.lines().collect();
        if let Some(msg) = recover_collapsed(&lines) {
            // Damaged: the line breaks were rebuilt, but a break the paste kept inside a value,
            // or a space it turned into one, cannot be told.
            return Finished {
                msg: Ok(msg),
                cut: Some(Cut::Damaged),
                dump: self,
            };
        }
        let mut raw = Vec::with_capacity(self.collected);
        for (i, line) in self.lines().enumerate() {
            if i > 0 {
                raw.push(b'\n');
            }
            raw.extend_from_slice(line);
        }
        let first = raw.iter().position(|&b| b == b'\n').unwrap_or(raw.len());
        let error = ParseError {
            message: "the line breaks of this dump were lost (a paste joined its lines with \
                      spaces): its headers cannot be told apart"
                .into(),
            span: 0..first,
        };
        // Damaged even when the input ends inside it: its line breaks are lost, and that, not
        // the excerpt's edge, is what `malformed-message` must explain.
        Finished {
            msg: Err(Unparsed { raw, error }),
            cut: Some(Cut::Damaged),
            dump: self,
        }
    }
}

/// ` Name: ` where a collapsed paste joined two header lines.
static COLLAPSED_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)(?:^| )([A-Za-z][A-Za-z0-9!%'*+.`~_-]*) ?: ").expect("static regex")
});

/// Where the well-known SIP header names (the grammar's own table, [`HeaderName::from_name`]:
/// full names, and compact forms in a message whose first header is compact) start headers in
/// a collapsed header block; `None` unless the block starts with one.
fn collapsed_headers(block: &[u8]) -> Option<Vec<usize>> {
    let known = |name: &[u8], compact: bool| {
        let name = std::str::from_utf8(name).unwrap_or("");
        HeaderName::from_name(name) != HeaderName::Other && (compact || name.len() > 1)
    };
    let first = COLLAPSED_HEADER.captures(block)?;
    let first_name = first.get(1)?;
    if first_name.start() != 0 {
        return None;
    }
    let compact = first_name.len() == 1;
    if !known(first_name.as_bytes(), compact) {
        return None;
    }
    let mut starts = Vec::new();
    let mut at = 0;
    while let Some(c) = COLLAPSED_HEADER.captures_at(block, at) {
        let Some(name) = c.get(1) else { break };
        if known(name.as_bytes(), compact) {
            starts.push(name.start());
        }
        at = name.end();
    }
    Some(starts)
}

/// The message of a dump whose line breaks a paste collapsed into spaces, when they can be put
/// back without doubt: the start line ends at ` SIP/2.0 ` (a request) or at the first header (a
/// response's reason phrase), and a header starts at each ` Name: ` of a well-known header
/// name. The header block runs to the first blank line (a Markdown quote marker `>` aside);
/// what follows is the body, its lines as they are. Lines the paste still broke are joined as
/// they are, with a space before a line that starts a header. No header is made up: a name
/// outside the table stays in the value before it. The message notes how it was read.
fn recover_collapsed(lines: &[&[u8]]) -> Option<SipMessage> {
    let bare = |l: &[u8]| -> Vec<u8> {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        l.trim_ascii_end().to_vec()
    };
    let unquote = |l: &[u8]| -> Vec<u8> {
        let l = bare(l);
        let q = l
            .strip_prefix(b">")
            .map(|r| r.strip_prefix(b" ").unwrap_or(r));
        q.map_or(l.clone(), <[u8]>::to_vec)
    };
    let end = lines
        .iter()
        .position(|l| unquote(l).is_empty())
        .unwrap_or(lines.len());
    let mut block: Vec<u8> = Vec::new();
    for l in &lines[..end] {
        let l = bare(l);
        let starts_header = collapsed_headers(&l).is_some_and(|s| s.first() == Some(&0));
        if !block.is_empty() && starts_header {
            block.push(b' ');
        }
        block.extend_from_slice(&l);
    }
    // The start line.
    let (start_line, rest) = if block.starts_with(b"SIP/2.0 ") {
        let h = COLLAPSED_HEADER
            .captures_iter(&block)
            .filter_map(|c| c.get(1))
            .find(|n| {
                HeaderName::from_name(std::str::from_utf8(n.as_bytes()).unwrap_or(""))
                    != HeaderName::Other
            })?;
        (&block[..h.start().checked_sub(1)?], &block[h.start()..])
    } else {
        let at = memmem::find(&block, b" SIP/2.0 ")?;
        (&block[..at + 8], &block[at + 9..])
    };
    let starts = collapsed_headers(rest)?;
    let mut raw = start_line.to_vec();
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).map_or(rest.len(), |&n| n - 1);
        raw.extend_from_slice(b"\r\n");
        raw.extend_from_slice(rest.get(s..e)?.trim_ascii_end());
    }
    raw.extend_from_slice(b"\r\n");
    if end < lines.len() {
        raw.extend_from_slice(b"\r\n");
        let body: Vec<Vec<u8>> = lines[end + 1..].iter().map(|l| unquote(l)).collect();
        raw.extend_from_slice(&body.join(&b"\r\n"[..]));
    }
    let mut msg = SipMessage::parse_owned(raw).ok()?;
    let headers = starts.len();
    msg.add_issue(ParseIssue {
        kind: IssueKind::Recovered,
        message: format!(
            "read from a paste that collapsed the line breaks into spaces: its {headers} \
             header(s) were split at well-known header names, so bytes may differ from the \
             message sent"
        ),
        span: 0..0,
    });
    Some(msg)
}

/// A header line: a token (RFC 3261 `token`, starting with a letter as every header name does:
/// a time `05:28:17` is not one), optional blanks, a colon.
fn is_header_line(line: &[u8]) -> bool {
    if !line.first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let name = line
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
        .count();
    name > 0
        && line[name..]
            .iter()
            .find(|&&b| b != b' ' && b != b'\t')
            .is_some_and(|&b| b == b':')
}

/// An SDP line: `x=…`.
fn is_sdp_line(line: &[u8]) -> bool {
    line.len() >= 2 && line[0].is_ascii_lowercase() && line[1] == b'='
}

/// A `Content-Type` (or `c`) header naming SDP.
fn declares_sdp(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let name = line[..colon].trim_ascii();
    (name.eq_ignore_ascii_case(b"content-type") || name.eq_ignore_ascii_case(b"c"))
        && memmem::find(&line[colon..].to_ascii_lowercase(), b"application/sdp").is_some()
}

/// The lines an input starts with, before its first record or dump (bounded: the last
/// [`LEAD_LINES`] of them), which may be the tail of a message.
#[derive(Debug, Default)]
pub(super) struct Lead {
    /// (line number, start offset, bytes as cleaned).
    lines: std::collections::VecDeque<(u32, usize, Vec<u8>)>,
}

/// Lines of a leading tail kept at most (a message of 64 KiB has fewer).
const LEAD_LINES: usize = 1024;

/// A message tail the input starts with.
pub(super) struct Tail {
    pub line: u32,
    pub start: usize,
    pub raw: Vec<u8>,
}

impl Lead {
    pub fn push(&mut self, line: Line<'_>, clean: &[u8]) {
        if self.lines.len() >= LEAD_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back((
            line.no,
            line.start,
            clean.get(..MAX_LINE).unwrap_or(clean).to_vec(),
        ));
    }

    /// The message tail at the end of these lines (each stripped of the continuation prefix
    /// `cont`): the longest run of header lines (with their folded continuations), blank lines
    /// and SDP lines before the end marker, if it holds a header line.
    pub fn finish(self, cont: &Cont) -> Option<Tail> {
        let mut run: Vec<(u32, usize, &[u8])> = Vec::new();
        for (no, start, bytes) in self.lines.iter().rev() {
            let Carry::Yes(text) = cont.carry(bytes) else {
                break;
            };
            let bare = text.strip_suffix(b"\r").unwrap_or(text);
            let fits = bare.trim_ascii().is_empty()
                || is_header_line(bare)
                || is_sdp_line(bare)
                || bare.first().is_some_and(|b| *b == b' ' || *b == b'\t');
            if !fits {
                break;
            }
            run.push((*no, *start, text));
        }
        run.reverse();
        // It starts at a header line (a line the input cut mid-way is not one yet).
        let first = run
            .iter()
            .position(|(_, _, t)| is_header_line(t.strip_suffix(b"\r").unwrap_or(t)))?;
        let run = &run[first..];
        let (line, start, _) = *run.first()?;
        let lines = run.iter().map(|(_, _, t)| *t);
        let raw = rebuild(lines.clone(), true, None).unwrap_or_else(|| join(lines, b"\n"));
        Some(Tail { line, start, raw })
    }
}

/// The bytes of a line a leading tail keeps.
const MAX_LINE: usize = 8 * 1024;

/// The message bytes from its lines (see [`Dump::finish`]); `None` when they are the lines
/// joined by `\n`, as pjsip wrote them.
fn rebuild<'a>(
    lines: impl Iterator<Item = &'a [u8]> + Clone,
    ended: bool,
    declared: Option<usize>,
) -> Option<Vec<u8>> {
    let n = lines.clone().count();
    // pjsip's own line ends are CRLF; a paste that lost them leaves no CR at all. The last
    // line is pjsip's `\n` before the end marker, or a cut line: neither has one.
    let with_cr = lines
        .clone()
        .take(n.saturating_sub(1))
        .filter(|l| l.ends_with(b"\r"))
        .count();
    if with_cr > 0 || n < 2 {
        return None;
    }
    let all: Vec<&[u8]> = lines.collect();
    if let Some(raw) = undouble(&all, ended, declared) {
        return Some(raw);
    }
    let mut raw = join(all.iter().copied(), b"\r\n");
    // A blank line lost at the end of a bodyless message (`…\r\n\r\n` then pjsip's `\n`): the
    // paste kept one of the two blank lines before the end marker.
    if ended
        && declared == Some(raw.len() + 2)
        && raw.ends_with(b"\r\n")
        && memmem::find(&raw, b"\r\n\r\n").is_none()
    {
        raw.extend_from_slice(b"\r\n");
    }
    Some(raw)
}

fn join<'a>(lines: impl Iterator<Item = &'a [u8]>, sep: &[u8]) -> Vec<u8> {
    let mut raw = Vec::new();
    for (i, line) in lines.enumerate() {
        if i > 0 {
            raw.extend_from_slice(sep);
        }
        raw.extend_from_slice(line);
    }
    raw
}

/// The message of a dump whose every line end was doubled (each message line followed by a
/// blank line, as iOS's console and some web pages show CRLF), if it is one: the text lines,
/// the blank line before the body put back where the headers end, CRLF line ends.
fn undouble(lines: &[&[u8]], ended: bool, declared: Option<usize>) -> Option<Vec<u8>> {
    let blank = |l: &[u8]| l.trim_ascii().is_empty();
    // Text on even lines, blanks on odd ones (the last line may be pjsip's own `\n`).
    let doubled = lines.len() >= 4
        && lines
            .iter()
            .enumerate()
            .all(|(i, l)| blank(l) == (i % 2 == 1) || (i + 1 == lines.len() && blank(l)));
    if !doubled {
        return None;
    }
    let text: Vec<&[u8]> = lines.iter().copied().filter(|l| !blank(l)).collect();
    let body_at = text
        .iter()
        .skip(1)
        .position(|l| !is_header_line(l))
        .map(|p| p + 1);
    let mut raw = Vec::new();
    for (i, line) in text.iter().enumerate() {
        if Some(i) == body_at {
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(line);
        // A line the input ends inside has no line end.
        if ended || i + 1 < text.len() {
            raw.extend_from_slice(b"\r\n");
        }
    }
    if body_at.is_none() && ended {
        raw.extend_from_slice(b"\r\n");
    }
    // A body without a final line end: the declared size tells.
    if ended && body_at.is_some() && declared == Some(raw.len() - 2) {
        raw.truncate(raw.len() - 2);
    }
    Some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fixture log, recursively: the real shapes the hand readers must agree on.
    fn fixture_lines() -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        for path in crate::testutil::fixture_files(&["log"]) {
            if let Ok(text) = std::fs::read(&path) {
                lines.extend(text.split(|&b| b == b'\n').map(<[u8]>::to_vec));
            }
        }
        assert!(lines.len() > 10_000, "the fixtures hold pjsip logs");
        lines
    }

    /// The header's text from `TX`/`RX` on, as [`find_dump_header`] gives it to the readers.
    fn header_text(line: &[u8]) -> Option<&[u8]> {
        let at = memmem::find(line, b" bytes Re")?;
        let digits = line[..at]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        line.get(at.checked_sub(digits + 3)?..)
    }

    /// The hand reader gives what the regex captures, or leaves the line to it; on the common
    /// shape it always answers.
    #[test]
    fn hand_read_header_agrees_with_the_regex() {
        let mut cases: Vec<Vec<u8>> = fixture_lines()
            .iter()
            .filter_map(|l| {
                header_text(super::super::prefix::clean_head(l).as_ref()).map(<[u8]>::to_vec)
            })
            .collect();
        let read = cases.len();
        for odd in [
            "TX 12 bytes Request msg INVITE/cseq=1 (tdta0x1) to UDP 1.2.3.4:5060:   ",
            "TX 12 bytes Request msg INVITE/cseq=1 (tdta0x1) to UDP 1.2.3.4:5060:\t",
            "RX 12 bytes Response msg 200/INVITE/cseq=1 (rdata0x7f0012345678) from TCP [::1]:5060:",
            "RX 12 bytes Response msg 200/INVITE/cseq=1 (rdata0x7f0012345678) from TCP 64:ff9b::1:5061:",
            "TX 12 bytes Request msg  to UDP 1.2.3.4:5060:",
            "TX 12 bytes Request msg x to to UDP 1.2.3.4:5060:",
            "TX 12 bytes Request msg x from a to UDP 1.2.3.4:5060:",
            "TX 12 bytes Request msg x to 1UDP 1.2.3.4:5060:",
            "TX 12 bytes Request msg x to UDP :",
            "TX 12 bytes Request msg x to UDP a b:",
            "TX 12 bytes Request msg x to UDP 1.2.3.4:5060: INVITE sip:a SIP/2.0",
            "TX 99999999999999999999999 bytes Request msg x (tdta039500D4) to UDP 1.2.3.4:5060:",
            "TX 12 bytes Response msg 180/INVITE (abc123456) (tdtaabcdef) (x) to WSS h:1:",
            "TX 12 bytes Request msg x to UDP 1.2.3.4:5060:\r",
        ] {
            cases.push(odd.as_bytes().to_vec());
        }
        for text in &cases {
            let by_regex = HEADER.captures(text).map(|c| Header::of(&c));
            match Header::read(text) {
                Some(h) => assert_eq!(Some(h), by_regex, "{}", lossy(text)),
                None => {
                    let tabbed = text.contains(&b'\t');
                    assert!(by_regex.is_none() || tabbed, "{}", lossy(text));
                }
            }
        }
        assert!(read > 500, "{read} dump headers in the fixtures");
    }

    #[test]
    fn hand_found_handle_agrees_with_the_regex() {
        for info in [
            "Request msg INVITE/cseq=1 (tdta0x55a2d07eb028)",
            "Request msg REGISTER/cseq=46739 (tdta039500D4)",
            "Response msg 200/INVITE/cseq=1 (rdata0x7f) (tdta0x123456) trailing",
            "(abcdef123456)",
            "(a0x12345)",
            "(a0x123456)",
            "(A0x123456)",
            "((tdta0x123456)",
            "(tdta0x123456",
            "(tdta0x12345g)",
            "(tdta0x123456)(rdata0x654321)",
            "()",
            "",
        ] {
            let by_regex = HANDLE
                .captures_iter(info.as_bytes())
                .last()
                .map(|c| c[1].to_vec());
            assert_eq!(
                last_handle(info.as_bytes()).map(<[u8]>::to_vec),
                by_regex,
                "{info}"
            );
        }
    }

    fn never_record(_: &[u8]) -> bool {
        false
    }

    #[test]
    fn run_of_body_stops_before_any_line_that_may_be_more_than_a_message_line() {
        let msg = "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n";
        // Whole lines only.
        assert_eq!(run_of_body(msg.as_bytes(), never_record), msg.len());
        assert_eq!(
            run_of_body(b"INVITE sip:b@h SIP/2.0\r\nVia: SIP", never_record),
            24
        );
        for (stop, line) in [
            ("an end marker", "--end msg--\n"),
            ("a dropped packet's end", "x -- end of packet.\n"),
            (
                "a dump header",
                "05:42:13.688 pjsua_core.c ....TX 1202 bytes Request msg\n",
            ),
            ("a dropped packet", "Error processing 12 bytes packet\n"),
            ("a colour code", "\x1b[0mVia: x\n"),
            ("a pasted XcodeColors code", "[fg85,85,85;Via: x\n"),
        ] {
            let text = format!("{msg}{line}Max-Forwards: 70\r\n");
            assert_eq!(
                run_of_body(text.as_bytes(), never_record),
                msg.len(),
                "{stop}"
            );
        }
        // A time: the line is asked about.
        let text = format!("{msg}Date: Mon, 07 Dec 2026 05:42:13 GMT\r\nv=0\r\n");
        assert_eq!(run_of_body(text.as_bytes(), never_record), text.len());
        let asked = |l: &[u8]| l.starts_with(b"Date");
        assert_eq!(run_of_body(text.as_bytes(), asked), msg.len());
    }
}
