//! SF025 `slow-call-setup`: the first 18x came long after the INVITE.

use crate::dialog::Owner;
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::SipMessage;

pub(super) const RULE: Rule = Rule {
    code: "SF025",
    name: "slow-call-setup",
    severity: Severity::Warning,
    scope: Scope::Call,
    judges_time: true,
    summary: "the first 18x came later than the slow-setup threshold after the INVITE",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A call whose first `18x` (`180 Ringing`, `183 Session Progress`) came more than
`thresholds.slow-setup-ms` (default 5000 ms) after the initial INVITE: the post-dial delay,
the time the caller hears silence. The finding tells where the time went: whether the INVITE
had to be retransmitted before anything came back (the request or its responses were lost,
or the far end was too slow to send even `100 Trying`), or whether `100 Trying` came at once
and the delay is further downstream.

## Why it matters
Users hang up on silence after a few seconds and try again; long post-dial delay is counted
as a failed call by users even when it finally rings. It is also an early sign of an
overloaded server or a routing/DNS problem that will soon cause timeouts.

## Severity
Always **warning**: the call did go on; the delay is the risk (users hang up on silence), and
the finding says where the time went (before or after the next hop's `100 Trying`). The
threshold is `thresholds.slow-setup-ms`.

## Typical causes
- Slow routing on the way: DNS (NAPTR/SRV/A) look-ups timing out, a proxy trying a dead
  next hop first, a PBX dial plan doing slow database or HTTP look-ups.
- The INVITE lost and retransmitted (0.5 s, 1.5 s, 3.5 s, 7.5 s …): packet loss, UDP
  fragments dropped for a big INVITE, or a far end that does not send `100 Trying` while it
  works.
- The callee's device is slow to alert (push notification wake-up of a mobile app: the server
  waits for the app to register before forwarding the INVITE).

## How to fix
Look at the hop that holds the call: if `100 Trying` came fast, capture at the next hop and
follow the INVITE; fix DNS (local cache, correct SRV records) and routing time-outs. If the
INVITE was retransmitted, fix the loss or make the far end answer `100 Trying` at once; use
TCP for big INVITEs. Send `180 Ringing` as soon as the callee is alerted.

## Example
From `fixtures/rules-call-extra/slow-setup/caller.log` (a SIPp UAS that sends `100 Trying` at once
and `180 Ringing` 6 s later):
```
06:54:00.577  TX Request msg INVITE/cseq=4672
06:54:00.577  RX Response msg 100/INVITE/cseq=4672
06:54:06.581  RX Response msg 180/INVITE/cseq=4672   ← 6.0 s after the INVITE
06:54:07.085  RX Response msg 200/INVITE/cseq=4672
```

## References
- RFC 3261 §8.2.6.1 and §16.2 (send 100 Trying quickly), §21.1 (1xx responses)
- ITU-T E.721 / RFC 6076 §4.1 (post-dial delay as a call setup metric)
"#;

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let threshold = ctx.settings.thresholds.slow_setup_ms;
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let Some(setup) = call.setup_ms.filter(|&s| s > threshold) else {
            continue;
        };
        let msgs = ctx.parsed(&call.messages);
        let Some(&(invite, t0, inv)) = msgs.iter().find(|(_, _, m)| {
            m.method() == Some("INVITE") && m.to().is_some_and(|t| t.tag().is_none())
        }) else {
            continue;
        };
        let seq = inv.cseq().map(|c| c.seq);
        let is_resp = |m: &SipMessage| {
            m.status().is_some()
                && m.cseq()
                    .is_some_and(|c| c.method == "INVITE" && Some(c.seq) == seq)
        };
        let Some(&(ringing, t18x, r18x)) = msgs
            .iter()
            .find(|(_, _, m)| is_resp(m) && m.status().is_some_and(|c| (180..=189).contains(&c)))
        else {
            continue;
        };
        let first_resp = msgs.iter().find(|(_, _, m)| is_resp(m));
        let copies = msgs
            .iter()
            .filter(|(_, t, m)| {
                m.method() == Some("INVITE")
                    && m.cseq().map(|c| c.seq) == seq
                    && first_resp.is_none_or(|(_, tr, _)| t <= tr)
            })
            .count();
        let label = |m: &SipMessage| {
            format!(
                "{} {}",
                m.status().unwrap_or(0),
                m.reason_phrase().unwrap_or("")
            )
            .trim_end()
            .to_string()
        };
        let whereabouts = match first_resp {
            Some(&(w, t, m)) if w != ringing => {
                let after = t0.ms_until(t);
                let rest = t.ms_until(t18x);
                let then = if rest < 100 {
                    format!("and the {} followed at once", label(r18x))
                } else {
                    format!(
                        "then the {} took another {}",
                        label(r18x),
                        crate::rules::secs(rest)
                    )
                };
                if copies > 1 {
                    format!(
                        "the INVITE was sent {copies} times before the first response ({}, after \
                         {}), {then}",
                        label(m),
                        crate::rules::secs(after),
                    )
                } else if after >= 1_000 {
                    format!(
                        "the first response ({}) came only after {}, {then}",
                        label(m),
                        crate::rules::secs(after)
                    )
                } else {
                    format!(
                        "{} came after {} ms, so the delay is beyond the next hop",
                        label(m),
                        after
                    )
                }
            }
            _ if copies > 1 => format!(
                "nothing came back before it: the INVITE was sent {copies} times (lost, or a far \
                 end that does not send 100 Trying while it works)"
            ),
            _ => "no 100 Trying came before it".to_string(),
        };
        let message = format!(
            "the first {} came {} after the INVITE (threshold {}): {whereabouts}",
            label(r18x),
            crate::rules::secs(setup),
            crate::rules::secs(threshold)
        );
        let mut f = Finding::new(
            &RULE,
            Some(Owner::Call(ci)),
            message,
            "follow the INVITE to the hop that holds it: fix slow DNS/routing look-ups \
             downstream, packet loss (the INVITE retransmissions), or a far end that does not \
             answer 100 Trying at once"
                .into(),
        )
        .with_span(
            ctx.model.messages[ringing].event,
            r18x.start_span(),
            format!(
                "{}, {} after the INVITE",
                label(r18x),
                crate::rules::secs(setup)
            ),
        )
        .with(ctx.model.messages[invite].event, "the INVITE");
        if let Some(&(w, _, m)) = first_resp.filter(|(w, _, _)| *w != ringing) {
            f = f.with_span(
                ctx.model.messages[w].event,
                m.start_span(),
                format!("{}: first response", label(m)),
            );
        }
        out.push(f);
    }
}
