//! SF036 `media-stopped`: RTP flowed, then stopped in one direction while the call went on.

use super::media::answered::{self, DIRECTIONS, at, idx};
use super::media::parties;
use crate::dialog::Owner;
use crate::rules::{Context, Finding, Rule, Scope, Severity, secs};

pub(super) const RULE: Rule = Rule {
    code: "SF036",
    name: "media-stopped",
    severity: Severity::Error,
    scope: Scope::Call,
    judges_time: true,
    summary: "RTP flowed, then stopped in one direction while the call went on",
    docs: DOCS,
    check,
};

/// A stream with a gap this long (ms) before its end was silence-suppressed (VAD, DTX): its
/// last gap may be one more pause.
const PAUSED_MS: f64 = 1_000.0;
/// How many times its longest earlier gap a paused stream must stay silent to be reported.
const PAUSE_FACTOR: f64 = 3.0;

const DOCS: &str = r#"## What it detects
An answered call in which a capture shows one direction's RTP flowing and then stopping for
good while the other direction went on, `thresholds.media-stopped-ms` (default 3000 ms) or more before the call ended: before the
BYE, or before the capture stopped while the call was still up. The finding says which side
stopped hearing the other, when the last packet came (after the answer, before the end), and
that the other direction went on (or that there was none).

A re-INVITE that moves the media (a new port, a new SSRC) starts a new stream: the direction
counts as flowing until its last stream's last packet. Needs a capture (`check` and `report`
count its RTP): pjsua's call dump counts packets but not when they stopped (its `last update`
moves with RTCP too). A capture's streams are known to the rules once the capture has been
read: a capture cut into several windows (more than `--limit window-events`, 4096 by default,
of finished calls) is judged only for the calls of its last window.

Not reported:
- a direction that an SDP of the call put on hold or refused, at any time (`sendonly`,
  `recvonly`, `inactive`, `c=0.0.0.0`, port 0): a hold stops RTP on purpose;
- a direction with no RTP at all (see `no-media-received`);
- a silence-suppressed stream (VAD/DTX: a gap of a second or more before its end) that has not
  been silent for three times its longest earlier gap: its last gap may be one more pause;
- both directions stopping together (within the threshold of each other) while the call went
  on: a capture cannot tell that from media that left its path (a re-INVITE that moved it to a
  relay the capture does not see) or RTP left out of the capture (`ndpi`'s
  `FAX-Call-t38-CA-TDM-SIP-FB-1.pcap`: a fax call whose RTP ends both ways at once right after
  a re-INVITE, 40 s before the BYE). A NAT binding that expires shows, at one capture point, as
  one direction stopping;
- a call whose 2xx has no ACK in the input;
- a capture without the call's initial INVITE (the direction of a stream is unknown).

## Why it matters
The call connected with audio both ways, then one side stopped hearing the other: "the audio
drops after N seconds". SIP shows nothing wrong until someone hangs up (or a session timer or
RTP timeout ends the call).

## Severity
Error when the stream had flowed without a pause (no gap of a second or more) before it
stopped: the receiving side heard nothing for the rest of the call, which is in the trace.
Warning when the stream was silence-suppressed (VAD/DTX: a gap of a second or more before):
the silence is long compared with its pauses, but a sender that suppresses silence may just
have had nothing to say.

## Typical causes
- A NAT binding that expired or changed (a NAT or firewall with a short UDP timeout; a
  router's SIP ALG), often after a fixed time (30 s, 60 s, 5 min).
- A re-INVITE (hold/resume, a transfer, a session refresh, an IP change) that moved the media
  to an address that does not reach, or that one side did not apply.
- The sender's network changed (Wi-Fi to mobile) without a re-INVITE.
- The sender's media device or media thread stopped (a sound device lost, an app sent to the
  background on a mobile OS).

## How to fix
Find what happened at the time of the last packet: a re-INVITE or UPDATE (its SDP), a network
change in the sender's log, a NAT timeout (compare with the NAT's UDP timeout). Keep NAT
bindings open (RTP keep-alives, `rtcp-mux`, shorter re-REGISTER), use ICE or a media relay, and
let the endpoint hang up on RTP timeout so the failure is visible.

## Example
From `fixtures/media/pjsua-stopped` (the caller's RTP dropped on its veth ~3 s into a 7 s
call; captured on the callee's side): the caller's stream stops after 155 packets, the callee's
goes on until the BYE:
```
10.78.3.1:51100 → 10.78.3.2:51080  SSRC 0x5C8BCBA6  PCMU  155 pkts  0.319 s … 3.399 s
10.78.3.2:51080 → 10.78.3.1:51100  SSRC 0x7E5E28B2  PCMU  350 pkts  0.321 s … 7.301 s
```
`the callee stopped hearing the caller: the caller's RTP stopped 3.1 s after the
answer, 3.9 s before the BYE`.

## References
- RFC 3550 §6.3.5 (timing out a source that stopped sending)
- RFC 4787 §4.3 (NAT UDP mapping timeouts)
- RFC 3264 §8.4 (putting a stream on hold)
"#;

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let threshold = ctx.settings.thresholds.media_stopped_ms;
    for ci in 0..ctx.model.calls.len() {
        let Some(a) = answered::answered(ctx, ci) else {
            continue;
        };
        let mut reported = [false; 2];
        for view in answered::capture_views(ctx, &a) {
            for d in DIRECTIONS {
                if reported[idx(d)] || !a.allowed[idx(d)] {
                    continue;
                }
                let Some(&(stream, last, _)) = view.of(d).max_by_key(|s| s.1.last_us) else {
                    continue;
                };
                let stopped = at(last.last_us);
                let Some(silent) = stopped.known_ms_until(view.until) else {
                    continue;
                };
                // The longest gap of the direction before its end.
                let pause = view.of(d).map(|s| s.1.max_delta_ms).fold(0.0, f64::max);
                let paused = pause >= PAUSED_MS;
                if silent < threshold || (paused && (silent as f64) < PAUSE_FACTOR * pause) {
                    continue;
                }
                reported[idx(d)] = true;
                let (sender, receiver) = parties(d);
                let other = DIRECTIONS[1 - idx(d)];
                // Both directions stopping together, the call going on: the capture cannot
                // tell a stop from media that left its path (moved by a re-INVITE to a relay
                // it does not see) or RTP left out of it.
                let other_last = view.of(other).map(|s| s.1.last_us).max();
                let went_on = match other_last {
                    Some(l) => match stopped.known_ms_until(at(l)) {
                        Some(later) if later >= threshold => Some(later),
                        _ => continue,
                    },
                    None => None,
                };
                let end = match a.bye.and_then(|b| answered::seen_in(ctx, b, view.input)) {
                    Some(_) => "the BYE",
                    None => "the capture's end, the call still up",
                };
                let after = a.up_ts.ms_until(stopped).max(0);
                let mut message = format!(
                    "{receiver} stopped hearing {sender}: {sender}'s RTP stopped {} after the \
                     answer, {} before {end} ({}, {} packets)",
                    secs(after),
                    secs(silent),
                    ctx.input_name(view.input),
                    last.packets
                );
                match went_on {
                    Some(ms) => message
                        .push_str(&format!("; {receiver}'s RTP went on for {} more", secs(ms))),
                    None => message.push_str(&format!("; no RTP went from {receiver} to {sender}")),
                }
                let mut f = Finding::new(
                    &RULE,
                    Some(Owner::Call(ci)),
                    message,
                    format!(
                        "look at what happened when {sender}'s RTP stopped: a re-INVITE or UPDATE \
                         that moved the media, a network change on {sender}'s side, a NAT or \
                         firewall whose UDP binding expired (keep-alives, ICE or a media relay \
                         keep it open)"
                    ),
                )
                .on_stream(view.input, stream);
                if paused {
                    f.severity = Severity::Warning;
                    f.message.push_str(&format!(
                        " (a warning: the stream was silence-suppressed, with gaps up to {})",
                        secs(pause as i64)
                    ));
                }
                let answer = a.answer_in(ctx, view.input);
                f = f.with(answer, "the answer");
                if let Some((bye, _)) = a.bye.and_then(|b| answered::seen_in(ctx, b, view.input)) {
                    f = f.with(
                        bye,
                        format!("the BYE, {} after {sender}'s last RTP", secs(silent)),
                    );
                }
                out.push(f);
            }
        }
    }
}
