//! Media in captures: RTP streams and RTCP reports, as counters per stream.
//!
//! Fed with the UDP datagrams of a capture (by [`crate::ingest::capture::parse_with_media`]),
//! and with the SDP bodies of its SIP messages (for the clock rates and names of dynamic
//! payload types, from `a=rtpmap`). Per stream (SSRC and 5-tuple) it keeps counters only, never
//! payloads: payload types, first and last time, packets, bytes, lost (expected − received,
//! with wrap-around), duplicates, out of order, max delta, RFC 3550 jitter (mean and max),
//! RFC 4733 telephone events, and an R-factor/MOS estimate ([`quality`]). RTCP SR/RR report
//! blocks give, per reported SSRC, the loss fraction, cumulative loss, jitter and the RTT from
//! LSR/DLSR (measured at the capture point: the time between the SR and the RR that answers
//! it, minus DLSR).
//!
//! RTP is recognised heuristically, so that random UDP never becomes a stream: version 2, a
//! static or dynamic payload type (never RTCP's 200–204), and [`CONFIRM`] packets in a row on
//! one 5-tuple with the same SSRC and each sequence number a little above the highest so far
//! (or a little below it: reordered on the way). Until then
//! a flow is a candidate (one per 5-tuple); its counters start with its first packet, so a
//! confirmed stream counts every packet, as tshark does.
//!
//! Memory is bounded: at most [`MAX_STREAMS`] streams and [`MAX_CANDIDATES`] candidate flows
//! (packets beyond are counted in [`MediaSummary::untracked`]), [`MAX_RTCP`] RTCP entries,
//! [`MAX_SDP`] SDP media descriptions, [`MAX_FRAGMENTED_FRAMES`] frames of RTP or RTCP
//! datagrams that came in IP fragments (kept for `sipflow export`, which copies every frame of
//! a call's datagrams; see [`Media::note_fragmented`]). Per packet: a header parse and one or
//! two hash lookups, no allocation.
//!
//! Streams are matched to calls here, by address: each SDP is remembered with the Call-ID of
//! the SIP message that carried it, its time, and which party sent it (the caller: the From tag
//! of the call's first INVITE; a request is sent by its From party, a response by the other).
//! At [`Media::finish`], a stream belongs to the call whose SDP named its destination (the
//! latest such SDP before its first packet, else the first after), and to the call whose SDP
//! named its source (symmetric RTP). A stream to an SDP's address from an address none of that
//! call's SDP named is noted (latching behind NAT). The dialog layer joins by Call-ID.
//!
//! Does not own: building calls, rules, output (the CLI's `media` command, `calls`).

pub mod quality;
pub mod rtcp;
pub mod rtp;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use crate::hash::Map;

/// Packets in a row that make a candidate flow a stream.
pub const CONFIRM: u64 = 3;
/// Streams tracked at most.
pub const MAX_STREAMS: usize = 10_000;
/// Candidate flows tracked at most.
pub const MAX_CANDIDATES: usize = 10_000;
/// RTCP (reporter, reported SSRC) entries and SRs remembered at most.
pub const MAX_RTCP: usize = 10_000;
/// SDP media descriptions (address, port) remembered at most.
pub const MAX_SDP: usize = 10_000;
/// Frames of fragmented RTP/RTCP datagrams remembered at most ([`Media::note_fragmented`]).
pub const MAX_FRAGMENTED_FRAMES: usize = 100_000;
/// SDPs remembered per (address, port) at most (re-INVITEs, a port reused by later calls).
const MAX_NAMED: usize = 8;
/// The clock rate of an RTCP report's jitter when the reported stream's is unknown.
pub const DEFAULT_CLOCK_RATE: u32 = 8000;
/// Telephone-event digits kept per stream.
const MAX_DIGITS: usize = 64;

type FlowKey = (SocketAddr, SocketAddr);

#[derive(Debug, Clone)]
struct Stream {
    src: SocketAddr,
    dst: SocketAddr,
    ssrc: u32,
    /// Arrival order of the first packet (for a stable output order).
    order: u64,
    stats: rtp::Stats,
    /// Payload types seen (bit per type).
    pts: u128,
    /// The payload type of the last packet and its clock rate (`None`: unknown).
    pt: u8,
    rate: Option<u32>,
    /// RFC 4733: events (distinct event timestamps), their digits.
    dtmf_events: u64,
    dtmf_last_ts: Option<u32>,
    digits: String,
}

#[derive(Debug, Clone)]
struct Candidate {
    stream: Stream,
}

#[derive(Debug, Clone, Default)]
struct RtcpEntry {
    order: u64,
    reports: u64,
    fraction_lost: u8,
    cumulative_lost: i32,
    jitter_units: u32,
    rtt_us: Option<i64>,
    max_rtt_us: Option<i64>,
}

/// A payload type as an SDP describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rtpmap {
    pt: u8,
    name: String,
    rate: u32,
}

/// The RTP and RTCP of one capture, counted.
#[derive(Debug, Default)]
pub struct Media {
    streams: Map<(SocketAddr, SocketAddr, u32), Stream>,
    candidates: Map<FlowKey, Candidate>,
    /// (RTCP src, dst, reported SSRC).
    rtcp: Map<(SocketAddr, SocketAddr, u32), RtcpEntry>,
    /// (SR sender SSRC, NTP middle 32 bits) → capture time of the SR.
    srs: Map<(u32, u32), i64>,
    /// (address, port) of an SDP m= line → its rtpmaps.
    sdp: Map<(IpAddr, u16), Vec<Rtpmap>>,
    /// A payload type's first rtpmap seen anywhere (fallback).
    any_rtpmap: Map<u8, Rtpmap>,
    /// (address, port) of an SDP m= line → the SDPs that named it, in capture order.
    named: Map<(IpAddr, u16), Vec<Named>>,
    /// Call-ID → its caller's From tag (from the call's first INVITE).
    callers: Map<String, String>,
    /// Call-ID → how many (address, port) its SDPs named.
    addresses: Map<String, u32>,
    order: u64,
    untracked: u64,
    rtcp_packets: u64,
    fragmented: Vec<Fragmented>,
    fragmented_frames: usize,
}

/// A party of a call, as the sender of an SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Caller,
    Callee,
}

/// An SDP that named an address: when, in which call, sent by whom (`None`: unknown).
#[derive(Debug, Clone)]
struct Named {
    at_us: i64,
    call_id: String,
    side: Option<Side>,
}

impl Media {
    pub fn new() -> Self {
        Media::default()
    }

    /// Looks at one UDP payload that arrived at `arrival_us` (µs since the epoch). Returns
    /// whether it was taken as RTP or RTCP.
    pub fn push_udp(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        b: &[u8],
        arrival_us: i64,
    ) -> bool {
        if rtcp::is_rtcp(b) {
            self.push_rtcp(src, dst, b, arrival_us);
            return true;
        }
        let Some(h) = rtp::parse(b) else {
            return false;
        };
        self.order += 1;
        if let Some(s) = self.streams.get_mut(&(src, dst, h.ssrc)) {
            count(s, &h, b, arrival_us, &self.sdp, &self.any_rtpmap);
            return true;
        }
        let key = (src, dst);
        let fresh = |order| Stream {
            src,
            dst,
            ssrc: h.ssrc,
            order,
            stats: rtp::Stats::default(),
            pts: 0,
            pt: h.pt,
            rate: clock_rate(&self.sdp, &self.any_rtpmap, src, dst, h.pt),
            dtmf_events: 0,
            dtmf_last_ts: None,
            digits: String::new(),
        };
        match self.candidates.get_mut(&key) {
            Some(c) => {
                // A little ahead of the highest so far, or a little behind it (reordered on
                // the way, as tshark counts it too); never the same number again.
                let ahead = h.seq.wrapping_sub(c.stream.stats.max_seq()) as i16;
                if c.stream.ssrc != h.ssrc || !(-10..=10).contains(&ahead) || ahead == 0 {
                    // Not continuous: start again from this packet.
                    c.stream = fresh(self.order);
                }
            }
            None => {
                if self.candidates.len() >= MAX_CANDIDATES {
                    self.untracked += 1;
                    return false;
                }
                self.candidates.insert(
                    key,
                    Candidate {
                        stream: fresh(self.order),
                    },
                );
            }
        }
        let Some(c) = self.candidates.get_mut(&key) else {
            return false;
        };
        count(
            &mut c.stream,
            &h,
            b,
            arrival_us,
            &self.sdp,
            &self.any_rtpmap,
        );
        if c.stream.stats.packets >= CONFIRM {
            if self.streams.len() >= MAX_STREAMS {
                self.untracked += c.stream.stats.packets;
                self.candidates.remove(&key);
                return false;
            }
            if let Some(c) = self.candidates.remove(&key) {
                self.streams.insert((src, dst, h.ssrc), c.stream);
            }
        }
        true
    }

    /// Remembers the frames of an RTP or RTCP datagram that came in several (IP fragments),
    /// so that an export can copy all of them: a frame that is not the last of its datagram
    /// cannot be told RTP when it is read alone. Bounded by [`MAX_FRAGMENTED_FRAMES`].
    pub fn note_fragmented(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        b: &[u8],
        arrival_us: i64,
        frames: &[u64],
    ) {
        if frames.len() < 2 || self.fragmented_frames + frames.len() > MAX_FRAGMENTED_FRAMES {
            return;
        }
        let Some(kind) = classify(b) else {
            return;
        };
        self.fragmented_frames += frames.len();
        self.fragmented.push(Fragmented {
            src,
            dst,
            kind,
            at_us: arrival_us,
            frames: frames.to_vec(),
        });
    }

    fn push_rtcp(&mut self, src: SocketAddr, dst: SocketAddr, b: &[u8], arrival_us: i64) {
        self.rtcp_packets += 1;
        for r in rtcp::reports(b) {
            let blocks = match r {
                rtcp::Report::Sender {
                    ssrc,
                    ntp_middle,
                    blocks,
                } => {
                    if self.srs.len() < MAX_RTCP || self.srs.contains_key(&(ssrc, ntp_middle)) {
                        self.srs.insert((ssrc, ntp_middle), arrival_us);
                    }
                    blocks
                }
                rtcp::Report::Receiver { blocks, .. } => blocks,
            };
            for blk in rtcp::blocks(blocks) {
                let key = (src, dst, blk.ssrc);
                if !self.rtcp.contains_key(&key) {
                    if self.rtcp.len() >= MAX_RTCP {
                        continue;
                    }
                    self.order += 1;
                    self.rtcp.insert(
                        key,
                        RtcpEntry {
                            order: self.order,
                            ..RtcpEntry::default()
                        },
                    );
                }
                let rtt = (blk.lsr != 0)
                    .then(|| self.srs.get(&(blk.ssrc, blk.lsr)))
                    .flatten()
                    .map(|sent| arrival_us - sent - ((i64::from(blk.dlsr) * 1_000_000) >> 16))
                    .filter(|&us| us >= 0);
                if let Some(e) = self.rtcp.get_mut(&key) {
                    e.reports += 1;
                    e.fraction_lost = blk.fraction_lost;
                    e.cumulative_lost = blk.cumulative_lost;
                    e.jitter_units = blk.jitter;
                    if rtt.is_some() {
                        e.rtt_us = rtt;
                        e.max_rtt_us = e.max_rtt_us.max(rtt);
                    }
                }
            }
        }
    }

    /// Learns the payload types an SDP body (or a whole SIP message holding one) describes:
    /// each m= line's address (its c=, or the session's) and port, with its rtpmaps; and, for a
    /// whole SIP message seen at `at_us`, which call and party named those addresses.
    pub fn learn_sdp(&mut self, sip: &[u8], at_us: i64) {
        // Every SIP message of a capture comes here: read the head only of one with SDP, or of
        // an INVITE (whose From may be the caller).
        let sdp_at = memchr::memmem::find(sip, b"\nm=");
        if sdp_at.is_none() && !sip.starts_with(b"INVITE ") {
            return;
        }
        let head = SipHead::of(sip);
        if let Some(h) = &head
            && h.initial_invite
            && (self.callers.len() < MAX_SDP)
            && let Some(tag) = &h.from_tag
        {
            self.callers
                .entry(h.call_id.clone())
                .or_insert_with(|| tag.clone());
        }
        let Some(at) = sdp_at else {
            return;
        };
        let Ok(text) = std::str::from_utf8(&sip[at.saturating_sub(4096)..]) else {
            return;
        };
        let mut session_addr: Option<IpAddr> = None;
        let mut media: Vec<(Option<IpAddr>, u16, Vec<Rtpmap>)> = Vec::new();
        for line in text.lines().map(str::trim_end) {
            if let Some(c) = line.strip_prefix("c=") {
                let addr = c
                    .split_whitespace()
                    .nth(2)
                    .and_then(|a| a.split('/').next().and_then(|a| a.parse::<IpAddr>().ok()));
                match media.last_mut() {
                    Some(m) => m.0 = addr,
                    None => session_addr = addr,
                }
            } else if let Some(m) = line.strip_prefix("m=") {
                let port = m
                    .split_whitespace()
                    .nth(1)
                    .and_then(|p| p.split('/').next()?.parse().ok());
                if let Some(port) = port {
                    media.push((None, port, Vec::new()));
                }
            } else if let Some(a) = line.strip_prefix("a=rtpmap:")
                && let Some(m) = media.last_mut()
                && let Some((pt, enc)) = a.split_once(' ')
                && let Ok(pt) = pt.parse::<u8>()
            {
                let mut parts = enc.split('/');
                let name = parts.next().unwrap_or_default().to_string();
                if let Some(rate) = parts.next().and_then(|r| r.parse::<u32>().ok())
                    && rate > 0
                    && m.2.len() < 32
                {
                    m.2.push(Rtpmap { pt, name, rate });
                }
            }
        }
        for (addr, port, maps) in media {
            let Some(addr) = addr.or(session_addr) else {
                continue;
            };
            for m in &maps {
                if self.any_rtpmap.len() < 128 {
                    self.any_rtpmap.entry(m.pt).or_insert_with(|| m.clone());
                }
            }
            if self.sdp.len() < MAX_SDP || self.sdp.contains_key(&(addr, port)) {
                self.sdp.insert((addr, port), maps);
            }
            if let Some(h) = &head {
                self.name(addr, port, h, at_us);
            }
        }
    }

    /// Remembers that the message `h` named `addr`:`port` in its SDP.
    fn name(&mut self, addr: IpAddr, port: u16, h: &SipHead, at_us: i64) {
        let side = self.callers.get(&h.call_id).map(|caller| {
            if h.request == (h.from_tag.as_ref() == Some(caller)) {
                Side::Caller
            } else {
                Side::Callee
            }
        });
        if !self.named.contains_key(&(addr, port)) && self.named.len() >= MAX_SDP {
            return;
        }
        let list = self.named.entry((addr, port)).or_default();
        if !list.iter().any(|n| n.call_id == h.call_id) && list.len() < MAX_NAMED {
            *self.addresses.entry(h.call_id.clone()).or_default() += 1;
        }
        match list.last() {
            // A re-INVITE or retransmission naming it again.
            Some(last) if last.call_id == h.call_id && last.side == side => {}
            _ if list.len() >= MAX_NAMED => {}
            _ => list.push(Named {
                at_us,
                call_id: h.call_id.clone(),
                side,
            }),
        }
    }

    /// The calls a stream from `src` to `dst` whose first packet came at `first_us` belongs
    /// to: the SDP that named its destination, then the one that named its source.
    fn calls_of(&self, src: SocketAddr, dst: SocketAddr, first_us: i64) -> Vec<StreamCall> {
        let named = |a: SocketAddr| {
            let list = self.named.get(&(a.ip(), a.port()))?;
            list.iter()
                .rev()
                .find(|n| n.at_us <= first_us)
                .or_else(|| list.first())
        };
        let mut calls = Vec::new();
        if let Some(n) = named(dst) {
            let by_call = |a: SocketAddr| {
                self.named
                    .get(&(a.ip(), a.port()))
                    .is_some_and(|l| l.iter().any(|m| m.call_id == n.call_id))
            };
            // The call's SDPs named other addresses than the destination, and not the source.
            let elsewhere = self.addresses.get(&n.call_id).is_some_and(|&k| k > 1);
            calls.push(StreamCall {
                call_id: n.call_id.clone(),
                direction: n.side.map(|s| match s {
                    Side::Caller => Direction::CalleeToCaller,
                    Side::Callee => Direction::CallerToCallee,
                }),
                named: SdpEnd::Destination,
                source_not_in_sdp: elsewhere && !by_call(src),
            });
        }
        if let Some(n) = named(src) {
            let direction = n.side.map(|s| match s {
                Side::Caller => Direction::CallerToCallee,
                Side::Callee => Direction::CalleeToCaller,
            });
            match calls.iter_mut().find(|c| c.call_id == n.call_id) {
                Some(c) => {
                    c.named = SdpEnd::Both;
                    c.direction = c.direction.or(direction);
                }
                None => calls.push(StreamCall {
                    call_id: n.call_id.clone(),
                    direction,
                    named: SdpEnd::Source,
                    source_not_in_sdp: false,
                }),
            }
        }
        calls
    }

    /// The streams and RTCP reports, in the order their first packet arrived.
    pub fn finish(mut self) -> MediaSummary {
        let mut streams: Vec<Stream> = std::mem::take(&mut self.streams).into_values().collect();
        streams.sort_by_key(|s| s.order);
        let rate_of = |ssrc: u32| {
            streams
                .iter()
                .find(|s| s.ssrc == ssrc)
                .and_then(|s| s.rate)
                .unwrap_or(DEFAULT_CLOCK_RATE)
        };
        let mut rtcp: Vec<_> = std::mem::take(&mut self.rtcp).into_iter().collect();
        rtcp.sort_by_key(|(_, e)| e.order);
        let rtcp = rtcp
            .into_iter()
            .map(|((src, dst, ssrc), e)| RtcpSummary {
                src,
                dst,
                ssrc: hex(ssrc),
                reports: e.reports,
                fraction_lost: f64::from(e.fraction_lost) / 256.0,
                cumulative_lost: e.cumulative_lost,
                jitter_ms: f64::from(e.jitter_units) * 1000.0 / f64::from(rate_of(ssrc)),
                rtt_ms: e.rtt_us.map(|us| us as f64 / 1000.0),
                max_rtt_ms: e.max_rtt_us.map(|us| us as f64 / 1000.0),
            })
            .collect();
        let any = &self.any_rtpmap;
        let sdp = &self.sdp;
        MediaSummary {
            streams: streams
                .iter()
                .map(|s| {
                    let mut sum = summary(s, sdp, any);
                    sum.calls = self.calls_of(s.src, s.dst, s.stats.first_us);
                    sum
                })
                .collect(),
            rtcp,
            rtcp_packets: self.rtcp_packets,
            untracked: self.untracked,
            fragmented: std::mem::take(&mut self.fragmented),
        }
    }
}

/// What a UDP payload is taken for, on its own: RTCP, or RTP of an SSRC (the header checks of
/// [`Media::push_udp`]; a stream also needs [`CONFIRM`] packets in a row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaPacket {
    Rtp { ssrc: u32 },
    Rtcp,
}

/// Whether `b` looks like RTCP or RTP (see [`MediaPacket`]).
pub fn classify(b: &[u8]) -> Option<MediaPacket> {
    if rtcp::is_rtcp(b) {
        return Some(MediaPacket::Rtcp);
    }
    rtp::parse(b).map(|h| MediaPacket::Rtp { ssrc: h.ssrc })
}

/// An RTP or RTCP datagram that came in several frames (IP fragments).
#[derive(Debug, Clone, PartialEq)]
pub struct Fragmented {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub kind: MediaPacket,
    /// The arrival of the frame that completed it, µs since the epoch.
    pub at_us: i64,
    pub frames: Vec<u64>,
}

/// Counts one packet into a stream.
fn count(
    s: &mut Stream,
    h: &rtp::Header,
    b: &[u8],
    arrival_us: i64,
    sdp: &Map<(IpAddr, u16), Vec<Rtpmap>>,
    any: &Map<u8, Rtpmap>,
) {
    s.pts |= 1u128 << h.pt;
    if s.pt != h.pt {
        s.pt = h.pt;
        s.rate = clock_rate(sdp, any, s.src, s.dst, h.pt);
    }
    if is_telephone_event(sdp, any, s.src, s.dst, h.pt, h.payload_len)
        && s.dtmf_last_ts != Some(h.ts)
    {
        s.dtmf_last_ts = Some(h.ts);
        s.dtmf_events += 1;
        if let Some(&event) = b.get(h.payload_at)
            && s.digits.len() < MAX_DIGITS
            && let Some(d) = b"0123456789*#ABCD".get(usize::from(event))
        {
            s.digits.push(char::from(*d));
        }
    }
    let cn = h.pt == 13
        || lookup(sdp, any, s.src, s.dst, h.pt).is_some_and(|m| m.name.eq_ignore_ascii_case("CN"));
    s.stats.push(h, arrival_us, s.rate, cn);
}

fn lookup<'a>(
    sdp: &'a Map<(IpAddr, u16), Vec<Rtpmap>>,
    any: &'a Map<u8, Rtpmap>,
    src: SocketAddr,
    dst: SocketAddr,
    pt: u8,
) -> Option<&'a Rtpmap> {
    let at = |a: SocketAddr| {
        sdp.get(&(a.ip(), a.port()))
            .and_then(|maps| maps.iter().find(|m| m.pt == pt))
    };
    at(dst).or_else(|| at(src)).or_else(|| any.get(&pt))
}

fn clock_rate(
    sdp: &Map<(IpAddr, u16), Vec<Rtpmap>>,
    any: &Map<u8, Rtpmap>,
    src: SocketAddr,
    dst: SocketAddr,
    pt: u8,
) -> Option<u32> {
    rtp::static_clock_rate(pt).or_else(|| lookup(sdp, any, src, dst, pt).map(|m| m.rate))
}

/// A telephone-event packet: its payload type is mapped to `telephone-event`, or (no rtpmap
/// known) it is the usual 101 with the 4-byte RFC 4733 payload of a DTMF event.
fn is_telephone_event(
    sdp: &Map<(IpAddr, u16), Vec<Rtpmap>>,
    any: &Map<u8, Rtpmap>,
    src: SocketAddr,
    dst: SocketAddr,
    pt: u8,
    len: usize,
) -> bool {
    if pt < 96 {
        return false;
    }
    match lookup(sdp, any, src, dst, pt) {
        Some(m) => m.name.eq_ignore_ascii_case("telephone-event"),
        None => pt == 101 && len == 4,
    }
}

fn hex(ssrc: u32) -> String {
    format!("0x{ssrc:08X}")
}

impl StreamSummary {
    /// The stream's SSRC as a number (the summary carries it as text, `0x0000CAFE`).
    pub fn ssrc_value(&self) -> Option<u32> {
        u32::from_str_radix(self.ssrc.strip_prefix("0x")?, 16).ok()
    }
}

fn summary(
    s: &Stream,
    sdp: &Map<(IpAddr, u16), Vec<Rtpmap>>,
    any: &Map<u8, Rtpmap>,
) -> StreamSummary {
    let st = &s.stats;
    let payloads = (0..128u8)
        .filter(|pt| s.pts & (1u128 << pt) != 0)
        .map(|pt| PayloadType {
            pt,
            name: lookup(sdp, any, s.src, s.dst, pt)
                .map(|m| m.name.clone())
                .or_else(|| rtp::static_name(pt).map(str::to_string)),
        })
        .collect();
    let expected = st.expected();
    let loss = if expected == 0 {
        0.0
    } else {
        (st.lost().max(0) as f64 / expected as f64).min(1.0)
    };
    let r = quality::r_factor(loss, st.max_jitter_s);
    StreamSummary {
        src: s.src,
        dst: s.dst,
        ssrc: hex(s.ssrc),
        payloads,
        clock_rate: s.rate,
        first_us: st.first_us,
        last_us: st.last_us,
        packets: st.packets,
        bytes: st.bytes,
        expected,
        lost: st.lost(),
        duplicates: st.duplicates,
        out_of_order: st.out_of_order,
        sequence_restarts: st.restarts,
        max_delta_ms: st.max_delta_us as f64 / 1000.0,
        mean_jitter_ms: st.mean_jitter_s() * 1000.0,
        max_jitter_ms: st.max_jitter_s * 1000.0,
        r_factor: r,
        mos: quality::mos(r),
        dtmf_events: s.dtmf_events,
        dtmf_digits: s.digits.clone(),
        calls: Vec::new(),
    }
}

/// What [`Media::learn_sdp`] needs of a SIP message's head.
struct SipHead {
    call_id: String,
    from_tag: Option<String>,
    request: bool,
    /// An INVITE without To tag: its From is the caller.
    initial_invite: bool,
}

impl SipHead {
    /// The head of `sip`, if it is a SIP message with a Call-ID.
    fn of(sip: &[u8]) -> Option<SipHead> {
        let end = memchr::memmem::find(sip, b"\n\r\n")
            .or_else(|| memchr::memmem::find(sip, b"\n\n"))
            .unwrap_or(sip.len().min(8192));
        let text = std::str::from_utf8(sip.get(..end)?).ok()?;
        let mut lines = text.lines().map(str::trim_end);
        let first = lines.next()?;
        let request = !first.starts_with("SIP/");
        if request && !first.ends_with("SIP/2.0") {
            return None;
        }
        let (mut call_id, mut from_tag, mut to_tag) = (None, None, None);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            let is = |long: &str, short: &str| {
                let name = name.trim();
                name.eq_ignore_ascii_case(long) || name.eq_ignore_ascii_case(short)
            };
            if is("call-id", "i") {
                call_id = Some(value.to_string());
            } else if is("from", "f") {
                from_tag = tag(value);
            } else if is("to", "t") {
                to_tag = tag(value);
            }
        }
        Some(SipHead {
            call_id: call_id.filter(|c| !c.is_empty())?,
            initial_invite: request && first.starts_with("INVITE ") && to_tag.is_none(),
            from_tag,
            request,
        })
    }
}

/// The `tag` parameter of a From or To value (after the URI's `>`, if any).
fn tag(value: &str) -> Option<String> {
    let params = value.rsplit_once('>').map_or(value, |(_, p)| p);
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("tag")
            .then(|| v.trim().to_string())
    })
}

/// Which way a stream goes between a call's parties.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    CallerToCallee,
    CalleeToCaller,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::CallerToCallee => "caller→callee",
            Direction::CalleeToCaller => "callee→caller",
        }
    }
}

/// Which end of a stream a call's SDP named.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SdpEnd {
    Destination,
    Source,
    Both,
}

/// A call a stream belongs to.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StreamCall {
    pub call_id: String,
    /// Absent when the capture does not show who the caller is (no initial INVITE).
    pub direction: Option<Direction>,
    /// The end of the stream that the call's SDP named.
    pub named: SdpEnd,
    /// The stream goes to an address the call's SDP named, from one that none of its SDP
    /// named: a NAT between them, the receiver latching onto the address RTP comes from.
    pub source_not_in_sdp: bool,
}

/// A payload type seen in a stream, with its encoding name when known.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PayloadType {
    pub pt: u8,
    pub name: Option<String>,
}

/// One RTP stream's figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StreamSummary {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub ssrc: String,
    pub payloads: Vec<PayloadType>,
    /// The clock rate of the last payload type (none: a dynamic type without rtpmap, whose
    /// packets are counted but not timed).
    pub clock_rate: Option<u32>,
    /// First and last packet time, µs since the epoch.
    pub first_us: i64,
    pub last_us: i64,
    pub packets: u64,
    /// RTP payload bytes.
    pub bytes: u64,
    pub expected: u64,
    pub lost: i64,
    pub duplicates: u64,
    pub out_of_order: u64,
    pub sequence_restarts: u64,
    pub max_delta_ms: f64,
    pub mean_jitter_ms: f64,
    pub max_jitter_ms: f64,
    pub r_factor: f64,
    pub mos: f64,
    pub dtmf_events: u64,
    pub dtmf_digits: String,
    /// The calls whose SDP named this stream's ends (empty: no SDP in the capture did).
    pub calls: Vec<StreamCall>,
}

/// What the RTCP reports from `src` to `dst` say about the stream `ssrc` (the last report).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RtcpSummary {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub ssrc: String,
    pub reports: u64,
    pub fraction_lost: f64,
    pub cumulative_lost: i32,
    pub jitter_ms: f64,
    pub rtt_ms: Option<f64>,
    pub max_rtt_ms: Option<f64>,
}

/// The media of a capture.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct MediaSummary {
    pub streams: Vec<StreamSummary>,
    pub rtcp: Vec<RtcpSummary>,
    pub rtcp_packets: u64,
    /// RTP-like packets not counted because a bound was reached.
    pub untracked: u64,
    /// The RTP and RTCP datagrams that came in IP fragments, with their frames (at most
    /// [`MAX_FRAGMENTED_FRAMES`] frames), for `sipflow export`.
    #[serde(skip)]
    pub fragmented: Vec<Fragmented>,
}
