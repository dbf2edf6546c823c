//! SF028 `no-message-dumps`: a pjsip log without any TX/RX message dump.

use super::{Context, Finding, Rule, Scope, Severity};
use crate::ingest::Format;

pub(super) const RULE: Rule = Rule {
    code: "SF028",
    name: "no-message-dumps",
    severity: Severity::Info,
    scope: Scope::Log,
    judges_time: false,
    summary: "a pjsip log without TX/RX message dumps",
    docs: r#"## What it detects
A pjsip log in which no `TX`/`RX … --end msg--` message dump appears.

## Why it matters
Without the messages, calls cannot be rebuilt: sipflow sees only the evidence lines, and no
rule about the SIP exchange can run.

## Severity
Always **info**: nothing is wrong with the calls; the log only shows less than it could. The
finding says what to switch on. (An excerpt pasted from a bigger log often has no dump at all.)

## Typical causes
- The log level is below 4 (`LogConfig.level` / `consoleLevel`, pjsua `--log-level`).
- Message logging is off (`UaConfig`/`pjsua_logging_config.msg_logging = PJ_FALSE`).
- The log was captured from the console at a lower `consoleLevel` than the file level.

## How to fix
Log at level 4 or more with message logging on:

```python
ep_cfg.logConfig.level = 5
ep_cfg.logConfig.consoleLevel = 5
ep_cfg.logConfig.msgLogging = True   # the default
```
(pjsua: `--log-level=5 --app-log-level=5`.)

## Example
A log with lines such as `Making call with acc #0 to sip:…` but no `TX … bytes Request msg`.

## References
- pjsua2 `LogConfig` (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA2__UA.html)
"#,
    check,
};

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    if !ctx.whole_inputs {
        return;
    }
    for (i, input) in ctx.inputs.iter().enumerate() {
        if input.format != Format::PJSIP || input.messages > 0 {
            continue;
        }
        let mut f = Finding::new(
            &RULE,
            None,
            format!(
                "{} has no TX/RX message dumps, so its calls cannot be rebuilt from it: log at \
                 level 4 or more with message logging on to see the SIP messages",
                input.name
            ),
            "switch on message logging at level >= 4: pjsua2 ep_cfg.logConfig.level = 5, \
             consoleLevel = 5, msgLogging = True (pjsua: --log-level=5 --app-log-level=5)"
                .into(),
        );
        f.input = Some(i);
        out.push(f);
    }
}
