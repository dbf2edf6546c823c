//! Transport payloads to SIP messages.
//!
//! SIP is recognised by content, on any port (or only on `--sip-port` ports when given): a
//! payload or stream is SIP when it starts with a SIP start line, after CRLF keep-alives.
//! - UDP and SCTP: each payload (DATA chunk) holds one message, or several back to back;
//!   keep-alives (CRLF, NULs, STUN) are skipped silently; junk of a few bytes before the start
//!   line is tolerated; bytes beyond a message's Content-Length that start no new message
//!   stay with it (see `detect::Split`), so that the rules see what the datagram carried.
//! - TCP (`tcp`, `framer`): per-direction reassembly, Content-Length framing,
//!   resynchronisation after garbage or gaps, WebSocket (RFC 7118) after an HTTP Upgrade.
//! - HEP v1/v2/v3 (`hep`): the encapsulated message with its inner addresses and time.
//!
//! Memory is bounded: bytes held per TCP direction ([`Limits::max_flow_bytes`]) and directions
//! tracked ([`Limits::max_flows`], the least recently active dropped first), with `Limit`
//! warnings when hit.
//!
//! Owns: [`Payloads`], [`PayloadOptions`], [`Limits`]. Does not own: link/IP decoding (see
//! [`super::decode`]) or parsing the messages (see [`crate::sip`]).

mod detect;
mod framer;
mod hep;
mod tcp;
mod ws;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_public;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use bytes::Bytes;

use super::{Datagram, L4, SipChunk, Warning, WarningKind, share};
use crate::event::{FrameList, Timestamp, Transport};
use detect::Unit;
use tcp::{SegMeta, Segment, Stream};

#[derive(Debug, Clone, Default)]
pub struct PayloadOptions {
    /// When not empty, only these ports are searched for SIP (`--sip-port`); otherwise SIP is
    /// recognised by content on any port.
    pub sip_ports: Vec<u16>,
}

/// Memory bounds of [`Payloads`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bytes held per TCP direction for an incomplete message (a larger one is kept
    /// truncated), and again for out-of-order segments (beyond, the bytes missing before them
    /// are declared lost).
    pub max_flow_bytes: usize,
    /// TCP directions tracked at once; beyond it the least recently active are dropped.
    pub max_flows: usize,
    /// Out-of-order segments held per direction before the bytes missing before them are
    /// declared lost (a gap).
    pub max_out_of_order: usize,
    /// Bytes without a SIP start line after which a stream that never carried SIP (seen from
    /// its middle) is given up.
    pub resync_budget: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flow_bytes: 1 << 20,
            max_flows: 100_000,
            max_out_of_order: 64,
            resync_budget: 256 * 1024,
        }
    }
}

/// Ports where non-SIP data is worth a warning when `sip_ports` is empty.
const WELL_KNOWN_SIP_PORTS: [u16; 2] = [5060, 5061];

/// Datagram flows (src, dst) remembered for "not SIP" warnings; beyond, no more are reported.
const MAX_WARNED_FLOWS: usize = 4096;

/// Per-flow state: TCP reassembly, WebSocket sessions, HEP.
#[derive(Debug, Default)]
pub struct Payloads {
    opts: PayloadOptions,
    limits: Limits,
    flows: HashMap<(SocketAddr, SocketAddr), Stream>,
    /// Streams created so far (their ids).
    created: u64,
    /// Datagrams pushed so far (the arrival order of segments).
    arrival: u64,
    /// Datagram flows already reported as carrying non-SIP data on a SIP port.
    warned: HashSet<(SocketAddr, SocketAddr)>,
}

/// The context of the TCP direction being processed.
struct Cx<'a> {
    out: &'a mut Vec<SipChunk>,
    warnings: &'a mut Vec<Warning>,
    limits: &'a Limits,
    src: SocketAddr,
    dst: SocketAddr,
    /// One of the ports is a SIP port: non-SIP data there is reported.
    sip_port: bool,
    /// The first frame of the segment being processed, for warnings.
    frame: Option<u64>,
}

impl Cx<'_> {
    /// The longest line that may still be a start line.
    fn max_line(&self) -> usize {
        detect::MAX_LINE.min(self.limits.max_flow_bytes)
    }

    fn warn(&mut self, kind: WarningKind, message: String) {
        self.warnings.push(Warning {
            frame: self.frame,
            kind,
            message,
        });
    }
}

/// Where a self-contained unit (datagram, DATA chunk, WebSocket message, HEP payload) came from.
#[derive(Debug, Clone)]
struct UnitOrigin<'a> {
    frames: &'a [u64],
    ts: Timestamp,
    src: SocketAddr,
    dst: SocketAddr,
    transport: Transport,
    /// The unit is incomplete: every message in it is truncated.
    snapped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitOutcome {
    Sip,
    KeepAlive,
    NotSip,
}

fn datagram_flow(transport: Transport, src: SocketAddr, dst: SocketAddr) -> String {
    format!("{} {src} -> {dst}", transport.as_str())
}

/// Whether one of the two endpoints uses one of the ports `p`.
fn on_port(p: &[u16], a: SocketAddr, b: SocketAddr) -> bool {
    let (a, b) = (a.port(), b.port());
    p.iter().any(|&x| x == a || x == b)
}

/// Emits the SIP messages of a self-contained unit, each a slice of it.
fn emit_unit(
    unit: &Bytes,
    o: &UnitOrigin<'_>,
    out: &mut Vec<SipChunk>,
    warnings: &mut Vec<Warning>,
) -> UnitOutcome {
    let split = match detect::split_unit(unit) {
        Unit::KeepAlive => return UnitOutcome::KeepAlive,
        Unit::NotSip => return UnitOutcome::NotSip,
        Unit::Sip(s) => s,
    };
    let frame = o.frames.first().copied();
    let flow = || datagram_flow(o.transport, o.src, o.dst);
    if split.junk > 0 {
        warnings.push(Warning {
            frame,
            kind: WarningKind::Malformed,
            message: format!(
                "{}: {} bytes before the SIP start line skipped",
                flow(),
                split.junk
            ),
        });
    }
    for m in split.messages {
        if unit.get(m.range.clone()).is_none() {
            continue;
        }
        out.push(SipChunk {
            frames: FrameList::from_slice(o.frames),
            ts: o.ts,
            src: o.src,
            dst: o.dst,
            transport: o.transport,
            bytes: unit.slice(m.range),
            head: m.head,
            truncated: m.truncated || o.snapped,
        });
    }
    UnitOutcome::Sip
}

/// Emits the SIP message a HEP packet carries. `within`: the buffer its payload lies in, if
/// the message may point into it (else it is copied). `ports`: when given, the inner ports must
/// include one of them.
#[allow(clippy::too_many_arguments)]
fn emit_hep(
    h: &hep::Hep<'_>,
    within: Option<&Bytes>,
    frames: &[u64],
    outer_ts: Timestamp,
    snapped: bool,
    ports: Option<&[u16]>,
    out: &mut Vec<SipChunk>,
    warnings: &mut Vec<Warning>,
) {
    if ports.is_some_and(|p| !p.contains(&h.src.port()) && !p.contains(&h.dst.port())) {
        return;
    }
    if h.proto_type.is_some_and(|t| t != 1) {
        // RTCP reports, logs, QoS … carried by HEP: not SIP.
        return;
    }
    let frame = frames.first().copied();
    if h.compressed {
        warnings.push(Warning {
            frame,
            kind: WarningKind::Malformed,
            message: format!("HEP {} -> {}: compressed payload not decoded", h.src, h.dst),
        });
        return;
    }
    let ts = h.time.map_or(outer_ts, |(sec, usec)| Timestamp {
        micros: i64::from(sec) * 1_000_000 + i64::from(usec),
        dated: true,
        micro: true,
        unknown: false,
    });
    let origin = UnitOrigin {
        frames,
        ts,
        src: h.src,
        dst: h.dst,
        transport: h.transport,
        snapped,
    };
    let unit = within.map_or_else(
        || Bytes::copy_from_slice(h.payload),
        |w| share(w, h.payload),
    );
    if emit_unit(&unit, &origin, out, warnings) == UnitOutcome::NotSip && h.proto_type == Some(1) {
        warnings.push(Warning {
            frame,
            kind: WarningKind::Malformed,
            message: format!(
                "HEP {} -> {}: payload marked as SIP is not SIP",
                h.src, h.dst
            ),
        });
    }
}

/// Who sent a HEP packet, as a collector checks it before taking the packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HepSender {
    /// Not HEP, or malformed (its warning comes when it is pushed).
    NotHep,
    /// The capture agent's ID and authentication key of every packet in the payload.
    Agents(Vec<(Option<u32>, Option<Vec<u8>>)>),
}

/// The capture IDs and keys of the HEP packets in a payload (see [`HepSender`]).
pub fn hep_sender(b: &[u8]) -> HepSender {
    match hep::parse(b) {
        hep::HepParse::Packets(p, _) if !p.is_empty() => HepSender::Agents(
            p.iter()
                .map(|h| (h.capture_id, h.auth_key.map(<[u8]>::to_vec)))
                .collect(),
        ),
        _ => HepSender::NotHep,
    }
}

/// The length of the HEPv3 packet at the start of a stream, once its header is there.
pub fn hep_v3_len(b: &[u8]) -> Option<usize> {
    hep::v3_len(b)
}

impl Payloads {
    pub fn new(opts: PayloadOptions) -> Self {
        Payloads::with_limits(opts, Limits::default())
    }

    pub fn with_limits(opts: PayloadOptions, limits: Limits) -> Self {
        Payloads {
            opts,
            limits,
            ..Payloads::default()
        }
    }

    /// Whether a flow between these endpoints is searched for SIP.
    fn port_ok(&self, a: SocketAddr, b: SocketAddr) -> bool {
        let p = &self.opts.sip_ports;
        p.is_empty() || on_port(p, a, b)
    }

    /// Whether non-SIP data between these endpoints deserves a warning.
    fn is_sip_port(&self, a: SocketAddr, b: SocketAddr) -> bool {
        let p: &[u16] = if self.opts.sip_ports.is_empty() {
            &WELL_KNOWN_SIP_PORTS
        } else {
            &self.opts.sip_ports
        };
        on_port(p, a, b)
    }

    /// Takes one transport payload; SIP messages it completes are appended to `out`.
    pub fn push(&mut self, d: Datagram, out: &mut Vec<SipChunk>, warnings: &mut Vec<Warning>) {
        self.push_ref(&d, out, warnings);
    }

    /// [`Payloads::push`] of a datagram the caller keeps (nothing of it is moved: what a
    /// datagram of media costs is looking at it).
    pub fn push_ref(&mut self, d: &Datagram, out: &mut Vec<SipChunk>, warnings: &mut Vec<Warning>) {
        self.arrival += 1;
        // In order, once each (IP fragments may come in any order).
        let mut sorted;
        let frames: &[u64] = if d.frames.is_sorted_by(|a, b| a < b) {
            &d.frames
        } else {
            sorted = d.frames.clone();
            sorted.sort_unstable();
            sorted.dedup();
            &sorted
        };
        match d.l4 {
            L4::Udp => self.push_datagram(d, frames, Transport::Udp, out, warnings),
            L4::Sctp { .. } => self.push_datagram(d, frames, Transport::Sctp, out, warnings),
            L4::Tcp { seq, syn, fin, rst } => {
                let seg = Segment {
                    seq,
                    syn,
                    fin,
                    rst,
                    data: Vec::new(),
                    meta: SegMeta {
                        frames: FrameList::from_slice(frames),
                        ts: d.ts,
                        arrival: self.arrival,
                        snapped: d.snapped,
                    },
                };
                self.push_tcp(d, seg, out, warnings);
            }
        }
    }

    fn push_datagram(
        &mut self,
        d: &Datagram,
        frames: &[u64],
        transport: Transport,
        out: &mut Vec<SipChunk>,
        warnings: &mut Vec<Warning>,
    ) {
        let frame = frames.first().copied();
        let outer_ok = self.port_ok(d.src, d.dst);
        match hep::parse(&d.payload) {
            hep::HepParse::NotHep => {}
            hep::HepParse::Malformed(e) => {
                if outer_ok {
                    warnings.push(Warning {
                        frame,
                        kind: WarningKind::Malformed,
                        message: format!("{}: {e}", datagram_flow(transport, d.src, d.dst)),
                    });
                }
                return;
            }
            hep::HepParse::Packets(packets, trailing) => {
                let ports = (!outer_ok).then_some(self.opts.sip_ports.as_slice());
                for h in &packets {
                    emit_hep(
                        h,
                        Some(&d.payload),
                        frames,
                        d.ts,
                        d.snapped,
                        ports,
                        out,
                        warnings,
                    );
                }
                if trailing > 0 && outer_ok {
                    warnings.push(Warning {
                        frame,
                        kind: WarningKind::Malformed,
                        message: format!(
                            "{}: {trailing} bytes after the HEP packets are not HEP",
                            datagram_flow(transport, d.src, d.dst)
                        ),
                    });
                }
                return;
            }
        }
        if !outer_ok {
            return;
        }
        let origin = UnitOrigin {
            frames,
            ts: d.ts,
            src: d.src,
            dst: d.dst,
            transport,
            snapped: d.snapped,
        };
        if emit_unit(&d.payload, &origin, out, warnings) == UnitOutcome::NotSip
            && self.is_sip_port(d.src, d.dst)
            && self.warned.len() < MAX_WARNED_FLOWS
            && self.warned.insert((d.src, d.dst))
        {
            let what = match &d.payload[..] {
                [0x14..=0x17, 0xfe, ..] => "DTLS records",
                _ => "a payload that is not SIP",
            };
            warnings.push(Warning {
                frame,
                kind: WarningKind::Malformed,
                message: format!(
                    "{}: {what} ({} bytes) on a SIP port skipped; further ones in this flow are not reported",
                    datagram_flow(transport, d.src, d.dst),
                    d.payload.len()
                ),
            });
        }
    }

    fn push_tcp(
        &mut self,
        d: &Datagram,
        mut seg: Segment,
        out: &mut Vec<SipChunk>,
        warnings: &mut Vec<Warning>,
    ) {
        if !self.port_ok(d.src, d.dst) {
            return;
        }
        let key = (d.src, d.dst);
        let sip_port = self.is_sip_port(d.src, d.dst);
        if !self.flows.contains_key(&key) {
            if d.payload.is_empty() && !seg.syn {
                return;
            }
            if self.flows.len() >= self.limits.max_flows {
                self.evict(seg.meta.frames.first().copied(), out, warnings);
            }
            self.created += 1;
            self.flows.insert(key, Stream::new(self.created));
        }
        let frame = seg.meta.frames.first().copied();
        // Held until the stream frames it (out of order, or an incomplete message): its own
        // buffer, not a slice pinning the reader's chunk.
        seg.data = d.payload.to_vec();
        let Payloads { flows, limits, .. } = self;
        let Some(stream) = flows.get_mut(&key) else {
            return;
        };
        let mut cx = Cx {
            out,
            warnings,
            limits,
            src: d.src,
            dst: d.dst,
            sip_port,
            frame,
        };
        stream.push(seg, &mut cx);
    }

    /// Drops the least recently active eighth of the TCP directions (closed ones first),
    /// flushing what they hold.
    fn evict(&mut self, frame: Option<u64>, out: &mut Vec<SipChunk>, warnings: &mut Vec<Warning>) {
        let n = (self.limits.max_flows / 8).max(1).min(self.flows.len());
        if n == 0 {
            return;
        }
        let mut order: Vec<((bool, u64), (SocketAddr, SocketAddr))> = self
            .flows
            .iter()
            .map(|(k, s)| ((!s.is_closed(), s.last_seen), *k))
            .collect();
        order.select_nth_unstable(n - 1);
        order.truncate(n);
        order.sort_unstable();
        let mut open = 0;
        for (_, key) in order {
            let Some(mut stream) = self.flows.remove(&key) else {
                continue;
            };
            if stream.is_closed() {
                continue;
            }
            open += 1;
            let sip_port = self.is_sip_port(key.0, key.1);
            let mut cx = Cx {
                out: &mut *out,
                warnings: &mut *warnings,
                limits: &self.limits,
                src: key.0,
                dst: key.1,
                sip_port,
                frame,
            };
            stream.end(&mut cx);
        }
        if open > 0 {
            warnings.push(Warning {
                frame,
                kind: WarningKind::Limit,
                message: format!(
                    "more than {} TCP flows at once: the {open} least recently active were dropped (what they held is kept as truncated messages)",
                    self.limits.max_flows
                ),
            });
        }
    }

    /// The end of the capture: flushes what is buffered (as truncated chunks if incomplete).
    pub fn finish(&mut self, out: &mut Vec<SipChunk>, warnings: &mut Vec<Warning>) {
        let mut flows: Vec<_> = self.flows.drain().collect();
        flows.sort_unstable_by_key(|(_, s)| s.id);
        for ((src, dst), mut stream) in flows {
            if stream.is_closed() {
                continue;
            }
            let sip_port = self.is_sip_port(src, dst);
            let mut cx = Cx {
                out: &mut *out,
                warnings: &mut *warnings,
                limits: &self.limits,
                src,
                dst,
                sip_port,
                frame: None,
            };
            stream.end(&mut cx);
        }
    }

    /// Bytes held across all TCP directions (for tests of the memory bounds).
    #[cfg(test)]
    fn buffered(&self) -> usize {
        self.flows.values().map(Stream::buffered).sum()
    }
}
