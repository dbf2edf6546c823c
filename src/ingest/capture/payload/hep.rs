//! HEP (Homer Encapsulation Protocol) v1, v2 and v3: SIP captured elsewhere and sent to a
//! collector, usually over UDP 9060.
//!
//! HEPv3: `HEP3`, a 16-bit total length, then chunks `vendor(16) type(16) length(16) data`
//! (length includes the 6-byte chunk header), all big-endian. HEPv1/v2: a fixed header
//! `version length family protocol sport dport` then the addresses, then (v2 only) a
//! `struct hep_timehdr { u32 sec; u32 usec; u16 captid; }` in the sender's (little-endian)
//! byte order and padded to 12 bytes, then the payload.
//!
//! Owns: decoding and validation. Does not own: whether the payload is SIP (see `detect`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::event::Transport;

/// One decapsulated HEP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hep<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// From the IP protocol field (17, 6, 132).
    pub transport: Transport,
    /// Capture time, seconds and microseconds.
    pub time: Option<(u32, u32)>,
    /// The HEPv3 protocol type (1 = SIP), when given.
    pub proto_type: Option<u8>,
    /// The captured payload; empty when only a compressed payload was sent.
    pub payload: &'a [u8],
    /// The payload was only given compressed (chunk 0x10), which is not decoded.
    pub compressed: bool,
    /// The capture agent's ID (HEPv3 chunk 0x0c, HEPv2 `captid`).
    pub capture_id: Option<u32>,
    /// The authentication key (HEPv3 chunk 0x0e: the collector's password).
    pub auth_key: Option<&'a [u8]>,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum HepParse<'a> {
    NotHep,
    /// The packets, and bytes left over after them that are not HEP.
    Packets(Vec<Hep<'a>>, usize),
    Malformed(String),
}

fn transport(proto: u8) -> Transport {
    match proto {
        17 => Transport::Udp,
        6 => Transport::Tcp,
        132 => Transport::Sctp,
        // Kamailio's HEPv2 marks TLS with IPPROTO_IDP.
        22 => Transport::Tls,
        _ => Transport::Unknown,
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn be32(b: &[u8]) -> Option<u32> {
    let s: [u8; 4] = b.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

fn ip4(b: &[u8]) -> Option<IpAddr> {
    let s: [u8; 4] = b.try_into().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(s)))
}

fn ip6(b: &[u8]) -> Option<IpAddr> {
    let s: [u8; 16] = b.try_into().ok()?;
    Some(IpAddr::V6(Ipv6Addr::from(s)))
}

/// Decodes the HEP packets at the start of `b`.
pub(super) fn parse(b: &[u8]) -> HepParse<'_> {
    if b.starts_with(b"HEP3") {
        let mut packets = Vec::new();
        let mut pos = 0;
        while let Some(rest) = b.get(pos..).filter(|r| r.starts_with(b"HEP3")) {
            match parse_v3(rest) {
                Ok((p, len)) => {
                    packets.push(p);
                    pos += len;
                }
                Err(e) if packets.is_empty() => return HepParse::Malformed(e),
                Err(_) => break,
            }
        }
        return HepParse::Packets(packets, b.len() - pos.min(b.len()));
    }
    match parse_v2(b) {
        None => HepParse::NotHep,
        Some(Ok(p)) => HepParse::Packets(vec![p], 0),
        Some(Err(e)) => HepParse::Malformed(e),
    }
}

/// The length of the HEPv3 packet at the start of `b`, if its header is there.
pub(super) fn v3_len(b: &[u8]) -> Option<usize> {
    b.starts_with(b"HEP3")
        .then(|| be16(b, 4).map(usize::from))
        .flatten()
}

/// One HEPv3 packet at the start of `b`, and its length.
pub(super) fn parse_v3(b: &[u8]) -> Result<(Hep<'_>, usize), String> {
    let total = v3_len(b).ok_or("HEP3 header cut short")?;
    if total < 6 {
        return Err(format!(
            "HEP3 total length {total} is below the header size"
        ));
    }
    if total > b.len() {
        return Err(format!(
            "HEP3 total length {total} exceeds the {} bytes received",
            b.len()
        ));
    }
    let mut src_ip = None;
    let mut dst_ip = None;
    let (mut sport, mut dport) = (None, None);
    let (mut sec, mut usec) = (None, None);
    let mut proto = None;
    let mut proto_type = None;
    let mut payload = None;
    let mut compressed = false;
    let (mut capture_id, mut auth_key) = (None, None);
    let mut pos = 6;
    while pos < total {
        let (Some(vendor), Some(kind), Some(len)) =
            (be16(b, pos), be16(b, pos + 2), be16(b, pos + 4))
        else {
            return Err(format!("HEP3 chunk header cut short at offset {pos}"));
        };
        let len = usize::from(len);
        if len < 6 || pos + len > total {
            return Err(format!(
                "HEP3 chunk {vendor:#x}/{kind:#x} length {len} does not fit the packet"
            ));
        }
        let data = b.get(pos + 6..pos + len).unwrap_or(&[]);
        pos += len;
        if vendor != 0 {
            continue;
        }
        let want = match kind {
            0x01 | 0x02 | 0x0b => Some(1),
            0x03 | 0x04 | 0x09 | 0x0a | 0x0c => Some(4),
            0x05 | 0x06 => Some(16),
            0x07 | 0x08 => Some(2),
            _ => None,
        };
        if want.is_some_and(|w| w != data.len()) {
            return Err(format!(
                "HEP3 chunk type {kind:#x} has {} data bytes",
                data.len()
            ));
        }
        match kind {
            0x02 => proto = data.first().copied(),
            0x03 => src_ip = ip4(data),
            0x04 => dst_ip = ip4(data),
            0x05 => src_ip = ip6(data),
            0x06 => dst_ip = ip6(data),
            0x07 => sport = be16(data, 0),
            0x08 => dport = be16(data, 0),
            0x09 => sec = be32(data),
            0x0a => usec = be32(data),
            0x0b => proto_type = data.first().copied(),
            0x0c => capture_id = be32(data),
            0x0e => auth_key = Some(data),
            0x0f => payload = Some(data),
            0x10 => compressed = true,
            _ => {}
        }
    }
    let (Some(src_ip), Some(dst_ip)) = (src_ip, dst_ip) else {
        return Err("HEP3 packet without source and destination addresses".into());
    };
    if src_ip.is_ipv4() != dst_ip.is_ipv4() {
        return Err("HEP3 packet mixes IPv4 and IPv6 addresses".into());
    }
    let (Some(sport), Some(dport)) = (sport, dport) else {
        return Err("HEP3 packet without source and destination ports".into());
    };
    if payload.is_none() && !compressed {
        return Err("HEP3 packet without a payload".into());
    }
    let time = sec.map(|s| (s, usec.unwrap_or(0)));
    Ok((
        Hep {
            src: SocketAddr::new(src_ip, sport),
            dst: SocketAddr::new(dst_ip, dport),
            transport: proto.map_or(Transport::Unknown, transport),
            time,
            proto_type,
            compressed: payload.is_none() && compressed,
            payload: payload.unwrap_or(&[]),
            capture_id,
            auth_key,
        },
        total,
    ))
}

/// Whether a payload starts like SIP (used to choose between the two HEPv2 timestamp sizes).
fn looks_sip(b: &[u8]) -> bool {
    let k = super::detect::skip_crlf(b);
    crate::sip::is_start_line(super::detect::first_line(b.get(k..).unwrap_or(&[])))
}

/// A HEPv1/v2 packet: `None` when the fixed header does not match strictly (version 1 or 2,
/// header length 16 with AF_INET or 40 with an AF_INET6 value, or sngrep's 1, protocol
/// UDP/TCP/SCTP/TLS).
fn parse_v2(b: &[u8]) -> Option<Result<Hep<'_>, String>> {
    let (&version, &hl, &family, &proto) = (b.first()?, b.get(1)?, b.get(2)?, b.get(3)?);
    if version != 1 && version != 2 {
        return None;
    }
    // AF_INET6 is 10 on Linux, 23 on Windows, 24 on Net/OpenBSD, 28 on FreeBSD, 30 on macOS.
    // sngrep (1.6) writes 1 as the header length of every HEPv2 packet it sends
    // (fixtures/hep/sngrep-v2.datagrams): the family tells the length all the same.
    let v6 = match (hl, family) {
        (16 | 1, 2) => false,
        (40 | 1, 10 | 23 | 24 | 28 | 30) => true,
        _ => return None,
    };
    if !matches!(proto, 6 | 17 | 22 | 132) {
        return None;
    }
    let hl: usize = if v6 { 40 } else { 16 };
    let time_len = if version == 2 { 12 } else { 0 };
    if b.len() < hl + time_len {
        return Some(Err(format!(
            "HEPv{version} packet of {} bytes is shorter than its {} byte header",
            b.len(),
            hl + time_len
        )));
    }
    let (sport, dport) = (be16(b, 4)?, be16(b, 6)?);
    let (src, dst) = if v6 {
        (ip6(b.get(8..24)?)?, ip6(b.get(24..40)?)?)
    } else {
        (ip4(b.get(8..12)?)?, ip4(b.get(12..16)?)?)
    };
    let mut start = hl + time_len;
    let time = if version == 2 {
        // Senders copy an unpacked struct (12 bytes); accept a packed one (10) when only that
        // makes the payload start with SIP.
        let packed = hl + 10;
        if !looks_sip(b.get(start..).unwrap_or(&[])) && looks_sip(b.get(packed..).unwrap_or(&[])) {
            start = packed;
        }
        Some((le32(b, hl)?, le32(b, hl + 4)?))
    } else {
        None
    };
    let capture_id = (version == 2)
        .then(|| b.get(hl + 8..hl + 10))
        .flatten()
        .map(|s| u32::from(u16::from_le_bytes([s[0], s[1]])));
    Some(Ok(Hep {
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        transport: transport(proto),
        time,
        proto_type: None,
        payload: b.get(start..).unwrap_or(&[]),
        compressed: false,
        capture_id,
        auth_key: None,
    }))
}
