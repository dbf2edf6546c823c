//! Header names and header-value list handling.
//!
//! Owns: the mapping of header names as written (full and compact forms, RFC 3261 §7.3.3 and
//! the compact forms registered by RFC 3265, 3515, 3841, 4028, 4474) to [`HeaderName`], which
//! headers are comma-separated lists, and the quote- and `<…>`-aware splitting of such lists.
//! Does not own: finding header lines in a message (see `grammar`) or interpreting a value
//! (see `views`).

use std::borrow::Cow;
use std::ops::Range;

use super::HeaderName;

impl HeaderName {
    /// Maps a header name as written (case-insensitive, compact forms included) to its
    /// [`HeaderName`]; unknown names give [`HeaderName::Other`].
    pub fn from_name(name: &str) -> HeaderName {
        HeaderName::from_bytes(name.trim().as_bytes())
    }

    /// [`HeaderName::from_name`] of a name as it is in the raw bytes (no blanks around it):
    /// the grammar's lookup, without decoding the name.
    pub(crate) fn from_bytes(name: &[u8]) -> HeaderName {
        if let [c] = name {
            return match c.to_ascii_lowercase() {
                b'i' => HeaderName::CallId,
                b'm' => HeaderName::Contact,
                b'e' => HeaderName::ContentEncoding,
                b'l' => HeaderName::ContentLength,
                b'c' => HeaderName::ContentType,
                b'f' => HeaderName::From,
                b's' => HeaderName::Subject,
                b'k' => HeaderName::Supported,
                b't' => HeaderName::To,
                b'v' => HeaderName::Via,
                b'o' => HeaderName::Event,
                b'u' => HeaderName::AllowEvents,
                b'r' => HeaderName::ReferTo,
                b'b' => HeaderName::ReferredBy,
                b'x' => HeaderName::SessionExpires,
                b'y' => HeaderName::Identity,
                b'a' => HeaderName::AcceptContact,
                b'j' => HeaderName::RejectContact,
                b'd' => HeaderName::RequestDisposition,
                _ => HeaderName::Other,
            };
        }
        ALL.iter()
            .find(|(_, full)| {
                full.len() == name.len() && full.as_bytes().eq_ignore_ascii_case(name)
            })
            .map_or(HeaderName::Other, |(h, _)| *h)
    }

    /// The canonical full name (`Call-ID`, `WWW-Authenticate` …); `""` for [`HeaderName::Other`].
    pub fn as_str(&self) -> &'static str {
        ALL.iter()
            .find(|(h, _)| h == self)
            .map_or("", |(_, full)| full)
    }

    /// Whether the header's grammar is a comma-separated list (`#element`), so that one header
    /// line may carry several values. Authentication headers and Date-like values are not.
    pub fn is_list(&self) -> bool {
        matches!(
            self,
            HeaderName::Via
                | HeaderName::Contact
                | HeaderName::Route
                | HeaderName::RecordRoute
                | HeaderName::Require
                | HeaderName::Supported
                | HeaderName::Allow
                | HeaderName::AllowEvents
                | HeaderName::Reason
                | HeaderName::AcceptContact
                | HeaderName::RejectContact
                | HeaderName::RequestDisposition
                | HeaderName::ContentEncoding
        )
    }
}

const ALL: &[(HeaderName, &str)] = &[
    (HeaderName::Via, "Via"),
    (HeaderName::From, "From"),
    (HeaderName::To, "To"),
    (HeaderName::CallId, "Call-ID"),
    (HeaderName::CSeq, "CSeq"),
    (HeaderName::Contact, "Contact"),
    (HeaderName::MaxForwards, "Max-Forwards"),
    (HeaderName::ContentType, "Content-Type"),
    (HeaderName::ContentLength, "Content-Length"),
    (HeaderName::ContentEncoding, "Content-Encoding"),
    (HeaderName::Expires, "Expires"),
    (HeaderName::MinExpires, "Min-Expires"),
    (HeaderName::Reason, "Reason"),
    (HeaderName::UserAgent, "User-Agent"),
    (HeaderName::Server, "Server"),
    (HeaderName::RecordRoute, "Record-Route"),
    (HeaderName::Route, "Route"),
    (HeaderName::WwwAuthenticate, "WWW-Authenticate"),
    (HeaderName::ProxyAuthenticate, "Proxy-Authenticate"),
    (HeaderName::Authorization, "Authorization"),
    (HeaderName::ProxyAuthorization, "Proxy-Authorization"),
    (HeaderName::SessionExpires, "Session-Expires"),
    (HeaderName::MinSe, "Min-SE"),
    (HeaderName::Require, "Require"),
    (HeaderName::Supported, "Supported"),
    (HeaderName::Allow, "Allow"),
    (HeaderName::Event, "Event"),
    (HeaderName::AllowEvents, "Allow-Events"),
    (HeaderName::Subject, "Subject"),
    (HeaderName::ReferTo, "Refer-To"),
    (HeaderName::ReferredBy, "Referred-By"),
    (HeaderName::AcceptContact, "Accept-Contact"),
    (HeaderName::RejectContact, "Reject-Contact"),
    (HeaderName::RequestDisposition, "Request-Disposition"),
    (HeaderName::Identity, "Identity"),
];

/// The bytes of `s` outside double-quoted strings (with `\` escapes), with their offsets.
/// The quote characters themselves are not yielded.
pub(crate) fn unquoted_bytes(s: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let mut in_quote = false;
    let mut escaped = false;
    s.bytes().enumerate().filter(move |&(_, c)| {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_quote = false;
            }
            false
        } else if c == b'"' {
            in_quote = true;
            false
        } else {
            true
        }
    })
}

/// Splits `s` at `sep` bytes that are outside double quotes (with `\` escapes) and outside
/// `<…>`. Yields the byte ranges of the pieces, trimmed of blanks; empty pieces are dropped.
pub(crate) fn split_outside(s: &str, sep: u8) -> SplitOutside<'_> {
    SplitOutside {
        s,
        sep,
        pos: 0,
        done: false,
    }
}

/// The iterator of [`split_outside`]: one scan, nothing collected.
#[derive(Debug, Clone)]
pub(crate) struct SplitOutside<'a> {
    s: &'a str,
    sep: u8,
    /// Where the next piece starts.
    pos: usize,
    done: bool,
}

impl Iterator for SplitOutside<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        let b = self.s.as_bytes();
        while !self.done {
            let start = self.pos;
            let end = self.piece_end(start);
            if end == b.len() {
                self.done = true;
            } else {
                self.pos = end + 1;
            }
            if let Some(r) = trimmed(self.s, start..end) {
                return Some(r);
            }
        }
        None
    }
}

impl SplitOutside<'_> {
    /// Where the piece that starts at `from` ends: the next separator outside quotes and
    /// `<…>`, else the end. Jumps from one byte that matters to the next (memchr).
    fn piece_end(&self, from: usize) -> usize {
        let b = self.s.as_bytes();
        let mut i = from;
        let mut in_angle = false;
        loop {
            let tail = b.get(i..).unwrap_or(&[]);
            let hit = if in_angle {
                memchr::memchr2(b'>', b'"', tail)
            } else {
                memchr::memchr3(self.sep, b'"', b'<', tail)
            };
            let Some(at) = hit.map(|n| i + n) else {
                return b.len();
            };
            match b.get(at) {
                Some(b'"') => match close_quote(b, at) {
                    Some(next) => i = next,
                    None => return b.len(),
                },
                Some(b'<') => {
                    in_angle = true;
                    i = at + 1;
                }
                Some(b'>') => {
                    in_angle = false;
                    i = at + 1;
                }
                _ => return at,
            }
        }
    }
}

/// Just past the quote that closes the quoted string opening at `b[open]` (`\` escapes
/// honoured); `None` if it does not close.
fn close_quote(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        let at = i + memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b.get(at) == Some(&b'"') {
            return Some(at + 1);
        }
        i = at + 2;
    }
}

/// `r` without the blanks around it, if anything is left.
fn trimmed(s: &str, r: Range<usize>) -> Option<Range<usize>> {
    let piece = s.get(r.clone())?;
    let lead = piece.len() - piece.trim_start().len();
    let len = piece.trim().len();
    (len > 0).then(|| r.start + lead..r.start + lead + len)
}

/// Splits a header value into its comma-separated elements, keeping the borrow when there is one.
pub(crate) fn split_list<'a>(v: Cow<'a, str>, out: &mut Vec<Cow<'a, str>>) {
    match v {
        Cow::Borrowed(s) => {
            out.extend(split_outside(s, b',').filter_map(|r| s.get(r).map(Cow::Borrowed)))
        }
        Cow::Owned(s) => out.extend(
            split_outside(&s, b',').filter_map(|r| s.get(r).map(|p| Cow::Owned(p.to_string()))),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_full_names() {
        let cases = [
            ("i", HeaderName::CallId),
            ("m", HeaderName::Contact),
            ("e", HeaderName::ContentEncoding),
            ("l", HeaderName::ContentLength),
            ("c", HeaderName::ContentType),
            ("f", HeaderName::From),
            ("s", HeaderName::Subject),
            ("k", HeaderName::Supported),
            ("t", HeaderName::To),
            ("V", HeaderName::Via),
            ("o", HeaderName::Event),
            ("u", HeaderName::AllowEvents),
            ("r", HeaderName::ReferTo),
            ("b", HeaderName::ReferredBy),
            ("x", HeaderName::SessionExpires),
            ("y", HeaderName::Identity),
            ("a", HeaderName::AcceptContact),
            ("j", HeaderName::RejectContact),
            ("d", HeaderName::RequestDisposition),
            ("z", HeaderName::Other),
            ("call-id", HeaderName::CallId),
            ("WWW-AUTHENTICATE", HeaderName::WwwAuthenticate),
            ("min-se", HeaderName::MinSe),
            ("X-Call-ID", HeaderName::Other),
            ("", HeaderName::Other),
        ];
        for (name, want) in cases {
            assert_eq!(HeaderName::from_name(name), want, "{name}");
        }
        assert_eq!(HeaderName::CallId.as_str(), "Call-ID");
        assert_eq!(HeaderName::Other.as_str(), "");
    }

    #[test]
    fn split_respects_quotes_and_angles() {
        let s = r#""Doe, \"J\"" <sip:a@b;x=1,2>;q=1 , <sip:c@d> ,, "#;
        let parts: Vec<&str> = split_outside(s, b',').map(|r| &s[r]).collect();
        assert_eq!(
            parts,
            vec![r#""Doe, \"J\"" <sip:a@b;x=1,2>;q=1"#, "<sip:c@d>"]
        );
    }
}
