//! What the rules about media that never came or stopped (`no-media-received`,
//! `media-stopped`) read about one answered call: when it was up and ended, which directions its
//! SDP let flow (hold), and the RTP streams each capture counted for it, over the span that
//! capture covers.

use crate::dialog::Outcome;
use crate::event::Timestamp;
use crate::media::{Direction, MediaSummary, StreamSummary};
use crate::rules::Context;
use crate::sip::{MediaDirection, SipMessage};

/// Both directions, indexable with [`idx`].
pub(in crate::rules) const DIRECTIONS: [Direction; 2] =
    [Direction::CallerToCallee, Direction::CalleeToCaller];

pub(in crate::rules) fn idx(d: Direction) -> usize {
    match d {
        Direction::CallerToCallee => 0,
        Direction::CalleeToCaller => 1,
    }
}

/// An answered call, as the media rules see it.
pub(in crate::rules) struct Answered {
    pub ci: usize,
    /// The 2xx to the INVITE (a wire message).
    pub answer: usize,
    /// When the call was up: the ACK of that 2xx.
    pub up_ts: Timestamp,
    /// The BYE that ended it (the first BYE request), when the input has it.
    pub bye: Option<usize>,
    /// Per direction ([`idx`]): no SDP of the call put it on hold or refused it
    /// (`sendonly`/`recvonly`/`inactive`, `c=0.0.0.0`, port 0), at any time of the call.
    pub allowed: [bool; 2],
    /// Both parties' SDP (offer and answer) are in the input.
    pub both_sdp: bool,
}

impl Answered {
    /// The answer as input `input` saw it (its event), else its first sighting.
    pub fn answer_in(&self, ctx: &Context<'_>, input: usize) -> usize {
        seen_in(ctx, self.answer, input).map_or(ctx.model.messages[self.answer].event, |(e, _)| e)
    }
}

/// One capture's view of an answered call: its streams, and the span of the call it covers.
pub(in crate::rules) struct CaptureView<'a> {
    pub input: usize,
    /// The call's streams in this capture: (index in [`MediaSummary::streams`], stream,
    /// direction).
    pub streams: Vec<(usize, &'a StreamSummary, Direction)>,
    /// From the answer (or the capture's first sight of the call, if later) …
    pub from: Timestamp,
    /// … to the BYE as this capture saw it, else the capture's end.
    pub until: Timestamp,
}

impl CaptureView<'_> {
    pub fn of(&self, d: Direction) -> impl Iterator<Item = &(usize, &StreamSummary, Direction)> {
        self.streams.iter().filter(move |s| s.2 == d)
    }

    pub fn span_ms(&self) -> i64 {
        self.from.known_ms_until(self.until).unwrap_or(0)
    }
}

/// The call `ci` when it was answered, its answer acknowledged, and the input shows when
/// (`None` otherwise).
pub(in crate::rules) fn answered(ctx: &Context<'_>, ci: usize) -> Option<Answered> {
    let call = &ctx.model.calls[ci];
    if call.outcome != Outcome::Answered {
        return None;
    }
    let msgs = ctx.parsed(&call.messages);
    let is_invite = |m: &SipMessage| m.cseq().is_some_and(|c| c.method == "INVITE");
    let &(answer, _, ok) = msgs
        .iter()
        .find(|(_, _, m)| m.status().is_some_and(|c| (200..300).contains(&c)) && is_invite(m))?;
    // The call is up when the 2xx is acknowledged: without the ACK in the input it never was
    // (`missing-ack`), or the input does not show when.
    let seq = ok.cseq().map(|c| c.seq);
    let &(_, up_ts, _) = msgs.iter().find(|(_, _, m)| {
        m.method() == Some("ACK") && m.to_tag().is_some() && m.cseq().map(|c| c.seq) == seq
    })?;
    if !up_ts.is_known() {
        return None;
    }
    let bye = msgs
        .iter()
        .find(|(_, _, m)| m.method() == Some("BYE"))
        .map(|&(w, _, _)| w);
    let caller_tag = call.caller_tag.as_deref();
    let mut allowed = [true; 2];
    let mut seen = [false; 2];
    for (_, _, m) in &msgs {
        let Some(sdp) = m.sdp() else { continue };
        // A request is sent by its From party, a response by the other.
        let from_caller = caller_tag.is_some() && m.from_tag() == caller_tag;
        let by_caller = from_caller == m.is_request();
        let (sends, receives) = if by_caller {
            (Direction::CallerToCallee, Direction::CalleeToCaller)
        } else {
            (Direction::CalleeToCaller, Direction::CallerToCallee)
        };
        seen[idx(sends)] = true;
        let (send, recv) = sdp_allows(sdp);
        allowed[idx(sends)] &= send;
        allowed[idx(receives)] &= recv;
    }
    Some(Answered {
        ci,
        answer,
        up_ts,
        bye,
        allowed,
        both_sdp: seen == [true, true],
    })
}

/// Whether an SDP's sender lets media flow from it, and to it: its first active audio m-line
/// (else its first active one) is not on hold. An SDP without an active m-line allows neither.
fn sdp_allows(sdp: &crate::sip::Sdp) -> (bool, bool) {
    let active = sdp.media.iter().filter(|m| m.port != 0);
    let Some(m) = active
        .clone()
        .find(|m| m.kind == "audio")
        .or_else(|| active.clone().next())
    else {
        return (false, false);
    };
    let held = m
        .connection
        .as_deref()
        .or(sdp.connection.as_deref())
        .is_some_and(|c| c.split_whitespace().last() == Some("0.0.0.0"));
    match m.direction {
        MediaDirection::SendRecv => (true, !held),
        MediaDirection::SendOnly => (true, false),
        MediaDirection::RecvOnly => (false, !held),
        MediaDirection::Inactive => (false, false),
    }
}

/// The time input `input` saw wire message `w`, if it did.
pub(in crate::rules) fn seen_in(
    ctx: &Context<'_>,
    w: usize,
    input: usize,
) -> Option<(usize, Timestamp)> {
    ctx.model.messages[w].sightings.iter().find_map(|&e| {
        let ev = &ctx.model.events[e];
        (ev.origin().input == input).then(|| (e, ev.ts()))
    })
}

/// Each capture's view of the answered call `a`: captures that counted at least one RTP stream
/// of this call, with the span of the call they cover (a capture that starts or ends inside
/// the call covers only part of it: the edge of the input is not a fault). A capture with no
/// stream of the call gives no view: it may have been filtered to SIP, or taken off the
/// media path.
pub(in crate::rules) fn capture_views<'a>(ctx: &Context<'a>, a: &Answered) -> Vec<CaptureView<'a>> {
    let call = &ctx.model.calls[a.ci];
    let mut out = Vec::new();
    for (input, info) in ctx.inputs.iter().enumerate() {
        let Some(media) = info.media.as_deref() else {
            continue;
        };
        let streams = call_streams(media, &call.call_id);
        if streams.is_empty() {
            continue;
        }
        // The first sight of the call in this capture, and of its BYE.
        let first = call
            .messages
            .iter()
            .filter_map(|&w| seen_in(ctx, w, input))
            .map(|(_, t)| t)
            .min();
        let Some(first) = first else { continue };
        let Some(end) = ctx.input_ends.get(input).copied().flatten() else {
            continue;
        };
        let until = a
            .bye
            .and_then(|b| seen_in(ctx, b, input))
            .map_or(end, |(_, t)| t);
        out.push(CaptureView {
            input,
            streams,
            from: first.max(a.up_ts),
            until,
        });
    }
    out
}

/// The streams of `media` that belong to the call `call_id`, with their direction; none when
/// any of them has no known direction (the capture does not show who the caller is).
fn call_streams<'a>(
    media: &'a MediaSummary,
    call_id: &str,
) -> Vec<(usize, &'a StreamSummary, Direction)> {
    let mut out = Vec::new();
    for (i, s) in media.streams.iter().enumerate() {
        let Some(c) = s.calls.iter().find(|c| c.call_id == call_id) else {
            continue;
        };
        let Some(d) = c.direction else {
            return Vec::new();
        };
        out.push((i, s, d));
    }
    out
}

/// `µs` since the epoch as a capture time.
pub(in crate::rules) fn at(micros: i64) -> Timestamp {
    Timestamp {
        micros,
        dated: true,
        ..Timestamp::default()
    }
}

#[cfg(test)]
mod tests {
    use super::sdp_allows;
    use crate::sip::Sdp;

    fn allows(media: &str) -> (bool, bool) {
        let body = format!(
            "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n{media}"
        );
        sdp_allows(&Sdp::parse(body.as_bytes()).expect("SDP"))
    }

    #[test]
    fn hold_and_refusal_stop_the_directions_they_name() {
        let audio = "m=audio 4000 RTP/AVP 0\r\n";
        assert_eq!(allows(audio), (true, true));
        assert_eq!(allows(&format!("{audio}a=sendonly\r\n")), (true, false));
        assert_eq!(allows(&format!("{audio}a=recvonly\r\n")), (false, true));
        assert_eq!(allows(&format!("{audio}a=inactive\r\n")), (false, false));
        // RFC 2543 hold: the media's own address 0.0.0.0
        assert_eq!(
            allows(&format!("{audio}c=IN IP4 0.0.0.0\r\n")),
            (true, false)
        );
        // a refused stream, and the active one after it
        assert_eq!(allows("m=audio 0 RTP/AVP 0\r\n"), (false, false));
        assert_eq!(
            allows("m=audio 0 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 8\r\na=sendonly\r\n"),
            (true, false)
        );
        // the audio stream counts, not a video one before it
        assert_eq!(
            allows("m=video 5000 RTP/AVP 96\r\na=inactive\r\nm=audio 4000 RTP/AVP 0\r\n"),
            (true, true)
        );
    }
}
