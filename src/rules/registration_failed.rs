//! SF006 `registration-failed`: a REGISTER that ended without a 2xx (and was not simply
//! retried as the response asked), or pjsip's `Registration{ok: false}`.

use std::collections::BTreeMap;
use std::ops::Range;

use super::timers::{COVERS_64T1_MS, T2_MS};
use crate::dialog::Owner;
use crate::event::{Event, LogKind};
use crate::rules::{Context, Finding, Rule, Scope, Severity, scanner_traffic};
use crate::sip::{HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF006",
    name: "registration-failed",
    severity: Severity::Error,
    scope: Scope::Transaction,
    judges_time: false,
    summary: "a REGISTER got a final error response (or none), other than a challenge or 423 that was retried",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A REGISTER transaction that did not end in a 2xx, where the client did not recover the way the
response asked:

- a `401`/`407` challenge that was never answered with credentials (or that refused the
  credentials it got: see also `auth-failed`);
- `423 Interval Too Brief` without a new REGISTER whose expiry is at least `Min-Expires`;
- any other final error (`403`, `404`, `408`, `480`, `5xx`, `6xx` …);
- no final response at all, when the REGISTER was retransmitted or retried (nothing answered);
- pjsip's own verdict: `SIP registration failed, status=…` or `SIP registration error: …`.

A first challenge answered with credentials, and a 423 followed by a REGISTER with a long enough
expiry, are the normal flow and are not reported. Findings are per registration (Call-ID), and
tell the most severe failure of it. An un-REGISTER (Expires 0) that fails is reported as such.
A final error response whose REGISTER is not in the input (a capture that starts late) is
reported too.

## Why it matters
Without a registration the phone cannot be called: incoming calls get `404`/`480` at the
registrar, while outgoing calls may still work, so the problem is often noticed late. pjsip
retries only after `regConfig.retryIntervalSec` (300 s by default).

## Severity
- **error** when the registration failed in the trace: a final error response (`403`, `404`,
  `408`, `5xx` …, or a `401`/`407` to a REGISTER that carried credentials, which is
  `auth-failed`'s error when that rule sees it: this finding is then info), a `423` although
  the expiry already met `Min-Expires`, no response although the REGISTER was retransmitted
  and the input covers Timer F (32 s), a challenge or `423` not acted on in the 32 s the input
  covers after it, or pjsip's own `registration failed` line;
- **warning** when a later REGISTER of the same registration succeeded (it recovered), or when
  a REGISTER retransmitted for at least T2 (4 s) has no response but the input ends before
  Timer F;
- **info** when the input simply ends too soon: a REGISTER with no response in the last 4 s
  of the input (sent once, or retransmitted as UDP does while it waits), or a
  challenge or `423` the client may still answer (the finding says how long the input goes on
  after it); and when the REGISTER came from an address that `scanner-traffic` reports as a
  SIP scanner: the attacker's registration failed, which is no failure of the service (that
  rule reports the attack; with it disabled this finding keeps its severity).

## Typical causes
- `401`/`407` not answered: no credentials for the realm in the challenge (`PJSIP_ENOCREDENTIAL`).
- `403`: wrong password, disabled account, or a registrar that refuses the source address.
- `423`: `regConfig.timeoutSec` lower than the registrar's minimum (many registrars want ≥ 600 or
  3600 s); a client that ignores `Min-Expires`.
- `404`: the user part of the AOR is unknown to the registrar (typo, wrong domain).
- No response: wrong registrar address or port, a firewall, UDP blocked, a TLS/TCP transport
  missing, the registrar down.
- `5xx`/`503`: the registrar or its database is overloaded or down.

## How to fix
- Read the status explanation in the finding (`sipflow explain <code>`).
- `423`: set `acc_cfg.regConfig.timeoutSec` to at least the `Min-Expires` value (pjsip retries
  with it by itself only once).
- Challenges: add `AuthCredInfo("digest", "*", user, 0, password)` to
  `acc_cfg.sipConfig.authCreds`.
- No response: check `regConfig.registrarUri` (host, port, `;transport=`), that a transport of
  that type exists, and the network path (`sipflow flow` shows the retransmissions).
- Watch `Account.onRegState()` (`prm.code`, `prm.reason`) and report failures in the app.

## Example
From `fixtures/register-403` (pjsua2 with a wrong password):
```
TX REGISTER sip:127.0.0.1:5185  CSeq 11922
RX 401 Unauthorized
TX REGISTER (Authorization: Digest username="alice" …)  CSeq 11923
RX 403 Forbidden
pjsua_acc.c  SIP registration failed, status=403 (Forbidden)
```
Not reported (`fixtures/rules/registration-failed-423`): `REGISTER Expires: 60` → `423 Interval
Too Brief, Min-Expires: 3600` → `REGISTER Expires: 3600` → `200 OK`.

## References
- RFC 3261 §10.2 (constructing the REGISTER), §10.2.8 (423 and Min-Expires), §10.3 (processing
  at the registrar), §21.4.17 (423)
- pjsua2 `AccountRegConfig` (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA2__ACC.html)
"#;

/// How many later REGISTERs of the same registration may answer a challenge or a 423.
const LOOKAHEAD: usize = 3;

/// One REGISTER transaction as the rule needs it.
struct Attempt {
    /// The REGISTER (`None`: only its response is in the input).
    request: Option<usize>,
    /// The final response (wire index) and its code.
    answer: Option<(usize, u16)>,
    retransmissions: u32,
}

/// Credentials that answer a challenge (see [`SipMessage::credentials`]).
fn has_credentials(m: &SipMessage) -> bool {
    m.credentials().is_some()
}

/// A REGISTER answered by a response the client had to act on (a challenge, a 423), which
/// it did not in the input: a failure when the input covers the time it had, else the input
/// just ends (info).
fn not_acted_on(ctx: &Context<'_>, resp_wire: usize, why: String) -> (String, Severity) {
    let covered = ctx.covered_after(resp_wire);
    if covered >= COVERS_64T1_MS {
        (why, Severity::Error)
    } else {
        (
            format!(
                "{why}, but the input ends {} after the response: the client may still answer it",
                crate::rules::secs(covered)
            ),
            Severity::Info,
        )
    }
}

/// Why an attempt failed and how sure that is, or `None` when it did not fail (or was retried
/// as asked).
fn failure(ctx: &Context<'_>, attempts: &[Attempt], i: usize) -> Option<(String, Severity)> {
    let a = &attempts[i];
    // The client's answer to a response is one of its next few REGISTERs.
    let later = &attempts[i + 1..attempts.len().min(i + 1 + LOOKAHEAD)];
    let later_req = |pred: &dyn Fn(&SipMessage) -> bool| {
        later
            .iter()
            .filter_map(|l| l.request)
            .any(|r| ctx.model.message(r).parsed().is_some_and(pred))
    };
    let req = a.request.and_then(|r| ctx.model.message(r).parsed());
    let Some((resp_wire, code)) = a.answer else {
        let request = a.request?;
        let retried = a.retransmissions > 0 || !later.is_empty();
        let sent = a.retransmissions + 1;
        let covered = ctx.covered_after(request);
        return match (retried, covered >= COVERS_64T1_MS) {
            (true, true) => Some((
                format!(
                    "got no final response (the REGISTER was sent {sent} time(s), and the input \
                     covers Timer F, {} after it)",
                    crate::rules::secs(covered)
                ),
                Severity::Error,
            )),
            (true, false) => Some((
                format!(
                    "got no response in the input, which ends {} after it (the REGISTER was \
                     sent {sent} time(s); Timer F ends the transaction at 32 s)",
                    crate::rules::secs(covered)
                ),
                // Retransmitted for T2 without a word from the registrar is worth a look; a
                // retransmission or two in the last seconds of the input is UDP doing its job.
                if covered >= T2_MS {
                    Severity::Warning
                } else {
                    Severity::Info
                },
            )),
            (false, false) => Some((
                format!(
                    "has no response in the input, which ends {} after it",
                    crate::rules::secs(covered)
                ),
                Severity::Info,
            )),
            // A single copy in an input that covers Timer F: the input misses either the
            // retransmissions or the response.
            (false, true) => None,
        };
    };
    let resp = ctx.model.message(resp_wire).parsed()?;
    let reason = resp.reason_phrase().unwrap_or("");
    match code {
        200..=299 => None,
        // A challenge whose REGISTER is not in the input tells nothing about the registration.
        401 | 407 if req.is_none() => None,
        401 | 407 => {
            let req = req?;
            // One of the client's next attempts got in with credentials: the refusal only
            // wanted a fresh nonce (`auth-failed` tells that race from a wrong password).
            let next_ok = later.iter().any(|n| {
                n.answer.is_some_and(|(_, c)| (200..300).contains(&c))
                    && n.request
                        .and_then(|r| ctx.model.message(r).parsed())
                        .is_some_and(has_credentials)
            });
            if !has_credentials(req) || resp.is_stale_challenge() {
                // A challenge: fine when the client answered it.
                (!later_req(&has_credentials)).then(|| {
                    not_acted_on(
                        ctx,
                        resp_wire,
                        format!(
                            "was challenged with {code} {reason} and the challenge was never \
                             answered (no REGISTER with credentials followed)"
                        ),
                    )
                })
            } else if next_ok {
                None
            } else {
                Some((
                    format!(
                        "was refused with {code} {reason} although it carried credentials (the \
                         server did not accept them)"
                    ),
                    Severity::Error,
                ))
            }
        }
        // Without the REGISTER its expiry is unknown: any later REGISTER may be the retry.
        423 if req.is_none() => (!later_req(&|_| true)).then(|| {
            not_acted_on(
                ctx,
                resp_wire,
                format!(
                    "was refused with 423 {reason} (the REGISTER is not in the input) and was \
                     not retried"
                ),
            )
        }),
        423 => {
            let req = req?;
            let min = resp.min_expires();
            let asked = req.requested_expires();
            let retried = later_req(&|m: &SipMessage| match (min, m.requested_expires()) {
                (Some(min), Some(e)) => e >= min,
                _ => true,
            });
            (!retried).then(|| {
                let asked_text = asked.map_or("an expiry".to_string(), |e| format!("Expires {e}"));
                match min {
                    // Refused although it complied: the registrar keeps refusing.
                    Some(min) if asked.is_some_and(|e| e >= min) => (
                        format!(
                            "was refused with 423 {reason} although it already asked for \
                             {asked_text}, not below the Min-Expires of {min} the registrar \
                             demands: the registrar (or a proxy on the way with another \
                             minimum) keeps refusing, and the client gave up"
                        ),
                        Severity::Error,
                    ),
                    Some(min) => not_acted_on(
                        ctx,
                        resp_wire,
                        format!(
                            "was refused with 423 {reason}: it asked for {asked_text}, the \
                             registrar's Min-Expires is {min}, and no REGISTER with an expiry \
                             of at least {min} followed"
                        ),
                    ),
                    None => not_acted_on(
                        ctx,
                        resp_wire,
                        format!(
                            "was refused with 423 {reason} (asked for {asked_text}; the response \
                             has no Min-Expires) and was not retried"
                        ),
                    ),
                }
            })
        }
        _ => {
            let x = crate::sip::status::explain(code);
            Some((
                format!(
                    "failed with {code} {reason}: {}",
                    x.meaning.trim_end_matches('.')
                ),
                Severity::Error,
            ))
        }
    }
}

fn help(code: Option<u16>) -> String {
    match code {
        Some(423) => "set regConfig.timeoutSec to at least the registrar's Min-Expires".into(),
        Some(401 | 407) => "give the account credentials for the challenge's realm: \
                            sipConfig.authCreds.append(AuthCredInfo(\"digest\", \"*\", user, 0, \
                            password)), and check them"
            .into(),
        Some(c) => crate::sip::status::explain(c).action.to_string(),
        None => "check regConfig.registrarUri (host, port, ;transport=), that a transport of \
                 that type exists, and the network path to the registrar"
            .into(),
    }
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    // Owner → (owner, attempts in order).
    let mut by_owner: BTreeMap<(u8, usize), (Option<Owner>, Vec<Attempt>)> = BTreeMap::new();
    for t in model.transactions.iter().filter(|t| t.method == "REGISTER") {
        let request = t.messages.iter().copied().find(|&w| {
            model
                .message(w)
                .parsed()
                .is_some_and(|m| m.method() == Some("REGISTER"))
        });
        let answer = t.messages.iter().find_map(|&w| {
            let m = model.message(w).parsed()?;
            let code = m.status().filter(|&c| c >= 200)?;
            (m.cseq()?.method == "REGISTER").then_some((w, code))
        });
        // A transaction of which the input holds only the final response (a capture that
        // starts late) still tells that the registration failed.
        let Some(first) = request.or(answer.map(|(w, _)| w)) else {
            continue;
        };
        let owner = model.message_owner[first];
        by_owner
            .entry(crate::rules::owner_sort_key(owner, first))
            .or_insert_with(|| (owner, Vec::new()))
            .1
            .push(Attempt {
                request,
                answer,
                retransmissions: t.retransmissions,
            });
    }
    // pjsip's verdicts, by owner.
    let mut logs: BTreeMap<(u8, usize), (Option<Owner>, Vec<usize>)> = BTreeMap::new();
    // Input → the time of its latest DNS or TLS failure: a registration failing right after
    // one (no REGISTER could be sent) is `dns-failure`'s or `tls-failure`'s finding.
    let mut network: BTreeMap<usize, crate::event::Timestamp> = BTreeMap::new();
    for (e, ev) in model.events.iter().enumerate() {
        if let Event::Log(l) = ev
            && matches!(
                l.kind,
                LogKind::DnsFailure { .. } | LogKind::TlsFailure { .. }
            )
        {
            network.insert(l.origin.input, l.ts);
            continue;
        }
        if let Event::Log(l) = ev
            && matches!(l.kind, LogKind::Registration { ok: false, .. })
            && !network
                .get(&l.origin.input)
                .is_some_and(|t| (0..=100).contains(&t.ms_until(l.ts)))
        {
            let owner = model.event_owner[e];
            logs.entry(crate::rules::owner_sort_key(
                owner,
                model.messages.len() + e,
            ))
            .or_insert_with(|| (owner, Vec::new()))
            .1
            .push(e);
        }
    }
    for (key, (owner, attempts)) in &by_owner {
        let failures: Vec<(usize, (String, Severity))> = (0..attempts.len())
            .filter_map(|i| failure(ctx, attempts, i).map(|why| (i, why)))
            .collect();
        let log_lines = logs.remove(key).map(|(_, l)| l).unwrap_or_default();
        // The first of the most severe failures is the one told.
        let worst = failures.iter().map(|(_, (_, s))| *s).max();
        let Some((first, (why, severity))) = failures.iter().find(|(_, (_, s))| Some(*s) == worst)
        else {
            if let Some(f) = from_log(ctx, *owner, &log_lines) {
                out.push(f);
            }
            continue;
        };
        let a = &attempts[*first];
        let req = a.request.and_then(|r| model.message(r).parsed());
        let what = if req.is_some_and(|r| r.requested_expires() == Some(0)) {
            "un-REGISTER"
        } else {
            "REGISTER"
        };
        // Of the request, else of the response (same From/To as its request).
        let named = req.or_else(|| a.answer.and_then(|(w, _)| model.message(w).parsed()));
        let aor = named
            .and_then(SipMessage::to)
            .map(|t| format!(" of {}", t.uri_text))
            .unwrap_or_default();
        let registrar = req
            .and_then(SipMessage::request_uri)
            .map(|u| format!(" to {u}"))
            .unwrap_or_default();
        let mut message = format!("{what}{aor}{registrar} {why}");
        let failed = failures
            .iter()
            .filter(|(_, (_, s))| *s > Severity::Info)
            .count();
        if failed > 1 {
            message.push_str(&format!("; {failed} REGISTER attempts failed"));
        }
        let recovered = attempts[first + 1..].iter().find(|l| {
            l.answer.is_some_and(|(_, c)| (200..300).contains(&c))
                && l.request
                    .and_then(|r| model.message(r).parsed())
                    .is_none_or(|m| m.requested_expires() != Some(0))
        });
        if let Some((w, _)) = recovered.and_then(|r| r.answer) {
            message.push_str(&format!(
                "; a later REGISTER succeeded at {}",
                model.message(w).ts
            ));
        }
        let code = a.answer.map(|(_, c)| c);
        let mut f = Finding::new(&RULE, *owner, message, help(code));
        f.severity = match (recovered, log_lines.is_empty()) {
            // It got in after all: the failure did not last.
            (Some(_), _) => (*severity).min(Severity::Warning),
            // pjsip's own verdict is in the log: the registration failed.
            (None, false) => Severity::Error,
            (None, true) => *severity,
        };
        if let Some((w, c)) = a.answer {
            let e = model.messages[w].event;
            f = f.with_span(
                e,
                ctx.span_in(e, |m| response_span(m, c)),
                format!("final response {c}"),
            );
        }
        if let Some(r) = a.request {
            let e = model.messages[r].event;
            f = match a.answer {
                Some((_, c)) => f.with_span(
                    e,
                    ctx.span_in(e, |m| request_span(m, c)),
                    format!("the {what}"),
                ),
                None => f.with(e, format!("the {what}, never answered")),
            };
        }
        for &e in log_lines.iter().take(2) {
            f = f.with(e, "pjsip reports the registration failed");
        }
        // A scanner's REGISTER refused: the attack is `scanner-traffic`'s finding.
        let src = match (a.request, a.answer) {
            (Some(r), _) => model.messages[r].src.as_deref(),
            (None, Some((w, _))) => model.messages[w].dst.as_deref(),
            (None, None) => None,
        };
        if let Some(src) = src.filter(|s| scanner_traffic::scanner_at(ctx, s)) {
            f.severity = Severity::Info;
            f.message.push_str(&scanner_traffic::lowered_note(src));
        }
        out.push(f);
    }
    // Verdicts of owners without REGISTER messages (e.g. a log without dumps).
    for (_, (owner, lines)) in logs {
        if let Some(f) = from_log(ctx, owner, &lines) {
            out.push(f);
        }
    }
}

/// The part of a final response to a REGISTER that says why it failed: Min-Expires of a 423,
/// the challenge of a 401/407, else the status line.
fn response_span(m: &SipMessage, code: u16) -> Option<Range<usize>> {
    let headers: &[HeaderName] = match code {
        423 => &[HeaderName::MinExpires],
        401 => &[HeaderName::WwwAuthenticate, HeaderName::ProxyAuthenticate],
        407 => &[HeaderName::ProxyAuthenticate, HeaderName::WwwAuthenticate],
        _ => &[],
    };
    headers
        .iter()
        .find_map(|&h| m.header_span(h))
        .or_else(|| Some(m.start_span()))
}

/// The part of a REGISTER that a final response `code` is about: the expiry it asked for (a
/// 423, or any answer to an un-REGISTER), the credentials it carried (a 401/407), else none.
fn request_span(m: &SipMessage, code: u16) -> Option<Range<usize>> {
    match code {
        401 | 407 => m.credentials().map(|h| h.span.clone()),
        423 => m.requested_expires_span(),
        _ if m.requested_expires() == Some(0) => m.requested_expires_span(),
        _ => None,
    }
}

/// A finding from pjsip's `registration failed/error` lines alone.
fn from_log(ctx: &Context<'_>, owner: Option<Owner>, lines: &[usize]) -> Option<Finding> {
    let &e = lines.first()?;
    let Event::Log(l) = &ctx.model.events[e] else {
        return None;
    };
    let status = match l.kind {
        LogKind::Registration { status, .. } => status,
        _ => None,
    };
    let mut f = Finding::new(
        &RULE,
        owner,
        format!(
            "pjsip reports a failed registration in {}: {}",
            ctx.input_name(l.origin.input),
            l.text
        ),
        help(status),
    )
    .with(e, "pjsip reports the registration failed");
    for &more in lines.iter().skip(1).take(2) {
        f = f.with(more, "pjsip reports the registration failed");
    }
    Some(f)
}
