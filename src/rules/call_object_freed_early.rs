//! SF001 `call-object-freed-early`: a pjsua2 app let its `Call` object be garbage-collected.

use super::{Context, Finding, Rule, Scope, Severity, find_log};
use crate::dialog::{Call, Outcome, Owner};
use crate::event::LogKind;

pub(super) const RULE: Rule = Rule {
    code: "SF001",
    name: "call-object-freed-early",
    severity: Severity::Error,
    scope: Scope::Call,
    summary: "a pjsua2 app's Call object was destroyed while the call was being answered",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A pjsua2 application (Python, Java, C#) answered an incoming call, but the `Call` object it
created in `onIncomingCall` was not kept, so the garbage collector destroyed it at once. The
object's destructor hangs up the call with code 0. PJSIP 2.15.1 shows two shapes:

- **Freed inside `onIncomingCall`.** The answer is held until media is ready (`Answering call N:
  code=200`, `Pending answering call N upon completion of media transport`); the destructor's
  `Call N hanging up: code=0..` is held too and wins (`Call N processing pending hangup:
  code=603..`). The caller sees INVITE, 100 Trying, then `603 Decline` about a millisecond later,
  without ringing and without an Allow header.
- **Freed just after the 200 went out.** The log shows `Delaying BYE request until ACK is
  received`; once the ACK arrives the callee sends a BYE (sometimes two).

From a pjsip log of the answering side this is certain (severity error), and a deliberate
decline (`Answering call N: code=603`) or an ordinary hangup is never reported. From a capture
or the caller's log alone only the wire shape is visible, and it is ambiguous: PJSIP 2.15.1
sends the very same 603 (no ringing, no Allow header) when the application declines on purpose
from inside `onIncomingCall` (see the `decline-603` fixture). So the wire shape is only a
warning that asks for the callee's log; a 603 that carries an Allow header was answered
outside that path and is not reported.

## Why it matters
The caller sees a call declined (or hung up) that nobody declined. It looks like a network or
server problem and is hunted in the wrong place, while the cause is one missing reference in the
application.

## Typical causes
- `onIncomingCall` does `call = MyCall(self, prm.callId); call.answer(op)` and returns: the local
  variable is the only reference.
- The app stores calls in a weak container, or removes them from its list before the call ends.
- Java/C#: the `Call` is a local of the callback and the GC runs before the call ends.

## How to fix
Keep a reference to every `Call` for its whole life, and drop it when the call is
DISCONNECTED:

```python
class MyAccount(pj.Account):
    def onIncomingCall(self, prm):
        call = MyCall(self, prm.callId)
        self.calls[prm.callId] = call          # keep it
        call.answer(pj.CallOpParam(statusCode=200))

class MyCall(pj.Call):
    def onCallState(self, prm):
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.account.calls.pop(self.getId(), None)   # now it may go
```

## Example
```
05:42:13.580  pjsua_call.c  ...Answering call 0: code=200
05:42:13.580  pjsua_call.c  ....Pending answering call 0 upon completion of media transport
05:42:13.580  pjsua_call.c  ...Call 0 hanging up: code=0..
05:42:13.580  pjsua_call.c  ..Call 0 processing pending hangup: code=603..
TX … Response msg 603/INVITE/cseq=… → SIP/2.0 603 Decline
```

## References
- pjsua2 book, "Call": "the application must keep the Call instance alive"
  (https://docs.pjsip.org/en/latest/pjsua2/using/call.html)
- RFC 3261 §21.6.2 (603 Decline)
"#;

const HELP: &str = "keep a reference to the pjsua2 Call for its whole life (e.g. store it in the \
                    Account in onIncomingCall) and drop it only when the call is DISCONNECTED";

/// The answer sent within this long after the INVITE is "at once" for the capture shape.
const AT_ONCE_MS: i64 = 1000;

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let logs: Vec<_> = ctx.call_logs(ci).collect();
        let answering_inputs: Vec<usize> = logs
            .iter()
            .filter(|(_, l)| matches!(l.kind, LogKind::Answering { .. }))
            .map(|(_, l)| l.origin.input)
            .collect();
        if let Some(&input) = answering_inputs.first() {
            let side: Vec<_> = logs
                .iter()
                .copied()
                .filter(|(_, l)| l.origin.input == input)
                .collect();
            if let Some(f) = from_log(ctx, ci, call, input, &side) {
                out.push(f);
            }
        } else if let Some(f) = from_wire(ctx, ci, call) {
            out.push(f);
        }
    }
}

/// The certain shape: the answering side's own log.
fn from_log(
    ctx: &Context<'_>,
    ci: usize,
    call: &Call,
    input: usize,
    side: &[(usize, &crate::event::LogEvent)],
) -> Option<Finding> {
    let deliberate = side.iter().any(|(_, l)| {
        matches!(l.kind, LogKind::Answering { code, .. } | LogKind::HangingUp { code, .. } if code >= 300)
    });
    if deliberate {
        return None;
    }
    let answer = find_log(
        side,
        |k| matches!(k, LogKind::Answering { code, .. } if (100..300).contains(code)),
    )?;
    let hangup = side
        .iter()
        .copied()
        .find(|(e, l)| *e > answer.0 && matches!(l.kind, LogKind::HangingUp { code: 0, .. }))?;
    let pending = side
        .iter()
        .copied()
        .find(|(e, l)| *e > hangup.0 && matches!(l.kind, LogKind::PendingHangup { .. }));
    let delaying = side
        .iter()
        .copied()
        .find(|(e, l)| *e > hangup.0 && matches!(l.kind, LogKind::DelayingBye));
    let pjsua = match answer.1.kind {
        LogKind::Answering { call, .. } => call,
        _ => 0,
    };
    let name = ctx.input_name(input);
    let (shape, last, wire_method) = match (pending, delaying) {
        (Some(p), _) => (
            "PJSIP turned the held answer into a 603 Decline",
            p,
            Some("603"),
        ),
        (None, Some(d)) => (
            "PJSIP delayed a BYE until the ACK and then hung up the answered call",
            d,
            Some("BYE"),
        ),
        (None, None) => return None,
    };
    let mut f = Finding::new(
        &RULE,
        Some(Owner::Call(ci)),
        format!(
            "pjsua call {pjsua} in {name} was answered, then its Call object was destroyed \
             (`hanging up: code=0`): {shape}"
        ),
        HELP.to_string(),
    )
    .with(answer.0, answer.1.text.clone())
    .with(
        hangup.0,
        "the Call object's destructor hangs up with code 0",
    )
    .with(last.0, last.1.text.clone())
    .explains_status(603, "Nobody declined this call: the callee's pjsua2 app answered it, but its Call object was destroyed at once and PJSIP turned the held answer into a 603.");
    if let Some(w) = wire_method.and_then(|m| sent_by_callee(ctx, call, m)) {
        let e = ctx.sighting_in(w, Some(input));
        f = f.with_span(e, ctx.start_line_of(e), "what the caller received");
    }
    Some(f)
}

/// The first wire message of the call whose method or status is `what` and that the callee
/// sent (a response, or a request whose From tag is not the caller's).
fn sent_by_callee(ctx: &Context<'_>, call: &Call, what: &str) -> Option<usize> {
    call.messages.iter().copied().find(|&w| {
        ctx.model
            .message(w)
            .parsed()
            .is_some_and(|m| match (m.method(), m.status()) {
                (Some(method), _) => method == what && m.from_tag() != call.caller_tag.as_deref(),
                (None, Some(code)) => code.to_string() == what,
                _ => false,
            })
    })
}

/// The weaker shape, from the wire alone: a 603 without Allow at once after the INVITE and
/// with no ringing. Used only when no log of the answering side is linked to the call.
fn from_wire(ctx: &Context<'_>, ci: usize, call: &Call) -> Option<Finding> {
    if call.outcome != Outcome::Rejected
        || call.final_status != Some(603)
        || call.setup_ms.is_some()
    {
        return None;
    }
    let invite = call.messages.iter().copied().find(|&w| {
        ctx.model
            .message(w)
            .parsed()
            .is_some_and(|m| m.method() == Some("INVITE"))
    })?;
    let decline = sent_by_callee(ctx, call, "603")?;
    let msg = ctx.model.message(decline).parsed()?;
    let has_allow = msg.first(crate::sip::HeaderName::Allow).is_some();
    let delay = ctx
        .model
        .message(invite)
        .ts
        .ms_until(ctx.model.message(decline).ts);
    if has_allow || !(0..=AT_ONCE_MS).contains(&delay) {
        return None;
    }
    let mut f = Finding::new(
        &RULE,
        Some(Owner::Call(ci)),
        format!(
            "603 Decline {delay} ms after the INVITE, with no ringing and no Allow header: the \
             shape of a pjsua2 Call object destroyed while answering, or of a decline made at \
             once in onIncomingCall. The callee's pjsip log tells them apart: the bug logs \
             `Answering call N: code=200` followed by `Call N hanging up: code=0..`"
        ),
        HELP.to_string(),
    )
    .with_span(
        ctx.model.messages[decline].event,
        ctx.start_line_of(ctx.model.messages[decline].event),
        "603 without Allow",
    )
    .with(ctx.model.messages[invite].event, "the INVITE");
    f.severity = Severity::Warning;
    Some(f)
}
