//! SF018 `account-deleted`: a pjsua account was deleted and unregistered while the app kept
//! running: a pjsua2 `Account` object that was garbage-collected.

use std::collections::HashMap;

use crate::dialog::Model;
use crate::event::{Direction, Event, LogKind, Timestamp};
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::SipMessage;

pub(super) const RULE: Rule = Rule {
    code: "SF018",
    name: "account-deleted",
    severity: Severity::Warning,
    scope: Scope::Log,
    judges_time: true,
    summary: "`Deleting account N` followed by an un-REGISTER: the pjsua2 Account object was garbage-collected",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
pjsua's `Deleting account N..` immediately followed by an un-REGISTER (`Expires: 0`, or a
Contact with `expires=0`) sent by the same process. When the input ends inside that REGISTER
before its expiry (an excerpt pasted into an issue, pjsip/pjproject#3807), pjsua's own
`Acc N: setting unregistration..` between the two lines says it is the un-REGISTER. That is what the destructor of a pjsua2
`Account` does when the application drops its last reference while the account is registered.

It is for an Account garbage-collected in an app that goes on running. Not reported:
- an app that unregisters on purpose (`acc.setRegistration(False)`): the un-REGISTER comes
  *before* the account is deleted;
- a deliberate shutdown: the account is deleted (`del acc`, `acc.shutdown()`) and pjsua is
  destroyed right after (`Shutting down, flags=…` or `PJSUA destroyed...` within 2 s of the
  un-REGISTER's answer, or of the un-REGISTER when no answer came;
  `fixtures/flagship/account-del`, `fixtures/flagship/account-shutdown`);
- `ep.libDestroy()` while the Account is still referenced: pjsua unregisters it while shutting
  down and logs no `Deleting account` line (`fixtures/flagship/account-libdestroy`).

## Why it matters
The application believes it is registered and "waiting for calls", but the registrar has just
removed its binding: every incoming call now gets `404 Not Found` or `480 Temporarily
Unavailable`, while the app itself shows nothing wrong (no error, no callback after the
deletion, `onRegState` may never fire).

## Severity
Warning: the registration is gone while the app runs, so calls to it will fail, but no failure
is in the trace yet (the app's log does not see the calls the registrar turns away). It is not
raised: the calls that fail never reach this app. When the input ends less than 2 s after the
un-REGISTER, a deliberate shutdown could still follow out of sight: the finding stays a warning
(nothing in the input shows a shutdown) and says how soon the input ends.

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
/// pjsua destroyed this soon after the account is gone: the app is shutting down on purpose.
const SHUTDOWN_MS: i64 = 2_000;
/// How long an un-REGISTER's transaction can last (64 × T1).
const TRANSACTION_MS: i64 = 32_000;

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
        // Its expiry, or, when the input ends (or the message is damaged) before it shows one,
        // pjsua's own `Acc N: setting unregistration..` between the deletion and the REGISTER.
        let announced = (e..reg).find(|&i| {
            matches!(&model.events[i], Event::Log(u)
                if u.origin.input == input && u.kind == LogKind::Unregistering { account })
        });
        let unregisters = match msg.requested_expires() {
            Some(expires) => expires == 0,
            None if m.truncated() => announced.is_some(),
            None => false,
        };
        if !unregisters
            || !(0..=FOLLOWS_MS).contains(&l.ts.ms_until(m.ts))
            || shuts_down(model, input, e, reg, msg)
        {
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
        // Running until pjsua is destroyed, or as far as the log goes.
        let shutdown = model.events[reg..].iter().find_map(|ev| match ev {
            Event::Log(s) if s.origin.input == input && s.kind == LogKind::Shutdown => Some(s.ts),
            _ => None,
        });
        let after = shutdown
            .or_else(|| last_ts.get(&input).copied())
            .map(|t| m.ts.ms_until(t))
            .filter(|&ms| ms >= 500)
            .map(|ms| {
                format!(
                    "; the app kept running for {:.1} s after it without that registration",
                    ms as f64 / 1000.0
                )
            })
            .unwrap_or_default();
        // The input (this log) ends before it could show a deliberate shutdown.
        let edge = last_ts
            .get(&input)
            .map(|&t| m.ts.ms_until(t))
            .filter(|&ms| ms < SHUTDOWN_MS)
            .map(|ms| {
                format!(
                    " (the input ends {} after the un-REGISTER: a shutdown right after it \
                     would not be in it)",
                    crate::rules::secs(ms)
                )
            })
            .unwrap_or_default();
        let what = if msg.requested_expires().is_none() {
            format!(
                "REGISTER{registrar}, announced by `Acc {account}: setting unregistration..`; \
                 the input ends inside it"
            )
        } else {
            format!("REGISTER with expiry 0{registrar}")
        };
        let owner = model.event_owner[reg];
        let f = Finding::new(
            &RULE,
            owner,
            format!(
                "account {account} was deleted in {} at {} and pjsip at once unregistered \
                 {aor}({what}){after}: the pjsua2 Account \
                 object was probably garbage-collected because the app kept no reference to \
                 it{edge}",
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
        let f = match announced {
            Some(u) if msg.requested_expires().is_none() => {
                f.with(u, "pjsua announces the unregistration")
            }
            _ => f,
        };
        out.push(f);
    }
}

/// Whether the process that deleted its account (event `deletion`) destroys pjsua right after
/// the account is gone: within [`SHUTDOWN_MS`] of the last message of its un-REGISTER
/// (`unreg`) in that log, the registrar's answer or the request itself.
fn shuts_down(
    model: &Model,
    input: usize,
    deletion: usize,
    unreg: usize,
    msg: &SipMessage,
) -> bool {
    let sent = model.events[unreg].ts();
    let key = (msg.call_id(), msg.cseq().map(|c| c.seq));
    let gone = model.events[unreg..]
        .iter()
        .take_while(|ev| sent.ms_until(ev.ts()) <= TRANSACTION_MS)
        .filter_map(|ev| match ev {
            Event::Message(m) if m.origin.input == input => m.parsed().map(|p| (m.ts, p)),
            _ => None,
        })
        .filter(|(_, p)| (p.call_id(), p.cseq().map(|c| c.seq)) == key)
        .map(|(ts, _)| ts)
        .max()
        .unwrap_or(sent);
    model.events[deletion..]
        .iter()
        .take_while(|ev| gone.ms_until(ev.ts()) <= SHUTDOWN_MS)
        .any(|ev| matches!(ev, Event::Log(l) if l.origin.input == input && l.kind == LogKind::Shutdown))
}
