//! Text dumps of packets (ngrep, tcpdump, and any tool that prints each packet's addresses and
//! payload): what their formats share once each has read its own layout.
//!
//! Owns: [`PacketText`], which takes the packets a format's parser read ([`TextPacket`]: time,
//! addresses as printed, UDP or TCP, the payload bytes, where the packet is in the text) and
//! hands them to the capture's payload layer (`capture::payload`: the same datagram splitting,
//! keep-alive skipping, TCP reassembly and Content-Length framing as a capture), so that a
//! text made from a capture gives the messages the capture gives, with the same addresses,
//! transport and times. Each message points at the text it was read from (its first packet's
//! line, and the span from that packet to the end of its last). Does not own: reading any one
//! tool's layout (its format module).
//!
//! Addresses the tool printed as names (tcpdump without `-n`) are kept as printed: inside they
//! stand for made-up addresses in the discard prefix `100::/64` (RFC 6666), never shown.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

use super::TextCounts;
use crate::event::{Cut, Event, FrameList, Locator, Origin, Timestamp};
use crate::ingest::capture::payload::Payloads;
use crate::ingest::capture::{self, Datagram, L4, SipChunk};

/// The transport of a packet, with what the tool printed of TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Udp,
    Tcp {
        /// The sequence number of the payload's first byte, when the tool printed it; else the
        /// payloads of a direction are taken as back to back.
        seq: Option<u32>,
        syn: bool,
        fin: bool,
        rst: bool,
    },
}

/// One packet as a text dump shows it.
#[derive(Debug, Clone)]
pub struct TextPacket {
    pub ts: Timestamp,
    /// The source as printed: host (an address or a name) and port (a number or a name).
    pub src: (String, String),
    pub dst: (String, String),
    pub proto: Proto,
    pub payload: Vec<u8>,
    /// The 1-based line of the packet's first line, and its bytes in the input.
    pub line: u32,
    pub span: Range<usize>,
}

/// Packets whose place in the text is remembered for the messages still being reassembled.
const PLACES: usize = 1 << 16;
/// Names of endpoints remembered (beyond, forgotten all at once, as captures do).
const NAMES: usize = 4096;

/// Turns a text dump's packets into message events (see the module docs).
pub struct PacketText<'a> {
    input: usize,
    emit: &'a mut dyn FnMut(Event),
    payloads: Payloads,
    /// Printed endpoint → the address the payload layer sees, and back to its text.
    addrs: HashMap<(String, String), SocketAddr>,
    names: HashMap<SocketAddr, Arc<str>>,
    /// The next sequence number of each TCP direction whose tool printed none.
    next_seq: HashMap<(SocketAddr, SocketAddr), u32>,
    /// (packet number, line, span) of the latest packets.
    places: VecDeque<(u64, u32, Range<usize>)>,
    packets: u64,
    chunks: Vec<SipChunk>,
    counts: TextCounts,
}

impl<'a> PacketText<'a> {
    pub fn new(input: usize, emit: &'a mut dyn FnMut(Event)) -> Self {
        PacketText {
            input,
            emit,
            payloads: Payloads::new(Default::default()),
            addrs: HashMap::new(),
            names: HashMap::new(),
            next_seq: HashMap::new(),
            places: VecDeque::new(),
            packets: 0,
            chunks: Vec::new(),
            counts: TextCounts::default(),
        }
    }

    /// One packet, in the order of the text.
    pub fn push(&mut self, p: TextPacket) {
        self.packets += 1;
        let frame = self.packets;
        if self.places.len() == PLACES {
            self.places.pop_front();
        }
        self.places.push_back((frame, p.line, p.span.clone()));
        let src = self.addr(p.src);
        let dst = self.addr(p.dst);
        let l4 = match p.proto {
            Proto::Udp => L4::Udp,
            Proto::Tcp { seq, syn, fin, rst } => {
                let next = self.next_seq.entry((src, dst)).or_insert(1);
                let seq = seq.unwrap_or(*next);
                // SYN and FIN take a sequence number each.
                let used = p.payload.len() as u64 + u64::from(syn) + u64::from(fin);
                *next = seq.wrapping_add(u32::try_from(used).unwrap_or(u32::MAX));
                if self.next_seq.len() > NAMES {
                    self.next_seq.clear();
                }
                L4::Tcp { seq, syn, fin, rst }
            }
        };
        let d = Datagram {
            frames: FrameList::from_slice(&[frame]),
            ts: p.ts,
            src,
            dst,
            l4,
            payload: Bytes::from(p.payload),
            snapped: false,
        };
        let mut warnings = Vec::new();
        self.payloads.push(d, &mut self.chunks, &mut warnings);
        self.hand_on(Cut::Damaged);
    }

    /// The end of the input: what is still being reassembled is cut by it.
    pub fn finish(mut self) -> TextCounts {
        let mut warnings = Vec::new();
        self.payloads.finish(&mut self.chunks, &mut warnings);
        self.hand_on(Cut::InputEdge);
        self.counts
    }

    fn addr(&mut self, (host, port): (String, String)) -> SocketAddr {
        let numeric = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok()
            .zip(port.parse::<u16>().ok())
            .map(|(ip, port)| SocketAddr::new(ip, port));
        if let Some(a) = numeric {
            return a;
        }
        if self.addrs.len() >= NAMES {
            self.addrs.clear();
            self.names.clear();
        }
        let next = self.addrs.len() as u64 + 1;
        let key = (host, port);
        if let Some(&a) = self.addrs.get(&key) {
            return a;
        }
        let made = SocketAddr::new(
            IpAddr::V6(Ipv6Addr::from((0x0100u128 << 112) | u128::from(next))),
            0,
        );
        let text = format!("{}:{}", key.0, key.1);
        self.names.insert(made, text.into());
        self.addrs.insert(key, made);
        made
    }

    fn name(&mut self, a: SocketAddr) -> Arc<str> {
        if self.names.len() >= NAMES {
            self.names.clear();
            self.addrs.clear();
        }
        self.names
            .entry(a)
            .or_insert_with(|| a.to_string().into())
            .clone()
    }

    fn hand_on(&mut self, cut: Cut) {
        for c in std::mem::take(&mut self.chunks) {
            self.counts.messages += 1;
            self.counts.truncated += usize::from(c.truncated);
            let first = c.frames.first().copied().unwrap_or(0);
            let last = c.frames.last().copied().unwrap_or(first);
            let (line, start) = self
                .place(first)
                .map_or((0, 0), |(line, span)| (line, span.start));
            let end = self
                .place(last)
                .map_or(start, |(_, span)| span.end.max(start));
            let names = (self.name(c.src), self.name(c.dst));
            let origin = Origin {
                input: self.input,
                locator: Locator::Text {
                    line,
                    span: start..end,
                },
            };
            let event = Event::Message(capture::message_event(c, origin, names, cut));
            (self.emit)(event);
        }
    }

    /// Where packet `frame` is in the text (the oldest remembered if it was forgotten).
    fn place(&self, frame: u64) -> Option<(u32, Range<usize>)> {
        let i = self.places.partition_point(|(f, ..)| *f < frame);
        self.places
            .get(i.min(self.places.len().saturating_sub(1)))
            .map(|(_, line, span)| (*line, span.clone()))
    }
}
