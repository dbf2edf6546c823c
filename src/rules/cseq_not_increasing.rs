//! SF024 `cseq-not-increasing`: a new in-dialog request whose CSeq is not above the previous
//! one from the same side.

use crate::dialog::Owner;
use crate::hash::{Map, Set};
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::HeaderName;

pub(super) const RULE: Rule = Rule {
    code: "SF024",
    name: "cseq-not-increasing",
    severity: Severity::Warning,
    scope: Scope::Dialog,
    judges_time: false,
    summary: "a new request in a dialog has a CSeq number not greater than the previous one from that side",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
Inside a call's dialog, for each side (each From tag), a new request — not a retransmission,
and not ACK or CANCEL, which reuse the INVITE's number — whose CSeq number is not greater than
the previous request of the same side. Each dialog of a forked call is checked on its own (they
all continue from the INVITE's number).

## Why it matters
The receiver uses CSeq to order requests and to spot old ones: RFC 3261 §12.2.2 makes a UAS
reject a request whose CSeq is lower than the last one with `500 Server Internal Error` (pjsip:
`500 Invalid CSeq`). The request is lost: a BYE that is refused leaves the call up on the other
side, an INFO carries no DTMF, a re-INVITE does not change the media. An equal number looks like
a retransmission and may be answered from the transaction cache or ignored.

## Severity
Default **warning**: lenient receivers accept the request (the finding says how it was
answered). **Error** when the receiver rejected it with `500 Server Internal Error`, as
RFC 3261 §12.2.2 tells it to: the request (a re-INVITE, an INFO, a BYE …) failed because of
its CSeq.

## Typical causes
- An application or B2BUA that builds in-dialog requests itself and keeps its own CSeq counter
  (restarted, per request type, or copied from the INVITE).
- A B2BUA that passes CSeq numbers from one leg to the other.
- A UA that lost its dialog state (restart, failover) and continues the dialog from scratch.

## How to fix
Let the SIP stack number in-dialog requests (pjsua2 `Call.sendRequest()`, `dialDtmf()`,
`reinvite()`, `hangup()` do this). When building requests yourself, take the dialog's local
CSeq and add one for each new request (RFC 3261 §12.2.1.1); a B2BUA must keep a separate CSeq
space per leg.

## Example
From `fixtures/rules-message-extra/cseq-lower-info` (a SIPp UAC calling pjsua2):
```
INVITE sip:callee@127.0.0.1:5854   CSeq: 20 INVITE  → 200 OK
ACK                                CSeq: 20 ACK
INFO sip:callee@127.0.0.1:5854     CSeq: 5 INFO     → 500 Invalid CSeq
BYE                                CSeq: 21 BYE     → 200 OK
```

## References
- RFC 3261 §8.1.1.5 (CSeq), §12.2.1.1 (requests within a dialog), §12.2.2 (a lower CSeq is
  answered 500), §20.16
"#;

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    // Per call (cleared for each, their room kept): (From tag, To tag) → (highest CSeq so far,
    // the request that had it).
    let mut last: Map<(&str, Option<&str>), (u32, usize)> = Map::default();
    // Requests already seen (From tag, To tag, CSeq, method): the same request again with
    // another branch is a copy at another hop (a proxy forwarded it) or a re-send.
    let mut seen: Set<(&str, Option<&str>, u32, &str)> = Set::default();
    for (ci, call) in model.calls.iter().enumerate() {
        last.clear();
        seen.clear();
        for &w in &call.messages {
            if model.messages[w].retransmission {
                continue;
            }
            let Some(m) = model.message(w).parsed() else {
                continue;
            };
            let Some(method) = m.method() else { continue };
            if matches!(method, "ACK" | "CANCEL") {
                continue;
            }
            let (Some(seq), Some(from_tag)) = (m.cseq_seq(), m.from_tag()) else {
                continue;
            };
            let to_tag = m.to_tag();
            if !seen.insert((from_tag, to_tag, seq, method)) {
                continue;
            }
            let key = (from_tag, to_tag);
            let previous = last.get(&key).copied().or_else(|| {
                to_tag
                    .is_some()
                    .then(|| last.get(&(from_tag, None)).copied())
                    .flatten()
            });
            if let Some((prev_seq, prev_w)) = previous
                && seq <= prev_seq
            {
                out.push(finding(ctx, ci, w, prev_w, seq, prev_seq, method));
            }
            let high = previous.map_or(seq, |(p, _)| p.max(seq));
            let at = match previous {
                Some((p, pw)) if p >= seq => pw,
                _ => w,
            };
            last.insert(key, (high, at));
        }
    }
}

fn finding(
    ctx: &Context<'_>,
    ci: usize,
    w: usize,
    prev_w: usize,
    seq: u32,
    prev_seq: u32,
    method: &str,
) -> Finding {
    let model = ctx.model;
    let prev_method = model
        .message(prev_w)
        .parsed()
        .and_then(|m| m.method().map(str::to_string))
        .unwrap_or_default();
    let side = model
        .message(w)
        .parsed()
        .and_then(|m| m.from())
        .map(|f| f.uri_text)
        .unwrap_or_default();
    // The answer to the offending request, if any.
    let answer = model.messages[w].tsx.and_then(|t| {
        let tsx = &model.transactions[t];
        let code = tsx.final_status?;
        let resp = tsx.messages.iter().copied().find(|&r| {
            model
                .message(r)
                .parsed()
                .is_some_and(|m| m.status() == Some(code))
        })?;
        Some((resp, code))
    });
    let answered = answer
        .and_then(|(r, code)| {
            let reason = model.message(r).parsed()?.reason_phrase()?.to_string();
            Some(format!("; it was answered {code} {reason}"))
        })
        .unwrap_or_default();
    let relation = if seq == prev_seq {
        "the same CSeq as"
    } else {
        "a lower CSeq than"
    };
    let mut f = Finding::new(
        &RULE,
        Some(Owner::Call(ci)),
        format!(
            "the {method} from {side} (CSeq {seq}) has {relation} that side's previous request \
             in the dialog ({prev_method}, CSeq {prev_seq}); RFC 3261 §12.2.2 makes the \
             receiver reject it with 500{answered}"
        ),
        "let the SIP stack number in-dialog requests, or add one to the dialog's local CSeq \
         for each new request; a B2BUA keeps a separate CSeq space per leg"
            .into(),
    )
    .with_span(
        model.messages[w].event,
        ctx.header_of(model.messages[w].event, HeaderName::CSeq),
        format!("{method}, CSeq {seq}"),
    )
    .with_span(
        model.messages[prev_w].event,
        ctx.header_of(model.messages[prev_w].event, HeaderName::CSeq),
        format!("{prev_method}, CSeq {prev_seq}"),
    );
    if let Some((r, code)) = answer {
        let e = model.messages[r].event;
        f = f.with_span(e, ctx.start_line_of(e), format!("answered {code}"));
        // Rejected as RFC 3261 says: the request failed because of its CSeq.
        if code == 500 {
            f.severity = Severity::Error;
        }
    }
    f
}
