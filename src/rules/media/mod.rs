//! What the media rules read of a call: its RTP streams in the captures (with the RTCP
//! reports about them), the `m=` lines of its SDPs with who sent them, which side of the call
//! a pjsua call dump was written by, and who sends and hears each direction; [`answered`]: an
//! answered call's span, hold and per-capture view (`no-media-received`, `media-stopped`).
//! Owns no rule; does not count RTP (see [`crate::media`]) nor read the dumps (see
//! `ingest::pjsip::media`).

pub(super) mod answered;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use crate::dialog::{Call, Party};
use crate::event::{LogKind, MediaStats};
use crate::media::{Direction, RtcpSummary, StreamCall, StreamSummary};
use crate::rules::{Context, Finding};
use crate::sip::{Media, SipMessage};

/// One stream of a call, as a capture counted it.
pub(super) struct CallStream<'a> {
    pub input: usize,
    /// The stream's index in its input's [`crate::media::MediaSummary::streams`].
    pub index: usize,
    pub stream: &'a StreamSummary,
    pub link: &'a StreamCall,
    /// The last RTCP report about this stream (same SSRC, sent by its receiver), if any.
    pub rtcp: Option<&'a RtcpSummary>,
}

impl CallStream<'_> {
    /// `caller→callee 10.0.0.1:4000 → 10.0.0.2:5000 (SSRC 0x…)`.
    pub fn describe(&self) -> String {
        let s = self.stream;
        let dir = self
            .link
            .direction
            .map_or(String::new(), |d| format!("{} ", d.as_str()));
        format!("{dir}{} → {} (SSRC {})", s.src, s.dst, s.ssrc)
    }

    /// Who hears this stream: `the callee` / `the caller` / `10.0.0.2:5000`.
    pub fn listener(&self) -> String {
        match self.link.direction {
            Some(d) => party_name(receiver(d)).into(),
            None => self.stream.dst.to_string(),
        }
    }
}

/// The streams of every call, by call index (a stream that two calls' SDPs name is listed
/// under both). Deterministic: calls in order, streams in capture order.
pub(super) fn streams_by_call<'a>(ctx: &Context<'a>) -> BTreeMap<usize, Vec<CallStream<'a>>> {
    let mut calls: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, c) in ctx.model.calls.iter().enumerate() {
        calls.entry(c.call_id.as_str()).or_insert(i);
    }
    let mut out: BTreeMap<usize, Vec<CallStream<'a>>> = BTreeMap::new();
    for (input, info) in ctx.inputs.iter().enumerate() {
        let Some(media) = info.media.as_deref() else {
            continue;
        };
        for (index, stream) in media.streams.iter().enumerate() {
            let rtcp = media
                .rtcp
                .iter()
                .find(|r| r.ssrc == stream.ssrc && r.src.ip() == stream.dst.ip());
            for link in &stream.calls {
                if let Some(&call) = calls.get(link.call_id.as_str()) {
                    out.entry(call).or_default().push(CallStream {
                        input,
                        index,
                        stream,
                        link,
                        rtcp,
                    });
                }
            }
        }
    }
    out
}

/// One `m=` line of an SDP of a call.
pub(super) struct SdpMedia<'a> {
    /// The event of the message that carried it.
    pub event: usize,
    pub msg: &'a SipMessage,
    /// Which party sent it (`None`: the call's caller is not known).
    pub sender: Option<Party>,
    /// The m= line's index in its SDP.
    pub index: usize,
    pub media: &'a Media,
    /// Its address (media-level c=, else the session's) and port.
    pub addr: Option<SocketAddr>,
}

/// The `m=` lines of the call's SDPs, in message order (retransmissions left out).
pub(super) fn sdp_media<'a>(ctx: &Context<'a>, call: &Call) -> Vec<SdpMedia<'a>> {
    let mut out = Vec::new();
    for &w in &call.messages {
        let wire = &ctx.model.messages[w];
        if wire.retransmission {
            continue;
        }
        let Some(msg) = ctx.model.message(w).parsed() else {
            continue;
        };
        let Some(sdp) = msg.sdp() else { continue };
        let sender = call.caller_tag.as_deref().map(|caller| {
            let from_caller = msg.from_tag() == Some(caller);
            if msg.is_request() == from_caller {
                Party::Caller
            } else {
                Party::Callee
            }
        });
        for (index, media) in sdp.media.iter().enumerate() {
            let ip = media
                .connection
                .as_deref()
                .or(sdp.connection.as_deref())
                .and_then(|c| c.parse::<IpAddr>().ok());
            out.push(SdpMedia {
                event: wire.event,
                msg,
                sender,
                index,
                media,
                addr: ip.map(|ip| SocketAddr::new(ip, media.port)),
            });
        }
    }
    out
}

/// The first message of the call that names `addr` in its SDP, else the call's first message:
/// the evidence a stream finding points at.
pub(super) fn evidence_event(
    ctx: &Context<'_>,
    sdp: &[SdpMedia<'_>],
    call: &Call,
    addr: SocketAddr,
) -> usize {
    sdp.iter()
        .find(|m| m.addr == Some(addr))
        .map_or(ctx.model.messages[call.first].event, |m| m.event)
}

/// The side of the call whose log holds a pjsua call dump: the dump's `To:` is the remote
/// party, so a dump whose remote carries the caller's tag was written by the callee.
pub(super) fn dump_side(call: &Call, dump: &MediaStats) -> Option<Party> {
    let caller = call.caller_tag.as_deref()?;
    let remote_tag = dump.remote.rsplit_once(";tag=").map(|(_, t)| {
        t.split([';', '>', ' '])
            .next()
            .unwrap_or_default()
            .to_string()
    })?;
    Some(if remote_tag == caller {
        Party::Callee
    } else {
        Party::Caller
    })
}

/// The direction of the RTP that `side` receives.
pub(super) fn received_by(side: Party) -> Direction {
    match side {
        Party::Caller => Direction::CalleeToCaller,
        Party::Callee => Direction::CallerToCallee,
    }
}

/// The party that hears the RTP of direction `d`.
pub(super) fn receiver(d: Direction) -> Party {
    match d {
        Direction::CallerToCallee => Party::Callee,
        Direction::CalleeToCaller => Party::Caller,
    }
}

/// Who sends in direction `d`, and who hears it: (`the caller`, `the callee`) or the reverse.
pub(super) fn parties(d: Direction) -> (&'static str, &'static str) {
    let hears = receiver(d);
    let sends = match hears {
        Party::Caller => Party::Callee,
        Party::Callee => Party::Caller,
    };
    (party_name(sends), party_name(hears))
}

/// The pjsua call dumps linked to a call: (event, input, stream figures).
pub(super) fn dumps<'a>(
    ctx: &Context<'a>,
    call: usize,
) -> impl Iterator<Item = (usize, usize, &'a MediaStats)> + 'a {
    ctx.call_logs(call).filter_map(|(e, l)| match &l.kind {
        LogKind::MediaStats(m) => Some((e, l.origin.input, m.as_ref())),
        _ => None,
    })
}

/// What one source says about one direction of a call's media.
#[derive(Debug, Clone, Copy)]
pub(super) struct Figures {
    /// Packets received (a capture: counted; RTCP: the captured stream's; a dump: its RX).
    pub packets: u64,
    pub lost: i64,
    /// A capture's and a dump's mean RFC 3550 jitter; RTCP's last reported jitter.
    pub mean_jitter_ms: Option<f64>,
    /// A capture's and a dump's max jitter (RTCP reports no max).
    pub max_jitter_ms: Option<f64>,
    /// Of `lost`, the packets that one long pause accounts for (a capture only): see
    /// [`pause_lost`].
    pub paused: i64,
}

impl Figures {
    /// The share of the expected packets that were lost (0..=1); `None` below `min` expected.
    /// The pause's packets ([`Figures::paused`]) are left out of both.
    pub fn loss(&self, min: u64) -> Option<f64> {
        let lost = (self.lost - self.paused).max(0);
        let expected = self.packets.saturating_add(lost as u64);
        (expected >= min && expected > 0).then(|| lost as f64 / expected as f64)
    }

    /// The packets lost apart from a pause.
    pub fn lost_apart_from_pause(&self) -> i64 {
        (self.lost - self.paused).max(0)
    }
}

/// A pause at least this long (ms) is not random loss.
const PAUSE_MS: f64 = 1000.0;

/// Of a stream's lost packets, those its longest gap accounts for, when that gap is a pause of
/// at least [`PAUSE_MS`]: the sender stopped (hold, a switch to T.38, silence suppression that
/// kept counting sequence numbers) or the media stopped for a while (`media-stopped`), which is
/// not the random loss `packet-loss` is about. The packet interval is the stream's average
/// (its span over its expected packets).
pub(super) fn pause_lost(st: &StreamSummary) -> i64 {
    if st.max_delta_ms < PAUSE_MS || st.expected < 2 || st.last_us <= st.first_us {
        return 0;
    }
    let interval_ms = (st.last_us - st.first_us) as f64 / 1000.0 / (st.expected - 1) as f64;
    let in_gap = (st.max_delta_ms / interval_ms).round() as i64 - 1;
    in_gap.clamp(0, st.lost.max(0))
}

/// One direction of a call's media, with what each source says about it: the capture's count
/// of the stream, the receiver's RTCP reports about it, and the receiver's pjsua call dump.
pub(super) struct Leg {
    pub call: usize,
    pub direction: Option<Direction>,
    /// `caller→callee 10.0.0.1:4000 → 10.0.0.2:5000 (SSRC 0x…)`, or for a dump alone
    /// `caller→callee (PCMU, pjsua call dump of callee.log)`.
    pub what: String,
    /// Who hears it: `the callee`, `the caller`, or the destination address.
    pub listener: String,
    /// The stream, when a capture has it (for [`crate::rules::Finding::on_stream`]).
    pub stream: Option<(usize, usize)>,
    pub event: usize,
    pub capture: Option<Figures>,
    pub rtcp: Option<Figures>,
    /// The dump's figures, with the event of the dump's stream.
    pub dump: Option<(usize, Figures)>,
}

impl Leg {
    /// The leg's evidence (the SDP that named its destination, the receiver's dump) and stream.
    pub fn attach(&self, mut f: Finding) -> Finding {
        if self.stream.is_some() {
            f = f.with(self.event, "the call's SDP for this stream");
        }
        if let Some((event, _)) = self.dump {
            f = f.with(event, "the receiver's pjsua call dump");
        }
        match self.stream {
            Some((input, index)) => f.on_stream(input, index),
            None => f,
        }
    }

    /// The figures with their source's name, in order: capture, RTCP, dump.
    pub fn sources(&self) -> impl Iterator<Item = (&'static str, &Figures)> {
        [
            ("the capture", self.capture.as_ref()),
            ("the receiver's RTCP reports", self.rtcp.as_ref()),
            (
                "the receiver's pjsua call dump",
                self.dump.as_ref().map(|(_, f)| f),
            ),
        ]
        .into_iter()
        .filter_map(|(n, f)| Some((n, f?)))
    }
}

/// Every direction of every call's media that a capture or a pjsua dump shows, calls in
/// order. A dump's RX joins the captured stream of the same call and direction (the first
/// such); a dump whose direction no capture shows is a leg of its own.
pub(super) fn legs(ctx: &Context<'_>) -> Vec<Leg> {
    let mut by_call = streams_by_call(ctx);
    let mut out = Vec::new();
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let streams = by_call.remove(&ci).unwrap_or_default();
        let sdp = if streams.is_empty() {
            Vec::new()
        } else {
            sdp_media(ctx, call)
        };
        let first = out.len();
        for s in &streams {
            let st = s.stream;
            // A payload type without a known clock rate (a dynamic type without rtpmap) makes
            // the capture's jitter unreliable: only fully timed streams are judged.
            let timed = st.clock_rate.is_some() && st.payloads.iter().all(|p| p.name.is_some());
            out.push(Leg {
                call: ci,
                direction: s.link.direction,
                what: s.describe(),
                listener: s.listener(),
                stream: Some((s.input, s.index)),
                event: evidence_event(ctx, &sdp, call, st.dst),
                capture: Some(Figures {
                    packets: st.packets,
                    lost: st.lost,
                    mean_jitter_ms: timed.then_some(st.mean_jitter_ms),
                    max_jitter_ms: timed.then_some(st.max_jitter_ms),
                    paused: pause_lost(st),
                }),
                rtcp: s.rtcp.map(|r| Figures {
                    packets: st.packets,
                    lost: i64::from(r.cumulative_lost),
                    // Not judged: one sample per report, in units of a clock rate the report
                    // does not give, and some stacks report it wrongly.
                    mean_jitter_ms: None,
                    max_jitter_ms: None,
                    paused: 0,
                }),
                dump: None,
            });
        }
        for (event, input, d) in dumps(ctx, ci) {
            let (Some(rx), Some(side)) = (&d.rx, dump_side(call, d)) else {
                continue;
            };
            let direction = received_by(side);
            let figures = Figures {
                packets: rx.packets,
                lost: rx.lost as i64,
                mean_jitter_ms: rx.jitter.map(|j| j.mean_us as f64 / 1000.0),
                max_jitter_ms: rx.jitter.map(|j| j.max_us as f64 / 1000.0),
                paused: 0,
            };
            match out[first..]
                .iter_mut()
                .find(|l| l.direction == Some(direction) && l.capture.is_some() && l.dump.is_none())
            {
                Some(leg) => leg.dump = Some((event, figures)),
                None => out.push(Leg {
                    call: ci,
                    direction: Some(direction),
                    what: format!(
                        "{} ({}, pjsua call dump of {})",
                        direction.as_str(),
                        d.codec,
                        ctx.input_name(input)
                    ),
                    listener: party_name(side).to_string(),
                    stream: None,
                    event,
                    capture: None,
                    rtcp: None,
                    dump: Some((event, figures)),
                }),
            }
        }
    }
    out
}

/// `the callee` / `the caller`.
pub(super) fn party_name(p: Party) -> &'static str {
    match p {
        Party::Caller => "the caller",
        Party::Callee => "the callee",
    }
}
