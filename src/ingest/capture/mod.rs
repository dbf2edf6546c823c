//! Captures: pcap and pcapng files (also gzip-compressed, also on stdin) into message events.
//!
//! The stages, each a module with one job:
//! - [`reader`]: the file, read in a streaming refill/consume loop (pcap-parser), never loaded
//!   whole; yields [`Packet`]s with frame number, timestamp and link type.
//! - [`decode`]: link layers, VLANs, tunnels, IPv4/IPv6 and their fragments, UDP/TCP/SCTP;
//!   yields [`Datagram`]s (transport payloads with addresses and the frames that carried them).
//! - [`payload`]: per-flow TCP reassembly, WebSocket and HEP decapsulation, and SIP recognition
//!   by content; yields [`SipChunk`]s, one per SIP message candidate.
//! - [`net`], beside it on the same datagrams: DNS lookups and TLS handshakes that failed
//!   (what shows a request that never left); yields [`net::Fact`]s, handed on as log events.
//! - this module: glue, and the parse of each chunk into a [`MessageEvent`].
//!
//! Does not own: sniffing which format an input is ([`super`]), SIP grammar, correlation.

pub mod decode;
pub mod net;
pub mod payload;
pub mod reader;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::event::{
    Cut, Event, FrameList, Locator, LogEvent, MessageEvent, Origin, Timestamp, Transport,
};
use crate::sip::{MessageHead, SipMessage};
use bytes::Bytes;

pub use reader::{ReadError, is_capture};

/// Options for reading captures.
#[derive(Debug, Clone, Default)]
pub struct CaptureOptions {
    pub payload: payload::PayloadOptions,
    /// Memory bounds of TCP reassembly (`--limit tcp-…`).
    pub tcp: payload::Limits,
    /// Memory bounds of IP fragment reassembly (`--limit fragment-…`).
    pub fragments: decode::FragLimits,
    /// The capture is followed as it is written (`tcpdump -U -w - | sipflow check -`): each
    /// read hands on the packets that have arrived instead of filling a chunk.
    pub live: bool,
}

/// What a capture yields besides its events.
#[derive(Debug, Default)]
pub struct CaptureLog {
    pub frames: u64,
    /// SIP messages found (each also an event).
    pub messages: usize,
    pub truncated: usize,
    /// DNS and TLS facts found (each also an event).
    pub facts: usize,
    pub warnings: Vec<Warning>,
}

/// Reads a whole capture from `r`, streaming, and hands each message event to `emit` as soon
/// as it is complete. `input` is the index of this input in the run.
pub fn parse(
    r: &mut dyn Read,
    input: usize,
    opts: &CaptureOptions,
    emit: &mut dyn FnMut(Event),
) -> Result<CaptureLog, ReadError> {
    parse_with_media(r, input, opts, emit, None)
}

/// [`parse`], also handing every UDP datagram to `media` (RTP and RTCP streams), and the SDP of
/// every SIP message (for dynamic payload types' clock rates).
pub fn parse_with_media(
    r: &mut dyn Read,
    input: usize,
    opts: &CaptureOptions,
    emit: &mut dyn FnMut(Event),
    mut media: Option<&mut crate::media::Media>,
) -> Result<CaptureLog, ReadError> {
    let mut decoder = decode::Decoder::with_limits(opts.fragments);
    let mut payloads = payload::Payloads::with_limits(opts.payload.clone(), opts.tcp.clone());
    let mut log = CaptureLog::default();
    let mut datagrams = Vec::new();
    let mut chunks = Vec::new();
    let mut names = AddrNames::default();
    let mut net = net::Net::new(opts.payload.sip_ports.clone());
    let mut facts = Vec::new();
    let mut pins = Pins::default();
    // A message cut short while the capture goes on lost bytes inside it (snaplen, a gap);
    // one still incomplete when the capture ends was cut by the capture's end. The facts of
    // a datagram go before its SIP: a lookup comes before the request it was for. `chunk`: the
    // reader's chunk that the messages may point into.
    let mut hand_on = |facts: &mut Vec<net::Fact>,
                       chunks: &mut Vec<SipChunk>,
                       log: &mut CaptureLog,
                       pins: &mut Pins,
                       chunk: &Bytes,
                       cut: Cut| {
        if facts.is_empty() && chunks.is_empty() {
            // Most packets of a capture with media.
            return;
        }
        for mut f in facts.drain(..) {
            log.facts += 1;
            let at = Locator::Frames(std::mem::take(&mut f.frames));
            emit(fact_event(f, input, at));
        }
        for mut c in chunks.drain(..) {
            log.messages += 1;
            log.truncated += usize::from(c.truncated);
            if within(chunk, &c.bytes) && !pins.keep(c.bytes.len()) {
                c.bytes = Bytes::copy_from_slice(&c.bytes);
            }
            emit(chunk_event(c, input, &mut names, cut));
        }
    };
    let summary = reader::read_chunks_as(r, opts.live, &mut |chunk, pkt| {
        pins.read(pkt.data.len());
        decoder.decode_in(chunk, &pkt, &mut datagrams, &mut log.warnings);
        for d in &datagrams {
            net.push(d, &mut facts);
            let before = chunks.len();
            payloads.push_ref(d, &mut chunks, &mut log.warnings);
            if let Some(m) = media.as_deref_mut() {
                match chunks.get(before..) {
                    Some([]) | None if d.l4 == L4::Udp => {
                        let media = m.push_udp(d.src, d.dst, &d.payload, d.ts.micros);
                        if media && d.frames.len() > 1 {
                            m.note_fragmented(d.src, d.dst, &d.payload, d.ts.micros, &d.frames);
                        }
                    }
                    Some(new) => new.iter().for_each(|c| m.learn_sdp(&c.bytes, d.ts.micros)),
                    None => {}
                }
            }
        }
        datagrams.clear();
        hand_on(
            &mut facts,
            &mut chunks,
            &mut log,
            &mut pins,
            chunk,
            Cut::Damaged,
        );
    })?;
    decoder.finish(&mut log.warnings);
    payloads.finish(&mut chunks, &mut log.warnings);
    net.finish(&mut facts, &mut log.warnings);
    hand_on(
        &mut facts,
        &mut chunks,
        &mut log,
        &mut pins,
        &Bytes::new(),
        Cut::InputEdge,
    );
    log.frames = summary.frames;
    log.warnings.extend(summary.warnings);
    Ok(log)
}

/// Transport payloads received outside a capture (the HEP packets a listener received, or a
/// file of them) turned into events as a capture's are: decapsulated, framed and parsed by
/// [`payload::Payloads`]. Each payload is one frame, numbered from 1.
pub struct Feed {
    payloads: payload::Payloads,
    names: AddrNames,
    chunks: Vec<SipChunk>,
    input: usize,
    /// Frames (payloads), messages and warnings so far; warnings beyond [`Feed::MAX_WARNINGS`]
    /// are only counted in `more_warnings`.
    pub log: CaptureLog,
    pub more_warnings: u64,
}

impl Feed {
    /// Warnings kept; a long run keeps counting the rest.
    pub const MAX_WARNINGS: usize = 256;

    pub fn new(input: usize, opts: &CaptureOptions) -> Self {
        Feed {
            payloads: payload::Payloads::with_limits(opts.payload.clone(), opts.tcp.clone()),
            names: AddrNames::default(),
            chunks: Vec::new(),
            input,
            log: CaptureLog::default(),
            more_warnings: 0,
        }
    }

    /// One payload that came from `src` to `dst` at `ts` (the HEP packets' own times win).
    pub fn push(
        &mut self,
        payload: Bytes,
        (src, dst): (SocketAddr, SocketAddr),
        ts: Timestamp,
        emit: &mut dyn FnMut(Event),
    ) {
        self.log.frames += 1;
        let d = Datagram {
            frames: FrameList::from_slice(&[self.log.frames]),
            ts,
            src,
            dst,
            l4: L4::Udp,
            payload,
            snapped: false,
        };
        self.payloads
            .push(d, &mut self.chunks, &mut self.log.warnings);
        if self.log.warnings.len() > Self::MAX_WARNINGS {
            self.more_warnings += (self.log.warnings.len() - Self::MAX_WARNINGS) as u64;
            self.log.warnings.truncate(Self::MAX_WARNINGS);
        }
        for c in self.chunks.drain(..) {
            self.log.messages += 1;
            self.log.truncated += usize::from(c.truncated);
            emit(chunk_event(c, self.input, &mut self.names, Cut::Damaged));
        }
    }
}

/// Whether messages may stay slices of the reader's chunks. A message keeps its whole chunk
/// (64 KiB or more) alive as long as it lives: nothing where SIP fills the chunks, but up to a
/// hundred times its own size where media does (a few SIP packets among thousands of RTP
/// ones), for every message a report keeps. So a message is copied out when SIP made less
/// than a quarter of the bytes read lately (the last few chunks' worth of packets).
#[derive(Debug, Default)]
struct Pins {
    /// Bytes of packets read lately.
    read: usize,
    /// Bytes of messages among them.
    sip: usize,
}

impl Pins {
    /// How far back "lately" goes: the counts are halved beyond it.
    const WINDOW: usize = 4 * reader::INITIAL_BUFFER;

    fn read(&mut self, len: usize) {
        self.read += len;
        if self.read > Self::WINDOW {
            self.read /= 2;
            self.sip /= 2;
        }
    }

    /// A message of `len` bytes from the chunk being read: whether it may stay a slice of it.
    fn keep(&mut self, len: usize) -> bool {
        self.sip += len;
        self.sip.saturating_mul(4) >= self.read
    }
}

/// Whether `part` lies in `whole`'s bytes.
fn within(whole: &Bytes, part: &[u8]) -> bool {
    let (w, p) = (whole.as_ptr() as usize, part.as_ptr() as usize);
    !whole.is_empty() && p >= w && p + part.len() <= w + whole.len()
}

/// `part` as a slice of `whole` (no copy) when it lies in it, else a copy.
pub(crate) fn share(whole: &Bytes, part: &[u8]) -> Bytes {
    if within(whole, part) {
        whole.slice_ref(part)
    } else {
        Bytes::copy_from_slice(part)
    }
}

/// Addresses as text, each formatted once: a capture has few, and formatting two per message
/// cost more than parsing its Via. Bounded: cleared when it holds 4,096.
#[derive(Default)]
struct AddrNames(HashMap<SocketAddr, Arc<str>>);

impl AddrNames {
    fn of(&mut self, a: SocketAddr) -> Arc<str> {
        if self.0.len() >= 4096 {
            self.0.clear();
        }
        self.0
            .entry(a)
            .or_insert_with(|| a.to_string().into())
            .clone()
    }
}

/// `cut`: why the chunk is incomplete, if it is.
fn chunk_event(c: SipChunk, input: usize, names: &mut AddrNames, cut: Cut) -> Event {
    let (src, dst) = (names.of(c.src), names.of(c.dst));
    let frames = Locator::Frames(c.frames.clone());
    Event::Message(message_event(
        c,
        Origin {
            input,
            locator: frames,
        },
        (src, dst),
        cut,
    ))
}

/// The message a reassembled chunk is, seen from `origin` between the addresses named; `cut`
/// says why it is incomplete if it is.
pub(crate) fn message_event(
    c: SipChunk,
    origin: Origin,
    (src, dst): (Arc<str>, Arc<str>),
    cut: Cut,
) -> MessageEvent {
    MessageEvent {
        ts: c.ts,
        origin,
        direction: None,
        transport: c.transport,
        src: Some(src),
        dst: Some(dst),
        handle: None,
        declared_len: None,
        stack_error: None,
        cut: c.truncated.then_some(cut),
        msg: match c.head {
            Some(head) => Ok(SipMessage::from_head(c.bytes, head)),
            None => SipMessage::parse_shared(c.bytes),
        },
    }
}

/// A DNS or TLS fact as a log event: its sender is `dns` or `tls`, its origin the frames.
/// A DNS or TLS fact as a log event; `locator` says where it is in the input (in a capture: its
/// frames).
pub(crate) fn fact_event(f: net::Fact, input: usize, locator: Locator) -> Event {
    Event::Log(LogEvent {
        ts: f.ts,
        origin: Origin { input, locator },
        sender: f.sender,
        kind: f.kind,
        errors: Vec::new(),
        text: f.text,
    })
}

/// One captured frame, as the reader hands it to the decoder.
#[derive(Debug)]
pub struct Packet<'a> {
    /// 1-based, as Wireshark numbers frames.
    pub frame: u64,
    pub ts: Timestamp,
    /// The pcap LINKTYPE_* value of the frame's interface.
    pub linktype: i32,
    /// The captured bytes (at most the snaplen).
    pub data: &'a [u8],
    /// The frame's length on the wire; larger than `data.len()` when the snaplen cut it.
    pub orig_len: u32,
}

/// The transport protocol of a [`Datagram`], with what stream reassembly needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4 {
    Udp,
    Tcp {
        seq: u32,
        syn: bool,
        fin: bool,
        rst: bool,
    },
    /// One SCTP user message (DATA chunks split by the sender are reassembled first).
    Sctp {
        stream: u16,
        ppid: u32,
    },
}

/// A transport-layer payload after link, tunnel and IP processing.
#[derive(Debug, Clone)]
pub struct Datagram {
    /// The frames that carried it: several when it was reassembled from IP fragments.
    pub frames: FrameList,
    /// The time of the frame that completed it.
    pub ts: Timestamp,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub l4: L4,
    /// A slice of the reader's chunk (no copy), or its own buffer when reassembled.
    pub payload: Bytes,
    /// The snaplen cut this payload short.
    pub snapped: bool,
}

/// One SIP message candidate found in the payloads.
#[derive(Debug, Clone)]
pub struct SipChunk {
    /// Every frame whose bytes are in this message (several for TCP segments or IP fragments).
    pub frames: FrameList,
    pub ts: Timestamp,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
    /// A slice of the datagram that carried it (no copy), or its own buffer (TCP, WebSocket).
    pub bytes: Bytes,
    /// Its start line and header block, when framing read them (datagrams): the message is
    /// finished from them instead of being parsed again.
    pub head: Option<MessageHead>,
    /// The message is incomplete: cut by the snaplen, a gap in a TCP stream, or the end of
    /// the capture before its Content-Length was reached.
    pub truncated: bool,
}

/// Something in the capture that was skipped or could not be fully decoded. Reported, never
/// silent; decoding goes on after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The frame concerned, if any.
    pub frame: Option<u64>,
    pub kind: WarningKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarningKind {
    /// The file ends in the middle of a block or packet.
    TruncatedFile,
    /// Bytes that are not a valid block or record (e.g. garbage after the header).
    Corrupt,
    /// A link type sipflow does not decode.
    UnknownLinkType,
    /// A frame shorter on disk than on the wire (snaplen).
    Snapped,
    /// IP fragments that never completed.
    IncompleteFragments,
    /// A TCP stream with a gap, or data that never framed as SIP.
    StreamGap,
    /// A limit was hit (flows, buffered bytes, fragments): data was dropped.
    Limit,
    /// A SIP-port payload that is not SIP, or a malformed encapsulation.
    Malformed,
}
