//! SF016 `thread-not-registered`: pjlib was called from a thread it does not know.

use std::collections::BTreeMap;

use crate::dialog::Outcome;
use crate::event::{Event, LogKind};
use crate::rules::{Context, Finding, Rule, Scope, Severity};

pub(super) const RULE: Rule = Rule {
    code: "SF016",
    name: "thread-not-registered",
    severity: Severity::Error,
    scope: Scope::Log,
    judges_time: false,
    summary: "pjlib was called from a thread not registered with it (assertion, crash)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
The pjlib assertion `Calling pjlib from unknown/external thread. You must register external
threads with pj_thread_register() before calling any pjlib functions.`, in a pjsip log or in
the process's stderr appended to it (the assertion is printed by the C library, not by the
pjsip logger, so it is often only on stderr).

## Why it matters
In a debug build (and the pip `pjsua2` wheels) the assertion aborts the process (`SIGABRT`,
exit code 134): every call of the application ends at once, with no BYE. Without assertions
the call goes on with a thread that has no pjlib thread descriptor: mutexes and the log
indentation misbehave and the process crashes later, far from the cause.

## Severity
**Error** when the line is pjlib's assertion (`Assertion failed`): the process aborts and every
call ends without a BYE. **Warning** when pjlib only warns: nothing has failed yet, but the
process uses pjlib state without a thread descriptor and may crash later.

## Typical causes
- A pjsua2 method (`call.getInfo()`, `call.hangup()`, `acc.setRegistration()` …) called from an
  application thread: a Python `threading.Thread`, a Java/Kotlin executor, a C# `Task`, an
  Android UI or callback thread, a GUI toolkit's thread.
- A timer or asyncio callback of the application's own event loop.
- Objects destroyed by a garbage collector thread (Java finalizers, .NET finalizers) that call
  into pjsua2.

## How to fix
Register every foreign thread before it calls pjsua2, once per thread:

```python
ep = pj.Endpoint.instance()
if not ep.libIsThreadRegistered():
    ep.libRegisterThread("worker")
```
(Java/C#: `Endpoint.instance().libRegisterThread("name")`.) Or keep all pjsua2 calls on one
thread (`uaConfig.mainThreadOnly = True` and post work to that thread). For garbage-collected
languages, destroy pjsua2 objects explicitly from a registered thread.

## Example
From `fixtures/rules-message-extra/thread-not-registered/app.console.log` (pjsip's console log and
the process's stderr in one file):
```
…  app.py !starting worker thread (not registered with pjlib)
python3: ../src/pj/os_core_unix.c:857: pj_thread_this: Assertion `!"Calling pjlib from unknown/external thread. You must " "register external threads with pj_thread_register() " "before calling any pjlib functions."' failed.
```

## References
- pjsua2 book, General Concepts, "Threading" and "Problems with Garbage Collection"
  (https://docs.pjsip.org/en/latest/pjsua2/general_concept.html)
- pjlib `pj_thread_register()` (https://docs.pjsip.org/en/latest/api/generated/pjlib/group/group__PJ__THREAD.html)
"#;

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    // input → the lines.
    let mut by_input: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (e, ev) in ctx.model.events.iter().enumerate() {
        if let Event::Log(l) = ev
            && matches!(l.kind, LogKind::ExternalThread)
        {
            by_input.entry(l.origin.input).or_default().push(e);
        }
    }
    for (input, lines) in by_input {
        let Some(&first) = lines.first() else {
            continue;
        };
        let Event::Log(l) = &ctx.model.events[first] else {
            continue;
        };
        let times = if lines.len() > 1 {
            format!(" ({} times)", lines.len())
        } else {
            String::new()
        };
        let aborted = l.text.contains("Assertion") || l.text.contains("failed");
        // Answered calls of this process that never saw a BYE: left up by the abort.
        let left_up: Vec<String> = ctx
            .model
            .calls
            .iter()
            .filter(|c| c.outcome == Outcome::Answered && c.duration_ms.is_none())
            .filter(|c| {
                c.messages.iter().any(|&w| {
                    ctx.model.messages[w]
                        .sightings
                        .iter()
                        .any(|&s| ctx.model.events[s].origin().input == input)
                })
            })
            .map(|c| c.index.to_string())
            .collect();
        let effect = match (aborted, left_up.as_slice()) {
            (true, []) => {
                "the assertion aborts the process, ending every call without a BYE".to_string()
            }
            (true, calls) => format!(
                "the assertion aborts the process, ending every call without a BYE (call {} \
                 was up and never hung up)",
                calls.join(", ")
            ),
            (false, _) => "pjlib state is used without a thread descriptor and the process may \
                           crash later"
                .to_string(),
        };
        let mut f = Finding::new(
            &RULE,
            ctx.model.event_owner[first],
            format!(
                "pjlib was called from a thread that is not registered with it in {} at {}{times}: {effect}",
                ctx.input_name(input),
                l.ts
            ),
            "call Endpoint.libRegisterThread(\"name\") at the start of every application \
             thread that uses pjsua2 (check libIsThreadRegistered()), or keep all pjsua2 calls \
             on the thread that polls the library"
                .into(),
        )
        .with(first, "pjlib's assertion");
        for &more in lines.iter().skip(1).take(2) {
            f = f.with(more, "again");
        }
        if !aborted {
            f.severity = Severity::Warning;
        }
        out.push(f);
    }
}
