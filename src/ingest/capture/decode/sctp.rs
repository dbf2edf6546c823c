//! Reassembly of SCTP user messages split over several DATA chunks (B … E flags).
//!
//! The fragments of one message have consecutive TSNs on one stream of one association
//! (RFC 9260, 6.9), so fragments are kept per (source, destination, stream) by TSN, and a
//! message completes when a B chunk, an E chunk and every TSN between them are present.
//! Duplicates (retransmissions) are ignored. Memory is bounded ([`MAX_BYTES`], [`MAX_FLOWS`],
//! [`MAX_CHUNKS`]); what is dropped or never completes is reported.

use crate::event::FrameList;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use super::super::WarningKind;
use super::frag::Note;

/// Bytes held in pending fragments, over all streams.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Streams with pending fragments.
pub const MAX_FLOWS: usize = 1024;
/// Pending fragments per stream.
pub const MAX_CHUNKS: usize = 1024;
/// The largest reassembled message.
pub const MAX_MESSAGE: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub stream: u16,
}

#[derive(Debug)]
struct Chunk {
    begin: bool,
    end: bool,
    data: Vec<u8>,
    frames: FrameList,
}

#[derive(Debug, Default)]
struct Flow {
    chunks: BTreeMap<u32, Chunk>,
    bytes: usize,
    seq: u64,
}

#[derive(Debug, Default)]
pub(super) struct Pool {
    flows: HashMap<Key, Flow>,
    bytes: usize,
    seq: u64,
}

/// A reassembled message and the frames that carried it.
pub(super) type Message = (Vec<u8>, Vec<u64>);

impl Pool {
    /// Adds one fragment (flags: `begin` = B, `end` = E); returns the message it completes.
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        &mut self,
        key: Key,
        tsn: u32,
        begin: bool,
        end: bool,
        data: &[u8],
        frames: &[u64],
        notes: &mut Vec<Note>,
    ) -> Option<Message> {
        let frame = frames.last().copied();
        // Room: drop the stalest other streams.
        while self.bytes + data.len() > MAX_BYTES
            || (!self.flows.contains_key(&key) && self.flows.len() >= MAX_FLOWS)
        {
            let Some(oldest) = self
                .flows
                .iter()
                .filter(|(k, _)| **k != key)
                .min_by_key(|(_, f)| f.seq)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(f) = self.remove(&oldest) {
                notes.push(dropped(
                    &oldest,
                    &f,
                    "dropped (SCTP reassembly limit)",
                    WarningKind::Limit,
                ));
            }
        }
        let seq = self.seq;
        self.seq += 1;
        let flow = self.flows.entry(key).or_default();
        flow.seq = seq;
        if flow.chunks.contains_key(&tsn) {
            return None;
        }
        if flow.chunks.len() >= MAX_CHUNKS || flow.bytes + data.len() > MAX_MESSAGE {
            let f = self.remove(&key)?;
            notes.push(Note {
                frame,
                ..dropped(&key, &f, "dropped (message too large)", WarningKind::Limit)
            });
            return None;
        }
        flow.chunks.insert(
            tsn,
            Chunk {
                begin,
                end,
                data: data.to_vec(),
                frames: FrameList::from_slice(frames),
            },
        );
        flow.bytes += data.len();
        self.bytes += data.len();
        // The message around `tsn`: back to a B, forward to an E, with no gap.
        let mut first = tsn;
        let mut n = 1usize;
        while !flow.chunks.get(&first)?.begin {
            first = first.wrapping_sub(1);
            n += 1;
            if n > MAX_CHUNKS {
                return None;
            }
        }
        let mut last = tsn;
        while !flow.chunks.get(&last)?.end {
            last = last.wrapping_add(1);
            n += 1;
            if n > MAX_CHUNKS {
                return None;
            }
        }
        let mut msg = Vec::new();
        let mut all_frames = Vec::new();
        let mut t = first;
        loop {
            let c = flow.chunks.remove(&t)?;
            flow.bytes -= c.data.len();
            self.bytes -= c.data.len();
            msg.extend_from_slice(&c.data);
            all_frames.extend(c.frames);
            if t == last {
                break;
            }
            t = t.wrapping_add(1);
        }
        if flow.chunks.is_empty() {
            self.flows.remove(&key);
        }
        all_frames.sort_unstable();
        all_frames.dedup();
        Some((msg, all_frames))
    }

    fn remove(&mut self, key: &Key) -> Option<Flow> {
        let f = self.flows.remove(key)?;
        self.bytes = self.bytes.saturating_sub(f.bytes);
        Some(f)
    }

    /// Reports (and forgets) every message still incomplete.
    pub fn drain(&mut self, notes: &mut Vec<Note>) {
        let mut all: Vec<(Key, Flow)> = self.flows.drain().collect();
        self.bytes = 0;
        all.sort_unstable_by_key(|(_, f)| f.seq);
        for (k, f) in all {
            notes.push(dropped(
                &k,
                &f,
                "never completed",
                WarningKind::IncompleteFragments,
            ));
        }
    }
}

fn dropped(k: &Key, f: &Flow, why: &str, kind: WarningKind) -> Note {
    let mut frames: FrameList = f
        .chunks
        .values()
        .flat_map(|c| c.frames.iter().copied())
        .collect();
    frames.sort_unstable();
    frames.dedup();
    let shown: Vec<String> = frames.iter().take(20).map(u64::to_string).collect();
    Note {
        frame: frames.first().copied(),
        kind,
        message: format!(
            "SCTP message fragments {} -> {} (stream {}) {why}: frames {}{}",
            k.src,
            k.dst,
            k.stream,
            shown.join(", "),
            if frames.len() > 20 { " …" } else { "" }
        ),
    }
}
