//! SF035 `no-media-received`: an answered call in which one direction carried no RTP.

use std::collections::BTreeMap;

use super::media::answered::{self, Answered, DIRECTIONS, idx};
use super::media::{dump_side, parties, received_by};
use crate::dialog::Owner;
use crate::event::LogKind;
use crate::media::Direction;
use crate::rules::{Context, Finding, Rule, Scope, Severity, secs};

pub(super) const RULE: Rule = Rule {
    code: "SF035",
    name: "no-media-received",
    severity: Severity::Error,
    scope: Scope::Call,
    judges_time: true,
    summary: "an answered call in which one side received no RTP: one-way or no audio",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
An answered call, up (from the ACK of its 2xx) for longer than `thresholds.no-media-call-ms`
(default 3000 ms), in which one direction carried no RTP at all: one side heard nothing. The finding says which side, and
from what evidence:

- **A capture** (`check` and `report` count its RTP; see `docs/architecture.md`): the call's
  other direction has an RTP stream in the capture (so the capture sees the call's media
  path), and none goes the way the SDP asked, over the part of the call the capture covers
  (from the ACK, or from where the capture starts, to the BYE or to where the capture stops).
- **pjsua's call dump** at DISCONNECTED in the log of the side that heard nothing: `RX pt=0 …
  total 0pkt` for a stream negotiated `sendrecv` or `recvonly`, `no-media-call-ms` or more
  after the ACK.

With a capture and the logs read together, the evidence of both goes into one finding per
call and direction.

A capture's streams are known to the rules once the capture has been read: a capture cut into
several windows (more than `--limit window-events`, 4096 by default, of finished calls) is
judged from its streams only for the calls of its last window. pjsua writes the dump just after
the call's last message: it meets its call in the window unless that call alone held more than
a quarter of a window.

Not reported (the absence of RTP is no fault there, or the input cannot show it):
- a direction that an SDP of the call, at any time (the INVITE, its answer, a re-INVITE), put
  on hold or refused: `sendonly`, `recvonly`, `inactive`, `c=0.0.0.0`, an m-line with port 0;
- a call answered for less than the threshold, or of which the capture covers less;
- a 2xx never acknowledged (no ACK in the input: the call was never up, see `missing-ack`);
- a call of which the capture shows no RTP in either direction: a capture filtered to SIP, or
  taken off the media path (a proxy's), cannot tell "nothing was sent" from "not recorded";
  the pjsua dumps can;
- a capture without the call's initial INVITE or without both SDP bodies (which direction a
  stream goes, or whether the SDP asked for it, is then unknown);
- a log without a call dump (pjsua logs it at level 3 or more; nothing else in a log counts
  RTP).

## Why it matters
"The call connects but there is no audio", or audio one way only, is the most common VoIP
complaint. SIP went well, so no SIP-level rule fires; the caller or the callee simply hears
silence and hangs up.

## Severity
Error: the call was up and the trace shows that one side received no audio at all, so the
call failed as a conversation. Never lowered: a direction on hold is not judged at all (see
above), and a test peer that never sends RTP (SIPp without `rtp_stream`/`-rtp_echo`) does
leave its partner hearing nothing.

## Typical causes
- NAT: a private address in the SDP (`c=10.x`, `192.168.x`, see `private-address-in-sdp`), so
  the other side sends to an address that does not reach; no STUN/ICE, no `rport`/media
  latching on the server.
- A firewall or security group that lets SIP through but drops the RTP port range (or one
  direction of it).
- A SIP ALG rewriting the SDP wrongly.
- A codec or SRTP mismatch: the stream is sent but the receiver drops every packet (an
  RTP/AVP answer to an RTP/SAVP offer, a payload type not negotiated; see `codec-mismatch`).
- The sender's application never started its media: no sound device, a media port it could
  not bind, a test peer that does not send RTP.

## How to fix
Look at the SDP of the side that should have sent: is its `c=` address reachable from the
receiver? Capture on both sides to find where the RTP stops. Behind NAT, enable STUN/ICE or
media latching (symmetric RTP) on the server, or use a media relay (rtpengine, rtpproxy); open
the RTP port range in the firewall; disable SIP ALGs. With SRTP, make both sides agree
(`srtpUse`, `srtpSecureSignaling` in pjsua2).

## Example
From `fixtures/media/pjsua-oneway` (the callee's RTP dropped on its way out): the capture,
taken on the caller's side, shows the caller's 300 packets and none from the callee, and the
caller's pjsua call dump says the same:
```
#0 audio PCMU @8kHz, sendrecv, peer=10.78.2.2:51040
   RX pt=0, last update:00h:00m:01.439s ago
      total 0pkt 0B (0B +IP hdr) @avg=0bps/0bps
   TX pt=0, ptime=20, last update:00h:00m:00.000s ago
      total 300pkt 48.0KB (60.0KB +IP hdr) @avg=63.9Kbps/79.8Kbps
```
`sipflow check call.pcap caller.log`: `the caller heard nothing: no RTP from the callee
reached it in the 6.0 s the call was up`.

## References
- RFC 3264 §5.1, §8.4 (offer/answer; direction attributes and hold)
- RFC 3550 (RTP)
- pjsua call dump: `pjsua_call_dump()` (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA__LIB__CALL.html)
"#;

/// The evidence gathered for one direction of one call.
#[derive(Default)]
struct Silent {
    /// (event, label), the answer first.
    evidence: Vec<(usize, String)>,
    /// How long the call was up, per the longest evidence (ms).
    up_ms: i64,
    /// A capture counted the other direction's packets: (input, packets).
    other: Option<(usize, u64)>,
    /// Logs whose dump showed nothing received.
    dumps: Vec<usize>,
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    for ci in 0..ctx.model.calls.len() {
        let Some(a) = answered::answered(ctx, ci) else {
            continue;
        };
        let mut silent: BTreeMap<usize, Silent> = BTreeMap::new();
        from_captures(ctx, &a, &mut silent);
        from_dumps(ctx, &a, &mut silent);
        for (d, s) in silent {
            out.push(finding(ctx, &a, DIRECTIONS[d], s));
        }
    }
}

fn from_captures(ctx: &Context<'_>, a: &Answered, silent: &mut BTreeMap<usize, Silent>) {
    let threshold = ctx.settings.thresholds.no_media_call_ms;
    if !a.both_sdp {
        return;
    }
    for view in answered::capture_views(ctx, a) {
        let span = view.span_ms();
        if span < threshold {
            continue;
        }
        for d in DIRECTIONS {
            let other = DIRECTIONS[1 - idx(d)];
            let other_packets: u64 = view.of(other).map(|s| s.1.packets).sum();
            if !a.allowed[idx(d)] || view.of(d).next().is_some() || other_packets == 0 {
                continue;
            }
            let (sender, receiver) = parties(d);
            let s = silent.entry(idx(d)).or_default();
            s.up_ms = s.up_ms.max(span);
            s.other.get_or_insert((view.input, other_packets));
            let event = a.answer_in(ctx, view.input);
            s.evidence.push((
                event,
                format!(
                    "{}: RTP from {receiver} to {sender} ({other_packets} packets), none from \
                     {sender} to {receiver} in the {} that follow",
                    ctx.input_name(view.input),
                    secs(span)
                ),
            ));
        }
    }
}

fn from_dumps(ctx: &Context<'_>, a: &Answered, silent: &mut BTreeMap<usize, Silent>) {
    let threshold = ctx.settings.thresholds.no_media_call_ms;
    // The last dump of each stream in each log: a dump made during the call ("dump call")
    // counts only what came so far.
    let mut last: BTreeMap<(usize, u32), (usize, &crate::event::LogEvent)> = BTreeMap::new();
    for (e, l) in ctx.call_logs(a.ci) {
        if let LogKind::MediaStats(ms) = &l.kind {
            last.insert((l.origin.input, ms.stream), (e, l));
        }
    }
    for ((input, _), (e, l)) in last {
        let LogKind::MediaStats(ms) = &l.kind else {
            continue;
        };
        let Some(d) = dump_side(&ctx.model.calls[a.ci], ms).map(received_by) else {
            continue;
        };
        let receives = matches!(ms.dir.as_str(), "sendrecv" | "recvonly");
        if !receives || !a.allowed[idx(d)] || ms.rx.as_ref().is_none_or(|rx| rx.packets != 0) {
            continue;
        }
        let answer_event = a.answer_in(ctx, input);
        let Some(up) = a.up_ts.known_ms_until(l.ts).filter(|&up| up >= threshold) else {
            continue;
        };
        let (_, receiver) = parties(d);
        let s = silent.entry(idx(d)).or_default();
        s.up_ms = s.up_ms.max(up);
        if s.evidence.is_empty() {
            s.evidence.push((answer_event, "the answer".to_string()));
        }
        s.dumps.push(input);
        let tx = ms
            .tx
            .as_ref()
            .map_or(String::new(), |tx| format!(", sent {} packets", tx.packets));
        s.evidence.push((
            e,
            format!(
                "{receiver}'s pjsua call dump ({}): stream #{} {} {} {}, received 0 packets{tx}",
                ctx.input_name(input),
                ms.stream,
                ms.media,
                ms.codec,
                ms.dir
            ),
        ));
    }
}

fn finding(ctx: &Context<'_>, a: &Answered, d: Direction, s: Silent) -> Finding {
    let (sender, receiver) = parties(d);
    let mut seen = Vec::new();
    if let Some((input, packets)) = s.other {
        seen.push(format!(
            "{} shows {packets} RTP packets from {receiver} and none from {sender}",
            ctx.input_name(input)
        ));
    }
    if !s.dumps.is_empty() {
        seen.push(format!(
            "{receiver}'s pjsua call dump counts 0 packets received"
        ));
    }
    let message = format!(
        "{receiver} heard nothing: no RTP from {sender} reached it in the {} the call was up \
         ({})",
        secs(s.up_ms),
        seen.join("; ")
    );
    let help = format!(
        "{sender}'s RTP did not arrive: Check the address {sender}'s RTP was sent to (the `c=` \
         and `m=` of {receiver}'s SDP) and the path to it: a private address in the SDP or a NAT \
         that does not let it through (STUN/ICE, media latching, a media relay), a firewall or \
         SIP ALG dropping the RTP ports, or a codec or SRTP mismatch that makes {receiver} drop \
         what it gets"
    );
    let mut f = Finding::new(&RULE, Some(Owner::Call(a.ci)), message, help);
    for (event, label) in s.evidence {
        f = f.with(event, label);
    }
    f
}
