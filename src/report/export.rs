//! `sipflow export`: the messages of the (selected) calls written out again, as a capture
//! (pcap or pcapng) or as a raw SIP dump.
//!
//! A capture input's frames are copied unchanged: the run notes which frames each selected
//! message came in (every IP fragment and TCP segment of it, [`Locator::Frames`]), and at the
//! end each capture is read again and those frames are copied, so no frame is held for the
//! whole run. A message read from a log gets a synthetic UDP frame (raw IPv4 or IPv6) with the
//! logged addresses and time; pcapng marks it as synthesised in its comment. The raw SIP dump
//! is written as the run goes, one wire message once.
//!
//! Media: when the run counted the captures' media (`InputInfo::media`, unless `--no-media`),
//! the RTP and RTCP of the selected calls are copied too, chosen while the capture is read
//! again, not listed during the run: an RTP frame belongs to a selected call when its UDP
//! 5-tuple and SSRC are those of a stream the media module matched to the call (by its SDP)
//! and it lies within that stream's first and last packet; an RTCP frame, when it goes between
//! the ends of such a stream (RTCP on the same ports, multiplexed) or their next ports (the
//! RTCP port pair), within the call's time (its SIP and its streams) give or take
//! [`RTCP_SLACK_US`]. The frames of an RTP/RTCP datagram that came in IP fragments are the
//! ones the media module noted ([`crate::media::Fragmented`]). So memory grows with the calls
//! and streams, not with the packets. Media matched to no call, or to calls not selected, is
//! not copied.
//!
//! Owns: choosing the frames, the pcap/pcapng and raw SIP writers. Does not own: the selection
//! (`cli::select`), reading captures (`ingest::capture::reader`), recognising streams and
//! matching them to calls (`media`).

use std::collections::BTreeMap;
use std::io::{self, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::Context;
use crate::dialog::Owner;
use crate::event::{Event, Locator, MessageEvent, Timestamp};
use crate::hash::Map;
use crate::ingest::InputInfo;
use crate::ingest::capture::{L4, decode, reader};
use crate::media::{MediaPacket, MediaSummary, classify};

/// How long before and after a call's SIP and streams its RTCP is still taken (RTCP reports
/// come every few seconds, the last ones after the last RTP).
pub const RTCP_SLACK_US: i64 = 10_000_000;

/// LINKTYPE_RAW: an IPv4 or IPv6 packet without a link layer (synthetic frames).
const LINKTYPE_RAW: i32 = 101;
/// The largest UDP payload a synthetic IPv4 frame can carry; a longer logged message is cut.
const MAX_UDP_PAYLOAD: usize = 65_535 - 20 - 8;

/// What the export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Pcap,
    Pcapng,
    /// Raw SIP messages back to back (what `sipflow` reads as `raw`).
    Sip,
}

/// A synthetic frame for a message read from a log.
struct Synthetic {
    ts: Timestamp,
    packet: Vec<u8>,
    comment: String,
}

/// The export of a run, gathered window by window.
pub struct Export {
    format: ExportFormat,
    /// Only the messages of the model's calls and flows (a selection is active).
    owned_only: bool,
    /// By input: the frames to copy, each with the call it belongs to.
    frames: BTreeMap<usize, BTreeMap<u64, String>>,
    synthetic: Vec<Synthetic>,
    /// `--format sip`: where the messages go as they come.
    sip: Option<Box<dyn Write>>,
    /// The calls exported, by Call-ID: for their media.
    calls: Map<String, Selected>,
}

/// A call exported: its name in the comments and the time its SIP spans (µs).
struct Selected {
    name: String,
    first_us: i64,
    last_us: i64,
}

impl Export {
    /// `sip` is the output of a raw SIP dump, written as the run goes.
    pub fn new(format: ExportFormat, owned_only: bool, sip: Option<Box<dyn Write>>) -> Self {
        Export {
            format,
            owned_only,
            frames: BTreeMap::new(),
            synthetic: Vec::new(),
            sip,
            calls: Map::default(),
        }
    }

    /// Adds a window's (selected) messages.
    pub fn add(&mut self, ctx: &Context<'_>) -> io::Result<()> {
        let model = ctx.model;
        if self.sip.is_none() {
            // The model holds the selected calls only (or all of them): their media goes too.
            for c in &model.calls {
                let times = c
                    .messages
                    .iter()
                    .filter_map(|&w| model.messages.get(w).map(|_| model.message(w).ts))
                    .filter(|t| t.is_known())
                    .map(|t| t.micros);
                let (first, last) =
                    times.fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(t), b.max(t)));
                let call = self
                    .calls
                    .entry(c.call_id.clone())
                    .or_insert_with(|| Selected {
                        name: format!("call {}: {}", c.index, c.call_id),
                        first_us: first,
                        last_us: last,
                    });
                call.first_us = call.first_us.min(first);
                call.last_us = call.last_us.max(last);
            }
        }
        for (w, wire) in model.messages.iter().enumerate() {
            let owner = model.message_owner.get(w).copied().flatten();
            if self.owned_only && owner.is_none() {
                continue;
            }
            let name = match owner {
                Some(Owner::Call(c)) => model
                    .calls
                    .get(c)
                    .map(|c| format!("call {}: {}", c.index, c.call_id)),
                Some(Owner::Flow(f)) => model
                    .flows
                    .get(f)
                    .map(|f| format!("flow F{}: {}", f.index, f.call_id)),
                None => None,
            }
            .unwrap_or_else(|| "no call".to_string());
            if let Some(sip) = &mut self.sip {
                let raw = model.message(w).raw();
                sip.write_all(raw)?;
                // Messages back to back: a message that does not end its own line gets one.
                if !raw.ends_with(b"\n") {
                    sip.write_all(b"\r\n")?;
                }
                continue;
            }
            let mut in_capture = false;
            for &e in &wire.sightings {
                let Some(Event::Message(m)) = model.events.get(e) else {
                    continue;
                };
                if let Locator::Frames(frames) = &m.origin.locator {
                    in_capture = true;
                    let mine = self.frames.entry(m.origin.input).or_default();
                    for &f in frames {
                        mine.entry(f).or_insert_with(|| name.clone());
                    }
                }
            }
            if !in_capture {
                let m = model.message(w);
                let place = match &m.origin.locator {
                    Locator::Text { line, .. } => {
                        format!("{}:{line}", ctx.input_name(m.origin.input))
                    }
                    Locator::Frames(_) => ctx.input_name(m.origin.input).to_string(),
                };
                self.synthetic.push(Synthetic {
                    ts: m.ts,
                    packet: synthesise(m),
                    comment: format!("{name}; synthesised by sipflow from the log {place}"),
                });
            }
        }
        Ok(())
    }

    /// Writes the capture: the selected frames of each capture (`paths`, by input index, read
    /// again), with the RTP and RTCP of the selected calls when the run counted the capture's
    /// media (`inputs`), then the synthetic frames. A pcap file holds one link type: frames of
    /// several need pcapng.
    pub fn finish(
        mut self,
        paths: &[String],
        inputs: &[InputInfo],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if let Some(mut sip) = self.sip.take() {
            return sip.flush();
        }
        let mut w = CaptureWriter::new(self.format == ExportFormat::Pcapng, out);
        let no_frames = BTreeMap::new();
        for (input, path) in paths.iter().enumerate() {
            let media = inputs
                .get(input)
                .and_then(|i| i.media.as_deref())
                .map(|m| MediaMatch::new(m, &self.calls))
                .filter(|m| !m.is_empty());
            let frames = self.frames.get(&input).unwrap_or(&no_frames);
            if frames.is_empty() && media.is_none() {
                continue;
            }
            let file = std::fs::File::open(path)?;
            let mut r = BufReader::new(file);
            let gzip = {
                use std::io::BufRead;
                r.fill_buf()?.starts_with(&[0x1f, 0x8b])
            };
            let mut r: Box<dyn Read> = if gzip {
                Box::new(flate2::bufread::MultiGzDecoder::new(r))
            } else {
                Box::new(r)
            };
            let mut decoder = decode::Decoder::new();
            let (mut datagrams, mut warnings) = (Vec::new(), Vec::new());
            let mut failed = Ok(());
            reader::read(&mut r, &mut |pkt| {
                if failed.is_err() {
                    return;
                }
                if let Some(comment) = frames.get(&pkt.frame) {
                    failed = w.frame(pkt.linktype, pkt.ts, pkt.data, pkt.orig_len, comment);
                    return;
                }
                let Some(media) = &media else {
                    return;
                };
                let comment = match media.fragments.get(&pkt.frame) {
                    Some(comment) => Some(comment.as_str()),
                    None => {
                        decoder.decode(&pkt, &mut datagrams, &mut warnings);
                        warnings.clear();
                        let found = datagrams
                            .iter()
                            // A datagram of several frames: its frames are `fragments`.
                            .filter(|d| d.l4 == L4::Udp && d.frames.len() == 1)
                            .find_map(|d| media.of(d.src, d.dst, &d.payload, d.ts.micros));
                        datagrams.clear();
                        found
                    }
                };
                if let Some(comment) = comment {
                    failed = w.frame(pkt.linktype, pkt.ts, pkt.data, pkt.orig_len, comment);
                }
            })
            .map_err(|e| io::Error::other(format!("{path}: {e}")))?;
            failed?;
        }
        self.synthetic.sort_by_key(|s| s.ts);
        for s in &self.synthetic {
            let len = u32::try_from(s.packet.len()).unwrap_or(u32::MAX);
            w.frame(LINKTYPE_RAW, s.ts, &s.packet, len, &s.comment)?;
        }
        w.finish()
    }
}

/// When (first and last µs) a frame belongs to a call, and the comment that names it.
type Span = (i64, i64, String);

/// The RTP and RTCP of the exported calls in one capture, by address.
struct MediaMatch {
    /// (source, destination, SSRC) of a stream → its span (µs) and comment.
    rtp: Map<(SocketAddr, SocketAddr, u32), Span>,
    /// The two ends of an RTCP flow (lower first) → the spans (µs) and comments of the calls
    /// whose streams go between them (or between the ports below).
    rtcp: Map<(SocketAddr, SocketAddr), Vec<Span>>,
    /// The frames of fragmented RTP/RTCP datagrams of the calls → comment.
    fragments: BTreeMap<u64, String>,
}

impl MediaMatch {
    fn new(media: &MediaSummary, calls: &Map<String, Selected>) -> Self {
        let mut m = MediaMatch {
            rtp: Map::default(),
            rtcp: Map::default(),
            fragments: BTreeMap::new(),
        };
        for s in &media.streams {
            // The first of the stream's calls that is exported (its SDP named the destination).
            let Some(call) = s.calls.iter().find_map(|c| calls.get(&c.call_id)) else {
                continue;
            };
            let codecs: Vec<String> = s
                .payloads
                .iter()
                .map(|p| p.name.clone().unwrap_or_else(|| format!("PT {}", p.pt)))
                .collect();
            let codecs = if codecs.is_empty() {
                String::new()
            } else {
                format!(" {}", codecs.join(", "))
            };
            let Some(ssrc) = s.ssrc_value() else {
                continue;
            };
            m.rtp.insert(
                (s.src, s.dst, ssrc),
                (s.first_us, s.last_us, format!("{} RTP{codecs}", call.name)),
            );
            let from = s.first_us.min(call.first_us).saturating_sub(RTCP_SLACK_US);
            let to = s.last_us.max(call.last_us).saturating_add(RTCP_SLACK_US);
            let comment = format!("{} RTCP", call.name);
            let next = |a: SocketAddr| a.port().checked_add(1).map(|p| SocketAddr::new(a.ip(), p));
            let mut pairs = vec![(s.src, s.dst)];
            if let (Some(a), Some(b)) = (next(s.src), next(s.dst)) {
                pairs.push((a, b));
            }
            for (a, b) in pairs {
                let list = m.rtcp.entry((a.min(b), a.max(b))).or_default();
                if !list
                    .iter()
                    .any(|(f, t, c)| (*f, *t, c) == (from, to, &comment))
                {
                    list.push((from, to, comment.clone()));
                }
            }
        }
        if m.rtp.is_empty() {
            return m;
        }
        for f in &media.fragmented {
            if let Some(comment) = m.of_kind(f.src, f.dst, f.kind, f.at_us) {
                let comment = comment.to_string();
                for &frame in &f.frames {
                    m.fragments.insert(frame, comment.clone());
                }
            }
        }
        m
    }

    fn is_empty(&self) -> bool {
        self.rtp.is_empty()
    }

    /// The comment of a UDP payload from `src` to `dst` at `at_us` that is RTP or RTCP of an
    /// exported call.
    fn of(&self, src: SocketAddr, dst: SocketAddr, b: &[u8], at_us: i64) -> Option<&str> {
        self.of_kind(src, dst, classify(b)?, at_us)
    }

    fn of_kind(
        &self,
        src: SocketAddr,
        dst: SocketAddr,
        kind: MediaPacket,
        at_us: i64,
    ) -> Option<&str> {
        match kind {
            MediaPacket::Rtp { ssrc } => {
                let (first, last, comment) = self.rtp.get(&(src, dst, ssrc))?;
                (*first..=*last)
                    .contains(&at_us)
                    .then_some(comment.as_str())
            }
            MediaPacket::Rtcp => self
                .rtcp
                .get(&(src.min(dst), src.max(dst)))?
                .iter()
                .find(|(from, to, _)| (*from..=*to).contains(&at_us))
                .map(|(_, _, c)| c.as_str()),
        }
    }
}

/// An IPv4 or IPv6 UDP packet carrying the message, with its logged addresses (192.0.2.1 and
/// 192.0.2.2, port 5060, the documentation addresses, when the log names none).
fn synthesise(m: &MessageEvent) -> Vec<u8> {
    let addr = |a: &Option<std::sync::Arc<str>>, fallback: [u8; 4]| {
        a.as_deref()
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .unwrap_or_else(|| SocketAddr::new(IpAddr::V4(Ipv4Addr::from(fallback)), 5060))
    };
    let (mut src, mut dst) = (addr(&m.src, [192, 0, 2, 1]), addr(&m.dst, [192, 0, 2, 2]));
    // One family per packet: a mixed pair falls back to the documentation addresses.
    if src.is_ipv4() != dst.is_ipv4() {
        src = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), src.port());
        dst = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)), dst.port());
    }
    let raw = m.raw();
    let payload = &raw[..raw.len().min(MAX_UDP_PAYLOAD)];
    let udp_len = payload.len() + 8;
    let mut udp = Vec::with_capacity(udp_len);
    udp.extend_from_slice(&src.port().to_be_bytes());
    udp.extend_from_slice(&dst.port().to_be_bytes());
    udp.extend_from_slice(&(udp_len as u16).to_be_bytes());
    // Checksum 0: none (allowed for IPv4; Wireshark does not verify it by default for IPv6).
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let mut packet = Vec::with_capacity(udp_len + 40);
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = (udp_len + 20) as u16;
            let mut h = [0u8; 20];
            h[0] = 0x45;
            h[2..4].copy_from_slice(&total.to_be_bytes());
            h[8] = 64;
            h[9] = 17;
            h[12..16].copy_from_slice(&s.octets());
            h[16..20].copy_from_slice(&d.octets());
            let sum = checksum(&h);
            h[10..12].copy_from_slice(&sum.to_be_bytes());
            packet.extend_from_slice(&h);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            packet.extend_from_slice(&[0x60, 0, 0, 0]);
            packet.extend_from_slice(&(udp_len as u16).to_be_bytes());
            packet.extend_from_slice(&[17, 64]);
            packet.extend_from_slice(&s.octets());
            packet.extend_from_slice(&d.octets());
        }
        _ => unreachable!("both addresses are of one family"),
    }
    packet.extend_from_slice(&udp);
    packet
}

/// The IPv4 header checksum.
fn checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Writes pcap (one link type) or pcapng (an interface per link type, a comment per frame).
struct CaptureWriter<'a> {
    pcapng: bool,
    out: &'a mut dyn Write,
    /// pcap: the link type of the header written; pcapng: the interface of each link type.
    interfaces: Vec<i32>,
    started: bool,
}

impl<'a> CaptureWriter<'a> {
    fn new(pcapng: bool, out: &'a mut dyn Write) -> Self {
        CaptureWriter {
            pcapng,
            out,
            interfaces: Vec::new(),
            started: false,
        }
    }

    fn start(&mut self) -> io::Result<()> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        if self.pcapng {
            // Section header block: little-endian, version 1.0, section length unknown.
            let mut body = Vec::new();
            body.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
            body.extend_from_slice(&1u16.to_le_bytes());
            body.extend_from_slice(&0u16.to_le_bytes());
            body.extend_from_slice(&(-1i64).to_le_bytes());
            let mut opts = Vec::new();
            option(&mut opts, 4, b"sipflow export");
            end_options(&mut opts);
            body.extend_from_slice(&opts);
            block(self.out, 0x0A0D_0D0A, &body)
        } else {
            Ok(())
        }
    }

    fn frame(
        &mut self,
        linktype: i32,
        ts: Timestamp,
        data: &[u8],
        orig_len: u32,
        comment: &str,
    ) -> io::Result<()> {
        self.start()?;
        let micros = if ts.is_known() { ts.micros } else { 0 };
        let caplen = u32::try_from(data.len()).unwrap_or(u32::MAX);
        if !self.pcapng {
            match self.interfaces.first() {
                None => {
                    self.interfaces.push(linktype);
                    let mut h = Vec::with_capacity(24);
                    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
                    h.extend_from_slice(&2u16.to_le_bytes());
                    h.extend_from_slice(&4u16.to_le_bytes());
                    h.extend_from_slice(&0i32.to_le_bytes());
                    h.extend_from_slice(&0u32.to_le_bytes());
                    h.extend_from_slice(&262_144u32.to_le_bytes());
                    h.extend_from_slice(&(linktype as u32).to_le_bytes());
                    self.out.write_all(&h)?;
                }
                Some(&l) if l != linktype => {
                    return Err(io::Error::other(format!(
                        "the frames have several link types ({l} and {linktype}), which a pcap \
                         file cannot hold: export to a .pcapng file"
                    )));
                }
                Some(_) => {}
            }
            let secs = micros.div_euclid(1_000_000);
            let mut r = Vec::with_capacity(16 + data.len());
            r.extend_from_slice(&(secs as u32).to_le_bytes());
            r.extend_from_slice(&(micros.rem_euclid(1_000_000) as u32).to_le_bytes());
            r.extend_from_slice(&caplen.to_le_bytes());
            r.extend_from_slice(&orig_len.max(caplen).to_le_bytes());
            r.extend_from_slice(data);
            return self.out.write_all(&r);
        }
        let interface = match self.interfaces.iter().position(|&l| l == linktype) {
            Some(i) => i,
            None => {
                // Interface description block: link type, snaplen 0 (no limit), µs times.
                let mut body = Vec::new();
                body.extend_from_slice(&(linktype as u16).to_le_bytes());
                body.extend_from_slice(&0u16.to_le_bytes());
                body.extend_from_slice(&0u32.to_le_bytes());
                let mut opts = Vec::new();
                option(&mut opts, 9, &[6]);
                end_options(&mut opts);
                body.extend_from_slice(&opts);
                block(self.out, 1, &body)?;
                self.interfaces.push(linktype);
                self.interfaces.len() - 1
            }
        };
        let micros = micros as u64;
        let mut body = Vec::with_capacity(20 + data.len() + comment.len() + 16);
        body.extend_from_slice(&(interface as u32).to_le_bytes());
        body.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(micros as u32).to_le_bytes());
        body.extend_from_slice(&caplen.to_le_bytes());
        body.extend_from_slice(&orig_len.max(caplen).to_le_bytes());
        body.extend_from_slice(data);
        pad(&mut body);
        let mut opts = Vec::new();
        option(&mut opts, 1, comment.as_bytes());
        end_options(&mut opts);
        body.extend_from_slice(&opts);
        block(self.out, 6, &body)
    }

    fn finish(mut self) -> io::Result<()> {
        // An empty export is still a file tshark opens: its header alone (pcap: Ethernet).
        if !self.pcapng && self.interfaces.is_empty() {
            let mut h = Vec::with_capacity(24);
            h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
            h.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            h.extend_from_slice(&262_144u32.to_le_bytes());
            h.extend_from_slice(&1u32.to_le_bytes());
            self.out.write_all(&h)?;
        }
        self.start()?;
        self.out.flush()
    }
}

fn pad(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// A pcapng option (code, length, value padded to 32 bits).
fn option(opts: &mut Vec<u8>, code: u16, value: &[u8]) {
    let value = &value[..value.len().min(usize::from(u16::MAX) - 3)];
    opts.extend_from_slice(&code.to_le_bytes());
    opts.extend_from_slice(&(value.len() as u16).to_le_bytes());
    opts.extend_from_slice(value);
    pad(opts);
}

fn end_options(opts: &mut Vec<u8>) {
    opts.extend_from_slice(&[0, 0, 0, 0]);
}

/// A pcapng block: type, total length, body, total length again.
fn block(out: &mut dyn Write, kind: u32, body: &[u8]) -> io::Result<()> {
    let total = u32::try_from(body.len() + 12).map_err(io::Error::other)?;
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&total.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ipv4_checksum_verifies() {
        // A header with its checksum sums to 0xffff: the checksum of it is 0.
        let mut h = [0u8; 20];
        h[0] = 0x45;
        h[2..4].copy_from_slice(&48u16.to_be_bytes());
        h[8] = 64;
        h[9] = 17;
        h[12..16].copy_from_slice(&[127, 0, 0, 1]);
        h[16..20].copy_from_slice(&[127, 0, 0, 1]);
        let sum = checksum(&h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(&h), 0);
    }
}
