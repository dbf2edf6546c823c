//! SF012 `session-timer-failure`: a 422 not retried with a larger Session-Expires, or a call
//! ended because a session refresh did not happen.

use crate::dialog::{Call, Owner};
use crate::event::Timestamp;
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF012",
    name: "session-timer-failure",
    severity: Severity::Warning,
    scope: Scope::Call,
    judges_time: true,
    summary: "a 422 was not retried with a larger Session-Expires, or a call ended by a missed session refresh",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
Session timers (RFC 4028) going wrong, in two shapes:

- **422 not handled.** An INVITE or UPDATE was answered `422 Session Interval Too Small` (its
  `Session-Expires` was below the other side's `Min-SE`), and the sender did not send the
  request again with `Session-Expires` at least the `Min-SE` of the 422: the call never
  started. Also reported: a 422 without the mandatory `Min-SE` header, or a retry still below
  it. PJSIP retries by itself; the `fixtures/rules/session-timer` recording shows the correct
  exchange (422 `Min-SE: 1800`, new INVITE with `Session-Expires: 1800`).
- **Session expired.** A BYE that ends the call because no refresh came: its `Reason` says so
  (PJSIP: `Reason: SIP ;cause=408 ;text="No session refresh received."`, logged as `No session
  refresh received after 60s (expiration period=90s), stopping session now!`), or it carries
  cause 408 and comes from the refreshee when the negotiated interval ran out (the refreshee
  hangs up `Session-Expires − min(32, Session-Expires/3)` seconds after the last refresh), or
  it comes from the refresher after its refresh request went unanswered.

## Why it matters
A 422 that is not retried means a call that fails at once for a timer value. A missed refresh
drops established calls at a fixed time after the answer (or after the last refresh): a
complaint like "calls always drop after about 29 minutes" (`Session-Expires: 1800`, a refresh
that never arrives, and a refreshee that hangs up 32 s before the interval ends).

## Severity
- **error** when the failure is in the trace: a call ended by a missed session refresh (the
  BYE is the evidence), or a 422 to an initial INVITE not retried in the 32 s the input covers
  after it (the call never started);
- **warning** for a 422 to a re-INVITE or UPDATE that was not retried (the session goes on
  until it expires), or a retry that is still below `Min-SE`;
- **info** for a 422 not retried when the input ends less than 32 s after it: the retry may be
  outside the input.

## Typical causes
- A UA that supports `timer` but ignores 422, or retries with the same value.
- The refresher (named by `refresher=uac|uas` in the 2xx) never refreshes: it does not
  implement refreshes, its re-INVITE/UPDATE is lost or rejected, or the two ends disagree on
  who the refresher is (each waits for the other).
- Refreshes are sent but do not reach the other side (NAT binding expired, wrong Contact,
  SBC dropping in-dialog requests) or are answered with an error.

## How to fix
Retry on 422 with `Session-Expires` ≥ the returned `Min-SE`. Make sure the negotiated refresher
really refreshes (at half the interval) and that its re-INVITE/UPDATE reaches the peer; use
UPDATE without SDP when supported. In pjsua2 the timer is set per account:
`AccountConfig.callConfig.timerUse` (`PJSUA_SIP_TIMER_OPTIONAL`, `…_REQUIRED`, `…_ALWAYS`,
`…_INACTIVE`), `timerSessExpiresSec` and `timerMinSESec` (at least 90).

## Example
From `fixtures/rules-call-extra/session-expired/callee.log` (a SIPp UAC negotiates
`Session-Expires: 90;refresher=uac` with a pjsua2 callee and never refreshes):
```
06:44:09.346  TX SIP/2.0 200 OK … Session-Expires: 90;refresher=uac
06:44:09.346  RX ACK
06:45:09.347  dlg0x…  No session refresh received after 60s (expiration period=90s), stopping session now!
06:45:09.347  TX BYE … Reason: SIP ;cause=408 ;text="No session refresh received."
```
And from `fixtures/rules-call-extra/session-422/callee.log`: `INVITE … Session-Expires: 60` →
`422 Session Interval Too Small`, `Min-SE: 90` → ACK, and no new INVITE.

## References
- RFC 4028 §6 (422 and Min-SE), §7.4 and §8 (refresher and refreshes), §10 (the refreshee
  sends BYE before the session expires)
- pjsua2 `CallConfig` timer settings (`timerUse`, `timerSessExpiresSec`, `timerMinSESec`)
"#;

struct Seen<'a> {
    wire: usize,
    ts: Timestamp,
    msg: &'a SipMessage,
}

fn parsed<'a>(ctx: &Context<'a>, call: &Call) -> Vec<Seen<'a>> {
    call.messages
        .iter()
        .filter(|&&w| !ctx.model.messages[w].retransmission)
        .filter_map(|&w| {
            let ev = ctx.model.message(w);
            Some(Seen {
                wire: w,
                ts: ev.ts,
                msg: ev.parsed()?,
            })
        })
        .collect()
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    // Calls by Call-ID, to find a retry that started a new call record.
    let mut by_id: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        by_id.entry(call.call_id.as_str()).or_default().push(ci);
    }
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let msgs = parsed(ctx, call);
        for (i, s) in msgs.iter().enumerate() {
            if s.msg.status() == Some(422) {
                let siblings = by_id.get(call.call_id.as_str()).map_or(&[][..], |v| v);
                if let Some(f) = too_small(ctx, ci, &msgs, i, siblings) {
                    out.push(f);
                }
            } else if s.msg.method() == Some("BYE")
                && let Some(f) = expired(ctx, ci, call, &msgs, i)
            {
                out.push(f);
            }
        }
    }
}

/// A 422 that was not followed by a good retry.
fn too_small(
    ctx: &Context<'_>,
    ci: usize,
    msgs: &[Seen<'_>],
    i: usize,
    siblings: &[usize],
) -> Option<Finding> {
    let resp = &msgs[i];
    let cseq = resp.msg.cseq()?;
    if cseq.method != "INVITE" && cseq.method != "UPDATE" {
        return None;
    }
    let sender = resp.msg.from_tag();
    let min_se = resp.msg.min_se();
    let request = msgs[..i].iter().rev().find(|q| {
        q.msg.method() == Some(cseq.method.as_str())
            && q.msg.cseq().is_some_and(|c| c.seq == cseq.seq)
    });
    let asked = request.and_then(|q| q.msg.session_expires());
    // The retry: a later INVITE/UPDATE from the same side, in this call or another record of
    // the same Call-ID.
    let is_retry = |m: &SipMessage| {
        m.method() == Some(cseq.method.as_str())
            && m.from_tag() == sender
            && m.cseq().is_some_and(|c| c.seq > cseq.seq)
    };
    let mut retry: Option<(usize, Option<u32>)> = msgs[i + 1..]
        .iter()
        .find(|q| is_retry(q.msg))
        .map(|q| (q.wire, q.msg.session_expires().map(|s| s.delta)));
    if retry.is_none() {
        retry = siblings
            .iter()
            .filter(|&&c| c != ci)
            .flat_map(|&c| ctx.model.calls[c].messages.iter().copied())
            .find_map(|w| {
                let ev = ctx.model.message(w);
                let m = ev.parsed()?;
                (ev.ts >= resp.ts && is_retry(m)).then(|| (w, m.session_expires().map(|s| s.delta)))
            });
    }
    let what = format!(
        "422 Session Interval Too Small to the {} (CSeq {}{})",
        cseq.method,
        cseq.seq,
        asked
            .as_ref()
            .map(|s| format!(", Session-Expires: {}", s.delta))
            .unwrap_or_default()
    );
    let problem = match (min_se, retry) {
        (None, None) => format!(
            "{what} carries no Min-SE header (RFC 4028 §6 requires it), so the sender could not \
             know what to retry with, and it did not retry: the session was not set up"
        ),
        (None, Some(_)) => return None,
        (Some(min), None) => format!(
            "{what} asked for at least Min-SE: {min}, and the sender never retried with a larger \
             Session-Expires: the session was not set up"
        ),
        (Some(min), Some((_, Some(se)))) if se < min => format!(
            "{what} asked for at least Min-SE: {min}, but the retry still has Session-Expires: \
             {se}"
        ),
        (Some(_), Some(_)) => return None,
    };
    let mut f = Finding::new(
        &RULE,
        Some(Owner::Call(ci)),
        problem,
        "on 422, send the request again with Session-Expires at least the Min-SE of the 422 \
         (RFC 4028 §6); a UAS that sends 422 must include Min-SE"
            .into(),
    )
    .with_span(
        ctx.model.messages[resp.wire].event,
        resp.msg
            .header_span(HeaderName::MinSe)
            .unwrap_or_else(|| resp.msg.start_span()),
        match min_se {
            Some(m) => format!("422 with Min-SE: {m}"),
            None => "422 without Min-SE".to_string(),
        },
    );
    if let Some(q) = request {
        f = f.with_span(
            ctx.model.messages[q.wire].event,
            q.msg.header_span(HeaderName::SessionExpires),
            format!("the {} whose Session-Expires was too small", cseq.method),
        );
    }
    if let Some((w, _)) = retry {
        let e = ctx.model.messages[w].event;
        f = f.with_span(
            e,
            ctx.header_of(e, HeaderName::SessionExpires),
            "the retry, still too small",
        );
    }
    // Not retried: the call never started when it was the initial INVITE, provided the input
    // goes on long enough to show the retry that never came (it is due at once).
    let initial = cseq.method == "INVITE"
        && request.is_some_and(|q| q.msg.to().is_some_and(|t| t.tag().is_none()));
    let covered = ctx.covered_after(resp.wire);
    f.severity = match retry {
        None if covered < RETRY_DUE_MS => {
            f.message.push_str(&format!(
                " (but the input ends {} after the 422: the retry may be outside it)",
                crate::rules::secs(covered)
            ));
            Severity::Info
        }
        None if initial => Severity::Error,
        _ => Severity::Warning,
    };
    Some(f)
}

/// How long after a 422 the input must go on to show that no retry came (the retry is due
/// at once; 64×T1 leaves room for a slow client).
const RETRY_DUE_MS: i64 = 32_000;

/// A BYE that ended the call because the session expired.
fn expired(
    ctx: &Context<'_>,
    ci: usize,
    call: &Call,
    msgs: &[Seen<'_>],
    i: usize,
) -> Option<Finding> {
    let bye = &msgs[i];
    let reasons = bye.msg.reasons();
    let explicit = reasons.iter().any(|r| {
        r.text.as_deref().is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.contains("session")
                && (t.contains("refresh") || t.contains("timer") || t.contains("expire"))
        })
    });
    let cause_408 = reasons.iter().any(|r| r.cause == Some(408));
    // The last successful negotiation of the session interval before the BYE.
    let last = msgs[..i].iter().rev().find(|q| {
        q.msg.status().is_some_and(|c| (200..300).contains(&c))
            && q.msg
                .cseq()
                .is_some_and(|c| c.method == "INVITE" || c.method == "UPDATE")
            && q.msg.session_expires().is_some()
    });
    let by = bye.msg.from_tag();
    let who = |t: &Option<&str>| {
        if t.is_some() && *t == call.caller_tag.as_deref() {
            "the caller"
        } else {
            "the callee"
        }
    };
    let mut detail = String::new();
    let mut refresh_req: Option<usize> = None;
    let mut timed = false;
    if let Some(n) = last
        && let Some(se) = n.msg.session_expires()
    {
        let uac = n.msg.from_tag();
        let uas = n.msg.to_tag();
        let refresher = match se
            .refresher
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("uac") => Some(uac),
            Some("uas") => Some(uas),
            _ => None,
        };
        let elapsed = n.ts.ms_until(bye.ts);
        let interval = i64::from(se.delta) * 1000;
        let refreshee_deadline = interval - (32_000_i64).min(interval / 3);
        match &refresher {
            Some(r) if *r != by => {
                timed = cause_408
                    && elapsed >= refreshee_deadline - 2_000
                    && elapsed <= interval + 2_000;
                detail = format!(
                    "; Session-Expires {} s was negotiated {} before with refresher={} ({}), and \
                     no refresh (re-INVITE or UPDATE) came from it",
                    se.delta,
                    crate::rules::secs(elapsed),
                    se.refresher.as_deref().unwrap_or("?"),
                    who(r)
                );
            }
            Some(r) => {
                // The refresher itself hung up: did its refresh go unanswered?
                let unanswered = msgs[..i].iter().enumerate().rev().find(|(j, q)| {
                    q.ts > n.ts
                        && matches!(q.msg.method(), Some("INVITE" | "UPDATE"))
                        && q.msg.from_tag() == *r
                        && !msgs[*j..i].iter().any(|x| {
                            x.msg.status().is_some_and(|c| (200..300).contains(&c))
                                && x.msg.cseq().map(|c| c.seq) == q.msg.cseq().map(|c| c.seq)
                        })
                });
                if let Some((_, q)) = unanswered {
                    timed = cause_408;
                    refresh_req = Some(q.wire);
                    detail = format!(
                        "; {} is the refresher (Session-Expires {} s) and its refresh {} sent \
                         {} before got no 2xx",
                        who(r),
                        se.delta,
                        q.msg.method().unwrap_or("request"),
                        crate::rules::secs(q.ts.ms_until(bye.ts))
                    );
                }
            }
            None => {}
        }
    }
    if !explicit && !timed {
        return None;
    }
    let reason = bye
        .msg
        .first(HeaderName::Reason)
        .map(|r| format!(" (Reason: {r})"))
        .unwrap_or_default();
    let message = format!(
        "{} ended the call with a BYE{reason} because the session timer expired{detail}",
        who(&by)
    );
    let mut f = Finding::new(
        &RULE,
        Some(Owner::Call(ci)),
        message,
        "make sure the negotiated refresher refreshes the session (re-INVITE or UPDATE at half \
         the interval) and that its refreshes reach the other side and get a 2xx; pjsua2: \
         AccountConfig.callConfig.timerUse / timerSessExpiresSec"
            .into(),
    )
    .with_span(
        ctx.model.messages[bye.wire].event,
        bye.msg.header_span(HeaderName::Reason),
        "BYE: the session expired",
    );
    if let Some(n) = last {
        f = f.with_span(
            ctx.model.messages[n.wire].event,
            n.msg.header_span(HeaderName::SessionExpires),
            "the last negotiated Session-Expires",
        );
    }
    if let Some(w) = refresh_req {
        f = f.with(ctx.model.messages[w].event, "the unanswered refresh");
    }
    // The call was ended by the missed refresh: that is the failure, in the trace.
    f.severity = Severity::Error;
    Some(f)
}
