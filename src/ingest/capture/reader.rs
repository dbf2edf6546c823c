//! Streaming pcap/pcapng reader.
//!
//! Reads the file in chunks of 64 KiB (grown only for one big block, never beyond
//! [`MAX_BLOCK`]), each a [`Bytes`] that frames are handed out of ([`read_chunks`]): a later
//! stage keeps a datagram's payload as a slice of its chunk, without a copy. A chunk lives as
//! long as such a slice does; one that nothing keeps is read into again. So a capture of any
//! size is read in constant memory (beyond what the messages kept hold), from a pipe as well as
//! from a file. The blocks are parsed with pcap-parser's block parsers.
//!
//! Before each block is handed to pcap-parser, its framing is checked here (record or block
//! length, pcapng trailing length), so that every kind of damage ends in a [`Warning`] and never
//! in a panic or an endless refill loop: a file cut in the middle of a packet, garbage after the
//! header, an absurd length, a block of length zero. Everything before the damage is kept. Only
//! a header that cannot be read is an error.
//!
//! Frames are numbered from 1 in file order, counting every packet record or packet block
//! (EPB, SPB and the obsolete PB), as Wireshark does.

use std::collections::BTreeSet;
use std::io::{self, Read};

use bytes::{Bytes, BytesMut};
use pcap_parser::nom::{Err as Nom, IResult, Needed};
use pcap_parser::pcapng::{Block, parse_block_be, parse_block_le, parse_sectionheaderblock};
use pcap_parser::{
    PcapBlockOwned, PcapError, parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified,
    parse_pcap_header,
};

use super::{Packet, Warning, WarningKind};
use crate::event::Timestamp;

/// The buffer the readers start with.
pub const INITIAL_BUFFER: usize = 64 * 1024;
/// The largest block or record accepted; a larger one is taken as corruption and ends the read.
pub const MAX_BLOCK: usize = 16 * 1024 * 1024;
/// The largest pcapng section header block accepted at the start of a file.
pub const MAX_SECTION_HEADER: usize = 1024 * 1024;
/// The largest captured length a pcap record may have beyond the file's snaplen (Wireshark's own
/// limit for most link types). A record above both is taken as garbage.
pub const MAX_PLAUSIBLE_CAPLEN: u32 = 262_144;

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_BOM: u32 = 0x1A2B_3C4D;
const PCAPNG_IDB: u32 = 0x0000_0001;
const PCAPNG_PB: u32 = 0x0000_0002;
const PCAPNG_SPB: u32 = 0x0000_0003;
const PCAPNG_EPB: u32 = 0x0000_0006;
/// pcapng block types that pcap-parser leaves unparsed but that are known and carry nothing
/// sipflow needs (obsolete IRIG and AFDX blocks, Apple's process information): skipped without a
/// word, like the standard non-packet blocks and local-use types (high bit set).
const PCAPNG_QUIET: [u32; 2] = [0x0000_0007, 0x0000_0008];

/// What reading a whole capture found, besides the packets.
#[derive(Debug, Default)]
pub struct ReadSummary {
    /// Frames read.
    pub frames: u64,
    /// Damage found on the way (truncated file, garbage, unknown blocks …).
    pub warnings: Vec<Warning>,
    /// Which of the two formats the file was.
    pub format: Option<CaptureFormat>,
    /// Interfaces described (pcapng IDBs, over all sections; 1 for a pcap file).
    pub interfaces: usize,
}

/// The two container formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    Pcapng,
}

/// The capture could not be read at all (nothing before the damage to keep).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("not a pcap or pcapng file")]
    NotACapture,
    #[error("unreadable capture header: {0}")]
    BadHeader(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Whether `head` starts with a pcap (any byte order, µs or ns) or pcapng magic.
pub fn is_capture(head: &[u8]) -> bool {
    detect(head).is_some()
}

/// The format that `head` (the first bytes of the input) announces.
pub fn detect(head: &[u8]) -> Option<CaptureFormat> {
    let magic: [u8; 4] = head.get(..4)?.try_into().ok()?;
    if u32::from_le_bytes(magic) == PCAPNG_SHB {
        return Some(CaptureFormat::Pcapng);
    }
    let le = u32::from_le_bytes(magic);
    let be = u32::from_be_bytes(magic);
    // µs and ns magics in both byte orders; the "modified" (Kuznetzov) µs format, little-endian,
    // which pcap-parser reads too.
    if matches!(le, 0xa1b2_c3d4 | 0xa1b2_3c4d | 0xa1b2_cd34)
        || matches!(be, 0xa1b2_c3d4 | 0xa1b2_3c4d)
    {
        return Some(CaptureFormat::Pcap);
    }
    None
}

/// Streams every frame of a pcap or pcapng file to `each`, in file order, with constant memory.
pub fn read(r: &mut dyn Read, each: &mut dyn FnMut(Packet<'_>)) -> Result<ReadSummary, ReadError> {
    read_chunks(r, &mut |_, pkt| each(pkt))
}

/// [`read`], handing each frame with the chunk of the file that holds its bytes: a part of it
/// may be kept as a slice of the chunk ([`Bytes::slice_ref`]), without a copy.
pub fn read_chunks(
    r: &mut dyn Read,
    each: &mut dyn FnMut(&Bytes, Packet<'_>),
) -> Result<ReadSummary, ReadError> {
    read_chunks_as(r, false, each)
}

/// [`read_chunks`]; `live`: the input is followed as it is written, so a read hands on what
/// has arrived (each packet as soon as it is whole) instead of filling the chunk.
pub fn read_chunks_as(
    r: &mut dyn Read,
    live: bool,
    each: &mut dyn FnMut(&Bytes, Packet<'_>),
) -> Result<ReadSummary, ReadError> {
    let mut src = Source::new(r);
    src.live = live;
    src.prime(12);
    let head = src.head.clone();
    if head.len() < 4
        && let Some(e) = src.error.take()
    {
        return Err(ReadError::Io(e));
    }
    let format = detect(&head).ok_or(ReadError::NotACapture)?;
    let mut st = State::new(each, format);
    let end = match format {
        CaptureFormat::Pcapng => {
            if head.len() < 12 {
                return Err(header_error(
                    &mut src,
                    "the file ends inside the section header",
                ));
            }
            let bom = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
            let be = match bom {
                PCAPNG_BOM => false,
                b if b == PCAPNG_BOM.swap_bytes() => true,
                _ => return Err(ReadError::BadHeader("bad pcapng byte-order magic".into())),
            };
            let shb_len = u32_at(&head, 4, be).unwrap_or(0) as usize;
            // Real section headers are a few hundred bytes; a huge one is a damaged header, and
            // would only cost a large buffer.
            if shb_len > MAX_SECTION_HEADER {
                return Err(ReadError::BadHeader(format!(
                    "section header block of {shb_len} bytes"
                )));
            }
            let cap = INITIAL_BUFFER.max(shb_len.next_power_of_two());
            let mut rdr = Chunks::new(cap, &mut src);
            if let Err(msg) = header_check(parse_sectionheaderblock(rdr.data())) {
                return Err(header_error(&mut src, &msg));
            }
            st.cap = cap;
            st.big_endian = be;
            drive(&mut rdr, &mut st)
        }
        CaptureFormat::Pcap => {
            let mut rdr = Chunks::new(INITIAL_BUFFER, &mut src);
            if let Err(msg) = header_check(parse_pcap_header(rdr.data())) {
                return Err(header_error(&mut src, &msg));
            }
            st.cap = INITIAL_BUFFER;
            drive(&mut rdr, &mut st)
        }
    };
    // An I/O error in the middle of the stream (a corrupt gzip member, a broken pipe) ends the
    // read like a truncation: what came before is kept.
    if let Some(e) = src.error.take() {
        let kind = if e.kind() == io::ErrorKind::UnexpectedEof {
            WarningKind::TruncatedFile
        } else {
            WarningKind::Corrupt
        };
        st.warn(
            Some(st.frames + 1),
            kind,
            format!("read error after frame {}: {e}", st.frames),
        );
    } else if let End::Damaged(w) = end {
        st.warnings.push(w);
    }
    Ok(ReadSummary {
        frames: st.frames,
        warnings: st.warnings,
        format: Some(format),
        interfaces: st.interfaces_seen,
    })
}

/// What pcap-parser's error says, in a bounded text: its `Display` lists the rest of the
/// input as decimal bytes (megabytes of stderr for one bad block), which no message may quote.
fn parse_error<I>(e: &PcapError<I>) -> String {
    match e {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => {
            format!("the block does not parse ({})", kind.description())
        }
        PcapError::Eof => "end of file".into(),
        PcapError::BufferTooSmall => "block larger than the read buffer".into(),
        PcapError::UnexpectedEof => "unexpected end of file".into(),
        PcapError::ReadError => "read error".into(),
        PcapError::Incomplete(n) => format!("incomplete block ({n} more bytes needed)"),
        PcapError::HeaderNotRecognized => "header not recognised as pcap or pcapng".into(),
    }
}

/// The header could not be parsed: an I/O error if that is why, else a bad header.
fn header_error(src: &mut Source<'_>, msg: &str) -> ReadError {
    match src.error.take() {
        Some(e) => ReadError::Io(e),
        None => ReadError::BadHeader(msg.to_string()),
    }
}

/// The input, read so that each `read` fills the buffer unless the input ends (pcap-parser takes
/// a short read for the end of the input), with the first bytes replayed after sniffing. An I/O
/// error is kept aside and looks like the end of the input to the parser.
struct Source<'a> {
    head: Vec<u8>,
    pos: usize,
    inner: &'a mut dyn Read,
    error: Option<io::Error>,
    done: bool,
    /// A live input: a read returns once it got something.
    live: bool,
}

impl<'a> Source<'a> {
    fn new(inner: &'a mut dyn Read) -> Self {
        Source {
            head: Vec::new(),
            pos: 0,
            inner,
            error: None,
            done: false,
            live: false,
        }
    }

    /// Reads up to `n` bytes into `head` (replayed by later reads).
    fn prime(&mut self, n: usize) {
        let mut buf = vec![0; n];
        let live = std::mem::replace(&mut self.live, false);
        let got = self.fill(&mut buf);
        self.live = live;
        buf.truncate(got);
        self.head = buf;
        self.pos = 0;
    }

    fn fill(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        let mut interrupts = 0;
        while n < buf.len() && !self.done {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => self.done = true,
                // `min` guards against a reader claiming more than it was given.
                Ok(k) => {
                    n = (n + k).min(buf.len());
                    if self.live {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted && interrupts < 1000 => {
                    interrupts += 1;
                }
                Err(e) => {
                    self.error = Some(e);
                    self.done = true;
                }
            }
        }
        n
    }
}

impl Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        if self.pos < self.head.len() {
            let k = (self.head.len() - self.pos).min(buf.len());
            buf[..k].copy_from_slice(&self.head[self.pos..self.pos + k]);
            self.pos += k;
            n = k;
        }
        Ok(n + self.fill(&mut buf[n..]))
    }
}

/// The file, read in chunks (each a [`Bytes`] that frames may be sliced from), consumed block
/// by block from the front of the current chunk. A refill starts a new chunk with the
/// unconsumed bytes (less than one block) and as many more as fit; the old chunk lives on as
/// long as a slice of it does. (pcap-parser's own readers use a circular buffer that nothing
/// can borrow beyond one block.)
struct Chunks<'s, 'r> {
    src: &'s mut Source<'r>,
    chunk: Bytes,
    /// Where the unconsumed bytes start in `chunk`.
    pos: usize,
    /// Bytes consumed since the start of the file.
    consumed: usize,
    /// The size of the next chunk.
    cap: usize,
    /// A refill read nothing: the input has ended.
    exhausted: bool,
}

impl<'s, 'r> Chunks<'s, 'r> {
    /// Reads the first chunk.
    fn new(cap: usize, src: &'s mut Source<'r>) -> Self {
        let mut c = Chunks {
            src,
            chunk: Bytes::new(),
            pos: 0,
            consumed: 0,
            cap,
            exhausted: false,
        };
        c.fill();
        c
    }

    fn data(&self) -> &[u8] {
        self.chunk.get(self.pos..).unwrap_or(&[])
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.chunk.len() - self.pos);
        self.pos += n;
        self.consumed += n;
    }

    /// Makes the next chunk at least `cap` bytes.
    fn grow(&mut self, cap: usize) {
        self.cap = self.cap.max(cap);
    }

    /// A new chunk: the unconsumed bytes, then as many as the input gives, up to `cap`.
    fn refill(&mut self) {
        let space = self.cap.saturating_sub(self.data().len());
        if space == 0 {
            return;
        }
        let have = self.data().len();
        let got = self.fill();
        self.exhausted = got == have;
    }

    /// Reads the next chunk: the unconsumed bytes, then as many as the input gives, up to
    /// `cap`. Returns its length. The memory of the last chunk is read into again when no
    /// slice of it is alive (media, nothing kept), else a new chunk is allocated.
    fn fill(&mut self) -> usize {
        let (pos, end) = (self.pos, self.chunk.len());
        let rest = end - pos;
        let cap = self.cap.max(rest);
        let mut buf = match std::mem::take(&mut self.chunk).try_into_mut() {
            Ok(mut buf) => {
                buf.copy_within(pos..end, 0);
                if buf.len() < cap {
                    buf.resize(cap, 0);
                }
                buf
            }
            Err(kept) => {
                let mut buf = BytesMut::zeroed(cap);
                buf[..rest].copy_from_slice(&kept[pos..end]);
                buf
            }
        };
        // `Source` never fails (it keeps an error aside and ends), and fills what it is given
        // unless the input ends.
        let got = self.src.read(&mut buf[rest..]).unwrap_or(0);
        buf.truncate(rest + got);
        self.chunk = buf.freeze();
        self.pos = 0;
        self.chunk.len()
    }

    /// The block at the front (whose framing was checked: `len` bytes are there), parsed.
    fn block(&self, st: &State<'_>) -> Result<(usize, PcapBlockOwned<'_>), String> {
        let data = self.data();
        let parsed = match st.format {
            CaptureFormat::Pcap if !st.header_done => {
                parse_pcap_header(data).map(|(rem, h)| (rem, PcapBlockOwned::from(h)))
            }
            CaptureFormat::Pcap => {
                let parse = if st.pcap_modified {
                    parse_pcap_frame_modified
                } else if st.pcap_be {
                    parse_pcap_frame_be
                } else {
                    parse_pcap_frame
                };
                parse(data).map(|(rem, b)| (rem, PcapBlockOwned::from(b)))
            }
            CaptureFormat::Pcapng => {
                let parse = if st.big_endian {
                    parse_block_be
                } else {
                    parse_block_le
                };
                parse(data).map(|(rem, b)| (rem, PcapBlockOwned::from(b)))
            }
        };
        match parsed {
            Ok((rem, block)) => Ok((data.len() - rem.len(), block)),
            Err(Nom::Error(e) | Nom::Failure(e)) => Err(parse_error(&e)),
            Err(Nom::Incomplete(n)) => Err(parse_error(&if self.exhausted {
                PcapError::<&[u8]>::UnexpectedEof
            } else {
                PcapError::Incomplete(needed(n))
            })),
        }
    }
}

/// Whether the file header parsed (`Err`: why not, as pcap-parser's readers said it).
fn header_check<T>(parsed: IResult<&[u8], T, PcapError<&[u8]>>) -> Result<(), String> {
    match parsed {
        Ok(_) => Ok(()),
        Err(Nom::Error(e) | Nom::Failure(e)) => Err(parse_error(&e)),
        Err(Nom::Incomplete(n)) => Err(parse_error(&PcapError::<&[u8]>::Incomplete(needed(n)))),
    }
}

/// The bytes a nom parser asked for (0 when it did not say).
fn needed(n: Needed) -> usize {
    match n {
        Needed::Size(n) => n.get(),
        Needed::Unknown => 0,
    }
}

/// One pcapng interface (IDB).
#[derive(Debug, Clone)]
struct Iface {
    /// `None` when its IDB could not be parsed.
    linktype: Option<i32>,
    snaplen: u32,
    res: Resolution,
    /// `if_tsoffset`, seconds.
    offset: i64,
}

/// Units per second of pcapng timestamps (`if_tsresol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    Pow10(u32),
    Pow2(u32),
}

impl Resolution {
    fn from_tsresol(v: u8) -> Option<Resolution> {
        if v & 0x80 == 0 {
            // 10^38 still fits an i128.
            (v <= 38).then_some(Resolution::Pow10(u32::from(v)))
        } else {
            let n = u32::from(v & 0x7f);
            (n <= 100).then_some(Resolution::Pow2(n))
        }
    }

    fn micros(self, units: u64, offset_s: i64) -> i64 {
        let units = i128::from(units);
        let us = match self {
            Resolution::Pow10(n) if n <= 6 => units * 10i128.pow(6 - n),
            Resolution::Pow10(n) => units / 10i128.pow(n - 6),
            Resolution::Pow2(n) => (units * 1_000_000) >> n,
        };
        let us = us + i128::from(offset_s) * 1_000_000;
        us.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// How the read ended.
enum End {
    Clean,
    Damaged(Warning),
}

/// What the framing check says about the bytes at the front of the buffer.
enum Frame {
    /// A whole block or record of this many bytes is in the buffer.
    Block(usize),
    /// At least this many bytes are needed.
    More(usize),
    /// Not a block or record.
    Bad(String),
}

/// Per-file state of the read.
struct State<'e> {
    each: &'e mut dyn FnMut(&Bytes, Packet<'_>),
    format: CaptureFormat,
    frames: u64,
    warnings: Vec<Warning>,
    /// Current buffer capacity.
    cap: usize,
    // pcap
    header_done: bool,
    pcap_be: bool,
    pcap_ns: bool,
    pcap_modified: bool,
    pcap_snaplen: u32,
    pcap_linktype: i32,
    // pcapng
    big_endian: bool,
    ifaces: Vec<Iface>,
    interfaces_seen: usize,
    last_ts: Timestamp,
    warned_blocks: BTreeSet<u32>,
    warned_ifaces: BTreeSet<u32>,
    warned_snaplen: bool,
}

impl<'e> State<'e> {
    fn new(each: &'e mut dyn FnMut(&Bytes, Packet<'_>), format: CaptureFormat) -> Self {
        State {
            each,
            format,
            frames: 0,
            warnings: Vec::new(),
            cap: INITIAL_BUFFER,
            header_done: false,
            pcap_be: false,
            pcap_ns: false,
            pcap_modified: false,
            pcap_snaplen: 0,
            pcap_linktype: 1,
            big_endian: false,
            ifaces: Vec::new(),
            interfaces_seen: 0,
            last_ts: Timestamp {
                micros: 0,
                dated: true,
                micro: true,
                unknown: false,
            },
            warned_blocks: BTreeSet::new(),
            warned_ifaces: BTreeSet::new(),
            warned_snaplen: false,
        }
    }

    fn warn(&mut self, frame: Option<u64>, kind: WarningKind, message: String) {
        self.warnings.push(Warning {
            frame,
            kind,
            message,
        });
    }

    fn damage(&self, frame: Option<u64>, kind: WarningKind, message: String) -> End {
        End::Damaged(Warning {
            frame,
            kind,
            message,
        })
    }

    /// Checks the framing of the block or record at the front of `data`.
    fn frame(&self, data: &[u8]) -> Frame {
        match self.format {
            CaptureFormat::Pcap => self.frame_pcap(data),
            CaptureFormat::Pcapng => frame_pcapng(data, self.big_endian),
        }
    }

    fn frame_pcap(&self, data: &[u8]) -> Frame {
        if !self.header_done {
            return if data.len() < 24 {
                Frame::More(24)
            } else {
                Frame::Block(24)
            };
        }
        let hdr = if self.pcap_modified { 24 } else { 16 };
        if data.len() < hdr {
            return Frame::More(hdr);
        }
        let Some(caplen) = u32_at(data, 8, self.pcap_be) else {
            return Frame::More(hdr);
        };
        if caplen > self.pcap_snaplen.max(MAX_PLAUSIBLE_CAPLEN) || caplen as usize > MAX_BLOCK {
            return Frame::Bad(format!(
                "record of {caplen} captured bytes, beyond the snaplen {}",
                self.pcap_snaplen
            ));
        }
        let total = hdr + caplen as usize;
        if data.len() < total {
            Frame::More(total)
        } else {
            Frame::Block(total)
        }
    }

    /// Whether the block at the front of `data` is a packet block (for frame numbers in warnings).
    fn is_packet(&self, data: &[u8]) -> bool {
        match self.format {
            CaptureFormat::Pcap => self.header_done,
            CaptureFormat::Pcapng => matches!(
                u32_at(data, 0, self.big_endian),
                Some(PCAPNG_EPB | PCAPNG_SPB | PCAPNG_PB)
            ),
        }
    }

    /// Where a warning about the block at the front of `data` points.
    fn here(&self, data: &[u8]) -> Option<u64> {
        if self.is_packet(data) {
            Some(self.frames + 1)
        } else {
            None
        }
    }

    fn snaplen_check(&mut self, caplen: usize, snaplen: u32) {
        if snaplen != 0 && caplen > snaplen as usize && !self.warned_snaplen {
            self.warned_snaplen = true;
            self.warn(
                Some(self.frames),
                WarningKind::Corrupt,
                format!(
                    "frame {}: {caplen} captured bytes exceed the snaplen {snaplen} (kept; later \
                     frames like it are not reported)",
                    self.frames
                ),
            );
        }
    }

    /// Hands on a frame whose bytes lie in `chunk`.
    fn emit(&mut self, chunk: &Bytes, ts: Timestamp, linktype: i32, data: &[u8], orig_len: u32) {
        self.last_ts = ts;
        (self.each)(
            chunk,
            Packet {
                frame: self.frames,
                ts,
                linktype,
                data,
                orig_len,
            },
        );
    }

    /// Handles one parsed block. `Err` ends the read.
    fn block(&mut self, chunk: &Bytes, block: PcapBlockOwned<'_>) -> Result<(), End> {
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                self.header_done = true;
                self.pcap_be = h.is_bigendian();
                self.pcap_ns = h.is_nanosecond_precision();
                self.pcap_modified = h.is_modified_format();
                self.pcap_snaplen = h.snaplen;
                // The upper bits may carry the FCS length; the link type is the low 16 bits.
                self.pcap_linktype = h.network.0 & 0xffff;
                self.interfaces_seen = 1;
            }
            PcapBlockOwned::Legacy(b) => {
                self.frames += 1;
                self.snaplen_check(b.data.len(), self.pcap_snaplen);
                let frac = i64::from(b.ts_usec);
                let frac = if self.pcap_ns { frac / 1000 } else { frac };
                let ts = Timestamp {
                    micros: i64::from(b.ts_sec) * 1_000_000 + frac,
                    dated: true,
                    micro: true,
                    unknown: false,
                };
                self.emit(chunk, ts, self.pcap_linktype, b.data, b.origlen);
            }
            PcapBlockOwned::NG(b) => self.ng_block(chunk, b)?,
        }
        Ok(())
    }

    fn ng_block(&mut self, chunk: &Bytes, b: Block<'_>) -> Result<(), End> {
        match b {
            Block::SectionHeader(shb) => {
                self.big_endian = shb.big_endian();
                self.ifaces.clear();
            }
            Block::InterfaceDescription(idb) => {
                self.interfaces_seen += 1;
                let mut tsresol = 6u8;
                let mut offset = 0i64;
                for opt in &idb.options {
                    let v = opt.value();
                    match opt.code.0 {
                        9 if opt.len >= 1 && !v.is_empty() => tsresol = v[0],
                        14 if opt.len >= 8 && v.len() >= 8 => {
                            let mut a = [0u8; 8];
                            a.copy_from_slice(&v[..8]);
                            offset = if self.big_endian {
                                i64::from_be_bytes(a)
                            } else {
                                i64::from_le_bytes(a)
                            };
                        }
                        _ => {}
                    }
                }
                let res = Resolution::from_tsresol(tsresol).unwrap_or_else(|| {
                    self.warn(
                        None,
                        WarningKind::Corrupt,
                        format!(
                            "interface {}: invalid if_tsresol {tsresol:#04x}, microseconds assumed",
                            self.ifaces.len()
                        ),
                    );
                    Resolution::Pow10(6)
                });
                self.ifaces.push(Iface {
                    linktype: Some(idb.linktype.0),
                    snaplen: idb.snaplen,
                    res,
                    offset,
                });
            }
            Block::EnhancedPacket(epb) => {
                self.frames += 1;
                let Some(iface) = self.iface(epb.if_id) else {
                    return Ok(());
                };
                let data = if (epb.caplen as usize) < epb.data.len() {
                    &epb.data[..epb.caplen as usize]
                } else {
                    epb.data
                };
                self.snaplen_check(data.len(), iface.snaplen);
                let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let ts = Timestamp {
                    micros: iface.res.micros(units, iface.offset),
                    dated: true,
                    micro: true,
                    unknown: false,
                };
                if let Some(lt) = iface.linktype {
                    self.emit(chunk, ts, lt, data, epb.origlen);
                }
            }
            Block::SimplePacket(spb) => {
                self.frames += 1;
                let Some(iface) = self.iface(0) else {
                    return Ok(());
                };
                let mut len = spb.data.len().min(spb.origlen as usize);
                if iface.snaplen != 0 {
                    len = len.min(iface.snaplen as usize);
                }
                // A simple packet block has no timestamp: the previous packet's time is used.
                if let Some(lt) = iface.linktype {
                    self.emit(chunk, self.last_ts, lt, &spb.data[..len], spb.origlen);
                }
            }
            Block::Unknown(ub) => {
                let ty = if self.big_endian {
                    ub.block_type.swap_bytes()
                } else {
                    ub.block_type
                };
                if ty == PCAPNG_PB {
                    self.frames += 1;
                    self.packet_block(chunk, ub.data);
                } else if !PCAPNG_QUIET.contains(&ty)
                    && ty & 0x8000_0000 == 0
                    && !self.warned_blocks.contains(&ty)
                {
                    self.warned_blocks.insert(ty);
                    self.warn(
                        None,
                        WarningKind::Corrupt,
                        format!("skipped unknown pcapng block type {ty:#010x}"),
                    );
                }
            }
            // Name resolution, statistics, secrets, journal, process and custom blocks.
            _ => {}
        }
        Ok(())
    }

    /// The obsolete Packet Block (type 2), which pcap-parser leaves unparsed.
    fn packet_block(&mut self, chunk: &Bytes, body: &[u8]) {
        let be = self.big_endian;
        let (Some(id_drops), Some(hi), Some(lo), Some(caplen), Some(origlen)) = (
            u32_at(body, 0, be),
            u32_at(body, 4, be),
            u32_at(body, 8, be),
            u32_at(body, 12, be),
            u32_at(body, 16, be),
        ) else {
            self.warn(
                Some(self.frames),
                WarningKind::Corrupt,
                format!("frame {}: packet block too short", self.frames),
            );
            return;
        };
        // The interface id is the first 16-bit field.
        let if_id = if be {
            id_drops >> 16
        } else {
            id_drops & 0xffff
        };
        let Some(data) = body.get(20..20 + caplen as usize) else {
            self.warn(
                Some(self.frames),
                WarningKind::Corrupt,
                format!(
                    "frame {}: packet block shorter than its captured length",
                    self.frames
                ),
            );
            return;
        };
        let Some(iface) = self.iface(if_id) else {
            return;
        };
        let units = (u64::from(hi) << 32) | u64::from(lo);
        let ts = Timestamp {
            micros: iface.res.micros(units, iface.offset),
            dated: true,
            micro: true,
            unknown: false,
        };
        if let Some(lt) = iface.linktype {
            self.emit(chunk, ts, lt, data, origlen);
        }
    }

    /// The interface a packet block refers to; a warning (once per id) if there is none.
    fn iface(&mut self, id: u32) -> Option<Iface> {
        if let Some(i) = self.ifaces.get(id as usize).cloned() {
            if i.linktype.is_none() && self.warned_ifaces.insert(id) {
                self.warn(
                    Some(self.frames),
                    WarningKind::Corrupt,
                    format!(
                        "frame {}: interface {id} has an unreadable description",
                        self.frames
                    ),
                );
            }
            return Some(i);
        }
        if self.warned_ifaces.insert(id) {
            self.warn(
                Some(self.frames),
                WarningKind::Corrupt,
                format!(
                    "frame {}: packet on interface {id}, which has no description block; its \
                     packets are skipped",
                    self.frames
                ),
            );
        }
        None
    }
}

/// The framing of the pcapng block at the front of `data`.
fn frame_pcapng(data: &[u8], section_be: bool) -> Frame {
    if data.len() < 12 {
        return Frame::More(12);
    }
    let raw_type = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let be = if raw_type == PCAPNG_SHB {
        match u32::from_le_bytes([data[8], data[9], data[10], data[11]]) {
            PCAPNG_BOM => false,
            b if b == PCAPNG_BOM.swap_bytes() => true,
            _ => return Frame::Bad("section header with a bad byte-order magic".into()),
        }
    } else {
        section_be
    };
    let len = u32_at(data, 4, be).unwrap_or(0) as usize;
    if len < 12 || !len.is_multiple_of(4) {
        return Frame::Bad(format!("block length {len}"));
    }
    if len > MAX_BLOCK {
        return Frame::Bad(format!("block of {len} bytes, larger than {MAX_BLOCK}"));
    }
    if data.len() < len {
        return Frame::More(len);
    }
    if u32_at(data, len - 4, be) != Some(len as u32) {
        return Frame::Bad("block lengths at its start and end differ".into());
    }
    Frame::Block(len)
}

/// The refill/consume loop. Returns how the read ended.
fn drive(rdr: &mut Chunks<'_, '_>, st: &mut State<'_>) -> End {
    // Each turn either consumes a whole block (at least 12 bytes), or refills and adds bytes, or
    // returns: the loop ends.
    loop {
        let step = st.frame(rdr.data());
        match step {
            Frame::Bad(msg) => {
                let at = rdr.consumed;
                let frame = st.here(rdr.data());
                return st.damage(
                    frame,
                    WarningKind::Corrupt,
                    format!(
                        "after frame {}, at byte {at}: {msg}; the rest of the file is skipped",
                        st.frames
                    ),
                );
            }
            Frame::More(need) => {
                let have = rdr.data().len();
                if rdr.exhausted {
                    if have == 0 {
                        return End::Clean;
                    }
                    let frame = st.here(rdr.data());
                    let what = match frame {
                        Some(f) => format!("frame {f} is cut"),
                        None => "the last block is cut".to_string(),
                    };
                    return st.damage(
                        frame,
                        WarningKind::TruncatedFile,
                        format!("{what}: the file ends {have} bytes into a {need}-byte record"),
                    );
                }
                if need > st.cap {
                    // Doubling (not a jump to `need`): a corrupt length near the end of the
                    // file finds the end before a large buffer is allocated.
                    let new = (st.cap * 2)
                        .min(need.next_power_of_two())
                        .max(need.min(st.cap * 2));
                    rdr.grow(new);
                    st.cap = new;
                }
                rdr.refill();
                if rdr.data().len() == have && !rdr.exhausted {
                    // No room to read into: cannot happen with the growth above, but never spin.
                    return st.damage(
                        st.here(rdr.data()),
                        WarningKind::Corrupt,
                        format!("after frame {}: reader made no progress", st.frames),
                    );
                }
            }
            Frame::Block(len) => {
                let at = rdr.consumed;
                let packet = st.is_packet(rdr.data());
                let ng_type = match st.format {
                    CaptureFormat::Pcapng => u32_at(rdr.data(), 0, st.big_endian),
                    CaptureFormat::Pcap => None,
                };
                let outcome = match rdr.block(st) {
                    Ok((off, block)) if off == len => Ok(st.block(&rdr.chunk, block)),
                    Ok((off, _)) => Err(format!("parser took {off} bytes of a {len}-byte block")),
                    Err(msg) => Err(msg),
                };
                match outcome {
                    Ok(Ok(())) => {}
                    Ok(Err(end)) => return end,
                    Err(msg) => {
                        // A block whose framing is sound but whose content is not: skip it.
                        if packet {
                            st.frames += 1;
                        }
                        let frame = packet.then_some(st.frames);
                        if ng_type.is_none() || ng_type == Some(PCAPNG_SHB) {
                            return st.damage(
                                frame,
                                WarningKind::Corrupt,
                                format!(
                                    "after frame {}, at byte {at}: {msg}; the rest of the file is \
                                     skipped",
                                    st.frames - u64::from(packet)
                                ),
                            );
                        }
                        st.warn(
                            frame,
                            WarningKind::Corrupt,
                            format!("malformed block at byte {at} skipped: {msg}"),
                        );
                        if ng_type == Some(PCAPNG_IDB) {
                            // Keeps the numbering of the interfaces after it.
                            st.interfaces_seen += 1;
                            st.ifaces.push(Iface {
                                linktype: None,
                                snaplen: 0,
                                res: Resolution::Pow10(6),
                                offset: 0,
                            });
                        }
                    }
                }
                rdr.consume(len);
            }
        }
    }
}

/// A u32 at `at` in the given byte order, if the bytes are there.
fn u32_at(b: &[u8], at: usize, be: bool) -> Option<u32> {
    let a: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

#[cfg(test)]
mod tests;
