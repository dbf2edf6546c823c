//! SF001 `call-object-freed-early`: a pjsua2 app let its `Call` object be garbage-collected.

use super::{Context, Finding, Rule, Scope, Severity, find_log};
use crate::dialog::{Call, Outcome, Owner};
use crate::event::{Direction, Event, LogEvent, LogKind, MessageEvent, Timestamp};
use crate::sip::SipMessage;

pub(super) const RULE: Rule = Rule {
    code: "SF001",
    name: "call-object-freed-early",
    severity: Severity::Error,
    scope: Scope::Call,
    judges_time: true,
    summary: "a pjsua2 app's Call object was destroyed while the call was being answered",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A pjsua2 application (Python, Java, C#) let the `Call` object of an incoming call be destroyed
while the call was being answered: the object made in `onIncomingCall` was not kept, the
garbage collector destroyed it, and its destructor hung the call up with code 0. PJSIP 2.15.1
then declines the call (603) or hangs it up (BYE) although the app meant to answer. The shapes,
as PJSIP 2.15.1 logs them (`fixtures/call-freed-early`, `fixtures/flagship/`):

- **Freed inside `onIncomingCall`, after `answer()`.** The answer is held until media is ready
  (`Answering call N: code=200`, `Pending answering call N upon completion of media
  transport`); the destructor's `Call N hanging up: code=0..` is held too and wins (`Call N
  processing pending hangup: code=603..`). The caller sees INVITE, 100 Trying, then `603
  Decline` about a millisecond later, without ringing and without an Allow header.
- **Freed just after the 200 went out.** The log shows `Delaying BYE request until ACK is
  received`; once the ACK arrives the callee sends a BYE, then a second one (CSeq n and n+1).
- **Freed before any answer** (an auto-answer app that answers later from its own loop, or a
  container that dropped the Call): no `Answering call` line, `Call N hanging up: code=0..`
  within a second of the INVITE, then 603 Decline. A deliberate `hangup()` without a status
  code from `onIncomingCall` logs exactly the same lines: the recordings
  `fixtures/flagship/freed-no-answer` and `fixtures/flagship/hangup-default-in-callback` are
  identical from the INVITE to the ACK.
- **A log excerpt** that starts after the INVITE and shows the INVITE session go from INCOMING
  straight to DISCONNECTED (the ACK of its final response may follow), with no line of the app
  answering or declining; or quoted fragments: a TX `603 Decline` next to `Call N hanging up:
  code=0..`.

From the wire alone (a capture, or the caller's log): a 603 Decline without an Allow header
within a second of the INVITE and with no ringing; or two BYEs in a row (CSeq n and n+1) from a
PJSIP callee (branch `z9hG4bKPj…`) within a second of the ACK of its 200.

Never reported: a decline the app says it made (`Answering call N: code=603`, `Call N hanging
up: code=486`), a 603 that carries an Allow header, a call that rang and was rejected later
(`fixtures/flagship/reject-after-ringing`), a hangup after the ACK (one BYE: see
`bye-right-after-answer`).

## Why it matters
The caller sees a call declined (or hung up) that nobody declined. It looks like a network or
server problem and is hunted in the wrong place, while the cause is one missing reference in the
application.

## Severity
Error when the answering side's pjsip log shows it: the app answered (`Answering call N:
code=1xx/2xx`) and a hangup with code 0 came before that answer could complete (PJSIP held the
hangup and sent 603 instead of the answer, or delayed a BYE until the ACK). The call failed, and
no app answers and hangs up within the same milliseconds on purpose (one that does, as
`fixtures/flagship/hangup-before-ack` does, logs the same lines).

Lowered to warning when the trace cannot tell the bug from a deliberate decision:
- the log shows no answer, only the code-0 hangup within a second of the INVITE (an app that
  calls `hangup()` without a status code from `onIncomingCall` logs the same lines), or only
  the INVITE session ending from INCOMING in an excerpt that starts after the INVITE, or
  quoted fragments;
- only the wire is seen: a 603 without Allow (PJSIP sends the same 603 for a decline made in
  `onIncomingCall`), or PJSIP's two BYEs right after the ACK (an app that answers and hangs up
  in one step sends them too). The message says which log lines would confirm it.

## Typical causes
- `onIncomingCall` does `call = MyCall(self, prm.callId); call.answer(op)` and returns: the local
  variable is the only reference.
- The app stores calls in a weak container, or removes them from its list before the call ends.
- Java/C#: the `Call` is a local of the callback and the GC runs before the call ends.
- The app answers later from its own loop or UI thread, and looks the call up again by id
  (`Call.lookup`): the object made in `onIncomingCall` is already gone.

## How to fix
Keep a reference to every `Call` for its whole life, and drop it when the call is
DISCONNECTED:

```python
import pjsua2 as pj

class MyAccount(pj.Account):
    def __init__(self):
        super().__init__()
        self.calls = {}                        # call id -> MyCall: keeps them alive

    def onIncomingCall(self, prm):
        call = MyCall(self, prm.callId)
        self.calls[prm.callId] = call          # keep it
        op = pj.CallOpParam()
        op.statusCode = 200
        call.answer(op)

class MyCall(pj.Call):
    def __init__(self, acc, call_id=pj.PJSUA_INVALID_ID):
        super().__init__(acc, call_id)
        self.acc = acc

    def onCallState(self, prm):
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.acc.calls.pop(self.getId(), None)   # now it may go
```

To decline on purpose, give the status code (`hangup()` or `answer()` with `statusCode=603`):
the log then says so, and this rule stays quiet.

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
- pjsip/pjproject#4055 ("603 Decline on auto answering the call") and #2484 ("From the log you
  hang up the call: `Call 0 hanging up: code=0..`")
- RFC 3261 §21.6.2 (603 Decline), §13.3.1.4 (a UAS that ends a call before the ACK waits for it)
"#;

const HELP: &str = "keep a reference to the pjsua2 Call for its whole life (e.g. store it in the \
                    Account in onIncomingCall) and drop it only when the call is DISCONNECTED";

/// For the shapes the log cannot tell from a deliberate hangup with the default code.
const HELP_OR_DECLINE: &str = "if the app meant to answer, keep a reference to the pjsua2 Call \
                               (store it in onIncomingCall) until the call is DISCONNECTED; if \
                               it meant to decline, hang up or answer with an explicit status \
                               code (603, 486) so that the log says so";

/// "At once": the answer or hangup this soon after the INVITE, the BYE this soon after the ACK.
const AT_ONCE_MS: i64 = 1000;

/// How far back from a call's first message in a log the lines that precede every message of
/// that log (an excerpt that starts mid-call) are looked for.
const LEADING_LINES: usize = 256;

/// What a finding is about: the 603 sent instead of an answer, or the BYE right after one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Decline,
    Bye,
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        out.extend(judge(ctx, ci, call).map(|(f, shape)| match shape {
            // The 603 the caller got is this finding's doing: say so wherever the status is
            // explained (the calls table, the ladder, JSON, HTML), instead of "declined".
            Shape::Decline if f.severity == Severity::Error => f.explains_status(
                603,
                "Nobody declined this call: the callee's pjsua2 app answered it, but its Call \
                 object was destroyed at once and PJSIP turned the held answer into a 603.",
            ),
            Shape::Decline => f.explains_status(
                603,
                "Perhaps nobody declined this call: it looks like a pjsua2 callee whose Call \
                 object was destroyed before it answered, which PJSIP turns into a 603; see \
                 call-object-freed-early.",
            ),
            Shape::Bye => f,
        }));
    }
    quoted(ctx, out);
}

/// Whether this rule (when it runs) explains the BYE that ended call `ci`:
/// `bye-right-after-answer` then leaves that BYE to it (one problem, one finding).
pub(super) fn explains_bye(ctx: &Context<'_>, ci: usize) -> bool {
    ctx.settings.enabled(&RULE)
        && ctx
            .model
            .calls
            .get(ci)
            .and_then(|call| judge(ctx, ci, call))
            .is_some_and(|(_, shape)| shape == Shape::Bye)
}

/// The finding on one call: from the answering side's pjsip log when it is among the inputs,
/// else from the wire.
fn judge(ctx: &Context<'_>, ci: usize, call: &Call) -> Option<(Finding, Shape)> {
    match callee_log(ctx, ci, call) {
        Some(side) => from_log(ctx, ci, call, &side),
        None => from_wire(ctx, ci, call).or_else(|| from_wire_bye(ctx, ci, call)),
    }
}

/// Whether the callee sent this message of the call (a response to the caller's request, or a
/// request of its own).
fn by_callee(call: &Call, m: &SipMessage) -> bool {
    let caller = call.caller_tag.as_deref();
    if m.is_request() {
        m.from_tag() != caller
    } else {
        m.from_tag() == caller
    }
}

/// The callee's pjsip log of a call: its input and its pjsua lines about the call.
struct Side<'a> {
    input: usize,
    /// In event order.
    logs: Vec<(usize, &'a LogEvent)>,
    /// When this log received the initial INVITE (`None`: not in the log).
    invite: Option<Timestamp>,
}

impl<'a> Side<'a> {
    /// The first line after event `from` whose kind `pred` accepts.
    fn after(&self, from: usize, pred: impl Fn(&LogKind) -> bool) -> Option<(usize, &'a LogEvent)> {
        self.logs
            .iter()
            .copied()
            .find(|(e, l)| *e > from && pred(&l.kind))
    }
}

/// A line that shows the app deciding the call's fate with a status of its own.
fn deliberate(kind: &LogKind) -> bool {
    matches!(kind, LogKind::Answering { code, .. } | LogKind::HangingUp { code, .. } if *code >= 300)
}

/// pjsua lines about an incoming call's answer and end.
fn answering_evidence(kind: &LogKind) -> bool {
    matches!(
        kind,
        LogKind::Answering { .. }
            | LogKind::PendingAnswer { .. }
            | LogKind::HangingUp { .. }
            | LogKind::PendingHangup { .. }
            | LogKind::DelayingBye
            | LogKind::CallMediaInit { .. }
    ) || incoming_ended(kind)
}

fn incoming_ended(kind: &LogKind) -> bool {
    matches!(kind, LogKind::InviteState { from, to } if from == "INCOMING" && to == "DISCONNECTED")
}

/// The pjsip log of the side that answered the call (a log that sent what the callee sent, or
/// received what the caller sent), when it says something about the answer: the call's lines,
/// plus the lines before that log's first message when the log starts mid-call (an excerpt).
fn callee_log<'a>(ctx: &Context<'a>, ci: usize, call: &Call) -> Option<Side<'a>> {
    let model = ctx.model;
    let (input, first) = call.messages.iter().find_map(|&w| {
        let by_callee = by_callee(call, model.message(w).parsed()?);
        model.messages[w]
            .sightings
            .iter()
            .find_map(|&s| match &model.events[s] {
                Event::Message(m)
                    if matches!(
                        (m.direction, by_callee),
                        (Some(Direction::Tx), true) | (Some(Direction::Rx), false)
                    ) =>
                {
                    Some((m.origin.input, s))
                }
                _ => None,
            })
    })?;
    let mut logs: Vec<(usize, &LogEvent)> = ctx
        .call_logs(ci)
        .filter(|(_, l)| l.origin.input == input)
        .collect();
    logs.extend(leading_lines(ctx, input, first));
    logs.sort_unstable_by_key(|(e, _)| *e);
    if !logs.iter().any(|(_, l)| answering_evidence(&l.kind)) {
        return None;
    }
    let invite = call.messages.iter().find_map(|&w| {
        let m = model.message(w).parsed()?;
        let initial = m.method() == Some("INVITE") && m.to_tag().is_none();
        let seen = ctx.sighting_in(w, Some(input));
        match &model.events[seen] {
            Event::Message(e) if initial && e.origin.input == input => Some(e.ts),
            _ => None,
        }
    });
    Some(Side {
        input,
        logs,
        invite,
    })
}

/// The lines of `input` that no call or flow owns and that come before `first` with no message
/// of that input between them: a log that starts mid-call, whose pjsua lines could not be bound
/// because no message came before them.
fn leading_lines<'a>(
    ctx: &Context<'a>,
    input: usize,
    first: usize,
) -> impl Iterator<Item = (usize, &'a LogEvent)> + 'a {
    let model = ctx.model;
    model.events[..first]
        .iter()
        .enumerate()
        .rev()
        .take(LEADING_LINES)
        .filter(move |(_, e)| e.origin().input == input)
        .map_while(|(i, e)| match e {
            Event::Log(l) => Some((i, l)),
            Event::Message(_) => None,
        })
        .filter(move |(i, l)| model.event_owner[*i].is_none() && answering_evidence(&l.kind))
}

/// The first message of the call with status or method `what` that the callee sent.
fn sent_by_callee(ctx: &Context<'_>, call: &Call, what: &str) -> Option<usize> {
    call.messages.iter().copied().find(|&w| {
        ctx.model.message(w).parsed().is_some_and(|m| {
            by_callee(call, m)
                && match (m.method(), m.status()) {
                    (Some(method), _) => method == what,
                    (None, Some(code)) => code.to_string() == what,
                    _ => false,
                }
        })
    })
}

/// The certain shapes and those of a log that shows only part of the story.
fn from_log(
    ctx: &Context<'_>,
    ci: usize,
    call: &Call,
    side: &Side<'_>,
) -> Option<(Finding, Shape)> {
    if side.logs.iter().any(|(_, l)| deliberate(&l.kind)) {
        return None;
    }
    let answer = find_log(
        &side.logs,
        |k| matches!(k, LogKind::Answering { code, .. } if (100..300).contains(code)),
    );
    let hangup = side.logs.iter().copied().find(|(e, l)| {
        answer.is_none_or(|a| *e > a.0) && matches!(l.kind, LogKind::HangingUp { code: 0, .. })
    });
    match (answer, hangup) {
        (Some(answer), Some(hangup)) => answered_then_freed(ctx, ci, call, side, answer, hangup),
        (None, Some(hangup)) => freed_before_answer(ctx, ci, call, side, hangup),
        (_, None) => ended_unseen(ctx, ci, call, side),
    }
}

/// Certain: the app answered, and a hangup with code 0 came before its answer could complete.
fn answered_then_freed(
    ctx: &Context<'_>,
    ci: usize,
    call: &Call,
    side: &Side<'_>,
    answer: (usize, &LogEvent),
    hangup: (usize, &LogEvent),
) -> Option<(Finding, Shape)> {
    let (shape, last, sent) =
        if let Some(p) = side.after(hangup.0, |k| matches!(k, LogKind::PendingHangup { .. })) {
            ("PJSIP turned the held answer into a 603 Decline", p, "603")
        } else if let Some(d) = side.after(hangup.0, |k| matches!(k, LogKind::DelayingBye)) {
            (
                "PJSIP delayed a BYE until the ACK and then hung up the answered call",
                d,
                "BYE",
            )
        } else {
            // The answer went out (a 180 that rang, then a hangup later): not this bug.
            return None;
        };
    let pjsua = match answer.1.kind {
        LogKind::Answering { call, .. } => call,
        _ => 0,
    };
    let name = ctx.input_name(side.input);
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
    .with(last.0, last.1.text.clone());
    if let Some(w) = sent_by_callee(ctx, call, sent) {
        let e = ctx.sighting_in(w, Some(side.input));
        f = f.with_span(e, ctx.start_line_of(e), "what the caller received");
    }
    let kind = if sent == "BYE" {
        Shape::Bye
    } else {
        Shape::Decline
    };
    Some((f, kind))
}

/// A hangup with code 0 before any answer, at once after the INVITE: PJSIP declines with 603.
/// The Call object's destructor does exactly what `hangup()` with a default CallOpParam does,
/// so the log cannot tell a freed Call from a deliberate decline: a warning.
fn freed_before_answer(
    ctx: &Context<'_>,
    ci: usize,
    call: &Call,
    side: &Side<'_>,
    hangup: (usize, &LogEvent),
) -> Option<(Finding, Shape)> {
    // Still incoming when it was hung up: PJSIP held the hangup (it came inside onIncomingCall)
    // or the session ended from INCOMING, and nothing but a 100 had been sent.
    let end = side
        .after(hangup.0, |k| matches!(k, LogKind::PendingHangup { .. }))
        .or_else(|| side.after(hangup.0, incoming_ended));
    let decline = sent_by_callee(ctx, call, "603");
    let rang = call.messages.iter().any(|&w| {
        ctx.model.message(w).parsed().is_some_and(|m| {
            by_callee(call, m) && m.status().is_some_and(|c| (101..300).contains(&c))
        })
    });
    if rang || (end.is_none() && decline.is_none()) {
        return None;
    }
    let after_invite = match side.invite {
        Some(t) => {
            let ms = t.ms_until(hangup.1.ts);
            if !(0..=AT_ONCE_MS).contains(&ms) {
                return None;
            }
            format!(" {ms} ms after its INVITE arrived")
        }
        None => String::new(),
    };
    let pjsua = match hangup.1.kind {
        LogKind::HangingUp { call, .. } => call,
        _ => 0,
    };
    let name = ctx.input_name(side.input);
    let mut f = Finding::new(
        &RULE,
        Some(Owner::Call(ci)),
        format!(
            "pjsua call {pjsua} in {name} was hung up with code 0{after_invite}, before any \
             answer (`{}`), so PJSIP declined it with 603 Decline. That is what a pjsua2 Call \
             object's destructor does when the app keeps no reference to the Call it made in \
             onIncomingCall (to answer it later); an app that calls hangup() without a status \
             code does the same on purpose, and the log cannot tell them apart",
            hangup.1.text
        ),
        HELP_OR_DECLINE.to_string(),
    )
    .with(
        hangup.0,
        "hangup with code 0: the Call object's destructor, or hangup() without a status code",
    );
    if let Some((e, l)) = end {
        f = f.with(e, l.text.clone());
    }
    if let Some(w) = decline {
        let e = ctx.sighting_in(w, Some(side.input));
        f = f.with_span(e, ctx.start_line_of(e), "what the caller received");
    }
    f.severity = Severity::Warning;
    Some((f, Shape::Decline))
}

/// A log that starts after the INVITE (an excerpt) and shows the session end from INCOMING,
/// with neither the app's answer nor its hangup: PJSIP ended the call itself before ringing. A
/// warning: the lines that would tell a freed Call from a decline are not in the log.
fn ended_unseen(
    ctx: &Context<'_>,
    ci: usize,
    call: &Call,
    side: &Side<'_>,
) -> Option<(Finding, Shape)> {
    let (e, ended) = find_log(&side.logs, incoming_ended)?;
    let cancelled = call.messages.iter().any(|&w| {
        ctx.model
            .message(w)
            .parsed()
            .is_some_and(|m| m.method() == Some("CANCEL"))
    });
    if side.invite.is_some() || cancelled || call.final_status.is_some_and(|s| s != 603) {
        return None;
    }
    let name = ctx.input_name(side.input);
    let how = match call.final_status {
        Some(_) => "with 603 Decline",
        None => "with a final response the caller acknowledged",
    };
    let mut f = Finding::new(
        &RULE,
        Some(Owner::Call(ci)),
        format!(
            "the INVITE session {} in {name} went from INCOMING straight to DISCONNECTED: the \
             answering pjsip ended the call itself, before ringing or answering, {how}. With a \
             pjsua2 app that answers automatically this is the shape of a Call object destroyed \
             in onIncomingCall; the log starts after the INVITE, and its lines before this \
             point would confirm it (`Answering call N: code=200`, then `Call N hanging up: \
             code=0..`) or show a deliberate decline (`code=603`)",
            ended.sender
        ),
        HELP_OR_DECLINE.to_string(),
    )
    .with(e, ended.text.clone());
    let ack = call.messages.iter().copied().find(|&w| {
        ctx.model
            .message(w)
            .parsed()
            .is_some_and(|m| m.method() == Some("ACK"))
    });
    if let Some(w) = ack {
        let s = ctx.sighting_in(w, Some(side.input));
        f = f.with_span(
            s,
            ctx.start_line_of(s),
            "the caller's ACK of that final response",
        );
    }
    f.severity = Severity::Warning;
    Some((f, Shape::Decline))
}

/// The weaker shape, from the wire alone: a 603 without Allow at once after the INVITE and
/// with no ringing. Used only when no log of the answering side is linked to the call.
fn from_wire(ctx: &Context<'_>, ci: usize, call: &Call) -> Option<(Finding, Shape)> {
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
    Some((f, Shape::Decline))
}

/// PJSIP's branch prefix (`z9hG4bK` + `Pj`): a request that PJSIP sent.
fn sent_by_pjsip(m: &SipMessage) -> bool {
    m.top_via()
        .and_then(|v| v.branch.as_deref())
        .is_some_and(|b| b.starts_with("z9hG4bKPj"))
}

/// From the wire alone: a PJSIP callee that sent two BYEs in a row (CSeq n and n+1) at once
/// after the ACK of its 200. PJSIP 2.15 does that when the hangup came before the ACK: it holds
/// the BYE until the ACK (`Delaying BYE request until ACK is received`), then sends it and a
/// second one. A Call object destroyed right after the answer is the usual cause; an app that
/// answers and hangs up in one step on purpose looks the same. A hangup after the ACK sends
/// one BYE and is not reported here (see `bye-right-after-answer`).
fn from_wire_bye(ctx: &Context<'_>, ci: usize, call: &Call) -> Option<(Finding, Shape)> {
    let model = ctx.model;
    let msgs = ctx.parsed(&call.messages);
    let callee_bye = |m: &SipMessage| m.method() == Some("BYE") && by_callee(call, m);
    let (answer, _, answer_msg) = *msgs.iter().find(|(_, _, m)| {
        by_callee(call, m)
            && m.status().is_some_and(|c| (200..300).contains(&c))
            && m.cseq().is_some_and(|c| c.method == "INVITE")
    })?;
    let answerer = answer_msg.to_tag()?;
    let (ack, t_ack, _) = *msgs.iter().find(|(_, _, m)| {
        m.method() == Some("ACK")
            && m.to_tag() == Some(answerer)
            && m.cseq().map(|c| c.seq) == answer_msg.cseq().map(|c| c.seq)
    })?;
    let mut byes = msgs.iter().filter(|(_, _, m)| callee_bye(m));
    let &(bye, t_bye, bye_msg) = byes.next()?;
    let seq = bye_msg.cseq()?.seq;
    let &(bye2, t_bye2, _) =
        byes.find(|(_, _, m)| m.cseq().is_some_and(|c| c.seq == seq.wrapping_add(1)))?;
    let caller_hung_up_first = msgs
        .iter()
        .any(|(_, t, m)| m.method() == Some("BYE") && !by_callee(call, m) && *t <= t_bye);
    let gap = t_ack.ms_until(t_bye);
    if caller_hung_up_first
        || !sent_by_pjsip(bye_msg)
        || !(0..=AT_ONCE_MS).contains(&gap)
        || !(0..=AT_ONCE_MS).contains(&t_bye.ms_until(t_bye2))
    {
        return None;
    }
    let first_event = |w: usize| model.messages[w].event;
    let mut f = Finding::new(
        &RULE,
        Some(Owner::Call(ci)),
        format!(
            "the callee (PJSIP) sent two BYEs, CSeq {seq} and {}, {gap} ms after the ACK of \
             its 200: PJSIP's signature of a hangup decided before the ACK (the BYE held until \
             the ACK), the shape of a pjsua2 Call object destroyed right after answering. The \
             callee's pjsip log would confirm it: `Answering call N: code=200`, then `Call N \
             hanging up: code=0..` and `Delaying BYE request until ACK is received`",
            seq.wrapping_add(1)
        ),
        HELP.to_string(),
    )
    .with_span(
        first_event(bye),
        ctx.start_line_of(first_event(bye)),
        "BYE at once after the ACK",
    )
    .with(first_event(bye2), "the second BYE (CSeq + 1)")
    .with(first_event(ack), "the ACK: the call is up")
    .with_span(
        first_event(answer),
        ctx.start_line_of(first_event(answer)),
        "the answer",
    );
    f.severity = Severity::Warning;
    Some((f, Shape::Bye))
}

/// Quoted fragments with no call: a `Call N hanging up: code=0..` line that no call owns next to
/// a 603 sent with no Call-ID to place it (an issue that quotes a TX dump's first lines and the
/// hangup line). The same ambiguity as [`freed_before_answer`]: a warning.
fn quoted(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    for (i, ev) in model.events.iter().enumerate() {
        let Event::Log(l) = ev else { continue };
        if model.event_owner[i].is_some() || !matches!(l.kind, LogKind::HangingUp { code: 0, .. }) {
            continue;
        }
        let input = l.origin.input;
        let before = nearest_message(input, model.events[..i].iter().enumerate().rev());
        let after = nearest_message(input, model.events.iter().enumerate().skip(i + 1));
        let Some((e, _)) = [before, after].into_iter().flatten().find(|(j, m)| {
            model.event_owner[*j].is_none()
                && m.direction == Some(Direction::Tx)
                && status_of(m) == Some(603)
        }) else {
            continue;
        };
        let mut f = Finding::new(
            &RULE,
            None,
            format!(
                "{} quotes a 603 Decline sent next to `{}`: PJSIP declines an incoming call that \
                 is hung up with code 0 before it is answered. That is what a pjsua2 Call \
                 object's destructor does when the app keeps no reference to the Call; an app \
                 that calls hangup() without a status code does the same on purpose",
                ctx.input_name(input),
                l.text
            ),
            HELP_OR_DECLINE.to_string(),
        )
        .with(i, "hangup with code 0")
        .with_span(e, ctx.start_line_of(e), "the 603 sent");
        f.severity = Severity::Warning;
        out.push(f);
    }
}

/// The first message of `input` among `events` (looking no further than [`LEADING_LINES`]).
fn nearest_message<'a>(
    input: usize,
    events: impl Iterator<Item = (usize, &'a Event)>,
) -> Option<(usize, &'a MessageEvent)> {
    events
        .take(LEADING_LINES)
        .filter(|(_, e)| e.origin().input == input)
        .find_map(|(j, e)| match e {
            Event::Message(m) => Some((j, m)),
            Event::Log(_) => None,
        })
}

/// The status of a sent response, also when only its status line was quoted (it may not parse
/// as a whole message).
fn status_of(m: &MessageEvent) -> Option<u16> {
    if let Some(p) = m.parsed() {
        return p.status();
    }
    let line = m.raw().split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split_whitespace();
    (words.next()? == "SIP/2.0")
        .then(|| words.next()?.parse().ok())
        .flatten()
}
