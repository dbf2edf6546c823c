//! SF019 `call-slots-exhausted`: pjsua ran out of call slots (`maxCalls`) and refused a call.

use std::collections::BTreeSet;

use crate::dialog::Owner;
use crate::event::{Event, LogEvent, LogKind};
use crate::rules::{Context, Finding, Rule, Scope, Severity};

pub(super) const RULE: Rule = Rule {
    code: "SF019",
    name: "call-slots-exhausted",
    severity: Severity::Error,
    scope: Scope::Log,
    judges_time: false,
    summary: "pjsua ran out of call slots (maxCalls, PJ_ETOOMANY) and refused or could not make a call",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
pjsua had no free call slot:

- for an incoming call, `Unable to accept incoming call (too many calls)`: pjsua answers the
  INVITE by itself (`486 Busy Here`) before the application's `onIncomingCall` runs;
- for an outgoing call, `Error making call: Too many objects of the specified type (PJ_ETOOMANY)`:
  `makeCall()` fails and nothing is sent;
- any other line with `PJ_ETOOMANY` or "too many calls".

The finding names the response the caller got, when the call is in the input.

## Why it matters
The caller sees "busy" although nobody is on the phone, and the application never hears of the
call (no `onIncomingCall`, no log of its own). On a server or gateway built on pjsua this caps
the number of simultaneous calls silently. The default `UaConfig.maxCalls` is only 4; it can
be raised up to the compile-time `PJSUA_MAX_CALLS` (32 unless PJSIP is rebuilt).

## Severity
Always **error**: the log shows a call refused (`486`/`503` to an incoming INVITE) or one that
`makeCall()` could not start, because no call slot was free.

## Typical causes
- `uaConfig.maxCalls` left at the default (4) or set too low for the load.
- Calls that are never hung up or never freed: the app keeps DISCONNECTED calls, or calls stay
  up because BYEs are lost, so slots leak until none is left.
- A call storm (a retrying peer, a scanner) filling every slot.

## How to fix
- Raise `ep_cfg.uaConfig.maxCalls` (up to `PJSUA_MAX_CALLS`; rebuild PJSIP with a larger
  `PJSUA_MAX_CALLS` in `config_site.h` for more than 32).
- Make sure every call is hung up and released: handle DISCONNECTED in `onCallState`, set
  session timers or an RTP timeout to end dead calls.
- If the limit is intended, reject with a clearer status from the app (`503` with
  `Retry-After`) before the limit is reached.

## Example
From `fixtures/rules/call-slots-exhausted/callee.log` (`maxCalls = 1`, a second call arrives):
```
RX … Request msg INVITE/cseq=… (the second call)
TX … Response msg 486/INVITE/cseq=…   SIP/2.0 486 Busy Here
pjsua_call.c  Unable to accept incoming call (too many calls)
```

## References
- pjsua2 `UaConfig.maxCalls` (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA2__UA.html)
- pjsua `PJSUA_MAX_CALLS` (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA__LIB__BASE.html)
- RFC 3261 §21.4.24 (486 Busy Here)
"#;

fn is_slots(l: &LogEvent) -> bool {
    matches!(l.kind, LogKind::TooManyCalls)
        || l.errors.iter().any(|e| e == "PJ_ETOOMANY")
        || l.text.to_ascii_lowercase().contains("too many calls")
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    // (input, owner) already reported.
    let mut seen: BTreeSet<(usize, String)> = BTreeSet::new();
    for (e, ev) in model.events.iter().enumerate() {
        let Event::Log(l) = ev else { continue };
        if !is_slots(l) {
            continue;
        }
        let outgoing = l.text.starts_with("Error making call") || l.text.contains("make_call");
        // An outgoing failure sends nothing: the owner pjsua guessed is a previous call.
        let owner = if outgoing { None } else { model.event_owner[e] };
        let key = (
            l.origin.input,
            format!("{owner:?}{}", if outgoing { e } else { 0 }),
        );
        if !seen.insert(key) {
            continue;
        }
        let name = ctx.input_name(l.origin.input);
        let mut response = None;
        if let Some(Owner::Call(c)) = owner {
            let call = &model.calls[c];
            if let Some(code) = call.final_status.filter(|&c| c >= 300) {
                response = call.messages.iter().copied().find(|&w| {
                    model
                        .message(w)
                        .parsed()
                        .is_some_and(|m| m.status() == Some(code))
                });
            }
        }
        let message = if outgoing {
            format!(
                "pjsua in {name} could not make a call: every call slot is in use \
                 (UaConfig.maxCalls); makeCall() failed and no INVITE was sent"
            )
        } else {
            let got = response
                .and_then(|w| model.message(w).parsed())
                .and_then(|m| Some(format!("{} {}", m.status()?, m.reason_phrase()?)))
                .map(|s| format!("; the caller got {s} from pjsua itself"))
                .unwrap_or_default();
            format!(
                "pjsua in {name} refused an incoming call because every call slot was in use \
                 (UaConfig.maxCalls); the application never saw the call{got}"
            )
        };
        let mut f = Finding::new(
            &RULE,
            owner,
            message,
            "raise ep_cfg.uaConfig.maxCalls (default 4; above 32 rebuild PJSIP with a larger \
             PJSUA_MAX_CALLS), and make sure ended calls are hung up and released"
                .into(),
        )
        .with(e, "pjsua has no free call slot");
        if let Some(w) = response {
            let label = model
                .message(w)
                .parsed()
                .and_then(|m| m.status())
                .map_or("the rejection".to_string(), |c| {
                    format!("the {c} pjsua sent by itself")
                });
            let e = ctx.sighting_in(w, Some(l.origin.input));
            f = f.with_span(e, ctx.start_line_of(e), label);
        }
        out.push(f);
    }
}
