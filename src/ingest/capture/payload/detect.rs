//! Recognising SIP by content, and splitting a self-contained unit (a UDP payload, an SCTP
//! DATA chunk, a WebSocket message, a HEP payload) into the SIP messages it holds.
//!
//! Owns: keep-alive and STUN recognition, the junk-before-start-line heuristic, header-block and
//! Content-Length scanning for framing. The scan mirrors `sip::grammar`, which stays the
//! authority: a test holds a datagram's framing to `sip::message_len`. Does not own: streams
//! (see `tcp`), or any emission.

use std::ops::Range;

pub(super) use crate::sip::ContentLength;
use crate::sip::{MessageHead, is_start_line};

/// The longest first line considered a start line candidate; longer ones are garbage.
pub(super) const MAX_LINE: usize = 64 * 1024;

/// Junk bytes tolerated before a start line in a datagram (`\0\0REGISTER …`).
const MAX_JUNK: usize = 8;

/// Junk glued to a known method (`DBREGISTER sip:…`, zeek GH-1507).
const MAX_GLUED_JUNK: usize = 4;

/// The RFC 3261 methods and their common extensions: a start line found at an uncertain
/// position (after junk, after a gap, mid-stream) must use one of them.
const KNOWN_METHODS: &[&[u8]] = &[
    b"INVITE",
    b"ACK",
    b"BYE",
    b"CANCEL",
    b"REGISTER",
    b"OPTIONS",
    b"PRACK",
    b"SUBSCRIBE",
    b"NOTIFY",
    b"PUBLISH",
    b"INFO",
    b"REFER",
    b"MESSAGE",
    b"UPDATE",
];

/// Number of leading CR/LF bytes (keep-alives).
pub(super) fn skip_crlf(b: &[u8]) -> usize {
    b.iter()
        .position(|&c| c != b'\r' && c != b'\n')
        .unwrap_or(b.len())
}

/// Position of the first LF.
pub(super) fn find_lf(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// The first line of `b`, without its LF (the whole of `b` if there is none).
pub(super) fn first_line(b: &[u8]) -> &[u8] {
    b.get(..find_lf(b).unwrap_or(b.len())).unwrap_or(&[])
}

fn method_of(line: &[u8]) -> Option<&[u8]> {
    let sp = line.iter().position(|&c| c == b' ' || c == b'\t')?;
    line.get(..sp)
}

fn is_status_line(line: &[u8]) -> bool {
    line.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"))
}

/// A start line that is a status line or a request with a well-known method: what is accepted
/// where a line start is not certain.
pub(super) fn is_sure_start_line(line: &[u8]) -> bool {
    (is_status_line(line) || known_method(line)) && is_start_line(line)
}

/// Whether `line` starts with a well-known method and a blank (`method_of` is one of
/// [`KNOWN_METHODS`]), looking at no more bytes than the longest method.
fn known_method(line: &[u8]) -> bool {
    let head = line.get(..LONGEST_METHOD + 1).unwrap_or(line);
    head.iter()
        .position(|&c| c == b' ' || c == b'\t')
        .is_some_and(|sp| KNOWN_METHODS.contains(&&head[..sp]))
}

const LONGEST_METHOD: usize = {
    let (mut longest, mut i) = (0, 0);
    while i < KNOWN_METHODS.len() {
        if KNOWN_METHODS[i].len() > longest {
            longest = KNOWN_METHODS[i].len();
        }
        i += 1;
    }
    longest
};

/// Whether `b` starts like a start line accepted after junk (see [`is_sure_start_line`]):
/// `SIP/` in any case, or the first two letters of a well-known method. One table load for
/// most bytes.
#[inline]
fn sure_prefix(b: &[u8]) -> bool {
    let [c0, c1, ..] = *b else {
        return false;
    };
    SURE_START[usize::from(c0)]
        && ((c0 | 0x20 == b's' && c1 | 0x20 == b'i')
            || KNOWN_METHODS
                .iter()
                .any(|m| m.first() == Some(&c0) && m.get(1) == Some(&c1)))
}

/// The first bytes of [`sure_prefix`]: `S`, `s` and those of the well-known methods.
static SURE_START: [bool; 256] = {
    let mut t = [false; 256];
    t[b'S' as usize] = true;
    t[b's' as usize] = true;
    let mut i = 0;
    while i < KNOWN_METHODS.len() {
        t[KNOWN_METHODS[i][0] as usize] = true;
        i += 1;
    }
    t
};

/// Whether [`find_start`] could find a start line in `b`: a token character first, or the
/// start of a sure start line within the junk allowed. A few loads, before any line is looked
/// for: media and other binary datagrams are let go at once (RTP's first byte, 0x80 and up,
/// is no token character).
fn may_start(b: &[u8]) -> bool {
    let Some((&first, rest)) = b.split_first() else {
        return false;
    };
    is_token_char(first)
        || rest
            .get(..=MAX_JUNK)
            .unwrap_or(rest)
            .windows(2)
            .any(sure_prefix)
}

/// Bytes of junk glued in front of a well-known method (`DBREGISTER sip:…`), if that is what
/// the (valid, but odd) request line looks like.
pub(super) fn glued_junk(line: &[u8]) -> Option<usize> {
    if is_status_line(line) {
        return None;
    }
    let method = method_of(line)?;
    if KNOWN_METHODS.contains(&method) {
        return None;
    }
    KNOWN_METHODS.iter().find_map(|m| {
        let junk = method.len().checked_sub(m.len())?;
        (junk > 0 && junk <= MAX_GLUED_JUNK && method.ends_with(m)).then_some(junk)
    })
}

/// Where the SIP start line begins in `b` (which starts at a non-CRLF byte): 0 normally, a
/// few bytes further when junk precedes it. `None` when `b` is not SIP.
pub(super) fn find_start(b: &[u8]) -> Option<usize> {
    let line = first_line(b);
    if is_start_line(line) {
        return Some(glued_junk(line).unwrap_or(0));
    }
    if broken_request_line(line) {
        return Some(0);
    }
    (1..=MAX_JUNK.min(line.len())).find(|&off| {
        line.get(off..)
            .is_some_and(|l| sure_prefix(l) && is_sure_start_line(l))
    })
}

/// A request line that is broken (a bad version like `SIP/2.O`, a stray CR inside the line as
/// in `CANCEL sip:x SIP/2.0\r7Via: …`) but unmistakably starts a SIP request: a well-known
/// method, one space, a `sip:`, `sips:` or `tel:` URI. Kept as a message so that it is reported
/// as malformed rather than lost.
fn broken_request_line(line: &[u8]) -> bool {
    if !known_method(line) {
        return false;
    }
    let Some(method) = method_of(line) else {
        return false;
    };
    let uri = line.get(method.len() + 1..).unwrap_or(&[]);
    [&b"sip:"[..], b"sips:", b"tel:"]
        .iter()
        .any(|scheme| uri.len() > scheme.len() && uri[..scheme.len()].eq_ignore_ascii_case(scheme))
}

/// A STUN message (RFC 5389, with the magic cookie), as sent for NAT keep-alives on SIP ports.
pub(super) fn is_stun(b: &[u8]) -> bool {
    let (Some(&first), Some(len), Some(cookie)) = (b.first(), b.get(2..4), b.get(4..8)) else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    first & 0xc0 == 0 && cookie == [0x21, 0x12, 0xa4, 0x42] && len + 20 == b.len()
}

/// A keep-alive that is not SIP but is sent on SIP ports by design: CRLFs (RFC 5626) or a
/// few NUL bytes (the "jack" keep-alive of some phones).
pub(super) fn is_keepalive(b: &[u8]) -> bool {
    b.iter().all(|&c| c == b'\r' || c == b'\n') || (b.len() <= 8 && b.iter().all(|&c| c == 0))
}

/// Looks for the empty line that ends a header block, examining the LFs of `b` from `from`
/// (0, or a value returned earlier). `Ok(body start)`, or `Err(where to resume)` when more
/// bytes are needed. Mirrors the grammar: the empty line is `LF LF` or `LF CR LF`.
pub(super) fn find_header_end(b: &[u8], from: usize) -> Result<usize, usize> {
    let mut i = from;
    while let Some(j) = b.get(i..).and_then(find_lf).map(|k| i + k) {
        match b.get(j + 1) {
            None => return Err(j),
            Some(b'\n') => return Ok(j + 2),
            Some(b'\r') => match b.get(j + 2) {
                None => return Err(j),
                Some(b'\n') => return Ok(j + 3),
                Some(_) => {}
            },
            Some(_) => {}
        }
        i = j + 1;
    }
    Err(b.len().max(from))
}

/// RFC 3261 `token` characters (one load).
fn is_token_char(c: u8) -> bool {
    static TOKEN: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 256 {
            t[c] = (c as u8).is_ascii_alphanumeric();
            c += 1;
        }
        let extra = b"-.!%*_+`'~";
        let mut i = 0;
        while i < extra.len() {
            t[extra[i] as usize] = true;
            i += 1;
        }
        t
    };
    TOKEN[usize::from(c)]
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn trim_blank(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|&c| c != b' ' && c != b'\t')
        .map_or(s, |p| p + 1);
    b.get(s..e).unwrap_or(&[])
}

/// Splits `block` (which starts with the start line) into lines without terminators, skipping
/// the start line, up to the empty line.
fn header_lines(block: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pos = find_lf(block).map_or(block.len(), |p| p + 1);
    std::iter::from_fn(move || {
        if pos >= block.len() {
            return None;
        }
        let rest = block.get(pos..)?;
        let end = find_lf(rest).unwrap_or(rest.len());
        pos += end + 1;
        let line = rest.get(..end)?;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        (!line.is_empty()).then_some(line)
    })
}

/// `(name, value)` of a header line, if it has a valid name.
fn header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    if line.first().is_some_and(|&c| c == b' ' || c == b'\t') {
        return None;
    }
    let n = line.iter().take_while(|&&c| is_token_char(c)).count();
    let rest = trim_blank(line.get(n..)?);
    let value = rest.strip_prefix(b":")?;
    (n > 0).then(|| (line.get(..n).unwrap_or(&[]), trim_blank(value)))
}

pub(super) fn content_length(block: &[u8]) -> ContentLength {
    let mut lines = header_lines(block).peekable();
    while let Some(line) = lines.next() {
        // Only `Content-Length` and `l` can be it: most lines are passed over at their first byte.
        if !matches!(line.first(), Some(b'c' | b'C' | b'l' | b'L')) {
            continue;
        }
        let Some((name, value)) = header(line) else {
            continue;
        };
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            // A folded value (continued on the next lines) is not a number to the grammar.
            let mut folded = false;
            while let Some(next) = lines.next_if(|l| l.first().is_some_and(|&c| is_blank(c))) {
                folded |= !trim_blank(next).is_empty();
            }
            if folded || value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
                return ContentLength::Invalid;
            }
            return ContentLength::Value(value.iter().fold(0usize, |acc, d| {
                acc.saturating_mul(10).saturating_add(usize::from(d - b'0'))
            }));
        }
    }
    ContentLength::Absent
}

/// The value of header `name` (case-insensitive) in an HTTP or SIP header block.
pub(super) fn header_value<'a>(block: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    header_lines(block)
        .filter_map(header)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Whether `hay` contains `needle`, ASCII case-insensitively.
pub(super) fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// What a self-contained unit holds.
// Returned once per unit and taken apart at once: boxing the split would cost an allocation
// per datagram of SIP, to save a copy of a few hundred bytes per datagram.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(super) enum Unit {
    /// CRLFs, NULs or STUN: skipped silently.
    KeepAlive,
    /// Not SIP.
    NotSip,
    Sip(Split),
}

/// The SIP messages of a unit.
///
/// Bytes after a message's Content-Length that do not start another message (and are not
/// padding: NULs, blanks, line ends) stay with that message: they are what the datagram
/// carried, and `content-length-mismatch` reports them (a receiver discards them, RFC 3261
/// §18.3, so the body it reads is cut). A second message packed after the first one's body
/// is split off and read as a message of its own: an observer shows what was sent.
#[derive(Debug)]
pub(super) struct Split {
    pub messages: smallvec::SmallVec<[Framed; 1]>,
    /// Junk bytes skipped before the first start line.
    pub junk: usize,
}

/// One message of a unit.
#[derive(Debug)]
pub(super) struct Framed {
    /// Its bytes in the unit.
    pub range: Range<usize>,
    /// It is incomplete.
    pub truncated: bool,
    /// Its start line and header block, read by the grammar while framing it (`None` when its
    /// start line does not parse): the message is finished from it, not parsed again.
    pub head: Option<MessageHead>,
}

/// The extent of the message starting at `s` (a start line) in a datagram-like unit, framed by
/// this module's scan (for a start line the grammar does not read).
fn datagram_message(b: &[u8], s: usize) -> (Range<usize>, bool) {
    let msg = b.get(s..).unwrap_or(&[]);
    let body_start = find_header_end(msg, 0).ok();
    let cl = body_start.map_or(ContentLength::Absent, |body_start| {
        content_length(msg.get(..body_start).unwrap_or(&[]))
    });
    datagram_extent(b, s, body_start, cl)
}

/// The extent of the message starting at `s` in a datagram-like unit, from where its body
/// starts (`None`: the header block never ends) and its Content-Length.
fn datagram_extent(
    b: &[u8],
    s: usize,
    body_start: Option<usize>,
    cl: ContentLength,
) -> (Range<usize>, bool) {
    let msg = b.get(s..).unwrap_or(&[]);
    let Some(body_start) = body_start else {
        // The header block never ends: a cut message.
        return (s..b.len(), true);
    };
    match cl {
        ContentLength::Value(n) => match body_start.checked_add(n) {
            Some(end) if end <= msg.len() => (s..s + end, false),
            _ => (s..b.len(), true),
        },
        ContentLength::Absent | ContentLength::Invalid => {
            // RFC 3261 §18.3: without a (usable) Content-Length a datagram's body runs to its
            // end, unless another message visibly starts right after the header block.
            let rest = msg.get(body_start..).unwrap_or(&[]);
            let k = skip_crlf(rest);
            if k == rest.len() || is_start_line(first_line(rest.get(k..).unwrap_or(&[]))) {
                (s..s + body_start, false)
            } else {
                (s..b.len(), false)
            }
        }
    }
}

/// Frames the message starting at `s` (a start line): by the grammar's one pass over its
/// header block, which the message keeps; by this module's scan when the grammar does not read
/// its start line (a broken request line).
fn frame_message(b: &[u8], s: usize) -> Framed {
    let msg = b.get(s..).unwrap_or(&[]);
    match MessageHead::read(msg) {
        Ok(head) => {
            let (range, truncated) =
                datagram_extent(b, s, head.body_start(), head.content_length());
            Framed {
                range,
                truncated,
                head: Some(head),
            }
        }
        Err(_) => {
            let (range, truncated) = datagram_message(b, s);
            Framed {
                range,
                truncated,
                head: None,
            }
        }
    }
}

/// Splits a datagram-like unit into SIP messages.
pub(super) fn split_unit(b: &[u8]) -> Unit {
    if is_keepalive(b) || is_stun(b) {
        return Unit::KeepAlive;
    }
    let lead = skip_crlf(b);
    let first = b.get(lead..).unwrap_or(&[]);
    if !may_start(first) {
        return Unit::NotSip;
    }
    let Some(junk) = find_start(first) else {
        return Unit::NotSip;
    };
    let mut split = Split {
        messages: smallvec::SmallVec::new(),
        junk,
    };
    let mut pos = lead + junk;
    loop {
        pos += skip_crlf(b.get(pos..).unwrap_or(&[]));
        let rest = b.get(pos..).unwrap_or(&[]);
        if rest.is_empty() {
            break;
        }
        if split.messages.is_empty() || is_start_line(first_line(rest)) {
            let framed = frame_message(b, pos);
            pos = framed.range.end.max(pos + 1);
            split.messages.push(framed);
        } else {
            // Not a message: what the last one carried beyond its Content-Length, up to the
            // padding that ends the unit.
            let is_padding = |c: &u8| *c == 0 || c.is_ascii_whitespace();
            let kept = rest
                .iter()
                .rposition(|c| !is_padding(c))
                .map_or(0, |p| p + 1);
            if let Some(last) = split.messages.last_mut()
                && kept > 0
            {
                last.range.end = pos + kept;
            }
            break;
        }
    }
    Unit::Sip(split)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagram_framing_agrees_with_the_grammar() {
        let samples: [&[u8]; 12] = [
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 4\r\n\r\nabcd",
            b"SIP/2.0 200 OK\nl: 3\n\nabc",
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length : 4\r\n\r\nabcdTAIL",
            b"INVITE sip:a@b SIP/2.0\r\ncontent-length:\t2 \r\n\r\nabcd",
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 9\r\n\r\nabcd",
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999999\r\n\r\nab",
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 1\r\n 2\r\n\r\nabcd",
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 1\r\n \r\nX: y\r\n\r\nabcd",
            b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 2\r\nl: 3\r\n\r\nabcd",
            b"INVITE sip:a@b SIP/2.0\r\nBad Header: 1\r\nl: 1\r\n\r\nabcd",
            b"INVITE sip:a@b SIP/2.0\r\n Content-Length: 1\r\nl: 2\r\n\r\nabcd",
            b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n",
        ];
        let mut valued = 0;
        for raw in samples {
            let body_start = find_header_end(raw, 0).expect("a header block");
            let (range, truncated) = datagram_message(raw, 0);
            match content_length(&raw[..body_start]) {
                ContentLength::Value(_) => {
                    valued += 1;
                    let grammar = crate::sip::message_len(raw);
                    assert_eq!(grammar.is_none(), truncated, "{raw:?}");
                    assert_eq!(grammar.unwrap_or(raw.len()), range.end, "{raw:?}");
                }
                ContentLength::Invalid | ContentLength::Absent => {
                    assert!(!truncated, "{raw:?}");
                }
            }
        }
        assert_eq!(valued, 10);
    }

    #[test]
    fn a_broken_request_line_is_still_sip() {
        assert_eq!(
            find_start(b"CANCEL sip:a@b SIP/2.0\r7Via: SIP/2.0/UDP x\r\n\r\n"),
            Some(0)
        );
        assert_eq!(
            find_start(b"OPTIONS sip:a@b SIP/2.O\r\nVia: x\r\n\r\n"),
            Some(0)
        );
        assert_eq!(find_start(b"hello\rworld\n"), None);
        assert_eq!(find_start(b"FOO sip:a@b SIP/2.0\rjunk\n"), None);
        assert_eq!(find_start(b"GET /index.html HTTP/1.1\r\n"), None);
        assert_eq!(find_start(b"INVITE sip:"), None);
    }

    #[test]
    fn header_end_is_found_incrementally() {
        let b = b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\nbody";
        assert_eq!(find_header_end(b, 0), Ok(34));
        let cut = &b[..25];
        let Err(resume) = find_header_end(cut, 0) else {
            panic!("incomplete")
        };
        assert_eq!(find_header_end(b, resume), Ok(34));
        assert_eq!(find_header_end(b"A sip:x SIP/2.0\n\nxx", 0), Ok(17));
        assert_eq!(find_header_end(b"A sip:x SIP/2.0\r\n\r", 0), Err(16));
    }

    #[test]
    fn content_length_mirrors_the_grammar() {
        let b = b"INVITE sip:a@b SIP/2.0\r\nl: 12\r\nContent-Length: 3\r\n\r\n";
        assert_eq!(content_length(b), ContentLength::Value(12));
        assert_eq!(
            content_length(b"SIP/2.0 200 OK\r\nContent-Length: bad\r\n\r\n"),
            ContentLength::Invalid
        );
        assert_eq!(
            content_length(b"SIP/2.0 200 OK\r\nX: 1\r\n\r\n"),
            ContentLength::Absent
        );
    }

    #[test]
    fn junk_before_the_start_line() {
        assert_eq!(find_start(b"DBREGISTER sip:1.1.1.1 SIP/2.0\r\n"), Some(2));
        assert_eq!(find_start(b"\0\x01INVITE sip:a@b SIP/2.0\r\n"), Some(2));
        assert_eq!(find_start(b"FOO sip:a@b SIP/2.0\r\n"), Some(0));
        assert_eq!(find_start(b"\x80\x00INVITE bob SIP/2.0\r\n"), None);
        assert_eq!(
            find_start(b"\x80\x00\x01\x02\x03\x04\x05\x06\x07INVITE sip:a SIP/2.0\n"),
            None
        );
        assert_eq!(find_start(b"hello"), None);
    }

    #[test]
    fn the_media_prefilter_never_rejects_a_start_line() {
        // `may_start` lets media go before any line is looked for; it must never reject what
        // `find_start` would accept: start lines behind 0 to 10 random bytes, and random bytes.
        let lines: [&[u8]; 7] = [
            b"INVITE sip:a@b SIP/2.0\r\n",
            b"SIP/2.0 200 OK\r\n",
            b"sip/2.0 180 Ringing\n",
            b"DBREGISTER sip:1.1.1.1 SIP/2.0\r\n",
            b"CANCEL sip:x SIP/2.O\r\n",
            b"FOO sip:a@b SIP/2.0\r\n",
            b"",
        ];
        let mut rng = crate::testutil::Lcg(15);
        let mut found = 0;
        for _ in 0..50_000 {
            let mut b: Vec<u8> = (0..rng.below(11)).map(|_| rng.below(256) as u8).collect();
            b.extend_from_slice(lines[rng.below(7) as usize]);
            b.extend((0..rng.below(4)).map(|_| rng.below(256) as u8));
            if find_start(&b).is_some() {
                found += 1;
                assert!(may_start(&b), "{b:?}");
            }
        }
        assert!(found > 20_000, "{found}");
        // RTP (version 2: a first byte of 0x80 and up) with no method at the junk offsets.
        let rtp = [
            0x80, 0x00, 0x12, 0x34, 0, 0, 0x0a, 0, 0xde, 0xad, 0xbe, 0xef, 0x7f,
        ];
        assert!(!may_start(&rtp));
        assert!(matches!(split_unit(&rtp), Unit::NotSip));
    }

    #[test]
    fn stun_and_keepalives() {
        let mut stun = vec![0x00, 0x01, 0x00, 0x04, 0x21, 0x12, 0xa4, 0x42];
        stun.extend_from_slice(&[0; 12]);
        stun.extend_from_slice(&[0; 4]);
        assert!(is_stun(&stun));
        assert!(!is_stun(&stun[..20]));
        assert!(is_keepalive(b"\r\n\r\n"));
        assert!(is_keepalive(&[0, 0, 0, 0]));
        assert!(!is_keepalive(b"hello"));
    }
}
