//! SF022 `missing-mandatory-header`: a request without Via, From, To, Call-ID, CSeq or
//! Max-Forwards (or a response without one of the first five).

use std::collections::BTreeMap;

use super::fate::{self, Fate};
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF022",
    name: "missing-mandatory-header",
    severity: Severity::Warning,
    scope: Scope::Message,
    judges_time: false,
    summary: "a request without Via, From, To, Call-ID, CSeq or Max-Forwards (RFC 3261 §8.1.1)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A SIP request that lacks one of the six header fields every request must carry (RFC 3261
§8.1.1): `Via`, `From`, `To`, `Call-ID`, `CSeq`, `Max-Forwards`; or a response that lacks one of
`Via`, `From`, `To`, `Call-ID`, `CSeq` (responses carry no Max-Forwards). Compact forms (`v`, `f`,
`t`, `i`) count. Messages that the input holds only in part are not reported (cut by pjsip's
log record limit: `truncated-log-record`), nor messages that do not parse at all
(`malformed-message`). Identical problems from the same sender are reported once, with a
count, and the finding says what became of the message (answered, refused, unanswered).

## Why it matters
Without Via, From, To, Call-ID or CSeq a message cannot be matched to a transaction or dialog:
strict stacks and proxies drop it or answer `400 Bad Request` ("Missing required header"), and
the sender sees timeouts. A request without Max-Forwards is accepted by lenient stacks (pjsip
answers it) but rejected or dropped by strict proxies and SBCs, and nothing protects the
network from a forwarding loop.

## Severity
Default **warning**: the receiver here may be lenient (pjsip answers such a request), and the
risk is the next, stricter hop. It follows what became of the message:

- **error** when the trace shows the failure: a request refused with `400 Bad Request` or
  `483 Too Many Hops`; a request with no response at all while the input covers its
  transaction timer (32 s after it) and shows the sender waiting (it sent the same request,
  still without the header, again); an ACK after which the response it acknowledges kept
  coming to its sender (twice or more: the ACK did not arrive, a strict proxy dropped it);
  a response after which its request kept coming;
- **warning** otherwise: a request answered (even `200 OK`: the next strict hop will not), a
  request with no response in an input that ends before 32 s or shows no retransmission (a
  one-way or partial capture looks the same), a response, and an ACK whose response was not
  sent again (an ACK gets no response, so nothing shows it refused; but a request without a
  mandatory header is an anomaly worth a look).

When several messages are grouped in one finding, the most severe fate decides. A message that
the input holds only in part (cut by the start or end of an excerpt or capture, a TCP gap, a
log record limit) is never reported: its headers may just be in the part that is missing.

## Typical causes
- Requests built by hand in an application, a test script or a monitoring probe (OPTIONS
  "pings", keep-alives) instead of by a SIP stack.
- A B2BUA or header-manipulation rule that removes or renames headers.
- A buggy SIP ALG or SBC rewriting the message.

## How to fix
Build requests with the SIP stack (pjsua2 `sendRequest`, `Account`, `Call` APIs) rather than
as text, or add the missing header: `Max-Forwards: 70` in a new request, and the full set of
`Via`/`From`/`To`/`Call-ID`/`CSeq` copied from the request into each response (RFC 3261 §8.2.6).
Fix or remove header-manipulation rules that drop them.

## Example
From `fixtures/rules-message-extra/missing-max-forwards/options.pcap` (a SIPp "pinger"):
```
OPTIONS sip:ua@127.0.0.1:5850 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5851;branch=z9hG4bK-…
From: <sip:pinger@127.0.0.1:5851>;tag=…
To: <sip:ua@127.0.0.1:5850>
Call-ID: 1-…@127.0.0.1
CSeq: 1 OPTIONS
Contact: <sip:pinger@127.0.0.1:5851>
Accept: application/sdp
Content-Length: 0
```
pjsip answered it 200 OK anyway (a warning); a strict proxy would not. In
`fixtures/rules-severity/strict-proxy` a Kamailio proxy that demands Max-Forwards answers an
INVITE without it `400 Missing Max-Forwards` (an error). In
`fixtures/rules-severity/ack-dropped` a proxy drops a caller's ACK without it: the callee's
`200 OK` comes 9 more times, each ACKed again in vain, and the callee hangs up (an error).

## References
- RFC 3261 §8.1.1 (generating the request: the six mandatory headers), §8.2.6.2 (headers in
  responses), §16.3 (Max-Forwards check at proxies), §20 (header table)
"#;

const REQUEST: [(HeaderName, &str); 6] = [
    (HeaderName::Via, "Via"),
    (HeaderName::From, "From"),
    (HeaderName::To, "To"),
    (HeaderName::CallId, "Call-ID"),
    (HeaderName::CSeq, "CSeq"),
    (HeaderName::MaxForwards, "Max-Forwards"),
];

/// What became of a message: its severity and how the finding says it.
struct Told {
    severity: Severity,
    /// ", which was refused with 400 Bad Request", or empty.
    text: String,
    fate: Fate,
}

/// What became of wire message `w` (a parsed request or response) that lacks `missing`.
fn told(ctx: &Context<'_>, w: usize, m: &SipMessage, missing: &[(HeaderName, &str)]) -> Told {
    let lacks = |c: usize| {
        ctx.model.message(c).parsed().is_some_and(|copy| {
            missing
                .iter()
                .all(|(h, _)| copy.headers_named(*h).next().is_none())
        })
    };
    let fate = fate::of(ctx, w, m, &[400, 483], &lacks);
    let ack = m.method() == Some("ACK");
    let text = match &fate {
        Fate::Refused { response, .. } => {
            format!(", and it was refused with {}", fate::status(ctx, *response))
        }
        Fate::Answered { response, .. } => format!(
            "; it was answered {} here, but strict proxies and SBCs reject or drop it",
            fate::status(ctx, *response)
        ),
        Fate::Ignored { copies, .. } if ack => format!(
            "; the response it acknowledges was sent {copies} more times after it: the ACK \
             did not arrive (a strict proxy or SBC drops it)"
        ),
        Fate::Ignored { copies, .. } => format!(
            "; its request was sent {copies} more times after it: the response did not arrive"
        ),
        Fate::Unanswered { covered_ms, .. } if fate.failed() => format!(
            ", and it got no response at all in the {} the input covers after it (the \
             transaction timed out: strict receivers drop such a request)",
            crate::rules::secs(*covered_ms)
        ),
        Fate::Unanswered { covered_ms, .. } if *covered_ms >= super::timers::COVERS_64T1_MS => {
            "; no response is in the input, but nothing shows the sender waiting for one (no \
             retransmission: the input may miss one direction); strict proxies and SBCs \
             reject or drop it"
                .to_string()
        }
        Fate::Unanswered { covered_ms, .. } => format!(
            "; no response is in the input, which ends {} after it (before the 32 s \
             transaction timeout); strict proxies and SBCs reject or drop it",
            crate::rules::secs(*covered_ms)
        ),
        Fate::Unknown if ack => "; an ACK gets no response, but strict proxies and SBCs drop \
                                  it (the response it acknowledges would then be sent again)"
            .to_string(),
        Fate::Unknown => String::new(),
    };
    Told {
        severity: if fate.failed() {
            Severity::Error
        } else {
            Severity::Warning
        },
        text,
        fate,
    }
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    // (what, missing, sender) → (first wire, count, the worst fate and its wire).
    type Group = (usize, usize, Told, usize);
    let mut groups: BTreeMap<(String, Vec<&'static str>, String), Group> = BTreeMap::new();
    for (w, wire) in model.messages.iter().enumerate() {
        let ev = model.message(w);
        if wire.retransmission || ev.truncated() {
            continue;
        }
        let Some(m) = ev.parsed() else { continue };
        let needed = if m.is_request() {
            &REQUEST[..]
        } else {
            &REQUEST[..5]
        };
        let absent: Vec<(HeaderName, &'static str)> = needed
            .iter()
            .copied()
            .filter(|(h, _)| m.headers_named(*h).next().is_none())
            .collect();
        if absent.is_empty() {
            continue;
        }
        let missing: Vec<&'static str> = absent.iter().map(|&(_, name)| name).collect();
        let what = fate::what(m);
        let sender = wire
            .src
            .as_deref()
            .map(str::to_string)
            .or_else(|| m.from().map(|f| f.uri_text))
            .unwrap_or_default();
        let fate = told(ctx, w, m, &absent);
        match groups.entry((what, missing, sender)) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert((w, 1, fate, w));
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                let g = o.get_mut();
                g.1 += 1;
                if fate.severity > g.2.severity {
                    (g.2, g.3) = (fate, w);
                }
            }
        }
    }
    let mut found: Vec<_> = groups.into_iter().collect();
    found.sort_by_key(|(_, (first, ..))| *first);
    // The message whose fate is told is the one the finding points at.
    for ((what, missing, sender), (_, count, fate, w)) in found {
        let Some(m) = model.message(w).parsed() else {
            continue;
        };
        let start = match m.request_uri() {
            Some(uri) => format!("{what} {uri}"),
            None => what.clone(),
        };
        let from = if sender.is_empty() {
            String::new()
        } else {
            format!(" from {sender}")
        };
        let headers = missing.join(", ");
        let rule = if m.is_request() {
            "mandatory in every request, RFC 3261 §8.1.1"
        } else {
            "mandatory in every response, RFC 3261 §8.2.6.2"
        };
        let times = if count > 1 {
            format!(" ({count} such messages; the worst fate is told)")
        } else {
            String::new()
        };
        let effect = if missing == ["Max-Forwards"] {
            fate.text
        } else {
            format!(
                "{}; without them it cannot be matched to a transaction or dialog, and most \
                 stacks drop it or answer 400",
                fate.text
            )
        };
        let mut f = Finding::new(
            &RULE,
            model.message_owner[w],
            format!("the {start}{from} has no {headers} ({rule}){times}{effect}"),
            format!(
                "add {headers} where the message is built (a new request carries \
                 Max-Forwards: 70; a response copies Via, From, To, Call-ID and CSeq from \
                 the request), or build it with the SIP stack instead of by hand"
            ),
        )
        .with(model.messages[w].event, format!("no {headers}"));
        f.severity = fate.severity;
        out.push(fate.fate.evidence(ctx, f));
    }
}
