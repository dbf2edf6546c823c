//! DNS messages (RFC 1035) read from captured datagrams, and the queries waiting for their
//! answers.
//!
//! Owns: a bounds-checked parser of the header, the first question and the answer records
//! that matter to SIP (A, AAAA, SRV, NAPTR, CNAME; names decompressed with a jump limit), and
//! [`Dns`]: the table of pending queries (bounded), matched to responses by client, server,
//! ID, name and type. It decides what is worth surfacing: failed lookups of the types a SIP
//! UA asks (RFC 3263: NAPTR, SRV, A, AAAA) except an empty AAAA answer (an IPv4-only host),
//! and successful answers for SIP names only (see [`crate::event::LogKind::DnsAnswer`]).
//! Does not own: link/IP decoding, TCP reassembly (DNS over TCP is read when a segment holds
//! whole messages), what the facts mean (the `dns-failure` rule).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::Fact;
use crate::event::{
    DNS_ANSWER_WAIT_MS, DNS_RETRY_GAP_MS, DnsError, FrameList, LogEvent, LogKind, Timestamp,
};

pub const TYPE_A: u16 = 1;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_SRV: u16 = 33;
pub const TYPE_NAPTR: u16 = 35;

/// The longest name accepted (RFC 1035 §2.3.4: 255 octets).
const MAX_NAME: usize = 255;
/// Compression pointers followed in one name before it is given up as a loop.
const MAX_JUMPS: usize = 32;
/// Answer records read from one response.
const MAX_RECORDS: usize = 64;
/// Records kept in a [`LogKind::DnsAnswer`].
const MAX_SHOWN: usize = 8;
/// Queries waiting for an answer; beyond, the oldest is forgotten.
pub const MAX_PENDING: usize = 4096;
/// Names watched for a successful address answer (see [`Dns`]); cleared when full.
const MAX_WATCHED: usize = 1024;
/// Frames remembered per query (its first attempts and the answer).
const MAX_FRAMES: usize = 8;

pub fn type_name(t: u16) -> Option<&'static str> {
    match t {
        TYPE_A => Some("A"),
        TYPE_AAAA => Some("AAAA"),
        TYPE_SRV => Some("SRV"),
        TYPE_NAPTR => Some("NAPTR"),
        _ => None,
    }
}

/// A parsed DNS message: what this module needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: u16,
    pub response: bool,
    /// TC: the answer did not fit (the client retries over TCP).
    pub truncated: bool,
    pub rcode: u8,
    /// The first question: lower-case name without the final dot, and type.
    pub qname: String,
    pub qtype: u16,
    /// The answer section's records, in order (at most [`MAX_RECORDS`]).
    pub answers: Vec<Record>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub rtype: u16,
    pub data: RData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    Addr(IpAddr),
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Naptr {
        order: u16,
        preference: u16,
        service: String,
        replacement: String,
    },
    Cname(String),
    Other,
}

impl RData {
    fn show(&self) -> Option<String> {
        match self {
            RData::Addr(a) => Some(a.to_string()),
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => Some(format!("{priority} {weight} {port} {target}")),
            RData::Naptr {
                order,
                preference,
                service,
                replacement,
            } => Some(format!("{order} {preference} {service} {replacement}")),
            RData::Cname(_) | RData::Other => None,
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Reads a (possibly compressed) name at `at`; returns it and the offset after it in the
/// message (after the first pointer, if any).
fn name_at(msg: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(at)?;
        match len {
            0 => {
                return Some((out, end.unwrap_or(at + 1)));
            }
            l if l & 0xc0 == 0xc0 => {
                let ptr = usize::from(u16_at(msg, at)? & 0x3fff);
                end.get_or_insert(at + 2);
                jumps += 1;
                // A pointer must go back, and a loop must end.
                if jumps > MAX_JUMPS || ptr >= at {
                    return None;
                }
                at = ptr;
            }
            l if l & 0xc0 != 0 => return None,
            l => {
                let label = msg.get(at + 1..at + 1 + usize::from(l))?;
                if !out.is_empty() {
                    out.push('.');
                }
                for &c in label {
                    // Names are shown and compared: keep them printable, lower-case.
                    out.push(if c.is_ascii_graphic() {
                        char::from(c.to_ascii_lowercase())
                    } else {
                        '?'
                    });
                }
                if out.len() > MAX_NAME {
                    return None;
                }
                at += 1 + usize::from(l);
            }
        }
    }
}

/// A `<character-string>` (one length octet, then bytes).
fn char_string(msg: &[u8], at: usize) -> Option<(String, usize)> {
    let len = usize::from(*msg.get(at)?);
    let b = msg.get(at + 1..at + 1 + len)?;
    Some((String::from_utf8_lossy(b).into_owned(), at + 1 + len))
}

fn rdata(msg: &[u8], rtype: u16, at: usize, len: usize) -> Option<RData> {
    let body = msg.get(at..at + len)?;
    Some(match rtype {
        TYPE_A => {
            let b: [u8; 4] = body.try_into().ok()?;
            RData::Addr(IpAddr::V4(Ipv4Addr::from(b)))
        }
        TYPE_AAAA => {
            let b: [u8; 16] = body.try_into().ok()?;
            RData::Addr(IpAddr::V6(Ipv6Addr::from(b)))
        }
        TYPE_SRV => RData::Srv {
            priority: u16_at(body, 0)?,
            weight: u16_at(body, 2)?,
            port: u16_at(body, 4)?,
            target: name_at(msg, at + 6)?.0,
        },
        TYPE_NAPTR => {
            let (_flags, next) = char_string(msg, at + 4)?;
            let (service, next) = char_string(msg, next)?;
            let (_regexp, next) = char_string(msg, next)?;
            RData::Naptr {
                order: u16_at(body, 0)?,
                preference: u16_at(body, 2)?,
                service,
                replacement: name_at(msg, next)?.0,
            }
        }
        TYPE_CNAME => RData::Cname(name_at(msg, at)?.0),
        _ => RData::Other,
    })
}

/// Parses a DNS message; `None` when it is not one (or is damaged before its question).
pub fn parse(msg: &[u8]) -> Option<Message> {
    let id = u16_at(msg, 0)?;
    let flags = u16_at(msg, 2)?;
    let qdcount = u16_at(msg, 4)?;
    let ancount = u16_at(msg, 6)?;
    // Standard queries with one question only (opcode 0); anything else is not looked at.
    if (flags >> 11) & 0xf != 0 || qdcount != 1 {
        return None;
    }
    let (qname, at) = name_at(msg, 12)?;
    let qtype = u16_at(msg, at)?;
    let mut m = Message {
        id,
        response: flags & 0x8000 != 0,
        truncated: flags & 0x0200 != 0,
        rcode: (flags & 0xf) as u8,
        qname,
        qtype,
        answers: Vec::new(),
    };
    let mut at = at + 4;
    for _ in 0..usize::from(ancount).min(MAX_RECORDS) {
        // A damaged record ends the section: what was read is kept.
        let Some((name, next)) = name_at(msg, at) else {
            break;
        };
        let (Some(rtype), Some(len)) = (u16_at(msg, next), u16_at(msg, next + 8)) else {
            break;
        };
        let start = next + 10;
        let Some(data) = rdata(msg, rtype, start, usize::from(len)) else {
            break;
        };
        m.answers.push(Record { name, rtype, data });
        at = start + usize::from(len);
    }
    Some(m)
}

/// Whether a name is written as a host or service name is (letters, digits, `-`, `_`, dots):
/// a query for anything else (binary junk, a damaged packet) is no lookup of a SIP destination.
fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Whether a name is a SIP service name (`_sip._udp.example.com`, `_sips._tcp.…`).
pub fn is_sip_service(name: &str) -> bool {
    name.starts_with("_sip._") || name.starts_with("_sips._")
}

/// The domain of a SIP service name: `_sip._udp.example.com` → `example.com`.
pub fn service_domain(name: &str) -> Option<&str> {
    let rest = name
        .strip_prefix("_sip._")
        .or(name.strip_prefix("_sips._"))?;
    rest.split_once('.').map(|(_, d)| d)
}

#[derive(Debug)]
struct Pending {
    first: Timestamp,
    last: Timestamp,
    attempts: u32,
    frames: FrameList,
    /// Its arrival order, for evicting the oldest.
    order: u64,
}

type Key = (SocketAddr, SocketAddr, u16, String, u16);

/// The pending queries of one capture, and the names whose address answers are surfaced.
#[derive(Debug, Default)]
pub struct Dns {
    pending: HashMap<Key, Pending>,
    /// Keys by arrival, for eviction (stale entries skipped).
    order: VecDeque<(u64, Key)>,
    next: u64,
    /// Domains of failed SIP service lookups and targets of SRV answers: their A/AAAA answers
    /// show whether the lookup went on to succeed.
    watched: HashSet<String>,
    /// Queries forgotten because the table was full.
    pub dropped: u64,
}

impl Dns {
    /// One DNS message from `src` to `dst`, carried in `frame` at `ts`.
    pub fn push(
        &mut self,
        m: Message,
        src: SocketAddr,
        dst: SocketAddr,
        frame: u64,
        ts: Timestamp,
        out: &mut Vec<Fact>,
    ) {
        self.expire(ts, out);
        if type_name(m.qtype).is_none() || !is_host_name(&m.qname) {
            return;
        }
        if !m.response {
            let key = (src, dst, m.id, m.qname, m.qtype);
            if let Some(p) = self.pending.get_mut(&key) {
                p.attempts += 1;
                p.last = ts;
                if p.frames.len() < MAX_FRAMES - 1 {
                    p.frames.push(frame);
                }
                return;
            }
            if self.pending.len() >= MAX_PENDING {
                self.evict_oldest();
            }
            if self.order.len() >= 2 * MAX_PENDING {
                // Answered queries leave their entries behind: drop them.
                let pending = &self.pending;
                self.order
                    .retain(|(o, k)| pending.get(k).is_some_and(|p| p.order == *o));
            }
            self.next += 1;
            self.order.push_back((self.next, key.clone()));
            self.pending.insert(
                key,
                Pending {
                    first: ts,
                    last: ts,
                    attempts: 1,
                    frames: smallvec::smallvec![frame],
                    order: self.next,
                },
            );
            return;
        }
        let key = (dst, src, m.id, m.qname.clone(), m.qtype);
        let mut frames = match self.pending.remove(&key) {
            Some(p) => p.frames,
            // An answer to a query sent before the capture started: judged all the same.
            None => FrameList::new(),
        };
        frames.push(frame);
        if m.truncated {
            // The client asks again over TCP: that answer will tell.
            return;
        }
        self.answer(&m, src, frames, ts, out);
    }

    fn answer(
        &mut self,
        m: &Message,
        server: SocketAddr,
        frames: FrameList,
        ts: Timestamp,
        out: &mut Vec<Fact>,
    ) {
        let qtype = type_name(m.qtype).unwrap_or("?");
        let error = match m.rcode {
            0 => None,
            3 => Some(DnsError::NxDomain),
            code => Some(DnsError::Rcode { code }),
        };
        // The records of the type asked, wherever a CNAME chain led.
        let records: Vec<&Record> = m.answers.iter().filter(|r| r.rtype == m.qtype).collect();
        let error = error.or((records.is_empty()).then_some(DnsError::NoRecords));
        if let Some(error) = error {
            if error == DnsError::NoRecords && m.qtype == TYPE_AAAA {
                // An IPv4-only host: the A answer tells.
                return;
            }
            if let Some(d) = service_domain(&m.qname) {
                self.watch(d.to_string());
            }
            if m.qtype == TYPE_NAPTR {
                self.watch(m.qname.clone());
            }
            let text = format!(
                "DNS {qtype} {}: {} from {server}",
                m.qname,
                error.describe()
            );
            out.push(Fact {
                ts,
                frames,
                sender: LogEvent::DNS_PACKETS.into(),
                text,
                kind: LogKind::DnsFailure {
                    name: Some(m.qname.clone()),
                    qtype: Some(qtype.to_string()),
                    error,
                },
            });
            return;
        }
        let sip = is_sip_service(&m.qname) || m.qtype == TYPE_NAPTR;
        let watched = self.watched.contains(&m.qname);
        if !sip && !watched {
            return;
        }
        for r in &records {
            if let RData::Srv { target, .. }
            | RData::Naptr {
                replacement: target,
                ..
            } = &r.data
            {
                self.watch(target.clone());
            }
        }
        let shown: Vec<String> = records
            .iter()
            .filter_map(|r| r.data.show())
            .take(MAX_SHOWN)
            .collect();
        out.push(Fact {
            ts,
            frames,
            sender: LogEvent::DNS_PACKETS.into(),
            text: format!(
                "DNS {qtype} {}: {} from {server}",
                m.qname,
                shown.join(", ")
            ),
            kind: LogKind::DnsAnswer {
                name: m.qname.clone(),
                qtype: qtype.to_string(),
                records: shown,
            },
        });
    }

    /// Queries waiting for their answer.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    fn watch(&mut self, name: String) {
        if self.watched.len() >= MAX_WATCHED {
            self.watched.clear();
        }
        self.watched.insert(name);
    }

    fn evict_oldest(&mut self) {
        while let Some((order, key)) = self.order.pop_front() {
            if self.pending.get(&key).is_some_and(|p| p.order == order) {
                self.pending.remove(&key);
                self.dropped += 1;
                return;
            }
        }
    }

    /// Reports the queries left unanswered by `now` (see [`DnsError::NoAnswer`]).
    pub fn expire(&mut self, now: Timestamp, out: &mut Vec<Fact>) {
        if self.order.is_empty() {
            // Nothing pending: what every packet of a capture without DNS costs.
            return;
        }
        // Entries are in the order of their first attempt: the oldest at the front. A query
        // still being retried is skipped until its last attempt is old enough.
        let mut due: Vec<Key> = Vec::new();
        // At most this many live entries looked at per call: a flood of queries still being
        // retried costs no more than that per packet (the rest are judged on later packets).
        let mut budget = 256;
        for (order, key) in &self.order {
            let Some(p) = self.pending.get(key).filter(|p| p.order == *order) else {
                continue;
            };
            budget -= 1;
            if budget == 0 {
                break;
            }
            if p.first.micros.saturating_add(DNS_ANSWER_WAIT_MS * 1000) > now.micros {
                break;
            }
            if deadline(p).micros <= now.micros {
                due.push(key.clone());
            }
        }
        for key in due {
            if let Some(p) = self.pending.remove(&key) {
                out.push(no_answer(key, p));
            }
        }
        while let Some((order, key)) = self.order.front() {
            if self.pending.get(key).is_some_and(|p| p.order == *order) {
                break;
            }
            self.order.pop_front();
        }
    }

    /// The end of the capture at `end`: queries unanswered that long are reported; those the
    /// capture stopped too soon after are not (the end of the input is not a timeout).
    pub fn finish(&mut self, end: Option<Timestamp>, out: &mut Vec<Fact>) {
        if let Some(end) = end {
            self.expire(end, out);
        }
        self.pending.clear();
        self.order.clear();
    }
}

/// When a query with no answer counts as not answered.
fn deadline(p: &Pending) -> Timestamp {
    let micros = (p.first.micros.saturating_add(DNS_ANSWER_WAIT_MS * 1000))
        .max(p.last.micros.saturating_add(DNS_RETRY_GAP_MS * 1000));
    Timestamp { micros, ..p.last }
}

fn no_answer(key: Key, p: Pending) -> Fact {
    let (_, server, _, name, qtype) = key;
    let qtype = type_name(qtype).unwrap_or("?");
    let at = deadline(&p);
    let error = DnsError::NoAnswer {
        attempts: p.attempts,
        waited_ms: p.first.ms_until(at),
    };
    let span = p.first.ms_until(p.last);
    let tries = if p.attempts > 1 {
        format!(
            " ({} attempts in {:.1} s)",
            p.attempts,
            span as f64 / 1000.0
        )
    } else {
        String::new()
    };
    Fact {
        ts: at,
        frames: p.frames,
        sender: LogEvent::DNS_PACKETS.into(),
        text: format!("DNS {qtype} {name}: no answer from {server}{tries}"),
        kind: LogKind::DnsFailure {
            name: Some(name),
            qtype: Some(qtype.to_string()),
            error,
        },
    }
}
