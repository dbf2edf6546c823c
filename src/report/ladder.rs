//! `sipflow flow`: the terminal ladder. One column per endpoint (`ip:port`), one row per wire
//! message or log event, with times, deltas, retransmissions and cut records marked, and log
//! lines as notes on the lifeline of the side that logged them.
//!
//! Plain ASCII, fixed widths, no colour: the same input always gives the same bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::calls::status_text;
use super::{Context, clip, endpoints, fmt_ms, printable};
use crate::dialog::{Call, Flow, Model};
use crate::event::{Direction, Event, Timestamp};

/// Width of one endpoint column.
const MIN_LANE: usize = 24;
const MAX_LANE: usize = 44;

/// What a ladder draws: a call (with all its B2BUA legs) or a non-call flow.
pub struct Conversation {
    pub title: String,
    pub summary: Vec<String>,
    /// Wire message indexes, in time order.
    pub messages: Vec<usize>,
    /// Log event indexes, in time order.
    pub log_events: Vec<usize>,
}

impl Conversation {
    /// A call and every leg linked to it, in one diagram.
    pub fn of_call(model: &Model, c: &Call) -> Self {
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
        let mut codes: Vec<u16> = legs.iter().filter_map(|l| l.final_status).collect();
        codes.sort_unstable();
        codes.dedup();
        summary.extend(codes.into_iter().map(|code| {
            let x = crate::sip::status::explain(code);
            format!("{code} {}: {}", x.reason, x.meaning)
        }));
        Conversation {
            title,
            summary,
            messages,
            log_events,
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
        }
    }
}

enum Row {
    Msg {
        from: usize,
        to: usize,
        label: String,
        tags: Vec<String>,
    },
    Note {
        lane: Option<usize>,
        text: String,
    },
}

pub fn write_ladder(ctx: &Context<'_>, conv: &Conversation, out: &mut dyn Write) -> io::Result<()> {
    let model = ctx.model;
    let ends = endpoints::resolve(model, &conv.messages);
    let mut lanes: Vec<String> = Vec::new();
    let lane_of = |name: &str, lanes: &mut Vec<String>| match lanes.iter().position(|l| l == name) {
        Some(i) => i,
        None => {
            lanes.push(name.to_string());
            lanes.len() - 1
        }
    };
    // The local address of each log input, from its own TX/RX dumps of this conversation.
    let mut local_of_input: BTreeMap<usize, String> = BTreeMap::new();
    // What each endpoint calls itself (User-Agent, or Server in responses), first seen wins.
    let mut agent_of: BTreeMap<&str, String> = BTreeMap::new();
    let mut items: Vec<(usize, Timestamp, Row)> = Vec::new();
    for (&w, (src, dst)) in conv.messages.iter().zip(&ends) {
        let wire = &model.messages[w];
        let ev = model.message(w);
        if let Some(agent) = ev
            .parsed()
            .and_then(|m| m.user_agent().or_else(|| m.server()))
        {
            agent_of.entry(src).or_insert_with(|| printable(&agent));
        }
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
        let (from, to) = (lane_of(src, &mut lanes), lane_of(dst, &mut lanes));
        let mut tags = Vec::new();
        if wire.retransmission {
            tags.push("retransmission".to_string());
        }
        if ev.truncated {
            tags.push("cut record".to_string());
        }
        let label = match &ev.msg {
            Ok(m) => match (m.method(), m.status()) {
                (Some(method), _) => printable(method),
                (None, Some(_)) => status_text(m.status(), m.reason_phrase()),
                _ => "?".to_string(),
            },
            Err(u) => {
                tags.push(format!("malformed: {}", printable(&u.error.message)));
                "(malformed)".to_string()
            }
        };
        items.push((
            wire.event,
            ev.ts,
            Row::Msg {
                from,
                to,
                label,
                tags,
            },
        ));
    }
    for &e in &conv.log_events {
        if let Event::Log(l) = &model.events[e] {
            let lane = local_of_input
                .get(&l.origin.input)
                .and_then(|addr| lanes.iter().position(|x| x == addr));
            let where_ = format!(
                "{}:{}",
                ctx.input_name(l.origin.input),
                l.origin.line().unwrap_or(0)
            );
            items.push((
                e,
                l.ts,
                Row::Note {
                    lane,
                    text: format!("{where_} {}", printable(&l.text)),
                },
            ));
        }
    }
    items.sort_by_key(|(i, _, _)| *i);
    let longest_label = items.iter().map(|(_, _, row)| match row {
        Row::Msg { label, .. } => label.chars().count() + 8,
        Row::Note { .. } => 0,
    });
    let lane_w = lanes
        .iter()
        .map(|l| l.chars().count() + 4)
        .chain(longest_label)
        .max()
        .unwrap_or(MIN_LANE)
        .clamp(MIN_LANE, MAX_LANE);
    let time_w = items
        .iter()
        .map(|(_, t, _)| t.to_string().len())
        .max()
        .unwrap_or(12);
    let prefix = time_w + 2 + 9 + 2;

    writeln!(out, "{}", conv.title)?;
    for line in &conv.summary {
        writeln!(out, "  {line}")?;
    }
    writeln!(out)?;
    let mut header = " ".repeat(prefix);
    let mut sides = " ".repeat(prefix);
    for lane in &lanes {
        header.push_str(&center(&clip(lane, lane_w - 2), lane_w));
        let side = local_of_input
            .iter()
            .find(|(_, a)| *a == lane)
            .map(|(input, _)| {
                ctx.input_name(*input)
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .or_else(|| agent_of.get(lane.as_str()).cloned())
            .unwrap_or_default();
        sides.push_str(&center(&clip(&side, lane_w - 2), lane_w));
    }
    writeln!(out, "{}", header.trim_end())?;
    if !sides.trim().is_empty() {
        writeln!(out, "{}", sides.trim_end())?;
    }
    let mut prev: Option<Timestamp> = None;
    for (_, ts, row) in &items {
        let delta = prev.map_or(0, |p| p.ms_until(*ts));
        prev = Some(*ts);
        let mut line = format!(
            "{:<time_w$}  {:>9}  ",
            ts.to_string(),
            format!("+{}", fmt_ms(Some(delta)))
        );
        let mut lanes_buf: Vec<char> = vec![' '; lanes.len() * lane_w];
        for i in 0..lanes.len() {
            lanes_buf[i * lane_w + lane_w / 2] = '|';
        }
        let suffix = match row {
            Row::Msg {
                from,
                to,
                label,
                tags,
            } => {
                draw_arrow(&mut lanes_buf, *from, *to, label, lane_w);
                if tags.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", tags.join(", "))
                }
            }
            Row::Note { lane, text } => {
                if let Some(l) = lane {
                    lanes_buf[l * lane_w + lane_w / 2] = '*';
                }
                format!("  * {text}")
            }
        };
        line.extend(lanes_buf);
        let line = format!("{}{suffix}", line.trim_end());
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn center(s: &str, width: usize) -> String {
    let len = s.chars().count();
    let left = width.saturating_sub(len) / 2;
    let right = width.saturating_sub(len + left);
    format!("{}{s}{}", " ".repeat(left), " ".repeat(right))
}

/// Draws `|---- LABEL --->|` between two lane centres (or a loop mark for a self message).
fn draw_arrow(buf: &mut [char], from: usize, to: usize, label: &str, lane_w: usize) {
    let a = from * lane_w + lane_w / 2;
    let b = to * lane_w + lane_w / 2;
    if a == b {
        let text: Vec<char> = format!("<-> {label}").chars().collect();
        for (k, c) in text.into_iter().enumerate() {
            if let Some(slot) = buf.get_mut(a + 2 + k) {
                *slot = c;
            }
        }
        return;
    }
    let (lo, hi) = (a.min(b), a.max(b));
    for slot in &mut buf[lo + 1..hi] {
        *slot = '-';
    }
    if a < b {
        buf[hi - 1] = '>';
    } else {
        buf[lo + 1] = '<';
    }
    let room = (hi - lo).saturating_sub(5);
    let text: Vec<char> = format!(" {} ", clip(label, room.saturating_sub(2)))
        .chars()
        .collect();
    let start = lo + 1 + ((hi - lo - 1).saturating_sub(text.len())) / 2;
    for (k, c) in text.into_iter().enumerate() {
        if let Some(slot) = buf
            .get_mut(start + k)
            .filter(|_| start + k < hi - 1 && start + k > lo + 1)
        {
            *slot = c;
        }
    }
}
