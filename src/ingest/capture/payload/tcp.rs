//! TCP stream reassembly, one direction of one connection at a time.
//!
//! Owns: sequence numbers (32-bit, wrapping) mapped to 64-bit stream offsets, out-of-order
//! segments held until the gap before them fills, retransmissions trimmed away, SYN/FIN/RST,
//! gaps declared when the missing bytes will not come (too many segments or bytes held, a
//! snapped segment, the end of the stream), and [`StreamBuf`]: the in-order bytes with the
//! frames that carried each range. Does not own: what the bytes mean (see `framer`).

use std::collections::{BTreeMap, VecDeque};

use super::Cx;
use super::framer::Framer;
use crate::event::{FrameList, Timestamp};

/// Where a segment came from.
#[derive(Debug, Clone)]
pub(super) struct SegMeta {
    pub frames: FrameList,
    pub ts: Timestamp,
    /// Position of the segment in capture order (a counter, as timestamps may go backwards).
    pub arrival: u64,
    /// The snaplen cut the segment: bytes after it are missing.
    pub snapped: bool,
}

#[derive(Debug)]
struct SegInfo {
    start: u64,
    end: u64,
    frames: FrameList,
    ts: Timestamp,
    arrival: u64,
}

/// The frames and time of a byte range.
#[derive(Debug, Clone, Default)]
pub(super) struct Attribution {
    pub frames: FrameList,
    pub ts: Timestamp,
    pub arrival: u64,
}

impl Attribution {
    /// Adds another range's attribution (frames merged, the later arrival's time kept).
    pub fn merge(&mut self, other: Attribution) {
        self.frames.extend(other.frames);
        self.frames.sort_unstable();
        self.frames.dedup();
        if other.arrival >= self.arrival {
            self.arrival = other.arrival;
            self.ts = other.ts;
        }
    }
}

/// In-order stream bytes not consumed yet, addressed by 64-bit stream offset.
#[derive(Debug, Default)]
pub(super) struct StreamBuf {
    data: Vec<u8>,
    head: usize,
    /// The stream offset of `data[0]`.
    base: u64,
    segs: VecDeque<SegInfo>,
}

/// Consumed bytes are dropped from the front of the buffer once they are this many and at
/// least half of it (amortised linear).
const COMPACT_MIN: usize = 64 * 1024;

/// Buffer capacity kept for reuse once the buffer is empty; larger buffers are released.
const RETAINED_CAPACITY: usize = 256 * 1024;
const RETAINED_SEGMENTS: usize = 1024;

impl StreamBuf {
    pub fn reset_at(&mut self, offset: u64) {
        self.data.clear();
        self.head = 0;
        self.base = offset;
        self.segs.clear();
    }

    pub fn head_offset(&self) -> u64 {
        self.base + self.head as u64
    }

    pub fn avail(&self) -> &[u8] {
        self.data.get(self.head..).unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        self.data.len().saturating_sub(self.head)
    }

    /// Segments (ranges with their frames) held.
    pub fn segments(&self) -> usize {
        self.segs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes between two stream offsets (clamped to what is buffered).
    pub fn slice(&self, start: u64, end: u64) -> &[u8] {
        let s = start.saturating_sub(self.base).min(self.data.len() as u64) as usize;
        let e = end.saturating_sub(self.base).min(self.data.len() as u64) as usize;
        self.data.get(s..e.max(s)).unwrap_or(&[])
    }

    pub fn append(&mut self, bytes: &[u8], meta: &SegMeta) {
        if bytes.is_empty() {
            return;
        }
        let start = self.base + self.data.len() as u64;
        self.segs.push_back(SegInfo {
            start,
            end: start + bytes.len() as u64,
            frames: meta.frames.clone(),
            ts: meta.ts,
            arrival: meta.arrival,
        });
        self.data.extend_from_slice(bytes);
    }

    pub fn consume(&mut self, n: usize) {
        self.head = self.head.saturating_add(n).min(self.data.len());
        let h = self.head_offset();
        while self.segs.front().is_some_and(|s| s.end <= h) {
            self.segs.pop_front();
        }
        if self.head == self.data.len() {
            self.base += self.head as u64;
            self.head = 0;
            if self.data.capacity() > RETAINED_CAPACITY {
                self.data = Vec::new();
            } else {
                self.data.clear();
            }
            if self.segs.capacity() > RETAINED_SEGMENTS {
                self.segs = VecDeque::new();
            }
        } else if self.head >= COMPACT_MIN && self.head * 2 >= self.data.len() {
            self.data.drain(..self.head);
            self.base += self.head as u64;
            self.head = 0;
        }
    }

    pub fn consume_all(&mut self) {
        self.consume(self.len());
    }

    /// The frames that carried bytes `start..end`, and the time of the one that arrived last.
    pub fn attribution(&self, start: u64, end: u64) -> Attribution {
        let mut a = Attribution::default();
        let mut first = true;
        for s in self
            .segs
            .iter()
            .take_while(|s| s.start < end)
            .filter(|s| s.end > start)
        {
            a.frames.extend_from_slice(&s.frames);
            if first || s.arrival >= a.arrival {
                a.arrival = s.arrival;
                a.ts = s.ts;
                first = false;
            }
        }
        a.frames.sort_unstable();
        a.frames.dedup();
        a
    }
}

/// A segment as the stream takes it.
#[derive(Debug)]
pub(super) struct Segment {
    pub seq: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub data: Vec<u8>,
    pub meta: SegMeta,
}

#[derive(Debug)]
struct Pending {
    data: Vec<u8>,
    meta: SegMeta,
}

/// A closed stream ignores segments whose sequence number is this close to where it ended
/// (retransmissions after FIN/RST); farther ones start a new stream.
const CLOSED_WINDOW: i64 = 1 << 24;

/// One direction of a TCP connection.
#[derive(Debug)]
pub(super) struct Stream {
    /// Creation order, for deterministic flushing.
    pub id: u64,
    /// Arrival counter of the last segment seen.
    pub last_seen: u64,
    /// Sequence number of stream offset 0; `None` until the first SYN or data segment.
    isn: Option<u32>,
    /// The stream offset of the next byte expected.
    next: u64,
    pending: BTreeMap<u64, Pending>,
    pending_bytes: usize,
    /// Bytes after `next` are known to be missing (the last in-order segment was snapped).
    gap_known: bool,
    /// The stream offset the FIN occupies, once seen.
    fin_at: Option<u64>,
    /// The sequence number where a closed stream ended.
    closed: Option<u32>,
    buf: StreamBuf,
    framer: Framer,
}

impl Stream {
    pub fn new(id: u64) -> Self {
        Stream {
            id,
            last_seen: 0,
            isn: None,
            next: 0,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            gap_known: false,
            fin_at: None,
            closed: None,
            buf: StreamBuf::default(),
            framer: Framer::new(false),
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// Bytes held for this stream (in-order, out-of-order and in the framer).
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.buf.len() + self.pending_bytes + self.framer.buffered()
    }

    fn reset(&mut self, known_start: bool) {
        self.isn = None;
        self.next = 0;
        self.pending.clear();
        self.pending_bytes = 0;
        self.gap_known = false;
        self.fin_at = None;
        self.closed = None;
        self.buf.reset_at(0);
        self.framer = Framer::new(known_start);
    }

    fn seq_of(&self, offset: u64) -> u32 {
        self.isn.unwrap_or(0).wrapping_add(offset as u32)
    }

    /// The stream offset of `seq`, relative to the next expected byte (may be negative: before
    /// the stream start).
    fn offset_of(&self, seq: u32) -> i64 {
        let delta = seq.wrapping_sub(self.seq_of(self.next)) as i32;
        self.next as i64 + i64::from(delta)
    }

    fn started(&self) -> bool {
        self.next > 0 || !self.pending.is_empty() || !self.buf.is_empty()
    }

    pub fn push(&mut self, seg: Segment, cx: &mut Cx<'_>) {
        self.last_seen = seg.meta.arrival;
        if let Some(c) = self.closed {
            let delta = i64::from(seg.seq.wrapping_sub(c) as i32);
            if seg.syn {
                if self.isn == Some(seg.seq.wrapping_add(1)) {
                    return;
                }
                self.reset(true);
            } else if delta.abs() < CLOSED_WINDOW {
                return;
            } else {
                self.reset(false);
            }
        }
        let mut data_seq = seg.seq;
        if seg.syn {
            let isn = seg.seq.wrapping_add(1);
            if self.isn != Some(isn) {
                if self.started() {
                    // A new connection on the same addresses.
                    self.end(cx);
                }
                self.reset(true);
                self.isn = Some(isn);
            }
            data_seq = isn;
        }
        if self.isn.is_none() {
            if seg.data.is_empty() {
                return;
            }
            self.isn = Some(data_seq);
        }
        let offset = self.offset_of(data_seq);
        let end = offset + seg.data.len() as i64;
        if !seg.data.is_empty() {
            self.take_data(offset, seg.data, seg.meta, cx);
        }
        if seg.fin && end >= 0 {
            let f = end as u64;
            self.fin_at = Some(self.fin_at.map_or(f, |g| g.min(f)));
        }
        if seg.rst || self.fin_at.is_some_and(|f| self.next >= f) {
            self.end(cx);
        }
    }

    fn take_data(&mut self, offset: i64, mut data: Vec<u8>, meta: SegMeta, cx: &mut Cx<'_>) {
        let len = data.len() as i64;
        let next = self.next as i64;
        if offset + len <= next {
            // A retransmission of bytes already taken (or from before the stream start).
            return;
        }
        if self.framer.is_ignoring() {
            // Content does not matter any more: only follow the sequence numbers.
            self.next = (offset + len) as u64;
            return;
        }
        if offset <= next {
            data.drain(..(next - offset) as usize);
            self.append_in_order(&data, &meta, cx);
            self.drain_pending(cx);
        } else {
            let key = offset as u64;
            let keep = self
                .pending
                .get(&key)
                .is_none_or(|p| p.data.len() < data.len());
            if keep {
                if let Some(old) = self.pending.insert(key, Pending { data, meta }) {
                    self.pending_bytes -= old.data.len();
                }
                self.pending_bytes += len as usize;
            }
        }
        while !self.pending.is_empty()
            && (self.gap_known
                || self.pending.len() > cx.limits.max_out_of_order
                || self.pending_bytes > cx.limits.max_flow_bytes)
        {
            self.declare_gap(cx);
        }
    }

    fn append_in_order(&mut self, data: &[u8], meta: &SegMeta, cx: &mut Cx<'_>) {
        if data.is_empty() {
            return;
        }
        self.next += data.len() as u64;
        self.buf.append(data, meta);
        self.framer.process(&mut self.buf, cx);
        if self.framer.is_ignoring() {
            self.buf.consume_all();
            self.pending.clear();
            self.pending_bytes = 0;
        }
        self.gap_known = meta.snapped;
    }

    fn drain_pending(&mut self, cx: &mut Cx<'_>) {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > self.next {
                break;
            }
            let (offset, mut p) = entry.remove_entry();
            self.pending_bytes -= p.data.len();
            let end = offset + p.data.len() as u64;
            if end <= self.next {
                continue;
            }
            p.data.drain(..(self.next - offset) as usize);
            self.append_in_order(&p.data, &p.meta, cx);
        }
    }

    /// Gives up on the bytes missing before the first held segment: what is buffered is
    /// flushed, and framing resumes at that segment.
    fn declare_gap(&mut self, cx: &mut Cx<'_>) {
        let Some((&offset, _)) = self.pending.first_key_value() else {
            return;
        };
        let missing = offset.saturating_sub(self.next);
        let seq = self.seq_of(self.next);
        self.framer.gap(&mut self.buf, cx, missing, seq);
        self.buf.reset_at(offset);
        self.next = offset;
        self.gap_known = false;
        self.drain_pending(cx);
    }

    /// The end of the stream (FIN, RST, the end of the capture, eviction): held segments are
    /// taken across their gaps, then what is buffered is flushed.
    pub fn end(&mut self, cx: &mut Cx<'_>) {
        while !self.pending.is_empty() {
            self.declare_gap(cx);
        }
        self.framer.end(&mut self.buf, cx);
        // A closed stream holds nothing (it may stay in the table a long time).
        self.buf = StreamBuf::default();
        self.buf.reset_at(self.next);
        self.pending = BTreeMap::new();
        self.closed = Some(self.seq_of(self.next));
    }
}
