//! SF039 `codec-mismatch`: RTP flowed with a payload type the call's SDP did not negotiate,
//! or an SDP answer switched between RTP/AVP and RTP/SAVP.

use crate::dialog::{Owner, Party};
use crate::rules::media::{SdpMedia, party_name, receiver, sdp_media, streams_by_call};
use crate::rules::no_common_codec::{
    codec_of, codecs, flowed_without_common_codec, media_lines, offer_answer_pairs, parsed_messages,
};
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::Media;

pub(super) const RULE: Rule = Rule {
    code: "SF039",
    name: "codec-mismatch",
    severity: Severity::Error,
    scope: Scope::Call,
    judges_time: false,
    summary: "RTP with a payload type the SDP did not negotiate, or an RTP/AVP answer to an RTP/SAVP offer (or the reverse)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
Two ways in which what flows is not what was agreed:

- **RTP with a payload type the call's SDP did not negotiate**, in a capture: a stream to an
  address a party's SDP named carries a payload type that this `m=` line does not list, or
  whose codec the other party's SDP for the same `m=` line does not have (dynamic types are
  compared by encoding name and clock rate). RFC 4733 `telephone-event` and comfort noise
  (`CN`, static 13) count as negotiated when either side offered them. When the receiver's
  SDP is not in the capture (its address was rewritten on the way), the sender's is used.
  When an answer shared no codec with its offer but RTP of a codec of that offer or answer
  flowed both ways, those payload types are `no-common-codec`'s to report (as a warning,
  with the packet counts), not this rule's.
- **An SDP answer whose transport profile is not the offer's** for an accepted `m=` line:
  `RTP/AVP` (plain RTP) answering an `RTP/SAVP`/`RTP/SAVPF` (SRTP) offer, or the reverse
  (SDES/DTLS profiles `UDP/TLS/RTP/SAVP(F)` count as SRTP).

One finding per stream, and one per offer/answer with a profile switch.

## Why it matters
A receiver decodes RTP by the payload types it announced: packets of another type are
dropped or played as noise, so the listener hears nothing or garbage although packets arrive
(the capture shows them, which makes it look like a network problem). A profile switch means
one side encrypts and the other does not: the plain side cannot play SRTP, and the SRTP side
discards plain RTP as failing authentication.

## Severity
- **error** when a stream carried no negotiated codec at all (every audio packet is of a
  type the receiver did not agree to), and for an RTP/AVP ⇄ RTP/SAVP switch in an accepted
  answer: no audio can be played in that direction;
- **warning** when the stream also carried a negotiated codec (a stray payload type, e.g. a
  codec switch mid-call without a re-INVITE): part of the audio is lost.

## Typical causes
- A gateway or SBC that transcodes or re-writes the SDP but not the media (or the reverse),
  a B2BUA that passes media through while answering with its own codec list.
- A device that ignores the answer and sends its preferred codec anyway (some PBX trunks,
  misconfigured IP phones), or a re-INVITE that changed the codec on one side only.
- SRTP configured as "optional" on one side and "mandatory"/"disabled" on the other, an SBC
  that terminates SRTP on one leg only; pjsua2 `AccountConfig.mediaConfig.srtpUse`.

## How to fix
Make the media follow the answer: fix the sender's codec list (or its "send preferred codec"
option), let the SBC/B2BUA anchor and transcode the media it re-wrote the SDP for. For SRTP,
set both sides to the same policy (pjsua2 `srtpUse` = `PJMEDIA_SRTP_MANDATORY` on both, or
`OPTIONAL` with `srtpSecureSignaling` matching), and let an SBC that bridges SRTP and RTP
anchor the media.

## Example
A SIPp UAC offering PCMU only (`m=audio 51620 RTP/AVP 0`) to `sipp -sn uas -rtp_echo`, which
answers PCMU, then playing SIPp's `g711a.pcap` (PCMA, static type 8) into the call:
```
INVITE  m=audio 51620 RTP/AVP 0     a=rtpmap:0 PCMU/8000
200 OK  m=audio 6000 RTP/AVP 0      a=rtpmap:0 PCMU/8000
RTP     caller→callee  PT 8 (PCMA)  ← not negotiated
```
And `fixtures/media/sipp-avp-to-savp/call.pcap`, a SIPp UAC offering SRTP only to a SIPp UAS
that answers plain RTP:
```
INVITE  m=audio 52060 RTP/SAVP 0    a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:…
200 OK  m=audio 52040 RTP/AVP 0
error: m= line 1 (audio): an RTP/AVP answer to an RTP/SAVP offer: the offerer uses SRTP,
the answerer plain RTP
```

## References
- RFC 3264 §5.1 and §6.1 (the answerer sends only formats of the answer, with the offer's
  payload type numbers; the offerer sends only formats of the answer)
- RFC 3551 (static payload types), RFC 4733 (telephone-event), RFC 3389 (comfort noise)
- RFC 3711 and RFC 4568 (SRTP, `RTP/SAVP` with SDES), RFC 5764 (DTLS-SRTP)
"#;

const HELP: &str = "make the sender use a codec of the answer (its codec list, a 'send preferred \
                    codec' option), or let the SBC/B2BUA that rewrote the SDP transcode the \
                    media; for RTP/AVP versus RTP/SAVP, set both sides to the same SRTP policy";

/// Whether a transport profile is SRTP.
fn secure(proto: &str) -> bool {
    proto.to_ascii_uppercase().contains("SAVP")
}

/// Whether `pt`, sent to the m= line `to`, was negotiated: `to` lists it and (when the other
/// party's m= lines for the same index are known) the other party has its codec.
/// Telephone-event and comfort noise count when any of the lines has them.
fn negotiated(pt: u8, to: &Media, other: &[&Media]) -> bool {
    let aux = |m: &&Media| {
        codec_of(m, pt).is_some_and(|c| c.is_auxiliary()) || (pt == 13 && codec_of(m, 13).is_some())
    };
    if aux(&to) || other.iter().any(aux) {
        return true;
    }
    let Some(codec) = codec_of(to, pt) else {
        return false;
    };
    other.is_empty() || other.iter().any(|m| codecs(m).any(|c| c.same(&codec)))
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let streams = streams_by_call(ctx);
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let sdp = sdp_media(ctx, call);
        if sdp.is_empty() {
            continue;
        }
        let call_streams = streams.get(&ci).map_or(&[][..], Vec::as_slice);
        let msgs = parsed_messages(ctx, call);
        let pairs = offer_answer_pairs(&msgs);
        // The m= lines of answers without a common codec whose media flowed both ways anyway:
        // `no-common-codec` reports that RTP (a warning), not this rule.
        let explained: Vec<&Media> = pairs
            .iter()
            .filter_map(|(o, a)| {
                flowed_without_common_codec(o.msg.sdp()?, a.msg.sdp()?, call_streams)
            })
            .flat_map(|(lines, _)| lines)
            .collect();
        for s in call_streams {
            let st = s.stream;
            // The receiver's m= lines (named the destination), else the sender's.
            let (lines, whose): (Vec<&SdpMedia<'_>>, &str) = {
                let to: Vec<_> = sdp.iter().filter(|m| m.addr == Some(st.dst)).collect();
                if to.is_empty() {
                    (
                        sdp.iter().filter(|m| m.addr == Some(st.src)).collect(),
                        "sender's",
                    )
                } else {
                    (to, "receiver's")
                }
            };
            let Some(first) = lines.first() else { continue };
            let others: Vec<&Media> = match first.sender {
                Some(p) => sdp
                    .iter()
                    .filter(|m| m.sender == Some(other(p)) && m.index == first.index)
                    .map(|m| m.media)
                    .collect(),
                None => Vec::new(),
            };
            let (bad, good): (Vec<_>, Vec<_>) = st.payloads.iter().partition(|p| {
                !explained.iter().any(|m| codec_of(m, p.pt).is_some())
                    && !lines.iter().any(|l| negotiated(p.pt, l.media, &others))
            });
            if bad.is_empty() {
                continue;
            }
            let names = |ps: &[&crate::media::PayloadType]| {
                ps.iter()
                    .map(|p| match &p.name {
                        Some(n) => format!("{} ({n})", p.pt),
                        None => p.pt.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            // The latest SDP for that address says what the stream should carry.
            let line = lines.last().copied().unwrap_or(first);
            let mut f = Finding::new(
                &RULE,
                Some(Owner::Call(ci)),
                format!(
                    "RTP payload type {} not negotiated on {}: the {} SDP lists {} on `m={} {} {}`{}",
                    names(&bad),
                    s.describe(),
                    whose,
                    line.media.formats.join(" "),
                    line.media.kind,
                    line.media.port,
                    line.media.proto,
                    if good.is_empty() {
                        format!(
                            "; {} cannot play this stream",
                            s.link
                                .direction
                                .map_or("the receiver", |d| party_name(receiver(d)))
                        )
                    } else {
                        format!("; it also carried {}", names(&good))
                    }
                ),
                HELP.to_string(),
            )
            .with_span(
                line.event,
                media_lines(line.msg, Some(line.index)),
                format!("the {whose} m= line"),
            )
            .on_stream(s.input, s.index);
            if !good.is_empty() {
                f.severity = Severity::Warning;
            }
            out.push(f);
        }
        for &(offer, answer) in &pairs {
            let (Some(o), Some(a)) = (offer.msg.sdp(), answer.msg.sdp()) else {
                continue;
            };
            for (i, (om, am)) in o.media.iter().zip(&a.media).enumerate() {
                if om.port == 0 || am.port == 0 || secure(&om.proto) == secure(&am.proto) {
                    continue;
                }
                out.push(
                    Finding::new(
                        &RULE,
                        Some(Owner::Call(ci)),
                        format!(
                            "m= line {} ({}): an {} answer to an {} offer: the offerer uses {}, the answerer {}",
                            i + 1,
                            om.kind,
                            am.proto,
                            om.proto,
                            if secure(&om.proto) { "SRTP" } else { "plain RTP" },
                            if secure(&am.proto) { "SRTP" } else { "plain RTP" },
                        ),
                        HELP.to_string(),
                    )
                    .with_span(
                        ctx.model.messages[answer.wire].event,
                        media_lines(answer.msg, Some(i)),
                        "the answer",
                    )
                    .with_span(
                        ctx.model.messages[offer.wire].event,
                        media_lines(offer.msg, Some(i)),
                        "the offer",
                    ),
                );
            }
        }
    }
}

fn other(p: Party) -> Party {
    match p {
        Party::Caller => Party::Callee,
        Party::Callee => Party::Caller,
    }
}
