//! SF026 `bye-right-after-answer`: the side that answered a call hung it up at once.

use super::call_object_freed_early;
use crate::dialog::Owner;
use crate::event::{Direction, Event, LogKind, Timestamp};
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF026",
    name: "bye-right-after-answer",
    severity: Severity::Warning,
    scope: Scope::Call,
    summary: "the answering side sent BYE right after the ACK",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
An answered call that the answering side (the callee, for the initial INVITE) ended with a
BYE within `thresholds.bye-after-answer-ms` (default 1000 ms) of the ACK: the side that had
just accepted the call tore it down at once. The ACK is the reference point, so a BYE that
PJSIP held back (`Delaying BYE request until ACK is received`) counts from the moment it could
go out. The finding quotes the BYE's `Reason` header and the pjsip log lines (the hangup and
the delayed BYE) when the answerer's log is among the inputs. A call the caller hangs up is
not reported, nor one whose ACK never came (see `missing-ack`).

## Why it matters
The caller sees the call connect and drop immediately. It looks like a network problem but
is almost always a decision (or a crash) in the answering application, which its own log
explains.

## Severity
Warning: the call was set up and ended, nothing on the wire failed, and a script or IVR may end
calls at once on purpose (`fixtures/flagship/sipp-bye-after-ack`,
`fixtures/flagship/hangup-after-confirmed`: one BYE, as quick as the bug's two).

Lowered to info when `call-object-freed-early` explains the same BYE (the callee's log shows the
pjsua2 Call object destroyed right after answering, or the wire shows PJSIP's two BYEs in a row
right after the ACK): that rule carries the diagnosis, this finding only the timing. With
`call-object-freed-early` disabled (`--ignore`, `--select`), it stays a warning.

## Typical causes
- pjsua2: the `Call` object created in `onIncomingCall` was not kept, and its destructor hung
  up the call just after the 200 went out (see `call-object-freed-early`).
- The answering application hangs up on a media failure: no common codec after the answer,
  SRTP/ICE negotiation failing, no audio device (`onCallMediaState` without active media).
- A B2BUA answered leg A and then failed (or was rejected) on leg B and hangs up leg A.
- An auto-answer test script or IVR that ends calls at once, or a license/channel limit hit
  after the answer.

## How to fix
Read the answerer's log around the ACK: what made it hang up (`Call N hanging up: code=…`,
the Reason of the BYE). For pjsua2 keep a reference to each `Call` until DISCONNECTED; check
media events and codec/SRTP settings; in a B2BUA, answer leg A only when leg B is answered.

## Example
From `fixtures/call-freed-after-answer/callee.log` (a pjsua2 callee that drops its `Call`
reference right after answering):
```
05:42:14.016  TX Response msg 200/INVITE/cseq=10706
05:42:14.016  pjsua_call.c  Call 0 hanging up: code=0..
05:42:14.016  inv0x…  ..Delaying BYE request until ACK is received
05:42:14.017  RX Request msg ACK/cseq=10706
05:42:14.017  TX Request msg BYE/cseq=5814     ← 0 ms after the ACK
05:42:14.017  TX Request msg BYE/cseq=5815
```

## References
- RFC 3261 §15.1 (ending a session with BYE), §13.3.1.4 (a UAS that must end a call before the
  ACK has to wait for it)
- pjsua2 book, "Call": keep the Call object alive
  (https://docs.pjsip.org/en/latest/pjsua2/using/call.html)
"#;

/// The input whose log sent this message (a TX dump), if any.
fn tx_input(ctx: &Context<'_>, wire: usize) -> Option<usize> {
    ctx.model.messages[wire]
        .sightings
        .iter()
        .find_map(|&e| match &ctx.model.events[e] {
            Event::Message(m) if m.direction == Some(Direction::Tx) => Some(m.origin.input),
            _ => None,
        })
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let threshold = ctx.settings.thresholds.bye_after_answer_ms;
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let msgs: Vec<(usize, Timestamp, &SipMessage)> = call
            .messages
            .iter()
            .filter_map(|&w| {
                let ev = ctx.model.message(w);
                Some((w, ev.ts, ev.parsed()?))
            })
            .collect();
        // The answer to the initial INVITE.
        let Some(invite_seq) = msgs.iter().find_map(|(_, _, m)| {
            (m.method() == Some("INVITE") && m.to().is_some_and(|t| t.tag().is_none()))
                .then(|| m.cseq().map(|c| c.seq))
                .flatten()
        }) else {
            continue;
        };
        let Some(&(answer, _, answer_msg)) = msgs.iter().find(|(_, _, m)| {
            m.status().is_some_and(|c| (200..300).contains(&c))
                && m.cseq()
                    .is_some_and(|c| c.method == "INVITE" && c.seq == invite_seq)
        }) else {
            continue;
        };
        let Some(answerer) = answer_msg.to_tag() else {
            continue;
        };
        if Some(answerer) == call.caller_tag.as_deref() {
            continue;
        }
        let Some(&(ack, t_ack, _)) = msgs.iter().find(|(_, _, m)| {
            m.method() == Some("ACK")
                && m.cseq().is_some_and(|c| c.seq == invite_seq)
                && m.to_tag() == Some(answerer)
        }) else {
            continue;
        };
        let Some(&(bye, t_bye, bye_msg)) = msgs
            .iter()
            .find(|(_, _, m)| m.method() == Some("BYE") && m.from_tag() == Some(answerer))
        else {
            continue;
        };
        // The caller hung up first: not this rule.
        if msgs.iter().any(|(_, t, m)| {
            m.method() == Some("BYE") && m.from_tag() == call.caller_tag.as_deref() && *t < t_bye
        }) {
            continue;
        }
        // Point into the answerer's own log when it is among the inputs.
        let side = tx_input(ctx, bye);
        let gap = t_ack.ms_until(t_bye);
        if gap > threshold {
            continue;
        }
        let reason = bye_msg
            .first(HeaderName::Reason)
            .map(|r| format!(" with Reason: {r}"))
            .unwrap_or_default();
        let seq = bye_msg
            .cseq()
            .map(|c| format!(" (CSeq {})", c.seq))
            .unwrap_or_default();
        let when = if gap < 0 {
            format!("{} ms before the ACK", -gap)
        } else {
            format!("{gap} ms after the ACK")
        };
        let mut message = format!(
            "the callee answered the call and then hung it up itself: BYE{seq}{reason} {when} \
             (threshold {threshold} ms)"
        );
        // The answerer's own log, if present: its hangup and a held-back BYE.
        let logs: Vec<_> = ctx.call_logs(ci).collect();
        let hangup = logs
            .iter()
            .find(|(_, l)| matches!(l.kind, LogKind::HangingUp { .. }) && l.ts <= t_bye);
        let delayed = logs
            .iter()
            .find(|(_, l)| matches!(l.kind, LogKind::DelayingBye) && l.ts <= t_bye);
        if let Some((_, l)) = hangup {
            message.push_str(&format!(
                "; {} logs `{}`",
                ctx.input_name(l.origin.input),
                l.text
            ));
        }
        if delayed.is_some() {
            message.push_str(
                ", and PJSIP held the BYE until the ACK arrived (`Delaying BYE request until ACK \
                 is received`): the hangup was decided before the call was even confirmed",
            );
        }
        let explained = call_object_freed_early::explains_bye(ctx, ci);
        if explained {
            message.push_str("; call-object-freed-early explains this BYE");
        }
        let mut f = Finding::new(
            &RULE,
            Some(Owner::Call(ci)),
            message,
            "read the answering side's log around the ACK to see why it hung up; with pjsua2 \
             keep a reference to every Call until DISCONNECTED, and check media (codec, SRTP, \
             ICE) and, in a B2BUA, the other leg"
                .into(),
        )
        .with_span(
            ctx.sighting_in(bye, side),
            ctx.header_of(ctx.sighting_in(bye, side), HeaderName::Reason),
            format!("BYE from the answering side, {when}"),
        )
        .with(ctx.sighting_in(ack, side), "the ACK: the call is up")
        .with_span(
            ctx.sighting_in(answer, side),
            ctx.start_line_of(ctx.sighting_in(answer, side)),
            "the answer",
        );
        for (e, l) in hangup.into_iter().chain(delayed) {
            f = f.with(*e, l.text.clone());
        }
        if explained {
            f.severity = Severity::Info;
        }
        out.push(f);
    }
}
