//! SF017 `no-sound-device`: pjsua could not open the sound device.

use std::collections::BTreeMap;

use crate::dialog::Owner;
use crate::event::{Event, LogEvent, LogKind};
use crate::rules::{Context, Finding, Rule, Scope, Severity};

pub(super) const RULE: Rule = Rule {
    code: "SF017",
    name: "no-sound-device",
    severity: Severity::Error,
    scope: Scope::Log,
    judges_time: false,
    summary: "pjsua could not open a sound device (PJMEDIA_EAUD_*): calls fail or have no audio",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
pjmedia's audio device errors in a pjsip log: `Error opening sound device: …` and any line
carrying a `PJMEDIA_EAUD_*` error (`PJMEDIA_EAUD_NODEFDEV` "Unable to find default audio
device", `PJMEDIA_EAUD_INVDEV`, `PJMEDIA_EAUD_SYSERR` …). One finding per log, with the first
line and what it broke.

## Why it matters
pjsua opens the sound device when the first call's audio is connected to it (or when the
application connects a media port to `Master/sound`). Without a device:

- `makeCall()` fails at once (`pjsua_call_make_call(…) error: Unable to find default audio
  device`) and no INVITE is sent;
- an incoming call is answered, but connecting its audio fails
  (`pjsua_conf_connect(id, sink.id) error`): the call is up with no audio at all.

## Severity
**Error** when a call is affected in the trace: `makeCall()` failed, or the error belongs to a
call (its audio could not be connected). **Warning** when the error stands alone (at start-up,
with no call in the log): calls will have no audio, but none is shown failing.

## Typical causes
- A server, container, CI runner or VM without a sound card (no ALSA/PulseAudio device).
- The device is busy (opened by another process) or the user lacks permission (`audio` group).
- A device index saved from another machine.

## How to fix
On a headless machine use the null sound device right after `libStart()`:

```python
ep.libStart()
ep.audDevManager().setNullDev()
```
(C: `pjsua_set_null_snd_dev()`; or `setNoDev()` when the app drives the conference bridge
itself.) Otherwise choose an existing device with `audDevManager().setCaptureDev()` /
`setPlaybackDev()`, and check `audDevManager().enumDev2()`.

## Example
From `fixtures/rules/no-sound-device/answer/callee.log` (no `setNullDev()`, no sound card):
```
pjsua_aud.c  Error retrieving default audio device parameters: Unable to find default audio device (PJMEDIA_EAUD_NODEFDEV) [status=420006]
pjsua_aud.c  Error opening sound device: Unable to find default audio device (PJMEDIA_EAUD_NODEFDEV) [status=420006]
media.cpp    pjsua_conf_connect(id, sink.id) error: Unable to find default audio device (PJMEDIA_EAUD_NODEFDEV) (status=420006)
```

## References
- pjsua2 `AudDevManager::setNullDev()` (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA2__MED.html)
- pjsua `pjsua_set_null_snd_dev()` (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA__LIB__MEDIA.html)
"#;

fn is_sound_error(l: &LogEvent) -> bool {
    matches!(l.kind, LogKind::SoundDevice)
        || l.errors.iter().any(|e| e.starts_with("PJMEDIA_EAUD_"))
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    let mut by_input: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (e, ev) in model.events.iter().enumerate() {
        if let Event::Log(l) = ev
            && is_sound_error(l)
        {
            by_input.entry(l.origin.input).or_default().push(e);
        }
    }
    for (input, lines) in by_input {
        let logs: Vec<(usize, &LogEvent)> = lines
            .iter()
            .filter_map(|&e| match &model.events[e] {
                Event::Log(l) => Some((e, l)),
                Event::Message(_) => None,
            })
            .collect();
        let Some(&(first, _)) = logs.first() else {
            continue;
        };
        let error = logs
            .iter()
            .find_map(|(_, l)| l.errors.iter().find(|e| e.starts_with("PJMEDIA_EAUD_")))
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        let make_call = logs.iter().find(|(_, l)| l.text.contains("make_call"));
        let owner: Option<Owner> = lines.iter().find_map(|&e| model.event_owner[e]);
        let answered_call = match owner {
            Some(Owner::Call(c)) => model.calls[c].answer_ms.is_some(),
            _ => false,
        };
        // A call that failed or lost its audio is in the trace; else only the risk is.
        let severity = if make_call.is_some() || matches!(owner, Some(Owner::Call(_))) {
            Severity::Error
        } else {
            Severity::Warning
        };
        let effect = if make_call.is_some() {
            "makeCall() failed and no INVITE was sent"
        } else if answered_call {
            "the call was answered but its audio could not be connected: no sound"
        } else {
            "calls have no audio, or fail when their audio is connected"
        };
        let mut f = Finding::new(
            &RULE,
            owner,
            format!(
                "pjsua could not open a sound device in {}{error}: {effect}",
                ctx.input_name(input)
            ),
            "on a headless machine call ep.audDevManager().setNullDev() right after \
             ep.libStart() (C: pjsua_set_null_snd_dev()); otherwise select an existing \
             device with setCaptureDev()/setPlaybackDev()"
                .into(),
        )
        .with(first, "the sound device error");
        let mut shown = 1;
        for &(e, l) in logs.iter().skip(1) {
            if shown >= 4 {
                break;
            }
            let label = if l.text.contains("make_call") {
                "makeCall() failed"
            } else if matches!(l.kind, LogKind::SoundDevice) {
                "opening the sound device failed"
            } else {
                "the same error"
            };
            f = f.with(e, label);
            shown += 1;
        }
        if lines.len() > shown {
            f.message
                .push_str(&format!(" ({} error lines)", lines.len()));
        }
        f.severity = severity;
        out.push(f);
    }
}
