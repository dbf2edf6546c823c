//! IPv4 and IPv6 fragment reassembly, bounded in packets, bytes and time.
//!
//! Fragments are keyed by (source, destination, identification, protocol), as RFC 791 and
//! RFC 8200 say. A packet completes when fragments cover every byte from 0 to the end given by
//! the last fragment (overlaps are tolerated; the later copy wins where they differ). Pending
//! packets are evicted, oldest first, when the pool would exceed its limits ([`FragLimits`]);
//! a packet whose first fragment is older than the timeout (capture time) is dropped. Both are
//! reported; so is every packet still pending at the end.

use crate::event::FrameList;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use super::super::WarningKind;

/// Bounds on fragment reassembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragLimits {
    /// Packets pending reassembly at once.
    pub max_packets: usize,
    /// Bytes held in pending fragments (plus a small overhead per fragment).
    pub max_bytes: usize,
    /// Capture time after which a packet's fragments are dropped, in microseconds.
    pub timeout_micros: i64,
}

impl Default for FragLimits {
    fn default() -> Self {
        FragLimits {
            max_packets: 1024,
            max_bytes: 8 * 1024 * 1024,
            // Linux's ipfrag_time.
            timeout_micros: 30_000_000,
        }
    }
}

/// The largest reassembled payload (the IPv4/IPv6 length fields are 16 bits).
const MAX_PACKET: usize = 65_535;
/// Bookkeeping counted per fragment, on top of its bytes.
const PART_OVERHEAD: usize = 64;
/// Fragments held for one packet (8-byte fragments of a 64 KiB packet would be 8192).
const MAX_PARTS: usize = 2048;
/// How often (capture time) pending packets are checked for the timeout.
const PURGE_EVERY: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    pub proto: u8,
}

/// A warning from the pool (the decoder rate-limits them).
#[derive(Debug)]
pub(super) struct Note {
    pub frame: Option<u64>,
    pub kind: WarningKind,
    pub message: String,
}

#[derive(Debug)]
struct Entry {
    /// (offset, bytes), in arrival order.
    parts: Vec<(usize, Vec<u8>)>,
    /// The end of the packet, once the last fragment was seen.
    total: Option<usize>,
    frames: FrameList,
    cost: usize,
    seq: u64,
    first_ts: i64,
}

#[derive(Debug)]
pub(super) struct Pool {
    limits: FragLimits,
    map: HashMap<Key, Entry>,
    bytes: usize,
    seq: u64,
    last_purge: Option<i64>,
}

/// A reassembled payload and every frame that carried a piece of it.
pub(super) type Reassembled = (Vec<u8>, FrameList);

impl Pool {
    pub fn new(limits: FragLimits) -> Self {
        Pool {
            limits,
            map: HashMap::new(),
            bytes: 0,
            seq: 0,
            last_purge: None,
        }
    }

    /// Adds one fragment (`data` at byte `offset` of the packet's payload; `more` unless it is
    /// the last); returns the whole payload once complete.
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        &mut self,
        key: Key,
        offset: u32,
        more: bool,
        data: &[u8],
        frames: &[u64],
        ts: i64,
        notes: &mut Vec<Note>,
    ) -> Option<Reassembled> {
        let frame = frames.last().copied();
        self.purge(ts, notes);
        let offset = offset as usize;
        let end = offset + data.len();
        if end > MAX_PACKET {
            let mut msg = format!(
                "frame {}: {} fragment ends at byte {end}, beyond {MAX_PACKET}",
                frame.unwrap_or(0),
                describe(&key)
            );
            if let Some(e) = self.remove(&key) {
                let _ = write!(msg, "; its packet (frames {}) is dropped", list(&e.frames));
            }
            notes.push(Note {
                frame,
                kind: WarningKind::Malformed,
                message: msg,
            });
            return None;
        }
        let cost = data.len() + PART_OVERHEAD;
        if cost > self.limits.max_bytes {
            notes.push(Note {
                frame,
                kind: WarningKind::Limit,
                message: format!(
                    "frame {}: fragment larger than the reassembly limit",
                    frame.unwrap_or(0)
                ),
            });
            return None;
        }
        // Room: evict the oldest other packets.
        while self.bytes + cost > self.limits.max_bytes
            || (!self.map.contains_key(&key) && self.map.len() >= self.limits.max_packets)
        {
            let Some(oldest) = self
                .map
                .iter()
                .filter(|(k, _)| **k != key)
                .min_by_key(|(_, e)| e.seq)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(e) = self.remove(&oldest) {
                notes.push(Note {
                    frame: e.frames.first().copied(),
                    kind: WarningKind::Limit,
                    message: format!(
                        "{} dropped before completion (reassembly limit of {} packets or {} \
                         bytes): frames {}",
                        describe(&oldest),
                        self.limits.max_packets,
                        self.limits.max_bytes,
                        list(&e.frames)
                    ),
                });
            }
        }
        if self.bytes + cost > self.limits.max_bytes {
            // Only this packet is left and it alone is too large.
            if let Some(e) = self.remove(&key) {
                notes.push(Note {
                    frame: e.frames.first().copied(),
                    kind: WarningKind::Limit,
                    message: format!(
                        "{} larger than the reassembly limit: frames {} dropped",
                        describe(&key),
                        list(&e.frames)
                    ),
                });
            }
            return None;
        }
        let seq = self.seq;
        let entry = self.map.entry(key).or_insert_with(|| Entry {
            parts: Vec::new(),
            total: None,
            frames: FrameList::new(),
            cost: 0,
            seq,
            first_ts: ts,
        });
        self.seq += 1;
        if entry.parts.len() >= MAX_PARTS {
            let e = self.remove(&key)?;
            notes.push(Note {
                frame,
                kind: WarningKind::Malformed,
                message: format!(
                    "{} in more than {MAX_PARTS} fragments: frames {} dropped",
                    describe(&key),
                    list(&e.frames)
                ),
            });
            return None;
        }
        if !more {
            match entry.total {
                Some(t) if t != end => notes.push(Note {
                    frame,
                    kind: WarningKind::Malformed,
                    message: format!(
                        "frame {}: {} has two last fragments (ending at {t} and {end}); the first \
                         is kept",
                        frame.unwrap_or(0),
                        describe(&key)
                    ),
                }),
                Some(_) => {}
                None => entry.total = Some(end),
            }
        }
        entry.parts.push((offset, data.to_vec()));
        entry.frames.extend_from_slice(frames);
        entry.cost += cost;
        self.bytes += cost;
        let total = entry.total?;
        // Complete when the fragments cover 0..total.
        let mut order: Vec<usize> = (0..entry.parts.len()).collect();
        order.sort_by_key(|&i| entry.parts[i].0);
        let mut covered = 0;
        for &i in &order {
            let (off, ref bytes) = entry.parts[i];
            if off > covered {
                return None;
            }
            covered = covered.max(off + bytes.len());
        }
        if covered < total {
            return None;
        }
        let e = self.remove(&key)?;
        let mut buf = vec![0u8; total];
        // Arrival order: a later copy of an overlapping range wins.
        for (off, bytes) in &e.parts {
            if *off < total {
                let n = bytes.len().min(total - off);
                buf[*off..off + n].copy_from_slice(&bytes[..n]);
            }
        }
        let mut frames = e.frames;
        frames.sort_unstable();
        frames.dedup();
        Some((buf, frames))
    }

    fn remove(&mut self, key: &Key) -> Option<Entry> {
        let e = self.map.remove(key)?;
        self.bytes = self.bytes.saturating_sub(e.cost);
        Some(e)
    }

    /// Drops packets whose first fragment is older than the timeout.
    fn purge(&mut self, ts: i64, notes: &mut Vec<Note>) {
        match self.last_purge {
            Some(last) if ts >= last && ts - last < PURGE_EVERY => return,
            // Time went backwards (merged or spliced captures): only restart the clock.
            Some(last) if ts < last => {
                self.last_purge = Some(ts);
                return;
            }
            _ => {}
        }
        self.last_purge = Some(ts);
        let timeout = self.limits.timeout_micros;
        let mut old: Vec<(u64, Key)> = self
            .map
            .iter()
            .filter(|(_, e)| ts.saturating_sub(e.first_ts) > timeout)
            .map(|(k, e)| (e.seq, *k))
            .collect();
        old.sort_unstable_by_key(|(s, _)| *s);
        for (_, k) in old {
            if let Some(e) = self.remove(&k) {
                notes.push(incomplete(&k, &e, "timed out"));
            }
        }
    }

    /// Reports (and forgets) every packet still pending.
    pub fn drain(&mut self, notes: &mut Vec<Note>) {
        let mut all: Vec<(Key, Entry)> = self.map.drain().collect();
        self.bytes = 0;
        all.sort_unstable_by_key(|(_, e)| e.seq);
        for (k, e) in all {
            notes.push(incomplete(&k, &e, "never completed"));
        }
    }
}

fn incomplete(k: &Key, e: &Entry, why: &str) -> Note {
    let have: usize = e.parts.iter().map(|(_, b)| b.len()).sum();
    let total = e
        .total
        .map(|t| t.to_string())
        .unwrap_or_else(|| "?".to_string());
    Note {
        frame: e.frames.first().copied(),
        kind: WarningKind::IncompleteFragments,
        message: format!(
            "{} {why}: frames {} ({have} of {total} bytes)",
            describe(k),
            list(&e.frames)
        ),
    }
}

fn describe(k: &Key) -> String {
    let v = if k.src.is_ipv4() { "IPv4" } else { "IPv6" };
    format!(
        "{v} packet {} -> {} (id {:#x}, protocol {})",
        k.src, k.dst, k.id, k.proto
    )
}

/// Frame numbers, at most 20 of them.
fn list(frames: &[u64]) -> String {
    let mut s = String::new();
    for (i, f) in frames.iter().take(20).enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{f}");
    }
    if frames.len() > 20 {
        let _ = write!(s, " … ({} in all)", frames.len());
    }
    s
}
