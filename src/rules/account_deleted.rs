//! SF018 `account-deleted`: a pjsua account was deleted and unregistered while the app kept
//! running: a pjsua2 `Account` object that was garbage-collected.

use std::collections::HashMap;

use crate::event::{Direction, Event, LogKind, Timestamp};
use crate::rules::{Context, Finding, Rule, Scope, Severity};

pub(super) const RULE: Rule = Rule {
    code: "SF018",
    name: "account-deleted",
    severity: Severity::Warning,
    scope: Scope::Log,
    summary: "`Deleting account N` followed by an un-REGISTER: the pjsua2 Account object was garbage-collected",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
pjsua's `Deleting account N..` immediately followed by an un-REGISTER (`Expires: 0`, or a
Contact with `expires=0`) sent by the same process. That is what the destructor of a pjsua2
`Account` does when the application drops its last reference while the account is registered.

An application that unregisters on purpose (`acc.setRegistration(False)`) sends the
un-REGISTER *before* the account is deleted, and one that shuts down in the documented order
(`ep.libDestroy()` while the Account is still referenced) logs no `Deleting account` line before
its un-REGISTER: neither is reported.

## Why it matters
The application believes it is registered and "waiting for calls", but the registrar has just
removed its binding: every incoming call now gets `404 Not Found` or `480 Temporarily
Unavailable`, while the app itself shows nothing wrong (no error, no callback after the
deletion, `onRegState` may never fire).

## Typical causes
- Python: the `Account` created inside a function (`setup()`, a callback) and stored only in a
  local variable; `del` of the last reference; a weak reference.
- Java/Kotlin/C#: an `Account` held only by a local variable, collected by the GC at a random
  later moment (often minutes after start).
- Replacing `self.acc` with a new Account object (the old one is deleted and unregisters, and its
  un-REGISTER may even remove the new binding when both use the same Contact).

## How to fix
Keep a reference to every `Account` for as long as it must stay registered (an attribute of the
application object or a module-level list), and destroy it deliberately at the end, after
`ep.libDestroy()` or with `acc.shutdown()`:

```python
class App:
    def start(self):
        self.acc = MyAccount()          # kept for the whole run
        self.acc.create(acc_cfg)
```

## Example
From `fixtures/rules/account-deleted/ua.log`:
```
pjsua_acc.c  ....sip:alice@127.0.0.1: registration success, status=200 (OK), will re-register in 300 seconds
pjsua_acc.c  Deleting account 0..
pjsua_acc.c  .Acc 0: setting unregistration..
pjsua_core.c ...TX 374 bytes Request msg REGISTER/cseq=… (tdta…) to UDP 127.0.0.1:5700:  … Expires: 0
pjsua_core.c  Shutting down, flags=0...        (3 s later)
```
The deletion comes as soon as `setup()`, which held the only reference, returns — right after the
registration succeeded; the app then went on for 3 s without a registration.

## References
- pjsua2 book, "Accounts" (https://docs.pjsip.org/en/latest/pjsua2/using/account.html) and
  General Concepts, "Problems with Garbage Collection"
  (https://docs.pjsip.org/en/latest/pjsua2/general_concept.html)
- RFC 3261 §10.2.2 (removing bindings: Expires 0)
"#;

/// The un-REGISTER must follow the deletion within this long (pjsip sends it at once).
const FOLLOWS_MS: i64 = 2_000;

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    // input → REGISTER requests that input sent (event indexes, in order); last event time.
    let mut registers: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut last_ts: HashMap<usize, Timestamp> = HashMap::new();
    for (i, ev) in model.events.iter().enumerate() {
        let input = ev.origin().input;
        let ts = ev.ts();
        last_ts
            .entry(input)
            .and_modify(|t| *t = (*t).max(ts))
            .or_insert(ts);
        if let Event::Message(m) = ev
            && m.direction == Some(Direction::Tx)
            && m.parsed().is_some_and(|p| p.method() == Some("REGISTER"))
        {
            registers.entry(input).or_default().push(i);
        }
    }
    for (e, ev) in model.events.iter().enumerate() {
        let Event::Log(l) = ev else { continue };
        let LogKind::AccountDeleted { account } = l.kind else {
            continue;
        };
        let input = l.origin.input;
        let Some(list) = registers.get(&input) else {
            continue;
        };
        let next = list.partition_point(|&r| r < e);
        let Some(&reg) = list.get(next) else { continue };
        let Event::Message(m) = &model.events[reg] else {
            continue;
        };
        let Some(msg) = m.parsed() else { continue };
        if msg.requested_expires() != Some(0) || !(0..=FOLLOWS_MS).contains(&l.ts.ms_until(m.ts)) {
            continue;
        }
        let registrar = msg
            .request_uri()
            .map(|u| format!(" at {u}"))
            .unwrap_or_default();
        let aor = msg
            .to()
            .map(|t| format!("{} ", t.uri_text))
            .unwrap_or_default();
        let after = last_ts
            .get(&input)
            .map(|&t| m.ts.ms_until(t))
            .filter(|&ms| ms >= 500)
            .map(|ms| {
                format!(
                    "; the app kept running for {:.1} s after it without that registration",
                    ms as f64 / 1000.0
                )
            })
            .unwrap_or_default();
        let owner = model.event_owner[reg];
        let f = Finding::new(
            &RULE,
            owner,
            format!(
                "account {account} was deleted in {} at {} and pjsip at once unregistered \
                 {aor}(REGISTER with expiry 0{registrar}){after}: the pjsua2 Account object was \
                 probably garbage-collected because the app kept no reference to it",
                ctx.input_name(input),
                l.ts
            ),
            "keep a reference to the pjsua2 Account (e.g. an attribute of the application \
             object) for as long as it must stay registered; unregister deliberately with \
             setRegistration(False) or acc.shutdown()"
                .into(),
        )
        .with(e, "Deleting account: the Account object's destructor")
        .with_span(
            reg,
            msg.requested_expires_span(),
            "the un-REGISTER it caused",
        );
        out.push(f);
    }
}
