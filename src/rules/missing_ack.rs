//! SF002 `missing-ack`: a 2xx to an INVITE that was never ACKed.

use std::collections::BTreeSet;

use super::timers::{T1_MS, T2_MS, TIMER_64T1_MS};
use crate::dialog::{Call, Owner};
use crate::event::{Direction, Event, LogEvent, LogKind, Timestamp};
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::SipMessage;

pub(super) const RULE: Rule = Rule {
    code: "SF002",
    name: "missing-ack",
    severity: Severity::Error,
    scope: Scope::Transaction,
    judges_time: true,
    summary: "a 2xx to an INVITE was never ACKed",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A 2xx response to an INVITE (or re-INVITE) for which no ACK was ever seen. The answering side
(UAS) retransmits the 2xx with Timer G (0.5 s, 1 s, 2 s, then every 4 s) and, after 64×T1 =
32 s without an ACK, gives up and ends the call with a BYE; PJSIP adds
`Reason: SIP ;cause=408 ;text="Request Timeout"` to that BYE. The rule reports a 2xx with no
ACK when the answerer gave up, or kept retransmitting the 2xx, or the other side sent BYE
without an ACK before it, or the input ends before the ACK was due; and a 2xx whose ACK *was*
sent but never reached the answerer (it kept retransmitting its 2xx and finally hung up with
cause 408: the ACK went to the wrong address). `## Severity` says how sure each case is.

pjsip logs each retransmission (`Retransmiting Response msg 200/INVITE/cseq=N (tdta…),
count=C`; `Retransmitting` in later versions, `count` from 0). The rule reads those lines too:
they show the 2xx resent when its dumps are cut or outside an excerpt (one that starts inside
the 2xx dump and ends at its next retransmission), and their count tells how long the answerer
has been waiting (Timer G: 0.5 s, 1 s, 2 s, then every 4 s after the first send).

A 2xx that was never retransmitted, in an input that goes on after it with no BYE from the
answerer, is not reported: nothing shows the answerer was waiting, and the ACK may just be
missing from a partial capture. When the answerer's own log is among the inputs and shows the
ACK arriving, nothing is reported either.

## Why it matters
The call looks connected to the caller (it got the 200) but the callee never sees it
confirmed: after 32 s the callee hangs up. Users report "calls drop after 30 seconds", always
at the same moment. Until then the callee keeps retransmitting the 200.

## Severity
- **error** when the failure is in the trace: the answerer retransmitted the 2xx and the input
  covers the 64×T1 = 32 s it waits, it gave up and sent BYE (after 32 s, or with a timeout
  Reason after resending the 2xx), or an ACK was sent but the answerer's own log or
  retransmissions show it never arrived. The time covered counts from the first send, which
  pjsip's retransmission count dates when the input starts later (`count=9` is 31.5 s after
  it);
- **warning** when the 2xx was retransmitted but the input ends before the 32 s are over (the
  answerer is visibly waiting; the drop is not yet in the trace), or when the other side sent
  BYE in the dialog with no ACK before it (the ACK would have gone the same way);
- **info** when the input simply ends before the ACK was due (a 2xx with no retransmission,
  the last message of the call): the finding says how long after the 2xx the input ends.

A 2xx sent once with no ACK in an input that goes on is not reported: without retransmissions
nothing shows the answerer waited (the ACK may just be outside the input).

## Typical causes
- The ACK is sent to the wrong place: the 200's `Contact` (the remote target) holds a private
  or unreachable address (NAT, a wrong `contactForced`/public address setting), or the
  `Record-Route` set is broken, so the ACK goes somewhere else.
- A SIP ALG or SBC rewrites the Contact or drops the ACK; a firewall lets the INVITE in but
  not the ACK (it has its own branch and is a new "connection" for a stateful filter).
- The caller never processes the 200 (application or test script bug: a SIPp scenario
  without `<send>` ACK, an application that blocks the SIP thread).
- The 200 reaches the caller over a different transport/port than expected and is dropped.

## How to fix
Compare the ACK's destination with the 200's `Contact` and `Record-Route`: they must agree.
Behind NAT enable `rport` and let pjsip learn its public address
(`AccountConfig.natConfig.contactRewriteUse`, `viaRewriteUse`, or a STUN server), or set the
right public address on the transport. Disable SIP ALGs on routers. If you capture at the
callee, check whether ACKs arrive at all; if you capture at the caller, check where they go.

## Example
From `fixtures/rules/missing-ack/callee.log` (a SIPp UAC that never ACKs a pjsua2 callee):
```
06:43:33.981  RX Request msg INVITE/cseq=1
06:43:33.982  TX Response msg 200/INVITE/cseq=1
06:43:34.482  TX Response msg 200/INVITE/cseq=1   (retransmission, +0.5 s)
06:43:35.482  TX Response msg 200/INVITE/cseq=1   (retransmission, +1.5 s)
…             (+3.5 s, +7.5 s, then every 4 s)
06:44:05.486  TX Response msg 200/INVITE/cseq=1   (10th retransmission, +31.5 s)
06:44:05.983  TX Request msg BYE/cseq=25511
              Reason: SIP ;cause=408 ;text="Request Timeout"
```
No ACK ever arrives; the call never reaches CONFIRMED.

## References
- RFC 3261 §13.3.1.4 (the UAS retransmits the 2xx until the ACK; BYE after 64×T1)
- RFC 3261 §17.1.1.3 and §13.2.2.4 (the UAC sends the ACK for a 2xx to the remote target)
- RFC 3261 §12.1.2 (remote target and route set from the 2xx)
- pjsip `sip_inv.c` (2xx retransmission and the ACK timeout in the invite session)
"#;

const HELP: &str = "make sure the caller sends the ACK for a 2xx to the 200's Contact (through its \
                    Record-Route set) and that it arrives: check NAT/rport and Contact rewriting, \
                    SIP ALGs and firewalls on the path, and the caller's ACK handling";

/// One parsed wire message of a call.
struct Seen<'a> {
    wire: usize,
    ts: Timestamp,
    msg: &'a SipMessage,
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let msgs: Vec<Seen<'_>> = call
            .messages
            .iter()
            .filter_map(|&wire| {
                let ev = ctx.model.message(wire);
                Some(Seen {
                    wire,
                    ts: ev.ts,
                    msg: ev.parsed()?,
                })
            })
            .collect();
        let lines = retransmissions(ctx, call);
        let mut done: BTreeSet<(u32, Option<&str>)> = BTreeSet::new();
        for (i, s) in msgs.iter().enumerate() {
            let Some(code) = s.msg.status().filter(|c| (200..300).contains(c)) else {
                continue;
            };
            let Some(cseq) = s.msg.cseq().filter(|c| c.method == "INVITE") else {
                continue;
            };
            let tag = s.msg.to_tag();
            if !done.insert((cseq.seq, tag)) {
                continue;
            }
            let answer = Answer {
                index: i,
                code,
                seq: cseq.seq,
                tag,
            };
            if let Some(f) = judge(ctx, ci, call, &msgs, &answer, &lines) {
                out.push(f);
            }
        }
        // 2xx retransmissions that only the log's lines show (the dumps of the 2xx are cut or
        // outside the input).
        if lines.is_empty() {
            continue;
        }
        let judged: BTreeSet<u32> = done.iter().map(|(seq, _)| *seq).collect();
        let mut seqs: Vec<(u32, u16)> = lines
            .iter()
            .map(|l| (l.seq, l.code))
            .filter(|(seq, _)| !judged.contains(seq))
            .collect();
        seqs.sort_unstable();
        seqs.dedup_by_key(|(seq, _)| *seq);
        for (seq, code) in seqs {
            if let Some(f) = judge_lines(ctx, ci, &msgs, seq, code, &lines) {
                out.push(f);
            }
        }
    }
}

/// pjsip's `Retransmiting Response msg 2xx/INVITE/cseq=N (tdta…), count=C` line, bound to a
/// call.
struct Resent {
    event: usize,
    ts: Timestamp,
    code: u16,
    seq: u32,
    /// pjsip's count: 0 for the first retransmission.
    count: u32,
}

impl Resent {
    /// When the 2xx was first sent, at the latest: Timer G doubles from T1 up to T2 (4 s) after
    /// each send, and this is retransmission `count + 1`.
    fn first_sent(&self) -> Timestamp {
        let waited: i64 = (0..=self.count.min(64))
            .map(|i| (T1_MS << i.min(3)).min(T2_MS))
            .sum();
        Timestamp {
            micros: self.ts.micros - waited * 1000,
            ..self.ts
        }
    }
}

/// The call's lines that show a 2xx to an INVITE retransmitted.
fn retransmissions(ctx: &Context<'_>, call: &Call) -> Vec<Resent> {
    call.log_events
        .iter()
        .filter_map(|&e| match &ctx.model.events[e] {
            Event::Log(LogEvent {
                ts,
                kind:
                    LogKind::Retransmit {
                        request: false,
                        method,
                        status: Some(code @ 200..=299),
                        cseq,
                        count,
                    },
                ..
            }) if method == "INVITE" => Some(Resent {
                event: e,
                ts: *ts,
                code: *code,
                seq: *cseq,
                count: *count,
            }),
            _ => None,
        })
        .collect()
}

/// A 2xx whose retransmissions only the log lines show: no ACK for it in the call means the
/// answerer is waiting; an error once the input covers 64×T1 since it was first sent.
fn judge_lines(
    ctx: &Context<'_>,
    ci: usize,
    msgs: &[Seen<'_>],
    seq: u32,
    code: u16,
    lines: &[Resent],
) -> Option<Finding> {
    let acked = msgs
        .iter()
        .any(|s| s.msg.method() == Some("ACK") && s.msg.cseq().is_some_and(|c| c.seq == seq));
    let mine: Vec<&Resent> = lines
        .iter()
        .filter(|l| l.seq == seq && l.code == code)
        .collect();
    let last = *mine.iter().max_by_key(|l| (l.count, l.ts))?;
    if acked {
        return None;
    }
    let first = mine.iter().map(|l| l.first_sent()).min()?;
    let input = ctx.model.events[last.event].origin().input;
    let covered = first.ms_until(ctx.seen_until([input]).unwrap_or(last.ts));
    let resent = last.count + 1;
    let what = format!("{code} to the INVITE (CSeq {seq})");
    let (severity, message) = if covered >= TIMER_64T1_MS - T1_MS {
        (
            Severity::Error,
            format!(
                "{what} was never ACKed: pjsip retransmitted it {resent} times (Timer G), and no \
                 ACK came in the {} the input covers since it was first sent (a UAS gives up \
                 after 64×T1 = 32 s)",
                crate::rules::secs(covered)
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "{what} was not ACKed in the {} the input covers since it was first sent: pjsip \
                 retransmitted it {resent} times (Timer G), still waiting for the ACK; a UAS \
                 gives up after 32 s",
                crate::rules::secs(covered)
            ),
        )
    };
    let mut f = Finding::new(&RULE, Some(Owner::Call(ci)), message, HELP.to_string()).with(
        last.event,
        format!("retransmission {resent} of the {code}, still no ACK"),
    );
    f.severity = severity;
    Some(f)
}

struct Answer<'a> {
    /// Index in the call's parsed messages of the first copy of the 2xx.
    index: usize,
    code: u16,
    seq: u32,
    /// The answerer's tag (the To tag of the 2xx).
    tag: Option<&'a str>,
}

fn judge(
    ctx: &Context<'_>,
    ci: usize,
    call: &Call,
    msgs: &[Seen<'_>],
    a: &Answer<'_>,
    lines: &[Resent],
) -> Option<Finding> {
    let first = &msgs[a.index];
    // When the 2xx was first sent: its first copy in the input, or earlier when the log's
    // retransmission counts show it (an excerpt that starts after the answer).
    let t0 = lines
        .iter()
        .filter(|l| l.seq == a.seq && l.code == a.code)
        .map(Resent::first_sent)
        .fold(first.ts, Timestamp::min);
    let same_answer = |m: &SipMessage| {
        m.status() == Some(a.code)
            && m.cseq()
                .is_some_and(|c| c.seq == a.seq && c.method == "INVITE")
            && m.to_tag() == a.tag
    };
    let sends: Vec<&Seen<'_>> = msgs[a.index..]
        .iter()
        .filter(|s| same_answer(s.msg))
        .collect();
    // The To tags of other 2xx to the same INVITE (forking): an ACK carrying one of them
    // acknowledges that other answer, not this one.
    let other_tags: BTreeSet<Option<&str>> = msgs
        .iter()
        .filter(|s| {
            s.msg.status().is_some_and(|c| (200..300).contains(&c))
                && s.msg
                    .cseq()
                    .is_some_and(|c| c.seq == a.seq && c.method == "INVITE")
        })
        .map(|s| s.msg.to_tag())
        .filter(|t| *t != a.tag)
        .collect();
    let acks: Vec<&Seen<'_>> = msgs
        .iter()
        .filter(|s| {
            s.msg.method() == Some("ACK")
                && s.msg.cseq().is_some_and(|c| c.seq == a.seq)
                && (a.tag.is_none()
                    || s.msg.to_tag() == a.tag
                    || !other_tags.contains(&s.msg.to_tag()))
        })
        .collect();
    let bye = msgs[a.index..]
        .iter()
        .find(|s| s.msg.method() == Some("BYE") && a.tag.is_some() && s.msg.from_tag() == a.tag);
    let bye_reason = bye.and_then(|b| {
        b.msg
            .reasons()
            .into_iter()
            .find(|r| r.protocol.eq_ignore_ascii_case("SIP"))
    });
    let reason_timeout = bye_reason.as_ref().is_some_and(|r| {
        r.cause == Some(408)
            || r.text
                .as_deref()
                .is_some_and(|t| t.to_ascii_lowercase().contains("ack"))
    });
    let bye_late = bye.is_some_and(|b| t0.ms_until(b.ts) >= TIMER_64T1_MS - T1_MS);
    // The other side's BYE in this dialog.
    let other_bye = msgs[a.index..].iter().find(|s| {
        s.msg.method() == Some("BYE")
            && a.tag.is_some()
            && s.msg.from_tag() != a.tag
            && s.msg.to_tag() == a.tag
    });
    // The log's retransmission lines of this 2xx (its dumps may be cut or missing).
    let resent_lines = lines
        .iter()
        .filter(|l| l.seq == a.seq && l.code == a.code)
        .map(|l| l.count + 1)
        .max()
        .unwrap_or(0) as usize;
    let resent = msgs[a.index + 1..].iter().any(|s| same_answer(s.msg)) || resent_lines > 0;
    // The answerer ended the call for want of an ACK: a BYE when its 2xx timer ran out (64×T1;
    // over TCP pjsip does not resend the 2xx but still times out), or a timeout BYE after it
    // had to resend the 2xx.
    let gave_up = bye.is_some() && (bye_late || (reason_timeout && resent));

    // An ACK was sent and no BYE for want of it followed: nothing to report (see below), and
    // no text to build.
    if !acks.is_empty() && !reason_timeout {
        return None;
    }

    // Who answered, and what was answered.
    let answerer = if a.tag.is_some() && a.tag == call.caller_tag.as_deref() {
        "the caller"
    } else {
        "the callee"
    };
    let reinvite = msgs.iter().any(|s| {
        s.msg.method() == Some("INVITE")
            && s.msg.cseq().is_some_and(|c| c.seq == a.seq)
            && s.msg.to_tag().is_some()
    });
    let what = format!(
        "{} {} to the {} (CSeq {})",
        a.code,
        first.msg.reason_phrase().unwrap_or(""),
        if reinvite { "re-INVITE" } else { "INVITE" },
        a.seq
    );
    let seen_until = ctx.seen_until(ctx.inputs_of(first.wire)).unwrap_or(t0);
    let covered = t0.ms_until(seen_until);
    let last = sends.last().copied().unwrap_or(first);
    let span = t0.ms_until(last.ts);
    let retrans = sends.len().saturating_sub(1).max(resent_lines);
    let sent = if retrans > 0 {
        format!(
            "{answerer} sent it {} times over {} (Timer G)",
            sends.len(),
            crate::rules::secs(span)
        )
    } else {
        format!("{answerer} sent it once")
    };
    let bye_text = |b: &Seen<'_>| {
        let reason = b
            .msg
            .first(crate::sip::HeaderName::Reason)
            .map(|r| format!(" with Reason: {r}"))
            .unwrap_or_default();
        format!(
            "it gave up and sent BYE {} after the answer{reason}",
            crate::rules::secs(t0.ms_until(b.ts))
        )
    };

    let mut severity = Severity::Error;
    let message = if acks.is_empty() {
        if gave_up {
            format!(
                "{what} was never ACKed: {sent}, then {}",
                bye.map(bye_text).unwrap_or_default()
            )
        } else if let Some(b) = other_bye.filter(|_| retrans < 2) {
            // The other side went on in the dialog without an ACK: its BYE is in the input,
            // so its ACK would be too.
            severity = Severity::Warning;
            format!(
                "{what} was never ACKed: {sent}, and the other side sent BYE {} after it with no \
                 ACK before",
                crate::rules::secs(t0.ms_until(b.ts))
            )
        } else if retrans < 2 {
            // Without retransmissions of the 2xx (Timer G) nothing shows the answerer was
            // still waiting: the ACK may just be missing from the input. Say so only when the
            // input ends before the ACK was due and nothing of the call follows.
            let last_of_call = msgs.last().is_some_and(|m| m.wire == last.wire);
            if covered >= TIMER_64T1_MS - T1_MS || !last_of_call {
                return None;
            }
            severity = Severity::Info;
            format!(
                "{what} has no ACK in the input, which ends {} after it: {sent}; a UAS waits \
                 64×T1 = 32 s for the ACK",
                crate::rules::secs(covered)
            )
        } else if covered >= TIMER_64T1_MS - T1_MS {
            format!(
                "{what} was never ACKed: {sent}, and no ACK came in the {} the input covers \
                 after it (a UAS gives up after 64×T1 = 32 s)",
                crate::rules::secs(covered)
            )
        } else {
            severity = Severity::Warning;
            format!(
                "{what} was not ACKed in the {} the input covers after it: {sent}; a UAS \
                 gives up after 32 s",
                crate::rules::secs(covered)
            )
        }
    } else {
        // An ACK was sent: report only when the answerer shows it never got it.
        let uas_inputs: BTreeSet<usize> = sends
            .iter()
            .flat_map(|s| ctx.model.messages[s.wire].sightings.iter().copied())
            .filter_map(|e| match &ctx.model.events[e] {
                Event::Message(m) if m.direction == Some(Direction::Tx) => Some(m.origin.input),
                _ => None,
            })
            .collect();
        let received = acks.iter().any(|s| {
            ctx.model.messages[s.wire]
                .sightings
                .iter()
                .any(|&e| uas_inputs.contains(&ctx.model.events[e].origin().input))
        });
        let first_ack = acks[0];
        let after_ack = sends
            .iter()
            .filter(|s| first_ack.ts.ms_until(s.ts) > T1_MS / 2)
            .count();
        if received || !(reason_timeout && after_ack >= 2) {
            return None;
        }
        let to = ctx.model.messages[first_ack.wire]
            .dst
            .as_deref()
            .map(|d| format!(" to {d}"))
            .unwrap_or_default();
        let target = first
            .msg
            .contacts()
            .into_iter()
            .find_map(|c| match c {
                crate::sip::Contact::Addr { addr, .. } => Some(addr.uri_text),
                crate::sip::Contact::Star => None,
            })
            .map(|c| format!(" (the {}'s Contact is {c})", a.code))
            .unwrap_or_default();
        format!(
            "{what}: an ACK was sent{to}{target} but never reached {answerer}: it retransmitted \
             the 2xx {after_ack} more times after the ACK, then {}",
            bye.map(bye_text).unwrap_or_default()
        )
    };
    // Point into the answerer's own log when it is among the inputs.
    let side = ctx.model.messages[first.wire]
        .sightings
        .iter()
        .find_map(|&e| match &ctx.model.events[e] {
            Event::Message(m) if m.direction == Some(Direction::Tx) => Some(m.origin.input),
            _ => None,
        });
    // The 2xx: its Contact when an ACK was sent but got lost (the ACK goes there), else its
    // status line.
    let answer = ctx.sighting_in(first.wire, side);
    let answer_span = ctx.span_in(answer, |m| {
        acks.first()
            .and_then(|_| m.header_span(crate::sip::HeaderName::Contact))
            .or_else(|| Some(m.start_span()))
    });
    let mut f = Finding::new(&RULE, Some(Owner::Call(ci)), message, HELP.to_string()).with_span(
        answer,
        answer_span,
        format!("{what}, never acknowledged"),
    );
    f.severity = severity;
    if retrans > 0 {
        f = f.with(
            ctx.sighting_in(last.wire, side),
            format!("retransmission {retrans} of the 2xx, still no ACK"),
        );
    }
    if let Some(ack) = acks.first() {
        // Its Request-URI: where it was sent.
        let e = ctx.model.messages[ack.wire].event;
        f = f.with_span(
            e,
            ctx.start_line_of(e),
            "the ACK, which the answerer never got",
        );
    }
    if let Some(b) = bye.filter(|_| gave_up) {
        let e = ctx.sighting_in(b.wire, side);
        f = f.with_span(
            e,
            ctx.header_of(e, crate::sip::HeaderName::Reason),
            format!("{answerer} gives up and hangs up"),
        );
    }
    Some(f)
}
