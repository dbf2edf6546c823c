//! The tables that classify a log line's text: [`classify`] turns evidence lines into
//! [`LogKind`]s, [`fact`] reads the transport lines that show a local address. Each table is a
//! list of (regex, constructor) rows tried in order; the first row whose regex matches and whose
//! constructor accepts the captures wins. To recognise a new line, add a row, and a keyword the
//! row's every match contains (see [`EVIDENCE_KEYS`]).

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::{Captures, Regex, RegexSet};

use crate::event::{DnsError, LogKind, TlsError, Transport};

type Build<T> = fn(&Captures<'_>) -> Option<T>;

/// A compiled table: a keyword prefilter, a set to find the candidate rows in one pass, and
/// each row's regex for its captures.
struct Table<T: 'static> {
    /// Every match of every row holds one of these (case-sensitive) …
    keys: AhoCorasick,
    /// … or one of these, in any ASCII case.
    keys_nocase: Option<AhoCorasick>,
    set: RegexSet,
    rows: Vec<(Regex, Build<T>)>,
}

impl<T> Table<T> {
    fn new(rows: &'static [(&'static str, Build<T>)], keys: &[&str], nocase: &[&str]) -> Self {
        let set = RegexSet::new(rows.iter().map(|r| r.0)).expect("static regexes");
        let rows = rows
            .iter()
            .map(|&(re, build)| (Regex::new(re).expect("static regex"), build))
            .collect();
        let keys_nocase = (!nocase.is_empty()).then(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(nocase)
                .expect("static keywords")
        });
        Table {
            keys: AhoCorasick::new(keys).expect("static keywords"),
            keys_nocase,
            set,
            rows,
        }
    }

    fn first(&self, text: &str) -> Option<T> {
        // Most lines hold no keyword: the regexes (and their allocations) are not run on them.
        let keyed =
            self.keys.is_match(text) || self.keys_nocase.as_ref().is_some_and(|k| k.is_match(text));
        if !keyed {
            return None;
        }
        self.set.matches(text).iter().find_map(|i| {
            self.rows
                .get(i)
                .and_then(|(re, build)| build(&re.captures(text)?))
        })
    }
}

fn num<T: std::str::FromStr>(c: &Captures<'_>, i: usize) -> Option<T> {
    c.get(i)?.as_str().parse().ok()
}

fn text(c: &Captures<'_>, i: usize) -> Option<String> {
    c.get(i).map(|m| m.as_str().trim().to_string())
}

/// A PJ error name in parentheses: `(PJSIP_ETPNOTSUITABLE)`, `(PJ_ETOOMANY)`, `(PJMEDIA_EAUD_…)`,
/// and the three SDP negotiation errors without an `E`: `(PJMEDIA_SDPNEG_NOANSCODEC)` ….
const PJ_ERROR: &str = r"\((PJ[A-Z0-9_]*_E[A-Z0-9_]+|PJMEDIA_SDPNEG_NOANS[A-Z]+)\)";

static EVIDENCE: &[(&str, Build<LogKind>)] = &[
    (r"^Answering call ([0-9]+): code=([0-9]+)", |c| {
        Some(LogKind::Answering {
            call: num(c, 1)?,
            code: num(c, 2)?,
        })
    }),
    (
        r"^Pending answering call ([0-9]+) upon completion of media transport",
        |c| Some(LogKind::PendingAnswer { call: num(c, 1)? }),
    ),
    (r"^Call ([0-9]+) hanging up: code=([0-9]+)", |c| {
        Some(LogKind::HangingUp {
            call: num(c, 1)?,
            code: num(c, 2)?,
        })
    }),
    (
        r"^Call ([0-9]+) processing pending hangup: code=([0-9]+)",
        |c| {
            Some(LogKind::PendingHangup {
                call: num(c, 1)?,
                code: num(c, 2)?,
            })
        },
    ),
    (r"^Delaying BYE request until ACK is received", |_| {
        Some(LogKind::DelayingBye)
    }),
    (r"^Making call with acc #([0-9]+) to (.+)", |c| {
        Some(LogKind::MakingCall {
            account: num(c, 1)?,
            target: text(c, 2)?,
        })
    }),
    // pjsua_app and most apps built on pjsua: `Call 0 state changed to EARLY (180 Ringing)`.
    (
        r"^Call ([0-9]+) state changed to ([A-Za-z_]+)(?: \((.*)\))?",
        call_state,
    ),
    (
        r"^Call ([0-9]+) is (DISCONNECTED) \[reason=(.*)\]",
        call_state,
    ),
    (r"^Call ([0-9]+): initializing media", |c| {
        Some(LogKind::CallMediaInit { call: num(c, 1)? })
    }),
    (r"^SDP negotiation done: (.*)", |c| {
        let detail = text(c, 1)?;
        Some(LogKind::SdpNegotiation {
            ok: detail.starts_with("Success"),
            detail,
        })
    }),
    (
        r"^(?:PRACK )?SDP negotiation (?:has )?failed(?:: *(.*))?",
        |c| {
            Some(LogKind::SdpNegotiation {
                ok: false,
                detail: text(c, 1).unwrap_or_default(),
            })
        },
    ),
    // pjsua_media.c: `RTP socket reachable at 127.0.0.1:48520`
    (r"^RTP socket reachable at (\S+)", |c| {
        Some(LogKind::RtpSocket { addr: text(c, 1)? })
    }),
    // transport_udp.c, transport_ice.c: `Remote RTP address switched to 203.0.113.5:40376`
    (r"^Remote (RTP|RTCP) address switched to (\S+)", |c| {
        Some(LogKind::MediaAddressSwitched {
            rtcp: c.get(1).is_some_and(|m| m.as_str() == "RTCP"),
            addr: text(c, 2)?,
        })
    }),
    // ice_strans.c: `ICE negotiation success after 0s:034`,
    // `ICE negotiation failed after 5s:012: Timed out (PJNATH_EICEFAILED)`
    (
        r"^ICE negotiation (success|failed) after ([0-9]+)s:([0-9]{3})(?:: *(.*))?",
        |c| {
            let ms = num::<u64>(c, 2)?
                .checked_mul(1000)?
                .checked_add(num(c, 3)?)?;
            Some(LogKind::IceNegotiation {
                ok: c.get(1).is_some_and(|m| m.as_str() == "success"),
                after_ms: Some(ms),
                detail: text(c, 4).unwrap_or_default(),
            })
        },
    ),
    // ice_session.c: `ICE process complete, status=Success`
    (r"^ICE process complete, status=(.*)", |c| {
        let detail = text(c, 1)?;
        Some(LogKind::IceNegotiation {
            ok: detail.starts_with("Success"),
            after_ms: None,
            detail,
        })
    }),
    // pjsua_acc.c: `sip:alice@example.com: registration success, status=200 (OK), will …`
    (r"\bregistration success, status=([0-9]+)", |c| {
        registration(true, num(c, 1))
    }),
    (r"\bunregistration success", |_| registration(true, None)),
    (r"^SIP registration failed, status=([0-9]+)", |c| {
        registration(false, num(c, 1))
    }),
    // `SIP registration error: … (PJSIP_EAUTHSTALECOUNT) [status=171111]` (a pj_status_t).
    (
        r"^SIP registration error\b(?:.*\[status=([0-9]+)\])?",
        |c| registration(false, num::<u32>(c, 1).and_then(sip_status)),
    ),
    (r"^SIP registration updated status=([0-9]+)", |c| {
        let status: u16 = num(c, 1)?;
        registration(status < 300, Some(status))
    }),
    (r"^Deleting account ([0-9]+)", |c| {
        Some(LogKind::AccountDeleted {
            account: num(c, 1)?,
        })
    }),
    // pjsua_acc.c, pjsua_acc_set_registration(acc, PJ_FALSE); the renewal (`setting
    // registration..`) tells nothing.
    (r"^Acc ([0-9]+): setting unregistration", |c| {
        Some(LogKind::Unregistering {
            account: num(c, 1)?,
        })
    }),
    // pjsua_core.c, first and last lines of pjsua_destroy().
    (r"^(?:Shutting down, flags=|PJSUA destroyed)", |_| {
        Some(LogKind::Shutdown)
    }),
    // sip_inv.c (sender `inv0x…`); transactions write their states in lower case (`Null`).
    // A session that ended before it was answered: an incoming one the callee never answered,
    // an outgoing one that the first final response ended (no redirect or retry followed).
    (
        r"^State changed from (INCOMING|CALLING|EARLY) to (DISCONNECTED), event=",
        |c| {
            Some(LogKind::InviteState {
                from: text(c, 1)?,
                to: text(c, 2)?,
            })
        },
    ),
    (
        r"^(?:Temporary failure in sending|Failed to send)\b",
        |_| Some(LogKind::SendFailure),
    ),
    (r"Calling pjlib from unknown/external thread", |_| {
        Some(LogKind::ExternalThread)
    }),
    (r"^(?:Error opening|Unable to open) sound device", |_| {
        Some(LogKind::SoundDevice)
    }),
    (r"^Unhandled redirection(?: for call ([0-9]+))?", |c| {
        Some(LogKind::UnhandledRedirection { call: num(c, 1) })
    }),
    (
        r"^Authorization failed\b|(?i:\bauthentication failed\b)|\((?:PJSIP_EAUTH[A-Z0-9_]*|PJSIP_EFAILEDCREDENTIAL)\)",
        |_| Some(LogKind::AuthFailed),
    ),
    (
        r"(?i:\btoo many calls\b)|^Error making call\b.*\(PJ_ETOOMANY\)",
        |_| Some(LogKind::TooManyCalls),
    ),
    // pjlib-util's resolver, through sip_resolve.c (PJSIP 2.x with a nameserver):
    // `DNS SRV resolution failed for _sip._udp.example.com: DNS "Name Error" (PJLIB_UTIL_EDNS_NXDOMAIN)`,
    // `DNS A record resolution error for 'example.com'.: No working DNS nameserver (PJLIB_UTIL_EDNSNOWORKINGNS)`,
    // `DNS A record resolution failed: Operation timed out (PJ_ETIMEDOUT)`,
    // `DNS A/AAAA record resolution failed: …` (the last, once every fallback failed). The line
    // that only announces the A fallback (`…, trying resolving A/AAAA record for …`) is not one.
    (
        r"^DNS (SRV|A|AAAA|A/AAAA|NAPTR) (?:record )?resolution (?:failed|error)(?: for '?([^\s':,]+)'?)?\.?: *(.+)",
        |c| {
            Some(LogKind::DnsFailure {
                name: text(c, 2),
                qtype: text(c, 1),
                error: resolver_error(&text(c, 3)?),
            })
        },
    ),
    // An answer too large for UDP, which pjlib-util's resolver does not retry over TCP:
    // `Discard truncated DNS SRV response for _sip._udp.example.com`.
    (
        r"^Discard truncated DNS (SRV|A|AAAA|NAPTR) response for (\S+)",
        |c| {
            Some(LogKind::DnsFailure {
                name: text(c, 2),
                qtype: text(c, 1),
                error: DnsError::Resolver {
                    detail: "truncated answer discarded (not retried over TCP)".into(),
                },
            })
        },
    ),
    // pjsua_core.c, at start: `Error setting nameserver: Invalid DNS nameserver address
    // (PJLIB_UTIL_EDNSINNSADDR)` (a name where an IP address is needed).
    (r"^Error setting nameserver: *(.+)", |c| {
        Some(LogKind::DnsFailure {
            name: None,
            qtype: None,
            error: DnsError::Resolver {
                detail: format!("nameserver not set: {}", text(c, 1)?),
            },
        })
    }),
    // Without a nameserver pjsip asks the system (getaddrinfo): sip_resolve.c's
    // `Failed to resolve 'example.com'. Err=70018 (gethostbyname() has returned error (PJ_ERESOLVE))`,
    // and `Unable to resolve …` in apps and older versions.
    (
        r"^(?:Failed|Unable) to resolve '?([^\s'.]+(?:\.[^\s'.]+)*)'?[.:]?\s*(.*)",
        |c| {
            Some(LogKind::DnsFailure {
                name: text(c, 1),
                qtype: None,
                error: resolver_error(&text(c, 2).unwrap_or_default()),
            })
        },
    ),
    // The TLS transport: `TLS connect() error: [code=171173] peer: 10.0.0.2: SSL certificate
    // verification error (PJSIP_TLS_ECERTVERIF)`. A socket error (`code=120111` … Connection
    // refused: PJ_ERRNO_START_SYS 120000 + errno) is the TCP connection's, not TLS's.
    (
        r"^TLS connect\(\) error: \[code=([0-9]+)\] peer: (\S+?): (.+)",
        |c| {
            let code: u32 = num(c, 1)?;
            if (120_000..130_000).contains(&code) {
                return None;
            }
            tls_failure(text(c, 2), &text(c, 3)?)
        },
    ),
    // ssl_sock_ossl.c: `Handshake failed on 10.0.0.1:5061 in connecting to 10.0.0.2:5061:
    // unsupported protocol` (or `in accepting 10.0.0.1:49152`), unless a socket error ended it.
    (
        r"^Handshake failed on \S+ in (?:connecting to|accepting) (\S+?): (.+)",
        |c| {
            let why = text(c, 2)?;
            if SOCKET_ERRORS.iter().any(|e| why.contains(e)) {
                return None;
            }
            tls_failure(text(c, 1), &why)
        },
    ),
    // OpenSSL's own reason: `SSL_ERROR_SSL (Handshake): Level: 0 err: <336027900>
    // <SSL routines-SSL23_GET_CLIENT_HELLO-unknown protocol> len: 0 peer: 10.0.0.1:49152`.
    (
        r"^SSL_ERROR_SSL \(Handshake\):.*<([^<>]*)>(?:\s*len: [0-9]+)?(?:\s*peer: (\S+))?",
        |c| tls_failure(text(c, 2), &text(c, 1)?),
    ),
    // pjsua_app.c's `TLS cert verification result of 10.0.0.2:5061 : Untrusted certificate`
    // (`OK` when the certificate passed).
    (r"^TLS cert verification result of (\S+) : *(.+)", |c| {
        let result = text(c, 2)?;
        if result == "OK" {
            return None;
        }
        tls_failure(text(c, 1), &result)
    }),
    // Any other line naming a TLS or certificate error of pjsip (`PJSIP_TLS_ECERTVERIF`,
    // `PJ_SSL_CERT_EUNTRUSTED` …), except the transport's teardown that repeats it.
    (
        r"^(TLS transport destroyed )?.*\((PJSIP_TLS_E[A-Z0-9_]+|PJ_SSL_[A-Z0-9_]+)\)",
        |c| {
            if c.get(1).is_some() {
                return None;
            }
            tls_failure(None, &text(c, 2)?)
        },
    ),
    // sip_transaction.c, each time a transaction's timer sends its message again:
    // `Retransmiting Response msg 200/INVITE/cseq=189913 (tdta0x7f89dc01d018), count=3,
    // restart?=1` (`Retransmitting` from 2.14 on).
    (
        r"^Retransmit+ing (Request|Response) msg (?:([0-9]{3})/)?([A-Za-z]+)/cseq=([0-9]+) \([^)]*\), count=([0-9]+)",
        |c| {
            Some(LogKind::Retransmit {
                request: c.get(1)?.as_str() == "Request",
                method: text(c, 3)?,
                status: num(c, 2),
                cseq: num(c, 4)?,
                count: num(c, 5)?,
            })
        },
    ),
    (STREAM_CONNECTION, |c| {
        Some(LogKind::TransportConnect {
            transport: Transport::from_name(&text(c, 1)?),
            local: endpoint(c, 2)?,
            peer: endpoint(c, 4)?,
            connected: c.get(3)?.as_str() == "connected",
        })
    }),
    (PJ_ERROR, |c| Some(LogKind::PjError { name: text(c, 1)? })),
];

/// Reasons of a failed connection that are the socket's, not TLS's.
const SOCKET_ERRORS: [&str; 5] = [
    "Connection refused",
    "timed out",
    "unreachable",
    "No route to host",
    "PJ_ETIMEDOUT",
];

/// A resolver's reason, read for what it says: `DNS "Name Error" (PJLIB_UTIL_EDNS_NXDOMAIN)`
/// is NXDOMAIN, `(PJ_ETIMEDOUT)` no answer; anything else is kept as written.
fn resolver_error(detail: &str) -> DnsError {
    if detail.contains("EDNS_NXDOMAIN") || detail.contains("\"Name Error\"") {
        DnsError::NxDomain
    } else if detail.contains("PJ_ETIMEDOUT") {
        DnsError::NoAnswer {
            attempts: 0,
            waited_ms: 0,
        }
    } else if detail.contains("EDNS_NODATA") || detail.contains("EDNSNOANSWERREC") {
        DnsError::NoRecords
    } else {
        let code = [
            ("EDNS_FORMERR", 1),
            ("EDNS_SERVFAIL", 2),
            ("EDNS_NOTIMP", 4),
            ("EDNS_REFUSED", 5),
        ]
        .into_iter()
        .find(|(n, _)| detail.contains(n));
        match code {
            Some((_, code)) => DnsError::Rcode { code },
            None => DnsError::Resolver {
                detail: detail.to_string(),
            },
        }
    }
}

fn tls_failure(peer: Option<String>, detail: &str) -> Option<LogKind> {
    Some(LogKind::TlsFailure {
        peer,
        error: TlsError::Reported {
            detail: detail.to_string(),
        },
    })
}

fn call_state(c: &Captures<'_>) -> Option<LogKind> {
    Some(LogKind::CallState {
        call: num(c, 1)?,
        state: text(c, 2)?,
        reason: text(c, 3),
    })
}

fn registration(ok: bool, status: Option<u16>) -> Option<LogKind> {
    Some(LogKind::Registration { ok, status })
}

/// The SIP status inside a pjsip status code (`PJSIP_ERRNO_FROM_SIP_STATUS`: 170000 + code).
fn sip_status(status: u32) -> Option<u16> {
    u16::try_from(status.checked_sub(170_000)?)
        .ok()
        .filter(|c| (100..700).contains(c))
}

/// What every match of a row of [`EVIDENCE`] holds, row by row (a keyword may serve several): the
/// prefilter that keeps the regexes off the lines that cannot match.
const EVIDENCE_KEYS: &[&str] = &[
    "nswering call ",
    " hanging up: code=",
    " processing pending hangup: code=",
    "Delaying BYE request",
    "Making call with acc #",
    " state changed to ",
    " is DISCONNECTED [reason=",
    ": initializing media",
    "SDP negotiation ",
    "RTP socket reachable at ",
    " address switched to ",
    "ICE negotiation ",
    "ICE process complete",
    "registration success",
    "SIP registration ",
    "Deleting account ",
    ": setting unregistration",
    "Shutting down, flags=",
    "PJSUA destroyed",
    " to DISCONNECTED, event=",
    "Temporary failure in sending",
    "Failed to send",
    "Calling pjlib from unknown/external thread",
    " sound device",
    "Unhandled redirection",
    "Authorization failed",
    "DNS ",
    "Error setting nameserver:",
    " to resolve",
    "TLS connect() error: ",
    "Handshake failed on ",
    "SSL_ERROR_SSL (Handshake):",
    "TLS cert verification result of ",
    "Retransmit",
    " is connecting to ",
    " is connected to ",
    // PJ_ERROR, and the rows naming a PJ error.
    "(PJ",
];

/// The keywords of [`EVIDENCE`]'s case-insensitive rows: `authentication failed`, `too many
/// calls` (without its `s`, which Unicode case folding matches to `ſ`).
const EVIDENCE_KEYS_NOCASE: &[&str] = &["authentication failed", "too many call"];

static EVIDENCE_TABLE: LazyLock<Table<LogKind>> =
    LazyLock::new(|| Table::new(EVIDENCE, EVIDENCE_KEYS, EVIDENCE_KEYS_NOCASE));
static PJ_ERRORS: LazyLock<Regex> = LazyLock::new(|| Regex::new(PJ_ERROR).expect("static regex"));

/// The evidence a line's text carries, if any.
pub(super) fn classify(text: &str) -> Option<LogKind> {
    EVIDENCE_TABLE.first(text)
}

/// Every PJ error name in parentheses on the line.
pub(super) fn errors(text: &str) -> Vec<String> {
    PJ_ERRORS
        .captures_iter(text)
        .map(|c| c[1].to_string())
        .collect()
}

/// A transport line that shows a local address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fact {
    /// A transport listening (or publishing) at `addr`.
    Listen { transport: Transport, addr: String },
    /// A connection between `local` and `peer`.
    Conn {
        transport: Transport,
        local: String,
        peer: String,
    },
}

static FACTS: &[(&str, Build<Fact>)] = &[
    // `SIP UDP transport started, published address is 127.0.0.1:5080`
    // `SIP UDP IPv6 transport started, published address is [::1]:5241`
    (
        r"^SIP ([A-Za-z0-9]+)(?: IPv6)? transport (?:started|restarted), published address is (\S+)",
        listen,
    ),
    // `SIP TCP listener ready for incoming connections at 127.0.0.1:5170` (TLS: `is ready`)
    (
        r"^SIP ([A-Za-z0-9]+) listener (?:is )?ready for incoming connections at (\S+)",
        listen,
    ),
    // pjsua_core.c: `SIP UDP socket reachable at 127.0.0.1:5080`
    (r"^SIP ([A-Za-z0-9]+) socket reachable at (\S+)", listen),
    (STREAM_CONNECTION, conn),
    // `TCP listener 127.0.0.1:5170: got incoming TCP connection from 127.0.0.1:49561, sock=5`
    (
        r"^([A-Za-z0-9]+) listener (\S+?): got incoming [A-Za-z0-9]+ connection from ([^\s,]+)",
        conn,
    ),
];

fn listen(c: &Captures<'_>) -> Option<Fact> {
    Some(Fact::Listen {
        transport: Transport::from_name(&text(c, 1)?),
        addr: text(c, 2)?,
    })
}

/// A connection line's local address (group 2) and peer (its last group).
fn conn(c: &Captures<'_>) -> Option<Fact> {
    Some(Fact::Conn {
        transport: Transport::from_name(&text(c, 1)?),
        local: endpoint(c, 2)?,
        peer: endpoint(c, c.len() - 1)?,
    })
}

/// pjsip's outgoing stream connection (sip_transport_tcp.c, sip_transport_tls.c): `TCP
/// transport 10.0.0.1:52329 is connecting to 10.0.0.2:5060...` (a pending connect()), `… is
/// connected to …` (TLS: once the handshake is done). An event (`TransportConnect`) and a
/// local-address fact ([`Fact::Conn`]) alike.
const STREAM_CONNECTION: &str =
    r"^([A-Za-z0-9]+) transport (\S+) is (connecting|connected) to (\S+)";

/// An `ip:port` of a connection line, without the `...` of `is connecting to R...`.
fn endpoint(c: &Captures<'_>, i: usize) -> Option<String> {
    text(c, i).map(|a| a.trim_end_matches('.').to_string())
}

/// What every match of a row of [`FACTS`] holds.
const FACT_KEYS: &[&str] = &[" transport ", " listener ", " socket reachable at "];

static FACT_TABLE: LazyLock<Table<Fact>> = LazyLock::new(|| Table::new(FACTS, FACT_KEYS, &[]));

/// The local-address fact a line's text states, if any.
pub(super) fn fact(text: &str) -> Option<Fact> {
    FACT_TABLE.first(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of issue 13's rows, as PJSIP 2.15.1 wrote them in `fixtures/flagship/`.
    #[test]
    fn session_end_before_ringing_and_shutdown() {
        let incoming_end = LogKind::InviteState {
            from: "INCOMING".into(),
            to: "DISCONNECTED".into(),
        };
        for (text, want) in [
            (
                "State changed from INCOMING to DISCONNECTED, event=TSX_STATE",
                Some(incoming_end),
            ),
            ("Shutting down, flags=0...", Some(LogKind::Shutdown)),
            ("PJSUA destroyed...", Some(LogKind::Shutdown)),
            (
                "Acc 0: setting unregistration..",
                Some(LogKind::Unregistering { account: 0 }),
            ),
            ("Acc 1: setting registration..", None),
            // Other session changes, a transaction's (lower case), other shutdown lines.
            (
                "State changed from INCOMING to EARLY, event=TSX_STATE",
                None,
            ),
            (
                "State changed from CONFIRMED to DISCONNECTED, event=TSX_STATE",
                None,
            ),
            ("State changed from Null to Trying, event=RX_MSG", None),
            ("Shutting down presence..", None),
            ("Shutting down media..", None),
        ] {
            assert_eq!(classify(text), want, "{text}");
        }
    }

    /// Media lines. `RTP socket reachable at` as PJSIP 2.15.1 wrote it in
    /// `fixtures/media/pjsua-rtp/caller.log:39`; `ICE process complete` as posted in
    /// arnonym/ha-plugins issue #205 (pjsua2 2.x, `icetp01  .ICE process complete,
    /// status=Success`). The switch and ICE negotiation lines in the forms pjproject prints them
    /// (`transport_udp.c`, `transport_ice.c`: `"Remote RTP address switched to %s"` with
    /// `pj_sockaddr_print(…, 3)`; `ice_strans.c`: `"ICE negotiation %s after %ds:%03d"`); no
    /// recording here has them yet (a NAT recording would).
    #[test]
    fn media_lines() {
        for (text, want) in [
            (
                "RTP socket reachable at 127.0.0.1:48520",
                Some(LogKind::RtpSocket {
                    addr: "127.0.0.1:48520".into(),
                }),
            ),
            (
                "Remote RTP address switched to 203.0.113.5:40376",
                Some(LogKind::MediaAddressSwitched {
                    rtcp: false,
                    addr: "203.0.113.5:40376".into(),
                }),
            ),
            (
                "Remote RTCP address switched to [2001:db8::5]:40377",
                Some(LogKind::MediaAddressSwitched {
                    rtcp: true,
                    addr: "[2001:db8::5]:40377".into(),
                }),
            ),
            (
                "ICE negotiation success after 0s:034",
                Some(LogKind::IceNegotiation {
                    ok: true,
                    after_ms: Some(34),
                    detail: String::new(),
                }),
            ),
            (
                "ICE negotiation failed after 12s:005: All ICE checklists failed (PJNATH_EICEFAILED)",
                Some(LogKind::IceNegotiation {
                    ok: false,
                    after_ms: Some(12_005),
                    detail: "All ICE checklists failed (PJNATH_EICEFAILED)".into(),
                }),
            ),
            (
                "ICE process complete, status=Success",
                Some(LogKind::IceNegotiation {
                    ok: true,
                    after_ms: None,
                    detail: "Success".into(),
                }),
            ),
            // A SIP transport's address is a fact about the transport, not media evidence.
            ("SIP UDP socket reachable at 127.0.0.1:5080", None),
            ("ICE negotiation success after forever", None),
        ] {
            assert_eq!(classify(text), want, "{text}");
        }
    }

    /// pjsip's stream connections, as PJSIP 2.15.1 wrote them in
    /// `fixtures/rules-net/slow-connect/ua.log` and `fixtures/rules-net/tls-ok/caller.log`
    /// (`sip_transport_tcp.c`, `sip_transport_tls.c`). An app's own line without the local
    /// address (pjproject issue #3887: `SIP TCP transport is connected to …`) is not one.
    #[test]
    fn stream_connections() {
        let conn = |t: Transport, local: &str, peer: &str, connected| {
            Some(LogKind::TransportConnect {
                transport: t,
                local: local.into(),
                peer: peer.into(),
                connected,
            })
        };
        for (text, want) in [
            (
                "TCP transport 10.63.11.1:55097 is connecting to 10.63.11.2:6392...",
                conn(Transport::Tcp, "10.63.11.1:55097", "10.63.11.2:6392", false),
            ),
            (
                "TCP transport 10.63.11.1:55097 is connected to 10.63.11.2:6392",
                conn(Transport::Tcp, "10.63.11.1:55097", "10.63.11.2:6392", true),
            ),
            (
                "TLS transport 10.63.9.1:43867 is connected to 10.63.9.2:6381",
                conn(Transport::Tls, "10.63.9.1:43867", "10.63.9.2:6381", true),
            ),
            (
                "TCP transport [::1]:40000 is connecting to [::1]:5060...",
                conn(Transport::Tcp, "[::1]:40000", "[::1]:5060", false),
            ),
            ("SIP TCP transport is connected to 54.172.60.0:5060", None),
        ] {
            assert_eq!(classify(text), want, "{text}");
        }
        // The local-address fact of the same line is still read.
        assert!(matches!(
            fact("TCP transport 10.63.11.1:55097 is connected to 10.63.11.2:6392"),
            Some(Fact::Conn { .. })
        ));
    }

    #[test]
    fn retransmissions_in_both_spellings() {
        let ok_200 = |count| LogKind::Retransmit {
            request: false,
            method: "INVITE".into(),
            status: Some(200),
            cseq: 189913,
            count,
        };
        for (text, want) in [
            // pjsip/pjproject#2342 (2.10) and our 2.15.1 recordings.
            (
                "Retransmiting Response msg 200/INVITE/cseq=189913 (tdta0x7f89dc01d018), count=3, restart?=1",
                Some(ok_200(3)),
            ),
            // Later versions.
            (
                "Retransmitting Response msg 200/INVITE/cseq=189913 (tdta0x7f89dc01d018), count=0, restart?=1",
                Some(ok_200(0)),
            ),
            (
                "Retransmitting Request msg REGISTER/cseq=46739 (tdta039500D4), count=2, restart?=1",
                Some(LogKind::Retransmit {
                    request: true,
                    method: "REGISTER".into(),
                    status: None,
                    cseq: 46739,
                    count: 2,
                }),
            ),
            ("Retransmit timer event", None),
        ] {
            assert_eq!(classify(text), want, "{text}");
        }
    }
}

#[cfg(test)]
mod prefilter {
    use super::*;

    /// Whether a table's keywords let `text` through.
    fn keyed<T>(table: &Table<T>, text: &str) -> bool {
        table.keys.is_match(text) || table.keys_nocase.as_ref().is_some_and(|k| k.is_match(text))
    }

    /// The prefilter never hides a line a row matches: every line of the fixture logs, read
    /// from every word on (as if the record's text started there, for the `^` rows).
    #[test]
    fn keywords_let_every_match_through() {
        let mut texts = Vec::new();
        for p in crate::testutil::fixture_files(&["log"]) {
            let text = std::fs::read(&p).unwrap_or_default();
            texts.extend(String::from_utf8_lossy(&text).lines().map(str::to_string));
        }
        assert!(texts.len() > 10_000, "the fixtures hold pjsip logs");
        let (mut evidence, mut facts) = (0, 0);
        for line in &texts {
            let starts =
                std::iter::once(0).chain(line.match_indices([' ', '.']).map(|(i, _)| i + 1));
            for at in starts {
                let text = &line[at..];
                if EVIDENCE_TABLE.set.is_match(text) {
                    evidence += 1;
                    assert!(keyed(&EVIDENCE_TABLE, text), "evidence: {text}");
                }
                if FACT_TABLE.set.is_match(text) {
                    facts += 1;
                    assert!(keyed(&FACT_TABLE, text), "fact: {text}");
                }
            }
        }
        assert!(
            evidence > 100 && facts > 10,
            "{evidence} evidence, {facts} facts"
        );
    }

    /// One line for each row whose keyword is its own, in the spelling of the regex.
    #[test]
    fn keywords_of_rare_rows() {
        for text in [
            "Pending answering call 0 upon completion of media transport",
            "Call 1 processing pending hangup: code=200",
            "Delaying BYE request until ACK is received",
            "PRACK SDP negotiation has failed: x",
            "sip:a@b: unregistration success",
            "Acc 0: setting unregistration..",
            "Calling pjlib from unknown/external thread. pjlib ...",
            "Unable to open sound device",
            "Unhandled redirection for call 2",
            "Authentication FAILED for x",
            "TOO MANY CALLS",
            "Error making call: Too many objects of the specified type (PJ_ETOOMANY)",
            "Discard truncated DNS SRV response for _sip._udp.example.com",
            "Error setting nameserver: Invalid DNS nameserver address (PJLIB_UTIL_EDNSINNSADDR)",
            "Unable to resolve 'example.com'",
            "TLS connect() error: [code=171173] peer: 10.0.0.2: SSL certificate verification error (PJSIP_TLS_ECERTVERIF)",
            "Handshake failed on 10.0.0.1:5061 in connecting to 10.0.0.2:5061: unsupported protocol",
            "SSL_ERROR_SSL (Handshake): Level: 0 err: <1> <SSL routines-x-unknown protocol> len: 0 peer: 10.0.0.1:49152",
            "TLS cert verification result of 10.0.0.2:5061 : Untrusted certificate",
            "State changed from EARLY to DISCONNECTED, event=TSX_STATE",
        ] {
            assert!(classify(text).is_some(), "{text}");
            assert!(keyed(&EVIDENCE_TABLE, text), "{text}");
        }
        for text in [
            "SIP TLS listener is ready for incoming connections at 10.0.0.1:5061",
            "TCP listener 127.0.0.1:5170: got incoming TCP connection from 127.0.0.1:49561, sock=5",
        ] {
            assert!(fact(text).is_some(), "{text}");
        }
    }
}
