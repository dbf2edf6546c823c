//! SF021 `malformed-message`: a SIP message that does not parse.

use super::{Context, Finding, Rule, Scope, Severity};

pub(super) const RULE: Rule = Rule {
    code: "SF021",
    name: "malformed-message",
    severity: Severity::Warning,
    scope: Scope::Message,
    summary: "a SIP message that does not parse",
    docs: r#"## What it detects
A message (a log dump or a packet recognised as SIP) whose start line or header block does not
follow the RFC 3261 grammar. The finding points at the place where parsing stopped.

Not reported: a message that the input holds only in part (an excerpt or a capture that starts
or ends inside it, a capture that lost bytes of it, a pjsip dump cut by the log record limit).
What is missing there was never in the input; it is not malformed.

## Why it matters
Every SIP element that receives it will reject or, worse, misread it: a request may get a 400
Bad Request or be dropped silently, and the call fails with a timeout far from the cause.

## Severity
Always **warning**: a message that does not parse cannot be matched to its transaction, so
the trace cannot show what became of it (a strict receiver rejects it; a lenient one may guess).

## Typical causes
- Hand-built messages in an application or a test tool (missing `SIP/2.0`, wrong line ends).
- A broken ALG or SBC rewriting packets.
- Memory corruption or a bit-flipping network path.

## How to fix
Find who builds or rewrites the message (the `Via` and `User-Agent` of neighbouring messages
tell), fix the generator, or disable the SIP ALG on the router.

## Example
```
CANCEL sip:97239287044@voip.brujula.net SIP/2.0\r7Via: SIP/2.0/UDP …
```
A stray CR without LF ends the start line early.

## References
- RFC 3261 §7 (SIP messages), §25 (augmented BNF)
"#,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for (w, wire) in ctx.model.messages.iter().enumerate() {
        let ev = ctx.model.message(w);
        // A message the input holds only in part is not malformed.
        let (Err(u), None) = (&ev.msg, ev.cut) else {
            continue;
        };
        out.push(
            Finding::new(
                &RULE,
                ctx.model.message_owner[w],
                format!("the message does not parse: {}", u.error.message),
                "find who builds or rewrites this message (the Via and User-Agent of the \
                 neighbouring messages tell) and fix it; check for a SIP ALG on the path"
                    .into(),
            )
            .with_span(wire.event, u.error.span.clone(), u.error.message.clone()),
        );
    }
}
