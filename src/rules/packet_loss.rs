//! SF037 `packet-loss`: a call's RTP lost more than the threshold in one direction, by the
//! capture's count, the receiver's RTCP reports or the receiver's pjsua call dump.

use crate::dialog::Owner;
use crate::rules::media::legs;
use crate::rules::{Context, Finding, Rule, Scope, Severity};

pub(super) const RULE: Rule = Rule {
    code: "SF037",
    name: "packet-loss",
    severity: Severity::Warning,
    scope: Scope::Call,
    judges_time: false,
    summary: "a call's RTP lost more than the packet-loss threshold in one direction",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
One direction of a call's RTP in which more than `thresholds.packet-loss-percent` (default
5 %) of the packets were lost, over a stream of at least `thresholds.packet-loss-min-packets`
(default 50, one second of 20 ms packets) expected packets. Three sources are read, and the
finding quotes each one that is over the threshold:

- a capture's count of the stream: expected (from the sequence numbers, with wrap-around)
  minus received, as `sipflow media` and `tshark -z rtp,streams` show it;
- the receiver's RTCP receiver/sender reports about the stream (cumulative number of packets
  lost): they count the loss up to the receiver, so they show loss that happened after the
  capture point (a capture at the sender shows none);
- the receiving side's pjsua call dump at DISCONNECTED (`RX … pkt loss=19 (9.5%)`).

A capture's longest gap, when it is a pause of a second or more, is left out (its packets
from both the lost and the expected counts, estimated from the stream's packet interval):
a sender that stopped for a while (hold, a switch to T.38 fax on the same port, silence
suppression that kept counting sequence numbers) or media that stopped and came back
(`media-stopped`) is not the random loss this rule is about. The finding says how many packets
the pause held.

One finding per direction and stream; it says who hears the gaps.

## Why it matters
Lost packets are clipped or missing syllables: with G.711 and packet loss concealment, random
loss of 5 % brings the ITU-T G.107 R-factor from about 93 to under 78 (MOS about 3.9, "some
users dissatisfied"); low-bitrate codecs suffer more. Users report "choppy" or "robotic"
audio, on one side only when one direction loses.

## Severity
Always **warning**: the call went on; the loss degrades its audio, it does not fail it. Audio
that is lost entirely is `no-media-received` or `media-stopped`, not this rule. The threshold
is `thresholds.packet-loss-percent` (default 5, where G.711 with concealment drops below
R ≈ 78 in the G.107 E-model, ITU-T G.113 Appendix I `Bpl` = 25.1), over streams of at least
`thresholds.packet-loss-min-packets` expected packets.

## Typical causes
- A congested or lossy link on the way: Wi-Fi, mobile data, an overloaded uplink (bufferbloat
  drops), a saturated VPN.
- A firewall or SBC rate-limiting UDP, or a CPU-starved media relay.
- Loss on the sender's own host: a busy CPU or a too-small socket buffer.

## How to fix
Find where the loss happens: capture at both ends (or compare the capture's count with the
receiver's RTCP: loss that only RTCP shows is after the capture point). Prioritise voice
(DSCP EF, 46) on the links you control, fix Wi-Fi coverage or move to a wired link, give the
media relay CPU. A codec with forward error correction (Opus with in-band FEC) hides some loss.

## Example
From `fixtures/media/pjsua-loss/` (an nftables rule drops 8 % of the caller's RTP on its veth
egress), `sipflow media call.pcap`:
```
Source           Destination       SSRC       Payload  Pkts  Lost       MaxΔ(ms)
10.77.5.1:48560  10.77.5.2:48540   0x3A54ABAC PCMU     180   19 (9.5%)  60.531
```
and the callee's call dump at DISCONNECTED:
```
RX pt=0, last update:00h:00m:03.761s ago
   pkt loss=19 (9.5%), discrd=0 (0.0%), dup=0 (0.0%), reord=0 (0.0%)
```

## References
- RFC 3550 §6.4.1 (fraction lost, cumulative number of packets lost) and Appendix A.3
- ITU-T G.107 (E-model, `Ppl` and `Bpl`), ITU-T G.113 Appendix I (`Bpl` of G.711 with PLC)
- ITU-T Y.1541 (IP packet loss ratio objective 1 × 10⁻³ for voice classes 0 and 1)
"#;

const HELP: &str = "find where the loss happens (capture at both ends; loss only the receiver's \
                    RTCP shows is after the capture point); prioritise voice (DSCP EF), fix \
                    Wi-Fi or the congested link, give the media relay CPU";

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let t = &ctx.settings.thresholds;
    let limit = t.packet_loss_percent / 100.0;
    for leg in legs(ctx) {
        let over: Vec<String> = leg
            .sources()
            .filter_map(|(name, f)| {
                let loss = f.loss(t.packet_loss_min_packets)?;
                (loss > limit).then(|| {
                    let lost = f.lost_apart_from_pause();
                    let pause = if f.paused > 0 {
                        format!(", besides {} in one long pause", f.paused)
                    } else {
                        String::new()
                    };
                    format!(
                        "{name}: {lost} of {} lost ({:.1} %{pause})",
                        f.packets.saturating_add(lost as u64),
                        loss * 100.0
                    )
                })
            })
            .collect();
        if over.is_empty() {
            continue;
        }
        let f = Finding::new(
            &RULE,
            Some(Owner::Call(leg.call)),
            format!(
                "packet loss over {} % on {}: {}; {} hears the gaps",
                t.packet_loss_percent,
                leg.what,
                over.join("; "),
                leg.listener
            ),
            HELP.to_string(),
        );
        out.push(leg.attach(f));
    }
}
