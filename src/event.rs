//! The event model: what every ingest yields and every later stage consumes.
//!
//! Owns: [`Event`] (a SIP message seen on the wire or in a log dump, or a log line that is
//! evidence about a call), timestamps in *log time*, and the [`Origin`] that points back into the
//! user's input. Does not own: parsing of SIP (see [`crate::sip`]), reading files (see
//! [`crate::ingest`]) or any correlation (see [`crate::dialog`]).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;

use crate::sip::{SipMessage, Unparsed};

/// A point in log time, in microseconds.
///
/// `micros` counts from 1970-01-01T00:00:00 of the log's own (unknown) zone. When the input does
/// not carry a date (pjsip's default decor), day 0 is 1970-01-01 plus any midnight rollovers seen,
/// and `dated` is false, so that the display shows only a time of day.
///
/// `micro` says the input gives the time to the microsecond (captures; SIPp traces with six
/// digits), not to the millisecond (pjsip logs): JSON outputs then show all six digits. It is
/// how the time was written, not part of the time: equality and order ignore it.
///
/// `unknown` says the input gave no time for the event at all (ngrep without `-t`, `tshark -O
/// sip`, raw SIP, a stack's log without a time prefix): [`Timestamp::UNKNOWN`]. Such events keep
/// the input's order, show as `--:--:--.---` (JSON `null`), take a capture's times when a
/// capture of the same messages is read with them (see `ingest::align`), and the rules that
/// judge time ([`crate::rules::Rule::judges_time`]) say nothing about them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timestamp {
    pub micros: i64,
    pub dated: bool,
    pub micro: bool,
    pub unknown: bool,
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Timestamp {}

impl std::hash::Hash for Timestamp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

pub const MICROS_PER_DAY: i64 = 86_400_000_000;

impl Timestamp {
    /// The time of an event whose input gives none. Before every known time.
    pub const UNKNOWN: Timestamp = Timestamp {
        micros: 0,
        dated: false,
        micro: false,
        unknown: true,
    };

    pub fn is_known(&self) -> bool {
        !self.unknown
    }

    /// What equality, hashing and order compare: unknown times first, all equal.
    fn key(&self) -> (bool, i64, bool) {
        if self.unknown {
            (false, 0, false)
        } else {
            (true, self.micros, self.dated)
        }
    }

    pub fn from_parts(day: i64, hour: u32, min: u32, sec: u32, micros: u32, dated: bool) -> Self {
        let tod = ((i64::from(hour) * 60 + i64::from(min)) * 60 + i64::from(sec)) * 1_000_000
            + i64::from(micros);
        Timestamp {
            micros: day * MICROS_PER_DAY + tod,
            dated,
            ..Timestamp::default()
        }
    }

    /// Milliseconds from `self` to `later` (negative if `later` is earlier).
    pub fn ms_until(&self, later: Timestamp) -> i64 {
        (later.micros - self.micros).div_euclid(1000)
    }

    /// [`Timestamp::ms_until`] when both times are known: the interval to show.
    pub fn known_ms_until(&self, later: Timestamp) -> Option<i64> {
        (self.is_known() && later.is_known()).then(|| self.ms_until(later))
    }

    fn day_and_time(&self) -> (i64, i64) {
        (
            self.micros.div_euclid(MICROS_PER_DAY),
            self.micros.rem_euclid(MICROS_PER_DAY),
        )
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

impl fmt::Display for Timestamp {
    /// `2026-11-21 05:28:17.580` when dated; `05:28:17.580` (plus `+1d` after a rollover) when
    /// not. The alternate form (`{:#}`) gives the microseconds of a [`Timestamp::micro`] time
    /// (`05:28:17.580123`); the plain form always stops at the millisecond.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unknown {
            return f.write_str("--:--:--.---");
        }
        let (day, tod) = self.day_and_time();
        let secs = tod / 1_000_000;
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let frac = if f.alternate() && self.micro {
            format!("{:06}", tod % 1_000_000)
        } else {
            format!("{:03}", tod % 1_000_000 / 1000)
        };
        if self.dated {
            let (y, mo, d) = civil_from_days(day);
            write!(f, "{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}.{frac}")
        } else if day != 0 {
            write!(f, "{h:02}:{m:02}:{s:02}.{frac}+{day}d")
        } else {
            write!(f, "{h:02}:{m:02}:{s:02}.{frac}")
        }
    }
}

/// As the alternate display: to the microsecond when the input gives it; `null` when the input
/// gives no time.
impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.unknown {
            return s.serialize_none();
        }
        s.collect_str(&format_args!("{self:#}"))
    }
}

/// Where an event came from in the user's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Index into the run's list of inputs.
    pub input: usize,
    pub locator: Locator,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locator {
    /// A text input: the 1-based line where the record starts, and its byte span in the input.
    Text { line: u32, span: Range<usize> },
    /// A capture: the frame numbers (1-based, as Wireshark counts) the message was carried in.
    Frames(FrameList),
}

/// Frame numbers: one or two for nearly every message (a datagram, or a message and the segment
/// that ends it), held inline.
pub type FrameList = smallvec::SmallVec<[u64; 2]>;

impl Origin {
    pub fn line(&self) -> Option<u32> {
        match &self.locator {
            Locator::Text { line, .. } => Some(*line),
            Locator::Frames(_) => None,
        }
    }
}

/// The direction of a message dump, from the point of view of the process that logged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Tx,
    Rx,
}

impl Direction {
    /// `TX` or `RX`, as pjsip writes it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Direction::Tx => "TX",
            Direction::Rx => "RX",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
    Ws,
    Wss,
    Sctp,
    #[default]
    Unknown,
}

impl Transport {
    /// Case-insensitive transport name as pjsip, Via headers and sipp write it.
    pub fn from_name(s: &str) -> Transport {
        const NAMES: [(&str, Transport); 9] = [
            ("UDP", Transport::Udp),
            ("UDP6", Transport::Udp),
            ("TCP", Transport::Tcp),
            ("TCP6", Transport::Tcp),
            ("TLS", Transport::Tls),
            ("TLS6", Transport::Tls),
            ("WS", Transport::Ws),
            ("WSS", Transport::Wss),
            ("SCTP", Transport::Sctp),
        ];
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map_or(Transport::Unknown, |&(_, t)| t)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
            Transport::Sctp => "SCTP",
            Transport::Unknown => "?",
        }
    }

    /// Whether messages go over a connection (TCP, TLS, WebSocket, SCTP), whose client end is
    /// usually an ephemeral port rather than where the sender listens.
    pub fn is_stream(self) -> bool {
        !matches!(self, Transport::Udp | Transport::Unknown)
    }

    /// `host:port` (IPv6 in brackets) of a Via sent-by or URI host on this transport, with the
    /// transport's default port (5061 for TLS, else 5060) when none is given.
    pub fn endpoint(self, host: &str, port: Option<u16>) -> String {
        let port = port.unwrap_or(if self == Transport::Tls { 5061 } else { 5060 });
        if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        }
    }
}

/// A SIP message, as dumped in a log or carried in a capture.
#[derive(Debug, Clone)]
pub struct MessageEvent {
    pub ts: Timestamp,
    pub origin: Origin,
    /// TX or RX as the logging process saw it; `None` for captures and raw dumps.
    pub direction: Option<Direction>,
    pub transport: Transport,
    /// `ip:port` (IPv6 in brackets) of the sender, when known. Shared: a reader formats each
    /// address once, and every message and wire message from or to it points at that text.
    pub src: Option<Arc<str>>,
    /// `ip:port` of the receiver, when known.
    pub dst: Option<Arc<str>>,
    /// pjsip's `tdta0x…`/`rdata0x…` handle; retransmissions of one tdta share it.
    pub handle: Option<String>,
    /// The byte count the dump header declared, if any.
    pub declared_len: Option<usize>,
    /// Why the message is incomplete, if it is (see [`Cut`]).
    pub cut: Option<Cut>,
    /// What the logging SIP stack said when it could not parse this message and dropped it
    /// (pjsip's `Error processing N bytes packet from …: <reason>`), if it said so. Such a
    /// message may still parse here (sipflow's grammar is more lenient than some stacks').
    pub stack_error: Option<String>,
    /// The parsed message, or the raw bytes with the reason they did not parse.
    pub msg: Result<SipMessage, Unparsed>,
}

/// Why a message event holds only part of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cut {
    /// pjsip's log record limit (`PJ_LOG_MAX_SIZE`, 4000 bytes) cut the dump: the logging
    /// process lost the tail. The message itself went on the wire whole.
    RecordLimit,
    /// The input starts or ends inside the message: an excerpt, a rotated log, a capture that
    /// stops. Nothing is wrong with the message; the input just does not hold all of it.
    InputEdge,
    /// Captured bytes are missing inside the input: the snapshot length, a gap in a TCP
    /// stream, a reassembly limit, or a dump whose record stopped early for no visible reason.
    Damaged,
}

impl Cut {
    pub fn as_str(&self) -> &'static str {
        match self {
            Cut::RecordLimit => "record-limit",
            Cut::InputEdge => "input-edge",
            Cut::Damaged => "damaged",
        }
    }
}

impl MessageEvent {
    /// Whether the message is incomplete (for any reason; see [`MessageEvent::cut`]).
    pub fn truncated(&self) -> bool {
        self.cut.is_some()
    }

    pub fn parsed(&self) -> Option<&SipMessage> {
        self.msg.as_ref().ok()
    }

    pub fn raw(&self) -> &[u8] {
        match &self.msg {
            Ok(m) => m.raw(),
            Err(u) => &u.raw,
        }
    }

    /// A hash of the raw bytes: equal for the same message seen from two vantage points (a TX
    /// dump and the packet it sent). Deterministic within a run.
    pub fn content_hash(&self) -> u64 {
        crate::hash::fingerprint(self.raw())
    }
}

/// What a log line tells about the process that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogKind {
    /// `Answering call N: code=C`
    Answering { call: u32, code: u16 },
    /// `Pending answering call N upon completion of media transport`
    PendingAnswer { call: u32 },
    /// `Call N hanging up: code=C..`
    HangingUp { call: u32, code: u16 },
    /// `Call N processing pending hangup: code=C..`
    PendingHangup { call: u32, code: u16 },
    /// `Delaying BYE request until ACK is received`
    DelayingBye,
    /// `Making call with acc #A to URI`
    MakingCall { account: u32, target: String },
    /// `Call N state changed to STATE` or `Call N is DISCONNECTED [reason=…]`
    CallState {
        call: u32,
        state: String,
        reason: Option<String>,
    },
    /// `Call N: initializing media..`: the first mention that binds call N to a dialog.
    CallMediaInit { call: u32 },
    /// `SDP negotiation done: …`
    SdpNegotiation { ok: bool, detail: String },
    /// Registration outcome (`registration success`, `SIP registration failed, status=…`, …).
    Registration { ok: bool, status: Option<u16> },
    /// `Deleting account N`
    AccountDeleted { account: u32 },
    /// `Shutting down, flags=N...` or `PJSUA destroyed...`: pjsua is being destroyed on purpose
    /// (`pjsua_destroy`, pjsua2's `Endpoint::libDestroy`).
    Shutdown,
    /// An INVITE session's state change (`inv0x…  State changed from INCOMING to DISCONNECTED,
    /// event=TSX_STATE`). Only a session that ended before it was answered is read: INCOMING →
    /// DISCONNECTED (the callee's app never answered), CALLING or EARLY → DISCONNECTED (the
    /// caller's session ended at a final response, so no redirect or retry followed). The
    /// other changes tell no rule anything the messages do not, and would be a note on every
    /// ladder.
    InviteState { from: String, to: String },
    /// `Temporary failure in sending …`, `Failed to send …`
    SendFailure,
    /// `Calling pjlib from unknown/external thread…`
    ExternalThread,
    /// `Error opening sound device…`
    SoundDevice,
    /// `Unhandled redirection for call N…`
    UnhandledRedirection { call: Option<u32> },
    /// `Authorization failed` or similar authentication errors from pjsip.
    AuthFailed,
    /// pjsua ran out of call slots (`PJ_ETOOMANY` / `Too many calls`).
    TooManyCalls,
    /// Any other line carrying a PJ error name in parentheses, e.g. `(PJSIP_ETPNOTSUITABLE)`.
    PjError { name: String },
    /// A DNS lookup failed: a pjsip resolver error (`DNS SRV resolution failed for …`,
    /// `PJLIB_UTIL_EDNS_*`, `PJ_ERESOLVE`), or in a capture a query answered with an error or
    /// with no record, or not answered at all (see [`DnsError`]).
    DnsFailure {
        /// The name looked up, when the line or the packet shows it.
        name: Option<String>,
        /// `A`, `AAAA`, `SRV`, `NAPTR`, when known.
        qtype: Option<String>,
        error: DnsError,
    },
    /// A capture's DNS answer for a SIP name: an SRV or NAPTR of `_sip`/`_sips`, or an address
    /// of a name whose SIP lookup failed or that an SRV answer named. Other answers are not
    /// surfaced.
    DnsAnswer {
        name: String,
        qtype: String,
        /// What the answer holds (`10.0.0.1`, `0 0 5060 pbx.example.com`), at most 8.
        records: Vec<String>,
    },
    /// A TLS handshake failed: a pjsip TLS/SSL error line, or in a capture a handshake that
    /// ended in an alert or a closed connection before any data.
    TlsFailure {
        /// The server's `ip:port` (a capture) or address (a log), when known.
        peer: Option<String>,
        error: TlsError,
    },
    /// A capture's TLS connection that completed its handshake and carried data, to a server
    /// whose handshake had failed before in the same capture (surfaced only then).
    TlsEstablished { peer: String },
    /// A transaction sent its message again (`Retransmiting Response msg 200/INVITE/cseq=1
    /// (tdta0x…), count=3, restart?=1`; pjsip spells it `Retransmitting` in later versions).
    /// `count` is pjsip's count before this retransmission: 0 for the first.
    Retransmit {
        /// A request's retransmission (a response's otherwise).
        request: bool,
        /// The request's method, or the method the response answers.
        method: String,
        /// The response's status code.
        status: Option<u16>,
        cseq: u32,
        count: u32,
    },
    /// `Acc N: setting unregistration..` (pjsua_acc.c): pjsua is about to send account N's
    /// un-REGISTER (when the account is deleted, on `setRegistration(false)`, or while pjsua
    /// shuts down).
    Unregistering { account: u32 },
    /// One stream of pjsua's call dump (`pjsua_call_dump`: at DISCONNECTED, and on an app's
    /// "dump call" command): what pjsua itself counted of the stream's RTP.
    MediaStats(Box<MediaStats>),
    /// `RTP socket reachable at 127.0.0.1:48520` (pjsua_media.c, when a call's media transport
    /// is created): the address this side puts in its SDP for RTP (a private address here, on
    /// a call through a NAT, is the usual cause of one-way audio).
    RtpSocket { addr: String },
    /// `Remote RTP address switched to 203.0.113.5:40376` (pjmedia's UDP and ICE transports;
    /// `RTCP` for RTCP): RTP kept arriving from another address than the SDP named, and this
    /// side now sends there (symmetric RTP behind a NAT). The line names only the new address;
    /// the old one is the SDP's.
    MediaAddressSwitched { rtcp: bool, addr: String },
    /// The end of an ICE negotiation: `ICE negotiation success after 0s:034`,
    /// `ICE negotiation failed after 5s:012: …` (pjnath ice_strans.c), or
    /// `ICE process complete, status=Success` (ice_session.c).
    IceNegotiation {
        ok: bool,
        /// How long it took, when the line says.
        after_ms: Option<u64>,
        /// The failure's reason, or the status.
        detail: String,
    },
    /// An outgoing stream connection of pjsip (`sip_transport_tcp.c`, `sip_transport_tls.c`):
    /// `TCP transport 10.0.0.1:52329 is connecting to 10.0.0.2:5060...` when its `connect()`
    /// is pending (`connected: false`), `TCP transport 10.0.0.1:52329 is connected to
    /// 10.0.0.2:5060` when it completed (for TLS: when the handshake did). Messages sent to the
    /// peer meanwhile wait in the transport. A process-wide fact: it names no call.
    TransportConnect {
        transport: Transport,
        /// The local `ip:port` the line names.
        local: String,
        /// The peer's `ip:port`.
        peer: String,
        connected: bool,
    },
}

/// One stream of a pjsua call dump, as pjsua writes it (see `ingest::pjsip::media`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaStats {
    /// The call's state in the dump's header (`DISCONNECTED`, `CONFIRMED`; pjsua_app writes
    /// `DISCONNCTD`).
    pub state: String,
    /// The dump header's `To:`: the remote party, with its tag.
    pub remote: String,
    /// The stream's index in the SDP (`#0`).
    pub stream: u32,
    /// `audio`, `video` …
    pub media: String,
    /// The codec's name (`PCMU`, `speex`, `opus`).
    pub codec: String,
    pub clock_khz: Option<u32>,
    /// The negotiated direction: `sendrecv`, `sendonly`, `recvonly`, `inactive`.
    pub dir: String,
    /// The remote RTP address (`peer=`), unless pjsua shows none (`peer=-`).
    pub peer: Option<String>,
    /// The `SRTP status:` line's text (`Not active Crypto-suite:`), when shown.
    pub srtp: Option<String>,
    /// What this side received, and sent.
    pub rx: Option<RtpCounts>,
    pub tx: Option<RtpCounts>,
    /// Round-trip time from RTCP.
    pub rtt: Option<MsStats>,
}

/// One direction of a dumped stream. Packets and bytes are exact below 1000; above, pjsua
/// writes them rounded down (`1.7Kpkt`, `10.5KB`: to 100; `2.05M`: to 10 000).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RtpCounts {
    /// The payload type (`RX pt=0`).
    pub pt: Option<u8>,
    pub packets: u64,
    /// RTP payload bytes (without IP/UDP/RTP headers).
    pub bytes: u64,
    /// Lost packets: for RX, from sequence gaps; for TX, as the remote side's RTCP reports.
    pub lost: u64,
    /// Packets the jitter buffer discarded (RX only, PJSIP 2.x).
    pub discarded: Option<u64>,
    pub jitter: Option<MsStats>,
}

/// A row of pjsua's msec columns, in microseconds (pjsua prints them to the microsecond).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MsStats {
    pub min_us: u64,
    pub mean_us: u64,
    pub max_us: u64,
    pub last_us: u64,
}

/// Why a DNS lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DnsError {
    /// The name does not exist (`NXDOMAIN`, RCODE 3).
    NxDomain,
    /// The server failed or refused (`SERVFAIL` 2, `REFUSED` 5, `FORMERR` 1, `NOTIMP` 4 …).
    Rcode { code: u8 },
    /// The name exists but has no record of the type asked (an empty answer, "NODATA").
    NoRecords,
    /// No answer came (a capture: none [`DNS_ANSWER_WAIT_MS`] after the first attempt and
    /// [`DNS_RETRY_GAP_MS`] after the last; a log: the resolver timed out).
    NoAnswer {
        attempts: u32,
        /// From the first attempt to when it counted as not answered (the event's time).
        waited_ms: i64,
    },
    /// A resolver error reported by a log, as it says it (`No working DNS nameserver
    /// (PJLIB_UTIL_EDNSNOWORKINGNS)`).
    Resolver { detail: String },
}

/// How long a capture must go on after a DNS query's first attempt without its answer for it
/// to count as not answered (a resolver has retried or given up by then)…
pub const DNS_ANSWER_WAIT_MS: i64 = 5_000;
/// …and after its last attempt (longer than pjsip's 2 s between attempts, so that a query still
/// being retried is not judged).
pub const DNS_RETRY_GAP_MS: i64 = 3_000;

impl DnsError {
    /// A short description: `NXDOMAIN`, `SERVFAIL`, `no records`, `no answer`, or the log's.
    pub fn describe(&self) -> String {
        match self {
            DnsError::NxDomain => "NXDOMAIN (no such name)".into(),
            DnsError::Rcode { code } => match code {
                1 => "FORMERR".into(),
                2 => "SERVFAIL".into(),
                4 => "NOTIMP".into(),
                5 => "REFUSED".into(),
                c => format!("RCODE {c}"),
            },
            DnsError::NoRecords => "no records of that type".into(),
            DnsError::NoAnswer { attempts, .. } if *attempts > 1 => {
                format!("no answer to {attempts} attempts")
            }
            DnsError::NoAnswer { .. } => "no answer".into(),
            DnsError::Resolver { detail } => detail.clone(),
        }
    }
}

/// Why a TLS handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TlsError {
    /// A fatal alert sent in clear during the handshake (`by_client`: who sent it).
    Alert { code: u8, by_client: bool },
    /// The connection was closed (FIN) or reset (RST) during the handshake; `after_hello`:
    /// before the server answered the ClientHello.
    Closed {
        reset: bool,
        by_client: bool,
        after_hello: bool,
    },
    /// The handshake completed, but the connection was closed before any data went over it:
    /// one side rejected the other after the handshake (most often a certificate check).
    ClosedAfterHandshake { by_client: bool },
    /// A log's TLS error, as it says it (`SSL certificate verification error
    /// (PJSIP_TLS_ECERTVERIF)`, `unsupported protocol`).
    Reported { detail: String },
}

/// The name of a TLS alert description (RFC 8446 §6, RFC 5246 §7.2).
pub fn tls_alert_name(code: u8) -> &'static str {
    match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown alert",
    }
}

impl TlsError {
    pub fn describe(&self) -> String {
        let who = |c: bool| if c { "the client" } else { "the server" };
        match self {
            TlsError::Alert { code, by_client } => format!(
                "{} sent the alert {} ({code})",
                who(*by_client),
                tls_alert_name(*code)
            ),
            TlsError::Closed {
                reset,
                by_client,
                after_hello,
            } => format!(
                "{} {} the connection {}",
                who(*by_client),
                if *reset { "reset" } else { "closed" },
                if *after_hello {
                    "right after the ClientHello"
                } else {
                    "during the handshake"
                }
            ),
            TlsError::ClosedAfterHandshake { by_client } => format!(
                "{} closed the connection right after the handshake, before any data",
                who(*by_client)
            ),
            TlsError::Reported { detail } => detail.clone(),
        }
    }
}

/// A log line that is evidence about a call or the process.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub ts: Timestamp,
    pub origin: Origin,
    /// pjsip's sender column (`pjsua_call.c`, `dlg0x…`).
    pub sender: String,
    pub kind: LogKind,
    /// Every PJ error name found in parentheses on the line (`PJSIP_ETPNOTSUITABLE`).
    pub errors: Vec<String>,
    /// The message text after the prefix.
    pub text: String,
}

impl LogEvent {
    /// The sender of the facts read from packets (DNS lookups, TLS handshakes), whether from a
    /// capture or from a text dump of packets; no process logs under these names.
    pub const DNS_PACKETS: &'static str = "dns";
    pub const TLS_PACKETS: &'static str = "tls";

    /// Whether this is a fact read from packets rather than a line a process wrote.
    pub fn from_packets(&self) -> bool {
        matches!(
            self.sender.as_str(),
            LogEvent::DNS_PACKETS | LogEvent::TLS_PACKETS
        )
    }
}

#[derive(Debug, Clone)]
pub enum Event {
    Message(MessageEvent),
    Log(LogEvent),
}

impl Event {
    pub fn ts(&self) -> Timestamp {
        match self {
            Event::Message(m) => m.ts,
            Event::Log(l) => l.ts,
        }
    }

    pub fn origin(&self) -> &Origin {
        match self {
            Event::Message(m) => &m.origin,
            Event::Log(l) => &l.origin,
        }
    }

    pub fn origin_mut(&mut self) -> &mut Origin {
        match self {
            Event::Message(m) => &mut m.origin,
            Event::Log(l) => &mut l.origin,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip() {
        for d in [-1000, 0, 1, 365, 20_000, 20_778] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(parse_date("2026-11-21"), Some(20_778));
        assert_eq!(parse_date("2026-13-01"), None);
    }

    #[test]
    fn timestamp_display() {
        let t = Timestamp::from_parts(0, 5, 28, 17, 580_000, false);
        assert_eq!(t.to_string(), "05:28:17.580");
        let t = Timestamp::from_parts(1, 0, 0, 1, 0, false);
        assert_eq!(t.to_string(), "00:00:01.000+1d");
        let t = Timestamp::from_parts(20_778, 23, 59, 59, 999_000, true);
        assert_eq!(t.to_string(), "2026-11-21 23:59:59.999");
    }

    #[test]
    fn microseconds_show_in_the_alternate_form_of_a_micro_time_only() {
        let ms = Timestamp::from_parts(20_778, 6, 11, 5, 124_863, true);
        let us = Timestamp { micro: true, ..ms };
        assert_eq!(format!("{ms:#}"), "2026-11-21 06:11:05.124");
        assert_eq!(format!("{us}"), "2026-11-21 06:11:05.124");
        assert_eq!(format!("{us:#}"), "2026-11-21 06:11:05.124863");
        let late = Timestamp::from_parts(1, 0, 0, 1, 7, false);
        assert_eq!(
            format!(
                "{:#}",
                Timestamp {
                    micro: true,
                    ..late
                }
            ),
            "00:00:01.000007+1d"
        );
        assert_eq!(ms, us, "precision is not part of the time");
    }

    #[test]
    fn an_unknown_time_says_so_and_measures_nothing() {
        let unknown = Timestamp::UNKNOWN;
        let known = Timestamp::from_parts(0, 0, 0, 0, 0, false);
        assert_eq!(unknown.to_string(), "--:--:--.---");
        assert_eq!(format!("{unknown:#}"), "--:--:--.---");
        assert_eq!(
            serde_json::to_string(&unknown).ok().as_deref(),
            Some("null")
        );
        assert_eq!(
            serde_json::to_string(&known).ok().as_deref(),
            Some("\"00:00:00.000\"")
        );
        assert!(unknown < known, "unknown times sort first");
        assert_ne!(unknown, known, "an unknown time is not midnight");
        assert_eq!(
            unknown,
            Timestamp {
                micros: 7,
                ..unknown
            },
            "all unknown times are one"
        );
        assert_eq!(unknown.known_ms_until(known), None);
        assert_eq!(known.known_ms_until(unknown), None);
        assert_eq!(known.known_ms_until(known), Some(0));
    }
}
