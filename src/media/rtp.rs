//! One RTP stream's counters: sequence accounting (RFC 3550 A.1/A.3), interarrival jitter
//! (RFC 3550 A.8) and arrival deltas, updated in place per packet without allocation.

/// The fixed RTP header fields sipflow reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub marker: bool,
    pub pt: u8,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    /// Bytes after the header (and before any padding).
    pub payload_len: usize,
    /// Offset of the payload in the datagram.
    pub payload_at: usize,
}

/// Parses an RTP header when `b` plausibly is RTP: version 2, a static (0–34) or dynamic
/// (96–127) payload type (so never RTCP's 200–204, nor SIP, STUN or DNS text), CSRCs, header
/// extension and padding inside the datagram.
pub fn parse(b: &[u8]) -> Option<Header> {
    let (&b0, &b1) = (b.first()?, b.get(1)?);
    if b0 >> 6 != 2 || b.len() < 12 {
        return None;
    }
    let pt = b1 & 0x7f;
    if !(pt <= 34 || pt >= 96) {
        return None;
    }
    let mut at = 12 + 4 * usize::from(b0 & 0x0f);
    if b0 & 0x10 != 0 {
        let words = u16::from_be_bytes([*b.get(at + 2)?, *b.get(at + 3)?]);
        at += 4 + 4 * usize::from(words);
    }
    let mut end = b.len();
    if b0 & 0x20 != 0 {
        let pad = usize::from(*b.last()?);
        if pad == 0 {
            return None;
        }
        end = end.checked_sub(pad)?;
    }
    if at > end {
        return None;
    }
    Some(Header {
        marker: b1 & 0x80 != 0,
        pt,
        seq: u16::from_be_bytes([b[2], b[3]]),
        ts: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        ssrc: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        payload_len: end - at,
        payload_at: at,
    })
}

/// A jump of the sequence number beyond this (forward) starts the count again (RFC 3550 A.1's
/// MAX_DROPOUT).
const MAX_DROPOUT: u16 = 3000;
/// A sequence number at most this far behind the highest is a late packet (MAX_MISORDER).
const MAX_MISORDER: u16 = 100;

/// The counters of one stream.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub packets: u64,
    /// RTP payload bytes (headers excluded).
    pub bytes: u64,
    pub first_us: i64,
    pub last_us: i64,
    /// Packets that repeat one of the last 64 sequence numbers.
    pub duplicates: u64,
    /// Packets that arrived after a higher sequence number (late, not duplicates).
    pub out_of_order: u64,
    /// Sequence restarts (a jump of more than 3000).
    pub restarts: u64,
    /// Highest sequence number, its wrap-arounds, and the first one (of the current run).
    max_seq: u16,
    cycles: u64,
    base_seq: u64,
    /// Packets expected by the runs before a restart.
    expected_before: u64,
    /// Bit i: sequence number `max_seq - i` was received.
    window: u64,
    /// The previous packet: arrival (µs) and RTP timestamp, for jitter and delta.
    prev_arrival_us: i64,
    prev_ts: u32,
    /// The previous packet was comfort noise.
    prev_cn: bool,
    /// RFC 3550 A.8 jitter, in seconds.
    jitter: f64,
    pub max_jitter_s: f64,
    mean_jitter: f64,
    /// Longest gap between consecutive packets, in µs.
    pub max_delta_us: i64,
}

impl Stats {
    /// Counts one packet that arrived at `arrival_us` (µs), with the clock rate of its payload
    /// type (`None`: unknown, a dynamic type without rtpmap; such a packet is counted but not
    /// timed, as tshark does); `comfort_noise`: its payload type is CN.
    ///
    /// Jitter and the arrival delta follow every packet in arrival order (RFC 3550 A.8 and
    /// tshark); their statistics (max delta, max and mean jitter) leave out, as tshark does, the
    /// first packet, a marked packet (a talkspurt after silence suppression: its gap is no
    /// network delay), comfort noise and the packet after it, a timestamp that goes back.
    pub fn push(
        &mut self,
        h: &Header,
        arrival_us: i64,
        clock_rate: Option<u32>,
        comfort_noise: bool,
    ) {
        let first = self.packets == 0;
        self.packets += 1;
        self.bytes += h.payload_len as u64;
        let after_cn = std::mem::replace(&mut self.prev_cn, comfort_noise);
        if first {
            self.first_us = arrival_us;
            self.last_us = arrival_us;
            self.max_seq = h.seq;
            self.base_seq = u64::from(h.seq);
            self.window = 1;
            self.prev_arrival_us = arrival_us;
            self.prev_ts = h.ts;
            return;
        }
        self.last_us = self.last_us.max(arrival_us);
        self.count_sequence(h.seq);
        // RFC 3550 A.8: D(i,j) = (Rj - Ri) - (Sj - Si), in seconds here; J += (|D| - J) / 16.
        let delta = arrival_us - self.prev_arrival_us;
        let ts_delta = h.ts.wrapping_sub(self.prev_ts) as i32;
        let Some(clock_rate) = clock_rate else {
            self.prev_arrival_us = arrival_us;
            self.prev_ts = h.ts;
            return;
        };
        let transit = delta as f64 / 1e6 - f64::from(ts_delta) / f64::from(clock_rate.max(1));
        self.jitter += (transit.abs() - self.jitter) / 16.0;
        self.prev_arrival_us = arrival_us;
        self.prev_ts = h.ts;
        // A timestamp that goes back is no sampling clock to time against (tshark's "wrong
        // timestamp").
        if h.marker || comfort_noise || after_cn || ts_delta < 0 {
            return;
        }
        self.max_delta_us = self.max_delta_us.max(delta);
        self.max_jitter_s = self.max_jitter_s.max(self.jitter);
        // tshark's running mean: the packets left out above still count in its weights.
        let n = (self.packets - 2) as f64;
        self.mean_jitter = (self.mean_jitter * n + self.jitter) / (n + 1.0);
    }

    /// Sequence accounting (RFC 3550 A.1): wrap-around, duplicates within the last 64 numbers,
    /// late packets, restarts.
    fn count_sequence(&mut self, seq: u16) {
        let ahead = seq.wrapping_sub(self.max_seq);
        if ahead == 0 {
            self.duplicates += 1;
        } else if ahead < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.window = if ahead >= 64 {
                1
            } else {
                (self.window << ahead) | 1
            };
            self.max_seq = seq;
        } else if ahead > u16::MAX - MAX_MISORDER {
            let behind = u32::from(self.max_seq.wrapping_sub(seq));
            let bit = if behind < 64 { 1u64 << behind } else { 0 };
            if self.window & bit != 0 {
                self.duplicates += 1;
            } else {
                self.window |= bit;
                self.out_of_order += 1;
            }
        } else {
            // The sender restarted its sequence (or another source took the SSRC): the run
            // so far is closed, a new one begins.
            self.restarts += 1;
            self.expected_before += self.extended_max() + 1 - self.base_seq;
            self.cycles = 0;
            self.max_seq = seq;
            self.base_seq = u64::from(seq);
            self.window = 1;
        }
    }

    fn extended_max(&self) -> u64 {
        self.cycles + u64::from(self.max_seq)
    }

    /// Packets the sequence numbers say were sent: highest − first + 1, over every run.
    pub fn expected(&self) -> u64 {
        if self.packets == 0 {
            return 0;
        }
        self.expected_before + self.extended_max() + 1 - self.base_seq
    }

    /// Expected − received, as RFC 3550 A.3 and tshark count it (duplicates make it smaller,
    /// even negative).
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - self.packets as i64
    }

    /// The last jitter value (seconds).
    pub fn jitter_s(&self) -> f64 {
        self.jitter
    }

    /// The mean jitter (seconds), as tshark computes it: a running mean over the packets whose
    /// jitter counts, weighted as if every packet since the second had counted (so a stream with
    /// comfort noise or marked packets shows a little less than the plain mean).
    pub fn mean_jitter_s(&self) -> f64 {
        self.mean_jitter
    }

    /// The highest sequence number seen (for continuity checks).
    pub fn max_seq(&self) -> u16 {
        self.max_seq
    }
}

/// The RTP clock rate of a static payload type (RFC 3551), if it has one.
pub fn static_clock_rate(pt: u8) -> Option<u32> {
    Some(match pt {
        0..=5 | 7..=9 | 12 | 13 | 15 | 18 => 8000,
        6 => 16000,
        10 | 11 => 44100,
        16 => 11025,
        17 => 22050,
        14 | 25 | 26 | 28 | 31..=34 => 90000,
        _ => return None,
    })
}

/// The encoding name of a static payload type (RFC 3551).
pub fn static_name(pt: u8) -> Option<&'static str> {
    Some(match pt {
        0 => "PCMU",
        3 => "GSM",
        4 => "G723",
        5 | 6 | 16 | 17 => "DVI4",
        7 => "LPC",
        8 => "PCMA",
        9 => "G722",
        10 | 11 => "L16",
        12 => "QCELP",
        13 => "CN",
        14 => "MPA",
        15 => "G728",
        18 => "G729",
        25 => "CelB",
        26 => "JPEG",
        28 => "nv",
        31 => "H261",
        32 => "MPV",
        33 => "MP2T",
        34 => "H263",
        _ => return None,
    })
}
