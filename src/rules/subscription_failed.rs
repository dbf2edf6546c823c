//! SF032 `subscription-failed`: a SUBSCRIBE refused, or a subscription lost (481 to a NOTIFY
//! or to a refresh).
//!
//! Owns: grouping SUBSCRIBE and NOTIFY transactions into subscriptions (call or flow, event
//! package and id), what counts as recovered (a challenge answered, a 423 retried), and when a
//! 481 is only the end of a subscription the subscriber had already left. Also the `Event`
//! header reading that `transfer-failed` shares. Does not own: a REFER's outcome
//! (`transfer-failed`), other in-dialog 481s (`unknown-dialog`).

use std::collections::BTreeMap;

use crate::dialog::Owner;
use crate::event::Timestamp;
use crate::rules::{Context, Finding, Rule, Scope, Severity, owner_sort_key};
use crate::sip::{HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF032",
    name: "subscription-failed",
    severity: Severity::Error,
    scope: Scope::Dialog,
    judges_time: false,
    summary: "a SUBSCRIBE was refused, or the subscription was lost (481 to a NOTIFY or a refresh)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
An event subscription (RFC 6665: presence, `dialog` for BLF, `message-summary` for MWI, `reg`,
`refer`, or any other package) that failed or was lost:

- a SUBSCRIBE refused with a final `4xx`–`6xx` (`403`, `404`, `405`, `489 Bad Event` …), other
  than a `401`/`407` challenge answered with a new SUBSCRIBE, or a `423 Interval Too Brief`
  followed by a new SUBSCRIBE;
- a refresh SUBSCRIBE (inside the subscription's dialog) answered `481`: the notifier has lost
  the subscription;
- a NOTIFY answered `481` (or another final `4xx`–`6xx` that is not a challenge): the
  subscriber no longer has the subscription.

A 481 to a NOTIFY or to a SUBSCRIBE is reported here, not also by `unknown-dialog`. Not
reported: a 481 after the subscriber unsubscribed (SUBSCRIBE with `Expires: 0`), to a NOTIFY
that itself ends the subscription (`Subscription-State: terminated`), to a NOTIFY of a
transfer after the transferor hung up (the usual end of a blind transfer), and an unsubscribe
that is refused. SUBSCRIBE and NOTIFY transactions are grouped into subscriptions by call or
flow (Call-ID) and by the `Event` package and its `id`; one finding per subscription, at its
first failure, with the others counted.

## Why it matters
Without the subscription, nothing tells the subscriber about changes: buddy lists show
contacts offline (presence), busy lamp fields stay dark (dialog), the voicemail light does not
come on (message-summary), a transferor does not learn the outcome of a transfer (refer). The
failure is silent: calls still work, so it is noticed late.

## Severity
An error when the trace shows the subscription is gone: refused, or lost on a 481. Lowered
to a warning when a later SUBSCRIBE of the same subscription succeeded (it recovered), and for
a transfer's subscription (`Event: refer`), whose loss only hides the transfer's progress.

## Typical causes
- The notifier does not support the event package (`489 Bad Event`) or SUBSCRIBE at all
  (`405`, `501`).
- Policy: the watcher is not allowed to see the resource (`403`), the resource is unknown
  (`404`).
- The notifier or subscriber restarted or failed over and lost its subscription state; a
  proxy or SBC sends the refresh or the NOTIFY to another node; a B2BUA that does not keep
  subscription dialogs (481).
- NAT or a changed Contact: NOTIFYs reach an old address, or a device that no longer has the
  subscription.

## How to fix
- Check the event package and the resource URI, and that the notifier allows the watcher
  (presence rules, BLF permissions).
- Keep subscription state across restarts and fail-overs, or let the subscriber re-subscribe
  on a 481 (RFC 6665 §4.1.2.4: a new SUBSCRIBE outside the dialog).
- pjsua2: `Buddy.create()` then `subscribePresence(True)`; watch `onBuddyEvSubState()` for
  the state and the termination reason, and re-subscribe on failure. For MWI, `mwiConfig`
  in the account config.

## Example
From `fixtures/rules-traffic/subscription/notify-481/ua.log` (a pjsua2 buddy subscription to a
SIPp notifier whose second NOTIFY the subscriber no longer knows):
```
TX SUBSCRIBE sip:buddy@127.0.0.1:6254  Event: presence      → RX 202 Accepted
RX NOTIFY  Subscription-State: active;expires=600            → TX 200 OK
RX NOTIFY  (another From tag: a node without the dialog)      → TX 481 Call/Transaction Does Not Exist
```
`subscription/refused` is a SUBSCRIBE answered `489 Bad Event`; `subscription/ok` a
subscription that works and is ended by an unsubscribe (not reported).

## References
- RFC 6665 (SIP-specific event notification), §4.1.2.4 (a 481 ends the subscription), §4.2.2
- RFC 3856 (presence), RFC 4235 (dialog package, BLF), RFC 3842 (message-summary, MWI),
  RFC 3515 (refer)
- pjsua2 `Buddy`, `BuddyConfig.subscribe`, `Buddy::onBuddyEvSubState`
"#;

/// The event package (lowercase) and `id` parameter of a message's `Event` header.
pub(super) fn event_of(m: &SipMessage) -> Option<(String, Option<String>)> {
    let v = m.first(HeaderName::Event)?;
    let mut parts = v.split(';');
    let package = parts.next()?.trim().to_ascii_lowercase();
    let id = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("id")
            .then(|| v.trim().trim_matches('"').to_string())
    });
    (!package.is_empty()).then_some((package, id))
}

/// One SUBSCRIBE or NOTIFY transaction.
struct Item {
    notify: bool,
    request: usize,
    ts: Timestamp,
    final_response: Option<(usize, u16)>,
    credentials: bool,
    /// An unsubscribe (`Expires: 0`).
    unsubscribe: bool,
    /// Inside the subscription's dialog (a To tag).
    in_dialog: bool,
    /// A NOTIFY with `Subscription-State: terminated`.
    terminated: bool,
}

/// A subscription: (owner sort key, package, id).
type Key = ((u8, usize), String, Option<String>);

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    let mut subs: BTreeMap<Key, (Option<Owner>, Vec<Item>)> = BTreeMap::new();
    for t in &model.transactions {
        let notify = match t.method.as_str() {
            "NOTIFY" => true,
            "SUBSCRIBE" => false,
            _ => continue,
        };
        let Some(&request) = t.messages.iter().find(|&&w| {
            model
                .message(w)
                .parsed()
                .is_some_and(|m| m.method() == Some(t.method.as_str()))
        }) else {
            continue;
        };
        let ev = model.message(request);
        let Some(msg) = ev.parsed() else { continue };
        let (package, id) = event_of(msg).unwrap_or_else(|| ("?".into(), None));
        let final_response = t.messages.iter().find_map(|&w| {
            let m = model.message(w).parsed()?;
            let code = m.status().filter(|&c| c >= 200)?;
            (m.cseq()?.method == t.method).then_some((w, code))
        });
        let owner = model.message_owner[request];
        let terminated = msg
            .first_named("Subscription-State")
            .is_some_and(|s| s.trim().to_ascii_lowercase().starts_with("terminated"));
        subs.entry((owner_sort_key(owner, request), package, id))
            .or_insert_with(|| (owner, Vec::new()))
            .1
            .push(Item {
                notify,
                request,
                ts: ev.ts,
                final_response,
                credentials: msg.credentials().is_some(),
                unsubscribe: !notify && msg.expires() == Some(0),
                in_dialog: msg.to_tag().is_some(),
                terminated,
            });
    }
    for ((_, package, _), (owner, mut items)) in subs {
        items.sort_by_key(|i| (i.ts, i.request));
        let failures: Vec<(usize, String)> = (0..items.len())
            .filter_map(|i| failure(ctx, owner, &items, i).map(|why| (i, why)))
            .collect();
        let Some((first, why)) = failures.first() else {
            continue;
        };
        let recovered = items[first + 1..].iter().any(|l| {
            !l.notify
                && !l.unsubscribe
                && l.final_response
                    .is_some_and(|(_, c)| (200..300).contains(&c))
        });
        out.push(finding(
            ctx,
            owner,
            &package,
            &items,
            (*first, why),
            &failures,
            recovered,
        ));
    }
}

/// Why item `i` failed, or `None` when it did not (or the failure is harmless).
fn failure(ctx: &Context<'_>, owner: Option<Owner>, items: &[Item], i: usize) -> Option<String> {
    let it = &items[i];
    let (w, code) = it.final_response?;
    if code < 300 {
        return None;
    }
    let model = ctx.model;
    let reason = model
        .message(w)
        .parsed()
        .and_then(|m| m.reason_phrase())
        .unwrap_or("")
        .to_string();
    let later = &items[i + 1..];
    let cseq = model
        .message(it.request)
        .parsed()
        .and_then(|m| m.cseq())
        .map_or(0, |c| c.seq);
    if !it.notify {
        let retried = later.iter().any(|l| !l.notify);
        return match code {
            401 | 407 if later.iter().any(|l| !l.notify && l.credentials) => None,
            423 if retried => None,
            _ if it.unsubscribe => None,
            481 if it.in_dialog => Some(format!(
                "the refresh SUBSCRIBE (CSeq {cseq}) got 481 {reason}: the notifier has lost \
                 the subscription"
            )),
            _ => Some(format!(
                "the SUBSCRIBE (CSeq {cseq}) was refused with {code} {reason}: {}",
                crate::sip::status::explain(code)
                    .meaning
                    .trim_end_matches('.')
            )),
        };
    }
    // A NOTIFY: a challenge is the notifier's to answer; other refusals end the subscription.
    if matches!(code, 401 | 407) {
        return None;
    }
    if code == 481 && (it.terminated || left_before(ctx, owner, items, i)) {
        return None;
    }
    Some(format!(
        "the subscriber answered a NOTIFY (CSeq {cseq}) with {code} {reason}: {}",
        if code == 481 {
            "it no longer has the subscription"
        } else {
            "the notifier ends the subscription on it"
        }
    ))
}

/// Whether the subscriber had left before NOTIFY `i`: it unsubscribed, or (a transfer's
/// subscription inside a call) the NOTIFY's recipient had sent BYE.
fn left_before(ctx: &Context<'_>, owner: Option<Owner>, items: &[Item], i: usize) -> bool {
    let it = &items[i];
    if items[..i].iter().any(|l| l.unsubscribe) {
        return true;
    }
    let model = ctx.model;
    let Some(Owner::Call(c)) = owner else {
        return false;
    };
    let Some(recipient) = model.message(it.request).parsed().and_then(|m| m.to_tag()) else {
        return false;
    };
    model.calls[c].messages.iter().any(|&w| {
        let ev = model.message(w);
        ev.ts <= it.ts
            && ev
                .parsed()
                .is_some_and(|m| m.method() == Some("BYE") && m.from_tag() == Some(recipient))
    })
}

/// What a subscriber misses without a subscription to `package`.
fn consequence(package: &str) -> String {
    match package {
        "presence" => "no presence updates (buddies show offline or stale)".into(),
        "dialog" => "no dialog-state updates (busy lamp fields stay dark)".into(),
        "message-summary" => "no voicemail (MWI) updates: the message light stays off".into(),
        "reg" => "no registration-state updates".into(),
        "refer" => "the transferor does not learn how the transfer ended".into(),
        "?" => "no more notifications".into(),
        p => format!("no more {} notifications", crate::report::printable(p)),
    }
}

fn finding(
    ctx: &Context<'_>,
    owner: Option<Owner>,
    package: &str,
    items: &[Item],
    (first, why): (usize, &String),
    failures: &[(usize, String)],
    recovered: bool,
) -> Finding {
    let model = ctx.model;
    let it = &items[first];
    let call_id = model
        .message(it.request)
        .parsed()
        .and_then(|m| m.call_id())
        .map(|c| crate::report::printable(&c))
        .unwrap_or_default();
    let what = if package == "?" {
        "subscription".to_string()
    } else {
        format!("{} subscription", crate::report::printable(package))
    };
    let mut message = format!("{what} (Call-ID {call_id}) failed: {why}");
    if failures.len() > 1 {
        message.push_str(&format!("; {} more failure(s) of it", failures.len() - 1));
    }
    if recovered {
        message.push_str("; a later SUBSCRIBE succeeded");
    } else {
        message.push_str(&format!("; {}", consequence(package)));
    }
    let help = "check the event package, the resource URI and the notifier's policy; keep \
                subscription state across restarts and fail-overs; on a 481, subscribe again \
                with a new SUBSCRIBE (pjsua2: watch onBuddyEvSubState and re-subscribe)";
    let mut f = Finding::new(&RULE, owner, message, help.into());
    if recovered || package == "refer" {
        f.severity = Severity::Warning.min(RULE.severity);
    }
    for (i, _) in failures.iter().take(3) {
        let item = &items[*i];
        let method = if item.notify { "NOTIFY" } else { "SUBSCRIBE" };
        if let Some((w, code)) = item.final_response {
            let e = model.messages[w].event;
            f = f.with_span(e, ctx.start_line_of(e), format!("{code} to the {method}"));
        }
        let e = model.messages[item.request].event;
        f = f.with_span(
            e,
            ctx.header_of(e, HeaderName::Event)
                .or_else(|| ctx.start_line_of(e)),
            format!("the {method}"),
        );
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_package_and_id() {
        let raw = "NOTIFY sip:a@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
                   From: <sip:b@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: c\r\n\
                   CSeq: 3 NOTIFY\r\nEvent: Refer;id=93\r\nContent-Length: 0\r\n\r\n";
        let m = SipMessage::parse(raw.as_bytes()).expect("parses");
        assert_eq!(event_of(&m), Some(("refer".into(), Some("93".into()))));
        let compact = raw.replace("Event: Refer;id=93", "o: presence");
        let m = SipMessage::parse(compact.as_bytes()).expect("parses");
        assert_eq!(event_of(&m), Some(("presence".into(), None)));
    }

    #[test]
    fn consequences_by_package() {
        assert!(consequence("message-summary").contains("MWI"));
        assert!(consequence("dialog").contains("busy lamp"));
        assert!(consequence("x-custom").contains("x-custom"));
    }
}
