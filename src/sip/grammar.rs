//! The message grammar (RFC 3261 §7, §25): start line, header lines, framing of the body.
//!
//! Owns: splitting raw bytes into lines (CRLF or bare LF), the nom parsers for the request
//! line, the status line and a header line (`name *WSP ":" *WSP value`), folding of
//! continuation lines, the byte spans of everything it finds, Content-Length framing of the
//! body and the non-fatal [`ParseIssue`]s found on the way; also [`super::message_len`] and
//! [`super::is_start_line`]. Everything borrows the input; spans are computed by subtraction
//! (`base.len() - rest.len()`). Does not own: what a header value means (see `views`), header
//! name tables (see `header`), or SDP (see `sdp`).

use std::ops::Range;

use nom::IResult;
use nom::branch::alt;
use nom::bytes::complete::{tag_no_case, take_while, take_while_m_n, take_while1};
use nom::character::complete::{char, digit1, satisfy, space0, space1};
use nom::combinator::{eof, map, recognize, rest};
use nom::sequence::{pair, preceded, terminated, tuple};

use super::{Header, HeaderName, IssueKind, ParseError, ParseIssue, Start};

/// One line of the input: `start..end` is its content without the terminator (a trailing CR
/// before the LF is excluded); `next` is where the following line starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Line {
    start: usize,
    end: usize,
    next: usize,
    /// Whether the line ended in LF (false for the last, unterminated line).
    terminated: bool,
}

fn line_at(buf: &[u8], from: usize) -> Line {
    let tail = buf.get(from..).unwrap_or(&[]);
    match memchr::memchr(b'\n', tail) {
        Some(i) => {
            let lf = from + i;
            let end = if lf > from && buf.get(lf - 1) == Some(&b'\r') {
                lf - 1
            } else {
                lf
            };
            Line {
                start: from,
                end,
                next: lf + 1,
                terminated: true,
            }
        }
        None => {
            let len = buf.len().max(from);
            let end = if len > from && buf.get(len - 1) == Some(&b'\r') {
                len - 1
            } else {
                len
            };
            Line {
                start: from,
                end,
                next: len,
                terminated: false,
            }
        }
    }
}

/// Number of leading CR/LF bytes (keep-alives) before the start line.
fn skip_crlf(buf: &[u8]) -> usize {
    buf.iter()
        .position(|&c| c != b'\r' && c != b'\n')
        .unwrap_or(buf.len())
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The end (exclusive) of the quoted string that starts at `s[0] == '"'`, `\` escapes
/// honoured; `None` when it is not closed.
pub(crate) fn quoted_end(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.bytes().enumerate().skip(1) {
        if escaped {
            escaped = false;
        } else if c == b'\\' {
            escaped = true;
        } else if c == b'"' {
            return Some(i + 1);
        }
    }
    None
}

/// A 256-entry table of the bytes in `extra` and the ASCII letters and digits: a byte class
/// checked with one load.
pub(crate) const fn class(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphanumeric();
        c += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

static TOKEN: [bool; 256] = class(b"-.!%*_+`'~");

/// RFC 3261 `token` characters.
pub(crate) fn is_token_char(c: u8) -> bool {
    TOKEN[usize::from(c)]
}

type Res<'a, T> = IResult<&'a [u8], T>;

fn token(i: &[u8]) -> Res<'_, &[u8]> {
    take_while1(is_token_char)(i)
}

fn sip_version(i: &[u8]) -> Res<'_, &[u8]> {
    recognize(tuple((tag_no_case("SIP/"), digit1, char('.'), digit1)))(i)
}

fn scheme(i: &[u8]) -> Res<'_, &[u8]> {
    recognize(pair(
        satisfy(|c| c.is_ascii_alphabetic()),
        take_while(|c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'-' || c == b'.'),
    ))(i)
}

/// `scheme ":" 1*non-blank`; a failure is reported at the start of the URI.
fn request_uri(i: &[u8]) -> Res<'_, &[u8]> {
    recognize(tuple((
        scheme,
        char(':'),
        take_while(|c: u8| !is_blank(c) && c != b'\r' && c != b'\n'),
    )))(i)
    .map_err(|e| e.map(|_| nom::error::Error::new(i, nom::error::ErrorKind::Verify)))
}

/// `Method SP Request-URI SP SIP-Version` (blanks may repeat; trailing blanks allowed).
fn request_line(i: &[u8]) -> Res<'_, (&[u8], &[u8], &[u8])> {
    terminated(
        tuple((
            token,
            preceded(space1, request_uri),
            preceded(space1, sip_version),
        )),
        pair(space0, eof),
    )(i)
}

/// `SIP-Version SP Status-Code SP Reason-Phrase`; the reason may be empty (and the SP before it
/// missing).
fn status_line(i: &[u8]) -> Res<'_, (&[u8], &[u8], &[u8])> {
    tuple((
        sip_version,
        preceded(space1, take_while_m_n(3, 3, |c: u8| c.is_ascii_digit())),
        alt((preceded(space1, rest), map(eof, |e: &[u8]| e))),
    ))(i)
}

/// `name *WSP ":" *WSP`, returning the name.
fn header_name(i: &[u8]) -> Res<'_, &[u8]> {
    terminated(token, tuple((space0, char(':'), space0)))(i)
}

fn error_offset(base: &[u8], e: nom::Err<nom::error::Error<&[u8]>>) -> usize {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => base.len().saturating_sub(e.input.len()),
        nom::Err::Incomplete(_) => base.len(),
    }
}

/// Parses a start line (without its terminator) that begins at `at` in the message; the spans
/// are absolute. On failure, returns the offset in `line` where the input stopped matching
/// (the furthest of the two alternatives).
fn start_line(line: &[u8], at: usize) -> Result<Start, usize> {
    // Where a piece that nom returned lies: every piece is a subslice of `line`.
    let span = |piece: &[u8]| {
        let start = (piece.as_ptr() as usize).saturating_sub(line.as_ptr() as usize);
        at + start..at + start + piece.len()
    };
    let status_err = match status_line(line) {
        Ok((_, (version, code, reason))) => {
            let code = code
                .iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
            return Ok(Start::Response {
                version: span(version),
                code,
                reason: span(trim_blank(reason)),
            });
        }
        Err(e) => error_offset(line, e),
    };
    let request_err = match request_line(line) {
        Ok((_, (method, uri, version))) => {
            return Ok(Start::Request {
                method: span(method),
                uri: span(uri),
                version: span(version),
            });
        }
        Err(e) => error_offset(line, e),
    };
    Err(status_err.max(request_err))
}

fn trim_blank(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|&c| !is_blank(c)).unwrap_or(b.len());
    let e = b.iter().rposition(|&c| !is_blank(c)).map_or(s, |p| p + 1);
    b.get(s..e).unwrap_or(&[])
}

/// The range of `line` (absolute indexes) without leading/trailing blanks.
fn trimmed_range(buf: &[u8], line: Range<usize>) -> Range<usize> {
    let b = buf.get(line.clone()).unwrap_or(&[]);
    let s = b.iter().position(|&c| !is_blank(c)).unwrap_or(b.len());
    let e = b.iter().rposition(|&c| !is_blank(c)).map_or(s, |p| p + 1);
    line.start + s..line.start + e
}

/// Whether `line` is a SIP request line or status line (a trailing CR/LF is ignored).
pub(crate) fn is_start_line(line: &[u8]) -> bool {
    let mut end = line.len();
    while end > 0 && matches!(line.get(end - 1), Some(b'\r' | b'\n')) {
        end -= 1;
    }
    start_line(line.get(..end).unwrap_or(&[]), 0).is_ok()
}

/// What [`parse`] found in a message that has a start line.
pub(crate) struct Parsed {
    pub start: Start,
    pub start_span: Range<usize>,
    pub headers: Vec<Header>,
    pub body: Range<usize>,
    pub issues: Vec<ParseIssue>,
}

/// The header block: issues for bad lines, and where the body starts (`raw.len()` when there is
/// no empty line). The headers (continuation lines folded in) go to the caller's vector.
struct HeaderBlock {
    issues: Vec<ParseIssue>,
    /// Whether the empty line ending the header block was seen.
    complete: bool,
    body_start: usize,
}

/// The most header lines (headers and bad lines) of one message that are read. Real messages
/// have a few dozen; past this the lines are only counted, so that a flood of tiny headers
/// costs no more memory than its bytes, and one issue says how many were not read.
pub(crate) const MAX_HEADER_LINES: usize = 4096;

fn header_block(raw: &[u8], from: usize, headers: &mut Vec<Header>) -> HeaderBlock {
    headers.clear();
    let mut issues = Vec::new();
    // Whether a continuation line may attach to the last header.
    let mut can_continue = false;
    // Header lines past `MAX_HEADER_LINES`: how many, and from where to where.
    let mut unread = (0usize, 0..0);
    let mut pos = from;
    while pos < raw.len() {
        let line = line_at(raw, pos);
        pos = line.next;
        if line.start == line.end && line.terminated {
            unread_issue(&mut issues, unread);
            return HeaderBlock {
                issues,
                complete: true,
                body_start: line.next,
            };
        }
        if headers.len() + issues.len() >= MAX_HEADER_LINES {
            if unread.0 == 0 {
                unread.1.start = line.start;
            }
            unread.0 += 1;
            unread.1.end = line.end;
            continue;
        }
        let text = raw.get(line.start..line.end).unwrap_or(&[]);
        if text.first().is_some_and(|&c| is_blank(c)) {
            let content = trimmed_range(raw, line.start..line.end);
            match headers.last_mut() {
                Some(h) if can_continue => {
                    if !content.is_empty() {
                        if h.value_span.is_empty() {
                            h.value_span = content.clone();
                        } else {
                            h.value_span.end = content.end;
                        }
                        h.span.end = h.span.end.max(content.end);
                    }
                }
                _ => {
                    if !content.is_empty() {
                        issues.push(ParseIssue {
                            kind: IssueKind::BadHeaderLine,
                            message: "continuation line without a header to continue".into(),
                            span: line.start..line.end,
                        });
                    }
                }
            }
            continue;
        }
        match header_name(text) {
            Ok((value, name)) => {
                let name_start = line.start;
                let name_end = name_start + name.len();
                let value_start = line.start + (text.len() - value.len());
                let value_span = trimmed_range(raw, value_start..line.end);
                // An empty value sits right after the colon.
                let value_span = if value_span.is_empty() {
                    let colon = text
                        .iter()
                        .position(|&c| c == b':')
                        .map_or(name_end, |p| line.start + p + 1);
                    colon..colon
                } else {
                    value_span
                };
                headers.push(Header {
                    name: HeaderName::from_bytes(name),
                    name_span: name_start..name_end,
                    span: name_start..value_span.end,
                    value_span,
                });
                can_continue = true;
            }
            Err(_) => {
                let message = if text.contains(&b':') {
                    "header line with an empty or invalid name"
                } else {
                    "header line without a colon"
                };
                issues.push(ParseIssue {
                    kind: IssueKind::BadHeaderLine,
                    message: message.into(),
                    span: line.start..line.end,
                });
                can_continue = false;
            }
        }
    }
    unread_issue(&mut issues, unread);
    HeaderBlock {
        issues,
        complete: false,
        body_start: raw.len(),
    }
}

/// The issue for the header lines past [`MAX_HEADER_LINES`], if there were any.
fn unread_issue(issues: &mut Vec<ParseIssue>, (count, span): (usize, Range<usize>)) {
    if count > 0 {
        issues.push(ParseIssue {
            kind: IssueKind::BadHeaderLine,
            message: format!(
                "{count} more header lines after the first {MAX_HEADER_LINES}: not read"
            ),
            span,
        });
    }
}

/// The parsed Content-Length: `Ok(n)` (saturating at `usize::MAX`), `Err(())` if not a number.
fn content_length_value(v: &[u8]) -> Result<usize, ()> {
    let v = trim_blank(v);
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    Ok(v.iter().fold(0usize, |acc, d| {
        acc.saturating_mul(10).saturating_add(usize::from(d - b'0'))
    }))
}

fn find_content_length(headers: &[Header]) -> Option<&Header> {
    headers.iter().find(|h| h.name == HeaderName::ContentLength)
}

/// A message's start line and header block, read in one pass before the message's end is
/// known (a datagram may hold several messages): its framing, and everything [`Head::finish`]
/// needs to make the [`Parsed`] message without reading the headers again.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    start: Start,
    start_span: Range<usize>,
    headers: Vec<Header>,
    issues: Vec<ParseIssue>,
    /// Whether the empty line ending the header block was seen.
    pub complete: bool,
    /// Where the body starts (the end of the input when the header block does not end).
    pub body_start: usize,
    /// The first Content-Length header: its value's span and its value, `Err` when it is not a
    /// number.
    content_length: Option<(Range<usize>, Result<usize, ()>)>,
}

/// Reads the start line and the header block of `raw` (one pass).
pub(crate) fn head(raw: &[u8]) -> Result<Head, ParseError> {
    let skip = skip_crlf(raw);
    if skip >= raw.len() {
        return Err(ParseError {
            message: "empty message (no start line)".into(),
            span: raw.len()..raw.len(),
        });
    }
    let first = line_at(raw, skip);
    let line = raw.get(first.start..first.end).unwrap_or(&[]);
    let start = match start_line(line, first.start) {
        Ok(s) => s,
        Err(off) => {
            // Nothing matched beyond the first word (e.g. a header line): blame the whole
            // line; otherwise blame the bytes from where matching stopped.
            let first_word = line.iter().take_while(|&&c| is_token_char(c)).count();
            let bad = first.start + off.min(line.len());
            let span = if off > first_word && bad < first.end {
                bad..first.end
            } else {
                first.start..first.end
            };
            return Err(ParseError {
                message: "not a SIP start line: expected `METHOD uri SIP/2.0` or \
                          `SIP/2.0 code reason`"
                    .into(),
                span,
            });
        }
    };
    let start_span = trimmed_range(raw, first.start..first.end);
    // The headers are gathered in a vector reused from message to message, then copied once
    // into one of their exact size: one allocation for the index, none while it grows.
    let (block, headers) = with_scratch(|scratch| {
        let block = header_block(raw, first.next, scratch);
        (block, scratch.to_vec())
    });
    let content_length = find_content_length(&headers).map(|h| {
        let value = content_length_value(raw.get(h.value_span.clone()).unwrap_or(&[]));
        (h.value_span.clone(), value)
    });
    Ok(Head {
        start,
        start_span,
        headers,
        issues: block.issues,
        complete: block.complete,
        body_start: block.body_start,
        content_length,
    })
}

impl Head {
    /// The Content-Length: `None` without one, `Some(Err(()))` when it is not a number.
    pub(crate) fn content_length(&self) -> Option<Result<usize, ()>> {
        self.content_length.as_ref().map(|(_, v)| *v)
    }

    /// The message whose head this is, `raw` being its bytes: those the head was read from,
    /// cut where the message ends (not before the body starts). Frames the body by the
    /// Content-Length, with an issue when the two disagree.
    pub(crate) fn finish(self, raw: &[u8]) -> Parsed {
        let Head {
            start,
            start_span,
            headers,
            mut issues,
            body_start,
            content_length,
            ..
        } = self;
        let available = raw.len().saturating_sub(body_start);
        let body = match content_length {
            None => body_start..raw.len(),
            Some((span, Err(()))) => {
                issues.push(ParseIssue {
                    kind: IssueKind::BadHeaderValue,
                    message: "Content-Length is not a number".into(),
                    span,
                });
                body_start..raw.len()
            }
            Some((span, Ok(n))) if n > available => {
                issues.push(ParseIssue {
                    kind: IssueKind::ContentLengthMismatch,
                    message: format!(
                        "Content-Length declares {n} bytes but only {available} are present"
                    ),
                    span,
                });
                body_start..raw.len()
            }
            Some((_, Ok(n))) => {
                let end = body_start + n;
                let extra = raw.get(end..).unwrap_or(&[]);
                let first_bad = extra
                    .iter()
                    .position(|&c| !matches!(c, b'\r' | b'\n' | b' ' | b'\t'));
                if let Some(fb) = first_bad {
                    let last = extra
                        .iter()
                        .rposition(|&c| !matches!(c, b'\r' | b'\n' | b' ' | b'\t'))
                        .map_or(fb + 1, |p| p + 1);
                    issues.push(ParseIssue {
                        kind: IssueKind::ContentLengthMismatch,
                        message: format!(
                            "{} bytes follow the {n}-byte body declared by Content-Length",
                            extra.len()
                        ),
                        span: end + fb..end + last,
                    });
                }
                body_start..end
            }
        };
        Parsed {
            start,
            start_span,
            headers,
            body,
            issues,
        }
    }
}

/// Parses one whole message.
pub(crate) fn parse(raw: &[u8]) -> Result<Parsed, ParseError> {
    Ok(head(raw)?.finish(raw))
}

thread_local! {
    /// The headers of the message being read, kept from one message to the next.
    static SCRATCH: std::cell::RefCell<Vec<Header>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with the thread's scratch vector of headers (a fresh one if it is in use).
fn with_scratch<T>(f: impl FnOnce(&mut Vec<Header>) -> T) -> T {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            let out = f(&mut scratch);
            // Bounded: a flood of headers does not keep its memory for the run.
            if scratch.capacity() > 256 {
                *scratch = Vec::new();
            }
            out
        }
        Err(_) => f(&mut Vec::new()),
    })
}

/// See [`super::message_len`].
pub(crate) fn message_len(buf: &[u8]) -> Option<usize> {
    let skip = skip_crlf(buf);
    if skip >= buf.len() {
        return None;
    }
    let first = line_at(buf, skip);
    if !first.terminated {
        return None;
    }
    let (block, n) = with_scratch(|scratch| {
        let block = header_block(buf, first.next, scratch);
        let n = find_content_length(scratch)
            .and_then(|h| content_length_value(buf.get(h.value_span.clone()).unwrap_or(&[])).ok())
            .unwrap_or(0);
        (block, n)
    });
    if !block.complete {
        return None;
    }
    let end = block.body_start.checked_add(n)?;
    (end <= buf.len()).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_lines() {
        assert!(is_start_line(b"INVITE sip:bob@example.com SIP/2.0"));
        assert!(is_start_line(
            b"OPTIONS sips:[2001:db8::1]:5061 SIP/2.0\r\n"
        ));
        assert!(is_start_line(b"SIP/2.0 200 OK"));
        assert!(is_start_line(b"SIP/2.0 180 "));
        assert!(is_start_line(b"SIP/2.0 100"));
        assert!(is_start_line(b"SIP/2.0 486 Busy Here\n"));
        assert!(!is_start_line(b"SIP/2.0 2000 OK"));
        assert!(!is_start_line(b"INVITE bob SIP/2.0"));
        assert!(!is_start_line(b"INVITE sip:bob@example.com HTTP/1.1"));
        assert!(!is_start_line(b"Via: SIP/2.0/UDP host"));
        assert!(!is_start_line(b"IN(VITE sip:a@b SIP/2.0"));
        assert!(!is_start_line(b""));
        assert!(!is_start_line(b"\xff\x00"));
    }

    #[test]
    fn line_splitting() {
        let b = b"ab\r\ncd\nef";
        assert_eq!(
            line_at(b, 0),
            Line {
                start: 0,
                end: 2,
                next: 4,
                terminated: true
            }
        );
        assert_eq!(
            line_at(b, 4),
            Line {
                start: 4,
                end: 6,
                next: 7,
                terminated: true
            }
        );
        assert_eq!(
            line_at(b, 7),
            Line {
                start: 7,
                end: 9,
                next: 9,
                terminated: false
            }
        );
        assert_eq!(line_at(b, 99).next, 99);
    }

    #[test]
    fn content_length_values() {
        assert_eq!(content_length_value(b" 619 "), Ok(619));
        assert_eq!(content_length_value(b"4294967295"), Ok(4_294_967_295));
        assert_eq!(
            content_length_value(b"99999999999999999999"),
            Ok(usize::MAX)
        );
        assert_eq!(content_length_value(b"xyz"), Err(()));
        assert_eq!(content_length_value(b"+5"), Err(()));
        assert_eq!(content_length_value(b""), Err(()));
    }
}
