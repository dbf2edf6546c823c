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
//! Hex dumps (tcpdump `-X`/`-XX`, tshark `-x`) give whole frames instead ([`PacketText::push_frame`]):
//! they go through the capture's decoder first (link layers, IP fragment reassembly, the
//! addresses and TCP sequence numbers in the headers), exactly as a capture's frames do.
//!
//! Addresses the tool printed as names (tcpdump without `-n`) are kept as printed: inside they
//! stand for made-up addresses in the discard prefix `100::/64` (RFC 6666), never shown.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

use super::{TextCounts, TextStart};
use crate::event::{Cut, Event, FrameList, Locator, Origin, Timestamp};
use crate::ingest::capture::decode::Decoder;
use crate::ingest::capture::net::{Fact, Net};
use crate::ingest::capture::payload::Payloads;
use crate::ingest::capture::{self, Datagram, L4, Packet, SipChunk};

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
    /// For whole frames (hex dumps): their link and IP layers, and the DNS lookups and TLS
    /// handshakes in them.
    decoder: Decoder,
    net: Net,
    facts: Vec<Fact>,
    /// Printed endpoint → the address the payload layer sees, and back to its text.
    addrs: HashMap<(String, String), SocketAddr>,
    names: HashMap<SocketAddr, Arc<str>>,
    /// The next sequence number of each TCP direction whose tool printed none.
    next_seq: HashMap<(SocketAddr, SocketAddr), u32>,
    /// (packet number, line, span) of the latest packets.
    places: VecDeque<(u64, u32, Range<usize>)>,
    packets: u64,
    /// Whether the last packet was a printed payload ([`PacketText::push`]), not a whole frame.
    last_printed: bool,
    chunks: Vec<SipChunk>,
    counts: TextCounts,
}

impl<'a> PacketText<'a> {
    pub fn new(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Self {
        let opts = start.capture;
        PacketText {
            input: start.input,
            emit,
            payloads: Payloads::with_limits(opts.payload.clone(), opts.tcp.clone()),
            decoder: Decoder::with_limits(opts.fragments),
            net: Net::new(opts.payload.sip_ports.clone()),
            facts: Vec::new(),
            addrs: HashMap::new(),
            names: HashMap::new(),
            next_seq: HashMap::new(),
            places: VecDeque::new(),
            packets: 0,
            last_printed: false,
            chunks: Vec::new(),
            counts: TextCounts::default(),
        }
    }

    /// Numbers the next packet and remembers where it is in the text.
    fn place_next(&mut self, line: u32, span: Range<usize>) -> u64 {
        self.packets += 1;
        if self.places.len() == PLACES {
            self.places.pop_front();
        }
        self.places.push_back((self.packets, line, span));
        self.packets
    }

    /// One whole frame, as a hex dump shows it: `data` from the link layer of type `linktype`
    /// (a pcap LINKTYPE_* value; `RAW` when the dump starts at the IP header), `orig_len` its
    /// length on the wire when the tool printed fewer bytes.
    pub fn push_frame(
        &mut self,
        ts: Timestamp,
        linktype: i32,
        data: &[u8],
        orig_len: u32,
        line: u32,
        span: Range<usize>,
    ) {
        self.hand_on(Cut::Damaged);
        self.last_printed = false;
        let frame = self.place_next(line, span);
        let pkt = Packet {
            frame,
            ts,
            linktype,
            data,
            orig_len,
        };
        let mut datagrams = Vec::new();
        self.decoder
            .decode(&pkt, &mut datagrams, &mut self.counts.warnings);
        for d in datagrams {
            self.net.push(&d, &mut self.facts);
            self.payloads
                .push(d, &mut self.chunks, &mut self.counts.warnings);
        }
    }

    /// One packet, in the order of the text. Its messages are handed on with the next packet's
    /// (or at the end: see [`PacketText::finish`]).
    pub fn push(&mut self, p: TextPacket) {
        self.hand_on(Cut::Damaged);
        self.last_printed = true;
        let frame = self.place_next(p.line, p.span.clone());
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
        self.payloads
            .push(d, &mut self.chunks, &mut self.counts.warnings);
    }

    /// The end of the input: what is still being reassembled is cut by it, and so is a message
    /// of the last packet that is shorter than its Content-Length when the tool printed the
    /// payload without its length (a paste cut there: the packet's own end is not shown).
    pub fn finish(mut self) -> TextCounts {
        let warnings = &mut self.counts.warnings;
        self.decoder.finish(warnings);
        self.payloads.finish(&mut self.chunks, warnings);
        self.net.finish(&mut self.facts, warnings);
        if self.last_printed {
            for c in &mut self.chunks {
                c.truncated |= crate::sip::message_len(&c.bytes).is_none();
            }
        }
        self.hand_on(Cut::InputEdge);
        self.counts
    }

    /// The input paused (live): the facts found and the messages that are already whole are
    /// handed on now, as the next packet would hand them on. A message that is cut (its cut
    /// depends on whether another packet comes) waits, and so does every one after it; so do
    /// the TCP segments and IP fragments held for the rest of a message (the payload layer and
    /// the decoder hold them, and only whole messages leave them).
    pub fn pause(&mut self) {
        let last_printed = self.last_printed;
        let whole = |c: &SipChunk| {
            !c.truncated && (!last_printed || crate::sip::message_len(&c.bytes).is_some())
        };
        let n = self.chunks.iter().take_while(|c| whole(c)).count();
        if n == 0 && self.facts.is_empty() {
            return;
        }
        let rest = self.chunks.split_off(n);
        self.hand_on(Cut::Damaged);
        self.chunks = rest;
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

    /// Hands on the facts and messages found, the facts first (a lookup comes before the
    /// request it was for).
    fn hand_on(&mut self, cut: Cut) {
        for f in std::mem::take(&mut self.facts) {
            let locator = self.locate(&f.frames);
            (self.emit)(capture::fact_event(f, self.input, locator));
        }
        for c in std::mem::take(&mut self.chunks) {
            self.counts.messages += 1;
            self.counts.truncated += usize::from(c.truncated);
            let locator = self.locate(&c.frames);
            let names = (self.name(c.src), self.name(c.dst));
            let origin = Origin {
                input: self.input,
                locator,
            };
            let event = Event::Message(capture::message_event(c, origin, names, cut));
            (self.emit)(event);
        }
    }

    /// Where the packets `frames` are in the text: the first one's line, and the span from it
    /// to the end of the last.
    fn locate(&self, frames: &FrameList) -> Locator {
        let first = frames.first().copied().unwrap_or(0);
        let last = frames.last().copied().unwrap_or(first);
        let (line, start) = self
            .place(first)
            .map_or((0, 0), |(line, span)| (line, span.start));
        let end = self
            .place(last)
            .map_or(start, |(_, span)| span.end.max(start));
        Locator::Text {
            line,
            span: start..end,
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

/// Whether a packet's payload, as a text dump printed it, is nothing but whole SIP messages
/// (each framed by its Content-Length; line ends before and between them, nothing after): a
/// packet a live dump's reader may hand on at a pause, as its text's end cannot make it
/// another. A keep-alive, a TCP segment that starts or ends inside a message, or a datagram
/// whose body is short of its Content-Length is not.
pub fn whole_messages(payload: &[u8]) -> bool {
    whole_messages_end(payload)
        .is_some_and(|end| payload[end..].iter().all(|&b| b == b'\r' || b == b'\n'))
}

/// Where the whole SIP messages at the start of a payload end (each framed by its
/// Content-Length, line ends before and between them): `None` when it starts with none.
pub fn whole_messages_end(payload: &[u8]) -> Option<usize> {
    let mut at = 0;
    let mut end = None;
    loop {
        let rest = &payload[at..];
        let lead = rest
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .unwrap_or(rest.len());
        let rest = &rest[lead..];
        if rest.is_empty() {
            return end;
        }
        let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
        if !crate::sip::is_start_line(line.strip_suffix(b"\r").unwrap_or(line)) {
            return end;
        }
        match crate::sip::message_len(rest) {
            Some(n) if n <= rest.len() => {
                at += lead + n;
                end = Some(at);
            }
            _ => return end,
        }
    }
}

/// Whether `data` starts with an IPv4 or IPv6 header whose length fits the bytes after it (the
/// whole packet, or a frame padded to Ethernet's 60 bytes).
pub fn ip_fits(data: &[u8]) -> bool {
    let total = match data.first().map(|b| b >> 4) {
        Some(4) if data.len() >= 20 && data[0] & 0x0f >= 5 => {
            usize::from(u16::from_be_bytes([data[2], data[3]]))
        }
        Some(6) if data.len() >= 40 => 40 + usize::from(u16::from_be_bytes([data[4], data[5]])),
        _ => return false,
    };
    total == data.len() || (total < data.len() && data.len() <= 64)
}

/// The link layer a hex dump of a whole frame starts with (tcpdump `-XX`, tshark `-x` print
/// no link type), told by where an IP header that fits the frame is: BSD loopback, Linux
/// cooked (SLL2, SLL), Ethernet (with VLAN tags), or none.
pub fn guess_linktype(data: &[u8]) -> Option<i32> {
    use crate::ingest::capture::decode::linktype as lt;
    let ethertype = |at: usize| {
        data.get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .is_some_and(|t| t == 0x0800 || t == 0x86dd)
    };
    let fits = |at: usize| data.get(at..).is_some_and(ip_fits);
    let af = data.get(..4).map(|b| {
        [
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        ]
    });
    if af.is_some_and(|a| a.iter().any(|v| [2, 24, 28, 30].contains(v))) && fits(4) {
        return Some(lt::NULL);
    }
    if ethertype(0) && fits(20) {
        return Some(lt::LINUX_SLL2);
    }
    if ethertype(14) && fits(16) {
        return Some(lt::LINUX_SLL);
    }
    if ethertype(12) && fits(14) {
        return Some(lt::ETHERNET);
    }
    let vlan = data
        .get(12..14)
        .is_some_and(|b| matches!(u16::from_be_bytes([b[0], b[1]]), 0x8100 | 0x88a8));
    if vlan && (ethertype(16) && fits(18) || ethertype(20) && fits(22)) {
        return Some(lt::ETHERNET);
    }
    fits(0).then_some(lt::RAW)
}
