//! The SIP message model and its grammar (RFC 3261 §7, §20, §25; SDP per RFC 4566).
//!
//! Owns: [`SipMessage`] (raw bytes + start line + headers in wire order with byte spans + body),
//! the nom grammar that builds it, and the typed views parsed on demand (Via, NameAddr, URI,
//! CSeq, Contact, Reason, Session-Expires, SDP …). Does not own: where the bytes came from
//! (ingest), what they mean for a transaction or dialog (dialog), or judging them (rules).
//!
//! Layout: `grammar` (start line, header lines, framing), `header` (names, compact forms,
//! list splitting), `uri` (URI, name-addr, parameters), `views` (Via, CSeq, Contact, Reason,
//! Session-Expires …), `sdp` (SDP bodies), `validate` (header syntax as a strict receiver checks
//! it, for diagnosis). This file holds the public types and the accessors.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use bytes::Bytes;

use crate::event::Transport;

mod grammar;
mod header;
mod sdp;
pub mod status;
mod uri;
mod validate;
mod views;

/// A parsed SIP message. Its raw bytes are a reference-counted buffer (possibly a slice of a
/// bigger chunk shared with other messages); every span indexes into [`SipMessage::raw`], and
/// the start line, the header index and the views are spans into it, not copies.
#[derive(Debug, Clone)]
pub struct SipMessage {
    raw: Bytes,
    start: Start,
    start_span: Range<usize>,
    headers: Vec<Header>,
    body: Range<usize>,
    issues: Vec<ParseIssue>,
    /// Boxed: a pointer in every event instead of 72 bytes.
    views: Box<Views>,
}

/// The header values that correlation and most rules ask of every message, found once with
/// it (on the reading thread) instead of at every question, as pieces of the raw bytes; and
/// the owned views built from them when first asked for.
#[derive(Debug, Clone, Default)]
struct Views {
    /// The CSeq number and method.
    cseq: Option<(u32, Piece)>,
    from_tag: Option<Piece>,
    to_tag: Option<Piece>,
    /// The topmost Via value (the first element of the Via headers' lists), unparsed.
    top_via: Option<Piece>,
    cseq_view: OnceLock<Option<CSeq>>,
    top_via_view: OnceLock<Option<Via>>,
    start_view: OnceLock<StartLine>,
    /// The SDP body, parsed when first asked for (several rules look at it).
    sdp: OnceLock<Option<Sdp>>,
}

/// A piece of a header value: its span in the raw bytes when the value is read as it is
/// written (one line of valid UTF-8: nearly always), else its text (a folded value joined, or
/// invalid UTF-8 replaced).
#[derive(Debug, Clone)]
enum Piece {
    Span(Range<usize>),
    Text(Box<str>),
}

/// The start line as spans in the raw bytes.
#[derive(Debug, Clone)]
enum Start {
    Request {
        method: Range<usize>,
        uri: Range<usize>,
        version: Range<usize>,
    },
    Response {
        version: Range<usize>,
        code: u16,
        reason: Range<usize>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request {
        method: String,
        uri: String,
        version: String,
    },
    Response {
        version: String,
        code: u16,
        reason: String,
    },
}

/// Known header names; compact forms map to their full name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderName {
    Via,
    From,
    To,
    CallId,
    CSeq,
    Contact,
    MaxForwards,
    ContentType,
    ContentLength,
    ContentEncoding,
    Expires,
    MinExpires,
    Reason,
    UserAgent,
    Server,
    RecordRoute,
    Route,
    WwwAuthenticate,
    ProxyAuthenticate,
    Authorization,
    ProxyAuthorization,
    SessionExpires,
    MinSe,
    Require,
    Supported,
    Allow,
    Event,
    AllowEvents,
    Subject,
    ReferTo,
    ReferredBy,
    AcceptContact,
    RejectContact,
    RequestDisposition,
    Identity,
    /// Anything else; compare the name text with [`SipMessage::header_name`].
    Other,
}

/// One header line (with its folded continuation lines) and its spans in the raw message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: HeaderName,
    /// The name as written (e.g. `v`, `VIA`).
    pub name_span: Range<usize>,
    /// The value, from the first non-blank byte after the colon to the last non-blank byte,
    /// continuation lines included.
    pub value_span: Range<usize>,
    /// The whole header, name to end of value, without the line terminator.
    pub span: Range<usize>,
}

/// A message that did not parse: kept whole, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unparsed {
    pub raw: Vec<u8>,
    pub error: ParseError,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    /// Where in the raw bytes the problem is.
    pub span: Range<usize>,
}

/// A non-fatal problem found while parsing (the message is still usable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIssue {
    pub kind: IssueKind,
    pub message: String,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    /// Content-Length disagrees with the bytes present.
    ContentLengthMismatch,
    /// A header line without a colon, or with an empty name.
    BadHeaderLine,
    /// A header value that does not match its grammar (e.g. `Content-Length: xyz`).
    BadHeaderValue,
    /// Not a problem of the message: its text was rebuilt from a damaged copy (a paste that
    /// collapsed its line breaks), and the note says how. Set by the reader, not the grammar.
    Recovered,
    /// A second instance of a header that may appear only once (e.g. two `To` headers).
    RepeatedHeader,
    /// A request that exists only inside a dialog (BYE, PRACK, UPDATE, INFO) whose To has no
    /// tag: no receiver can match it to its dialog.
    NoDialogTag,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    pub scheme: String,
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub params: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    pub display: Option<String>,
    /// The URI text as written (without angle brackets).
    pub uri_text: String,
    pub uri: Option<Uri>,
    /// Header parameters after the URI (`tag`, `expires`, `q` …).
    pub params: Vec<(String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `SIP/2.0/UDP` → Udp.
    pub transport: Transport,
    pub host: String,
    pub port: Option<u16>,
    pub branch: Option<String>,
    pub received: Option<String>,
    /// `None`: absent; `Some(None)`: `;rport` without value; `Some(Some(p))`: `;rport=p`.
    pub rport: Option<Option<u16>>,
    pub params: Vec<(String, Option<String>)>,
}

/// What keys a transaction in a Via value, borrowed from it ([`SipMessage::top_via_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViaKey<'a> {
    pub host: &'a str,
    pub port: Option<u16>,
    pub branch: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    Star,
    Addr {
        addr: NameAddr,
        expires: Option<u32>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonValue {
    pub protocol: String,
    pub cause: Option<u16>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionExpires {
    pub delta: u32,
    pub refresher: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MediaDirection {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    pub payload: u8,
    pub encoding: String,
    pub clock: u32,
    pub channels: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub kind: String,
    pub port: u16,
    pub proto: String,
    pub formats: Vec<String>,
    /// The media-level c= address, if any.
    pub connection: Option<String>,
    pub rtpmaps: Vec<RtpMap>,
    /// Effective direction (media-level attribute, else session-level, else sendrecv).
    pub direction: MediaDirection,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sdp {
    /// The session-level c= address, if any.
    pub connection: Option<String>,
    pub media: Vec<Media>,
    pub direction: MediaDirection,
}

/// `b` as text: borrowed when it is valid UTF-8 (checked word by word), else with the invalid
/// bytes replaced.
fn text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// A message's start line and header block, read in one pass before the message's end is
/// known: what a reader needs to frame it (a datagram holding several messages, a body cut
/// short), and what [`SipMessage::from_head`] needs to finish it without reading the headers
/// a second time.
#[derive(Debug, Clone)]
pub struct MessageHead(grammar::Head);

/// The Content-Length of a header block, as the grammar reads it (the first `Content-Length`
/// or `l` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentLength {
    Absent,
    /// Not a number (a folded value is not one either).
    Invalid,
    /// Saturating at `usize::MAX`.
    Value(usize),
}

impl MessageHead {
    /// Reads the start line and the header block at the start of `raw` (after CRLF
    /// keep-alives); fails as [`SipMessage::parse`] does when there is no start line.
    pub fn read(raw: &[u8]) -> Result<MessageHead, ParseError> {
        grammar::head(raw).map(MessageHead)
    }

    /// Where the body starts in `raw`, if the empty line that ends the header block is there.
    pub fn body_start(&self) -> Option<usize> {
        self.0.complete.then_some(self.0.body_start)
    }

    pub fn content_length(&self) -> ContentLength {
        match self.0.content_length() {
            None => ContentLength::Absent,
            Some(Err(())) => ContentLength::Invalid,
            Some(Ok(n)) => ContentLength::Value(n),
        }
    }
}

impl SipMessage {
    /// Parses one whole message (start line, headers, body). Copies `raw`.
    pub fn parse(raw: &[u8]) -> Result<SipMessage, Unparsed> {
        Self::parse_owned(raw.to_vec())
    }

    /// Parses one whole message, keeping `raw` as its bytes (not copied).
    pub fn parse_owned(raw: Vec<u8>) -> Result<SipMessage, Unparsed> {
        match grammar::parse(&raw) {
            Ok(p) => Ok(Self::from_parsed(Bytes::from(raw), p)),
            Err(error) => Err(Unparsed { raw, error }),
        }
    }

    /// Parses one whole message held in a shared buffer (e.g. a slice of a chunk that other
    /// messages share), keeping it as its bytes (not copied).
    pub fn parse_shared(raw: Bytes) -> Result<SipMessage, Unparsed> {
        match grammar::parse(&raw) {
            Ok(p) => Ok(Self::from_parsed(raw, p)),
            Err(error) => Err(Unparsed {
                raw: raw.to_vec(),
                error,
            }),
        }
    }

    /// The message whose [`MessageHead`] was read from the start of `raw`, `raw` being cut
    /// where the message ends (at the body's start or beyond): what [`SipMessage::parse_shared`]
    /// would make of `raw`, without reading the headers again.
    pub fn from_head(raw: Bytes, head: MessageHead) -> SipMessage {
        let p = head.0.finish(&raw);
        Self::from_parsed(raw, p)
    }

    fn from_parsed(raw: Bytes, p: grammar::Parsed) -> SipMessage {
        let mut m = SipMessage {
            raw,
            start: p.start,
            start_span: p.start_span,
            headers: p.headers,
            body: p.body,
            issues: p.issues,
            views: Box::default(),
        };
        let tag = |h| {
            let v = m.first(h)?;
            let tag = uri::name_addr_param(&v, "tag")?;
            Some(m.piece(tag))
        };
        let cseq = m.first(HeaderName::CSeq).and_then(|v| {
            let (seq, method) = views::cseq_parts(&v)?;
            Some((seq, m.piece(method)))
        });
        let top_via = m.headers_named(HeaderName::Via).find_map(|h| {
            let v = m.value(h);
            let first = header::split_outside(&v, b',').next()?;
            Some(m.piece(v.get(first)?))
        });
        let views = Views {
            cseq,
            from_tag: tag(HeaderName::From),
            to_tag: tag(HeaderName::To),
            top_via,
            ..Views::default()
        };
        *m.views = views;
        m
    }

    /// `sub`, a part of a value this message gave, as a [`Piece`]: its span when it lies in
    /// the raw bytes (the value borrowed them), else a copy (a folded or repaired value).
    fn piece(&self, sub: &str) -> Piece {
        let base = self.raw.as_ptr() as usize;
        let at = sub.as_ptr() as usize;
        if at >= base && at + sub.len() <= base + self.raw.len() {
            Piece::Span(at - base..at - base + sub.len())
        } else {
            Piece::Text(sub.into())
        }
    }

    /// The text of a [`Piece`] (a span of valid UTF-8, as [`SipMessage::piece`] made it).
    fn piece_str<'a>(&'a self, p: &'a Piece) -> &'a str {
        match p {
            Piece::Span(r) => self.str_at(r).unwrap_or_default(),
            Piece::Text(t) => t,
        }
    }

    /// The bytes of `r` as text, if they are valid UTF-8.
    fn str_at(&self, r: &Range<usize>) -> Option<&str> {
        std::str::from_utf8(self.bytes(r)).ok()
    }

    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
    /// The shared buffer holding [`SipMessage::raw`] (cloning it copies nothing).
    pub fn raw_shared(&self) -> &Bytes {
        &self.raw
    }
    /// The start line, its text decoded (invalid UTF-8 replaced); built when first asked for.
    pub fn start_line(&self) -> &StartLine {
        self.views.start_view.get_or_init(|| {
            let text = |r: &Range<usize>| String::from_utf8_lossy(self.bytes(r)).into_owned();
            match &self.start {
                Start::Request {
                    method,
                    uri,
                    version,
                } => StartLine::Request {
                    method: text(method),
                    uri: text(uri),
                    version: text(version),
                },
                Start::Response {
                    version,
                    code,
                    reason,
                } => StartLine::Response {
                    version: text(version),
                    code: *code,
                    reason: text(reason),
                },
            }
        })
    }
    pub fn start_span(&self) -> Range<usize> {
        self.start_span.clone()
    }
    pub fn is_request(&self) -> bool {
        matches!(self.start, Start::Request { .. })
    }
    /// The request method, for requests.
    pub fn method(&self) -> Option<&str> {
        match &self.start {
            // A token: ASCII, so always valid UTF-8.
            Start::Request { method, .. } => self.str_at(method),
            Start::Response { .. } => None,
        }
    }
    /// The status code, for responses.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            Start::Response { code, .. } => Some(*code),
            Start::Request { .. } => None,
        }
    }
    /// The reason phrase, for responses (possibly empty).
    pub fn reason_phrase(&self) -> Option<&str> {
        match &self.start {
            Start::Response { reason, .. } => {
                self.str_at(reason).or_else(|| match self.start_line() {
                    StartLine::Response { reason, .. } => Some(reason.as_str()),
                    StartLine::Request { .. } => None,
                })
            }
            Start::Request { .. } => None,
        }
    }
    /// The Request-URI, for requests.
    pub fn request_uri(&self) -> Option<&str> {
        match &self.start {
            Start::Request { uri, .. } => self.str_at(uri).or_else(|| match self.start_line() {
                StartLine::Request { uri, .. } => Some(uri.as_str()),
                StartLine::Response { .. } => None,
            }),
            Start::Response { .. } => None,
        }
    }
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }
    pub fn issues(&self) -> &[ParseIssue] {
        &self.issues
    }
    /// Adds a note on how the message was read (an [`IssueKind::Recovered`] from a reader).
    pub fn add_issue(&mut self, issue: ParseIssue) {
        self.issues.push(issue);
    }
    pub fn body(&self) -> &[u8] {
        self.raw.get(self.body.clone()).unwrap_or(&[])
    }
    pub fn body_span(&self) -> Range<usize> {
        self.body.clone()
    }
    fn bytes(&self, r: &Range<usize>) -> &[u8] {
        self.raw.get(r.clone()).unwrap_or(&[])
    }
    /// The header's name as written.
    pub fn header_name(&self, h: &Header) -> Cow<'_, str> {
        text(self.bytes(&h.name_span))
    }
    /// The header's value, folded lines joined with one space.
    pub fn value(&self, h: &Header) -> Cow<'_, str> {
        let b = self.bytes(&h.value_span);
        if !b.contains(&b'\n') {
            return text(b);
        }
        let joined = b
            .split(|&c| c == b'\n')
            .map(|l| l.trim_ascii())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(&b' ');
        Cow::Owned(String::from_utf8_lossy(&joined).into_owned())
    }
    /// Headers with this name, in wire order.
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = &Header> {
        self.headers.iter().filter(move |h| h.name == name)
    }
    /// The first value of a known header.
    pub fn first(&self, name: HeaderName) -> Option<Cow<'_, str>> {
        self.headers_named(name).next().map(|h| self.value(h))
    }
    /// All values of a known header in wire order, comma-separated lists split
    /// (for headers whose grammar allows it: Via, Contact, Route, Record-Route, Require …).
    pub fn all(&self, name: HeaderName) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        for h in self.headers_named(name) {
            let v = self.value(h);
            if name.is_list() {
                header::split_list(v, &mut out);
            } else {
                out.push(v);
            }
        }
        out
    }
    /// The first value of a header by its (case-insensitive) name, e.g. `X-Call-ID`. Known
    /// names also match their compact form (`Call-ID` finds `i:`).
    pub fn first_named(&self, name: &str) -> Option<Cow<'_, str>> {
        let known = HeaderName::from_name(name);
        self.headers
            .iter()
            .find(|h| {
                if known == HeaderName::Other {
                    h.name == HeaderName::Other
                        && self
                            .bytes(&h.name_span)
                            .eq_ignore_ascii_case(name.trim().as_bytes())
                } else {
                    h.name == known
                }
            })
            .map(|h| self.value(h))
    }
    pub fn call_id(&self) -> Option<Cow<'_, str>> {
        self.first(HeaderName::CallId)
    }
    pub fn cseq(&self) -> Option<&CSeq> {
        self.views
            .cseq_view
            .get_or_init(|| {
                let (seq, method) = self.views.cseq.as_ref()?;
                Some(CSeq {
                    seq: *seq,
                    method: self.piece_str(method).to_string(),
                })
            })
            .as_ref()
    }
    /// The CSeq number ([`CSeq::seq`]), without building the [`CSeq`].
    pub fn cseq_seq(&self) -> Option<u32> {
        self.views.cseq.as_ref().map(|(seq, _)| *seq)
    }
    /// The CSeq method ([`CSeq::method`]), without building the [`CSeq`].
    pub fn cseq_method(&self) -> Option<&str> {
        let (_, method) = self.views.cseq.as_ref()?;
        Some(self.piece_str(method))
    }
    pub fn from(&self) -> Option<NameAddr> {
        NameAddr::parse(&self.first(HeaderName::From)?)
    }
    pub fn to(&self) -> Option<NameAddr> {
        NameAddr::parse(&self.first(HeaderName::To)?)
    }
    /// Every Via value in wire order (lists split); values that do not parse are skipped.
    pub fn vias(&self) -> Vec<Via> {
        self.all(HeaderName::Via)
            .iter()
            .filter_map(|v| Via::parse(v))
            .collect()
    }
    /// The topmost Via (the first value of the first Via header), if it parses.
    pub fn top_via(&self) -> Option<&Via> {
        self.views
            .top_via_view
            .get_or_init(|| Via::parse(self.top_via_value()?))
            .as_ref()
    }
    /// What keys the message's transaction in its topmost Via, borrowed: the sent-by host and
    /// port, and the branch. `None` exactly when [`SipMessage::top_via`] is `None`.
    pub fn top_via_key(&self) -> Option<ViaKey<'_>> {
        views::via_key(self.top_via_value()?)
    }
    /// The topmost Via value as written (unparsed; see [`SipMessage::top_via`]).
    pub fn top_via_value(&self) -> Option<&str> {
        Some(self.piece_str(self.views.top_via.as_ref()?))
    }
    pub fn contacts(&self) -> Vec<Contact> {
        self.all(HeaderName::Contact)
            .iter()
            .filter_map(|v| views::contact(v))
            .collect()
    }
    /// The Contact values of one header line (list split; values that do not parse skipped),
    /// e.g. to find which Contact header carries an address.
    pub fn contacts_in(&self, h: &Header) -> Vec<Contact> {
        let mut values = Vec::new();
        header::split_list(self.value(h), &mut values);
        values.iter().filter_map(|v| views::contact(v)).collect()
    }
    /// The name-addrs of every header with this (case-insensitive) name, lists split, values
    /// that do not parse skipped: e.g. `P-Asserted-Identity`, which may hold a SIP URI and a
    /// `tel:` URI.
    pub fn name_addrs_named(&self, name: &str) -> Vec<NameAddr> {
        let mut values = Vec::new();
        for h in self.headers.iter().filter(|h| {
            self.bytes(&h.name_span)
                .eq_ignore_ascii_case(name.trim().as_bytes())
        }) {
            header::split_list(self.value(h), &mut values);
        }
        values.iter().filter_map(|v| NameAddr::parse(v)).collect()
    }
    pub fn max_forwards(&self) -> Option<u32> {
        uri::parse_u32(&self.first(HeaderName::MaxForwards)?)
    }
    /// The media type, lowercased, without parameters (`application/sdp`).
    pub fn content_type(&self) -> Option<String> {
        views::media_type(&self.first(HeaderName::ContentType)?)
    }
    /// The first Content-Length, if it is a number that fits in `usize`.
    pub fn content_length(&self) -> Option<usize> {
        let v = self.first(HeaderName::ContentLength)?;
        let v = v.trim();
        if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        v.parse().ok()
    }
    pub fn expires(&self) -> Option<u32> {
        views::delta_seconds(&self.first(HeaderName::Expires)?)
    }
    pub fn min_expires(&self) -> Option<u32> {
        views::delta_seconds(&self.first(HeaderName::MinExpires)?)
    }
    pub fn reasons(&self) -> Vec<ReasonValue> {
        self.all(HeaderName::Reason)
            .iter()
            .filter_map(|v| views::reason(v))
            .collect()
    }
    pub fn user_agent(&self) -> Option<Cow<'_, str>> {
        self.first(HeaderName::UserAgent)
    }
    pub fn server(&self) -> Option<Cow<'_, str>> {
        self.first(HeaderName::Server)
    }
    pub fn record_routes(&self) -> Vec<NameAddr> {
        self.all(HeaderName::RecordRoute)
            .iter()
            .filter_map(|v| NameAddr::parse(v))
            .collect()
    }
    pub fn routes(&self) -> Vec<NameAddr> {
        self.all(HeaderName::Route)
            .iter()
            .filter_map(|v| NameAddr::parse(v))
            .collect()
    }
    fn has(&self, name: HeaderName) -> bool {
        self.headers.iter().any(|h| h.name == name)
    }
    pub fn has_www_authenticate(&self) -> bool {
        self.has(HeaderName::WwwAuthenticate)
    }
    pub fn has_proxy_authenticate(&self) -> bool {
        self.has(HeaderName::ProxyAuthenticate)
    }
    /// Authorization or Proxy-Authorization present.
    pub fn has_authorization(&self) -> bool {
        self.has(HeaderName::Authorization) || self.has(HeaderName::ProxyAuthorization)
    }
    pub fn session_expires(&self) -> Option<SessionExpires> {
        views::session_expires(&self.first(HeaderName::SessionExpires)?)
    }
    pub fn min_se(&self) -> Option<u32> {
        views::delta_seconds(&self.first(HeaderName::MinSe)?)
    }
    /// Option tags of every Require header, in wire order, as written.
    pub fn require(&self) -> Vec<String> {
        self.all(HeaderName::Require)
            .into_iter()
            .map(String::from)
            .collect()
    }
    /// Option tags of every Supported header, in wire order, as written.
    pub fn supported(&self) -> Vec<String> {
        self.all(HeaderName::Supported)
            .into_iter()
            .map(String::from)
            .collect()
    }
    /// The request method, or for a response the method its CSeq names.
    pub fn method_or_cseq_method(&self) -> Option<String> {
        self.method()
            .or_else(|| self.cseq_method())
            .map(str::to_string)
    }

    /// The From header's tag.
    pub fn from_tag(&self) -> Option<&str> {
        Some(self.piece_str(self.views.from_tag.as_ref()?))
    }

    /// The To header's tag.
    pub fn to_tag(&self) -> Option<&str> {
        Some(self.piece_str(self.views.to_tag.as_ref()?))
    }

    /// The expiry a REGISTER asks for: the first Contact's `expires` (`*` counts as 0), else
    /// the Expires header. `Some(0)` is an unregistration.
    pub fn requested_expires(&self) -> Option<u32> {
        self.contacts()
            .iter()
            .find_map(|c| match c {
                Contact::Addr { expires, .. } => *expires,
                Contact::Star => Some(0),
            })
            .or_else(|| self.expires())
    }

    /// A 401/407 whose challenge only says that the nonce expired (`stale=true`, RFC 2617
    /// §3.2.1): the client is expected to retry, credentials were not wrong.
    pub fn is_stale_challenge(&self) -> bool {
        [HeaderName::WwwAuthenticate, HeaderName::ProxyAuthenticate]
            .into_iter()
            .flat_map(|h| self.all(h))
            .any(|v| auth_param(&v, "stale").is_some_and(|s| s.eq_ignore_ascii_case("true")))
    }

    /// The header carrying credentials that answer a challenge: the first `Authorization` or
    /// `Proxy-Authorization`, except the empty Digest response of an IMS client's first
    /// REGISTER (TS 24.229: `nonce="", response=""`), which answers nothing.
    pub fn credentials(&self) -> Option<&Header> {
        [HeaderName::Authorization, HeaderName::ProxyAuthorization]
            .into_iter()
            .flat_map(|h| self.headers_named(h))
            .find(|h| auth_param(&self.value(h), "response").is_none_or(|r| !r.is_empty()))
    }

    /// The SDP body, when Content-Type is application/sdp (or absent and the body starts `v=`).
    pub fn sdp(&self) -> Option<&Sdp> {
        self.views
            .sdp
            .get_or_init(|| self.sdp_body().and_then(Sdp::parse))
            .as_ref()
    }

    /// The body, if it is to be read as SDP (see [`SipMessage::sdp`]); not checked for `v=`.
    fn sdp_body(&self) -> Option<&[u8]> {
        let body = self.body();
        match self.content_type() {
            Some(ct) if ct == "application/sdp" => Some(body),
            Some(_) => None,
            None if self.first(HeaderName::ContentType).is_none()
                && body.trim_ascii_start().starts_with(b"v=") =>
            {
                Some(body)
            }
            None => None,
        }
    }

    /// The lines of the SDP body, as spans in [`SipMessage::raw`] (the body's offset added),
    /// with their text; empty when [`SipMessage::sdp`] is `None`.
    fn sdp_lines(&self) -> Vec<(Range<usize>, Cow<'_, str>)> {
        let Some(body) = self.sdp_body() else {
            return Vec::new();
        };
        let base = self.body.start;
        let lines: Vec<_> = sdp::lines(body)
            .map(|(r, text)| (base + r.start..base + r.end, text))
            .collect();
        if !lines.iter().any(|(_, l)| sdp::is_kind(l, 'v')) {
            return Vec::new();
        }
        lines
    }

    /// The span in [`SipMessage::raw`] of every SDP line of type `kind` (`'c'` for the `c=`
    /// lines, `'m'` for `m=` …), in body order, without the line end or leading blanks. Empty
    /// when the message has no SDP body (see [`SipMessage::sdp`]).
    pub fn sdp_line_spans(&self, kind: char) -> Vec<Range<usize>> {
        self.sdp_lines()
            .into_iter()
            .filter(|(_, l)| sdp::is_kind(l, kind))
            .map(|(r, _)| r)
            .collect()
    }

    /// The span in [`SipMessage::raw`] of the `m=` line of each media of [`SipMessage::sdp`],
    /// index for index with [`Sdp::media`] (`m=` lines that do not parse are left out, as they
    /// are there).
    pub fn sdp_media_spans(&self) -> Vec<Range<usize>> {
        self.sdp_lines()
            .into_iter()
            .filter(|(_, l)| {
                sdp::is_kind(l, 'm') && l.split_once('=').is_some_and(|(_, v)| sdp::is_media(v))
            })
            .map(|(r, _)| r)
            .collect()
    }

    /// The span in [`SipMessage::raw`] of the first header named `name` (name to end of
    /// value, [`Header::span`]); `None` if there is none. For evidence that points at a header.
    pub fn header_span(&self, name: HeaderName) -> Option<Range<usize>> {
        self.headers_named(name).next().map(|h| h.span.clone())
    }

    /// The span of the header that [`SipMessage::requested_expires`] reads: the first Contact
    /// header with an `expires` parameter or `*`, else the first Expires header.
    pub fn requested_expires_span(&self) -> Option<Range<usize>> {
        let contact = self.headers_named(HeaderName::Contact).find(|h| {
            self.contacts_in(h).iter().any(|c| {
                matches!(
                    c,
                    Contact::Star
                        | Contact::Addr {
                            expires: Some(_),
                            ..
                        }
                )
            })
        });
        match contact {
            Some(h) => Some(h.span.clone()),
            None if self.expires().is_some() => self.header_span(HeaderName::Expires),
            None => None,
        }
    }
}

impl NameAddr {
    /// Parses a name-addr (`"Display" <uri>;params`, `Display <uri>`) or a bare addr-spec
    /// (`sip:a@b;tag=x`, where everything after the first `;` is a header parameter).
    pub fn parse(s: &str) -> Option<NameAddr> {
        NameAddr::parse_impl(s)
    }
    /// A header parameter by name (case-insensitive); a parameter without value gives `Some("")`.
    pub fn param(&self, name: &str) -> Option<&str> {
        uri::find_param(&self.params, name)
    }
    pub fn tag(&self) -> Option<&str> {
        self.param("tag")
    }
}

impl Uri {
    /// Parses a `sip:`, `sips:` or `tel:` URI; `?headers` are ignored, IPv6 hosts keep their
    /// brackets, and a `tel:` number is in `user` (with an empty `host`).
    pub fn parse(s: &str) -> Option<Uri> {
        Uri::parse_impl(s)
    }
}

impl Via {
    /// Parses one Via value (not a comma list). `params` holds every parameter in wire order,
    /// `branch`/`received`/`rport` included.
    pub fn parse(s: &str) -> Option<Via> {
        Via::parse_impl(s)
    }
    /// `host:port` as sent (port omitted if absent).
    pub fn sent_by(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }
}

impl Sdp {
    /// Parses an SDP body; `None` if it has no `v=` line. Garbage lines are skipped.
    pub fn parse(body: &[u8]) -> Option<Sdp> {
        Sdp::parse_impl(body)
    }
}

/// A parameter of an authentication header value (`Digest realm="x", stale=true`), unquoted.
pub fn auth_param(value: &str, name: &str) -> Option<String> {
    let value = value.trim();
    let rest = value
        .strip_prefix("Digest")
        .or_else(|| value.strip_prefix("digest"))
        .unwrap_or(value);
    rest.split(',').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The length of the first complete message in `buf` (headers + Content-Length body), or
/// `None` if the header block is not complete yet. Used to split back-to-back messages and to
/// frame stream transports. A missing Content-Length means "no body". Leading CRLFs count.
pub fn message_len(buf: &[u8]) -> Option<usize> {
    grammar::message_len(buf)
}

/// Whether `line` looks like a SIP start line (request line or status line).
pub fn is_start_line(line: &[u8]) -> bool {
    grammar::is_start_line(line)
}

#[cfg(test)]
mod tests;
