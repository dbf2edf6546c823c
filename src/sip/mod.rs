//! The SIP message model and its grammar (RFC 3261 §7, §20, §25; SDP per RFC 4566).
//!
//! Owns: [`SipMessage`] (raw bytes + start line + headers in wire order with byte spans + body),
//! the nom grammar that builds it, and the typed views parsed on demand (Via, NameAddr, URI,
//! CSeq, Contact, Reason, Session-Expires, SDP …). Does not own: where the bytes came from
//! (ingest), what they mean for a transaction or dialog (dialog), or judging them (rules).
//!
//! CONTRACT STUB: the sip helper replaces every `todo!()` below, keeping these public signatures.

use std::borrow::Cow;
use std::ops::Range;

use crate::event::Transport;

/// A parsed SIP message. It owns its raw bytes; every span indexes into [`SipMessage::raw`].
#[derive(Debug, Clone)]
pub struct SipMessage {
    raw: Vec<u8>,
    start: StartLine,
    start_span: Range<usize>,
    headers: Vec<Header>,
    body: Range<usize>,
    issues: Vec<ParseIssue>,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    Star,
    Addr { addr: NameAddr, expires: Option<u32> },
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

impl SipMessage {
    /// Parses one whole message (start line, headers, body). Copies `raw`.
    pub fn parse(raw: &[u8]) -> Result<SipMessage, Unparsed> {
        let _ = raw;
        todo!()
    }

    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
    pub fn start_line(&self) -> &StartLine {
        &self.start
    }
    pub fn start_span(&self) -> Range<usize> {
        self.start_span.clone()
    }
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }
    /// The request method, for requests.
    pub fn method(&self) -> Option<&str> {
        todo!()
    }
    /// The status code, for responses.
    pub fn status(&self) -> Option<u16> {
        todo!()
    }
    /// The reason phrase, for responses.
    pub fn reason_phrase(&self) -> Option<&str> {
        todo!()
    }
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }
    pub fn issues(&self) -> &[ParseIssue] {
        &self.issues
    }
    pub fn body(&self) -> &[u8] {
        &self.raw[self.body.clone()]
    }
    pub fn body_span(&self) -> Range<usize> {
        self.body.clone()
    }
    /// The header's name as written.
    pub fn header_name(&self, h: &Header) -> Cow<'_, str> {
        let _ = h;
        todo!()
    }
    /// The header's value, folded lines joined with one space.
    pub fn value(&self, h: &Header) -> Cow<'_, str> {
        let _ = h;
        todo!()
    }
    /// The first value of a known header.
    pub fn first(&self, name: HeaderName) -> Option<Cow<'_, str>> {
        let _ = name;
        todo!()
    }
    /// All values of a known header in wire order, comma-separated lists split
    /// (for headers whose grammar allows it: Via, Contact, Route, Record-Route, Require …).
    pub fn all(&self, name: HeaderName) -> Vec<Cow<'_, str>> {
        let _ = name;
        todo!()
    }
    /// The first value of a header by its (case-insensitive) name, e.g. `X-Call-ID`.
    pub fn first_named(&self, name: &str) -> Option<Cow<'_, str>> {
        let _ = name;
        todo!()
    }
    pub fn call_id(&self) -> Option<Cow<'_, str>> {
        todo!()
    }
    pub fn cseq(&self) -> Option<CSeq> {
        todo!()
    }
    pub fn from(&self) -> Option<NameAddr> {
        todo!()
    }
    pub fn to(&self) -> Option<NameAddr> {
        todo!()
    }
    pub fn vias(&self) -> Vec<Via> {
        todo!()
    }
    pub fn top_via(&self) -> Option<Via> {
        todo!()
    }
    pub fn contacts(&self) -> Vec<Contact> {
        todo!()
    }
    pub fn max_forwards(&self) -> Option<u32> {
        todo!()
    }
    pub fn content_type(&self) -> Option<String> {
        todo!()
    }
    pub fn content_length(&self) -> Option<usize> {
        todo!()
    }
    pub fn expires(&self) -> Option<u32> {
        todo!()
    }
    pub fn min_expires(&self) -> Option<u32> {
        todo!()
    }
    pub fn reasons(&self) -> Vec<ReasonValue> {
        todo!()
    }
    pub fn user_agent(&self) -> Option<Cow<'_, str>> {
        todo!()
    }
    pub fn server(&self) -> Option<Cow<'_, str>> {
        todo!()
    }
    pub fn record_routes(&self) -> Vec<NameAddr> {
        todo!()
    }
    pub fn routes(&self) -> Vec<NameAddr> {
        todo!()
    }
    pub fn has_www_authenticate(&self) -> bool {
        todo!()
    }
    pub fn has_proxy_authenticate(&self) -> bool {
        todo!()
    }
    /// Authorization or Proxy-Authorization present.
    pub fn has_authorization(&self) -> bool {
        todo!()
    }
    pub fn session_expires(&self) -> Option<SessionExpires> {
        todo!()
    }
    pub fn min_se(&self) -> Option<u32> {
        todo!()
    }
    pub fn require(&self) -> Vec<String> {
        todo!()
    }
    pub fn supported(&self) -> Vec<String> {
        todo!()
    }
    /// The SDP body, when Content-Type is application/sdp (or absent and the body starts `v=`).
    pub fn sdp(&self) -> Option<Sdp> {
        todo!()
    }
}

impl NameAddr {
    pub fn parse(s: &str) -> Option<NameAddr> {
        let _ = s;
        todo!()
    }
    pub fn param(&self, name: &str) -> Option<&str> {
        let _ = name;
        todo!()
    }
    pub fn tag(&self) -> Option<&str> {
        self.param("tag")
    }
}

impl Uri {
    pub fn parse(s: &str) -> Option<Uri> {
        let _ = s;
        todo!()
    }
}

impl Via {
    pub fn parse(s: &str) -> Option<Via> {
        let _ = s;
        todo!()
    }
    /// `host:port` as sent (port omitted if absent).
    pub fn sent_by(&self) -> String {
        todo!()
    }
}

impl Sdp {
    pub fn parse(body: &[u8]) -> Option<Sdp> {
        let _ = body;
        todo!()
    }
}

/// The length of the first complete message in `buf` (headers + Content-Length body), or
/// `None` if the header block is not complete yet. Used to split back-to-back messages and to
/// frame stream transports. A missing Content-Length means "no body".
pub fn message_len(buf: &[u8]) -> Option<usize> {
    let _ = buf;
    todo!()
}

/// Whether `line` looks like a SIP start line (request line or status line).
pub fn is_start_line(line: &[u8]) -> bool {
    let _ = line;
    todo!()
}
