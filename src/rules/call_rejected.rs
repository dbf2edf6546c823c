//! SF027 `call-rejected`: a call ended with a 4xx–6xx final response; the status explained.

use super::{Context, Finding, Rule, Scope, Severity};
use crate::dialog::Owner;

pub(super) const RULE: Rule = Rule {
    code: "SF027",
    name: "call-rejected",
    severity: Severity::Info,
    scope: Scope::Call,
    summary: "a call got a 4xx-6xx final response (with the status code explained)",
    docs: r#"## What it detects
Any INVITE whose final response is 4xx, 5xx or 6xx (and no 2xx), with the explanation of that
status code: what it means, when it is seen, what to do. A 487 Request Terminated that follows
the caller's own CANCEL is the normal end of a cancelled call and is not reported.

## Why it matters
A rejection is not always a bug (486 Busy Here, 603 Decline are people's choices), but it is
always the first thing to read when a call "did not work". The explanation says whether to look
at the network, the account, the codecs or the application.

## Typical causes
Whatever the status code says: see `sipflow explain <code>`. For example 486 and 600 are busy,
603 is an explicit decline, 404 an unknown user, 488 no common codec, 503 an overloaded or
unreachable next hop.

## How to fix
Follow the explanation's advice for the code. Respect a 603 or 600: do not retry elsewhere
automatically.

## Example
```
INVITE → 100 Trying → 486 Busy Here → ACK
```

## References
- RFC 3261 §21 (response codes), IANA SIP response code registry
"#,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        // A 487 after the caller's own CANCEL is the normal end of a cancelled call.
        if call.outcome == crate::dialog::Outcome::Cancelled {
            continue;
        }
        let Some(code) = call.final_status.filter(|c| (400..700).contains(c)) else {
            continue;
        };
        let x = crate::sip::status::explain(code);
        let reason = call.final_reason.as_deref().unwrap_or(x.reason);
        let final_event = call.messages.iter().rev().copied().find(|&w| {
            ctx.model
                .message(w)
                .parsed()
                .is_some_and(|m| m.status() == Some(code))
        });
        let mut f = Finding::new(
            &RULE,
            Some(Owner::Call(ci)),
            format!("call rejected with {code} {reason}: {}", x.meaning),
            x.action.to_string(),
        );
        if let Some(w) = final_event {
            let e = ctx.model.messages[w].event;
            f = f.with_span(e, ctx.start_line_of(e), format!("{code} {reason}"));
        }
        out.push(f);
    }
}
