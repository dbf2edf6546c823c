//! SF026 `bye-right-after-answer`: a call ended by a BYE right after it was answered, by
//! either side.

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
    judges_time: true,
    summary: "a BYE right after the answer: the call dropped as soon as it connected (either side)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
An answered call that one side ended with a BYE right after the answer: the call connected
and dropped at once. The answer is the moment the call was up: the ACK of the 2xx (pjsua's
`CONFIRMED` comes with it; without the ACK in the input the rule says nothing).

- **The callee** (the side that answered) sent the BYE within `thresholds.bye-after-answer-ms`
  (default 1000 ms) of the ACK: it had just accepted the call and tore it down. A BYE that
  PJSIP held back (`Delaying BYE request until ACK is received`) counts from the moment it
  could go out.
- **The caller** sent the BYE within `thresholds.caller-bye-after-answer-ms` (default 100 ms)
  of the ACK: too soon for a person, so its application ended the call it had just set up
  (it could not use the answer, or its call object went away). The threshold is shorter than
  the callee's because a caller ends its own call quickly on purpose in tests and probes (SIPp
  with `-d`, dialers), which pause a few hundred milliseconds; a user who hangs up after a
  second or more is not reported.

The finding says who hung up, and which input is that side's own log (it sent the BYE, or
received the BYE's answer). It quotes the BYE's `Reason` header and that log's lines (the
hangup, a delayed BYE). **Only the BYE's answer in the input** (an excerpt that left the BYE
out): the BYE went out before its answer, so the answer's time bounds the gap ("at most N ms
after the ACK"), and the answer's tags say who sent the BYE. An excerpt that starts after the
INVITE is judged from its first ACK.

Not reported: a call whose ACK never came (see `missing-ack`), the caller's BYE after it had
cancelled the call (`cancel-answer-race`: the 200 crossed the CANCEL), and a log that shows no
time (every line at midnight: nothing to measure).

## Why it matters
The user sees the call connect and drop immediately ("the call drops on answer"). It looks
like a network problem but is almost always a decision (or a crash) in one of the two
applications, which its own log explains.

## Severity
Warning: the call was set up and ended, nothing on the wire failed, and a script or IVR may end
calls at once on purpose (`fixtures/flagship/sipp-bye-after-ack`,
`fixtures/flagship/hangup-after-confirmed`: one BYE, as quick as the bug's two).

Info when the caller hung up and its own log is not among the inputs (a capture, the callee's
log): the wire cannot tell the caller's application ending the call from a hangup that crossed
the answer (a person who gave up after ringing, or an upstream leg of a proxy or B2BUA ending
as the 200 went by; `heplify`'s `sip_ipv4_tcp_fragmented.pcap`, an Avaya CM call answered after
12 s of ringing and ended 51 ms after the ACK). The caller's log shows the decision: in it, the
finding is a warning.

Lowered to info when another rule explains the BYE:
- `call-object-freed-early` explains the callee's BYE (the callee's log shows the pjsua2 Call
  object destroyed right after answering, or the wire shows PJSIP's two BYEs in a row right
  after the ACK): that rule carries the diagnosis, this finding only the timing. With
  `call-object-freed-early` disabled (`--ignore`, `--select`), it stays a warning.
- `no-common-codec` reports the same call (a warning or an error): the answer could not be
  used, which is why the call was ended (`rules::EXPLAINED_BY`;
  `fixtures/rules-call-extra/answer-g729`, where the caller's BYE says `SDP negotiation
  failed`).

## Typical causes
- pjsua2 callee: the `Call` object created in `onIncomingCall` was not kept, and its destructor
  hung up the call just after the 200 went out (see `call-object-freed-early`).
- A caller that cannot use the answer: no common codec (see `no-common-codec`), SRTP or ICE
  negotiation failing, a sound device that will not open; a pjsua2 caller whose `Call` object
  is destroyed once the call is up.
- The answering application hangs up on a media failure: no common codec after the answer,
  SRTP/ICE negotiation failing, no audio device (`onCallMediaState` without active media).
- A B2BUA answered leg A and then failed (or was rejected) on leg B and hangs up leg A.
- An auto-answer test script or IVR that ends calls at once, or a license/channel limit hit
  after the answer.

## How to fix
Read the log of the side that hung up, around the ACK: what made it hang up (`Call N hanging
up: code=…`, the Reason of the BYE). For pjsua2 keep a reference to each `Call` until DISCONNECTED; check
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
And from `fixtures/derive/caller-hangup-on-answer.caller.quote.derived.log` (a quote of a
pjsua2 caller that hangs up 31 ms after CONFIRMED, as users post it: the BYE left out):
```
18:54:51.902  TX Request msg ACK/cseq=5518
18:54:51.902  inv0x…  State changed from CONNECTING to CONFIRMED, event=TX_MSG
18:54:51.934  RX Response msg 200/BYE/cseq=5519     ← the caller's BYE: at most 32 ms after
```

## References
- RFC 3261 §15.1 (ending a session with BYE), §13.3.1.4 (a UAS that must end a call before the
  ACK has to wait for it)
- pjsua2 book, "Call": keep the Call object alive
  (https://docs.pjsip.org/en/latest/pjsua2/using/call.html)
"#;

/// Who sent the BYE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Caller,
    Callee,
}

/// The BYE that ended the call: the request (`response: false`) or, when only its answer is
/// in the input, that response (the BYE went out before it).
struct Bye<'a> {
    wire: usize,
    ts: Timestamp,
    msg: &'a SipMessage,
    response: bool,
}

/// The input whose log has this message in direction `dir`: it sent it (TX) or received it
/// (RX).
fn logged_by(ctx: &Context<'_>, wire: usize, dir: Direction) -> Option<usize> {
    ctx.model.messages[wire]
        .sightings
        .iter()
        .find_map(|&e| match &ctx.model.events[e] {
            Event::Message(m) if m.direction == Some(dir) => Some(m.origin.input),
            _ => None,
        })
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for ci in 0..ctx.model.calls.len() {
        if let Some(f) = judge(ctx, ci) {
            out.push(f);
        }
    }
}

/// The longest gap from the answer to a BYE of `party` that this rule reports (ms).
fn threshold(ctx: &Context<'_>, party: Party) -> i64 {
    let t = &ctx.settings.thresholds;
    match party {
        Party::Callee => t.bye_after_answer_ms,
        Party::Caller => t.caller_bye_after_answer_ms,
    }
}

fn judge(ctx: &Context<'_>, ci: usize) -> Option<Finding> {
    let msgs = ctx.parsed(&ctx.model.calls[ci].messages);
    let cseq_of =
        |m: &SipMessage, method: &str| m.cseq().filter(|c| c.method == method).map(|c| c.seq);
    // The initial INVITE (and its retries with credentials), when the input has them.
    let initial: Vec<u32> = msgs
        .iter()
        .filter(|(_, _, m)| m.method() == Some("INVITE") && m.to_tag().is_none())
        .filter_map(|(_, _, m)| cseq_of(m, "INVITE"))
        .collect();
    let first_call = |s: u32| initial.is_empty() || initial.contains(&s);
    // Its answer, and the ACK of that answer (of the first answered INVITE when the initial
    // one is not in the input: the excerpt starts later). Without the answer, the first ACK of
    // an INVITE that did not fail.
    let answer = msgs.iter().find(|(_, _, m)| {
        m.status().is_some_and(|c| (200..300).contains(&c))
            && cseq_of(m, "INVITE").is_some_and(first_call)
    });
    let answered = answer.and_then(|(_, _, m)| cseq_of(m, "INVITE"));
    let failed = |s: u32| {
        msgs.iter().any(|(_, _, m)| {
            m.status().is_some_and(|c| c >= 300) && cseq_of(m, "INVITE") == Some(s)
        })
    };
    let ack = msgs.iter().find(|(_, _, m)| {
        m.method() == Some("ACK")
            && m.to_tag().is_some()
            && cseq_of(m, "ACK").is_some_and(|s| match answered {
                Some(a) => s == a,
                None => first_call(s) && !failed(s),
            })
    });
    // The call is up when the ACK goes out; it carries both parties' tags.
    let &(ack, t_up, ack_msg) = ack?;
    let caller = ack_msg.from_tag()?;
    let callee = ack_msg.to_tag()?;
    // The BYE that ended the call: the first BYE of this dialog, or the first answer to one
    // when the BYE itself is not in the input.
    let bye = msgs.iter().find_map(|&(w, ts, m)| {
        let is_bye = m.method() == Some("BYE") || (!m.is_request() && cseq_of(m, "BYE").is_some());
        let tags = [m.from_tag(), m.to_tag()];
        (is_bye && tags.contains(&Some(caller)) && tags.contains(&Some(callee))).then_some(Bye {
            wire: w,
            ts,
            msg: m,
            response: !m.is_request(),
        })
    })?;
    let party = if bye.msg.from_tag() == Some(caller) {
        Party::Caller
    } else {
        Party::Callee
    };
    // A caller that cancelled and got the answer anyway ends it with a BYE, as it must
    // (`cancel-answer-race`).
    if party == Party::Caller
        && msgs
            .iter()
            .any(|(_, t, m)| m.method() == Some("CANCEL") && *t <= bye.ts)
    {
        return None;
    }
    // Where the input shows no time, nothing can be measured.
    let gap = t_up.known_ms_until(bye.ts)?;
    if gap > threshold(ctx, party) {
        return None;
    }
    Some(finding(ctx, ci, ack, answer.map(|a| a.0), &bye, party, gap))
}

fn finding(
    ctx: &Context<'_>,
    ci: usize,
    ack: usize,
    answer: Option<usize>,
    bye: &Bye<'_>,
    party: Party,
    gap: i64,
) -> Finding {
    let threshold = threshold(ctx, party);
    let reference = "the ACK";
    let when = match (gap < 0, bye.response) {
        (true, _) => format!("{} ms before {reference}", -gap),
        (false, false) => format!("{gap} ms after {reference}"),
        (false, true) => format!("at most {gap} ms after {reference}"),
    };
    let reason = bye
        .msg
        .first(HeaderName::Reason)
        .filter(|_| !bye.response)
        .map(|r| format!(" with Reason: {r}"))
        .unwrap_or_default();
    let seq = bye
        .msg
        .cseq()
        .map(|c| format!(" (CSeq {})", c.seq))
        .unwrap_or_default();
    let only_answer = if bye.response {
        "; only the BYE's answer is in the input"
    } else {
        ""
    };
    // The input of the side that hung up, when its own log is among the inputs: it sent the
    // BYE (a TX dump) or received its answer (an RX dump).
    let side = if bye.response {
        logged_by(ctx, bye.wire, Direction::Rx)
    } else {
        logged_by(ctx, bye.wire, Direction::Tx)
    };
    let whose = side
        .map(|i| format!(" (the UA that wrote {})", ctx.input_name(i)))
        .unwrap_or_default();
    let mut message = match party {
        Party::Callee => format!(
            "the callee{whose} answered the call and then hung it up itself: BYE{seq}{reason} \
             {when} (threshold {threshold} ms){only_answer}"
        ),
        Party::Caller if side.is_some() => format!(
            "the caller{whose} hung up as soon as the call was answered: its BYE{seq}{reason} \
             went out {when} (threshold {threshold} ms){only_answer}; too soon for a person: \
             the caller's application ended the call"
        ),
        // Seen from the wire or the callee: the caller may be a proxy or B2BUA relaying a
        // hangup upstream that crossed the answer.
        Party::Caller => format!(
            "the caller hung up as soon as the call was answered: its BYE{seq}{reason} went \
             out {when} (threshold {threshold} ms){only_answer}; either its application ended \
             the call, or a hangup (a person or an upstream leg giving up after ringing) \
             crossed the answer: the caller's own log would tell"
        ),
    };
    if answer.is_none() {
        message.push_str("; the INVITE and its answer are not in the input");
    }
    // The log of the side that hung up, if present: its hangup and a held-back BYE.
    let logs: Vec<_> = ctx.call_logs(ci).collect();
    let mine = |input: usize| side.is_none_or(|s| s == input);
    let hangup = logs.iter().find(|(_, l)| {
        matches!(l.kind, LogKind::HangingUp { .. }) && l.ts <= bye.ts && mine(l.origin.input)
    });
    let delayed = logs.iter().find(|(_, l)| {
        matches!(l.kind, LogKind::DelayingBye) && l.ts <= bye.ts && mine(l.origin.input)
    });
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
    // `call-object-freed-early` is about the callee's Call object.
    let explained = party == Party::Callee && call_object_freed_early::explains_bye(ctx, ci);
    if explained {
        message.push_str("; call-object-freed-early explains this BYE");
    }
    let help = match party {
        Party::Callee => {
            "read the answering side's log around the ACK to see why it hung up; with pjsua2 \
             keep a reference to every Call until DISCONNECTED, and check media (codec, SRTP, \
             ICE) and, in a B2BUA, the other leg"
        }
        Party::Caller => {
            "read the caller's log around the answer to see why it hung up at once: whether it \
             could use the answer's SDP (codec, SRTP, ICE: see no-common-codec), a media or \
             sound-device error, or, with pjsua2, a Call object destroyed after the answer"
        }
    };
    let who = match party {
        Party::Callee => "BYE from the answering side",
        Party::Caller => "BYE from the caller",
    };
    let bye_event = ctx.sighting_in(bye.wire, side);
    let (bye_span, bye_label) = if bye.response {
        (
            ctx.start_line_of(bye_event),
            format!("the answer to the {who}, {when}"),
        )
    } else {
        (
            ctx.header_of(bye_event, HeaderName::Reason),
            format!("{who}, {when}"),
        )
    };
    let mut f = Finding::new(&RULE, Some(Owner::Call(ci)), message, help.into())
        .with_span(bye_event, bye_span, bye_label);
    f = f.with(ctx.sighting_in(ack, side), "the ACK: the call is up");
    if let Some(w) = answer {
        let e = ctx.sighting_in(w, side);
        f = f.with_span(e, ctx.start_line_of(e), "the answer");
    }
    for (e, l) in hangup.into_iter().chain(delayed) {
        f = f.with(*e, l.text.clone());
    }
    // Only the caller's own log shows its application's decision.
    if explained || (party == Party::Caller && side.is_none()) {
        f.severity = Severity::Info;
    }
    f
}
