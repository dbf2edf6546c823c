//! SF015 `transport-error`: pjsip could not send a message (no suitable transport, connection
//! refused, send failure).

use std::collections::HashMap;

use crate::dialog::Owner;
use crate::event::{Direction, Event, LogEvent, LogKind};
use crate::rules::{Context, Finding, Rule, Scope, Severity};

pub(super) const RULE: Rule = Rule {
    code: "SF015",
    name: "transport-error",
    severity: Severity::Error,
    scope: Scope::Log,
    judges_time: true,
    summary: "pjsip failed to send a message: no suitable transport, connection refused, send error",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
pjsip log lines that say a message could not be sent, or could not even be built for lack of
a transport:

- `Failed to send Request msg INVITE/cseq=… (tdta…)! err=… (Connection refused)`;
- `Temporary failure in sending …, will try next server: …`;
- any line carrying `PJSIP_EUNSUPTRANSPORT` (no transport of the needed type, e.g.
  `Unable to generate Contact header: Unsupported transport`), `PJSIP_ETPNOTSUITABLE` (the
  account is bound to a transport that cannot reach the target) or `PJSIP_ETPNOTAVAIL`.

Lines of one failure (same input, same `tdta` or within 100 ms) make one finding. Not reported:
a `Temporary failure … will try next server` that pjsip recovers from by itself, i.e. the same
message (`tdta`) is then sent over another transport. That is what happens to a request above
the 1300-byte UDP threshold when there is no TCP transport: pjsip tries TCP, gets
`PJSIP_EUNSUPTRANSPORT` and sends it over UDP after all (`fixtures/big-invite-cut`). Nor a
send failure within 100 ms of a DNS or TLS failure in the same log: the destination did not
resolve or the handshake failed, which `dns-failure` and `tls-failure` report.

## Why it matters
The request never leaves the machine, yet a `TX` dump may already be in the log (pjsip logs the
message before the transport fails), so the log looks as if the peer did not answer. The
call fails locally, usually with `503` and the socket error as reason (`503 Connection
refused`), or `makeCall()` throws at once; nothing reaches the network, so the peer and any
capture show nothing.

## Severity
Default **error**: the message never left, so its transaction (and often the call) failed: a
`Failed to send` (connection refused, no route, …), a call that `makeCall()` could not start,
no suitable transport. **Warning** for a temporary failure (`Temporary failure in sending`)
after which the same message (the same `tdta`) was sent again: it was only delayed. A
temporary failure that pjsip recovered by switching to another transport (`will try next
server`, then the message sent) is not reported.

## Typical causes
- A target URI with `;transport=tls` or `;transport=tcp` (from the app, a DNS NAPTR/SRV record
  or a Record-Route) when no TLS/TCP transport was created.
- Nothing listens on the target's TCP/TLS port (connect refused), or a firewall rejects it.
- The account is bound to one transport (`sipConfig.transportId`) that cannot reach the target
  (IPv4 vs IPv6, UDP vs TCP).
- Requests larger than `PJSIP_UDP_SIZE_THRESHOLD` (1300 bytes) switch to TCP; when the peer
  does not accept TCP the send fails (without a local TCP transport pjsip falls back to UDP).
- A TCP/TLS connection closed under a dialog that still uses it.

## How to fix
- Create every transport the targets need: `ep.transportCreate(pj.PJSIP_TRANSPORT_TCP, cfg)`,
  `PJSIP_TRANSPORT_TLS` (with a TLS config), or remove `;transport=` from the URI.
- Check that the peer listens on that port and transport (`ss -ltn`, a capture on the peer).
- Do not pin `sipConfig.transportId` unless the transport can reach every destination.
- For large requests: create a TCP transport, or trim headers/SDP so they stay below 1300 bytes.
- Handle `pj.Error` from `makeCall()` and the `503` in `onCallState`.

## Example
From `fixtures/rules-message-extra/transport-error/caller.log` (a UDP+TCP caller, no TLS):
```
pjsua_call.c  Making call with acc #0 to sip:callee@127.0.0.1:5899;transport=tls
pjsua_call.c  .Unable to generate Contact header: Unsupported transport (PJSIP_EUNSUPTRANSPORT) [status=171060]
…
pjsua_call.c  Making call with acc #0 to sip:callee@127.0.0.1:5898;transport=tcp
…
pjsua_core.c  ....TX 1235 bytes Request msg INVITE/cseq=… (tdta0x…) to TCP 127.0.0.1:5898:
tcpc0x…       TCP connect() error: [code=120111]: Connection refused
tsx0x…        Failed to send Request msg INVITE/cseq=… (tdta0x…)! err=120111 (Connection refused)
```

## References
- RFC 3261 §18 (transport), §18.1.1 (the 1300-byte UDP rule), RFC 3263 (locating servers)
- pjsua2 `TransportConfig`, `Endpoint::transportCreate` (https://docs.pjsip.org/en/latest/pjsua2/using/endpoint.html)
"#;

const HELP: &str = "create the transport the target needs (ep.transportCreate with \
                    PJSIP_TRANSPORT_TCP/TLS) or drop ;transport= from the URI, check that the \
                    peer listens on that port and transport, and do not pin \
                    sipConfig.transportId to a transport that cannot reach the target";

const NAMES: [&str; 3] = [
    "PJSIP_EUNSUPTRANSPORT",
    "PJSIP_ETPNOTSUITABLE",
    "PJSIP_ETPNOTAVAIL",
];

/// A `Making call` line this close before a failure is the call that failed (ms).
const MAKING_CALL_MS: i64 = 1_000;

/// Lines of one failure are at most this far apart (ms).
const SAME_FAILURE_MS: i64 = 100;

fn is_transport_error(l: &LogEvent) -> bool {
    matches!(l.kind, LogKind::SendFailure)
        || l.errors.iter().any(|e| NAMES.contains(&e.as_str()))
        || l.text.contains("Temporary failure in sending")
}

/// A DNS or TLS failure explains a send failure right after it: that is `dns-failure`'s or
/// `tls-failure`'s finding, not this rule's (one problem, one finding).
fn explains(l: &LogEvent) -> bool {
    matches!(
        l.kind,
        LogKind::DnsFailure { .. } | LogKind::TlsFailure { .. }
    )
}

/// The `tdta0x…` handle a line names, if any.
fn tdta(text: &str) -> Option<&str> {
    let start = text.find("(tdta")? + 1;
    let len = text[start..].find(')')?;
    Some(&text[start..start + len])
}

/// `Request msg INVITE/cseq=24010` from a line that names a message.
fn subject(text: &str) -> Option<&str> {
    let start = text
        .find("Request msg")
        .or_else(|| text.find("Response msg"))?;
    let rest = &text[start..];
    Some(&rest[..rest.find(" (")?])
}

fn meaning(lines: &[&LogEvent]) -> &'static str {
    let has = |name: &str| lines.iter().any(|l| l.errors.iter().any(|e| e == name));
    let text = |s: &str| lines.iter().any(|l| l.text.contains(s));
    if has("PJSIP_EUNSUPTRANSPORT") {
        "there is no transport of the type the target needs (e.g. ;transport=tls or tcp \
         without a TLS/TCP transport)"
    } else if has("PJSIP_ETPNOTSUITABLE") {
        "the transport the account is bound to cannot reach the target (type or IP version)"
    } else if has("PJSIP_ETPNOTAVAIL") {
        "the transport is not available (shut down, or its connection closed)"
    } else if text("Connection refused") {
        "nothing listens at the target (the connection was refused)"
    } else {
        "the transport reported an error"
    }
}

struct Failure {
    input: usize,
    /// The `Making call … to URI` line just before, if any.
    making: Option<usize>,
    lines: Vec<usize>,
    handle: Option<String>,
    last_ms: i64,
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    // (input, handle) → TX dumps of that tdta, in order.
    let mut tx: HashMap<(usize, &str), Vec<usize>> = HashMap::new();
    for (i, ev) in model.events.iter().enumerate() {
        if let Event::Message(m) = ev
            && m.direction == Some(Direction::Tx)
            && let Some(h) = m.handle.as_deref()
        {
            tx.entry((m.origin.input, h)).or_default().push(i);
        }
    }
    let mut failures: Vec<Failure> = Vec::new();
    // input → index of its open failure in `failures`.
    let mut open: HashMap<usize, usize> = HashMap::new();
    // input → its latest `Making call` line.
    let mut making: HashMap<usize, usize> = HashMap::new();
    // input → the time of its latest DNS or TLS failure.
    let mut explained: HashMap<usize, i64> = HashMap::new();
    for (i, ev) in model.events.iter().enumerate() {
        let l = match ev {
            // A new call or the next message of that input starts another story.
            Event::Message(m) => {
                open.remove(&m.origin.input);
                continue;
            }
            Event::Log(l) if matches!(l.kind, LogKind::MakingCall { .. }) => {
                open.remove(&l.origin.input);
                making.insert(l.origin.input, i);
                continue;
            }
            Event::Log(l) if explains(l) => {
                explained.insert(l.origin.input, l.ts.micros.div_euclid(1000));
                continue;
            }
            Event::Log(l) => l,
        };
        if !is_transport_error(l) {
            continue;
        }
        let input = l.origin.input;
        let ms = l.ts.micros.div_euclid(1000);
        if explained
            .get(&input)
            .is_some_and(|&t| (0..=SAME_FAILURE_MS).contains(&(ms - t)))
        {
            continue;
        }
        let handle = tdta(&l.text).map(str::to_string);
        let joins = open.get(&input).copied().filter(|&f| {
            let f = &failures[f];
            ms - f.last_ms <= SAME_FAILURE_MS
                && (handle.is_none() || f.handle.is_none() || handle == f.handle)
        });
        match joins {
            Some(f) => {
                let f = &mut failures[f];
                f.lines.push(i);
                f.last_ms = ms;
                f.handle = f.handle.take().or(handle);
            }
            None => {
                open.insert(input, failures.len());
                let made = making
                    .get(&input)
                    .copied()
                    .filter(|&m| model.events[m].ts().ms_until(l.ts) <= MAKING_CALL_MS);
                failures.push(Failure {
                    input,
                    making: made,
                    lines: vec![i],
                    handle,
                    last_ms: ms,
                });
            }
        }
    }
    for failure in &failures {
        let lines: Vec<&LogEvent> = failure
            .lines
            .iter()
            .filter_map(|&e| match &model.events[e] {
                Event::Log(l) => Some(l),
                Event::Message(_) => None,
            })
            .collect();
        let (Some(&first_event), Some(first)) = (failure.lines.first(), lines.first()) else {
            continue;
        };
        let hard = lines.iter().any(|l| {
            matches!(l.kind, LogKind::SendFailure) && !l.text.contains("Temporary failure")
        });
        let dumps: &[usize] = failure
            .handle
            .as_deref()
            .and_then(|h| tx.get(&(failure.input, h)))
            .map_or(&[], Vec::as_slice);
        let logged_before = dumps.iter().copied().rfind(|&d| d < first_event);
        // pjsip tried another transport and sent the message (e.g. a request above the
        // 1300-byte UDP threshold, no TCP transport, back to UDP): not a failure.
        let recovered = !hard
            && lines
                .iter()
                .all(|l| l.text.contains("will try next server"))
            && dumps.iter().any(|&d| d > first_event);
        if recovered {
            continue;
        }
        // A temporary failure after which the same message went out: it cost a delay, not
        // the transaction.
        let sent_later = !hard && dumps.iter().any(|&d| d > first_event);
        let owner: Option<Owner> = failure.lines.iter().find_map(|&e| model.event_owner[e]);
        let name = ctx.input_name(failure.input);
        let why = meaning(&lines);
        let what = lines
            .iter()
            .find_map(|l| subject(&l.text))
            .unwrap_or("the request");
        let target = failure
            .making
            .and_then(|m| match &model.events[m] {
                Event::Log(LogEvent {
                    kind: LogKind::MakingCall { target, .. },
                    ..
                }) => Some(format!(" to {target}")),
                _ => None,
            })
            .unwrap_or_default();
        let message = if lines.iter().any(|l| l.text.contains("make_call"))
            && logged_before.is_none()
        {
            format!(
                "pjsip could not make a call{target} in {name}: {why}; makeCall() failed and no \
                 INVITE was sent ({})",
                first.text
            )
        } else {
            let never_left = if logged_before.is_some() && hard {
                "; its TX dump is in the log, but the message never left the machine"
            } else {
                ""
            };
            let to = if target.is_empty() {
                String::new()
            } else {
                format!(" (call{target})")
            };
            format!(
                "pjsip could not send {what}{to} in {name}: {why}{never_left} ({})",
                first.text
            )
        };
        let mut f = Finding::new(&RULE, owner, message, HELP.to_string())
            .with(first_event, "the transport error");
        for &e in failure.lines.iter().skip(1).take(3) {
            f = f.with(e, "the same failure");
        }
        if let Some(m) = failure.making {
            f = f.with(m, "the call that failed");
        }
        if let Some(d) = logged_before.filter(|_| hard) {
            f = f.with(d, "logged as TX, but not sent");
        }
        if sent_later {
            f.severity = Severity::Warning;
            f.message
                .push_str("; the same message was sent again afterwards, so it was only delayed");
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handle_and_subject() {
        let t = "Failed to send Request msg INVITE/cseq=3841 (tdta0x564b0c28fdf8)! err=120111 \
                 (Connection refused)";
        assert_eq!(tdta(t), Some("tdta0x564b0c28fdf8"));
        assert_eq!(subject(t), Some("Request msg INVITE/cseq=3841"));
        let t = "Unable to generate Contact header: Unsupported transport (PJSIP_EUNSUPTRANSPORT)";
        assert_eq!(tdta(t), None);
        assert_eq!(subject(t), None);
        assert_eq!(tdta("(tdta0x1"), None);
    }
}
