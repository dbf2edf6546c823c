//! SF030 `oversized-udp-message`: a request over 1300 bytes sent over UDP (RFC 3261 §18.1.1),
//! and whether it got through.
//!
//! Owns: the size of a request on the wire, its transport, and whether its transaction shows
//! it arrived (a response) or was lost (retransmitted unanswered, or unanswered for as long as
//! Timer B/F). Does not own: transactions that time out for other reasons (`invite-timeout`,
//! `retransmission-storm`) or IP reassembly (the capture reader).

use std::collections::BTreeMap;

use super::timers::TIMER_64T1_MS;
use crate::dialog::Owner;
use crate::event::{Event, Transport};
use crate::rules::{Context, Finding, Rule, Scope, Severity, owner_sort_key, secs};

pub(super) const RULE: Rule = Rule {
    code: "SF030",
    name: "oversized-udp-message",
    severity: Severity::Warning,
    scope: Scope::Message,
    judges_time: true,
    summary: "a request over 1300 bytes was sent over UDP (RFC 3261 §18.1.1); an error when it was lost",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A SIP request larger than 1300 bytes sent over UDP. RFC 3261 §18.1.1 says such a request
(more than 1300 bytes when the path MTU is unknown, or within 200 bytes of it) MUST go over a
congestion-controlled transport such as TCP. Over UDP on an Ethernet path (MTU 1500) it is
split into IP fragments, and the whole request is lost when any fragment is.

The size is the message's length on the wire: the reassembled UDP payload of a capture, or
the byte count of a pjsip dump (`TX 1523 bytes Request msg INVITE … to UDP …`). The transport
is the packet's or the dump's (the top Via's when neither says). One finding per call or flow:
the first lost request, else the first large one, and how many more there are. Responses are
not reported: they follow the request's transport (RFC 3261 §18.2.2).

## Why it matters
IP fragments are dropped by many firewalls, NATs, SBCs and home routers, and by any network
that loses one of the pieces. A large INVITE (an SDP offer with many codecs, ICE candidates,
video, long Via and Record-Route sets) then never arrives: the caller retransmits it for 32 s
and the call fails with a timeout, while small requests (REGISTER, OPTIONS) work, so the
problem looks random. It often appears only on some networks, or only when video or ICE is
enabled.

## Severity
A warning by default: the request got an answer, so this time the fragments arrived; it is
a risk on other paths. An error when the trace shows that it was lost: no response at all,
while it was retransmitted or the input covers Timer B/F (32 s) after it.

## Typical causes
- A UA that does not switch to TCP for large requests, or has no TCP transport to switch to
  (PJSIP switches by itself above 1300 bytes (`PJSIP_UDP_SIZE_THRESHOLD`) when a TCP transport
  exists, unless `PJSIP_DONT_SWITCH_TO_TCP` is set or the URI says `;transport=udp`).
- Large SDP: every codec offered, video, ICE candidates, SRTP keys for several suites.
- Many or long headers: Via and Record-Route sets through several proxies, long
  `Allow`/`Supported` lists, custom `X-` headers.

## How to fix
- Use TCP (or TLS) for signalling: `;transport=tcp` in the registrar, proxy and target URIs, a
  TCP transport on the UA (`ep.transportCreate(PJSIP_TRANSPORT_TCP, …)` in pjsua2), and let
  PJSIP switch to TCP by itself (do not set `PJSIP_DONT_SWITCH_TO_TCP`).
- Make the message smaller: offer fewer codecs, drop unused media and ICE candidates, use
  compact header forms, remove custom headers.
- If UDP must stay: allow IP fragments through every firewall and SBC on the path.

## Example
From `fixtures/rules-traffic/oversized-udp/lost/call.pcap` (SIPp sending a 2,346-byte INVITE
over UDP to a host whose firewall drops IP fragments):
```
INVITE sip:service@10.99.62.2:6235  (2346 bytes over UDP: IP fragments of 1480 and 874 bytes)
INVITE … retransmitted 4 times, no response
```
sipflow: `INVITE of 2346 bytes sent over UDP … it was lost: sent 5 times and never answered`
(an error). The same INVITE answered (`oversized-udp/answered`) is a warning; over TCP
(`oversized-udp/tcp`) nothing is reported.

## References
- RFC 3261 §18.1.1 (sending requests: the 1300-byte rule), §18.2.2 (sending responses),
  §17.1.1.2 (Timer B)
- RFC 8085 §3.2 (UDP message size guidelines)
- PJSIP `PJSIP_UDP_SIZE_THRESHOLD` and `PJSIP_DONT_SWITCH_TO_TCP` (pjsip/include/pjsip/sip_config.h)
"#;

/// RFC 3261 §18.1.1: larger requests go over a congestion-controlled transport.
const LIMIT: usize = 1300;

/// One large UDP request.
struct Large {
    wire: usize,
    size: usize,
    /// Lost: no response while retransmitted or for Timer B/F.
    lost: Option<String>,
    /// The first response, if any.
    answer: Option<(usize, u16)>,
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    let mut by_owner: BTreeMap<(u8, usize), (Option<Owner>, Vec<Large>)> = BTreeMap::new();
    for (w, wire) in model.messages.iter().enumerate() {
        if wire.retransmission {
            continue;
        }
        let ev = model.message(w);
        let Some(msg) = ev.parsed() else { continue };
        let Some(method) = msg.method() else { continue };
        let transport = match ev.transport {
            Transport::Unknown => msg.top_via().map_or(Transport::Unknown, |v| v.transport),
            t => t,
        };
        if transport != Transport::Udp {
            continue;
        }
        // The largest size any vantage point saw: a dump's declared count, else the bytes.
        let size = wire
            .sightings
            .iter()
            .filter_map(|&s| match &model.events[s] {
                Event::Message(m) => Some(m.declared_len.unwrap_or(m.raw().len())),
                Event::Log(_) => None,
            })
            .max()
            .unwrap_or(0);
        if size <= LIMIT {
            continue;
        }
        let tsx = wire.tsx.map(|t| &model.transactions[t]);
        // The final response if there is one, else the first provisional one.
        let responses: Vec<(usize, u16)> = tsx.map_or_else(Vec::new, |t| {
            t.messages
                .iter()
                .filter_map(|&r| Some((r, model.message(r).parsed()?.status()?)))
                .collect()
        });
        let answer = responses
            .iter()
            .find(|(_, c)| *c >= 200)
            .or(responses.first())
            .copied();
        let lost = if answer.is_some() || method == "ACK" {
            None
        } else {
            let retransmissions = tsx.map_or(0, |t| t.retransmissions);
            let covered = ctx
                .seen_until(ctx.inputs_of(w))
                .map(|end| ev.ts.ms_until(end))
                .filter(|&ms| ms >= TIMER_64T1_MS);
            match (retransmissions, covered) {
                (n, _) if n > 0 => Some(format!(
                    "it was lost: sent {} times and never answered",
                    n + 1
                )),
                (_, Some(ms)) => Some(format!(
                    "it was lost: no response in the {} the input covers after it",
                    secs(ms)
                )),
                _ => None,
            }
        };
        let owner = model.message_owner[w];
        by_owner
            .entry(owner_sort_key(owner, w))
            .or_insert_with(|| (owner, Vec::new()))
            .1
            .push(Large {
                wire: w,
                size,
                lost,
                answer,
            });
    }
    for (owner, large) in by_owner.into_values() {
        let Some(first) = large
            .iter()
            .find(|l| l.lost.is_some())
            .or_else(|| large.first())
        else {
            continue;
        };
        out.push(finding(ctx, owner, first, large.len()));
    }
}

fn finding(ctx: &Context<'_>, owner: Option<Owner>, l: &Large, count: usize) -> Finding {
    let model = ctx.model;
    let wire = &model.messages[l.wire];
    let msg = model.message(l.wire).parsed();
    let method = msg.and_then(|m| m.method()).unwrap_or("request");
    let route = match (&wire.src, &wire.dst) {
        (Some(s), Some(d)) => format!(" from {s} to {d}"),
        (None, Some(d)) => format!(" to {d}"),
        _ => String::new(),
    };
    let fate = match (&l.lost, l.answer) {
        (Some(lost), _) => format!(
            "; {lost}: requests this large are split into IP fragments, and the request is lost \
             when one of them is"
        ),
        (None, Some((_, code))) => format!(
            "; it got through (answered {code}), but on another path its IP fragments may be \
             dropped"
        ),
        (None, None) => "; no response to it is in the input".to_string(),
    };
    let more = match count {
        1 => String::new(),
        n => format!(
            " ({} more request(s) over {LIMIT} bytes went over UDP)",
            n - 1
        ),
    };
    let message = format!(
        "{method} of {} bytes sent over UDP{route}: RFC 3261 §18.1.1 wants requests over \
         {LIMIT} bytes on a congestion-controlled transport such as TCP{fate}{more}",
        l.size
    );
    let help = "send SIP over TCP (a TCP transport and ;transport=tcp; let PJSIP switch to TCP \
                above 1300 bytes), or make the message smaller (fewer codecs, no unused media or \
                ICE candidates, compact headers)";
    let mut f = Finding::new(&RULE, owner, message, help.into());
    if l.lost.is_some() {
        f.severity = Severity::Error;
    }
    let event = wire.event;
    f = f.with_span(
        event,
        ctx.start_line_of(event),
        format!("{} bytes over UDP", l.size),
    );
    if let Some((r, code)) = l.answer {
        let e = model.messages[r].event;
        f = f.with_span(e, ctx.start_line_of(e), format!("answered {code}"));
    }
    f
}
