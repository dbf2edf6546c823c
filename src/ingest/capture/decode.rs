//! Frames to transport payloads: link layers, VLANs, tunnels, IPv4/IPv6 (with fragment
//! reassembly) and UDP/TCP/SCTP.
//!
//! Every layer is parsed by hand from byte slices with bounds-checked accessors, so no input can
//! make it panic; encapsulations nest at most [`MAX_DEPTH`] deep; fragment reassembly is bounded
//! by [`FragLimits`]. What cannot be decoded is reported as a [`Warning`] (rate-limited per kind)
//! and skipped; ICMP and ICMPv6 are never looked into, so a packet quoted in an ICMP error is
//! never taken for a sent message. Checksums are not verified (loopback captures often carry
//! offloaded, wrong checksums).
//!
//! Decoded:
//! - link types: Ethernet (1), BSD NULL (0, AF in either byte order) and LOOP (108), raw IP
//!   (12, 14, 101, 228, 229), Linux cooked SLL (113) and SLL2 (276), PPP (9, 50), PPPoE
//!   (51), NFLOG (239);
//! - inside Ethernet-like layers: 802.1Q/802.1ad VLAN tags (0x8100, 0x88a8, 0x9100, 0x9200,
//!   stacked), LLC/SNAP, PPPoE sessions (0x8864), MPLS (0x8847, 0x8848, with or without a
//!   pseudowire control word), PPP (0x880b);
//! - tunnels: IP-in-IP (protocols 4 and 41), GRE (47: checksum/key/sequence/routing, PPTP's
//!   enhanced GRE carrying PPP, Transparent Ethernet Bridging 0x6558, ERSPAN types I–III),
//!   GTP-U (UDP 2152, G-PDUs with extension headers), VXLAN (UDP 4789);
//! - IPv6 extension headers (hop-by-hop, routing, destination options, fragment, AH, mobility,
//!   HIP, shim6); ESP is opaque;
//! - transports: UDP (empty datagrams skipped), TCP (every segment with data, and empty ones
//!   with SYN, FIN or RST), SCTP (one datagram per DATA chunk; a user message split over
//!   several DATA chunks is reassembled, bounded; I-DATA fragments are not).
//!
//! A datagram is `snapped` when its payload is shorter than its headers declare: reported as
//! [`WarningKind::Snapped`] when the capture's snaplen explains it (once, then counted), else as
//! [`WarningKind::Malformed`].

mod frag;
mod sctp;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::Bytes;

use super::{Datagram, L4, Packet, Warning, WarningKind};
use crate::event::{FrameList, Timestamp};

pub use frag::FragLimits;

/// The deepest encapsulation followed (IP-in-IP, GRE, GTP-U, VXLAN, MPLS, TEB …).
pub const MAX_DEPTH: u8 = 8;
/// VLAN tags and MPLS labels followed in one stack.
const MAX_TAGS: usize = 16;
/// Individual warnings of one kind before they are only counted (summarised at `finish`).
const WARNINGS_PER_KIND: u64 = 50;
/// Payloads cut by the snaplen are reported once, then counted.
const SNAPPED_WARNINGS: u64 = 1;

/// The LINKTYPE_* values decoded.
pub mod linktype {
    pub const NULL: i32 = 0;
    pub const ETHERNET: i32 = 1;
    pub const PPP: i32 = 9;
    /// DLT_RAW on most platforms.
    pub const RAW_12: i32 = 12;
    /// DLT_RAW on OpenBSD.
    pub const RAW_14: i32 = 14;
    pub const PPP_HDLC: i32 = 50;
    pub const PPP_ETHER: i32 = 51;
    pub const RAW: i32 = 101;
    pub const LOOP: i32 = 108;
    pub const LINUX_SLL: i32 = 113;
    pub const IPV4: i32 = 228;
    pub const IPV6: i32 = 229;
    pub const NFLOG: i32 = 239;
    pub const LINUX_SLL2: i32 = 276;
}

/// IP protocol numbers used here.
mod proto {
    pub const ICMP: u8 = 1;
    pub const IPIP: u8 = 4;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const IPV6: u8 = 41;
    pub const GRE: u8 = 47;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const NO_NEXT: u8 = 59;
    pub const SCTP: u8 = 132;
}

/// What the decoder saw, for statistics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Frames given to [`Decoder::decode`].
    pub frames: u64,
    /// Datagrams yielded.
    pub datagrams: u64,
    /// Datagrams rebuilt from IP fragments or SCTP chunks.
    pub reassembled: u64,
    /// Frames of a decoded link type that carry no IP (ARP, LLDP, STP …).
    pub not_ip: u64,
}

/// Link layers, tunnels, IP (with fragment reassembly) and UDP/TCP/SCTP.
#[derive(Debug)]
pub struct Decoder {
    frags: frag::Pool,
    sctp: sctp::Pool,
    unknown_linktypes: BTreeSet<i32>,
    /// Warnings issued per kind.
    issued: BTreeMap<WarningKind, u64>,
    /// Warnings not issued per kind (over the cap): count and first frame.
    suppressed: BTreeMap<WarningKind, (u64, Option<u64>)>,
    pub stats: DecodeStats,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::with_limits(FragLimits::default())
    }
}

/// The frame being decoded.
struct Cx<'o> {
    /// The buffer holding the frame's bytes: payloads are slices of it.
    chunk: &'o Bytes,
    frame: u64,
    ts: Timestamp,
    /// The snaplen cut this frame: a layer that runs to the end of the data may be incomplete.
    cut: bool,
    out: &'o mut Vec<Datagram>,
    warnings: &'o mut Vec<Warning>,
}

/// An IP packet's payload on its way to the transport layer.
struct Ip<'a> {
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    payload: &'a [u8],
    /// The payload is shorter than the IP header declared.
    cut: bool,
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::default()
    }

    /// A decoder with other bounds on fragment reassembly.
    pub fn with_limits(limits: FragLimits) -> Self {
        Decoder {
            frags: frag::Pool::new(limits),
            sctp: sctp::Pool::default(),
            unknown_linktypes: BTreeSet::new(),
            issued: BTreeMap::new(),
            suppressed: BTreeMap::new(),
            stats: DecodeStats::default(),
        }
    }

    /// Decodes one frame; completed payloads (copies) are appended to `out`.
    pub fn decode(
        &mut self,
        pkt: &Packet<'_>,
        out: &mut Vec<Datagram>,
        warnings: &mut Vec<Warning>,
    ) {
        self.decode_in(&Bytes::new(), pkt, out, warnings);
    }

    /// Decodes one frame whose bytes lie in `chunk`; completed payloads are appended to `out`,
    /// as slices of `chunk` (reassembled ones in buffers of their own).
    pub fn decode_in(
        &mut self,
        chunk: &Bytes,
        pkt: &Packet<'_>,
        out: &mut Vec<Datagram>,
        warnings: &mut Vec<Warning>,
    ) {
        self.stats.frames += 1;
        let mut cx = Cx {
            chunk,
            frame: pkt.frame,
            ts: pkt.ts,
            cut: pkt.orig_len as usize > pkt.data.len(),
            out,
            warnings,
        };
        let frames = [pkt.frame];
        let d = pkt.data;
        use linktype as lt;
        match pkt.linktype {
            lt::ETHERNET => self.ethernet(&mut cx, d, &frames, 0),
            lt::NULL | lt::LOOP => self.null(&mut cx, d, &frames),
            lt::RAW_12 | lt::RAW_14 | lt::RAW | lt::IPV4 | lt::IPV6 => {
                self.ip(&mut cx, d, &frames, 0)
            }
            lt::LINUX_SLL => self.sll(&mut cx, d, &frames),
            lt::LINUX_SLL2 => self.sll2(&mut cx, d, &frames),
            lt::PPP | lt::PPP_HDLC => self.ppp(&mut cx, d, &frames, 0),
            lt::PPP_ETHER => self.pppoe(&mut cx, d, &frames, 0),
            lt::NFLOG => match pcap_parser::data::get_packetdata_nflog(d, d.len()) {
                Some(pcap_parser::data::PacketData::L3(_, inner)) => {
                    self.ip(&mut cx, inner, &frames, 0)
                }
                _ => self.stats.not_ip += 1,
            },
            other => {
                if self.unknown_linktypes.insert(other) {
                    cx.warnings.push(Warning {
                        frame: Some(pkt.frame),
                        kind: WarningKind::UnknownLinkType,
                        message: format!(
                            "link type {other}{} is not decoded: its frames are skipped",
                            linktype_name(other)
                                .map(|n| format!(" ({n})"))
                                .unwrap_or_default()
                        ),
                    });
                }
            }
        }
    }

    /// Reports what never completed (IP fragments) at the end of the capture.
    pub fn finish(&mut self, warnings: &mut Vec<Warning>) {
        let mut notes = Vec::new();
        self.frags.drain(&mut notes);
        self.sctp.drain(&mut notes);
        for n in notes {
            self.note(warnings, n);
        }
        for (kind, (count, first)) in std::mem::take(&mut self.suppressed) {
            let what = match kind {
                WarningKind::Snapped => "frames cut by the snaplen".to_string(),
                _ => format!("{kind:?} warnings"),
            };
            warnings.push(Warning {
                frame: first,
                kind,
                message: format!("{count} more {what} not reported one by one"),
            });
        }
    }

    // ---- warnings ----

    fn warn(&mut self, cx: &mut Cx<'_>, kind: WarningKind, message: String) {
        let frame = Some(cx.frame);
        self.note(
            cx.warnings,
            frag::Note {
                frame,
                kind,
                message: format!("frame {}: {message}", cx.frame),
            },
        );
    }

    fn note(&mut self, warnings: &mut Vec<Warning>, n: frag::Note) {
        let cap = match n.kind {
            WarningKind::Snapped => SNAPPED_WARNINGS,
            _ => WARNINGS_PER_KIND,
        };
        let issued = self.issued.entry(n.kind).or_insert(0);
        if *issued < cap {
            *issued += 1;
            warnings.push(Warning {
                frame: n.frame,
                kind: n.kind,
                message: n.message,
            });
        } else {
            let s = self.suppressed.entry(n.kind).or_insert((0, n.frame));
            s.0 += 1;
        }
    }

    /// A header shorter than its minimum: cut by the snaplen, or malformed.
    fn short(&mut self, cx: &mut Cx<'_>, what: &str) {
        if cx.cut {
            self.warn(
                cx,
                WarningKind::Snapped,
                format!("the snaplen cut the {what} header"),
            );
        } else {
            self.warn(
                cx,
                WarningKind::Malformed,
                format!("truncated {what} header"),
            );
        }
    }

    /// Whether one more level of encapsulation may be followed.
    fn deeper(&mut self, cx: &mut Cx<'_>, depth: u8) -> bool {
        if depth + 1 >= MAX_DEPTH {
            self.warn(
                cx,
                WarningKind::Limit,
                format!("encapsulation nested deeper than {MAX_DEPTH} levels: not followed"),
            );
            return false;
        }
        true
    }

    // ---- link layers ----

    fn ethernet(&mut self, cx: &mut Cx<'_>, d: &[u8], frames: &[u64], depth: u8) {
        let Some(et) = be16(d, 12) else {
            self.short(cx, "Ethernet");
            return;
        };
        self.ethertype(cx, et, tail(d, 14), frames, depth);
    }

    /// A payload identified by an EtherType (after VLAN tags, LLC/SNAP …).
    fn ethertype(&mut self, cx: &mut Cx<'_>, mut et: u16, mut d: &[u8], frames: &[u64], depth: u8) {
        for _ in 0..MAX_TAGS {
            match et {
                // 802.1Q, 802.1ad, and the old QinQ TPIDs.
                0x8100 | 0x88a8 | 0x9100 | 0x9200 => {
                    let Some(next) = be16(d, 2) else {
                        self.short(cx, "VLAN");
                        return;
                    };
                    et = next;
                    d = tail(d, 4);
                }
                // An 802.3 length, or SLL's 802.2 LLC: only SNAP carries an EtherType.
                0..=0x05ff => {
                    if d.get(..3) == Some(&[0xaa, 0xaa, 0x03][..])
                        && let Some(next) = be16(d, 6)
                    {
                        et = next;
                        d = tail(d, 8);
                    } else {
                        self.stats.not_ip += 1;
                        return;
                    }
                }
                0x0800 | 0x86dd => return self.ip(cx, d, frames, depth),
                0x8864 => return self.pppoe(cx, d, frames, depth),
                0x880b => return self.ppp(cx, d, frames, depth),
                0x8847 | 0x8848 => {
                    if self.deeper(cx, depth) {
                        self.mpls(cx, d, frames, depth + 1);
                    }
                    return;
                }
                0x6558 => {
                    if self.deeper(cx, depth) {
                        self.ethernet(cx, d, frames, depth + 1);
                    }
                    return;
                }
                _ => {
                    self.stats.not_ip += 1;
                    return;
                }
            }
        }
        self.warn(
            cx,
            WarningKind::Limit,
            format!("more than {MAX_TAGS} VLAN tags"),
        );
    }

    fn null(&mut self, cx: &mut Cx<'_>, d: &[u8], frames: &[u64]) {
        let Some(a) = d.get(..4) else {
            self.short(cx, "loopback");
            return;
        };
        // The address family is in the capturing host's byte order (LOOP: network order);
        // AF_INET is 2 everywhere, AF_INET6 is 24, 28 or 30 on the BSDs and macOS, 10 on Linux.
        let is_af = |v: u32| matches!(v, 2 | 10 | 24 | 28 | 30);
        let le = u32::from_le_bytes([a[0], a[1], a[2], a[3]]);
        let be = u32::from_be_bytes([a[0], a[1], a[2], a[3]]);
        if is_af(le) || is_af(be) {
            self.ip(cx, tail(d, 4), frames, 0);
        } else {
            self.stats.not_ip += 1;
        }
    }

    fn sll(&mut self, cx: &mut Cx<'_>, d: &[u8], frames: &[u64]) {
        let (Some(hatype), Some(proto)) = (be16(d, 2), be16(d, 14)) else {
            self.short(cx, "Linux cooked");
            return;
        };
        self.cooked(cx, hatype, proto, tail(d, 16), frames);
    }

    fn sll2(&mut self, cx: &mut Cx<'_>, d: &[u8], frames: &[u64]) {
        let (Some(proto), Some(hatype)) = (be16(d, 0), be16(d, 8)) else {
            self.short(cx, "Linux cooked v2");
            return;
        };
        if d.len() < 20 {
            self.short(cx, "Linux cooked v2");
            return;
        }
        self.cooked(cx, hatype, proto, tail(d, 20), frames);
    }

    fn cooked(&mut self, cx: &mut Cx<'_>, hatype: u16, proto: u16, d: &[u8], frames: &[u64]) {
        match hatype {
            // ARPHRD_IPGRE: the payload is a GRE header.
            778 => self.gre(cx, d, frames, 0),
            // Netlink, 802.11 radiotap, IEEE 802.15.4, CAN: no IP here.
            824 | 803 | 804 | 280 => self.stats.not_ip += 1,
            _ => self.ethertype(cx, proto, d, frames, 0),
        }
    }

    fn ppp(&mut self, cx: &mut Cx<'_>, d: &[u8], frames: &[u64], depth: u8) {
        // HDLC-like framing: address 0xff, control 0x03.
        let d = if d.starts_with(&[0xff, 0x03]) {
            tail(d, 2)
        } else {
            d
        };
        let Some(&first) = d.first() else {
            self.short(cx, "PPP");
            return;
        };
        // Protocol-field compression: a one-byte protocol is odd.
        let (proto, rest) = if first & 1 == 1 {
            (u16::from(first), tail(d, 1))
        } else {
            match be16(d, 0) {
                Some(p) => (p, tail(d, 2)),
                None => {
                    self.short(cx, "PPP");
                    return;
                }
            }
        };
        match proto {
            0x0021 | 0x0057 => self.ip(cx, rest, frames, depth),
            0x0281 | 0x0283 => {
                if self.deeper(cx, depth) {
                    self.mpls(cx, rest, frames, depth + 1);
                }
            }
            _ => self.stats.not_ip += 1,
        }
    }

    fn pppoe(&mut self, cx: &mut Cx<'_>, d: &[u8], frames: &[u64], depth: u8) {
        let (Some(&vt), Some(&code), Some(len)) = (d.first(), d.get(1), be16(d, 4)) else {
            self.short(cx, "PPPoE");
            return;
        };
        if vt != 0x11 || code != 0 {
            self.stats.not_ip += 1;
            return;
        }
        let body = tail(d, 6);
        let body = body.get(..usize::from(len)).unwrap_or(body);
        self.ppp(cx, body, frames, depth);
    }

    fn mpls(&mut self, cx: &mut Cx<'_>, mut d: &[u8], frames: &[u64], depth: u8) {
        for _ in 0..MAX_TAGS {
            let Some(&b2) = d.get(2) else {
                self.short(cx, "MPLS");
                return;
            };
            d = tail(d, 4);
            if b2 & 1 == 1 {
                // Bottom of the stack: IP, or a pseudowire (with a control word) carrying Ethernet.
                return match d.first().map(|b| b >> 4) {
                    Some(4 | 6) => self.ip(cx, d, frames, depth),
                    Some(0) => self.ethernet(cx, tail(d, 4), frames, depth),
                    _ => self.stats.not_ip += 1,
                };
            }
        }
        self.warn(
            cx,
            WarningKind::Limit,
            format!("more than {MAX_TAGS} MPLS labels"),
        );
    }

    // ---- IP ----

    /// An IPv4 or IPv6 packet, by its version nibble.
    fn ip(&mut self, cx: &mut Cx<'_>, d: &[u8], frames: &[u64], depth: u8) {
        match d.first().map(|b| b >> 4) {
            Some(4) => self.ipv4(cx, d, frames, depth),
            Some(6) => self.ipv6(cx, d, frames, depth),
            Some(v) => self.warn(cx, WarningKind::Malformed, format!("IP version {v}")),
            None => self.short(cx, "IP"),
        }
    }

    fn ipv4(&mut self, cx: &mut Cx<'_>, d: &[u8], frames: &[u64], depth: u8) {
        if d.len() < 20 {
            return self.short(cx, "IPv4");
        }
        let ihl = usize::from(d[0] & 0x0f) * 4;
        if ihl < 20 {
            return self.warn(
                cx,
                WarningKind::Malformed,
                format!("IPv4 header length {ihl}"),
            );
        }
        if d.len() < ihl {
            return self.short(cx, "IPv4");
        }
        let total = usize::from(u16::from_be_bytes([d[2], d[3]]));
        let (pkt, cut) = if total == 0 {
            // TCP segmentation offload: the length is left to the capture.
            (d, cx.cut)
        } else if total < ihl {
            return self.warn(
                cx,
                WarningKind::Malformed,
                format!("IPv4 total length {total}"),
            );
        } else if total <= d.len() {
            // Drops Ethernet padding and trailers.
            (&d[..total], false)
        } else {
            (d, true)
        };
        let id = u32::from(u16::from_be_bytes([d[4], d[5]]));
        let flags_off = u16::from_be_bytes([d[6], d[7]]);
        let more = flags_off & 0x2000 != 0;
        let offset = u32::from(flags_off & 0x1fff) * 8;
        let src = IpAddr::V4(Ipv4Addr::new(d[12], d[13], d[14], d[15]));
        let dst = IpAddr::V4(Ipv4Addr::new(d[16], d[17], d[18], d[19]));
        let proto = d[9];
        let payload = tail(pkt, ihl);
        if more || offset != 0 {
            if cut {
                return self.fragment_cut(cx);
            }
            let key = frag::Key {
                src,
                dst,
                id,
                proto,
            };
            let mut notes = Vec::new();
            let done =
                self.frags
                    .insert(key, offset, more, payload, frames, cx.ts.micros, &mut notes);
            for n in notes {
                self.note(cx.warnings, n);
            }
            if let Some((data, frames)) = done {
                self.stats.reassembled += 1;
                let ip = Ip {
                    src,
                    dst,
                    proto,
                    payload: &data,
                    cut: false,
                };
                self.transport(cx, ip, &frames, depth);
            }
            return;
        }
        let ip = Ip {
            src,
            dst,
            proto,
            payload,
            cut,
        };
        self.transport(cx, ip, frames, depth);
    }

    fn fragment_cut(&mut self, cx: &mut Cx<'_>) {
        if cx.cut {
            self.warn(
                cx,
                WarningKind::Snapped,
                "the snaplen cut an IP fragment: its packet cannot be reassembled".into(),
            );
        } else {
            self.warn(
                cx,
                WarningKind::Malformed,
                "IP fragment shorter than its header says: not reassembled".into(),
            );
        }
    }

    fn ipv6(&mut self, cx: &mut Cx<'_>, d: &[u8], frames: &[u64], depth: u8) {
        if d.len() < 40 {
            return self.short(cx, "IPv6");
        }
        let plen = usize::from(u16::from_be_bytes([d[4], d[5]]));
        let nh = d[6];
        let src = IpAddr::V6(Ipv6Addr::from(arr16(&d[8..24])));
        let dst = IpAddr::V6(Ipv6Addr::from(arr16(&d[24..40])));
        let body = tail(d, 40);
        let (body, cut) = if plen == 0 {
            // A jumbogram (hop-by-hop option) or segmentation offload.
            (body, cx.cut)
        } else if plen <= body.len() {
            (&body[..plen], false)
        } else {
            (body, true)
        };
        self.ipv6_ext(cx, src, dst, nh, body, cut, frames, depth);
    }

    /// IPv6 extension headers, from next-header `nh` at the start of `body`.
    #[allow(clippy::too_many_arguments)]
    fn ipv6_ext(
        &mut self,
        cx: &mut Cx<'_>,
        src: IpAddr,
        dst: IpAddr,
        mut nh: u8,
        mut body: &[u8],
        cut: bool,
        frames: &[u64],
        depth: u8,
    ) {
        for _ in 0..MAX_TAGS {
            match nh {
                // Hop-by-hop, routing, destination options, mobility, HIP, shim6.
                0 | 43 | 60 | 135 | 139 | 140 => {
                    let (Some(&next), Some(&len)) = (body.first(), body.get(1)) else {
                        return self.short(cx, "IPv6 extension");
                    };
                    let len = (usize::from(len) + 1) * 8;
                    if body.len() < len {
                        return self.short(cx, "IPv6 extension");
                    }
                    nh = next;
                    body = tail(body, len);
                }
                proto::AH => {
                    let (Some(&next), Some(&len)) = (body.first(), body.get(1)) else {
                        return self.short(cx, "IPv6 AH");
                    };
                    let len = (usize::from(len) + 2) * 4;
                    if body.len() < len {
                        return self.short(cx, "IPv6 AH");
                    }
                    nh = next;
                    body = tail(body, len);
                }
                44 => {
                    let Some(h) = body.get(..8) else {
                        return self.short(cx, "IPv6 fragment");
                    };
                    let next = h[0];
                    let off_m = u16::from_be_bytes([h[2], h[3]]);
                    let offset = u32::from(off_m & 0xfff8);
                    let more = off_m & 1 == 1;
                    let id = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
                    let rest = tail(body, 8);
                    if offset == 0 && !more {
                        // An atomic fragment: nothing to reassemble.
                        nh = next;
                        body = rest;
                        continue;
                    }
                    if cut {
                        return self.fragment_cut(cx);
                    }
                    let key = frag::Key {
                        src,
                        dst,
                        id,
                        proto: next,
                    };
                    let mut notes = Vec::new();
                    let done = self.frags.insert(
                        key,
                        offset,
                        more,
                        rest,
                        frames,
                        cx.ts.micros,
                        &mut notes,
                    );
                    for n in notes {
                        self.note(cx.warnings, n);
                    }
                    if let Some((data, frames)) = done {
                        self.stats.reassembled += 1;
                        if self.deeper(cx, depth) {
                            self.ipv6_ext(cx, src, dst, next, &data, false, &frames, depth + 1);
                        }
                    }
                    return;
                }
                proto::NO_NEXT | proto::ESP => return,
                _ => {
                    let ip = Ip {
                        src,
                        dst,
                        proto: nh,
                        payload: body,
                        cut,
                    };
                    return self.transport(cx, ip, frames, depth);
                }
            }
        }
        self.warn(
            cx,
            WarningKind::Limit,
            format!("more than {MAX_TAGS} IPv6 extension headers"),
        );
    }

    /// The payload of an IP packet, by protocol.
    fn transport(&mut self, cx: &mut Cx<'_>, ip: Ip<'_>, frames: &[u64], depth: u8) {
        match ip.proto {
            proto::UDP => self.udp(cx, &ip, frames, depth),
            proto::TCP => self.tcp(cx, &ip, frames),
            proto::SCTP => self.sctp(cx, &ip, frames),
            proto::IPIP | proto::IPV6 if self.deeper(cx, depth) => {
                self.ip(cx, ip.payload, frames, depth + 1);
            }
            proto::GRE => self.gre(cx, ip.payload, frames, depth),
            // ICMP errors quote the packet that caused them: that is not a message that was
            // sent, so ICMP is never looked into.
            proto::ICMP | proto::ICMPV6 => {}
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        cx: &mut Cx<'_>,
        ip: &Ip<'_>,
        ports: (u16, u16),
        l4: L4,
        payload: &[u8],
        snapped: bool,
        frames: &[u64],
    ) {
        if snapped {
            let why = if cx.cut {
                "the snaplen cut this payload short"
            } else {
                "payload shorter than its headers say"
            };
            let kind = if cx.cut {
                WarningKind::Snapped
            } else {
                WarningKind::Malformed
            };
            self.warn(cx, kind, format!("{why} ({} bytes kept)", payload.len()));
        }
        self.stats.datagrams += 1;
        cx.out.push(Datagram {
            frames: FrameList::from_slice(frames),
            ts: cx.ts,
            src: SocketAddr::new(ip.src, ports.0),
            dst: SocketAddr::new(ip.dst, ports.1),
            l4,
            payload: super::share(cx.chunk, payload),
            snapped,
        });
    }

    // ---- transports ----

    fn udp(&mut self, cx: &mut Cx<'_>, ip: &Ip<'_>, frames: &[u64], depth: u8) {
        let d = ip.payload;
        let (Some(sport), Some(dport), Some(ulen)) = (be16(d, 0), be16(d, 2), be16(d, 4)) else {
            return self.short(cx, "UDP");
        };
        let ulen = usize::from(ulen);
        let (payload, cut) = if ulen == 0 {
            // Jumbogram or offload: the IP length rules.
            (tail(d, 8), ip.cut)
        } else if ulen < 8 {
            return self.warn(cx, WarningKind::Malformed, format!("UDP length {ulen}"));
        } else if ulen <= d.len() {
            (&d[8..ulen], false)
        } else {
            (tail(d, 8), true)
        };
        // Tunnels over UDP: the inner packet, not the tunnel's datagram.
        if (sport == 2152 || dport == 2152)
            && let Some(inner) = gtp_u(payload)
        {
            if self.deeper(cx, depth) {
                self.ip(cx, inner, frames, depth + 1);
            }
            return;
        }
        if dport == 4789 && payload.len() >= 8 + 14 && payload[0] & 0x08 != 0 {
            if self.deeper(cx, depth) {
                self.ethernet(cx, tail(payload, 8), frames, depth + 1);
            }
            return;
        }
        if payload.is_empty() {
            return;
        }
        self.emit(cx, ip, (sport, dport), L4::Udp, payload, cut, frames);
    }

    fn tcp(&mut self, cx: &mut Cx<'_>, ip: &Ip<'_>, frames: &[u64]) {
        let d = ip.payload;
        if d.len() < 20 {
            return self.short(cx, "TCP");
        }
        let (sport, dport) = (
            u16::from_be_bytes([d[0], d[1]]),
            u16::from_be_bytes([d[2], d[3]]),
        );
        let seq = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
        let off = usize::from(d[12] >> 4) * 4;
        if off < 20 {
            return self.warn(
                cx,
                WarningKind::Malformed,
                format!("TCP header length {off}"),
            );
        }
        if d.len() < off {
            return self.short(cx, "TCP");
        }
        let flags = d[13];
        let (fin, syn, rst) = (flags & 0x01 != 0, flags & 0x02 != 0, flags & 0x04 != 0);
        let payload = tail(d, off);
        if payload.is_empty() && !(syn || fin || rst) {
            return;
        }
        let l4 = L4::Tcp { seq, syn, fin, rst };
        self.emit(cx, ip, (sport, dport), l4, payload, ip.cut, frames);
    }

    fn sctp(&mut self, cx: &mut Cx<'_>, ip: &Ip<'_>, frames: &[u64]) {
        let d = ip.payload;
        let (Some(sport), Some(dport)) = (be16(d, 0), be16(d, 2)) else {
            return self.short(cx, "SCTP");
        };
        if d.len() < 12 {
            return self.short(cx, "SCTP");
        }
        let mut pos = 12;
        // Chunks are at least 4 bytes: the loop is bounded by the packet's length.
        while let (Some(&ty), Some(&flags), Some(clen)) =
            (d.get(pos), d.get(pos + 1), be16(d, pos + 2))
        {
            let clen = usize::from(clen);
            if clen < 4 {
                return self.warn(
                    cx,
                    WarningKind::Malformed,
                    format!("SCTP chunk length {clen}"),
                );
            }
            let end = pos + clen;
            let chunk_cut = end > d.len();
            let chunk = &d[pos..end.min(d.len())];
            // DATA (0) and I-DATA (64, RFC 8260) differ in header length.
            let hdr = match ty {
                0 => Some(16),
                64 => Some(20),
                _ => None,
            };
            if let Some(hdr) = hdr {
                if chunk.len() < hdr {
                    return self.short(cx, "SCTP DATA");
                }
                let tsn = u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
                let stream = u16::from_be_bytes([chunk[8], chunk[9]]);
                let ppid = u32::from_be_bytes([chunk[12], chunk[13], chunk[14], chunk[15]]);
                let l4 = L4::Sctp { stream, ppid };
                let payload = tail(chunk, hdr);
                let (first, last) = (flags & 0x02 != 0, flags & 0x01 != 0);
                if first && last {
                    self.emit(cx, ip, (sport, dport), l4, payload, chunk_cut, frames);
                } else if ty == 0 && !chunk_cut {
                    let key = sctp::Key {
                        src: SocketAddr::new(ip.src, sport),
                        dst: SocketAddr::new(ip.dst, dport),
                        stream,
                    };
                    let mut notes = Vec::new();
                    let done = self
                        .sctp
                        .insert(key, tsn, first, last, payload, frames, &mut notes);
                    for n in notes {
                        self.note(cx.warnings, n);
                    }
                    if let Some((msg, frames)) = done {
                        self.stats.reassembled += 1;
                        self.emit(cx, ip, (sport, dport), l4, &msg, false, &frames);
                    }
                } else {
                    self.warn(
                        cx,
                        WarningKind::Malformed,
                        format!(
                            "fragment of an SCTP {} chunk (stream {stream}, flags {flags:#04x}) \
                             not reassembled",
                            if ty == 0 {
                                "DATA (cut by the snaplen)"
                            } else {
                                "I-DATA"
                            }
                        ),
                    );
                }
            }
            if chunk_cut {
                return;
            }
            // Chunks are padded to 4 bytes.
            pos = end + (4 - end % 4) % 4;
        }
    }

    // ---- GRE ----

    fn gre(&mut self, cx: &mut Cx<'_>, d: &[u8], frames: &[u64], depth: u8) {
        let (Some(&f0), Some(&f1), Some(ptype)) = (d.first(), d.get(1), be16(d, 2)) else {
            return self.short(cx, "GRE");
        };
        let (c, r, k, s) = (
            f0 & 0x80 != 0,
            f0 & 0x40 != 0,
            f0 & 0x20 != 0,
            f0 & 0x10 != 0,
        );
        let version = f1 & 0x07;
        let mut pos = 4;
        match version {
            0 => {
                if c || r {
                    pos += 4;
                }
                if k {
                    pos += 4;
                }
                if s {
                    pos += 4;
                }
                if r {
                    // Source route entries, up to a null one.
                    let mut done = false;
                    for _ in 0..MAX_TAGS {
                        let (Some(af), Some(&len)) = (be16(d, pos), d.get(pos + 3)) else {
                            return self.short(cx, "GRE routing");
                        };
                        pos += 4 + usize::from(len);
                        if af == 0 && len == 0 {
                            done = true;
                            break;
                        }
                    }
                    if !done {
                        return self.warn(
                            cx,
                            WarningKind::Malformed,
                            "GRE routing too long".into(),
                        );
                    }
                }
            }
            // Enhanced GRE (PPTP): key = payload length + call id, then sequence and ack.
            1 => {
                pos += 4;
                if s {
                    pos += 4;
                }
                if f1 & 0x80 != 0 {
                    pos += 4;
                }
            }
            _ => {
                return self.warn(cx, WarningKind::Malformed, format!("GRE version {version}"));
            }
        }
        if d.len() < pos {
            return self.short(cx, "GRE");
        }
        let inner = tail(d, pos);
        if !self.deeper(cx, depth) {
            return;
        }
        let depth = depth + 1;
        match ptype {
            // ERSPAN type II (with a sequence number) has an 8-byte header; type I has none.
            0x88be => {
                let skip = if s { 8 } else { 0 };
                self.ethernet(cx, tail(inner, skip), frames, depth);
            }
            // ERSPAN type III: 12 bytes, plus 8 when the O flag is set.
            0x22eb => {
                let Some(&last) = inner.get(11) else {
                    return self.short(cx, "ERSPAN");
                };
                let skip = if last & 0x01 != 0 { 20 } else { 12 };
                self.ethernet(cx, tail(inner, skip), frames, depth);
            }
            _ => self.ethertype(cx, ptype, inner, frames, depth),
        }
    }
}

/// The inner packet of a GTP-U G-PDU, if `d` is one carrying IP.
fn gtp_u(d: &[u8]) -> Option<&[u8]> {
    let flags = *d.first()?;
    // Version 1, protocol type GTP (not GTP'), message type G-PDU.
    if flags >> 5 != 1 || flags & 0x10 == 0 || *d.get(1)? != 0xff {
        return None;
    }
    let len = usize::from(be16(d, 2)?);
    let mut pos = 8;
    if flags & 0x07 != 0 {
        let mut next = *d.get(11)?;
        pos = 12;
        for _ in 0..MAX_TAGS {
            if next == 0 {
                break;
            }
            let elen = usize::from(*d.get(pos)?) * 4;
            if elen == 0 {
                return None;
            }
            next = *d.get(pos + elen - 1)?;
            pos += elen;
        }
        if next != 0 {
            return None;
        }
    }
    let end = (8 + len).min(d.len());
    let inner = d.get(pos..end)?;
    matches!(inner.first().map(|b| b >> 4), Some(4 | 6)).then_some(inner)
}

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([
        *d.get(at)?,
        *d.get(at.checked_add(1)?)?,
    ]))
}

/// `d` from `at` on (empty if shorter).
fn tail(d: &[u8], at: usize) -> &[u8] {
    d.get(at..).unwrap_or(&[])
}

fn arr16(b: &[u8]) -> [u8; 16] {
    let mut a = [0u8; 16];
    let n = b.len().min(16);
    a[..n].copy_from_slice(&b[..n]);
    a
}

/// Names of common link types that are not decoded, for the warning.
fn linktype_name(lt: i32) -> Option<&'static str> {
    Some(match lt {
        6 => "IEEE 802.5 Token Ring",
        10 => "FDDI",
        104 => "Cisco HDLC",
        105 => "IEEE 802.11",
        119 => "802.11 Prism",
        127 => "802.11 radiotap",
        138 => "Apple IP over FireWire",
        147..=162 => "user-defined",
        192 => "PPI",
        195 | 215 | 230 => "IEEE 802.15.4",
        201 => "Bluetooth HCI",
        220 => "USB",
        227 => "SocketCAN",
        249 => "USB Linux mmapped",
        252 => "Wireshark upper PDU",
        253 => "Linux netlink",
        _ => return None,
    })
}
