//! SF013 `redirect-not-followed`: a 3xx with a Contact, and no new INVITE to it.

use std::collections::HashMap;

use crate::dialog::Owner;
use crate::event::{LogKind, Timestamp};
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{Contact, HeaderName, SipMessage, Uri};

pub(super) const RULE: Rule = Rule {
    code: "SF013",
    name: "redirect-not-followed",
    severity: Severity::Warning,
    scope: Scope::Call,
    judges_time: false,
    summary: "a 3xx redirect with a Contact was not followed by an INVITE to that Contact",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A `3xx` final response to an INVITE (`301 Moved Permanently`, `302 Moved Temporarily`, `305`,
`380` …) that names one or more new targets in `Contact`, after which no INVITE was sent to
any of them: the caller ACKed the redirect and gave up. pjsua logs `Unhandled redirection for
call N (callback not implemented by application). Disconnecting call.` when the application
has no redirect callback; that line is reported too. A redirect that was followed (a new
INVITE whose Request-URI is one of the Contacts, as in `fixtures/rules/redirect-followed`) is
not reported.

## Why it matters
The call fails although the network told the caller where to reach the callee: call
forwarding, a moved user, a load-balancing redirect server or a failover target is ignored.
The user sees the call end at once, and with pjsua2 the `CallInfo` even says `487 Request
Terminated`, which hides the redirect.

## Severity
- **error** when the caller's own log shows the call ended at the 3xx: pjsua's `Unhandled
  redirection` line, or its INVITE session going from CALLING or EARLY to DISCONNECTED after
  the 3xx (a pjsua2 `Call` whose `onCallRedirected` returns the default
  `PJSIP_REDIRECT_STOP` logs no more than that);
- **warning** when only the wire shows it: no INVITE to the Contact in the 32 s the input
  covers after the 3xx (the new INVITE may also have gone where the input does not see);
- **info** when the input ends less than 32 s after the 3xx: the new INVITE may be outside it.

## Typical causes
- pjsua2: `Call::onCallRedirected()` is not overridden; its default returns
  `PJSIP_REDIRECT_STOP`, so the call ends. pjsua (C): no `on_call_redirected` callback.
- The application decides to stop (policy: do not follow redirects to other domains).
- The Contact of the 3xx is unusable (a wrong or unreachable URI), so the UA drops it.

## How to fix
If redirects should be followed, implement the callback: in pjsua2 override
`onCallRedirected(OnCallRedirectedParam &prm)` and return `PJSIP_REDIRECT_ACCEPT` (or
`PJSIP_REDIRECT_ACCEPT_REPLACE`, or `PJSIP_REDIRECT_PENDING` and later call
`Call::processRedirect()`); in pjsua set `on_call_redirected`. Otherwise have the redirect
server proxy the call instead of redirecting it.

## Example
From `fixtures/rules/redirect-not-followed/caller.log` (a pjsua2 caller without
`onCallRedirected`):
```
06:45:21.304  TX Request msg INVITE/cseq=26099   INVITE sip:callee@127.0.0.1:5650
06:45:21.306  RX Response msg 302/INVITE/cseq=26099
              Contact: <sip:target@127.0.0.1:5652>
06:45:21.306  TX Request msg ACK/cseq=26099      (and no INVITE to sip:target@127.0.0.1:5652)
```

## References
- RFC 3261 §8.1.3.4 (processing 3xx responses: try the Contact URIs)
- RFC 3261 §21.3 (3xx responses)
- pjsua2 `Call::onCallRedirected`, `Call::processRedirect`
  (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA2__CALL.html)
"#;

/// A target, compared by user, host and port.
type Target = (Option<String>, String, Option<u16>);

fn target(uri: &str) -> Option<Target> {
    let u = Uri::parse(uri)?;
    Some((u.user, u.host.to_ascii_lowercase(), u.port))
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    // The time of the last INVITE sent to each target, for the look-ups below.
    let mut invites: HashMap<Target, Timestamp> = HashMap::new();
    for w in 0..ctx.model.messages.len() {
        let ev = ctx.model.message(w);
        let Some(m) = ev.parsed() else { continue };
        if m.method() != Some("INVITE") {
            continue;
        }
        if let Some(t) = m.request_uri().and_then(target) {
            let last = invites.entry(t).or_insert(ev.ts);
            *last = (*last).max(ev.ts);
        }
    }
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let unhandled = ctx
            .call_logs(ci)
            .find(|(_, l)| matches!(l.kind, LogKind::UnhandledRedirection { .. }));
        let mut reported = false;
        for &w in &call.messages {
            if ctx.model.messages[w].retransmission {
                continue;
            }
            let ev = ctx.model.message(w);
            let Some(resp) = ev.parsed() else { continue };
            let Some(code) = resp.status().filter(|c| (300..400).contains(c)) else {
                continue;
            };
            if resp.cseq().is_none_or(|c| c.method != "INVITE") {
                continue;
            }
            let contacts: Vec<String> = resp
                .contacts()
                .into_iter()
                .filter_map(|c| match c {
                    Contact::Addr { addr, .. } => Some(addr.uri_text),
                    Contact::Star => None,
                })
                .collect();
            if contacts.is_empty() && unhandled.is_none() {
                continue;
            }
            let followed = contacts
                .iter()
                .filter_map(|c| target(c))
                .any(|t| invites.get(&t).is_some_and(|&ts| ts >= ev.ts));
            if followed {
                continue;
            }
            // The caller's own log shows the call ended at the redirect: pjsua's word, or
            // its INVITE session ending after the 3xx.
            let ended = unhandled.or_else(|| {
                ctx.call_logs(ci).find(|(_, l)| {
                    l.ts >= ev.ts
                        && matches!(&l.kind, LogKind::InviteState { from, to }
                            if from != "INCOMING" && to == "DISCONNECTED")
                })
            });
            if let Some(f) = finding(ctx, ci, w, resp, code, &contacts, ended) {
                out.push(f);
                reported = true;
            }
        }
        // The log line alone (no 3xx dump in the inputs).
        if !reported && let Some((e, l)) = unhandled {
            let mut f = Finding::new(
                &RULE,
                Some(Owner::Call(ci)),
                format!(
                    "{} logs `{}`: the call was redirected and the application has no \
                     redirect callback",
                    ctx.input_name(l.origin.input),
                    l.text
                ),
                HELP.into(),
            )
            .with(e, l.text.clone());
            // The application's own word: the call ended at the redirect.
            f.severity = Severity::Error;
            out.push(f);
        }
    }
}

const HELP: &str = "to follow redirects, override Call::onCallRedirected in pjsua2 and return \
                    PJSIP_REDIRECT_ACCEPT (or PENDING and call processRedirect later); in pjsua \
                    set on_call_redirected; otherwise have the server proxy the call instead";

fn finding(
    ctx: &Context<'_>,
    ci: usize,
    w: usize,
    resp: &SipMessage,
    code: u16,
    contacts: &[String],
    ended: Option<(usize, &crate::event::LogEvent)>,
) -> Option<Finding> {
    let seq = resp.cseq()?.seq;
    let phrase = resp.reason_phrase().unwrap_or("");
    let to = if contacts.is_empty() {
        "no Contact".to_string()
    } else {
        contacts.join(", ")
    };
    let mut message = format!(
        "{code} {phrase} to the INVITE (CSeq {seq}) pointed to {to}, but no INVITE to {} \
         followed: the call ended at the redirect",
        if contacts.len() > 1 {
            "any of them"
        } else {
            "it"
        }
    );
    if let Some((_, l)) = ended {
        message.push_str(&format!(
            "; {} logs `{}`",
            ctx.input_name(l.origin.input),
            l.text
        ));
    }
    // The Contact the redirect points to (the status line when it has none).
    let span = resp
        .headers_named(HeaderName::Contact)
        .find(|h| {
            resp.contacts_in(h)
                .iter()
                .any(|c| matches!(c, Contact::Addr { .. }))
        })
        .map_or_else(|| resp.start_span(), |h| h.span.clone());
    let covered = ctx.covered_after(w);
    let severity = if ended.is_some() {
        // The caller's own log says the call ended at the redirect: the call failed.
        Severity::Error
    } else if covered < FOLLOW_DUE_MS {
        message.push_str(&format!(
            " (but the input ends {} after the {code}: the new INVITE may be outside it)",
            crate::rules::secs(covered)
        ));
        Severity::Info
    } else {
        Severity::Warning
    };
    let mut f = Finding::new(&RULE, Some(Owner::Call(ci)), message, HELP.into()).with_span(
        ctx.model.messages[w].event,
        span,
        format!("{code} {phrase}: redirect not followed"),
    );
    f.severity = severity;
    if let Some((e, l)) = ended {
        f = f.with(e, l.text.clone());
    }
    Some(f)
}

/// How long after a 3xx the input must go on to show that no INVITE to its Contact came (a
/// UA follows at once; 64×T1 leaves room for a DNS look-up).
const FOLLOW_DUE_MS: i64 = 32_000;
