//! SF003 `invite-timeout`: an INVITE that got no response before Timer B.

use std::collections::BTreeSet;

use super::timers::COVERS_64T1_MS;
use crate::dialog::Owner;
use crate::event::{Direction, Event, LogKind, Timestamp, Transport};
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::SipMessage;

pub(super) const RULE: Rule = Rule {
    code: "SF003",
    name: "invite-timeout",
    severity: Severity::Error,
    scope: Scope::Transaction,
    judges_time: true,
    summary: "an INVITE got no response at all before Timer B (32 s) expired",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
An INVITE client transaction that never received any response, not even `100 Trying`: over
UDP the INVITE is retransmitted with Timer A (after 0.5, 1, 2, 4, 8 and 16 s: 7 copies in
31.5 s) until Timer B (64×T1 = 32 s) ends the transaction with a local `408 Request Timeout`.
It is a timeout when the input covers (almost) the whole 32 s after the first INVITE, or when
the log says the call was DISCONNECTED with 408 (pjsua: `Call N is DISCONNECTED
[reason=408 …]`). An INVITE still unanswered when the input ends earlier is reported too, as
what it is: the input ends N s after it. Over UDP, in an input that covers Timer B, at least
one retransmission must be visible (a single copy means the input misses either the
retransmissions or the response). A copy that an excerpt cuts before its Call-ID or CSeq
still counts: its start line and Via branch name its transaction. When the sender's log is among the inputs, only responses
that reached it count: if the far end's log or a capture shows responses that never arrived,
the finding says so. An INVITE that the sender's log says it could not send (`Failed to send`,
`transport-error`) is not reported: it never left.

## Why it matters
The caller waits 32 s in silence and then the call fails with 408, which looks like a callee
problem although the request most likely never arrived. Each such call also holds a call slot
and a media port for 32 s.

## Severity
- **error** when the transaction timed out in the trace: the log says the call was
  DISCONNECTED with 408, or the input covers Timer B and the INVITE was retransmitted with no
  response (the caller's 408 follows).
- **warning** when it rests on less: a single INVITE over TCP/TLS with no response while the
  input covers Timer B (nothing but the absence of a response shows it; a one-way capture
  looks the same), or an INVITE retransmitted with no response in an input that ends before
  Timer B ran out (the retransmissions show the trouble; the failure is not yet in the trace).
- **info** when a single INVITE has no response and the input ends before Timer B: the
  transaction is simply still open; the finding says how long after the INVITE the input ends.

## Typical causes
- Wrong destination: a wrong host, port or transport in the target URI or the outbound proxy
  (e.g. UDP to a TCP-only server), a stale DNS record.
- Nothing listens there, or a firewall drops the INVITE (no ICMP error comes back, or it is
  ignored).
- The INVITE is too big for UDP and gets fragmented, and the fragments are dropped (big SDP
  with many codecs or ICE candidates: use TCP, or trim the SDP).
- The responses are sent elsewhere: a wrong `Via` sent-by (private address, no `rport`) makes
  the far end answer to an unreachable address.

## How to fix
Check that the target is reachable with the transport used (`sipsak`, `sipp -sn uac` or an
OPTIONS ping), look for the INVITE in a capture on the far side, and for ICMP errors. Use
`rport` (pjsip adds it by default) and a correct public address behind NAT. For large
INVITEs, use TCP (`;transport=tcp`) or reduce the offered codecs.

## Example
From `fixtures/rules/invite-timeout/caller.log` (a pjsua2 caller and a SIPp UAS that never
answers):
```
06:44:09.716  TX Request msg INVITE/cseq=8973 to UDP 127.0.0.1:5610
06:44:10.216  TX Request msg INVITE/cseq=8973   (retransmission, +0.5 s)
…             (+1.5, +3.5, +7.5, +15.5 s)
06:44:41.217  TX Request msg INVITE/cseq=8973   (7th copy, +31.5 s)
06:44:41.716  tsx0x…  Timeout timer event
06:44:41.716  inv0x…  State changed from CALLING to DISCONNECTED, event=TSX_STATE
```
PJSIP writes no line with "408": the local 408 is only in the application's `CallInfo`.

## References
- RFC 3261 §17.1.1.2 (INVITE client transaction, Timers A and B)
- RFC 3261 §8.1.3.1 (a transaction timeout is treated as a 408)
- RFC 3261 §18.2.2 and RFC 3581 (where responses are sent: Via sent-by, `rport`)
"#;

const HELP: &str = "check that the target (host, port, transport, outbound proxy) is reachable and \
                    that the INVITE arrives there; behind NAT make sure responses can come back \
                    (rport, a correct Via/Contact); for big INVITEs over UDP use TCP";

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for tsx in &ctx.model.transactions {
        let parsed: Vec<(usize, &SipMessage)> = tsx
            .messages
            .iter()
            .filter_map(|&w| Some((w, ctx.model.message(w).parsed()?)))
            .collect();
        let invites: Vec<usize> = parsed
            .iter()
            .filter(|(_, m)| m.method() == Some("INVITE"))
            .map(|&(w, _)| w)
            .collect();
        let Some(&first) = invites.first() else {
            continue;
        };
        // An ACK in the INVITE transaction acknowledges a final response: there was one.
        if parsed.iter().any(|(_, m)| m.method() == Some("ACK")) {
            continue;
        }
        let responses: Vec<usize> = parsed
            .iter()
            .filter(|(_, m)| m.status().is_some() && m.cseq().is_some_and(|c| c.method == "INVITE"))
            .map(|&(w, _)| w)
            .collect();
        // The sender's own log, if it is among the inputs.
        let sender_input = invites.iter().find_map(|&w| {
            ctx.model.messages[w]
                .sightings
                .iter()
                .find_map(|&e| match &ctx.model.events[e] {
                    Event::Message(m) if m.direction == Some(Direction::Tx) => Some(m.origin.input),
                    _ => None,
                })
        });
        let seen_by = |w: usize, input: usize| {
            ctx.model.messages[w]
                .sightings
                .iter()
                .any(|&e| ctx.model.events[e].origin().input == input)
        };
        let received: Vec<usize> = responses
            .iter()
            .copied()
            .filter(|&w| sender_input.is_none_or(|i| seen_by(w, i)))
            .collect();
        if !received.is_empty() {
            continue;
        }
        let msg = ctx.model.message(first);
        let Some(invite) = msg.parsed() else {
            continue;
        };
        let t0 = msg.ts;
        let owner = ctx.model.message_owner[first];
        if dialog_went_on(ctx, owner, invite, t0) || never_sent(ctx, owner, &invites) {
            continue;
        }
        let inputs: BTreeSet<usize> = match sender_input {
            Some(i) => BTreeSet::from([i]),
            None => invites.iter().flat_map(|&w| ctx.inputs_of(w)).collect(),
        };
        let end = ctx.seen_until(inputs).unwrap_or(t0);
        let timeout_log = match owner {
            Some(Owner::Call(ci)) => ctx.call_logs(ci).find(|(_, l)| {
                matches!(&l.kind, LogKind::CallState { state, reason: Some(r), .. }
                    if state.eq_ignore_ascii_case("DISCONNECTED") && r.trim_start().starts_with("408"))
                    && l.ts >= t0
                    && sender_input.is_none_or(|i| l.origin.input == i)
            }),
            _ => None,
        };
        let covered = t0.ms_until(end);
        let reliable = match msg.transport {
            Transport::Unknown => invite
                .top_via()
                .is_some_and(|v| !matches!(v.transport, Transport::Udp | Transport::Unknown)),
            t => t != Transport::Udp,
        };
        let open = timeout_log.is_none() && covered < COVERS_64T1_MS;
        // Over UDP a sender that gets no response retransmits: a single copy in an input that
        // covers Timer B means the input misses either the retransmissions or the response.
        if timeout_log.is_none() && !open && !reliable && invites.len() < 2 {
            continue;
        }
        let severity = if timeout_log.is_some() || (!open && invites.len() >= 2) {
            // The log says so, or every retransmission of Timer B went unanswered.
            Severity::Error
        } else if invites.len() >= 2 || !open {
            // Retransmitted and unanswered, but the input ends before Timer B; or a single
            // copy over a reliable transport, which rests on the absence of a response alone.
            Severity::Warning
        } else {
            // One copy, and the input ends before Timer B: nothing shows a failure.
            Severity::Info
        };
        let last = invites.last().copied().unwrap_or(first);
        let span = t0.ms_until(ctx.model.message(last).ts);
        let kind = if invite.to().is_some_and(|t| t.tag().is_some()) {
            "re-INVITE"
        } else {
            "INVITE"
        };
        // A copy cut before its CSeq (the end of an excerpt) has none to show.
        let seq = invite
            .cseq()
            .map(|c| format!(" (CSeq {})", c.seq))
            .unwrap_or_default();
        let target = invite.request_uri().unwrap_or("?");
        let dst = ctx.model.messages[first]
            .dst
            .as_deref()
            .map(|d| format!(" via {d}"))
            .unwrap_or_default();
        let copies = if invites.len() > 1 {
            let n = invites.len() - 1;
            format!(
                "sent {} times ({n} retransmission{} over {})",
                invites.len(),
                if n == 1 { "" } else { "s" },
                crate::rules::secs(span)
            )
        } else if reliable {
            format!("sent once over {}", msg.transport.as_str())
        } else {
            "sent once".to_string()
        };
        let mut message = if open {
            format!(
                "{kind}{seq} to {target}{dst} got no response in the input, which ends \
                 {} after it: {copies}; Timer B (64×T1 = 32 s) had not yet run out",
                crate::rules::secs(covered)
            )
        } else {
            format!(
                "{kind}{seq} to {target}{dst} got no response at all: {copies}, and \
                 Timer B (64×T1 = 32 s) ends such a transaction with a local 408 Request Timeout"
            )
        };
        match timeout_log {
            Some((_, l)) => message.push_str(&format!(
                "; {} logs `{}`",
                ctx.input_name(l.origin.input),
                l.text
            )),
            None if !open => message.push_str(&format!(
                " (the input covers {} after the first INVITE)",
                crate::rules::secs(covered)
            )),
            None => {}
        }
        if !responses.is_empty() {
            let elsewhere: BTreeSet<String> = responses
                .iter()
                .flat_map(|&w| ctx.model.messages[w].sightings.iter())
                .map(|&e| {
                    ctx.input_name(ctx.model.events[e].origin().input)
                        .to_string()
                })
                .collect();
            let codes: BTreeSet<String> = responses
                .iter()
                .filter_map(|&w| ctx.model.message(w).parsed()?.status())
                .map(|c| c.to_string())
                .collect();
            message.push_str(&format!(
                ". The far end did answer ({}; seen in {}) but none of it reached the caller: \
                 the responses went to the wrong address (Via sent-by, rport, NAT)",
                codes.into_iter().collect::<Vec<_>>().join(", "),
                elsewhere.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
        let mut f = Finding::new(&RULE, owner, message, HELP.to_string());
        f.severity = severity;
        let sent = ctx.sighting_in(first, sender_input);
        f = f.with_span(
            sent,
            ctx.start_line_of(sent),
            format!("{kind} sent, no response ever came"),
        );
        if last != first {
            f = f.with(
                ctx.sighting_in(last, sender_input),
                format!(
                    "copy {} of the {kind}, the last before Timer B",
                    invites.len()
                ),
            );
        }
        if let Some((e, l)) = timeout_log {
            f = f.with(e, l.text.clone());
        }
        out.push(f);
    }
}

/// Whether the sender's log says the INVITE could not be sent (`Failed to send Request msg
/// INVITE… (tdta…)` naming the handle of its TX dump): it never left, so no response could
/// come (`transport-error` reports it).
fn never_sent(ctx: &Context<'_>, owner: Option<Owner>, invites: &[usize]) -> bool {
    let Some(Owner::Call(ci)) = owner else {
        return false;
    };
    let handles: BTreeSet<(usize, &str)> = invites
        .iter()
        .flat_map(|&w| ctx.model.messages[w].sightings.iter())
        .filter_map(|&e| match &ctx.model.events[e] {
            Event::Message(m) if m.direction == Some(Direction::Tx) => {
                Some((m.origin.input, m.handle.as_deref()?))
            }
            _ => None,
        })
        .collect();
    ctx.call_logs(ci).any(|(_, l)| {
        matches!(l.kind, LogKind::SendFailure)
            && handles
                .iter()
                .any(|&(input, h)| input == l.origin.input && l.text.contains(h))
    })
}

/// Whether the sender of an initial INVITE went on in the dialog (an ACK or a later in-dialog
/// request of its own), which means responses were received but are missing from the inputs
/// (e.g. a capture of one direction only).
fn dialog_went_on(
    ctx: &Context<'_>,
    owner: Option<Owner>,
    invite: &SipMessage,
    t0: Timestamp,
) -> bool {
    let Some(Owner::Call(ci)) = owner else {
        return false;
    };
    if invite.to().is_some_and(|t| t.tag().is_some()) {
        return false;
    }
    let tag = invite.from_tag();
    let seq = invite.cseq().map(|c| c.seq);
    ctx.model.calls[ci].messages.iter().any(|&w| {
        let ev = ctx.model.message(w);
        ev.ts >= t0
            && ev.parsed().is_some_and(|m| {
                let s = m.cseq().map(|c| c.seq);
                m.is_request()
                    && m.from_tag() == tag
                    && m.to().is_some_and(|t| t.tag().is_some())
                    && ((m.method() == Some("ACK") && s == seq) || s > seq)
            })
    })
}
