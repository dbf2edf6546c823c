//! SF031 `transfer-failed`: a call transfer (REFER) refused, or reported failed by the
//! NOTIFY `message/sipfrag` that tells how the transferee's call to the target ended.
//!
//! Owns: matching each REFER with its challenge retry and with the NOTIFYs of its implicit
//! subscription (`Event: refer;id=…`), and reading their sipfrag. Does not own: a REFER or
//! NOTIFY answered 481 (`unknown-dialog`, `subscription-failed`).

use std::ops::Range;

use crate::event::Timestamp;
use crate::rules::subscription_failed::event_of;
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF031",
    name: "transfer-failed",
    severity: Severity::Error,
    scope: Scope::Transaction,
    judges_time: false,
    summary: "a call transfer failed: the REFER was refused, or its NOTIFY sipfrag reports a non-2xx final status",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A call transfer (RFC 3515 REFER, blind or attended) that did not happen:

- the REFER was refused with a final `4xx`–`6xx` (`403`, `405`, `488`, `501`, `603` …), other
  than a `401`/`407` challenge that the transferor answered with a new REFER;
- the REFER was accepted (`202`), but the NOTIFY that reports the outcome (`Event: refer`,
  `Content-Type: message/sipfrag`) carries a final non-2xx status line from the transfer
  target, e.g. `SIP/2.0 486 Busy Here` or `SIP/2.0 404 Not Found`.

A NOTIFY sipfrag `SIP/2.0 200 OK` is a successful transfer and is not reported. A REFER
answered `481` is `unknown-dialog`'s (the transferee no longer knows the call); a NOTIFY of
the transfer answered `481` is `subscription-failed`'s. NOTIFYs are matched to their REFER by
the `id` parameter of `Event: refer` (the REFER's CSeq number) when there is one.

## Why it matters
The transferred party is not connected to the target. In a blind transfer the transferor has
usually hung up already, so the caller is left alone with the transferee or dropped; in an
attended transfer the consultation call and the original call both stay up, and users see a
transfer button that "does nothing".

## Severity
An error: the trace shows the transfer failed (the refusal, or the final status reported in
the sipfrag). Never raised or lowered.

## Typical causes
- The transferee does not support REFER (`405`/`501`), or refuses it by policy (`403`,
  `603`).
- An attended transfer's `Replaces` names a dialog the transferee or the target does not know
  (`481`, `488`), often because a B2BUA or SBC between them changed Call-ID and tags.
- The transfer target is busy, unknown or unreachable (`486`, `404`, `480`, `408`, `503` in the
  sipfrag).
- The transferee cannot reach the target: no route, wrong domain in `Refer-To`, or a
  `Refer-To` URI with a private address.

## How to fix
- Read the status: in the REFER's response (the transferee refused) or in the sipfrag (the
  target refused the transferee's INVITE); `sipflow explain <code>` says what it means.
- pjsua2: `Call.xfer(dest, prm)` for a blind transfer, `Call.xferReplaces(other_call, prm)`
  for an attended one; watch `onCallTransferStatus()` (`prm.statusCode`, `prm.finalNotify`) and
  tell the user when it fails.
- Check the `Refer-To` URI (target, domain, transport) and that a B2BUA on the path handles
  REFER and `Replaces` (or performs the transfer itself).

## Example
From `fixtures/rules-traffic/transfer/target-busy/transferor.log` (pjsua2 `Call.xfer()` to a
target that answers 486):
```
TX REFER sip:transferee@…  Refer-To: sip:target@127.0.0.1:6245    → RX 202 Accepted
RX NOTIFY  Event: refer  Subscription-State: active;expires=600      SIP/2.0 100 Trying
RX NOTIFY  Event: refer  Subscription-State: terminated;reason=noresource
           Content-Type: message/sipfrag;version=2.0                 SIP/2.0 486 Busy Here
```
The same transfer to a target that answers (`transfer/ok`, sipfrag `SIP/2.0 200 OK`) is not
reported; `transfer/refer-refused` is a REFER refused with `603 Decline`.

## References
- RFC 3515 (REFER, the implicit subscription and its NOTIFYs), RFC 3420 (message/sipfrag)
- RFC 5589 (SIP call control: transfer), RFC 3891 (Replaces)
- pjsua2 `Call::xfer`, `Call::onCallTransferStatus`
"#;

/// One REFER transaction.
struct Refer {
    request: usize,
    ts: Timestamp,
    seq: u32,
    final_response: Option<(usize, u16)>,
    credentials: bool,
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    let mut refers: Vec<Refer> = Vec::new();
    for t in model.transactions.iter().filter(|t| t.method == "REFER") {
        let Some(&request) = t.messages.iter().find(|&&w| {
            model
                .message(w)
                .parsed()
                .is_some_and(|m| m.method() == Some("REFER"))
        }) else {
            continue;
        };
        let ev = model.message(request);
        let Some(msg) = ev.parsed() else { continue };
        let final_response = t.messages.iter().find_map(|&w| {
            let m = model.message(w).parsed()?;
            let code = m.status().filter(|&c| c >= 200)?;
            (m.cseq()?.method == "REFER").then_some((w, code))
        });
        refers.push(Refer {
            request,
            ts: ev.ts,
            seq: msg.cseq().map_or(0, |c| c.seq),
            final_response,
            credentials: msg.credentials().is_some(),
        });
    }
    refers.sort_by_key(|r| (r.ts, r.request));
    // A B2BUA relays one REFER on each leg: one transfer, one finding per group of legs.
    let mut reported: Vec<(usize, u16)> = Vec::new();
    for (i, r) in refers.iter().enumerate() {
        let owner = model.message_owner[r.request];
        let later = refers[i + 1..]
            .iter()
            .filter(|l| model.message_owner[l.request] == owner);
        match r.final_response {
            Some((_, 481)) | None => {}
            Some((_, 200..=299)) => {
                if let Some(f) = sipfrag_failure(ctx, r, refers.get(i + 1..).unwrap_or(&[])) {
                    out.push(f);
                }
            }
            Some((_, 401 | 407)) if later.clone().any(|l| l.credentials) => {}
            Some((w, code)) => {
                let group = match owner {
                    Some(crate::dialog::Owner::Call(c)) => Some(model.calls[c].group),
                    _ => None,
                };
                if let Some(g) = group {
                    if reported.contains(&(g, code)) {
                        continue;
                    }
                    reported.push((g, code));
                }
                out.push(refused(ctx, r, w, code));
            }
        }
    }
}

/// The target of a REFER, for messages.
fn refer_to(m: &SipMessage) -> String {
    m.first(HeaderName::ReferTo)
        .map(|v| {
            let v = v.trim();
            // Drop an embedded Replaces (`?Replaces=…`): long, and not the target.
            let cut = v.find('?').map_or(v, |q| &v[..q]);
            let cut = cut.trim_end_matches('>');
            crate::report::printable(cut.trim_start_matches('<'))
        })
        .unwrap_or_else(|| "?".into())
}

fn refused(ctx: &Context<'_>, r: &Refer, response: usize, code: u16) -> Finding {
    let model = ctx.model;
    let req = model.message(r.request).parsed();
    let target = req.map(refer_to).unwrap_or_default();
    let reason = model
        .message(response)
        .parsed()
        .and_then(|m| m.reason_phrase())
        .unwrap_or("")
        .to_string();
    let attended = req
        .and_then(|m| m.first(HeaderName::ReferTo))
        .is_some_and(|v| v.to_ascii_lowercase().contains("replaces="));
    let kind = if attended { "attended " } else { "" };
    let x = crate::sip::status::explain(code);
    let challenge = if matches!(code, 401 | 407) {
        " (the challenge was not answered with a new REFER)"
    } else {
        ""
    };
    let message = format!(
        "{kind}transfer to {target} failed: the REFER (CSeq {}) was refused with {code} \
         {reason}{challenge}: {}; the call was not transferred",
        r.seq,
        x.meaning.trim_end_matches('.')
    );
    let owner = model.message_owner[r.request];
    let e = model.messages[response].event;
    let req_event = model.messages[r.request].event;
    Finding::new(&RULE, owner, message, x.action.to_string())
        .with_span(e, ctx.start_line_of(e), format!("REFER refused: {code}"))
        .with_span(
            req_event,
            ctx.header_of(req_event, HeaderName::ReferTo),
            "the transfer target",
        )
}

/// The final status line of a NOTIFY's `message/sipfrag` body, and its span.
fn sipfrag(m: &SipMessage) -> Option<(u16, Range<usize>)> {
    let ct = m.content_type()?;
    if !ct.to_ascii_lowercase().starts_with("message/sipfrag") {
        return None;
    }
    let body = m.body();
    let line_len = body
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(body.len());
    let line = std::str::from_utf8(body.get(..line_len)?).ok()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.eq_ignore_ascii_case("SIP/2.0") {
        return None;
    }
    let code: u16 = parts.next()?.parse().ok()?;
    let start = m.body_span().start;
    let trimmed = line.trim_end().len();
    (trimmed > 0).then_some((code, start..start + trimmed))
}

/// The NOTIFY of `r`'s subscription that reports a failed transfer, if any.
fn sipfrag_failure(ctx: &Context<'_>, r: &Refer, after: &[Refer]) -> Option<Finding> {
    let model = ctx.model;
    let owner = model.message_owner[r.request]?;
    let messages = match owner {
        crate::dialog::Owner::Call(c) => &model.calls[c].messages,
        crate::dialog::Owner::Flow(f) => &model.flows[f].messages,
    };
    // The next accepted REFER of the same owner starts another subscription.
    let until = after
        .iter()
        .filter(|l| model.message_owner[l.request] == Some(owner))
        .find(|l| {
            l.final_response
                .is_some_and(|(_, c)| (200..300).contains(&c))
        })
        .map(|l| l.ts);
    let seq = r.seq.to_string();
    let (notify, code, span) = messages.iter().find_map(|&w| {
        if model.messages[w].retransmission {
            return None;
        }
        let ev = model.message(w);
        let m = ev.parsed()?;
        if m.method() != Some("NOTIFY") || ev.ts < r.ts || until.is_some_and(|u| ev.ts >= u) {
            return None;
        }
        let (package, id) = event_of(m)?;
        if package != "refer" || id.is_some_and(|id| id != seq) {
            return None;
        }
        let (code, span) = sipfrag(m)?;
        (code >= 200).then_some((w, code, span))
    })?;
    if (200..300).contains(&code) {
        return None;
    }
    let req = model.message(r.request).parsed();
    let target = req.map(refer_to).unwrap_or_default();
    let x = crate::sip::status::explain(code);
    let message = format!(
        "transfer to {target} failed: the REFER (CSeq {}) was accepted, but the transferee \
         reports (NOTIFY, message/sipfrag) that its call to the target ended with {code}: {}; \
         the transferred party is not connected to the target",
        r.seq,
        x.meaning.trim_end_matches('.')
    );
    let help = format!(
        "the target refused the transferee's call: {}; tell the user (pjsua2: \
         onCallTransferStatus with finalNotify) and keep or retrieve the call",
        x.action.trim_end_matches('.')
    );
    let e = model.messages[notify].event;
    let req_event = model.messages[r.request].event;
    Some(
        Finding::new(&RULE, Some(owner), message, help)
            .with_span(e, span, format!("sipfrag: final status {code}"))
            .with_span(
                req_event,
                ctx.header_of(req_event, HeaderName::ReferTo),
                "the transfer target",
            ),
    )
}
