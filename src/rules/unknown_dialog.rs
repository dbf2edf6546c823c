//! SF007 `unknown-dialog`: a 481 Call/Transaction Does Not Exist to an in-dialog request.

use std::ops::Range;

use crate::dialog::Owner;
use crate::event::Timestamp;
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{Contact, HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF007",
    name: "unknown-dialog",
    severity: Severity::Error,
    scope: Scope::Transaction,
    judges_time: true,
    summary: "an in-dialog request got 481 Call/Transaction Does Not Exist",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A `481 Call/Transaction Does Not Exist` response to a request sent inside a dialog (BYE,
re-INVITE, UPDATE, INFO, PRACK, REFER …): the receiver has no
dialog matching the Call-ID and tags. The finding names the dialog, how long it had existed,
and what the trace shows about why: the far end had already ended it with its own BYE (the
requests crossed), or the request was sent to another target than the far end's Contact.
A 481 to a CANCEL (the INVITE was already answered) is not reported here; see
`cancel-answer-race`. Nor is a 481 to a NOTIFY or a SUBSCRIBE refresh: a lost subscription
is `subscription-failed`'s.

## Why it matters
The two ends disagree about whether the call exists. A BYE answered 481 leaves nothing to
clean up on the far side, but a re-INVITE, UPDATE or INFO answered 481 means hold, transfer,
DTMF or session refresh fail, and pjsip ends the call after a 481 to a re-INVITE/UPDATE.
Often one side keeps a "zombie" call (media still flowing, billing still running).

## Severity
- **error** for a request that needed the dialog (re-INVITE, UPDATE, INFO, PRACK, REFER,
  NOTIFY, …): it failed, and what it carried (hold, a refresh, DTMF, a transfer) with it;
- **warning** for a BYE: the call is over on both sides anyway, but the far end had lost the
  dialog before (a restart, a timeout, a wrong target), which is worth a look;
- **info** for a BYE that crossed the far end's own BYE: both ended the call at once, a
  harmless race.

## Typical causes
- The far end already tore the dialog down (its BYE crossed ours, or it timed out the call:
  missing ACK, session timer, media timeout) and the request came after.
- The far end restarted or failed over and lost its dialog state (no replication on a PBX or
  SBC cluster).
- The request reached the wrong box: a request sent to an old or wrong Contact, a broken
  Record-Route set, a load balancer that sends in-dialog requests to another node.
- Tags or Call-ID changed by a B2BUA/SBC on one side only (topology hiding done wrong).

## How to fix
Send in-dialog requests to the remote target (the Contact of the 2xx/UPDATE) through the
route set of the dialog; keep dialog state across restarts or fail-overs (or pin dialogs to
one node); handle the far end's BYE before sending new requests. For a 481 on a re-INVITE in
pjsua2, the call is disconnected by pjsip: clean up in `onCallState(DISCONNECTED)`.

## Example
From `fixtures/rules/unknown-dialog/reinvite-481/caller.log` (a SIPp UAS that forgets the
dialog after the ACK):
```
06:45:47.559  RX Response msg 200/INVITE/cseq=25479, TX Request msg ACK   (dialog confirmed)
06:45:48.569  TX Request msg INVITE/cseq=25480                            (re-INVITE)
06:45:48.569  RX Response msg 481/INVITE/cseq=25480  → TX ACK
06:45:48.569  TX Request msg BYE/cseq=25481
              Reason: SIP ;cause=481 ;text="Call/Transaction Does Not Exist"
06:45:48.569  RX Response msg 481/BYE/cseq=25481
```

## References
- RFC 3261 §12.2.2 (a UAS answers 481 to a request that matches no dialog)
- RFC 3261 §21.4.19 (481 Call/Transaction Does Not Exist)
- RFC 3261 §14.1 (a 481 to a re-INVITE: the UAC terminates the dialog)
- RFC 5057 (multiple dialog usages and the meaning of 481)
"#;

/// Requests that only make sense inside a dialog.
fn in_dialog_method(method: &str) -> bool {
    matches!(
        method,
        "BYE" | "ACK" | "UPDATE" | "INFO" | "PRACK" | "REFER" | "NOTIFY"
    )
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (w, wire) in ctx.model.messages.iter().enumerate() {
        if wire.retransmission {
            continue;
        }
        let ev = ctx.model.message(w);
        let Some(resp) = ev.parsed() else { continue };
        if resp.status() != Some(481) {
            continue;
        }
        let Some(cseq) = resp.cseq() else { continue };
        // A CANCEL's 481 is cancel-answer-race's; a subscription's (NOTIFY, SUBSCRIBE) is
        // subscription-failed's: one problem, one finding.
        if matches!(cseq.method.as_str(), "CANCEL" | "NOTIFY" | "SUBSCRIBE") {
            continue;
        }
        // The request the 481 answers, from its transaction.
        let request = wire.tsx.and_then(|t| {
            ctx.model.transactions[t]
                .messages
                .iter()
                .copied()
                .find(|&r| {
                    ctx.model
                        .message(r)
                        .parsed()
                        .is_some_and(|m| m.method() == Some(cseq.method.as_str()))
                })
        });
        let req_msg = request.and_then(|r| ctx.model.message(r).parsed());
        let in_dialog = match req_msg {
            Some(m) => m.to().is_some_and(|t| t.tag().is_some()),
            None => in_dialog_method(&cseq.method),
        };
        if !in_dialog {
            continue;
        }
        let owner = ctx.model.message_owner[w];
        let sender_tag = resp.from_tag();
        let peer_tag = req_msg.and_then(|m| m.to_tag());
        let t_req = request.map_or(ev.ts, |r| ctx.model.message(r).ts);
        let who = match owner {
            Some(Owner::Call(ci)) => {
                if sender_tag.is_some() && sender_tag == ctx.model.calls[ci].caller_tag.as_deref() {
                    "the caller"
                } else {
                    "the callee"
                }
            }
            _ => "",
        };
        let who = if who.is_empty() {
            request
                .and_then(|r| ctx.model.messages[r].src.as_deref().map(str::to_string))
                .unwrap_or_else(|| "its sender".to_string())
        } else {
            who.to_string()
        };
        let peer = ev
            .src
            .as_deref()
            .or(wire.src.as_deref())
            .map(|s| format!("the far end ({s})"))
            .unwrap_or_else(|| "the far end".to_string());
        let call_id = resp.call_id().unwrap_or_default().into_owned();
        let mut message = format!(
            "{} (CSeq {}) from {who} got 481 Call/Transaction Does Not Exist: {peer} has no \
             dialog with Call-ID {call_id}",
            cseq.method, cseq.seq
        );
        let mut hints: Vec<String> = Vec::new();
        let mut extra: Vec<(usize, Option<Range<usize>>, String)> = Vec::new();
        // The far end had sent its own BYE before: the requests crossed.
        let mut crossed = false;
        if let Some(Owner::Call(ci)) = owner {
            let msgs: Vec<(usize, Timestamp, &SipMessage)> = ctx.model.calls[ci]
                .messages
                .iter()
                .filter_map(|&x| {
                    let e = ctx.model.message(x);
                    Some((x, e.ts, e.parsed()?))
                })
                .collect();
            // The dialog's establishment: the last 2xx to an INVITE from the peer before the
            // request, and its Contact (the remote target).
            let established = msgs.iter().rev().find(|(_, t, m)| {
                *t <= t_req
                    && m.status().is_some_and(|c| (200..300).contains(&c))
                    && m.cseq().is_some_and(|c| c.method == "INVITE")
                    && (peer_tag.is_none() || m.to_tag() == peer_tag)
                    && m.from_tag() == sender_tag
            });
            if let Some(&(x, t, m)) = established {
                message.push_str(&format!(
                    " (the dialog was established {} earlier)",
                    crate::rules::secs(t.ms_until(t_req))
                ));
                let contact = m.contacts().into_iter().find_map(|c| match c {
                    Contact::Addr { addr, .. } => Some(addr.uri_text),
                    Contact::Star => None,
                });
                if let (Some(contact), Some(ruri)) =
                    (contact, req_msg.and_then(|r| r.request_uri()))
                    && !same_target(&contact, ruri)
                {
                    hints.push(format!(
                        "the request went to {ruri}, but the far end's Contact (the remote \
                         target) is {contact}"
                    ));
                    extra.push((
                        ctx.model.messages[x].event,
                        m.header_span(HeaderName::Contact),
                        "the 2xx with the Contact".into(),
                    ));
                }
            }
            // The peer's own BYE before ours: the requests crossed.
            if let Some(&(x, t, _)) = msgs.iter().find(|(_, t, m)| {
                *t <= t_req
                    && m.method() == Some("BYE")
                    && peer_tag.is_some()
                    && m.from_tag() == peer_tag
            }) {
                crossed = true;
                hints.push(format!(
                    "the far end had already ended the dialog with its own BYE {} before",
                    crate::rules::secs(t.ms_until(t_req))
                ));
                extra.push((
                    ctx.model.messages[x].event,
                    None,
                    "the far end's BYE".into(),
                ));
            }
        }
        if hints.is_empty() {
            message.push_str(
                ": it lost or never had the dialog (restart, fail-over, a request routed to \
                 another node, or a dialog it already ended)",
            );
        } else {
            message.push_str(": ");
            message.push_str(&hints.join("; "));
        }
        let help = "send in-dialog requests to the remote target (the 2xx's Contact) through the \
                    dialog's route set; make the far end keep dialog state across restarts and \
                    fail-overs; stop sending requests in a dialog the far end has ended";
        let severity = match cseq.method.as_str() {
            "BYE" if crossed => Severity::Info,
            "BYE" => Severity::Warning,
            _ => Severity::Error,
        };
        let mut f = Finding::new(&RULE, owner, message, help.into()).with_span(
            wire.event,
            resp.start_span(),
            format!("481 to {} (CSeq {})", cseq.method, cseq.seq),
        );
        if let Some(r) = request {
            // Its request line: the target it was sent to.
            let e = ctx.model.messages[r].event;
            f = f.with_span(
                e,
                ctx.start_line_of(e),
                format!("the {} the far end did not recognise", cseq.method),
            );
        }
        for (e, span, label) in extra {
            f = f.with_span(e, span, label);
        }
        f.severity = severity;
        out.push(f);
    }
}

/// Whether two URIs name the same target (user, host and port; parameters ignored).
fn same_target(a: &str, b: &str) -> bool {
    match (crate::sip::Uri::parse(a), crate::sip::Uri::parse(b)) {
        (Some(x), Some(y)) => {
            x.user == y.user && x.host.eq_ignore_ascii_case(&y.host) && x.port == y.port
        }
        _ => a == b,
    }
}
