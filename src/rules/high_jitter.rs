//! SF038 `high-jitter`: a call's RTP arrived with more jitter than the thresholds in one
//! direction, by the capture's RFC 3550 estimate, the receiver's RTCP reports or the
//! receiver's pjsua call dump.

use crate::dialog::Owner;
use crate::rules::media::legs;
use crate::rules::{Context, Finding, Rule, Scope, Severity};

pub(super) const RULE: Rule = Rule {
    code: "SF038",
    name: "high-jitter",
    severity: Severity::Warning,
    scope: Scope::Call,
    judges_time: false,
    summary: "a call's RTP arrived with more jitter than the thresholds in one direction",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
One direction of a call's RTP whose interarrival jitter (RFC 3550 §6.4.1 and A.8, in ms) had
a mean above `thresholds.jitter-mean-ms` (default 30) or a maximum above
`thresholds.jitter-max-ms` (default 50), over a stream of at least
`thresholds.packet-loss-min-packets` (default 50) packets. Two sources are read, and the
finding quotes each one that is over a threshold:

- a capture's RFC 3550 estimate, computed per packet from the arrival times and RTP timestamps
  (mean and max, as `sipflow media` and `tshark -z rtp,streams` show them); a stream with a
  payload type whose clock rate is unknown (a dynamic type without `a=rtpmap`) is not judged,
  since its timestamps cannot be converted;
- the receiving side's pjsua call dump at DISCONNECTED (`jitter : min avg max last dev`).

RTCP reports' jitter is not judged: it is one sample per report, in the units of a clock rate
the report does not state, and some stacks report it wrongly (a public capture's reporter
claims 1155 ms for a stream that the capture, upstream of it, measured at 0.1 ms, with no
loss). `sipflow media` shows it.

## Why it matters
A receiver plays packets out of a jitter buffer: jitter above its depth makes packets arrive
too late to be played, which sounds exactly like loss, and a buffer that grows to absorb it
adds delay (talk-over). Users report choppy audio although no packet was lost on the wire.

## Severity
Always **warning**: jitter is a risk to the audio, not a failure the trace shows (whether
packets came too late to be played depends on the receiver's jitter buffer, which a capture
does not see; loss it caused is `packet-loss` in the receiver's dump). The thresholds: a mean
above 30 ms is the usual voice guidance (Cisco's "jitter under 30 ms" for VoIP; most adaptive
jitter buffers start at 40–60 ms), and a maximum above 50 ms is ITU-T Y.1541's IP delay
variation objective for voice (classes 0 and 1). Y.1541 measures the 99.9th percentile of the
delay variation, where RFC 3550's estimate is smoothed (1/16 of each change), so a max above
50 ms means the delay swung by far more.

## Typical causes
- Congestion on the way (queues filling and draining), bufferbloat on an uplink, Wi-Fi
  retransmissions and power save, mobile data scheduling.
- A sender whose packets leave in bursts: a busy CPU, a virtual machine starved of time, a
  sound device that delivers frames irregularly.
- A media relay or transcoder under load.

## How to fix
Prioritise voice (DSCP EF, 46) and shape the uplink below its capacity so queues stay short;
move the device to a wired link or fix Wi-Fi; give the sender and the relay CPU. On the
receiver, an adaptive jitter buffer with room for the measured jitter (pjsua2
`MediaConfig.jbMax`, `jbMinPre`, `jbMaxPre`) trades delay for fewer late packets.

## Example
From a pjsua2 ⇄ pjsua2 call in which a user-space bridge delays a share of the caller's RTP
by a random 0–120 ms (`sipflow media`): the caller → callee stream shows a mean jitter of
tens of ms and out-of-order packets, while SIP and the other direction are unharmed.

## References
- RFC 3550 §6.4.1 (interarrival jitter) and Appendix A.8 (computing it)
- ITU-T Y.1541 (IP delay variation objective, 50 ms for classes 0 and 1)
- pjsua2 media quality: https://docs.pjsip.org/en/latest/pjsua2/using/media_quality.html
"#;

const HELP: &str = "prioritise voice (DSCP EF) and keep the uplink's queues short, fix Wi-Fi or \
                    the congested link, give the sender and the media relay CPU; size the \
                    receiver's jitter buffer for the measured jitter";

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let t = &ctx.settings.thresholds;
    let (mean_limit, max_limit) = (t.jitter_mean_ms as f64, t.jitter_max_ms as f64);
    for leg in legs(ctx) {
        let over: Vec<String> = leg
            .sources()
            .filter(|(_, f)| f.packets >= t.packet_loss_min_packets)
            .filter_map(|(name, f)| {
                let mean = f.mean_jitter_ms.filter(|&m| m > mean_limit);
                let max = f.max_jitter_ms.filter(|&m| m > max_limit);
                if mean.is_none() && max.is_none() {
                    return None;
                }
                let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1} ms"));
                Some(format!(
                    "{name}: mean {}, max {}",
                    fmt(f.mean_jitter_ms),
                    fmt(f.max_jitter_ms)
                ))
            })
            .collect();
        if over.is_empty() {
            continue;
        }
        let f = Finding::new(
            &RULE,
            Some(Owner::Call(leg.call)),
            format!(
                "jitter over {} ms mean or {} ms max on {}: {}; {} hears it",
                t.jitter_mean_ms,
                t.jitter_max_ms,
                leg.what,
                over.join("; "),
                leg.listener
            ),
            HELP.to_string(),
        );
        out.push(leg.attach(f));
    }
}
