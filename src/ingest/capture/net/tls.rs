//! TLS handshakes read from the record layer of captured TCP segments (no decryption).
//!
//! Owns: [`Tls`], the table of connections whose ClientHello was seen (bounded), each
//! direction's record walker (record headers, and the first bytes of the records that
//! matter: ClientHello for SNI and ALPN, ServerHello for the version, alerts), and the
//! verdict when a handshake fails: a fatal alert in clear, a connection closed or reset
//! before the handshake completed, or closed right after it before any data (an application
//! that checks the certificate after the handshake, as pjsip does, closes it so). A
//! connection that completes its handshake and carries data is forgotten, unless its server
//! failed before: then it is surfaced once as established. Connections still in their
//! handshake when the capture ends are forgotten (the end of the input is not a fault).
//!
//! Which connections: a ClientHello at the start of a TCP direction (its record header and
//! handshake type in the direction's first data segment), on any port except the
//! well-known ones of other protocols over TLS (HTTPS, DNS over TLS, mail …, unless they are
//! SIP ports), and not when the ClientHello's ALPN names only other protocols (`h2`,
//! `http/1.1`). Does not own: TCP reassembly (segments are taken in sequence order as they
//! come; a gap ends the reading of that direction), anything inside encrypted records.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;

use super::Fact;
use crate::event::{FrameList, LogEvent, LogKind, Timestamp, TlsError};

const REC_HANDSHAKE: u8 = 22;
const REC_CCS: u8 = 20;
const REC_ALERT: u8 = 21;
const REC_APP: u8 = 23;
const REC_HEARTBEAT: u8 = 24;

/// The largest record body (2^14 plus the expansion TLS allows).
const MAX_RECORD: usize = (1 << 14) + 2048;
/// Bytes of a ClientHello or ServerHello body kept to read its extensions.
const MAX_HELLO: usize = 4096;
/// Connections tracked at once; beyond, the oldest is forgotten.
pub const MAX_CONNS: usize = 4096;
/// Servers remembered as having failed a handshake; cleared when full.
const MAX_FAILED: usize = 1024;
/// Frames remembered per connection.
const MAX_FRAMES: usize = 8;
/// In TLS 1.3 an encrypted record this short is an alert (2 bytes, the content type, a
/// 16-byte tag), not data.
const MAX_TLS13_ALERT: usize = 24;

/// Ports of other protocols over TLS: their handshakes are not SIP's business.
const OTHER_TLS_PORTS: [u16; 10] = [443, 465, 563, 636, 853, 989, 990, 993, 995, 8443];

/// What one record walker found in a record.
enum Seen {
    ClientHello {
        sni: Option<String>,
        alpn: Vec<String>,
    },
    ServerHello {
        tls13: bool,
    },
    OtherHandshake,
    Ccs,
    Alert {
        level: u8,
        code: u8,
    },
    /// An encrypted record of this many bytes (application data, or in TLS 1.3 any record
    /// after the ServerHello).
    Encrypted {
        content: u8,
        len: usize,
    },
}

/// Reads one direction's stream of records, one segment at a time.
#[derive(Debug, Default)]
struct Walker {
    /// The next sequence number expected; `None` before the first segment.
    next: Option<u32>,
    hdr: Vec<u8>,
    /// Body bytes of the current record still to come.
    left: usize,
    /// The current record's first bytes, when they are needed.
    body: Vec<u8>,
    want: usize,
    /// The stream is no longer followed (a gap, or bytes that are not TLS records).
    lost: bool,
    /// This direction sent its ChangeCipherSpec: its later records are encrypted.
    ccs: bool,
}

impl Walker {
    /// Takes a segment's payload at `seq`; returns what its complete records showed.
    fn push(&mut self, seq: u32, data: &[u8], seen: &mut Vec<Seen>) {
        if self.lost || data.is_empty() {
            return;
        }
        let end = seq.wrapping_add(data.len() as u32);
        let mut data = data;
        if let Some(next) = self.next {
            let ahead = seq.wrapping_sub(next) as i32;
            if ahead > 0 {
                // Bytes are missing: the records cannot be followed any more.
                self.lost = true;
                return;
            }
            // A retransmission: skip what was read already.
            let behind = ahead.unsigned_abs() as usize;
            if behind >= data.len() {
                return;
            }
            data = &data[behind..];
        }
        self.next = Some(end);
        self.walk(data, seen);
    }

    fn walk(&mut self, mut data: &[u8], seen: &mut Vec<Seen>) {
        while !data.is_empty() && !self.lost {
            if self.left == 0 && self.hdr.len() < 5 {
                let take = (5 - self.hdr.len()).min(data.len());
                self.hdr.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.hdr.len() < 5 {
                    return;
                }
                let (content, major) = (self.hdr[0], self.hdr[1]);
                let len = usize::from(u16::from_be_bytes([self.hdr[3], self.hdr[4]]));
                if !(REC_CCS..=REC_HEARTBEAT).contains(&content) || major != 3 || len > MAX_RECORD {
                    self.lost = true;
                    return;
                }
                self.left = len;
                self.body.clear();
                self.want = match content {
                    REC_HANDSHAKE if !self.ccs => MAX_HELLO,
                    REC_ALERT | REC_CCS => 2,
                    _ => 0,
                }
                .min(len);
                if len == 0 {
                    self.record(seen);
                }
                continue;
            }
            let take = self.left.min(data.len());
            let keep = self.want.saturating_sub(self.body.len()).min(take);
            self.body.extend_from_slice(&data[..keep]);
            self.left -= take;
            data = &data[take..];
            if self.left == 0 {
                self.record(seen);
            }
        }
    }

    /// The current record is complete.
    fn record(&mut self, seen: &mut Vec<Seen>) {
        let content = self.hdr[0];
        let len = usize::from(u16::from_be_bytes([self.hdr[3], self.hdr[4]]));
        self.hdr.clear();
        let encrypted = self.ccs;
        match content {
            REC_CCS => {
                self.ccs = true;
                seen.push(Seen::Ccs);
            }
            REC_ALERT if !encrypted => {
                if let [level, code] = self.body[..] {
                    seen.push(Seen::Alert { level, code });
                }
            }
            REC_HANDSHAKE if !encrypted => seen.push(match self.body.first() {
                Some(1) => client_hello(&self.body),
                Some(2) => Seen::ServerHello {
                    tls13: server_hello_13(&self.body),
                },
                _ => Seen::OtherHandshake,
            }),
            REC_HEARTBEAT => {}
            _ => seen.push(Seen::Encrypted { content, len }),
        }
        self.body.clear();
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

/// The extensions block of a hello body (handshake header included), from `at` (the offset
/// of the session id).
fn extensions(b: &[u8], client: bool) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    // type(1) len(3) version(2) random(32)
    let mut at = 38;
    let Some(&sid) = b.get(at) else {
        return out;
    };
    at += 1 + usize::from(sid);
    if client {
        let Some(suites) = u16_at(b, at) else {
            return out;
        };
        at += 2 + suites;
        let Some(&comp) = b.get(at) else {
            return out;
        };
        at += 1 + usize::from(comp);
    } else {
        at += 3; // cipher suite, compression method
    }
    let Some(total) = u16_at(b, at) else {
        return out;
    };
    at += 2;
    let end = (at + total).min(b.len());
    while at + 4 <= end {
        let (Some(t), Some(l)) = (u16_at(b, at), u16_at(b, at + 2)) else {
            break;
        };
        let Some(body) = b.get(at + 4..at + 4 + l) else {
            break;
        };
        out.push((t, body));
        at += 4 + l;
    }
    out
}

fn client_hello(b: &[u8]) -> Seen {
    let mut sni = None;
    let mut alpn = Vec::new();
    for (t, body) in extensions(b, true) {
        match t {
            // server_name: list len(2), type(1) = 0 host_name, len(2), name
            0 if body.get(2) == Some(&0) => {
                if let Some(l) = u16_at(body, 3)
                    && let Some(name) = body.get(5..5 + l)
                {
                    sni = Some(
                        name.iter()
                            .map(|&c| {
                                if c.is_ascii_graphic() {
                                    char::from(c)
                                } else {
                                    '?'
                                }
                            })
                            .collect(),
                    );
                }
            }
            // application_layer_protocol_negotiation: list len(2), then len(1) + name ...
            16 => {
                let mut at = 2;
                while let Some(&l) = body.get(at) {
                    let Some(p) = body.get(at + 1..at + 1 + usize::from(l)) else {
                        break;
                    };
                    alpn.push(String::from_utf8_lossy(p).into_owned());
                    at += 1 + usize::from(l);
                }
            }
            _ => {}
        }
    }
    Seen::ClientHello { sni, alpn }
}

/// Whether a ServerHello chose TLS 1.3 (its supported_versions extension says 0x0304).
fn server_hello_13(b: &[u8]) -> bool {
    extensions(b, false)
        .iter()
        .any(|&(t, body)| t == 43 && body == [3, 4])
}

#[derive(Debug)]
struct Conn {
    client: SocketAddr,
    server: SocketAddr,
    sni: Option<String>,
    frames: FrameList,
    /// [client, server]
    walkers: [Walker; 2],
    server_hello: bool,
    tls13: bool,
    /// Encrypted records of the client after the ServerHello (TLS 1.3: the first is its
    /// Finished).
    client_encrypted: u32,
    /// Data went over the connection: the handshake is over and it is in use.
    data: bool,
    /// Who sent the first encrypted alert (TLS 1.2 and before): `true` for the client.
    closing_alert: Option<bool>,
    /// The order it was created in, for eviction.
    order: u64,
}

impl Conn {
    fn note_frame(&mut self, frame: u64) {
        if self.frames.len() < MAX_FRAMES && self.frames.last() != Some(&frame) {
            self.frames.push(frame);
        }
    }

    /// The handshake completed as far as the records show.
    fn handshake_done(&self) -> bool {
        if self.tls13 {
            self.client_encrypted > 0
        } else {
            self.walkers[0].ccs && self.walkers[1].ccs
        }
    }
}

/// The TLS connections of one capture.
#[derive(Debug, Default)]
pub struct Tls {
    conns: HashMap<(SocketAddr, SocketAddr), Conn>,
    /// Keys by creation, for evicting the oldest (entries of removed connections skipped).
    order: VecDeque<(u64, (SocketAddr, SocketAddr))>,
    next: u64,
    /// Servers whose handshake failed: a later successful connection to them is surfaced.
    failed: HashSet<SocketAddr>,
    /// Connections forgotten because the table was full.
    pub dropped: u64,
}

/// One TCP segment as the TLS reader takes it.
pub struct Segment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
    pub frame: u64,
    pub ts: Timestamp,
}

fn is_client_hello(p: &[u8]) -> bool {
    matches!(p, [REC_HANDSHAKE, 3, _, _, _, 1, ..])
}

impl Tls {
    pub fn push(&mut self, s: &Segment<'_>, sip_ports: &[u16], out: &mut Vec<Fact>) {
        let (key, dir) = if self.conns.contains_key(&(s.src, s.dst)) {
            ((s.src, s.dst), 0)
        } else if self.conns.contains_key(&(s.dst, s.src)) {
            ((s.dst, s.src), 1)
        } else {
            if !is_client_hello(s.payload) || !relevant(s.dst.port(), sip_ports) {
                return;
            }
            if self.conns.len() >= MAX_CONNS {
                self.evict_oldest();
            }
            if self.order.len() >= 2 * MAX_CONNS {
                // Connections that ended leave their entries behind: drop them.
                let conns = &self.conns;
                self.order
                    .retain(|(o, k)| conns.get(k).is_some_and(|c| c.order == *o));
            }
            self.next += 1;
            self.order.push_back((self.next, (s.src, s.dst)));
            self.conns.insert(
                (s.src, s.dst),
                Conn {
                    client: s.src,
                    server: s.dst,
                    sni: None,
                    frames: FrameList::new(),
                    walkers: [Walker::default(), Walker::default()],
                    server_hello: false,
                    tls13: false,
                    client_encrypted: 0,
                    data: false,
                    closing_alert: None,
                    order: self.next,
                },
            );
            ((s.src, s.dst), 0)
        };
        let Some(c) = self.conns.get_mut(&key) else {
            return;
        };
        let mut seen = Vec::new();
        c.walkers[dir].push(s.seq, s.payload, &mut seen);
        let mut verdict = None;
        for x in seen {
            match x {
                Seen::ClientHello { sni, alpn } if dir == 0 => {
                    c.note_frame(s.frame);
                    if !alpn.is_empty() && !alpn.iter().any(|p| p.starts_with("sip")) {
                        // A web (or other) client: not SIP.
                        self.conns.remove(&key);
                        return;
                    }
                    c.sni = sni;
                }
                Seen::ServerHello { tls13 } if dir == 1 => {
                    c.note_frame(s.frame);
                    c.server_hello = true;
                    c.tls13 = tls13;
                }
                Seen::Alert { level, code } => {
                    c.note_frame(s.frame);
                    // A warning-level alert (user_canceled, no_renegotiation) and
                    // close_notify do not end a handshake by themselves.
                    if level == 2 && code != 0 && verdict.is_none() {
                        verdict = Some(TlsError::Alert {
                            code,
                            by_client: dir == 0,
                        });
                    }
                }
                Seen::Encrypted { content, len } => {
                    if dir == 0 && c.tls13 {
                        c.client_encrypted += 1;
                        // Its first is the Finished; later ones longer than an alert are data.
                        if c.client_encrypted > 1 && len > MAX_TLS13_ALERT {
                            c.data = true;
                        }
                    } else if !c.tls13 && content == REC_APP {
                        c.data = true;
                    } else if !c.tls13 && content == REC_ALERT {
                        c.note_frame(s.frame);
                        c.closing_alert.get_or_insert(dir == 0);
                    }
                }
                _ => {}
            }
        }
        if verdict.is_none() && (s.fin || s.rst) && !c.data {
            c.note_frame(s.frame);
            verdict = Some(if c.handshake_done() {
                TlsError::ClosedAfterHandshake {
                    by_client: c.closing_alert.unwrap_or(dir == 0),
                }
            } else {
                TlsError::Closed {
                    reset: s.rst,
                    by_client: dir == 0,
                    after_hello: !c.server_hello,
                }
            });
        }
        if let Some(error) = verdict {
            let c = self.conns.remove(&key);
            if let Some(c) = c {
                if self.failed.len() >= MAX_FAILED {
                    self.failed.clear();
                }
                self.failed.insert(c.server);
                out.push(failure(c, error, s.ts));
            }
            return;
        }
        if c.data {
            let c = self.conns.remove(&key);
            if let Some(c) = c
                && self.failed.remove(&c.server)
            {
                out.push(Fact {
                    ts: s.ts,
                    frames: c.frames,
                    sender: LogEvent::TLS_PACKETS.into(),
                    text: format!(
                        "TLS {} -> {}{}: handshake completed, data sent",
                        c.client,
                        c.server,
                        sni_text(&c.sni)
                    ),
                    kind: LogKind::TlsEstablished {
                        peer: c.server.to_string(),
                    },
                });
            }
        } else if s.fin || s.rst {
            // Closed with data seen before: nothing to tell.
            self.conns.remove(&key);
        }
    }

    fn evict_oldest(&mut self) {
        while let Some((order, key)) = self.order.pop_front() {
            if self.conns.get(&key).is_some_and(|c| c.order == order) {
                self.conns.remove(&key);
                self.dropped += 1;
                return;
            }
        }
    }

    /// Connections in their handshake.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.conns.len()
    }

    /// The end of the capture: handshakes still under way are forgotten.
    pub fn finish(&mut self) {
        self.conns.clear();
        self.order.clear();
    }
}

fn relevant(port: u16, sip_ports: &[u16]) -> bool {
    sip_ports.contains(&port) || !OTHER_TLS_PORTS.contains(&port)
}

fn sni_text(sni: &Option<String>) -> String {
    sni.as_ref()
        .map(|s| format!(" (server name {s})"))
        .unwrap_or_default()
}

fn failure(c: Conn, error: TlsError, ts: Timestamp) -> Fact {
    Fact {
        ts,
        frames: c.frames,
        sender: LogEvent::TLS_PACKETS.into(),
        text: format!(
            "TLS {} -> {}{}: handshake failed: {}",
            c.client,
            c.server,
            sni_text(&c.sni),
            error.describe()
        ),
        kind: LogKind::TlsFailure {
            peer: Some(c.server.to_string()),
            error,
        },
    }
}
