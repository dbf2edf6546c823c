//! SF022 `missing-mandatory-header`: a request without Via, From, To, Call-ID, CSeq or
//! Max-Forwards (or a response without one of the first five).

use std::collections::BTreeMap;

use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF022",
    name: "missing-mandatory-header",
    severity: Severity::Warning,
    scope: Scope::Message,
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

- **error** when a request was refused with `400 Bad Request` or `483 Too Many Hops`, or got
  no response at all while the input covers its transaction timer (32 s after it) and shows
  the sender waiting (it retransmitted): the transaction failed, and the missing header is
  the likely reason;
- **warning** when the request was answered otherwise (even `200 OK`: the next strict hop
  will not), when it got no response but the input ends before 32 s or shows no
  retransmission (a one-way or partial capture looks the same), and for a response (nothing
  answers a response);
- **info** for an ACK: it gets no response by design, and the ACK of a non-2xx response is
  consumed by the next hop and never forwarded, so a missing Max-Forwards there changes
  nothing visible.

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
`fixtures/rules-severity/max-forwards-refused` a Kamailio proxy that demands Max-Forwards
answers the same OPTIONS `400 Missing Max-Forwards` (an error).

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

/// RFC 3261 T1.
const T1_MS: i64 = 500;
/// An input that covers this long after a request saw (nearly) the whole of Timer B or F
/// (64×T1): the last retransmission goes out at 31.5 s.
const TIMER_MS: i64 = 64 * T1_MS - 2 * T1_MS;

/// What became of a message: its severity and how the finding says it.
struct Fate {
    severity: Severity,
    /// ", which was refused with 400 Bad Request", or empty.
    text: String,
    /// The response that shows it (a refusal), if any.
    evidence: Option<usize>,
}

/// What became of wire message `w` (a parsed request or response).
fn fate(ctx: &Context<'_>, w: usize, m: &SipMessage) -> Fate {
    let plain = |severity, text: &str| Fate {
        severity,
        text: text.to_string(),
        evidence: None,
    };
    let Some(method) = m.method() else {
        return plain(Severity::Warning, "");
    };
    if method == "ACK" {
        return plain(
            Severity::Info,
            ": an ACK gets no response, and the ACK of a non-2xx response is not forwarded, so \
             nothing shows an effect",
        );
    }
    let model = ctx.model;
    let responses: Vec<(usize, u16)> = model.messages[w]
        .tsx
        .map(|t| model.transactions[t].messages.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|&r| {
            let resp = model.message(r).parsed()?;
            let code = resp.status()?;
            (resp.cseq()?.method == method).then_some((r, code))
        })
        .collect();
    let reason = |r: usize| {
        model
            .message(r)
            .parsed()
            .and_then(SipMessage::reason_phrase)
            .unwrap_or("")
            .to_string()
    };
    if let Some(&(r, code)) = responses.iter().find(|(_, c)| matches!(c, 400 | 483)) {
        return Fate {
            severity: Severity::Error,
            text: format!(", and it was refused with {code} {}", reason(r)),
            evidence: Some(r),
        };
    }
    if let Some(&(r, code)) = responses
        .iter()
        .find(|(_, c)| *c >= 200)
        .or(responses.first())
    {
        return plain(
            Severity::Warning,
            &format!(
                "; it was answered {code} {} here, but strict proxies and SBCs reject or drop it",
                reason(r)
            ),
        );
    }
    if model.messages[w].tsx.is_none() {
        // Without Via or CSeq its responses cannot be told: nothing shows its fate.
        return plain(Severity::Warning, "");
    }
    let t0 = model.message(w).ts;
    let covered = ctx
        .seen_until(ctx.inputs_of(w))
        .map_or(0, |end| t0.ms_until(end));
    // A sender that gets no response retransmits (over UDP): only its retransmissions show it
    // waited. A single copy (or TCP, which has none) looks the same in a one-way capture.
    let retransmitted = model.messages[w]
        .tsx
        .is_some_and(|t| model.transactions[t].retransmissions > 0);
    if covered >= TIMER_MS && retransmitted {
        plain(
            Severity::Error,
            &format!(
                ", and it got no response at all in the {} the input covers after it (the \
                 transaction timed out: strict receivers drop such a request)",
                crate::rules::secs(covered)
            ),
        )
    } else if covered >= TIMER_MS {
        plain(
            Severity::Warning,
            "; no response is in the input, but nothing shows the sender waiting for one (no \
             retransmission: the input may miss one direction); strict proxies and SBCs \
             reject or drop it",
        )
    } else {
        plain(
            Severity::Warning,
            &format!(
                "; no response is in the input, which ends {} after it (before the 32 s \
                 transaction timeout); strict proxies and SBCs reject or drop it",
                crate::rules::secs(covered)
            ),
        )
    }
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    // (what, missing, sender) → (first wire, count, the worst fate and its wire).
    type Group = (usize, usize, Fate, usize);
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
        let missing: Vec<&'static str> = needed
            .iter()
            .filter(|(h, _)| m.headers_named(*h).next().is_none())
            .map(|&(_, name)| name)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let what = match (m.method(), m.status()) {
            (Some(method), _) => method.to_string(),
            (None, Some(code)) => format!("{code} response"),
            _ => "message".into(),
        };
        let sender = wire
            .src
            .clone()
            .or_else(|| m.from().map(|f| f.uri_text))
            .unwrap_or_default();
        let fate = fate(ctx, w, m);
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
        if let Some(r) = fate.evidence {
            let e = model.messages[r].event;
            f = f.with_span(e, ctx.start_line_of(e), "the refusal");
        }
        out.push(f);
    }
}
