//! SF041 `invalid-sdp`: a body declared `application/sdp` that is not SDP at all.
//!
//! Owns: whether the body of a message whose Content-Type is `application/sdp` begins with the
//! `v=` line every SDP description starts with (RFC 4566 §5), and what became of the message.
//! Does not own: SDP that starts right but has odd or missing lines (sipflow's SDP reader and
//! the SDP rules: `no-common-codec`, `private-address-in-sdp` …), bodies the input holds only in
//! part or whose Content-Length is wrong (`content-length-mismatch`, `truncated-log-record`),
//! multipart bodies.

use std::fmt::Write as _;
use std::ops::Range;

use super::fate::{self, Fate};
use crate::event::Event;
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF041",
    name: "invalid-sdp",
    severity: Severity::Warning,
    scope: Scope::Message,
    judges_time: false,
    summary: "a body declared application/sdp is not SDP (it does not start with v=)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A request or response whose `Content-Type` is `application/sdp` but whose body is not an SDP
description at all: its first non-blank line is not the `v=` line that every SDP description
starts with (RFC 4566 §5, RFC 8866 §5). The finding quotes what the body starts with (escaped,
cut to 40 characters), gives its size, and points at the `Content-Type` header and the body's
first line.

The test is deliberately narrow. A body that starts with `v=` is SDP for this rule even when
later lines are odd or missing (an `m=` line sipflow cannot read, no `o=`): those are other
rules' business. Not reported: an empty body or one of only blank lines (`Content-Length: 0`
with `Content-Type: application/sdp` is legal), a body the input holds only in part (a capture
or log that ends inside it, a pjsip dump cut by its log record limit) or that is shorter than
its Content-Length (`content-length-mismatch`), multipart bodies, retransmissions (one finding
per message, whichever inputs saw it).

## Why it matters
The receiver cannot read the offer or answer. A UA answers an INVITE whose offer it cannot
parse with `400 Bad Request` or `488 Not Acceptable Here` (pjsip answers `400 Bad SDP`), or
drops it; a 2xx or ACK carrying an unreadable answer leaves the media unnegotiated, and the UA
usually hangs up at once. A proxy, SBC or B2BUA may pass the body on unread, so the failure
appears one or several hops later, at the first element that parses SDP.

## Severity
Default **warning**: the trace does not show the body doing harm (the request was answered
`2xx`, or only provisionally, or not at all while the input is too short to tell; a response
or ACK). **Error** when the trace shows the failure: the request was refused with `400`,
`415`, `488`, `500` or `606` (codes that refuse a request's content; other refusals such as
`486 Busy Here` or a `407` challenge do not name the body), or got no response while the input
covers its transaction timer (32 s) although its sender retransmitted it, or (a final response,
an ACK) the peer kept sending its own message again after it, as a receiver that discarded it
does.

## Typical causes
- A test tool or scanner that sends filler (`XXXX…`) or random bytes as the body (fuzzers,
  IDS test captures, load tests with a placeholder body).
- An application or script that sets `Content-Type: application/sdp` on a body of another kind
  (JSON, XML, plain text), or on an SDP template whose placeholders were never filled.
- A B2BUA, SBC or SIP ALG that rewrites the body and corrupts it (a cut, a wrong encoding,
  binary garbage), or a transcoding or compression step that leaves a compressed body.
- A body encoded twice (base64, quoted-printable, `Content-Encoding: gzip`) without saying so.

## How to fix
Find the element that produced the body (the sender of the first message that carries it;
compare the body on each hop when the trace has several) and make it send a real SDP
description starting with `v=0`, or declare the body's real type in `Content-Type` (or send no
body and no `Content-Type`). In a test tool, use a real SDP template (SIPp's `[media_ip]`,
`[media_port]` keywords).

## Example
From `fixtures/rules-message-extra/invalid-sdp/refused.pcap` (a SIPp UAC sends an INVITE whose
`application/sdp` body is 300 `X`s to a pjsua2 callee):
```
INVITE sip:callee@127.0.0.1:5863 SIP/2.0
…
Content-Type: application/sdp
Content-Length: 302

XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX…
```
pjsip (2.15.1) refuses it itself, with `400 Bad SDP` and
`Warning: 399 vm "Invalid SDP descriptor (PJMEDIA_SDP_EINSDP)"`: sipflow reports an error. The
same INVITE answered `200 OK` by a SIPp UAS that does not read the body (`answered.pcap`) is a
warning.

## References
- RFC 4566 §5 and RFC 8866 §5 (SDP: `v=` comes first)
- RFC 3264 §5, §6 (offer/answer), RFC 3261 §13.3.1.4, §21.4.26 (`488 Not Acceptable Here`)
- RFC 3261 §21.4.13 (`415 Unsupported Media Type`)
"#;

/// Final responses that refuse a request's content: the body is the likely reason.
const REFUSALS: [u16; 5] = [400, 415, 488, 500, 606];

/// Characters of the body quoted in a finding.
const QUOTED: usize = 40;

/// A body declared `application/sdp` that is not SDP.
#[derive(Debug, PartialEq, Eq)]
struct NotSdp {
    /// The body's first non-blank line, without leading blanks or its line end: a span in the
    /// message's raw bytes.
    first_line: Range<usize>,
    /// The body's size: the bytes a receiver reads.
    size: usize,
}

/// Whether `m`'s body is declared `application/sdp` but does not start with `v=`. `None` also
/// when the body is empty or blank, or shorter than its Content-Length (the input, or
/// `content-length-mismatch`'s problem).
fn not_sdp(m: &SipMessage) -> Option<NotSdp> {
    if m.content_type().as_deref() != Some("application/sdp") {
        return None;
    }
    let mut body = m.body();
    if let Some(declared) = m.content_length() {
        // A receiver on a message transport reads Content-Length bytes (RFC 3261 §18.3).
        body = body.get(..declared)?;
    }
    let base = m.body_span().start;
    let mut at = 0;
    for line in body.split_inclusive(|&b| b == b'\n') {
        let start = at + (line.len() - line.trim_ascii_start().len());
        at += line.len();
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        if text.starts_with(b"v=") {
            return None;
        }
        return Some(NotSdp {
            first_line: base + start..base + start + text.len(),
            size: body.len(),
        });
    }
    None
}

/// Up to [`QUOTED`] characters of `bytes`, escaped: printable characters as they are, control
/// and other unprintable characters as Rust escapes (`\r`, `\u{1b}`), bytes that are not UTF-8
/// as `\xff`; `…` when cut.
fn quote(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut n = 0;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if n == QUOTED {
                out.push('…');
                return out;
            }
            n += 1;
            if c == '\'' {
                out.push(c);
            } else {
                out.extend(c.escape_debug());
            }
        }
        for b in chunk.invalid() {
            if n == QUOTED {
                out.push('…');
                return out;
            }
            n += 1;
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    for (w, wire) in model.messages.iter().enumerate() {
        if wire.retransmission {
            continue;
        }
        // A sighting that holds the whole message: one cut by its input says nothing of the
        // body that was sent.
        let Some((event, m)) = wire
            .sightings
            .iter()
            .find_map(|&s| match model.events.get(s) {
                Some(Event::Message(ev)) if !ev.truncated() => ev.parsed().map(|m| (s, m)),
                _ => None,
            })
        else {
            continue;
        };
        let Some(bad) = not_sdp(m) else { continue };
        let body = m.body();
        let start = bad.first_line.start - m.body_span().start;
        let shown = quote(body.get(start..bad.size).unwrap_or_default());
        // Copies of a request that are not SDP either: only those show its sender waiting.
        let alike = |c: usize| {
            model
                .message(c)
                .parsed()
                .is_some_and(|copy| not_sdp(copy).is_some())
        };
        let fate = fate::of(ctx, w, m, &REFUSALS, &alike);
        let effect = match &fate {
            Fate::Refused { response } => {
                format!("it was refused with {}", fate::status(ctx, *response))
            }
            Fate::Answered { response } => {
                let code = model
                    .message(*response)
                    .parsed()
                    .and_then(SipMessage::status)
                    .unwrap_or_default();
                let status = fate::status(ctx, *response);
                match code {
                    100..=199 => format!(
                        "only {status} came back in the input: the receiver had not yet read \
                         the body"
                    ),
                    200..=299 => format!(
                        "it was answered {status}: the receiver did not read the body as an \
                         offer, or passed it on unread; a receiver that parses SDP answers 400 \
                         or 488"
                    ),
                    _ => format!(
                        "it was answered {status}, which does not refuse the body; a receiver \
                         that parses SDP answers 400 or 488"
                    ),
                }
            }
            Fate::Unanswered { covered_ms, .. } if fate.failed() => format!(
                "it got no response in the {} the input covers after it although its sender \
                 retransmitted it: the receiver dropped it",
                crate::rules::secs(*covered_ms)
            ),
            Fate::Unanswered { .. } => "no response to it is in the input".to_string(),
            Fate::Ignored { copies, .. } => format!(
                "its peer sent its own message {copies} more times after it: the peer did not \
                 take it"
            ),
            Fate::Unknown => "a receiver that parses SDP cannot read the offer or answer, and \
                              fails the call"
                .to_string(),
        };
        let mut f = Finding::new(
            &RULE,
            model.message_owner[w],
            format!(
                "the {}{} declares Content-Type application/sdp, but its {}-byte body is not \
                 SDP: it starts \"{shown}\", not with a v= line (RFC 4566 §5); {effect}",
                fate::what(m),
                fate::from(ctx, w),
                bad.size,
            ),
            "make the sender put a real SDP description (starting with v=0) in the body, or \
             declare the body's real type in Content-Type; find the element that produced it \
             by comparing the body on each hop"
                .into(),
        )
        .with_span(
            event,
            m.header_span(HeaderName::ContentType),
            "Content-Type: application/sdp",
        )
        .with_span(event, bad.first_line.clone(), "the body's first line");
        if fate.failed() {
            f.severity = Severity::Error;
        }
        out.push(fate.evidence(ctx, f));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An INVITE whose body is `body`, with `Content-Type: {ct}` and `Content-Length: {cl}`
    /// (the body's length when `None`).
    fn invite(ct: &str, body: &[u8], cl: Option<usize>) -> SipMessage {
        let mut raw = format!(
            "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
             From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\
             Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            cl.unwrap_or(body.len())
        )
        .into_bytes();
        raw.extend_from_slice(body);
        SipMessage::parse(&raw).expect("parses")
    }

    fn sdp(body: &[u8]) -> Option<NotSdp> {
        not_sdp(&invite("application/sdp", body, None))
    }

    fn first_line(body: &[u8]) -> Option<String> {
        let m = invite("application/sdp", body, None);
        let bad = not_sdp(&m)?;
        Some(String::from_utf8_lossy(&m.raw()[bad.first_line]).into_owned())
    }

    #[test]
    fn filler_is_not_sdp() {
        let body = "X".repeat(300);
        let m = invite("application/sdp", body.as_bytes(), None);
        let bad = not_sdp(&m).expect("not SDP");
        assert_eq!(bad.size, 300);
        assert_eq!(&m.raw()[bad.first_line], body.as_bytes());
        // Compact form and parameters, any case.
        assert!(not_sdp(&invite("Application/SDP ; charset=x", b"XXX\r\n", None)).is_some());
    }

    #[test]
    fn sdp_after_blank_lines_is_sdp() {
        assert_eq!(sdp(b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"), None);
        assert_eq!(sdp(b"\r\n\r\n  v=0\r\nm=audio 4000 RTP/AVP 0\r\n"), None);
        // Odd lines after v= are not this rule's: sipflow's SDP reader judges them.
        assert_eq!(sdp(b"v=0\r\nm=nonsense\r\n"), None);
        assert_eq!(sdp(b"v=0"), None);
    }

    #[test]
    fn empty_and_blank_bodies_are_not_faults() {
        assert_eq!(sdp(b""), None);
        assert_eq!(sdp(b"\r\n"), None);
        assert_eq!(sdp(b"\r\n\r\n \t\r\n"), None);
    }

    #[test]
    fn other_types_are_not_judged() {
        assert_eq!(not_sdp(&invite("text/plain", b"XXXX", None)), None);
        assert_eq!(
            not_sdp(&invite(
                "multipart/mixed;boundary=b",
                b"--b\r\nContent-Type: application/sdp\r\n\r\nXXXX\r\n--b--\r\n",
                None
            )),
            None
        );
    }

    #[test]
    fn a_body_shorter_than_its_content_length_is_not_judged() {
        // The input ends inside the body, or the length is wrong: not this rule's.
        assert_eq!(
            not_sdp(&invite("application/sdp", b"XXXX", Some(4000))),
            None
        );
        // A shorter Content-Length: the receiver reads only that much.
        let m = invite("application/sdp", b"v=0\r\nXXXX", Some(5));
        assert_eq!(not_sdp(&m), None);
        let m = invite("application/sdp", b"XXXX\r\nv=0\r\n", Some(6));
        assert_eq!(not_sdp(&m).map(|b| b.size), Some(6));
        let m = invite("application/sdp", b"XXXX", Some(0));
        assert_eq!(not_sdp(&m), None);
    }

    #[test]
    fn the_first_line_is_the_first_non_blank_one() {
        assert_eq!(
            first_line(b"\r\n  hello world \r\nv=0\r\n").as_deref(),
            Some("hello world")
        );
        assert_eq!(first_line(b"V=0\r\n").as_deref(), Some("V=0"));
    }

    #[test]
    fn quotes_are_escaped_and_cut() {
        assert_eq!(quote(b"abc"), "abc");
        assert_eq!(quote(&[b'X'; 50]), format!("{}…", "X".repeat(40)));
        assert_eq!(quote(b"a\r\nb\x1b[2J"), "a\\r\\nb\\u{1b}[2J");
        assert_eq!(quote(b"say \"hi\""), "say \\\"hi\\\"");
        // Invalid UTF-8 byte by byte; valid non-ASCII text as it is.
        assert_eq!(quote(b"\xff\xfeab"), "\\xff\\xfeab");
        assert_eq!(quote("caf\u{e9}".as_bytes()), "caf\u{e9}");
        // A bidi override is not printed as is.
        assert_eq!(quote("a\u{202e}b".as_bytes()), "a\\u{202e}b");
        assert_eq!(quote(&[0xc3; 45]).matches("\\xc3").count(), 40);
    }

    #[test]
    fn invalid_utf8_body_is_reported_escaped() {
        let m = invite("application/sdp", b"\x00\xff\xfe binary\r\n", None);
        let bad = not_sdp(&m).expect("not SDP");
        assert_eq!(
            quote(&m.raw()[bad.first_line.start..]),
            "\\0\\xff\\xfe binary\\r\\n"
        );
    }
}
