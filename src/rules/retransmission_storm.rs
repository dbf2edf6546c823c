//! SF014 `retransmission-storm`: one request or response retransmitted more often than the
//! threshold.

use std::collections::BTreeMap;

use crate::dialog::Owner;
use crate::event::Timestamp;
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::SipMessage;

pub(super) const RULE: Rule = Rule {
    code: "SF014",
    name: "retransmission-storm",
    severity: Severity::Warning,
    scope: Scope::Transaction,
    judges_time: true,
    summary: "a request or response was retransmitted more often than the threshold",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A transaction in which one message (a request, or one response) was sent more than
`thresholds.retransmissions` extra times (default 6) between the same two addresses. Copies
of one message seen on two hops of a capture are not counted, only repeats on the same path.
The finding explains what the repetition means:

- a **request** repeated with no response: the far end does not get it, or its responses do
  not come back (Timer A/E retransmissions until Timer B/F, 32 s);
- a **request** repeated although responses exist: they came late, or did not reach the
  sender;
- a **2xx to an INVITE** repeated: the ACK does not arrive (see `missing-ack`);
- another **final response to an INVITE** repeated: the ACK for it does not arrive;
- a **response to a non-INVITE** request repeated: it answers the request's own
  retransmissions, so the responses are lost on the way back.

## Why it matters
Retransmissions mean loss or a peer that is not listening. They delay call setup by seconds,
end in timeouts (408, dropped calls after 32 s), and multiply the load on proxies during an
outage.

## Severity
Always **warning**: the retransmissions show loss or a deaf peer. When the transaction then
fails (a timeout, a dropped call), the rule about that failure (`invite-timeout`,
`registration-failed`, `missing-ack`) reports it as the error; the storm is how it looked on
the wire.

## Typical causes
- Nothing listens at the destination, a firewall drops the traffic, or the wrong transport
  or port is used (a REGISTER to a dead registrar, an INVITE to a wrong port).
- Responses sent to the wrong place: a private address in `Via` without `rport`, a NAT
  binding that expired, asymmetric routing.
- The ACK goes somewhere else (the 2xx's Contact/Record-Route are wrong or private).
- A very slow far end that answers after several retransmissions (an overloaded server, a
  B2BUA waiting on its other leg before sending even `100 Trying`).
- Big UDP messages fragmented and the fragments dropped.

## How to fix
Find which direction loses messages: capture on both sides. Check addresses, ports and
transports (the Request-URI, `Via` sent-by with `rport`, `Contact`, `Record-Route`). Make
servers answer `100 Trying` at once for INVITEs. Use TCP for big messages. Raise
`thresholds.retransmissions` if your network is known to be lossy and this is expected.

## Example
From `fixtures/rules/retransmission-storm/register-no-listener/ua.log` (a pjsua2 UA
registering at an address where nothing listens):
```
06:48:34.781  TX Request msg REGISTER/cseq=48808 to UDP 127.0.0.1:5740
06:48:35.281  tsx0x…  Retransmiting Request msg REGISTER/cseq=48808 (tdta0x…), count=0, restart?=1
06:48:36.280  tsx0x…  Retransmiting … count=1   (+1.5 s; then +3.5, +7.5 s and every 4 s)
…             (10 retransmissions, 11 copies)
06:49:06.783  pjsua_acc.c  ...SIP registration failed, status=408 (Request Timeout)
```

## References
- RFC 3261 §17.1.1.2 (INVITE client: Timer A/B), §17.1.2.2 (non-INVITE client: Timer E/F)
- RFC 3261 §17.2.1 (INVITE server: Timer G/H, retransmitted final responses)
- RFC 3261 §13.3.1.4 (2xx retransmission until the ACK)
- RFC 3261 §18.2.2, RFC 3581 (where responses are sent)
"#;

/// What a message is within its transaction, for counting repeats.
fn what(m: &SipMessage) -> Option<String> {
    let cseq = m.cseq()?;
    Some(match (m.method(), m.status()) {
        (Some(method), _) => format!("{method} (CSeq {})", cseq.seq),
        (None, Some(code)) => format!(
            "{code} {} to {} (CSeq {})",
            m.reason_phrase().unwrap_or(""),
            cseq.method,
            cseq.seq
        )
        .replace("  ", " "),
        _ => return None,
    })
}

/// A group of copies: (what, To tag of a response, source, destination).
type GroupKey<'a> = (String, Option<&'a str>, Option<&'a str>, Option<&'a str>);

struct Group {
    /// Wire messages, in order.
    wires: Vec<usize>,
    request: bool,
    method: String,
    status: Option<u16>,
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let limit = ctx.settings.thresholds.retransmissions;
    for tsx in &ctx.model.transactions {
        // No group of copies can be larger than the transaction (the common case: nothing to
        // count).
        if tsx.messages.len() <= limit as usize + 1 {
            continue;
        }
        // (what, to tag, src, dst) → copies
        let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
        for &w in &tsx.messages {
            let Some(m) = ctx.model.message(w).parsed() else {
                continue;
            };
            let Some(label) = what(m) else { continue };
            let wire = &ctx.model.messages[w];
            let tag = m.status().and_then(|_| m.to_tag());
            let g = groups
                .entry((label, tag, wire.src.as_deref(), wire.dst.as_deref()))
                .or_insert_with(|| Group {
                    wires: Vec::new(),
                    request: m.is_request(),
                    method: m.method_or_cseq_method().unwrap_or_default(),
                    status: m.status(),
                });
            g.wires.push(w);
        }
        let mut over: Vec<(&GroupKey, &Group)> = groups
            .iter()
            .filter(|(_, g)| g.wires.len().saturating_sub(1) > limit as usize)
            .collect();
        if over.is_empty() {
            continue;
        }
        // The worst first; ties by first appearance.
        over.sort_by_key(|(_, g)| (std::cmp::Reverse(g.wires.len()), g.wires[0]));
        let (key, g) = over[0];
        let first = g.wires[0];
        let last = g.wires[g.wires.len() - 1];
        let t0 = ctx.model.message(first).ts;
        let span = t0.ms_until(ctx.model.message(last).ts);
        let repeats = g.wires.len() - 1;
        let path = match (&key.2, &key.3) {
            (Some(s), Some(d)) => format!(" from {s} to {d}"),
            (None, Some(d)) => format!(" to {d}"),
            (Some(s), None) => format!(" from {s}"),
            (None, None) => String::new(),
        };
        let meaning = explain(ctx, &tsx.messages, g, t0);
        let mut message = format!(
            "{}{path} was sent {} times ({repeats} retransmissions over {}, threshold {limit}): \
             {meaning}",
            key.0,
            g.wires.len(),
            crate::rules::secs(span)
        );
        for (k, other) in over.iter().skip(1) {
            message.push_str(&format!("; also {} sent {} times", k.0, other.wires.len()));
        }
        let help = if g.request {
            "find where the request or its responses get lost: check the destination address, \
             port and transport, firewalls, and that responses can come back (Via sent-by with \
             rport, NAT bindings); make servers answer 100 Trying at once"
        } else if g.method == "INVITE" {
            "the ACK does not reach the side that retransmits the response: check the 2xx's \
             Contact and Record-Route (the ACK for a 2xx goes there), NAT and firewalls"
        } else {
            "the responses do not reach the sender (it keeps retransmitting the request): check \
             the Via sent-by/rport and NAT on the way back"
        };
        let f = Finding::new(&RULE, ctx.model.message_owner[first], message, help.into())
            .with(
                ctx.model.messages[first].event,
                format!("{}: first copy", key.0),
            )
            .with(
                ctx.model.messages[last].event,
                format!("copy {} of {}", g.wires.len(), key.0),
            );
        out.push(f);
    }
}

/// What the repeats of a group mean, from the rest of the transaction.
fn explain(ctx: &Context<'_>, tsx: &[usize], g: &Group, t0: Timestamp) -> String {
    let parsed: Vec<(Timestamp, &SipMessage)> = tsx
        .iter()
        .filter_map(|&w| {
            let ev = ctx.model.message(w);
            Some((ev.ts, ev.parsed()?))
        })
        .collect();
    let last_copy = g.wires.last().map_or(t0, |&w| ctx.model.message(w).ts);
    if g.request {
        let responses: Vec<&(Timestamp, &SipMessage)> = parsed
            .iter()
            .filter(|(_, m)| m.status().is_some() && m.cseq().is_some_and(|c| c.method == g.method))
            .collect();
        match responses.first() {
            None => "no response came at all: the far end does not receive the request, or its \
                     responses do not come back"
                .to_string(),
            Some((t, m)) if *t >= last_copy => format!(
                "the first response ({} {}) came only {} after the first copy",
                m.status().unwrap_or(0),
                m.reason_phrase().unwrap_or(""),
                crate::rules::secs(t0.ms_until(*t))
            ),
            Some((t, m)) => format!(
                "responses exist ({} at +{}), but the sender kept retransmitting: they did not \
                 reach it, or came too late",
                m.status().unwrap_or(0),
                crate::rules::secs(t0.ms_until(*t))
            ),
        }
    } else if g.method == "INVITE" {
        // The ACK of a 2xx is a transaction of its own: look in the whole call.
        let seq = g
            .wires
            .first()
            .and_then(|&w| ctx.model.message(w).parsed()?.cseq())
            .map(|c| c.seq);
        let call = g
            .wires
            .first()
            .and_then(|&w| match ctx.model.message_owner[w] {
                Some(Owner::Call(ci)) => Some(&ctx.model.calls[ci].messages),
                _ => None,
            });
        let ack = call.map_or(tsx, |v| v.as_slice()).iter().find_map(|&w| {
            let ev = ctx.model.message(w);
            let m = ev.parsed()?;
            (m.method() == Some("ACK") && m.cseq().map(|c| c.seq) == seq && ev.ts >= t0)
                .then_some(ev.ts)
        });
        let kind = match g.status {
            Some(c) if (200..300).contains(&c) => "the 2xx",
            _ => "the final response",
        };
        match ack {
            Some(t) => format!(
                "the ACK for {kind} came only {} later",
                crate::rules::secs(t0.ms_until(t))
            ),
            None => format!(
                "the ACK for {kind} never arrived, so the answering side kept retransmitting it"
            ),
        }
    } else {
        "the response was repeated for each retransmission of the request: the responses do \
         not reach the sender"
            .to_string()
    }
}
