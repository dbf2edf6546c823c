//! Header syntax as a strict receiver checks it (RFC 3261 §7.3.1, §20, §25), for diagnosis.
//!
//! Owns: [`SipMessage::header_problems`]: the headers whose syntax matching and routing depend
//! on (From, To, Call-ID, CSeq, Via, Contact, Route, Record-Route, Max-Forwards, and the Digest
//! challenges and credentials) checked against their grammar, and the headers that must appear
//! at most once (To, From, Call-ID, CSeq, Max-Forwards, Content-Length) counted, and a request
//! that exists only in a dialog (BYE, PRACK, UPDATE, INFO) with no To tag. Parsing stays
//! lenient: the views go on reading what they can; this only says where a strict parser stops.
//!
//! What is legal stays quiet: quoted display names with `\` escapes and commas, unquoted
//! display names of several tokens, compact forms, `;lr` and other parameters without a value,
//! IPv6 references, comma lists where the header's grammar has them, a bare IPv6 address in
//! `received`, parameter values with the characters of URI parameters (`&`, `/`), any
//! authentication scheme other than Digest (whose credentials need not be
//! `name=value` lists: `Bearer <token>`). One leniency, on purpose: bytes above 0x7F in an
//! unquoted display name are accepted (UTF-8 names are common, and no parser splits on them).
//!
//! Does not own: Content-Length's value and the framing (the grammar's [`SipMessage::issues`]),
//! which headers are mandatory (the `missing-mandatory-header` rule), or what a value means
//! (`views`, `uri`).

use super::grammar::{class, is_token_char, quoted_end};
use super::header::split_outside;
use super::uri::parse_u32;
use super::{HeaderName, IssueKind, ParseIssue, SipMessage};

/// The headers that may appear only once (RFC 3261 §7.3.1: only headers whose grammar is a
/// comma list may repeat; these are the ones matching and framing read).
const SINGLE: [HeaderName; 6] = [
    HeaderName::To,
    HeaderName::From,
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::MaxForwards,
    HeaderName::ContentLength,
];

impl SipMessage {
    /// The headers a strict parser rejects: a value that breaks its header's grammar
    /// ([`IssueKind::BadHeaderValue`]), a second instance of a header that appears once
    /// ([`IssueKind::RepeatedHeader`]), or a line of the header block that is no header
    /// ([`IssueKind::BadHeaderLine`], found by the grammar); each with the span of the whole
    /// header or line ([`super::Header::span`]), in wire order. Computed on demand (a rule asks; correlation
    /// does not).
    pub fn header_problems(&self) -> Vec<ParseIssue> {
        let mut out = Vec::new();
        // The SINGLE headers seen so far, one bit each.
        let mut seen = 0u8;
        for h in &self.headers {
            let single = SINGLE.iter().position(|&n| n == h.name).map(|i| 1u8 << i);
            let repeated = single.is_some_and(|bit| seen & bit != 0);
            seen |= single.unwrap_or(0);
            let problem = if repeated {
                Some((
                    IssueKind::RepeatedHeader,
                    format!(
                        "a second {} header: it may appear only once (RFC 3261 §7.3.1, §20)",
                        h.name.as_str()
                    ),
                ))
            } else {
                check(self, h).err().map(|why| {
                    (
                        IssueKind::BadHeaderValue,
                        format!("{}: {why}", h.name.as_str()),
                    )
                })
            };
            if let Some((kind, message)) = problem {
                out.push(ParseIssue {
                    kind,
                    message,
                    span: h.span.clone(),
                });
            }
        }
        if let Some(p) = self.untagged_in_dialog() {
            out.push(p);
        }
        // Lines of the header block that are no header at all.
        for i in self
            .issues
            .iter()
            .filter(|i| i.kind == IssueKind::BadHeaderLine)
        {
            let line = String::from_utf8_lossy(self.bytes(&i.span));
            out.push(ParseIssue {
                kind: i.kind,
                message: format!("`{}`: {}", shown(line.trim()), i.message),
                span: i.span.clone(),
            });
        }
        out.sort_by_key(|p| p.span.start);
        out
    }
}

/// Requests that exist only inside a dialog (RFC 3261 §15.1.1 BYE, RFC 3262 PRACK, RFC 3311
/// UPDATE, RFC 6086 INFO), so their To header carries the dialog's remote tag.
const IN_DIALOG_ONLY: [&str; 4] = ["BYE", "PRACK", "UPDATE", "INFO"];

impl SipMessage {
    /// A request of [`IN_DIALOG_ONLY`] whose To has no tag: it matches no dialog at its
    /// receiver (RFC 3261 §12.2.2: 481). Says so when `tag=` sits inside the URI's angle
    /// brackets, where it is a URI parameter, not the header's tag.
    fn untagged_in_dialog(&self) -> Option<ParseIssue> {
        let method = self.method().filter(|m| IN_DIALOG_ONLY.contains(m))?;
        let to = self.headers_named(HeaderName::To).next()?;
        if self.to_tag().is_some() {
            return None;
        }
        let value = self.value(to);
        let in_uri = value
            .split_once('<')
            .and_then(|(_, rest)| rest.split_once('>'))
            .is_some_and(|(uri, _)| uri.to_ascii_lowercase().contains(";tag="));
        let why = if in_uri {
            " (its `tag=` is inside the angle brackets: a parameter of the URI, not the \
             header's tag)"
        } else {
            ""
        };
        Some(ParseIssue {
            kind: IssueKind::NoDialogTag,
            message: format!(
                "To: a {method} is sent inside a dialog, but this To has no tag{why}, so it \
                 matches no dialog (RFC 3261 §12.2.1.1, §12.2.2)"
            ),
            span: to.span.clone(),
        })
    }
}

type Check = Result<(), String>;

/// Checks one header's value against its grammar; headers not listed pass (their value is not
/// even decoded).
fn check(m: &SipMessage, h: &super::Header) -> Check {
    // The common shapes prove themselves on the bytes as written (one line, one element),
    // without decoding them.
    let raw = m.bytes(&h.value_span).trim_ascii();
    let one = || memchr::memchr2(b',', b'\n', raw).is_none();
    let proved = match h.name {
        HeaderName::From | HeaderName::To => {
            memchr::memchr(b'\n', raw).is_none() && plain_address_bytes(raw)
        }
        HeaderName::Contact | HeaderName::Route | HeaderName::RecordRoute => {
            one() && plain_address_bytes(raw)
        }
        HeaderName::Via => one() && plain_via(raw),
        _ => false,
    };
    if proved {
        return Ok(());
    }
    let v = || m.value(h);
    match h.name {
        HeaderName::From | HeaderName::To => address(&v(), false),
        HeaderName::Contact => list(&v(), |e| address(e, true)),
        HeaderName::Route | HeaderName::RecordRoute => list(&v(), |e| address(e, false)),
        HeaderName::Via => list(&v(), via),
        HeaderName::CallId => call_id(&v()),
        HeaderName::CSeq => cseq(&v(), m.method()),
        HeaderName::MaxForwards => max_forwards(&v()),
        HeaderName::WwwAuthenticate
        | HeaderName::ProxyAuthenticate
        | HeaderName::Authorization
        | HeaderName::ProxyAuthorization => auth(&v()),
        _ => Ok(()),
    }
}

/// Each element of a comma list (outside quotes and `<…>`).
fn list(v: &str, each: impl Fn(&str) -> Check) -> Check {
    // One element (no comma at all): what the split would yield, without splitting.
    if memchr::memchr(b',', v.as_bytes()).is_none() {
        let t = v.trim();
        return if t.is_empty() {
            Err("empty value".into())
        } else {
            each(t)
        };
    }
    let mut parts = split_outside(v, b',').peekable();
    if parts.peek().is_none() {
        return Err("empty value".into());
    }
    parts.filter_map(|r| v.get(r)).try_for_each(each)
}

/// A byte for messages: as it is when printable, else escaped (`\x18`).
fn byte(c: u8) -> String {
    if c.is_ascii_graphic() || c == b' ' {
        char::from(c).to_string()
    } else {
        c.escape_ascii().to_string()
    }
}

/// A printable excerpt of a value for messages (long values shortened).
fn shown(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        return s.to_string();
    }
    let cut: String = s.chars().take(MAX).collect();
    format!("{cut}…")
}

fn is_quoted_string(s: &str) -> bool {
    s.starts_with('"') && quoted_end(s) == Some(s.len())
}

/// `name-addr / addr-spec` followed by `*(SEMI generic-param)`: From, To, Contact (`*` too),
/// Route, Record-Route. The common shape proves itself in one pass ([`plain_address`]); the
/// full grammar reads the rest, and says what is wrong.
fn address(v: &str, star: bool) -> Check {
    if plain_address(v) {
        return Ok(());
    }
    full_address(v, star)
}

/// A cheap proof that [`full_address`] accepts `v`: `[display] <sip:[user@]host[:port]
/// [;uri-params]>[;name[=value]]…` (the display name quoted without `\` escapes, or tokens
/// and spaces) or `sip:[user@]host[:port][;name[=value]]…`, with a host name, IPv4 address or
/// IPv6 reference, and parameter values that are tokens: each piece checked by its byte class
/// in one pass. `false` proves nothing: anything else (other schemes, quoted parameter values,
/// escapes, tabs, empty parameters) goes to the full grammar.
pub(super) fn plain_address(v: &str) -> bool {
    plain_address_bytes(v.trim().as_bytes())
}

/// [`plain_address`] on the bytes of a value, trimmed.
fn plain_address_bytes(b: &[u8]) -> bool {
    let mut i = 0;
    match b.first() {
        Some(b'"') => {
            // The closing quote, with no escape before it.
            match memchr::memchr2(b'"', b'\\', b.get(1..).unwrap_or(&[])) {
                Some(n) if b.get(n + 1) == Some(&b'"') => i = n + 2,
                _ => return false,
            }
            while b.get(i) == Some(&b' ') {
                i += 1;
            }
        }
        Some(b'<') => {}
        _ => {
            // A display name of tokens and spaces before `<`, or else an addr-spec, whose URI
            // (no `<` in it) runs to the first `;`.
            i = b
                .iter()
                .position(|&c| !(is_token_char(c) || c == b' '))
                .unwrap_or(b.len());
            if b.get(i) != Some(&b'<') {
                let semi = memchr::memchr(b';', b).unwrap_or(b.len());
                return plain_sip_uri(b.get(..semi).unwrap_or(&[]))
                    && plain_params(b.get(semi..).unwrap_or(&[]));
            }
        }
    }
    if b.get(i) != Some(&b'<') {
        return false;
    }
    let inner = b.get(i + 1..).unwrap_or(&[]);
    let Some(gt) = memchr::memchr(b'>', inner) else {
        return false;
    };
    plain_sip_uri(inner.get(..gt).unwrap_or(&[]))
        && plain_params(inner.get(gt + 1..).unwrap_or(&[]))
}

/// `sip:` or `sips:`, URI bytes only, and a host name or IPv4 address with an optional port
/// (the proof behind [`plain_address`]; see [`uri`]).
fn plain_sip_uri(u: &[u8]) -> bool {
    let rest = match u {
        [b's', b'i', b'p', b':', rest @ ..] | [b's', b'i', b'p', b's', b':', rest @ ..] => rest,
        _ => return false,
    };
    if !u.iter().all(|&c| URI_CHAR[usize::from(c)]) {
        return false;
    }
    let rest = rest.split(|&c| c == b'?').next().unwrap_or(&[]);
    let hostpart = match memchr::memchr(b'@', rest) {
        Some(at) => rest.get(at + 1..).unwrap_or(&[]),
        None => rest,
    };
    let hostport = hostpart.split(|&c| c == b';').next().unwrap_or(&[]);
    if let Some(v6) = hostport.strip_prefix(b"[") {
        // `[address]` then nothing or `:port`.
        let Some(close) = memchr::memchr(b']', v6) else {
            return false;
        };
        let addr = v6.get(..close).unwrap_or(&[]);
        let after = v6.get(close + 1..).unwrap_or(&[]);
        return !addr.is_empty()
            && addr
                .iter()
                .all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
            && (after.is_empty() || after.strip_prefix(b":").is_some_and(plain_port));
    }
    let (host, port) = split_once_at(hostport, b':');
    !host.is_empty() && host.iter().all(|&c| HOST[usize::from(c)]) && port.is_none_or(plain_port)
}

/// A port number that fits in 16 bits.
fn plain_port(p: &[u8]) -> bool {
    (1..=5).contains(&p.len())
        && p.iter().all(u8::is_ascii_digit)
        && p.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0')) <= 65535
}

/// `*(";" token ["=" token])` with no blanks (the proof behind [`plain_address`]; see
/// [`params`]).
fn plain_params(p: &[u8]) -> bool {
    if p.is_empty() {
        return true;
    }
    let Some(p) = p.strip_prefix(b";") else {
        return false;
    };
    p.split(|&c| c == b';').all(|param| {
        let (name, value) = split_once_at(param, b'=');
        !name.is_empty()
            && name.iter().all(|&c| is_token_char(c))
            && value.is_none_or(|v| !v.is_empty() && v.iter().all(|&c| GEN_VALUE[usize::from(c)]))
    })
}

/// [`address`] by the full grammar.
pub(super) fn full_address(v: &str, star: bool) -> Check {
    let v = v.trim();
    if v.is_empty() {
        return Err("empty value".into());
    }
    if star && v == "*" {
        return Ok(());
    }
    // Where `<` is, outside a quoted display name.
    let lt = if v.starts_with('"') {
        let end = quoted_end(v).ok_or("the quoted display name is not closed")?;
        let rest = v.get(end..).unwrap_or("");
        let gap = rest.len() - rest.trim_start().len();
        if !rest.trim_start().starts_with('<') {
            return Err(format!(
                "the quoted display name {} is not followed by `<URI>`",
                shown(v.get(..end).unwrap_or(v))
            ));
        }
        end + gap
    } else {
        // An unquoted display name holds neither `<` nor `;`: whichever comes first tells a
        // name-addr from an addr-spec with parameters (whose quoted values may hold `<`).
        match v
            .find(['<', ';'])
            .filter(|&i| v.as_bytes().get(i) == Some(&b'<'))
        {
            Some(lt) => {
                let display = v.get(..lt).unwrap_or("");
                if let Some(c) = display
                    .bytes()
                    .find(|&c| !(is_token_char(c) || c == b' ' || c == b'\t' || c >= 0x80))
                {
                    return Err(format!(
                        "the display name `{}` is neither a quoted string nor a sequence of \
                         tokens (`{}` outside quotes)",
                        shown(display.trim()),
                        byte(c)
                    ));
                }
                lt
            }
            None => {
                // addr-spec: the URI runs to the first `;`, the rest are header parameters.
                let (uri_text, params_text) = match v.find(';') {
                    Some(i) => (v.get(..i).unwrap_or(""), v.get(i..).unwrap_or("")),
                    None => (v, ""),
                };
                uri(uri_text.trim())?;
                return params(params_text, "");
            }
        }
    };
    let inner = v.get(lt + 1..).unwrap_or("");
    let gt = inner.find('>').ok_or("`<` without its closing `>`")?;
    uri(inner.get(..gt).unwrap_or("").trim())?;
    params(inner.get(gt + 1..).unwrap_or(""), " after the `>`")
}

static URI_CHAR: [bool; 256] = class(b"-_.!~*'()%;/?:@&=+$,[]#");
static GEN_VALUE: [bool; 256] = class(b"-.!%*_+`'~:[]&/$()");
static CALL_ID_WORD: [bool; 256] = class(b"-.!%*_+`'~()<>:\\\"/[]?{}");
static HOST: [bool; 256] = class(b"-._");

/// Bytes that may appear in a URI: unreserved, reserved, `%` escapes, IPv6 brackets.
fn is_uri_char(c: u8) -> bool {
    URI_CHAR[usize::from(c)]
}

/// A URI as written inside `<…>` or as an addr-spec: `scheme:` and URI characters only; a
/// `sip:`/`sips:`/`tel:` URI must also parse (host, port).
fn uri(s: &str) -> Check {
    if s.is_empty() {
        return Err("empty URI".into());
    }
    let scheme = s.split(':').next().unwrap_or("");
    let scheme_ok = s.contains(':')
        && scheme
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c));
    if !scheme_ok {
        return Err(format!("`{}` is not a URI (no scheme)", shown(s)));
    }
    if let Some(c) = s.bytes().find(|&c| !is_uri_char(c)) {
        return Err(format!(
            "the URI `{}` contains `{}`, which a URI cannot hold unescaped",
            shown(s),
            byte(c)
        ));
    }
    let rest = s.get(scheme.len() + 1..).unwrap_or("");
    if scheme.eq_ignore_ascii_case("tel") {
        if rest.split(';').next().unwrap_or("").trim().is_empty() {
            return Err(format!("the URI `{}` has no number", shown(s)));
        }
    } else if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
        // As `Uri::parse` reads it, without building it: userinfo up to the first `@`, the
        // host and port up to the parameters or headers.
        let rest = rest.split('?').next().unwrap_or("");
        let hostpart = rest.split_once('@').map_or(rest, |(_, h)| h);
        let hostport = hostpart.split(';').next().unwrap_or("");
        host_port(hostport).map_err(|why| format!("{why} in `{}`", shown(s)))?;
    }
    Ok(())
}

/// `host[:port]`: a host name, IPv4 address or bracketed IPv6 reference, and a port that fits
/// in 16 bits.
fn host_port(s: &str) -> Check {
    let (host, port) = match s.strip_prefix('[') {
        Some(v6) => match v6.find(']') {
            Some(close) => (
                s.get(..close + 2).unwrap_or(""),
                v6.get(close + 1..).unwrap_or(""),
            ),
            None => (s, ""),
        },
        None => match s.find(':') {
            Some(i) => (s.get(..i).unwrap_or(""), s.get(i..).unwrap_or("")),
            None => (s, ""),
        },
    };
    if !is_host(host) {
        return Err(format!(
            "the host `{}` is not a host name or address",
            shown(host)
        ));
    }
    match port.strip_prefix(':') {
        None if port.is_empty() => Ok(()),
        Some(p)
            if !p.is_empty()
                && p.bytes().all(|c| c.is_ascii_digit())
                && p.parse::<u16>().is_ok() =>
        {
            Ok(())
        }
        _ => Err(format!("the port `{}` is not a port number", shown(port))),
    }
}

/// A host name, IPv4 address or bracketed IPv6 reference. `_` is accepted (DNS labels of
/// service records use it, and stacks write it).
fn is_host(h: &str) -> bool {
    match h.strip_prefix('[') {
        Some(v6) => v6.strip_suffix(']').is_some_and(|a| {
            !a.is_empty()
                && a.bytes()
                    .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        }),
        None => !h.is_empty() && h.bytes().all(|c| HOST[usize::from(c)]),
    }
}

/// `*(SEMI generic-param)` with blanks around; `where_` says where they are, for messages.
fn params(s: &str, where_: &str) -> Check {
    let t = s.trim();
    if t.is_empty() {
        return Ok(());
    }
    if !t.starts_with(';') {
        return Err(format!("`{}`{where_} is not a `;parameter`", shown(t)));
    }
    for r in split_outside(t, b';') {
        let piece = t.get(r).unwrap_or("");
        let (name, value) = match piece.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (piece.trim(), None),
        };
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(format!(
                "the parameter `{}`{where_} is not `name[=value]`",
                shown(piece)
            ));
        }
        if let Some(value) = value {
            gen_value(name, value)?;
        }
    }
    Ok(())
}

/// `gen-value = token / host / quoted-string`, read as pjsip and most stacks read it: the
/// characters of a URI parameter are accepted too (`&`, `/`, `$`, `(`, `)`, as in the tags some
/// PBXs write), and so is a bare IPv6 address (Via's `received`, RFC 3261 §20.42).
fn gen_value(name: &str, value: &str) -> Check {
    if value.is_empty() {
        return Err(format!("the parameter `{name}` has an empty value"));
    }
    if value.starts_with('"') {
        return if is_quoted_string(value) {
            Ok(())
        } else {
            Err(format!(
                "the value of `{name}` (`{}`) is not a closed quoted string",
                shown(value)
            ))
        };
    }
    match value.bytes().find(|&c| !GEN_VALUE[usize::from(c)]) {
        None => Ok(()),
        Some(c) => Err(format!(
            "the value of `{name}` (`{}`) is neither a token nor a quoted string (it holds \
             `{}`)",
            shown(value),
            byte(c)
        )),
    }
}

/// `sent-protocol LWS sent-by *(SEMI via-params)`. The common shape proves itself in one
/// pass ([`plain_via`]); the full grammar reads the rest, and says what is wrong.
fn via(v: &str) -> Check {
    if plain_via(v.as_bytes()) {
        return Ok(());
    }
    full_via(v)
}

/// [`via`] by the full grammar.
fn full_via(v: &str) -> Check {
    let head = super::views::via_head(v.trim())
        .ok()
        .filter(|(rest, _)| rest.trim_start().is_empty() || rest.trim_start().starts_with(';'));
    let Some((rest, (_, sent_by))) = head else {
        return Err(format!(
            "`{}` is not `SIP/2.0/transport host[:port];parameters`",
            shown(v.trim())
        ));
    };
    host_port(sent_by).map_err(|why| format!("{why} (sent-by)"))?;
    params(rest, "")
}

/// `b` cut at its first `sep`: what comes before, and what comes after if `sep` is there.
fn split_once_at(b: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    match memchr::memchr(sep, b) {
        Some(at) => (b.get(..at).unwrap_or(&[]), b.get(at + 1..)),
        None => (b, None),
    }
}

/// A cheap proof that [`via`] accepts `v`: `SIP/2.0/transport host[:port][;name[=value]]…`
/// with one space, a host name or IPv4 address, a port that fits in 16 bits and parameter
/// values that are tokens. `false` proves nothing (IPv6 references, blanks around the slashes
/// or parameters, quoted values go to the full grammar).
fn plain_via(v: &[u8]) -> bool {
    let Some(rest) = v.strip_prefix(b"SIP/2.0/") else {
        return false;
    };
    let Some(space) = memchr::memchr(b' ', rest) else {
        return false;
    };
    let (transport, rest) = rest.split_at(space);
    let rest = rest.get(1..).unwrap_or(&[]);
    if transport.is_empty() || !transport.iter().all(|&c| is_token_char(c)) {
        return false;
    }
    let semi = memchr::memchr(b';', rest).unwrap_or(rest.len());
    let (hostport, params) = rest.split_at(semi);
    let (host, port) = split_once_at(hostport, b':');
    !host.is_empty()
        && host.iter().all(|&c| HOST[usize::from(c)])
        && port.is_none_or(plain_port)
        && plain_params(params)
}

/// `word ["@" word]` (RFC 3261 §25.1).
fn call_id(v: &str) -> Check {
    let word = |w: &str| !w.is_empty() && w.bytes().all(|c| CALL_ID_WORD[usize::from(c)]);
    let ok = match v.split_once('@') {
        Some((a, b)) => word(a) && word(b),
        None => word(v),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not `word[@word]` (no blanks, commas or a second `@`)",
            shown(v)
        ))
    }
}

/// `1*DIGIT LWS Method`, and a request's CSeq names its own method (RFC 3261 §8.1.1.5).
fn cseq(v: &str, method: Option<&str>) -> Check {
    let Some((_, cseq_method)) = super::views::cseq_parts(v) else {
        return Err(format!("`{}` is not `number METHOD`", shown(v)));
    };
    match method {
        Some(m) if m != cseq_method => Err(format!(
            "the CSeq method {cseq_method} is not the request's method {m}"
        )),
        _ => Ok(()),
    }
}

/// `1*DIGIT`, 0 to 255 (RFC 3261 §20.22).
fn max_forwards(v: &str) -> Check {
    match parse_u32(v) {
        Some(n) if n <= 255 => Ok(()),
        Some(n) => Err(format!("{n} is above 255")),
        None => Err(format!("`{}` is not a number", shown(v))),
    }
}

/// `Digest` followed by `auth-param *(COMMA auth-param)`, `auth-param = token EQUAL (token /
/// quoted-string)`. Other schemes are not checked (some carry a token68, not parameters).
fn auth(v: &str) -> Check {
    let v = v.trim();
    let scheme_len = v.bytes().take_while(|&c| is_token_char(c)).count();
    let (scheme, rest) = v.split_at(scheme_len);
    if scheme.is_empty() {
        return Err("no authentication scheme".into());
    }
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Ok(());
    }
    // Read as a strict parser does, left to right: quotes that do not open a quoted string
    // must not be taken for one (a comma list split would).
    let b = rest.as_bytes();
    let blank = |i: &mut usize| {
        while b.get(*i).is_some_and(|c| c.is_ascii_whitespace()) {
            *i += 1;
        }
    };
    let up_to_comma = |from: usize| {
        let s = rest.get(from..).unwrap_or("");
        shown(s.split(',').next().unwrap_or("").trim())
    };
    let mut i = 0;
    let mut count = 0;
    loop {
        while b
            .get(i)
            .is_some_and(|&c| c == b',' || c.is_ascii_whitespace())
        {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while b.get(i).is_some_and(|&c| is_token_char(c)) {
            i += 1;
        }
        let name = rest.get(start..i).unwrap_or("");
        blank(&mut i);
        if name.is_empty() || b.get(i) != Some(&b'=') {
            return Err(format!("`{}` is not `name=value`", up_to_comma(start)));
        }
        i += 1;
        blank(&mut i);
        let value_start = i;
        let value_end = if b.get(i) == Some(&b'"') {
            rest.get(i..).and_then(quoted_end).map(|n| i + n)
        } else {
            while b.get(i).is_some_and(|&c| is_token_char(c)) {
                i += 1;
            }
            (i > value_start).then_some(i)
        };
        let after = value_end.map(|mut e| {
            blank(&mut e);
            e
        });
        match after {
            Some(e) if e >= b.len() || b.get(e) == Some(&b',') => i = e,
            _ => {
                return Err(format!(
                    "the value of `{name}` (`{}`) is neither a token nor a quoted string",
                    up_to_comma(value_start)
                ));
            }
        }
        count += 1;
    }
    if count == 0 {
        return Err("Digest without parameters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::ops::Range;

    use super::*;

    /// The kind and span of each header problem.
    fn spans(m: &SipMessage) -> Vec<(IssueKind, Range<usize>)> {
        m.header_problems()
            .into_iter()
            .map(|p| (p.kind, p.span))
            .collect()
    }

    fn msg(head: &str) -> SipMessage {
        let raw = format!("{}\r\n\r\n", head.replace('\n', "\r\n"));
        SipMessage::parse(raw.as_bytes()).expect("parses")
    }

    /// The problems of a request with these headers, as `header: why` messages.
    fn problems(headers: &str) -> Vec<String> {
        msg(&format!("INVITE sip:b@example.com SIP/2.0\n{headers}"))
            .header_problems()
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn an_in_dialog_request_without_a_to_tag_matches_no_dialog() {
        let bye = |to: &str| {
            msg(&format!(
                "BYE sip:a@h SIP/2.0\nTo: {to}\nFrom: <sip:b@h>;tag=1\nCall-ID: c\nCSeq: 2 BYE"
            ))
            .header_problems()
            .into_iter()
            .map(|p| p.message)
            .collect::<Vec<_>>()
        };
        // VialerSIPLib issue #217: the tag inside the URI's angle brackets.
        let inside = bye("<sip:13567142@hpbx030.telecomsvc.com;tag=wOjMDZN12>");
        assert_eq!(inside.len(), 1, "{inside:?}");
        assert!(
            inside[0].contains("inside the angle brackets"),
            "{inside:?}"
        );
        let none = bye("<sip:a@h>");
        assert_eq!(none.len(), 1, "{none:?}");
        assert!(!none[0].contains("angle brackets"), "{none:?}");
        assert!(bye("<sip:a@h>;tag=9").is_empty());
        // An INVITE's To has no tag until the dialog exists.
        assert!(problems("To: <sip:a@h;tag=x>").is_empty());
    }

    /// [`plain_via`] never accepts what the full grammar rejects: on every Via element of
    /// every fixture, and on each of them broken one byte at a time (every position, every
    /// byte that matters to the grammar); and it carries the common case, proving most
    /// fixture values by itself.
    #[test]
    fn fast_via_check_agrees_with_the_full_grammar() {
        let mut values: Vec<String> = crate::sip::tests::fixture_messages()
            .iter()
            .flat_map(|m| m.all(HeaderName::Via))
            .map(|v| v.into_owned())
            .collect();
        values.sort();
        values.dedup();
        assert!(values.len() > 200, "{}", values.len());
        crate::sip::tests::fast_path_agrees(&values, plain_via, full_via);
    }

    #[test]
    fn legal_but_odd_values_pass() {
        let ok = [
            r#"From: "Doe, \"J\" <x>" <sip:j@example.com>;tag=1"#,
            "From: Bob  Smith <sip:bob@[2001:db8::2]:5070;transport=tcp>;tag=a.b-c",
            "From: sip:caller@127.0.0.1;tag=gQB9eJof2JjtH3Uw0y3JyWw4buq1.SRt",
            "From: Jürgen <sip:j@example.com>;tag=x",
            "f: <tel:+1-201-555-0123;phone-context=example.com>;tag=1",
            "t: <urn:service:sos>",
            r#"To: "" <sip:b@example.com>"#,
            "Contact: *",
            r#"Contact: "A, B" <sip:a@h:5060;ob>;q=0.7;+sip.instance="<urn:uuid:12-34>", sip:c@d;expires=10"#,
            "Contact: <sip:a@h>;+sip.ice;reg-id=1;expires=600",
            "Route: <sip:proxy.example.com;lr>, <sip:[::1]:5070;lr;transport=tcp>",
            "Record-Route: <sip:10.0.0.1;lr;ftag=x;did=1a.2>",
            // An OmniPCX's To tag (heplify's erspan capture): URI parameter characters.
            "To: sip:2000@192.0.2.1:5060;tag=00E4EF38-be36b0-5af571ecz9hG4bK-5af571e&Sy",
            "Via: SIP/2.0/UDP 127.0.0.1:5080;rport;branch=z9hG4bKPjhZe.x-1",
            "v: SIP / 2.0 / TCP [2001:db8::9]:5061;received=2001:db8::1;rport=40123, SIP/2.0/UDP srv_1.example.com;branch=z9hG4bK2",
            "Call-ID: 105090259-446faf7a@192.168.1.2",
            "i: a84b4c76e66710@[2001:db8::1]:5060",
            "CSeq: 1 INVITE",
            "Max-Forwards: 70",
            r#"WWW-Authenticate: Digest realm="a, b", nonce="x\"y", stale=FALSE, algorithm=MD5, qop="auth,auth-int""#,
            r#"Authorization: Digest username="alice", realm="r", nonce="n", uri="sip:r", response="0a", nc=00000001, qop=auth, cnonce="c""#,
            "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x/y+z=",
            "X-Anything: \\\"odd\\\" <",
        ];
        for h in ok {
            assert_eq!(problems(h), Vec::<String>::new(), "{h}");
        }
    }

    #[test]
    fn values_a_strict_parser_rejects() {
        let bad = [
            // suricata-verify's sip-compact-form: quotes escaped twice.
            (
                r#"f: \"arik\" <sip:816666@voip.brurjula.net>;tag=6433ef9"#,
                "From: the display name `\\\"arik\\\"` is neither a quoted string nor a sequence of tokens (`\\` outside quotes)",
            ),
            // VialerSIPLib #11: a stray `>` (pjsip: syntax error, line 5 col 35).
            (
                "To: <sip:269@172.16.2.25:49675>;ob>",
                "To: the parameter `ob>` after the `>` is not `name[=value]`",
            ),
            (
                r#"WWW-Authenticate: Digest realm=\"sip.cybercity.dk\",nonce=\"1701af\""#,
                "WWW-Authenticate: the value of `realm` (`\\\"sip.cybercity.dk\\\"`) is neither a token nor a quoted string",
            ),
            (
                r#"From: "unterminated <sip:a@b>"#,
                "From: the quoted display name is not closed",
            ),
            ("To: <sip:a@b", "To: `<` without its closing `>`"),
            (
                "To: <sip:a b@c>",
                "To: the URI `sip:a b@c` contains ` `, which a URI cannot hold unescaped",
            ),
            ("To: bob", "To: `bob` is not a URI (no scheme)"),
            (
                "To: <sip:a@b.example:99999>",
                "To: the port `:99999` is not a port number in `sip:a@b.example:99999`",
            ),
            (
                "To: <sip:a@b%2e>",
                "To: the host `b%2e` is not a host name or address in `sip:a@b%2e`",
            ),
            ("To: <tel:;x=1>", "To: the URI `tel:;x=1` has no number"),
            (
                "Via: SIP/2.0/UDP [2001:db8::1:5060;branch=z9hG4bK1",
                "Via: the host `[2001:db8::1:5060` is not a host name or address (sent-by)",
            ),
            (
                "Via: SIP/2.0/UDP 192.0.2.1:50x;branch=z9hG4bK1",
                "Via: the port `:50x` is not a port number (sent-by)",
            ),
            (
                "Contact: <sip:a@h> junk",
                "Contact: `junk` after the `>` is not a `;parameter`",
            ),
            (
                "Via: SIP/2.0/UDP host;branch=",
                "Via: the parameter `branch` has an empty value",
            ),
            (
                "Via: SIP/2.0/UDP",
                "Via: `SIP/2.0/UDP` is not `SIP/2.0/transport host[:port];parameters`",
            ),
            (
                "Call-ID: abc def",
                "Call-ID: `abc def` is not `word[@word]` (no blanks, commas or a second `@`)",
            ),
            ("CSeq: INVITE 1", "CSeq: `INVITE 1` is not `number METHOD`"),
            (
                "CSeq: 1 BYE",
                "CSeq: the CSeq method BYE is not the request's method INVITE",
            ),
            (
                "Max-Forwards: seventy",
                "Max-Forwards: `seventy` is not a number",
            ),
            ("Max-Forwards: 300", "Max-Forwards: 300 is above 255"),
            (
                "Proxy-Authorization: Digest username",
                "Proxy-Authorization: `username` is not `name=value`",
            ),
        ];
        for (h, want) in bad {
            assert_eq!(problems(h), vec![want.to_string()], "{h}");
        }
    }

    #[test]
    fn repeated_headers_and_lines_that_are_no_header() {
        // suricata-verify's sip-header-multi-value: `t:` and `To:`.
        let m = msg("INVITE sip:b@x SIP/2.0\n\
             t: <sip:97239287044@voip.brujula.net>\n\
             To: <sip:12345@voip.brujula.net>\n\
             Via: SIP/2.0/UDP a;branch=z9hG4bK1\n\
             Via: SIP/2.0/UDP b;branch=z9hG4bK2\n\
             l: 0\n\
             Content-Length: 0");
        let raw = m.raw().to_vec();
        let got = spans(&m);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, IssueKind::RepeatedHeader);
        assert_eq!(&raw[got[0].1.clone()], b"To: <sip:12345@voip.brujula.net>");
        assert_eq!(&raw[got[1].1.clone()], b"Content-Length: 0");
        assert_eq!(
            m.header_problems()[0].message,
            "a second To header: it may appear only once (RFC 3261 §7.3.1, §20)"
        );
        // A line of the header block that is no header, in wire order with the others.
        let m = msg("OPTIONS sip:b@x SIP/2.0\n\
             Via: SIP/2.0/UDP a;branch=z9hG4bK1\n\
             Max Forwards 70\n\
             CSeq: 1 BYE");
        let got: Vec<_> = m.header_problems().into_iter().map(|p| p.message).collect();
        assert_eq!(
            got,
            [
                "`Max Forwards 70`: header line without a colon",
                "CSeq: the CSeq method BYE is not the request's method OPTIONS"
            ]
        );
    }
}
