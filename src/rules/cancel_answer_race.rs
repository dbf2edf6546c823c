//! SF008 `cancel-answer-race`: a 2xx to an INVITE that crossed the caller's CANCEL.

use crate::dialog::Owner;
use crate::rules::{Context, Finding, Rule, Scope, Severity};

pub(super) const RULE: Rule = Rule {
    code: "SF008",
    name: "cancel-answer-race",
    severity: Severity::Warning,
    scope: Scope::Call,
    judges_time: true,
    summary: "the callee answered 2xx after the caller sent CANCEL (check for ACK and BYE)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
The caller sent CANCEL, but a `200 OK` to the INVITE came after it: the callee answered before
the CANCEL reached it, so the CANCEL has nothing left to cancel (it gets `200 OK` or `481`) and
the call is *up*. RFC 3261 says the caller must then ACK the 200 and end the call with a BYE.
The rule reports what happened: whether the caller ACKed the late 200 and ended the call
with a BYE.

## Why it matters
The answering side sees a connected call that the caller considers cancelled. If the caller
does not clean up, the callee's phone shows a call with nobody on the other end, and call
detail records show a short answered call instead of a cancelled one.

## Severity
- **warning**: the caller ACKed the 200 and sent BYE, as it should: the race was handled, but
  the callee saw a call that was answered and hung up at once (and may have billed it);
- **error**: the caller did not ACK the 200 (the callee retransmits it and hangs up after
  32 s), or ACKed it but never sent BYE (the call stays up on the callee's side: a stuck
  call, media and billing running), and the input covers the 32 s after the 200 in which the
  ACK and the BYE were due;
- **info**: the same, but the input ends earlier: the finding says how long after the 200 it
  ends, and the ACK or BYE may just be outside it.

## Typical causes
- The user hung up exactly when the callee answered (a real race; unavoidable, but must be
  handled).
- A long delay between the UAC and the UAS (slow links, queued CANCEL behind retransmissions)
  makes the race window large.
- An application that treats "CANCEL sent" as "call over" and drops the dialog, so the late
  200 is neither ACKed nor BYEd (a bug; pjsip handles it by itself).

## How to fix
Nothing to fix when the caller ACKs and BYEs (pjsip does this automatically: the call goes
CONNECTING → DISCONNECTED). If it does not: after sending CANCEL keep the INVITE transaction
and the dialog until a final response arrives; on a 2xx, send ACK and then BYE. In pjsua2 do
not delete the `Call` object until `onCallState` reports DISCONNECTED.

## Example
From `fixtures/rules/cancel-answer-race/caller.log` (pjsua2 caller, SIPp UAS answering the
INVITE right after the CANCEL):
```
06:45:53.284  pjsua_call.c  Call 0 hanging up: code=0..
06:45:53.285  TX Request msg CANCEL/cseq=22454
06:45:53.285  RX Response msg 200/CANCEL/cseq=22454
06:45:53.286  RX Response msg 200/INVITE/cseq=22454   ← the answer crossed the CANCEL
06:45:53.287  TX Request msg ACK/cseq=22454
06:45:53.287  TX Request msg BYE/cseq=22455 → RX 200/BYE
```

## References
- RFC 3261 §9.1 and §9.2 (CANCEL has no effect once a final response was sent)
- RFC 3261 §15 (ending a session with BYE, also after a 2xx that follows a CANCEL)
- RFC 3261 §13.2.2.4 (the UAC must ACK every 2xx)
"#;

/// How long a UAS waits for the ACK of its 2xx (64×T1).
const ACK_WAIT_MS: i64 = 32_000;

fn ms(v: i64) -> String {
    format!("{v} ms")
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let msgs = ctx.parsed(&call.messages);
        let Some(ci_cancel) = msgs
            .iter()
            .position(|(_, _, m)| m.method() == Some("CANCEL"))
        else {
            continue;
        };
        let (cancel, t_cancel, cancel_msg) = msgs[ci_cancel];
        let Some(seq) = cancel_msg.cseq().map(|c| c.seq) else {
            continue;
        };
        let caller_tag = cancel_msg.from_tag();
        // The first 2xx to that INVITE after the CANCEL (messages are in time order).
        let Some(ai) = msgs[ci_cancel..]
            .iter()
            .position(|(_, _, m)| {
                m.status().is_some_and(|c| (200..300).contains(&c))
                    && m.cseq()
                        .is_some_and(|c| c.seq == seq && c.method == "INVITE")
            })
            .map(|i| i + ci_cancel)
        else {
            continue;
        };
        let (answer, t_answer, answer_msg) = msgs[ai];
        let callee_tag = answer_msg.to_tag();
        let cancel_resp = msgs.iter().find(|(_, _, m)| {
            m.status().is_some() && m.cseq().is_some_and(|c| c.method == "CANCEL")
        });
        let ack = msgs[ai..].iter().find(|(_, _, m)| {
            m.method() == Some("ACK")
                && m.cseq().is_some_and(|c| c.seq == seq)
                && (callee_tag.is_none() || m.to_tag() == callee_tag)
        });
        let bye = msgs[ai..].iter().find(|(_, _, m)| {
            m.method() == Some("BYE") && caller_tag.is_some() && m.from_tag() == caller_tag
        });
        // The ACK and the BYE are due at once; the callee gives up on the ACK after 64×T1.
        let covered = ctx.covered_after(answer);
        let code = answer_msg.status().unwrap_or(200);
        let phrase = answer_msg.reason_phrase().unwrap_or("OK");
        let cancel_answer = cancel_resp
            .and_then(|(_, _, m)| {
                Some(format!(
                    " (the CANCEL itself got {} {})",
                    m.status()?,
                    m.reason_phrase().unwrap_or("")
                ))
            })
            .unwrap_or_default();
        let race = format!(
            "the callee answered {code} {phrase} {} after the caller's CANCEL{cancel_answer}: \
             the answer crossed the CANCEL and the call was up",
            ms(t_cancel.ms_until(t_answer))
        );
        // Without a BYE, the ACK and the BYE were due within the 32 s the callee waits: an
        // input that ends earlier may just not hold them.
        let open = bye.is_none() && covered < ACK_WAIT_MS;
        let (severity, what) = match (ack, bye) {
            (Some(&(_, ta, _)), Some(&(_, tb, _))) => (
                Severity::Warning,
                format!(
                    "the caller ACKed it {} later and hung up with BYE {} after the answer, \
                     as RFC 3261 requires",
                    ms(t_answer.ms_until(ta)),
                    ms(t_answer.ms_until(tb))
                ),
            ),
            (Some(&(_, ta, _)), None) if open => (
                Severity::Info,
                format!(
                    "the caller ACKed it {} later, and no BYE is in the input, which ends {} \
                     after the answer",
                    ms(t_answer.ms_until(ta)),
                    crate::rules::secs(covered)
                ),
            ),
            (Some(&(_, ta, _)), None) => (
                Severity::Error,
                format!(
                    "the caller ACKed it {} later but never sent BYE: the call stays up on the \
                     callee's side",
                    ms(t_answer.ms_until(ta))
                ),
            ),
            (None, Some(&(_, tb, _))) => (
                Severity::Error,
                format!(
                    "the caller sent BYE {} after the answer but never ACKed the 2xx: the \
                     callee will retransmit it and may reject the BYE",
                    ms(t_answer.ms_until(tb))
                ),
            ),
            (None, None) if open => (
                Severity::Info,
                format!(
                    "no ACK and no BYE from the caller are in the input, which ends {} after the \
                     answer",
                    crate::rules::secs(covered)
                ),
            ),
            (None, None) => (
                Severity::Error,
                "the caller neither ACKed it nor sent BYE: the callee keeps a call nobody is \
                 on and hangs up only when its ACK timer (32 s) fires"
                    .to_string(),
            ),
        };
        let help = if severity == Severity::Warning {
            "nothing to fix on the caller (it cleaned up); if such races are frequent, look for \
             delays between the caller and the callee, and make sure the callee's billing and \
             UI treat an answer that is at once followed by BYE as a missed call"
        } else {
            "after CANCEL, keep the INVITE transaction and the dialog until the final response: \
             ACK a late 2xx and then send BYE (pjsua2: keep the Call object until \
             onCallState reports DISCONNECTED)"
        };
        let mut f = Finding::new(
            &RULE,
            Some(Owner::Call(ci)),
            format!("{race}; {what}"),
            help.into(),
        )
        .with_span(
            ctx.model.messages[answer].event,
            answer_msg.start_span(),
            format!("{code} {phrase} after the CANCEL"),
        )
        .with(ctx.model.messages[cancel].event, "the caller's CANCEL");
        f.severity = severity;
        if let Some(&(w, _, _)) = ack {
            f = f.with(ctx.model.messages[w].event, "ACK for the late 2xx");
        }
        if let Some(&(w, _, _)) = bye {
            f = f.with(
                ctx.model.messages[w].event,
                "BYE ending the call nobody wanted",
            );
        }
        out.push(f);
    }
}
