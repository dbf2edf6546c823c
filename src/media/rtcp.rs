//! RTCP sender and receiver reports (RFC 3550 6.4): the report blocks, read in place.

/// One report block of an SR or RR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// The SSRC the block reports on (the stream received).
    pub ssrc: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost (signed 24 bits).
    pub cumulative_lost: i32,
    /// Interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR received from `ssrc` (0: none).
    pub lsr: u32,
    /// Delay since that SR, in 1/65536 s.
    pub dlsr: u32,
}

/// What one RTCP packet of a compound packet says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report<'a> {
    /// A sender report: its sender, the middle 32 bits of its NTP time, and its blocks.
    Sender {
        ssrc: u32,
        ntp_middle: u32,
        blocks: &'a [u8],
    },
    Receiver {
        ssrc: u32,
        blocks: &'a [u8],
    },
}

/// Whether `b` is an RTCP compound packet: version 2, its first packet an SR, RR, SDES, BYE or
/// APP (200–204), every length inside the datagram. Up to 3 zero bytes after the last packet
/// are taken as the sender's padding of the datagram, as tshark does (heplify's
/// `rtp_rtcp_sip_ipv4_udp.pcap`: an SR+RR+SDES of 116 bytes in a 118-byte payload).
pub fn is_rtcp(b: &[u8]) -> bool {
    matches!((b.first(), b.get(1)), (Some(&b0), Some(&b1)) if b0 >> 6 == 2 && (200..=204).contains(&b1))
        && packets(b).all(|p| p.is_some())
}

/// The packets of a compound packet (type, count, body after the 4-byte header); `None` for
/// one whose length runs past the datagram (and nothing after it). Fewer than 4 zero bytes
/// after a packet end it (no packet header fits in them).
fn packets(b: &[u8]) -> impl Iterator<Item = Option<(u8, u8, &[u8])>> {
    let mut rest = b;
    let mut bad = false;
    std::iter::from_fn(move || {
        let padding = rest.len() < 4 && rest.len() < b.len() && rest.iter().all(|&x| x == 0);
        if rest.is_empty() || bad || padding {
            return None;
        }
        let ok = (|| {
            let (&b0, &pt) = (rest.first()?, rest.get(1)?);
            if b0 >> 6 != 2 {
                return None;
            }
            let words = u16::from_be_bytes([*rest.get(2)?, *rest.get(3)?]);
            let len = 4 + 4 * usize::from(words);
            let body = rest.get(4..len)?;
            rest = &rest[len..];
            Some((pt, b0 & 0x1f, body))
        })();
        bad = ok.is_none();
        Some(ok)
    })
}

/// The SRs and RRs of a compound packet.
pub fn reports(b: &[u8]) -> impl Iterator<Item = Report<'_>> {
    packets(b).map_while(|p| p).filter_map(|(pt, count, body)| {
        let n = 24 * usize::from(count);
        match pt {
            200 => Some(Report::Sender {
                ssrc: be32(body, 0)?,
                ntp_middle: (be32(body, 4)? << 16) | (be32(body, 8)? >> 16),
                blocks: body.get(24..24 + n)?,
            }),
            201 => Some(Report::Receiver {
                ssrc: be32(body, 0)?,
                blocks: body.get(4..4 + n)?,
            }),
            _ => None,
        }
    })
}

/// The report blocks of a report's block area.
pub fn blocks(b: &[u8]) -> impl Iterator<Item = Block> + '_ {
    b.chunks_exact(24).filter_map(|c| {
        let lost = be32(c, 4)?;
        // 24-bit two's complement.
        let cumulative = ((lost & 0x00ff_ffff) << 8) as i32 >> 8;
        Some(Block {
            ssrc: be32(c, 0)?,
            fraction_lost: (lost >> 24) as u8,
            cumulative_lost: cumulative,
            jitter: be32(c, 12)?,
            lsr: be32(c, 16)?,
            dlsr: be32(c, 20)?,
        })
    })
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
