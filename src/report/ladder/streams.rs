//! The RTP streams of a conversation's calls, as ladder rows ([`RowKind::Stream`]): which
//! streams ([`crate::media`] matched them to the calls by their SDP), between which lanes, and
//! where in the ladder (at their first packet's time).
//!
//! Owns: choosing and placing the stream rows and the one-line text every renderer shows.
//! Does not own: counting the streams (`crate::media`) or judging them (the media rules).

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::{Lane, Row, RowKind};
use crate::event::Timestamp;
use crate::media::{Direction, StreamSummary};
use crate::report::{Context, printable};

/// One RTP stream drawn on a ladder: its place, and the figures `sipflow media` gives.
#[derive(Debug, Clone, Serialize)]
pub struct StreamView {
    /// The stream is `inputs[input].media.streams[index]` (a finding's
    /// [`crate::rules::StreamRef`]).
    pub input: usize,
    pub index: usize,
    /// The lanes it goes from and to: the lane of its address, else (on one host, where the
    /// address names no lane) the caller's or the callee's lane by its direction; `None` when
    /// neither tells.
    pub from: Option<usize>,
    pub to: Option<usize>,
    pub src: String,
    pub dst: String,
    pub ssrc: String,
    /// The payload types' names (or numbers), `/`-joined: `PCMU`, `PCMU/telephone-event`.
    pub codec: String,
    /// `caller→callee`, `callee→caller`, or absent when the capture does not show the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    /// The last packet's time (the row's `ts` is the first's).
    pub last: Timestamp,
    pub packets: u64,
    pub lost: i64,
    pub expected: u64,
    pub max_delta_ms: f64,
    pub mean_jitter_ms: f64,
    pub max_jitter_ms: f64,
    pub mos: f64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub dtmf_digits: String,
    /// It reaches the SDP's address from an address no SDP of the call named (NAT latching).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub source_not_in_sdp: bool,
    /// What its line says: `RTP PCMU 150 pkts, 0 lost`.
    pub label: String,
    /// The rest of its figures, in words (see [`StreamView::details`]).
    pub details: String,
}

impl StreamView {
    fn label(&self) -> String {
        format!(
            "RTP {} {} pkts, {} lost",
            self.codec,
            self.packets,
            self.lost.max(0)
        )
    }

    /// The rest of its figures: `caller→callee, 10.77.5.1:48560 → 10.77.5.2:48540, SSRC …,
    /// loss 9.5%, max Δ 60.5 ms, jitter 0.7 ms (max 1.2), MOS 3.43, for 3.959s`.
    fn details(&self, first: Timestamp) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(d) = self.direction {
            parts.push(d.to_string());
        }
        parts.push(format!("{} → {}", self.src, self.dst));
        parts.push(format!("SSRC {}", self.ssrc));
        if self.lost > 0 && self.expected > 0 {
            parts.push(format!(
                "loss {:.1}%",
                self.lost as f64 * 100.0 / self.expected as f64
            ));
        }
        parts.push(format!(
            "max Δ {:.1} ms, jitter {:.1} ms (max {:.1}), MOS {:.2}",
            self.max_delta_ms, self.mean_jitter_ms, self.max_jitter_ms, self.mos
        ));
        if let Some(ms) = first.known_ms_until(self.last) {
            parts.push(format!("for {}", crate::report::fmt_ms(Some(ms))));
        }
        if !self.dtmf_digits.is_empty() {
            parts.push(format!("DTMF {}", self.dtmf_digits));
        }
        if self.source_not_in_sdp {
            parts.push("from an address the SDP did not name (NAT)".to_string());
        }
        parts.join(", ")
    }
}

/// A capture's time (µs since the epoch) as a row's timestamp.
fn capture_time(micros: i64) -> Timestamp {
    Timestamp {
        micros,
        dated: true,
        micro: true,
        unknown: false,
    }
}

/// The IP address of an `ip:port` or `[v6]:port` text, or of a bare address.
pub(crate) fn host(addr: &str) -> Option<IpAddr> {
    addr.parse::<SocketAddr>()
        .map(|a| a.ip())
        .or_else(|_| addr.parse::<IpAddr>())
        .ok()
}

/// The lane whose SIP address is on `ip`, when exactly one is.
fn lane_of_ip(lanes: &[Lane], ip: IpAddr) -> Option<usize> {
    let mut on = lanes.iter().enumerate().filter(|(_, l)| {
        std::iter::once(&l.addr)
            .chain(&l.endpoints)
            .any(|a| host(a) == Some(ip))
    });
    let (i, _) = on.next()?;
    on.next().is_none().then_some(i)
}

/// Inserts a row per stream of the calls (`(Call-ID, caller lane, callee lane)`) before the
/// first row later than its first packet. Each stream once, in the order of its first packet.
pub(super) fn add_rows(
    ctx: &Context<'_>,
    calls: &[(String, Option<(usize, usize)>)],
    lanes: &[Lane],
    rows: &mut Vec<Row>,
) {
    let mut views: Vec<(Timestamp, StreamView)> = Vec::new();
    let mut seen: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (input, info) in ctx.inputs.iter().enumerate() {
        let Some(media) = &info.media else { continue };
        for (index, s) in media.streams.iter().enumerate() {
            let Some((c, parties)) = s
                .calls
                .iter()
                .find_map(|c| Some((c, calls.iter().find(|k| k.0 == c.call_id)?.1)))
            else {
                continue;
            };
            if !seen.insert((input, index)) {
                continue;
            }
            let by_direction = |caller_end: bool| {
                let (caller, callee) = parties?;
                match (c.direction?, caller_end) {
                    (Direction::CallerToCallee, true) | (Direction::CalleeToCaller, false) => {
                        Some(caller)
                    }
                    _ => Some(callee),
                }
            };
            let first = capture_time(s.first_us);
            let mut view = StreamView {
                from: lane_of_ip(lanes, s.src.ip()).or_else(|| by_direction(true)),
                to: lane_of_ip(lanes, s.dst.ip()).or_else(|| by_direction(false)),
                ..view(input, index, s, c.direction, c.source_not_in_sdp)
            };
            view.label = view.label();
            view.details = view.details(first);
            views.push((first, view));
        }
    }
    views.sort_by_key(|(first, v)| (*first, v.input, v.index));
    for (first, view) in views.into_iter().rev() {
        let at = rows
            .iter()
            .position(|r| r.ts.is_known() && r.ts > first)
            .unwrap_or(rows.len());
        // Drawn after the row before it: no event of its own.
        let event = at.checked_sub(1).map_or(0, |p| rows[p].event);
        rows.insert(
            at,
            Row {
                event,
                ts: first,
                delta_ms: None,
                kind: RowKind::Stream(Box::new(view)),
            },
        );
    }
}

fn view(
    input: usize,
    index: usize,
    s: &StreamSummary,
    direction: Option<Direction>,
    source_not_in_sdp: bool,
) -> StreamView {
    let codec: Vec<String> = s
        .payloads
        .iter()
        .map(|p| {
            p.name
                .as_deref()
                .map_or_else(|| p.pt.to_string(), printable)
        })
        .collect();
    StreamView {
        input,
        index,
        from: None,
        to: None,
        src: s.src.to_string(),
        dst: s.dst.to_string(),
        ssrc: printable(&s.ssrc),
        codec: codec.join("/"),
        direction: direction.map(Direction::as_str),
        last: capture_time(s.last_us),
        packets: s.packets,
        lost: s.lost,
        expected: s.expected,
        max_delta_ms: s.max_delta_ms,
        mean_jitter_ms: s.mean_jitter_ms,
        max_jitter_ms: s.max_jitter_ms,
        mos: s.mos,
        dtmf_digits: printable(&s.dtmf_digits),
        source_not_in_sdp,
        label: String::new(),
        details: String::new(),
    }
}
