//! SF027 `call-rejected`: a call ended with a 4xx–6xx final response; the status explained.

use super::{Context, Diagnoses, Finding, Rule, Scope, Severity};
use crate::dialog::{Call, Model, Outcome, Owner};

pub(super) const RULE: Rule = Rule {
    code: "SF027",
    name: "call-rejected",
    severity: Severity::Info,
    scope: Scope::Call,
    judges_time: false,
    summary: "a call got a 4xx-6xx final response (with the status code explained)",
    docs: r#"## What it detects
Any INVITE whose final response is 4xx, 5xx or 6xx (and no 2xx), with the explanation of that
status code: what it means, when it is seen, what to do. A 487 Request Terminated that follows
the caller's own CANCEL is the normal end of a cancelled call and is not reported.

The finding uses the call's outcome word (`sipflow calls`): `rejected` for a 4xx/6xx, `busy`
for 486 and 600, `failed` for 408 and 5xx. When another rule diagnoses the status (e.g.
`call-object-freed-early` shows that a 603 was not declined by anyone), the finding gives that
diagnosis instead of the code's generic meaning.

## Why it matters
A rejection is not always a bug (486 Busy Here, 603 Decline are people's choices), but it is
always the first thing to read when a call "did not work". The explanation says whether to look
at the network, the account, the codecs or the application.

## Severity
Always **info**: it explains a status code. Whether the rejection is a fault is for the rules
that find its cause (`no-common-codec`, `auth-failed`, `call-object-freed-early`, …), which
raise their own warning or error.

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
        if call.outcome == Outcome::Cancelled {
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
            headline(call, &format!("{code} {reason}"), x.meaning),
            x.action.to_string(),
        );
        if let Some(w) = final_event {
            let e = ctx.model.messages[w].event;
            f = f.with_span(e, ctx.start_line_of(e), format!("{code} {reason}"));
        }
        out.push(f);
    }
}

/// `call rejected with 404 Not Found: <meaning>`, in the words of the call's outcome.
fn headline(call: &Call, status: &str, meaning: &str) -> String {
    match call.outcome {
        Outcome::Busy => format!("callee busy ({status}): {meaning}"),
        Outcome::Failed => format!("call failed with {status}: {meaning}"),
        _ => format!("call rejected with {status}: {meaning}"),
    }
}

/// Gives `f`, if it is this rule's, the diagnosis another rule made of its call's status
/// instead of the code's generic meaning (see [`crate::rules::Finding::explains_status`]).
pub(super) fn diagnosed(model: &Model, diagnoses: &Diagnoses, f: &mut Finding) {
    if f.rule.code != RULE.code {
        return;
    }
    let Some(Owner::Call(ci)) = f.owner else {
        return;
    };
    let (Some(d), Some(call)) = (diagnoses.get(Owner::Call(ci)), model.calls.get(ci)) else {
        return;
    };
    if d.rule.code == RULE.code {
        return;
    }
    let status = call
        .final_reason
        .as_deref()
        .map_or(String::new(), |r| format!(" {r}"));
    let how = format!("{}{status}, diagnosed by {}", d.code, d.rule.name);
    f.message = headline(call, &how, &d.text);
    f.help = d.help.clone();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_uses_the_outcome_word() {
        let call = |code: u16, outcome: Outcome| {
            let mut c = Call::new(1, "c".into(), None, 0, Default::default());
            c.final_status = Some(code);
            c.outcome = outcome;
            c
        };
        // The words of `sipflow calls`: 500 failed, 486 busy, 404 rejected.
        let failed = headline(&call(500, Outcome::Failed), "500 Server Error", "m");
        assert_eq!(failed, "call failed with 500 Server Error: m");
        let busy = headline(&call(486, Outcome::Busy), "486 Busy Here", "m");
        assert_eq!(busy, "callee busy (486 Busy Here): m");
        let rejected = headline(&call(404, Outcome::Rejected), "404 Not Found", "m");
        assert_eq!(rejected, "call rejected with 404 Not Found: m");
        for (code, word) in [(500, "failed"), (486, "busy"), (404, "rejected")] {
            let outcome = match word {
                "failed" => Outcome::Failed,
                "busy" => Outcome::Busy,
                _ => Outcome::Rejected,
            };
            assert!(headline(&call(code, outcome), "", "").contains(word));
            assert_eq!(outcome.as_str(), word);
        }
    }
}
