//! SF004 `stuck-in-proceeding`: an INVITE that got a provisional response and then no final
//! one for too long.

use crate::event::Timestamp;
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::SipMessage;

pub(super) const RULE: Rule = Rule {
    code: "SF004",
    name: "stuck-in-proceeding",
    severity: Severity::Warning,
    scope: Scope::Transaction,
    judges_time: true,
    summary: "an INVITE got a provisional response but no final one for too long",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
An INVITE transaction that reached the *Proceeding* state (a `100 Trying`, `180 Ringing`,
`183 Session Progress` … was received) and then stayed there without a final response for
longer than `thresholds.stuck-proceeding-ms` (default 30 000 ms). The time is measured from the
first provisional response to the final response, to the caller's CANCEL, or to the end of the
input, whichever comes first. The finding says which provisional response was the last one
and what ended the wait. An INVITE still in Proceeding when the input ends, before the
threshold, is reported as info: the input ends N s after its first provisional response.

## Why it matters
Once a provisional response arrives, Timer B no longer runs: RFC 3261 leaves it to proxies
(Timer C, 3 minutes) and to the application to give up. A UAC such as pjsua waits for ever, so
a next hop that says `100 Trying` and then loses the call leaves the caller hanging with no
ringback and a call slot in use. A long ring without answer or voicemail is the same wait
seen from the user, but one that people, not the network, decide.

## Severity
The provisional responses tell whether the callee was reached:

- **error**: only `100 Trying` came, and then a final error response (`408`, `5xx`, …): nothing
  came back from beyond the next hop, and the call failed;
- **warning**: only `100 Trying` came, and the wait ended with the caller's CANCEL, a late
  answer, or the end of the input after the threshold: an anomaly, no failure in the trace;
- **info**: the callee rang (`18x`) and the wait ended any way (answered, cancelled, refused,
  or still ringing when the input ends): a long ring is people, not a fault; and any INVITE
  still in Proceeding when the input ends before the threshold.

## Typical causes
- Only `100 Trying`: the next hop (proxy, SBC, PBX) accepted the INVITE but nothing came
  from further downstream: the callee is unreachable and the proxy has no Timer C, a forking
  proxy waits on a dead branch, or the callee's responses are lost on the way back.
- `180`/`183` for a long time: the callee rings and nobody answers, and there is no
  no-answer timeout or voicemail forward on the way.
- A B2BUA that forwarded the INVITE and lost its other leg without cleaning up.

## How to fix
Give up on your side: start a no-answer timer in the application when the call reaches
EARLY/CALLING and hang up (CANCEL) when it fires (pjsua2: a `Timer` or your event loop calling
`Call::hangup()`; pjsua: `pjsua_call_hangup`). Configure a no-answer timeout / Timer C on the
proxy or PBX. If only `100 Trying` ever comes, follow the INVITE downstream: capture on the
next hop and look for the callee's responses.

## Example
From `fixtures/rules/stuck-in-proceeding/caller.log` (a SIPp UAS that rings for ever; the
pjsua2 caller gives up after 10 s; reported with `stuck-proceeding-ms = 5000`):
```
06:44:46.953  TX Request msg INVITE/cseq=16481
06:44:46.953  RX Response msg 100/INVITE/cseq=16481   ← Proceeding from here
06:44:46.954  RX Response msg 180/INVITE/cseq=16481
06:44:56.958  pjsua_call.c  Call 0 hanging up: code=0..
06:44:56.958  TX Request msg CANCEL/cseq=16481        ← 10.0 s later
06:44:56.960  RX Response msg 487/INVITE/cseq=16481
```

## References
- RFC 3261 §17.1.1.2 (INVITE client transaction: Proceeding has no timer on the UAC)
- RFC 3261 §16.6 step 11 and §16.7 (Timer C on proxies)
- RFC 3261 §9.1 (CANCEL)
"#;

/// How the wait in Proceeding ended.
enum End {
    Final(usize, u16),
    Cancel(usize),
    Input,
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let threshold = ctx.settings.thresholds.stuck_proceeding_ms;
    for tsx in &ctx.model.transactions {
        let parsed = ctx.parsed(&tsx.messages);
        let is_invite_resp =
            |m: &SipMessage| m.status().is_some() && m.cseq().is_some_and(|c| c.method == "INVITE");
        let Some(&(prov, t_prov, prov_msg)) = parsed.iter().find(|(_, _, m)| {
            is_invite_resp(m) && m.status().is_some_and(|c| (100..200).contains(&c))
        }) else {
            continue;
        };
        let final_resp = parsed
            .iter()
            .find(|(_, _, m)| is_invite_resp(m) && m.status().is_some_and(|c| c >= 200));
        let cancel = parsed.iter().find(|(_, _, m)| m.method() == Some("CANCEL"));
        let (end, t_end) = match (final_resp, cancel) {
            (Some(&(w, t, m)), Some(&(c, tc, _))) => {
                if tc < t {
                    (End::Cancel(c), tc)
                } else {
                    (End::Final(w, m.status().unwrap_or(0)), t)
                }
            }
            (Some(&(w, t, m)), None) => (End::Final(w, m.status().unwrap_or(0)), t),
            (None, Some(&(c, tc, _))) => (End::Cancel(c), tc),
            (None, None) => {
                let end = ctx.seen_until(ctx.inputs_of(prov)).unwrap_or(t_prov);
                (End::Input, end)
            }
        };
        let stuck = t_prov.ms_until(t_end);
        // Still in Proceeding when the input ends, before the threshold: not stuck, only open.
        let open = matches!(end, End::Input) && stuck <= threshold;
        if stuck <= threshold && !open {
            continue;
        }
        // The last provisional response before the end.
        let provisionals: Vec<&(usize, Timestamp, &SipMessage)> = parsed
            .iter()
            .filter(|(w, t, m)| {
                is_invite_resp(m)
                    && m.status().is_some_and(|c| (100..200).contains(&c))
                    && *t <= t_end
                    && !ctx.model.messages[*w].retransmission
            })
            .collect();
        let last = provisionals
            .last()
            .map(|&&(w, _, m)| (w, m))
            .unwrap_or((prov, prov_msg));
        let label = |m: &SipMessage| {
            format!(
                "{} {}",
                m.status().unwrap_or(0),
                m.reason_phrase().unwrap_or("")
            )
            .trim_end()
            .to_string()
        };
        let ringing = provisionals
            .iter()
            .any(|(_, _, m)| m.status().is_some_and(|c| c >= 180));
        let invite = parsed.iter().find(|(_, _, m)| m.method() == Some("INVITE"));
        let seq = prov_msg
            .cseq()
            .map(|c| c.seq.to_string())
            .unwrap_or_default();
        let kind = if invite.is_some_and(|(_, _, m)| m.to().is_some_and(|t| t.tag().is_some())) {
            "re-INVITE"
        } else {
            "INVITE"
        };
        let state = if ringing {
            format!(
                "the far end was in early state ({}) and nobody answered",
                label(last.1)
            )
        } else {
            format!(
                "only {} came: the next hop took the INVITE but nothing came from further on",
                label(prov_msg)
            )
        };
        let severity = match end {
            // The callee was reached and rang: a long ring is people, not a fault.
            _ if ringing || open => Severity::Info,
            // Nothing came from beyond the next hop, and the call failed.
            End::Final(_, code) if code >= 300 => Severity::Error,
            _ => Severity::Warning,
        };
        let ended = match end {
            End::Final(_, code) if (200..300).contains(&code) => format!(
                "until it was answered ({code}) {}",
                crate::rules::secs(stuck)
            ),
            End::Final(_, code) => format!(
                "until the final {code} {} after the first provisional response",
                crate::rules::secs(stuck)
            ),
            End::Cancel(_) => format!(
                "for {} until the caller gave up with CANCEL",
                crate::rules::secs(stuck)
            ),
            End::Input => format!(
                "for {}, to the end of the input, with no final response",
                crate::rules::secs(stuck)
            ),
        };
        let message = if open {
            format!(
                "{kind} (CSeq {seq}) had no final response yet when the input ends, {} after \
                 the first provisional response (the last: {}): the call was still being set up",
                crate::rules::secs(stuck),
                label(last.1)
            )
        } else {
            format!(
                "{kind} (CSeq {seq}) stayed in Proceeding {ended} (threshold {}): {state}",
                crate::rules::secs(threshold)
            )
        };
        let help = if ringing {
            "set a no-answer timeout in the application (hang up / CANCEL when it fires) or a \
             no-answer forward on the PBX; if the callee should have answered, look at its side"
        } else {
            "follow the INVITE past the hop that sent 100 Trying: the callee's responses never \
             came back; configure Timer C / a no-answer timeout on the proxy and a give-up \
             timer in the application"
        };
        // Responses: their status lines.
        let status = |w: usize| ctx.start_line_of(ctx.model.messages[w].event);
        let mut f = Finding::new(&RULE, ctx.model.message_owner[prov], message, help.into())
            .with_span(
                ctx.model.messages[prov].event,
                status(prov),
                format!("{}: Proceeding starts", label(prov_msg)),
            );
        f.severity = severity;
        if last.0 != prov {
            f = f.with_span(
                ctx.model.messages[last.0].event,
                status(last.0),
                format!("{}: the last provisional response", label(last.1)),
            );
        }
        match end {
            End::Final(w, code) => {
                f = f.with_span(
                    ctx.model.messages[w].event,
                    status(w),
                    format!("the final {code}, {} later", crate::rules::secs(stuck)),
                );
            }
            End::Cancel(w) => {
                f = f.with(
                    ctx.model.messages[w].event,
                    format!("CANCEL, {} later", crate::rules::secs(stuck)),
                );
            }
            End::Input => {}
        }
        out.push(f);
    }
}
