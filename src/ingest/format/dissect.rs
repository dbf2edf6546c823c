//! What tshark's dissection outputs (`tshark_text`: `-V`, `-O sip`, Wireshark's plain-text
//! export; `tshark_json`: `-T json`, `-T ek`) share: the packet a dissection describes (time,
//! addresses, transport as the IP/UDP/TCP layers show them) and the message event made from a
//! SIP message rebuilt from its fields.
//!
//! Owns: [`Packet`] (its time is [`Timestamp::UNKNOWN`] where the dissection shows none:
//! `-O sip`) and [`message`]. Does not own: reading either layout (its format module), nor any framing or
//! reassembly (tshark already reassembled: each dissected SIP message is one whole message).

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;

use crate::event::{Cut, Event, Locator, MessageEvent, Origin, Timestamp, Transport};
use crate::sip::SipMessage;

/// The most bytes one rebuilt message may hold; a longer one is dropped (a capture's message
/// is at most 64 KiB over UDP, and sipflow's TCP reassembly keeps no more).
pub const MAX_MESSAGE: usize = 1 << 20;

/// What a packet's dissection said before its SIP messages.
#[derive(Debug, Clone, Default)]
pub struct Packet {
    pub ts: Option<Timestamp>,
    pub src_ip: Option<IpAddr>,
    pub dst_ip: Option<IpAddr>,
    pub ports: Option<(u16, u16)>,
    pub transport: Transport,
}

/// `1795241465.124863000` (seconds since 1970, any number of fraction digits).
pub fn epoch(text: &str) -> Option<Timestamp> {
    let (secs, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let s: i64 = secs.parse().ok()?;
    let digits = frac.get(..frac.len().min(6))?;
    let mut f: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    for _ in digits.len()..6 {
        f *= 10;
    }
    Some(Timestamp {
        micros: s.checked_mul(1_000_000)?.checked_add(f)?,
        dated: true,
        micro: true,
        unknown: false,
    })
}

impl Packet {
    /// `ip:port` of each end, when the dissection showed both address and port.
    fn ends(&self) -> (Option<Arc<str>>, Option<Arc<str>>) {
        let end = |ip: Option<IpAddr>, port: Option<u16>| {
            Some(Arc::from(SocketAddr::new(ip?, port?).to_string()))
        };
        (
            end(self.src_ip, self.ports.map(|p| p.0)),
            end(self.dst_ip, self.ports.map(|p| p.1)),
        )
    }
}

/// The event of one rebuilt message: its bytes, the packet it was in, where it is in the text,
/// and whether the text lost some of its bytes (`damaged`).
pub fn message(
    bytes: Vec<u8>,
    packet: &Packet,
    input: usize,
    line: u32,
    span: Range<usize>,
    damaged: bool,
) -> Event {
    let (src, dst) = packet.ends();
    let msg = SipMessage::parse_owned(bytes);
    let transport = match (&msg, packet.transport) {
        (Ok(m), Transport::Unknown) => m.top_via().map_or(Transport::Unknown, |v| v.transport),
        (_, t) => t,
    };
    // A datagram is the whole message as sent: a body shorter than its Content-Length is short
    // on the wire, and cut (`damaged`) as a capture's reader says of it. (A body the text
    // does not give byte for byte has had its Content-Length set to what was rebuilt.)
    let short = matches!(transport, Transport::Udp | Transport::Sctp)
        && msg.as_ref().is_ok_and(|m| {
            let carried = m.raw().len().saturating_sub(m.body_span().start);
            m.content_length().is_some_and(|n| n > carried)
        });
    Event::Message(MessageEvent {
        ts: packet.ts.unwrap_or(Timestamp::UNKNOWN),
        origin: Origin {
            input,
            locator: Locator::Text { line, span },
        },
        direction: None,
        transport,
        src,
        dst,
        handle: None,
        declared_len: None,
        stack_error: None,
        cut: (short || damaged).then_some(Cut::Damaged),
        msg,
    })
}
