//! Ladder diagrams: what a conversation (a call with its B2BUA legs, or a non-call flow)
//! looks like as lanes and rows, and its renderings.
//!
//! Owns: choosing what a ladder draws ([`Conversation`]) and laying it out ([`Layout`]): one
//! lane per host, or per SIP service of a host that runs several ([`endpoints::group`]), named
//! after the side (the pjsip log that was written there, else what the host says it is in what
//! it sent itself, see [`own_agents`]), one row per wire message or log event in time order,
//! with the `ip:port`s each message went between, deltas, retransmissions, cut records and
//! malformed messages marked, and log lines as notes on the lifeline of the side that logged them. Every renderer draws the same layout: the
//! terminal ladder ([`ascii`]), Mermaid and PlantUML ([`sequence`]), and the HTML report's SVG.
//! Does not own: pixel geometry (the HTML report's script), or findings.
//!
//! All text in a layout has gone through [`printable`]: no control characters.

pub mod ascii;
pub mod sequence;
pub mod streams;

use std::collections::BTreeMap;

use serde::Serialize;

use super::calls::status_text;
use super::endpoints::{self, Hop};
use super::{Context, fmt_ms, printable};
use crate::dialog::{Call, Flow, Model, Owner};
use crate::event::{Direction, Event, Timestamp};

pub use ascii::write_ladder;
pub use streams::StreamView;

/// What a ladder draws: a call (with all its B2BUA legs) or a non-call flow.
pub struct Conversation {
    pub title: String,
    pub summary: Vec<String>,
    /// Wire message indexes, in time order.
    pub messages: Vec<usize>,
    /// Log event indexes, in time order.
    pub log_events: Vec<usize>,
    /// The Call-IDs of its legs with the wire message each starts with (its caller sent it):
    /// the media streams these calls' SDP named are drawn too. Empty for a flow.
    pub calls: Vec<(String, Option<usize>)>,
}

/// Whether log event `e` is pjsip's line for a retransmission whose dump the diagram draws
/// (the same input sends the same CSeq within a few milliseconds): the arrow already says it.
fn retransmission_drawn(ctx: &Context<'_>, e: usize, messages: &[usize]) -> bool {
    let model = ctx.model;
    let Some(crate::event::Event::Log(l)) = model.events.get(e) else {
        return false;
    };
    let crate::event::LogKind::Retransmit { cseq, .. } = &l.kind else {
        return false;
    };
    messages.iter().any(|&w| {
        model.messages[w]
            .sightings
            .iter()
            .any(|&s| match &model.events[s] {
                crate::event::Event::Message(m) => {
                    m.origin.input == l.origin.input
                        && m.direction == Some(crate::event::Direction::Tx)
                        && (0..=5).contains(&l.ts.ms_until(m.ts))
                        && m.parsed()
                            .and_then(|p| p.cseq())
                            .is_some_and(|c| c.seq == *cseq)
                }
                crate::event::Event::Log(_) => false,
            })
    })
}

impl Conversation {
    /// A call and every leg linked to it, in one diagram.
    pub fn of_call(ctx: &Context<'_>, c: &Call) -> Self {
        let model = ctx.model;
        let mut legs: Vec<&Call> = std::iter::once(c)
            .chain(
                c.linked
                    .iter()
                    .filter_map(|&i| model.calls.iter().find(|o| o.index == i)),
            )
            .collect();
        legs.sort_by_key(|l| l.index);
        let mut messages: Vec<usize> = legs
            .iter()
            .flat_map(|l| l.messages.iter().copied())
            .collect();
        let mut log_events: Vec<usize> = legs
            .iter()
            .flat_map(|l| l.log_events.iter().copied())
            .collect();
        messages.sort_unstable();
        messages.dedup();
        log_events.sort_unstable();
        log_events.dedup();
        log_events.retain(|&e| !retransmission_drawn(ctx, e, &messages));
        let title = match legs.as_slice() {
            [one] => format!("Call {}: {}", one.index, printable(&one.call_id)),
            _ => {
                let idx: Vec<String> = legs.iter().map(|l| l.index.to_string()).collect();
                format!("Call {} (B2BUA legs {})", legs[0].index, idx.join("+"))
            }
        };
        let mut summary: Vec<String> = legs
            .iter()
            .map(|l| {
                let leg = if legs.len() > 1 {
                    format!("leg {}: {}  ", l.index, printable(&l.call_id))
                } else {
                    String::new()
                };
                format!(
                    "{leg}{} → {}  {} {}  setup {}  duration {}",
                    printable(l.from.as_deref().unwrap_or("?")),
                    printable(l.to.as_deref().unwrap_or("?")),
                    l.outcome.as_str(),
                    status_text(l.final_status, l.final_reason.as_deref()),
                    fmt_ms(l.setup_ms),
                    fmt_ms(l.duration_ms)
                )
            })
            .collect();
        // What each final status means: once per code, and once per leg whose status a
        // finding diagnosed.
        let mut explained: Vec<(u16, String)> = legs
            .iter()
            .filter_map(|l| {
                let code = l.final_status?;
                let ci = model.calls.iter().position(|x| x.index == l.index)?;
                Some((code, ctx.status_meaning(Owner::Call(ci), code).line()))
            })
            .collect();
        explained.sort();
        explained.dedup();
        summary.extend(explained.into_iter().map(|(_, line)| line));
        Conversation {
            title,
            summary,
            messages,
            log_events,
            calls: legs
                .iter()
                .map(|l| (l.call_id.clone(), l.messages.first().copied()))
                .collect(),
        }
    }

    pub fn of_flow(f: &Flow) -> Self {
        Conversation {
            title: format!(
                "Flow F{}: {} {}",
                f.index,
                printable(&f.method),
                printable(&f.call_id)
            ),
            summary: vec![format!(
                "{} → {}  {}",
                printable(f.from.as_deref().unwrap_or("?")),
                printable(f.to.as_deref().unwrap_or("?")),
                status_text(f.final_status, f.final_reason.as_deref())
            )],
            messages: f.messages.clone(),
            log_events: f.log_events.clone(),
            calls: Vec::new(),
        }
    }
}

/// A request's sender originated it when it carries one Via and a Max-Forwards of 70 or more
/// (RFC 3261 §8.1.1.6: a UAC starts at 70). A request with more Vias was forwarded by a proxy;
/// one whose Max-Forwards is lower has come through hops already: a B2BUA that keeps the
/// Max-Forwards of the request it relays may keep its User-Agent too (iptel.org's SBC relays
/// MicroSIP's INVITE with `Max-Forwards: 3` and `User-Agent: MicroSIP/3.18.5`).
const ORIGINAL_MAX_FORWARDS: u32 = 70;

/// What each lane says it is (by lane), from what that host sent itself, first seen first:
/// the User-Agent of a request it originated (see [`ORIGINAL_MAX_FORWARDS`]), the Server (or
/// User-Agent) of a response it generated. A response the host forwarded is not its own: the
/// trace shows it receiving the same response (same Call-ID, CSeq and status) with one Via
/// more, its own, which it removed. A host that only relays gets no name from what it relays.
fn own_agents(
    model: &Model,
    wires: &[usize],
    ends: &[(String, String)],
    lane: &dyn Fn(&str) -> usize,
) -> BTreeMap<usize, String> {
    struct Sent<'a> {
        msg: &'a crate::sip::SipMessage,
        from: usize,
        to: usize,
        vias: usize,
    }
    let sent: Vec<Sent<'_>> = wires
        .iter()
        .zip(ends)
        .filter_map(|(&w, (src, dst))| {
            let msg = model.message(w).parsed()?;
            Some(Sent {
                msg,
                from: lane(src),
                to: lane(dst),
                vias: msg.vias().len(),
            })
        })
        .collect();
    // Each response as received: (receiving lane, Via count, status, Call-ID, CSeq).
    let response = |s: &Sent<'_>, lane: usize, vias: usize| {
        let cseq = s.msg.cseq().map(|c| (c.seq, c.method.clone()));
        (
            lane,
            vias,
            s.msg.status(),
            s.msg.call_id().map(|c| c.into_owned()),
            cseq,
        )
    };
    let received: std::collections::HashSet<_> = sent
        .iter()
        .filter(|s| !s.msg.is_request())
        .map(|s| response(s, s.to, s.vias))
        .collect();
    let mut agents = BTreeMap::new();
    for s in &sent {
        let agent = if s.msg.is_request() {
            let original = s.vias == 1
                && s.msg
                    .max_forwards()
                    .is_none_or(|n| n >= ORIGINAL_MAX_FORWARDS);
            original.then(|| s.msg.user_agent()).flatten()
        } else {
            let forwarded = received.contains(&response(s, s.from, s.vias + 1));
            (!forwarded)
                .then(|| s.msg.server().or_else(|| s.msg.user_agent()))
                .flatten()
        };
        if let Some(agent) = agent {
            agents.entry(s.from).or_insert_with(|| printable(&agent));
        }
    }
    agents
}

/// One lane: a host, or one SIP service of a host that runs several (see
/// [`endpoints::group`]).
#[derive(Debug, Clone, Serialize)]
pub struct Lane {
    /// `ip:port` of the host's SIP service, the host alone when that is not known, or `?` when
    /// no message says.
    pub addr: String,
    /// Every `ip:port` the lane's messages were sent from or to (a service and the ephemeral
    /// ports of its TCP connections), unless that is `addr` alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
    /// Who is there: the base name of the pjsip log written at this address, else what the
    /// host says it is in what it sent itself (see [`own_agents`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
}

/// One row of a ladder.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The event drawn (a wire message's first sighting, or a log event), into `Model::events`.
    /// Not in the report's data: it indexes one model (one window of a streamed run).
    #[serde(skip)]
    pub event: usize,
    pub ts: Timestamp,
    /// For a message: milliseconds since the previous message (0 for the first). Notes carry
    /// none: a log line between two messages must not shorten the second one's delta.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta_ms: Option<i64>,
    #[serde(flatten)]
    pub kind: RowKind,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RowKind {
    /// A wire message from one lane to another (the same lane when both ends are one address).
    Message {
        /// Index into `Model::messages` (not in the report's data, like [`Row::event`]).
        #[serde(skip)]
        wire: usize,
        from: usize,
        to: usize,
        /// The `ip:port` it was sent from and to (a lane may stand for several).
        src: String,
        dst: String,
        /// The method, or the status code and reason.
        label: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        retransmission: bool,
        /// A cut record: the log lost the end of this message.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        truncated: bool,
        /// Why the message did not parse.
        #[serde(skip_serializing_if = "Option::is_none")]
        malformed: Option<String>,
    },
    /// A log line, on the lane of the side that wrote the log (None when its address is not
    /// among the lanes).
    Note {
        lane: Option<usize>,
        input: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<u32>,
        /// The first frame of a fact read from a capture (a DNS or TLS note).
        #[serde(skip_serializing_if = "Option::is_none")]
        frame: Option<u64>,
        text: String,
    },
    /// An RTP stream of the conversation's calls, at its first packet's time (only when the
    /// inputs' media was counted, see [`crate::ingest::IngestOptions::media`]).
    Stream(Box<StreamView>),
}

impl RowKind {
    /// The marks shown beside a message: retransmission, cut record, malformed.
    pub fn tags(&self) -> Vec<String> {
        let RowKind::Message {
            retransmission,
            truncated,
            malformed,
            ..
        } = self
        else {
            return Vec::new();
        };
        let mut tags = Vec::new();
        if *retransmission {
            tags.push("retransmission".to_string());
        }
        if *truncated {
            tags.push("cut record".to_string());
        }
        if let Some(why) = malformed {
            tags.push(format!("malformed: {why}"));
        }
        tags
    }
}

/// A conversation laid out as lanes and rows, ready for any renderer.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    pub title: String,
    pub summary: Vec<String>,
    pub lanes: Vec<Lane>,
    pub rows: Vec<Row>,
}

impl Layout {
    pub fn new(ctx: &Context<'_>, conv: &Conversation) -> Self {
        let model = ctx.model;
        let ends = endpoints::resolve(model, &conv.messages);
        let hops: Vec<Hop> = conv
            .messages
            .iter()
            .zip(&ends)
            .map(|(&w, (src, dst))| Hop::new(src, dst, model.message(w)))
            .collect();
        let (groups, lane_of) = endpoints::group(&hops);
        let lane = |e: &str| lane_of.get(e).copied().unwrap_or_default();
        // The local address of each log input, from its own TX/RX dumps of this conversation.
        let mut local_of_input: BTreeMap<usize, String> = BTreeMap::new();
        let agents = own_agents(model, &conv.messages, &ends, &lane);
        let mut rows: Vec<Row> = Vec::new();
        for (&w, (src, dst)) in conv.messages.iter().zip(&ends) {
            let wire = &model.messages[w];
            let ev = model.message(w);
            for &s in &wire.sightings {
                if let Event::Message(m) = &model.events[s] {
                    let local = match m.direction {
                        Some(Direction::Tx) => src,
                        Some(Direction::Rx) => dst,
                        None => continue,
                    };
                    local_of_input
                        .entry(m.origin.input)
                        .or_insert_with(|| local.clone());
                }
            }
            let (label, malformed) = match &ev.msg {
                Ok(m) => {
                    let label = match (m.method(), m.status()) {
                        (Some(method), _) => printable(method),
                        (None, Some(_)) => status_text(m.status(), m.reason_phrase()),
                        _ => "?".to_string(),
                    };
                    (label, None)
                }
                // The input holds too little of it to tell (a dump header cut by the excerpt,
                // the tail of a dump it starts inside): cut, not malformed.
                Err(_) if ev.cut == Some(crate::event::Cut::InputEdge) => {
                    ("(cut)".to_string(), None)
                }
                Err(u) => ("(malformed)".to_string(), Some(printable(&u.error.message))),
            };
            rows.push(Row {
                event: wire.event,
                ts: ev.ts,
                delta_ms: None,
                kind: RowKind::Message {
                    wire: w,
                    from: lane(src),
                    to: lane(dst),
                    src: printable(src),
                    dst: printable(dst),
                    label,
                    retransmission: wire.retransmission,
                    truncated: ev.truncated(),
                    malformed,
                },
            });
        }
        let lanes: Vec<Lane> = groups
            .into_iter()
            .enumerate()
            .map(|(i, group)| {
                let side = local_of_input
                    .iter()
                    .find(|(_, a)| lane_of.get(a.as_str()) == Some(&i))
                    .map(|(input, _)| printable(ctx.input_file_name(*input)))
                    .or_else(|| agents.get(&i).cloned())
                    .filter(|s| !s.is_empty());
                Lane {
                    addr: printable(&group.name),
                    endpoints: match group.endpoints.as_slice() {
                        [only] if *only == group.name => Vec::new(),
                        all => all.iter().map(|e| printable(e)).collect(),
                    },
                    side,
                }
            })
            .collect();
        for &e in &conv.log_events {
            if let Event::Log(l) = &model.events[e] {
                let lane = local_of_input
                    .get(&l.origin.input)
                    .and_then(|addr| lane_of.get(addr.as_str()).copied());
                rows.push(Row {
                    event: e,
                    ts: l.ts,
                    delta_ms: None,
                    kind: RowKind::Note {
                        lane,
                        input: l.origin.input,
                        line: l.origin.line(),
                        frame: match &l.origin.locator {
                            crate::event::Locator::Frames(f) => f.first().copied(),
                            crate::event::Locator::Text { .. } => None,
                        },
                        text: printable(&l.text),
                    },
                });
            }
        }
        rows.sort_by_key(|r| r.event);
        let mut prev: Option<Timestamp> = None;
        for r in rows
            .iter_mut()
            .filter(|r| matches!(r.kind, RowKind::Message { .. }))
        {
            r.delta_ms = prev.map_or(r.ts.known_ms_until(r.ts), |p| p.known_ms_until(r.ts));
            prev = Some(r.ts);
        }
        // Each call's caller and callee lanes: the ends of the message it starts with.
        let calls: Vec<(String, Option<(usize, usize)>)> = conv
            .calls
            .iter()
            .map(|(call_id, first)| {
                let parties = rows.iter().find_map(|r| match &r.kind {
                    RowKind::Message { wire, from, to, .. } if Some(*wire) == *first => {
                        Some((*from, *to))
                    }
                    _ => None,
                });
                (call_id.clone(), parties)
            })
            .collect();
        streams::add_rows(ctx, &calls, &lanes, &mut rows);
        Layout {
            title: conv.title.clone(),
            summary: conv.summary.clone(),
            lanes,
            rows,
        }
    }

    /// The row drawing each event: every sighting of a wire message maps to its row.
    pub fn rows_by_event(&self, model: &Model) -> BTreeMap<usize, usize> {
        let mut map = BTreeMap::new();
        for (i, row) in self.rows.iter().enumerate() {
            match &row.kind {
                RowKind::Message { wire, .. } => {
                    for &s in &model.messages[*wire].sightings {
                        map.insert(s, i);
                    }
                }
                RowKind::Note { .. } => {
                    map.insert(row.event, i);
                }
                RowKind::Stream(_) => {}
            }
        }
        map
    }
}
