//! SF022 `missing-mandatory-header`: a request without Via, From, To, Call-ID, CSeq or
//! Max-Forwards (or a response without one of the first five).

use std::collections::BTreeMap;

use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::HeaderName;

pub(super) const RULE: Rule = Rule {
    code: "SF022",
    name: "missing-mandatory-header",
    severity: Severity::Error,
    scope: Scope::Message,
    summary: "a request without Via, From, To, Call-ID, CSeq or Max-Forwards (RFC 3261 §8.1.1)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A SIP request that lacks one of the six header fields every request must carry (RFC 3261
§8.1.1): `Via`, `From`, `To`, `Call-ID`, `CSeq`, `Max-Forwards`; or a response that lacks one of
`Via`, `From`, `To`, `Call-ID`, `CSeq` (responses carry no Max-Forwards). Compact forms (`v`, `f`,
`t`, `i`) count. Messages cut by pjsip's log record limit are left to `truncated-log-record`,
and messages that do not parse at all to `malformed-message`. Identical problems from the same
sender are reported once, with a count.

## Why it matters
Without Via, From, To, Call-ID or CSeq a message cannot be matched to a transaction or dialog:
strict stacks and proxies drop it or answer `400 Bad Request` ("Missing required header"), and
the sender sees timeouts. A request without Max-Forwards is accepted by lenient stacks (pjsip
answers it) but rejected or dropped by strict proxies and SBCs, and nothing protects the
network from a forwarding loop.

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
pjsip answered it 200 OK anyway; a strict proxy would not.

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

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    // (what, missing, sender) → (first wire, count).
    let mut groups: BTreeMap<(String, Vec<&'static str>, String), (usize, usize)> = BTreeMap::new();
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
        groups
            .entry((what, missing, sender))
            .and_modify(|(_, n)| *n += 1)
            .or_insert((w, 1));
    }
    let mut found: Vec<_> = groups.into_iter().collect();
    found.sort_by_key(|(_, (w, _))| *w);
    for ((what, missing, sender), (w, count)) in found {
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
            format!(" ({count} such messages)")
        } else {
            String::new()
        };
        let effect = if missing == ["Max-Forwards"] {
            "strict proxies and SBCs reject or drop it"
        } else {
            "it cannot be matched to a transaction or dialog; most stacks drop it or answer 400"
        };
        out.push(
            Finding::new(
                &RULE,
                model.message_owner[w],
                format!("the {start}{from} has no {headers} ({rule}){times}: {effect}"),
                format!(
                    "add {headers} where the message is built (a new request carries \
                     Max-Forwards: 70; a response copies Via, From, To, Call-ID and CSeq from \
                     the request), or build it with the SIP stack instead of by hand"
                ),
            )
            .with(model.messages[w].event, format!("no {headers}")),
        );
    }
}
