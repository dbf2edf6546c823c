//! SF010 `no-common-codec`: the offer and the answer share no codec (488/606, an answer with
//! no common payload, or pjsip's failed SDP negotiation). Reads the call's RTP streams
//! (`rules::media`) to tell such an answer from one after which media flowed anyway;
//! the codec helpers here are shared with `codec-mismatch`.

use std::ops::Range;

use crate::dialog::{Call, Owner};
use crate::event::LogKind;
use crate::media::Direction;
use crate::rules::media::{CallStream, streams_by_call};
use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{Media, Sdp, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF010",
    name: "no-common-codec",
    severity: Severity::Error,
    scope: Scope::Call,
    judges_time: false,
    summary: "the two sides have no codec in common (488/606, or an SDP answer without a common payload)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A call in which media could not be agreed on, from any of these signs:

- a `488 Not Acceptable Here` or `606 Not Acceptable` to an INVITE, re-INVITE or UPDATE (the
  finding lists the codecs that were offered, and the `Warning` header if the rejecting side
  sent one: pjsip writes `Warning: 399 <host> "No suitable codec for remote offer
  (PJMEDIA_SDPNEG_NOANSCODEC)"`);
- an SDP answer whose active `m=` line shares no codec with the offer's (payload types are
  compared by encoding name and clock rate, so dynamic numbers may differ; telephone-event,
  CN and redundancy formats do not count as a codec), or in which every stream was rejected
  with port 0;
- pjsip's log line `SDP negotiation done: <error>` or `SDP negotiation has failed: …`.

One finding per call, with every sign as evidence. When a capture of the call shows RTP of a
codec of that offer or answer flowing both ways anyway, the finding says so (payload type and
packets each way): the SDP exchange is wrong, but the call had media.

## Why it matters
The call fails at once (488/606) or connects without audio. To the user it is "the call does
not go through" or "no sound", with nothing wrong in the network.

## Severity
- **error** when the call has no usable media: a `488`/`606` to the initial INVITE (the call
  fails), an SDP answer that shares no codec with the offer, or pjsip's failed SDP
  negotiation;
- **warning** when only a re-INVITE or an UPDATE was refused (e.g. a switch to T.38 fax that
  the far end does not support): the session goes on with the media it had;
- **warning**, not error, for an answer without a common codec when the capture shows RTP of a
  codec of that `m=` line's offer or answer flowing both ways in the call: the two sides
  ignored the failed negotiation and exchanged audio (`codec-mismatch` then stays silent on
  those payload types: this finding reports them). A 488/606 to the INVITE or pjsip's failed
  negotiation still makes it an error.

## Typical causes
- The two sides were configured with disjoint codec lists (G.729 or Opus only on one side,
  G.711 disabled on the other), or a codec is listed but not built in (pjsip without
  G.729/Opus/AMR support).
- A transcoder, SBC or PBX that strips codecs from the SDP, or a re-INVITE that offers a
  different codec set than the call started with (e.g. T.38 fax or video not supported).
- SRTP/profile mismatch reported as 488: `RTP/SAVP` or DTLS offered to a side that only does
  `RTP/AVP` (and the reverse), or ICE required by one side.

## How to fix
Make the codec lists overlap: enable a common codec on both ends (G.711 PCMU/PCMA is the
usual fallback). In pjsua2 check `Endpoint::codecEnum2()` and raise a codec's priority with
`Endpoint::codecSetPriority()` (priority 0 disables it); make sure the codec is compiled in.
For 488 caused by SRTP, align `AccountConfig.mediaConfig.srtpUse` / `srtpSecureSignaling`
with the peer.

## Example
From `fixtures/rules/no-common-codec/offer-g729/callee.log` (a SIPp UAC offering only G.729
to a pjsua2 callee without it):
```
06:45:14.517  RX Request msg INVITE/cseq=1   m=audio 50180 RTP/AVP 18, a=rtpmap:18 G729/8000
06:45:14.517  pjsua_call.c  ..Request verification failed: Not Acceptable Here [status=170488]
06:45:14.517  TX Response msg 488/INVITE/cseq=1
              Warning: 399 vm "No suitable codec for remote offer (PJMEDIA_SDPNEG_NOANSCODEC)"
```
And from `fixtures/rules-call-extra/answer-g729/caller.log`, a 200 OK whose answer has only
G729/8000, which the caller never offered: `SDP negotiation done: No active media stream after
negotiation (PJMEDIA_SDPNEG_ENOMEDIA)`, then PJSIP sends BYE with
`Reason: SIP ;cause=415 ;text="SDP negotiation failed"`: an error, no RTP flowed.

A warning, from `fixtures/media/sipp-answer-g729/call.pcap` (a SIPp UAC offering PCMU only,
a SIPp UAS answering G.729 only and echoing the RTP it receives):
```
INVITE  m=audio 52020 RTP/AVP 0     a=rtpmap:0 PCMU/8000
200 OK  m=audio 52000 RTP/AVP 18    a=rtpmap:18 G729/8000
RTP     caller→callee  PT 0 (PCMU)  150 packets
RTP     callee→caller  PT 0 (PCMU)  150 packets
warning: … the answer's G729/8000 shares no codec with the offer's PCMU/8000; the SDP exchange
is wrong, but media flowed: RTP of payload type 0 (PCMU) both ways, 150 packets caller→callee
and 150 callee→caller
```

## References
- RFC 3264 §6 (an answer must contain at least one format of the offer) and §8 (port 0)
- RFC 3261 §21.4.26 (488 Not Acceptable Here), §21.6.4 (606 Not Acceptable)
- pjsua2 media: https://docs.pjsip.org/en/latest/pjsua2/using/media_quality.html
"#;

const HELP: &str = "enable at least one common codec on both sides (G.711 PCMU/PCMA is the usual \
                    fallback; pjsua2: Endpoint::codecSetPriority, and check the codec is built \
                    in), and check SBCs/PBXs that rewrite the SDP; for 488 with SRTP align the \
                    SRTP settings";

/// Static RTP payload types (RFC 3551) as `encoding/clock`.
fn static_codec(pt: &str) -> Option<&'static str> {
    Some(match pt {
        "0" => "PCMU/8000",
        "3" => "GSM/8000",
        "4" => "G723/8000",
        "5" => "DVI4/8000",
        "6" => "DVI4/16000",
        "7" => "LPC/8000",
        "8" => "PCMA/8000",
        "9" => "G722/8000",
        "10" | "11" => "L16/44100",
        "12" => "QCELP/8000",
        "13" => "CN/8000",
        "14" => "MPA/90000",
        "15" => "G728/8000",
        "16" => "DVI4/11025",
        "17" => "DVI4/22050",
        "18" => "G729/8000",
        "25" => "CelB/90000",
        "26" => "JPEG/90000",
        "28" => "nv/90000",
        "31" => "H261/90000",
        "32" => "MPV/90000",
        "33" => "MP2T/90000",
        "34" => "H263/90000",
        _ => return None,
    })
}

/// One format of an m= line as the codec it names (see [`codecs`]), without building its
/// text: `head` (an rtpmap's encoding, a static payload type's `ENCODING/clock`, or the
/// format as written), then `/clock` when the clock is an rtpmap's.
#[derive(Debug, Clone, Copy)]
pub(super) struct Codec<'a> {
    head: &'a str,
    clock: Option<u32>,
}

impl Codec<'_> {
    /// The codec's text as the messages write it (`ENCODING/clock`, upper case), byte by byte.
    fn text(&self) -> impl Iterator<Item = u8> + '_ {
        let clock = self.clock.into_iter().flat_map(|c| {
            // The decimal digits of `c`, most significant first.
            let top = std::iter::successors(Some(1u32), |&p| p.checked_mul(10))
                .take_while(|&p| p <= c)
                .last()
                .unwrap_or(1);
            let digits = std::iter::successors(Some(top), |&p| (p >= 10).then_some(p / 10))
                .map(move |p| b'0' + (c / p % 10) as u8);
            std::iter::once(b'/').chain(digits)
        });
        self.head
            .bytes()
            .chain(clock)
            .map(|b| b.to_ascii_uppercase())
    }

    /// Whether two codecs have the same text.
    pub(super) fn same(&self, other: &Codec<'_>) -> bool {
        self.text().eq(other.text())
    }

    pub(super) fn to_text(self) -> String {
        String::from_utf8_lossy(&self.text().collect::<Vec<u8>>()).into_owned()
    }

    /// A format that accompanies a codec but is not one.
    pub(super) fn is_auxiliary(&self) -> bool {
        let name = self.head.split('/').next().unwrap_or("");
        ["TELEPHONE-EVENT", "CN", "RED", "ULPFEC", "FLEXFEC", "RTX"]
            .iter()
            .any(|a| name.eq_ignore_ascii_case(a))
    }
}

/// The codecs of one m= line, as `ENCODING/clock` (upper case), in format order. Formats
/// that are not RTP payloads (T.38 `t38`, …) are kept as written.
pub(super) fn codecs(m: &Media) -> impl Iterator<Item = Codec<'_>> + Clone {
    m.formats.iter().map(|f| {
        let mapped = f.parse::<u8>().ok().and_then(|pt| {
            m.rtpmaps.iter().find(|r| r.payload == pt).map(|r| Codec {
                head: &r.encoding,
                clock: Some(r.clock),
            })
        });
        mapped.unwrap_or_else(|| Codec {
            head: static_codec(f).unwrap_or(f),
            clock: None,
        })
    })
}

/// A codec list for a message: the codecs once each, the auxiliary formats summed up.
fn list<'a>(codecs: impl Iterator<Item = Codec<'a>>) -> String {
    let mut main: Vec<String> = Vec::new();
    let mut aux = false;
    for c in codecs {
        if c.is_auxiliary() {
            aux = true;
        } else {
            let text = c.to_text();
            if !main.contains(&text) {
                main.push(text);
            }
        }
    }
    let mut out = main.join(", ");
    if aux {
        out.push_str(if main.is_empty() {
            "telephone-event/CN only"
        } else {
            " (+ telephone-event/CN)"
        });
    }
    out
}

/// A short description of what an SDP offers: `audio RTP/AVP PCMU/8000, G729/8000; video …`.
fn describe(sdp: &Sdp) -> String {
    sdp.media
        .iter()
        .map(|m| {
            if m.port == 0 {
                format!("{} rejected (port 0)", m.kind)
            } else {
                format!("{} {} {}", m.kind, m.proto, list(codecs(m)))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The codec payload type `pt` names in an m= line, if the line lists it.
pub(super) fn codec_of(m: &Media, pt: u8) -> Option<Codec<'_>> {
    m.formats
        .iter()
        .zip(codecs(m))
        .find(|(f, _)| f.parse::<u8>() == Ok(pt))
        .map(|(_, c)| c)
}

/// An answer that shares no codec with its offer on one m= line, while the call's RTP carried
/// a codec of that line's offer or answer both ways: the two m= lines and what flowed
/// (`RTP of payload type 0 (PCMU) both ways, 150 packets caller→callee and 150 callee→caller`).
pub(super) fn flowed_without_common_codec<'s>(
    offer: &'s Sdp,
    answer: &'s Sdp,
    streams: &[CallStream<'_>],
) -> Option<([&'s Media; 2], String)> {
    let (Some(i), _) = mismatch(offer, answer)? else {
        return None;
    };
    let lines = [offer.media.get(i)?, answer.media.get(i)?];
    let listed = |pt: u8| {
        lines
            .iter()
            .any(|m| codec_of(m, pt).is_some_and(|c| !c.is_auxiliary()))
    };
    // Packets caller→callee and callee→caller of the streams that carried such a codec.
    let mut packets = [0u64; 2];
    let mut names: Vec<String> = Vec::new();
    for s in streams {
        let Some(dir) = s.link.direction else {
            continue;
        };
        let carried: Vec<_> = s.stream.payloads.iter().filter(|p| listed(p.pt)).collect();
        if carried.is_empty() {
            continue;
        }
        packets[usize::from(dir == Direction::CalleeToCaller)] += s.stream.packets;
        for p in carried {
            let name = match &p.name {
                Some(n) => format!("{} ({n})", p.pt),
                None => p.pt.to_string(),
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    if packets.contains(&0) {
        return None;
    }
    Some((
        lines,
        format!(
            "RTP of payload type {} both ways, {} packets caller→callee and {} callee→caller",
            names.join(", "),
            packets[0],
            packets[1]
        ),
    ))
}

/// What is wrong with an answer to an offer, if anything: the index of the media it is about
/// (`None`: all of them) and the explanation.
fn mismatch(offer: &Sdp, answer: &Sdp) -> Option<(Option<usize>, String)> {
    if answer.media.is_empty() {
        return None;
    }
    let offered_active = offer.media.iter().any(|m| m.port != 0);
    if offered_active && answer.media.iter().all(|m| m.port == 0) {
        return Some((
            None,
            "the answer rejected every stream (port 0)".to_string(),
        ));
    }
    for (i, (o, a)) in offer.media.iter().zip(&answer.media).enumerate() {
        if o.port == 0 || a.port == 0 || !o.proto.to_ascii_uppercase().starts_with("RTP") {
            continue;
        }
        let offered = codecs(o);
        let answered = codecs(a);
        let common = answered
            .clone()
            .any(|c| !c.is_auxiliary() && offered.clone().any(|x| x.same(&c)));
        let any_codec = answered.clone().any(|c| !c.is_auxiliary());
        if !common && any_codec {
            return Some((
                Some(i),
                format!(
                    "m= line {} ({}): the answer's {} shares no codec with the offer's {}",
                    i + 1,
                    o.kind,
                    list(answered),
                    list(offered)
                ),
            ));
        }
        if !any_codec {
            return Some((
                Some(i),
                format!(
                    "m= line {} ({}): the answer has no codec at all ({})",
                    i + 1,
                    o.kind,
                    list(answered)
                ),
            ));
        }
    }
    None
}

/// The `m=` line of media `index` of a message's SDP, or (`None`) the lines from its first
/// `m=` line to the end of its last one: what the codecs were offered or answered in.
pub(super) fn media_lines(m: &SipMessage, index: Option<usize>) -> Option<Range<usize>> {
    let spans = m.sdp_media_spans();
    match index {
        Some(i) => spans.get(i).cloned(),
        None => Some(spans.first()?.start..spans.last()?.end),
    }
}

pub(super) struct Parsed<'a> {
    pub wire: usize,
    pub msg: &'a SipMessage,
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let streams = streams_by_call(ctx);
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let call_streams = streams.get(&ci).map_or(&[][..], Vec::as_slice);
        let msgs = parsed_messages(ctx, call);
        // (event, span, label) evidence and the message parts, in the order found.
        let mut evidence: Vec<(usize, Option<Range<usize>>, String)> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        // A refused re-INVITE or UPDATE leaves the session as it was (warning); a refused
        // INVITE, an answer with nothing in common or pjsip's failed negotiation leaves the
        // call without media (error).
        let mut severity = Severity::Warning;
        for (i, p) in msgs.iter().enumerate() {
            let Some(code @ (488 | 606)) = p.msg.status() else {
                continue;
            };
            let Some(cseq) = p.msg.cseq() else { continue };
            if cseq.method != "INVITE" && cseq.method != "UPDATE" {
                continue;
            }
            let request = msgs[..i].iter().rev().find(|q| {
                q.msg.method() == Some(cseq.method.as_str())
                    && q.msg.cseq().is_some_and(|c| c.seq == cseq.seq)
            });
            let reinvite = request.is_some_and(|q| q.msg.to().is_some_and(|t| t.tag().is_some()))
                && cseq.method == "INVITE";
            let what = if reinvite {
                "re-INVITE".to_string()
            } else {
                cseq.method.clone()
            };
            let phrase = p.msg.reason_phrase().unwrap_or("");
            let mut text = format!("{code} {phrase} to the {what} (CSeq {})", cseq.seq);
            if let Some(offer) = request.and_then(|q| q.msg.sdp()) {
                text.push_str(&format!(", which offered {}", describe(offer)));
            }
            if let Some(w) = p.msg.first_named("Warning") {
                text.push_str(&format!(" (Warning: {w})"));
            }
            if reinvite || cseq.method == "UPDATE" {
                text.push_str(" (the session goes on with its previous media)");
            } else {
                severity = Severity::Error;
            }
            reasons.push(text);
            evidence.push((
                ctx.model.messages[p.wire].event,
                Some(p.msg.start_span()),
                format!("{code} {phrase}"),
            ));
            if let Some(q) = request {
                evidence.push((
                    ctx.model.messages[q.wire].event,
                    media_lines(q.msg, None),
                    format!("the {what}'s offer"),
                ));
            }
        }
        for (offer, answer) in offer_answer_pairs(&msgs) {
            let (Some(o), Some(a)) = (offer.msg.sdp(), answer.msg.sdp()) else {
                continue;
            };
            if let Some((index, why)) = mismatch(o, a) {
                let what = match (answer.msg.method(), answer.msg.status()) {
                    (Some(m), _) => m.to_string(),
                    (None, Some(c)) => format!("{c} {}", answer.msg.reason_phrase().unwrap_or("")),
                    _ => "message".to_string(),
                };
                let mut reason = format!("the SDP answer in the {} — {why}", what.trim_end());
                // Media that flowed both ways anyway: the SDP exchange is wrong, the call
                // was not left without audio.
                match flowed_without_common_codec(o, a, call_streams) {
                    Some((_, flowed)) => {
                        reason.push_str(&format!(
                            "; the SDP exchange is wrong, but media flowed: {flowed}"
                        ));
                    }
                    None => severity = Severity::Error,
                }
                reasons.push(reason);
                evidence.push((
                    ctx.model.messages[answer.wire].event,
                    media_lines(answer.msg, index),
                    "answer without a common codec".into(),
                ));
                evidence.push((
                    ctx.model.messages[offer.wire].event,
                    media_lines(offer.msg, index),
                    "the offer".into(),
                ));
            }
        }
        // pjsip logs a failure twice (`SDP negotiation done: <error>` from the invite session,
        // `SDP negotiation has failed: …` from pjsua): quote the first line of each input.
        let mut logged = std::collections::BTreeSet::new();
        for (e, l) in ctx.call_logs(ci) {
            if let LogKind::SdpNegotiation { ok: false, .. } = &l.kind {
                severity = Severity::Error;
                if logged.insert(l.origin.input) {
                    reasons.push(format!(
                        "{} logs `{}`",
                        ctx.input_name(l.origin.input),
                        l.text
                    ));
                }
                evidence.push((e, None, l.text.clone()));
            }
        }
        if reasons.is_empty() {
            continue;
        }
        let mut f = Finding::new(
            &RULE,
            Some(Owner::Call(ci)),
            format!("no common codec: {}", reasons.join("; ")),
            HELP.to_string(),
        );
        let mut seen = std::collections::BTreeSet::new();
        for (e, span, l) in evidence {
            if seen.insert(e) {
                f = f.with_span(e, span, l);
            }
        }
        f.severity = severity;
        out.push(f);
    }
}

/// The offer/answer exchanges of a call: an INVITE's SDP and the first response with SDP to it
/// (or, for an INVITE without SDP, the 2xx's SDP and the ACK's), and an UPDATE's SDP and its 2xx.
/// The call's messages that parse, retransmissions left out, in order.
pub(super) fn parsed_messages<'a>(ctx: &Context<'a>, call: &Call) -> Vec<Parsed<'a>> {
    call.messages
        .iter()
        .filter(|&&w| !ctx.model.messages[w].retransmission)
        .filter_map(|&w| {
            Some(Parsed {
                wire: w,
                msg: ctx.model.message(w).parsed()?,
            })
        })
        .collect()
}

pub(super) fn offer_answer_pairs<'m, 'a>(
    msgs: &'m [Parsed<'a>],
) -> Vec<(&'m Parsed<'a>, &'m Parsed<'a>)> {
    let mut pairs = Vec::new();
    for (i, p) in msgs.iter().enumerate() {
        let Some(method @ ("INVITE" | "UPDATE")) = p.msg.method() else {
            continue;
        };
        let Some(seq) = p.msg.cseq().map(|c| c.seq) else {
            continue;
        };
        let later = &msgs[i + 1..];
        let is_resp = |q: &&Parsed<'_>, lo: u16| {
            q.msg.status().is_some_and(|c| (lo..300).contains(&c))
                && q.msg
                    .cseq()
                    .is_some_and(|c| c.seq == seq && c.method == method)
                && q.msg.sdp().is_some()
        };
        if p.msg.sdp().is_some() {
            // A reliable 18x or the 2xx carries the answer; the first one counts.
            let lo = if method == "INVITE" { 180 } else { 200 };
            if let Some(answer) = later.iter().find(|q| is_resp(q, lo)) {
                pairs.push((p, answer));
            }
        } else if method == "INVITE"
            && let Some(offer) = later.iter().find(|q| is_resp(q, 200))
            && let Some(ack) = later.iter().find(|q| {
                q.msg.method() == Some("ACK")
                    && q.msg.cseq().is_some_and(|c| c.seq == seq)
                    && q.msg.sdp().is_some()
            })
        {
            pairs.push((offer, ack));
        }
    }
    pairs
}
