//! SF021 `malformed-message`: a SIP message that does not parse.

use super::{Context, Finding, Rule, Scope, Severity};
use crate::event::Cut;

pub(super) const RULE: Rule = Rule {
    code: "SF021",
    name: "malformed-message",
    severity: Severity::Warning,
    scope: Scope::Message,
    summary: "a SIP message that does not parse",
    docs: r#"## What it detects
A message (a log dump or a packet recognised as SIP) whose start line or header block does not
follow the RFC 3261 grammar. The finding points at the place where parsing stopped.

Not reported: a message that the input starts or ends inside (an excerpt, a rotated log, a
capture that stops), or a pjsip dump cut by the log record limit. What is missing there was
never in the input, and the message went on the wire whole; it is not malformed. A message
the input holds damaged (bytes lost inside it: a snapshot length, a TCP gap, a paste that
collapsed its line breaks) and that therefore does not parse is reported as info, saying so:
it is the input's fault, not the sender's.

## Why it matters
Every SIP element that receives it will reject or, worse, misread it: a request may get a 400
Bad Request or be dropped silently, and the call fails with a timeout far from the cause.

## Severity
**Warning** for a whole message that does not parse: it cannot be matched to its
transaction, so the trace cannot show what became of it (a strict receiver rejects it; a
lenient one may guess). **Info** for a message the input holds damaged: the sender is not to
blame, and the finding only explains why the message is not read.

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
        let Err(u) = &ev.msg else {
            continue;
        };
        // Only part of it is in the input, and what is there went on the wire whole.
        if matches!(ev.cut, Some(Cut::InputEdge | Cut::RecordLimit)) {
            continue;
        }
        let finding = if ev.cut == Some(Cut::Damaged) {
            let mut f = Finding::new(
                &RULE,
                ctx.model.message_owner[w],
                format!(
                    "the message is damaged in the input (bytes of it were lost on the way into \
                     the log or capture) and does not parse: {}",
                    u.error.message
                ),
                "read the message from a better copy of the input (a capture with a full \
                 snapshot length, the log file rather than a paste)"
                    .into(),
            );
            f.severity = Severity::Info;
            f
        } else {
            Finding::new(
                &RULE,
                ctx.model.message_owner[w],
                format!("the message does not parse: {}", u.error.message),
                "find who builds or rewrites this message (the Via and User-Agent of the \
                 neighbouring messages tell) and fix it; check for a SIP ALG on the path"
                    .into(),
            )
        };
        out.push(finding.with_span(wire.event, u.error.span.clone(), u.error.message.clone()));
    }
}
