//! SF009 `reinvite-glare`: a 491 Request Pending that was not retried.

use crate::dialog::Owner;
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::SipMessage;

pub(super) const RULE: Rule = Rule {
    code: "SF009",
    name: "reinvite-glare",
    severity: Severity::Warning,
    scope: Scope::Dialog,
    judges_time: true,
    summary: "a re-INVITE/UPDATE got 491 Request Pending and was not retried",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A re-INVITE or UPDATE answered `491 Request Pending` after which the same side sent no new
re-INVITE or UPDATE within 5 s. A 491 means "we both tried to change the session at the same
time" (glare) or "I am still busy with another offer/answer": RFC 3261 §14.1 tells the UAC to
retry after a random delay, 2.1–4 s if it owns the Call-ID (it placed the call), 0–2 s
otherwise. The rule is silent when the dialog ends (BYE) within those 5 s, or when the input
ends before they are over. If the other side's own re-INVITE/UPDATE crossed the request, the
finding says so.

## Why it matters
Whatever the re-INVITE was for did not happen: hold/resume, a codec or address change after a
network switch, a session refresh, a transfer step, adding video. The call goes on with the
old media state and the user notices later (no hold music, one-way audio after a Wi-Fi →
LTE switch, call dropped by the session timer).

## Severity
Always **warning**: the call goes on with its old media state; what the re-INVITE was for did
not happen, which the user may notice later. A 491 that is retried in time, or after which the
input ends within the retry window, is not reported.

## Typical causes
- Both ends sent a re-INVITE at once (both put the call on hold, both refresh the session
  timer at the same moment, both react to the same media event) and neither retries.
- The application sends a new re-INVITE/UPDATE while the previous offer/answer is still open
  (e.g. an UPDATE during a pending re-INVITE), gets 491, and treats it as final.
- The UA leaves the retry to someone else: pjsua2 does not resend a `Call::reinvite()` or
  `Call::update()` that got 491 and logs nothing about it (in the
  `fixtures/rules/reinvite-glare` recording nothing is sent in the 6 s after the 491).

## How to fix
On 491 (pjsua2: `onCallTsxState` with a final 491 for your re-INVITE/UPDATE), retry after the
random delay of RFC 3261 §14.1, and never start an offer while one is pending (wait for the
previous transaction to complete). Avoid both ends refreshing at once: let the negotiated
refresher alone do session refreshes.

## Example
From `fixtures/rules/reinvite-glare/caller.log` (pjsua2 caller, SIPp UAS answering its
re-INVITE with 491; the caller hangs up 6 s later without retrying):
```
06:45:01.504  TX Request msg INVITE/cseq=106        (re-INVITE)
06:45:01.504  RX Response msg 491/INVITE/cseq=106   (SIP/2.0 491 Request Pending)
06:45:01.504  TX Request msg ACK/cseq=106
06:45:07.511  pjsua_call.c !Call 0 hanging up: code=0..
06:45:07.512  TX Request msg BYE/cseq=107
```

## References
- RFC 3261 §14.1 (491, and the retry delays 2.1–4 s / 0–2 s)
- RFC 3261 §21.4.27 (491 Request Pending)
- RFC 3311 §5.2 (UPDATE glare), RFC 6337 §3.1 (offer/answer glare)
"#;

/// How long after a 491 a retry is looked for (RFC 3261 §14.1: at most 4 s, plus slack).
const RETRY_WINDOW_MS: i64 = 5_000;

fn is_offer_request(m: &SipMessage) -> bool {
    matches!(m.method(), Some("INVITE" | "UPDATE"))
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let msgs = ctx.parsed(&call.messages);
        for (i, &(w, t491, resp)) in msgs.iter().enumerate() {
            if resp.status() != Some(491) || ctx.model.messages[w].retransmission {
                continue;
            }
            let Some(cseq) = resp.cseq() else { continue };
            if cseq.method != "INVITE" && cseq.method != "UPDATE" {
                continue;
            }
            let sender = resp.from_tag();
            // The request that got the 491, and whether it was in a dialog.
            let request = msgs[..i].iter().rev().find(|(_, _, m)| {
                m.method() == Some(cseq.method.as_str())
                    && m.cseq().is_some_and(|c| c.seq == cseq.seq)
                    && m.from_tag() == sender
            });
            let in_dialog = match request {
                Some((_, _, m)) => m.to().is_some_and(|t| t.tag().is_some()),
                None => cseq.method == "UPDATE",
            };
            if !in_dialog {
                continue;
            }
            let kind = if cseq.method == "INVITE" {
                "re-INVITE"
            } else {
                "UPDATE"
            };
            let later = &msgs[i + 1..];
            let retry = later
                .iter()
                .find(|(_, _, m)| is_offer_request(m) && m.from_tag() == sender);
            if retry.is_some_and(|&(_, t, _)| t491.ms_until(t) <= RETRY_WINDOW_MS) {
                continue;
            }
            // The dialog ended soon after: nothing left to retry.
            let bye = later.iter().find(|(_, _, m)| m.method() == Some("BYE"));
            if bye.is_some_and(|&(_, t, _)| t491.ms_until(t) <= RETRY_WINDOW_MS) {
                continue;
            }
            let end = ctx.seen_until(ctx.inputs_of(w)).unwrap_or(t491);
            if retry.is_none() && t491.ms_until(end) <= RETRY_WINDOW_MS {
                continue;
            }
            let owns_call_id = sender.is_some() && sender == call.caller_tag.as_deref();
            let who = if owns_call_id {
                "the caller"
            } else {
                "the callee"
            };
            let delay = if owns_call_id {
                "2.1–4 s, as it owns the Call-ID"
            } else {
                "0–2 s, as it does not own the Call-ID"
            };
            let t_req = request.map_or(t491, |&(_, t, _)| t);
            let crossing = msgs.iter().find(|(_, t, m)| {
                is_offer_request(m)
                    && m.to().is_some_and(|x| x.tag().is_some())
                    && m.from_tag() != sender
                    && t_req.ms_until(*t).abs() <= 2_000
            });
            let glare = if crossing.is_some() {
                "the other side's own re-INVITE/UPDATE crossed it (glare)"
            } else {
                "no crossing request from the other side is in the input: the far end still had \
                 an offer/answer of its own pending"
            };
            let after = match (retry, bye) {
                (Some(&(_, t, _)), _) => {
                    format!(
                        "it was retried only {} later",
                        crate::rules::secs(t491.ms_until(t))
                    )
                }
                (None, Some(&(_, t, _))) => format!(
                    "no new re-INVITE or UPDATE from {who} followed before the BYE {} later",
                    crate::rules::secs(t491.ms_until(t))
                ),
                (None, None) => format!(
                    "no new re-INVITE or UPDATE from {who} followed in the {} the input covers",
                    crate::rules::secs(t491.ms_until(end))
                ),
            };
            let message = format!(
                "{kind} (CSeq {}) from {who} got 491 Request Pending ({glare}) and {after}; \
                 RFC 3261 §14.1 says to retry after {delay}",
                cseq.seq
            );
            let mut f = Finding::new(
                &RULE,
                Some(Owner::Call(ci)),
                message,
                "retry the re-INVITE/UPDATE after the random delay of RFC 3261 §14.1 (pjsua2: \
                 on a 491 in onCallTsxState, schedule Call::reinvite()/update() again), and \
                 do not start an offer while another one is pending"
                    .into(),
            )
            .with_span(
                ctx.model.messages[w].event,
                resp.start_span(),
                format!("491 Request Pending to the {kind}"),
            );
            if let Some(&(r, _, _)) = request {
                f = f.with(ctx.model.messages[r].event, format!("the {kind}"));
            }
            if let Some(&(c, _, _)) = crossing {
                f = f.with(
                    ctx.model.messages[c].event,
                    "the other side's crossing request",
                );
            }
            out.push(f);
        }
    }
}
