//! SF034 `tls-failure`: a TLS handshake failed (pjsip's TLS/SSL error lines, or a capture's
//! TLS alert or a connection closed before any data).

use std::net::SocketAddr;

use super::timers::TIMER_64T1_MS;
use crate::event::{Event, LogEvent, LogKind, Timestamp, TlsError};
use crate::rules::{Context, Finding, Rule, Scope, Severity};

pub(super) const RULE: Rule = Rule {
    code: "SF034",
    name: "tls-failure",
    severity: Severity::Error,
    scope: Scope::Log,
    judges_time: true,
    summary: "a TLS handshake failed: certificate rejected, alert, no common protocol or cipher",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A TLS connection for SIP (`;transport=tls`, `sips:`) whose handshake failed, seen either way:

- in a pjsip log: `TLS connect() error: … SSL certificate verification error
  (PJSIP_TLS_ECERTVERIF)`, `Handshake failed on … in connecting to …: unsupported protocol`,
  `SSL_ERROR_SSL (Handshake): … <SSL routines-…-unknown protocol>`, any line naming a
  `PJSIP_TLS_E…` or `PJ_SSL_…` error (socket errors such as `Connection refused` are
  `transport-error`'s);
- in a capture, from the TLS record layer only (nothing is decrypted): a fatal alert sent in
  clear during the handshake (`handshake_failure` 40, `bad_certificate` 42, `unknown_ca` 48,
  `protocol_version` 70 …); a connection closed or reset right after the ClientHello or during
  the handshake; a connection closed right after the handshake before any data went over it
  (what pjsip does when `verifyServer` rejects the certificate: the handshake completes, then
  it closes). Web clients (a ClientHello whose ALPN names only `h2`, `http/1.1` …) and the ports
  of other protocols over TLS (443, 853, 993 …) are left out; a handshake still under way when
  the capture ends is not a failure.

The lines of both ends and the packets of one failed handshake (the same addresses, within
2 s) make one finding.

## Why it matters
Nothing of the SIP request that waited for the connection reaches the peer: pjsip fails the
transaction at once (`503` with the TLS error as reason, `Failed to send Request msg INVITE…`),
and a capture shows no SIP at all, only a handshake that went nowhere. The error text alone
(`End of file`, `EVP lib`) rarely says it was the certificate or the protocol version.

## Severity
- **error** (the default) when the trace shows the SIP transaction over it failing (pjsip's
  `Failed to send …` or a failed registration after the handshake error), or, in a capture
  alone, when no later handshake to the same server succeeded and the capture covers 32 s
  after the failure (Timer B/F: the request cannot have got through).
- **warning** when a later connection to the same server completed its handshake and carried
  data (a retry worked), or when the capture ends too soon after the failure to tell.

## Typical causes
- The server's certificate is not trusted by the client: self-signed, or its CA is not in
  `TlsConfig.CaListFile` (pjsip: `PJ_SSL_CERT_EUNTRUSTED`, `PJ_SSL_CERT_EISSUER_NOT_FOUND`).
- The certificate does not name the host the client dialled (`PJ_SSL_CERT_EIDENTITY_NOT_MATCH`):
  calling an IP address while the certificate names a host, or the other way round.
- An expired or not yet valid certificate (`PJ_SSL_CERT_EVALIDITY_PERIOD`), or a wrong clock.
- No protocol version in common (`TlsConfig.proto`, `method`: TLS 1.3 only against TLS 1.2
  only), or no cipher in common (`TlsConfig.ciphers`).
- The server asks for a client certificate (`requireClientCert`) and the client has none.

## How to fix
- Give the client the CA that signed the server's certificate (`TlsConfig.CaListFile`), or a
  certificate from a public CA on the server.
- Make the certificate's subjectAltName include the name (or IP address) the client uses.
- Renew the certificate; check both clocks.
- Allow a common version and cipher list on both sides (`TlsConfig.proto`, `ciphers`).
- To diagnose: `openssl s_client -connect host:5061 -servername host -CAfile ca.pem`.

## Example
From `fixtures/rules-net/tls-untrusted-cert/caller.log` (pjsua2 with `verifyServer` on, the
callee's certificate signed by a CA the caller does not trust):
```
tlsc0x…  TLS connect() error: [code=171173] peer: 10.63.6.2: SSL certificate verification error (PJSIP_TLS_ECERTVERIF)
tsx0x…   Failed to send Request msg INVITE/cseq=… (tdta0x…)! err=171173 (SSL certificate verification error (PJSIP_TLS_ECERTVERIF))
```
The capture of the same run (`call.pcap`) shows the handshake complete, then the caller sends
an encrypted alert and closes: no SIP went over the connection.

## References
- RFC 8446 §6 (TLS 1.3 alerts), RFC 5246 §7.2 (TLS 1.2 alerts), RFC 5630 (SIPS), RFC 5922
  (domain certificates in SIP)
- pjsua2 `TlsConfig` (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA2__UA.html)
"#;

/// Failures this close together (and sharing an address) are one handshake (ms).
const SAME_HANDSHAKE_MS: i64 = 2_000;
/// A `Failed to send …` this soon after the handshake error is the request it failed (ms).
const EFFECT_MS: i64 = 1_000;

/// What a TLS line or fact says, for the message and the help.
fn hint(errors: &[&TlsError]) -> &'static str {
    let text: Vec<String> = errors
        .iter()
        .map(|e| e.describe().to_ascii_lowercase())
        .collect();
    let has = |s: &str| text.iter().any(|t| t.contains(s));
    let alert = |codes: &[u8]| {
        errors
            .iter()
            .any(|e| matches!(e, TlsError::Alert { code, .. } if codes.contains(code)))
    };
    if has("certificate verif")
        || has("certverif")
        || has("cert_e")
        || alert(&[42, 43, 44, 45, 46, 48])
    {
        "the certificate was rejected: an untrusted CA, an expired certificate or a name that \
         does not match"
    } else if has("protocol") || has("wrong version") || alert(&[70]) {
        "the two sides have no TLS version in common"
    } else if has("cipher") || has("handshake_failure") || alert(&[40, 71]) {
        "the two sides have no cipher (or other parameter) in common"
    } else if errors
        .iter()
        .any(|e| matches!(e, TlsError::ClosedAfterHandshake { .. }))
    {
        "one side rejected the other right after the handshake, most often its certificate \
         (pjsip's verifyServer/verifyClient does so)"
    } else if errors.iter().any(|e| {
        matches!(
            e,
            TlsError::Closed {
                after_hello: true,
                ..
            }
        )
    }) {
        "the server refused the ClientHello: most often no TLS version or cipher in common"
    } else {
        "the handshake did not complete"
    }
}

const HELP: &str = "trust the CA that signed the server's certificate (TlsConfig.CaListFile), \
                    make the certificate name the host or IP the client dials and keep it \
                    valid, and allow a TLS version and cipher both sides support \
                    (TlsConfig.proto, ciphers); openssl s_client -connect HOST:PORT shows what \
                    the server offers";

/// Whether two failures are close enough in time to be one handshake. A log without a date
/// and a dated capture are compared by time of day (their clocks cannot be aligned on a
/// handshake that carried no SIP).
fn close_in_time(a: Timestamp, b: Timestamp) -> bool {
    let ms = if a.dated == b.dated {
        a.ms_until(b)
    } else {
        let day = crate::event::MICROS_PER_DAY;
        let d = (b.micros - a.micros).rem_euclid(day);
        d.min(day - d) / 1000
    };
    ms.abs() <= SAME_HANDSHAKE_MS
}

/// The IP addresses a TLS line or fact names.
fn addresses(l: &LogEvent) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |s: &str| {
        let s = s.trim_end_matches([':', '.', ',']);
        let ip = s
            .parse::<SocketAddr>()
            .map(|a| a.ip().to_string())
            .or_else(|_| s.parse::<std::net::IpAddr>().map(|a| a.to_string()));
        if let Ok(ip) = ip
            && !out.contains(&ip)
        {
            out.push(ip);
        }
    };
    if let LogKind::TlsFailure { peer: Some(p), .. } = &l.kind {
        add(p);
    }
    for word in l.text.split_whitespace() {
        add(word);
    }
    out
}

/// One failed handshake: its lines and facts.
struct Handshake {
    events: Vec<usize>,
    addrs: Vec<String>,
    last: Timestamp,
    /// A fact read from a capture: its input, its server, its time.
    capture: Option<(usize, Option<String>, Timestamp)>,
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    let mut handshakes: Vec<Handshake> = Vec::new();
    for (i, ev) in model.events.iter().enumerate() {
        let Event::Log(l) = ev else {
            continue;
        };
        let LogKind::TlsFailure { peer, .. } = &l.kind else {
            continue;
        };
        let addrs = addresses(l);
        let capture = l
            .from_packets()
            .then(|| (l.origin.input, peer.clone(), l.ts));
        let joins = handshakes.iter_mut().rev().find(|h| {
            close_in_time(h.last, l.ts)
                && (addrs.is_empty()
                    || h.addrs.is_empty()
                    || addrs.iter().any(|a| h.addrs.contains(a)))
                && !(capture.is_some() && h.capture.is_some())
        });
        match joins {
            Some(h) => {
                h.events.push(i);
                h.last = h.last.max(l.ts);
                for a in addrs {
                    if !h.addrs.contains(&a) {
                        h.addrs.push(a);
                    }
                }
                h.capture = h.capture.take().or(capture);
            }
            None => handshakes.push(Handshake {
                events: vec![i],
                addrs,
                last: l.ts,
                capture,
            }),
        }
    }
    for h in &handshakes {
        report(ctx, h, out);
    }
}

fn report(ctx: &Context<'_>, h: &Handshake, out: &mut Vec<Finding>) {
    let model = ctx.model;
    let lines: Vec<&LogEvent> = h
        .events
        .iter()
        .filter_map(|&e| match &model.events[e] {
            Event::Log(l) => Some(l),
            Event::Message(_) => None,
        })
        .collect();
    let errors: Vec<&TlsError> = lines
        .iter()
        .filter_map(|l| match &l.kind {
            LogKind::TlsFailure { error, .. } => Some(error),
            _ => None,
        })
        .collect();
    let (Some(&first), Some(first_l)) = (h.events.first(), lines.first()) else {
        return;
    };
    // Per input, the time of its last line of the handshake (a log and a capture may not share
    // a clock).
    let mut last_of: std::collections::BTreeMap<usize, Timestamp> = Default::default();
    for l in &lines {
        last_of.insert(l.origin.input, l.ts);
    }
    // pjsip's `Failed to send …` (or a failed registration) just after, in a log of this
    // handshake: the SIP transaction over it failed.
    let effect = model.events.iter().enumerate().skip(first).find(|(_, ev)| {
        matches!(ev, Event::Log(l)
            if matches!(l.kind, LogKind::SendFailure | LogKind::Registration { ok: false, .. })
                && last_of
                    .get(&l.origin.input)
                    .is_some_and(|t| (0..=EFFECT_MS).contains(&t.ms_until(l.ts))))
    });
    // A capture's later handshake to the same server that carried data.
    let retried = h.capture.as_ref().and_then(|(input, server, _)| {
        model.events.iter().enumerate().skip(first).find(|(_, ev)| {
            matches!(ev, Event::Log(LogEvent { kind: LogKind::TlsEstablished { peer }, origin, .. })
                if origin.input == *input && Some(peer) == server.as_ref())
        })
    });
    let covered = h.capture.as_ref().is_some_and(|(input, _, at)| {
        ctx.input_ends
            .get(*input)
            .copied()
            .flatten()
            .is_some_and(|end| at.ms_until(end) >= TIMER_64T1_MS)
    });
    let why = hint(&errors);
    let detail = errors
        .first()
        .map(|e| e.describe())
        .unwrap_or_else(|| first_l.text.clone());
    let server = h
        .capture
        .as_ref()
        .and_then(|(_, s, _)| s.clone())
        .or_else(|| {
            lines.iter().find_map(|l| match &l.kind {
                LogKind::TlsFailure { peer: Some(p), .. } => Some(p.clone()),
                _ => None,
            })
        })
        .map(|s| format!(" with {s}"))
        .unwrap_or_default();
    let (severity, outcome) = if let Some((_, Event::Log(l))) = effect {
        let what = match l.kind {
            LogKind::Registration { .. } => "the registration failed",
            _ => "the SIP request waiting for it was never sent",
        };
        (Severity::Error, what.to_string())
    } else if retried.is_some() {
        (
            Severity::Warning,
            "a later connection to the same server succeeded".to_string(),
        )
    } else if covered {
        (
            Severity::Error,
            "no later connection to that server succeeded in the next 32 s: no SIP got through"
                .to_string(),
        )
    } else if h.capture.is_some() {
        (
            Severity::Warning,
            "no SIP went over the connection (the capture ends before a retry would show)"
                .to_string(),
        )
    } else {
        (
            Severity::Warning,
            "the log does not show what became of the request".to_string(),
        )
    };
    let message = format!("TLS handshake{server} failed ({detail}): {why}; {outcome}");
    let owner = h
        .events
        .iter()
        .find_map(|&e| model.event_owner[e])
        .or_else(|| effect.and_then(|(e, _)| model.event_owner[e]));
    let mut f = Finding::new(&RULE, owner, message, HELP.to_string());
    f.severity = severity;
    let mut f = f.with(first, "the TLS handshake failed");
    for &e in h.events.iter().skip(1).take(4) {
        f = f.with(e, "the same handshake");
    }
    if let Some((e, _)) = effect {
        f = f.with(e, "the request it failed");
    }
    if let Some((e, _)) = retried {
        f = f.with(e, "a later handshake succeeded");
    }
    out.push(f);
}
