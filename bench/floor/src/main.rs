//! The floor: the least a SIP analyzer must do, as fast as it goes, to set sipflow's times
//! against (`bench/compare.sh`, `docs/performance.md`).
//!
//! It streams a pcap capture (Ethernet, Linux cooked v1/v2, BSD loopback or raw IP; IPv4 or
//! IPv6; UDP only) or a pjsip log, and per SIP message reads the start line, Call-ID, CSeq,
//! From and To tags and the top Via branch; it keeps calls in a hash map keyed by Call-ID, each
//! with its transactions (by branch and CSeq method) and dialogs (by tags), and drops a call
//! when it ends (a final response to its BYE, or a failure of its INVITE). pjsip dump headers
//! are found with a substring search and parsed by hand; a dump's headers are read in place and
//! its body skipped to `--end msg--`. It prints what it counted, so that a run can be checked
//! against sipflow's (messages, calls). No rules, no output beyond the counts: what it does
//! not do is what sipflow's time above it pays for.
//!
//!     sipflow-floor FILE

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufReader, Read};

/// FxHash: one multiply per word.
#[derive(Default)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl Fx {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

fn hash(bytes: &[u8]) -> u64 {
    let mut h = Fx::default();
    h.write(bytes);
    h.finish()
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Other(u64),
}

impl Method {
    fn of(m: &[u8]) -> Method {
        match m {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            _ => Method::Other(hash(m)),
        }
    }
}

/// What one message says about its call.
#[derive(Default)]
struct Msg<'a> {
    /// Status code of a response; 0 for a request.
    status: u16,
    method: &'a [u8],
    call_id: &'a [u8],
    cseq: u32,
    cseq_method: &'a [u8],
    from_tag: &'a [u8],
    to_tag: &'a [u8],
    branch: &'a [u8],
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = s {
        s = rest;
    }
    s
}

/// The value of parameter `name` (`;tag=`, `;branch=`) in a header value.
fn param<'a>(value: &'a [u8], name: &[u8]) -> &'a [u8] {
    let mut at = 0;
    while let Some(p) = memchr::memchr(b';', &value[at..]) {
        let rest = &value[at + p + 1..];
        let rest = trim(rest);
        if rest.len() > name.len()
            && rest[..name.len()].eq_ignore_ascii_case(name)
            && rest[name.len()] == b'='
        {
            let v = &rest[name.len() + 1..];
            let end = v
                .iter()
                .position(|&c| matches!(c, b';' | b',' | b' ' | b'\r' | b'>'))
                .unwrap_or(v.len());
            return &v[..end];
        }
        at += p + 1;
    }
    b""
}

/// Reads the start line and the headers the correlation needs; returns the message and where
/// its header block ends (after the blank line), or `None` when it is not SIP.
fn parse(bytes: &[u8]) -> Option<(Msg<'_>, usize)> {
    let mut m = Msg::default();
    let first = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len());
    let line = trim(&bytes[..first]);
    if let Some(rest) = line.strip_prefix(b"SIP/2.0 ") {
        let code = rest.get(..3)?;
        m.status = code.iter().try_fold(0u16, |a, &d| {
            d.is_ascii_digit().then(|| a * 10 + u16::from(d - b'0'))
        })?;
    } else {
        let sp = memchr::memchr(b' ', line)?;
        if !line.ends_with(b"SIP/2.0") {
            return None;
        }
        m.method = &line[..sp];
    }
    let mut pos = first + 1;
    let mut via_seen = false;
    while pos < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |p| pos + p);
        let line = &bytes[pos..end];
        pos = end + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Some((m, pos.min(bytes.len())));
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = trim(&line[..colon]);
        let value = trim(&line[colon + 1..]);
        match name.len() {
            1 => match name[0] | 0x20 {
                b'i' => m.call_id = value,
                b'f' => m.from_tag = param(value, b"tag"),
                b't' => m.to_tag = param(value, b"tag"),
                b'v' if !via_seen => {
                    via_seen = true;
                    m.branch = param(value, b"branch");
                }
                _ => {}
            },
            2 if name.eq_ignore_ascii_case(b"to") => m.to_tag = param(value, b"tag"),
            3 if name.eq_ignore_ascii_case(b"via") && !via_seen => {
                via_seen = true;
                m.branch = param(value, b"branch");
            }
            4 if name.eq_ignore_ascii_case(b"from") => m.from_tag = param(value, b"tag"),
            4 if name.eq_ignore_ascii_case(b"cseq") => {
                let sp = memchr::memchr(b' ', value).unwrap_or(value.len());
                m.cseq = value[..sp]
                    .iter()
                    .take_while(|d| d.is_ascii_digit())
                    .fold(0u32, |a, &d| {
                        a.wrapping_mul(10).wrapping_add(u32::from(d - b'0'))
                    });
                m.cseq_method = trim(&value[sp..]);
            }
            7 if name.eq_ignore_ascii_case(b"call-id") => m.call_id = value,
            _ => {}
        }
    }
    Some((m, bytes.len()))
}

#[derive(Default)]
struct Call {
    /// Transactions by (branch, CSeq method): the last status seen (0 before a response).
    transactions: FxMap<(u64, Method), u16>,
    /// Dialogs by (From tag, To tag).
    dialogs: Vec<(u64, u64)>,
}

#[derive(Default)]
struct Counts {
    messages: u64,
    not_sip: u64,
    calls: u64,
    ended: u64,
    transactions: u64,
    dialogs: u64,
    bytes: u64,
}

#[derive(Default)]
struct Correlator {
    calls: FxMap<Box<[u8]>, Call>,
    n: Counts,
}

impl Correlator {
    fn message(&mut self, bytes: &[u8]) -> usize {
        let Some((m, end)) = parse(bytes) else {
            self.n.not_sip += 1;
            return bytes.len();
        };
        self.n.messages += 1;
        if m.call_id.is_empty() {
            return end;
        }
        let method = Method::of(m.cseq_method);
        let creates = m.status == 0 && method != Method::Ack;
        let call = match self.calls.get_mut(m.call_id) {
            Some(c) => c,
            None if creates => {
                self.n.calls += 1;
                self.calls.entry(m.call_id.into()).or_default()
            }
            None => return end,
        };
        let key = (hash(m.branch) ^ u64::from(m.cseq), method);
        let status = call.transactions.entry(key).or_insert_with(|| {
            self.n.transactions += 1;
            0
        });
        if m.status > *status {
            *status = m.status;
        }
        if !m.to_tag.is_empty() {
            let d = (hash(m.from_tag), hash(m.to_tag));
            if !call.dialogs.contains(&d) {
                call.dialogs.push(d);
                self.n.dialogs += 1;
            }
        }
        let over = matches!(
            (method, m.status),
            (Method::Bye, 200..) | (Method::Invite, 300..)
        );
        if over {
            self.calls.remove(m.call_id);
            self.n.ended += 1;
        }
        end
    }
}

fn u16_at(b: &[u8], at: usize, le: bool) -> Option<u16> {
    let w = [*b.get(at)?, *b.get(at + 1)?];
    Some(if le {
        u16::from_le_bytes(w)
    } else {
        u16::from_be_bytes(w)
    })
}

fn u32_at(b: &[u8], at: usize, le: bool) -> Option<u32> {
    let w = [
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ];
    Some(if le {
        u32::from_le_bytes(w)
    } else {
        u32::from_be_bytes(w)
    })
}

/// The UDP payload of a frame of link type `link`, if it is one.
fn udp_payload(frame: &[u8], link: u32) -> Option<&[u8]> {
    let (mut ethertype, mut at) = match link {
        1 => (u16_at(frame, 12, false)?, 14),
        113 => (u16_at(frame, 14, false)?, 16),
        276 => (u16_at(frame, 0, false)?, 20),
        0 => (
            if u32_at(frame, 0, true)? == 2 {
                0x0800
            } else {
                0x86dd
            },
            4,
        ),
        101 | 228 | 229 => (
            if frame.first()? >> 4 == 4 {
                0x0800
            } else {
                0x86dd
            },
            0,
        ),
        _ => return None,
    };
    while ethertype == 0x8100 {
        ethertype = u16_at(frame, at + 2, false)?;
        at += 4;
    }
    let ip = frame.get(at..)?;
    let (proto, l4) = match ethertype {
        0x0800 => {
            // fragments other than the first carry no UDP header
            if u16_at(ip, 6, false)? & 0x1fff != 0 {
                return None;
            }
            (*ip.get(9)?, usize::from(ip.first()? & 0x0f) * 4)
        }
        0x86dd => (*ip.get(6)?, 40),
        _ => return None,
    };
    if proto != 17 {
        return None;
    }
    let udp = ip.get(l4..)?;
    let len = usize::from(u16_at(udp, 4, false)?);
    udp.get(8..len.max(8).min(udp.len()))
}

fn pcap(r: &mut impl Read, c: &mut Correlator) -> io::Result<()> {
    let mut head = [0; 24];
    r.read_exact(&mut head)?;
    let le = match head[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return Err(io::Error::other("not a pcap capture (pcapng is not read)")),
    };
    let link = u32_at(&head, 20, le).unwrap_or(0) & 0x0fff_ffff;
    c.n.bytes += 24;
    let mut frame = Vec::with_capacity(1 << 18);
    let mut rec = [0; 16];
    loop {
        match r.read_exact(&mut rec) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let len = u32_at(&rec, 8, le).unwrap_or(0) as usize;
        if len > 1 << 18 {
            return Err(io::Error::other("record longer than 256 KiB"));
        }
        frame.resize(len, 0);
        c.n.bytes += 16 + len as u64;
        match r.read_exact(&mut frame) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        if let Some(payload) = udp_payload(&frame, link) {
            c.message(payload);
        }
    }
}

/// A pjsip dump header's end: `TX|RX <n> bytes Request|Response msg …:` up to its line end;
/// `at` is where ` bytes Re` was found.
fn dump_header(buf: &[u8], at: usize) -> Option<usize> {
    let before = &buf[..at];
    let digits = before
        .iter()
        .rev()
        .take_while(|d| d.is_ascii_digit())
        .count();
    let dir = before.len().checked_sub(digits + 3)?;
    if digits == 0 || !matches!(&before[dir..dir + 3], b"TX " | b"RX ") {
        return None;
    }
    let after = &buf[at + 9..];
    if !(after.starts_with(b"quest msg ") || after.starts_with(b"sponse msg ")) {
        return None;
    }
    memchr::memchr(b'\n', after).map(|p| at + 9 + p + 1)
}

fn pjsip(r: &mut impl Read, c: &mut Correlator) -> io::Result<()> {
    const PIECE: usize = 4 << 20;
    let header = memchr::memmem::Finder::new(b" bytes Re");
    let end_msg = memchr::memmem::Finder::new(b"\n--end msg--");
    let mut buf: Vec<u8> = Vec::with_capacity(2 * PIECE);
    let mut eof = false;
    loop {
        // Top up to at least one piece of unread text.
        while !eof && buf.len() < PIECE {
            let len = buf.len();
            buf.resize(len + PIECE, 0);
            let n = r.read(&mut buf[len..])?;
            buf.truncate(len + n);
            c.n.bytes += n as u64;
            eof = n == 0;
        }
        // Read the dumps that end inside what is held; `done` is where the rest starts.
        let mut pos = 0;
        let done = loop {
            let Some(h) = header.find(&buf[pos..]).map(|p| pos + p) else {
                break buf.len().saturating_sub(64).max(pos);
            };
            let line_start = memchr::memrchr(b'\n', &buf[..h]).map_or(0, |p| p + 1);
            if !eof && buf.len() - h < 4096 {
                break line_start;
            }
            let Some(body) = dump_header(&buf, h) else {
                pos = h + 1;
                continue;
            };
            let Some(end) = end_msg.find(&buf[body..]).map(|p| body + p) else {
                break line_start;
            };
            c.message(&buf[body..end + 1]);
            pos = end + 12;
        };
        if eof {
            return Ok(());
        }
        buf.drain(..done);
        if buf.len() >= PIECE {
            // a dump longer than a piece: give it up
            buf.clear();
        }
    }
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: sipflow-floor FILE (a pcap capture or a pjsip log)");
        std::process::exit(2);
    };
    let run = || -> io::Result<Correlator> {
        let mut r = BufReader::with_capacity(1 << 20, File::open(&path)?);
        let mut magic = [0; 4];
        r.read_exact(&mut magic)?;
        let mut r = io::Cursor::new(magic).chain(r);
        let mut c = Correlator::default();
        if matches!(magic, [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1])
            || matches!(magic, [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d])
        {
            pcap(&mut r, &mut c)?;
        } else {
            pjsip(&mut r, &mut c)?;
        }
        Ok(c)
    };
    match run() {
        Ok(c) => {
            let n = &c.n;
            println!(
                "{} bytes, {} SIP messages ({} other payloads), {} calls ({} ended, {} open), \
                 {} transactions, {} dialogs",
                n.bytes,
                n.messages,
                n.not_sip,
                n.calls,
                n.ended,
                c.calls.len(),
                n.transactions,
                n.dialogs
            );
        }
        Err(e) => {
            eprintln!("sipflow-floor: {path}: {e}");
            std::process::exit(1);
        }
    }
}
