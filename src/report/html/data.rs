//! The data the report's script draws from: the call list ([`Index`]) and, per conversation,
//! its ladder with raw messages and badges ([`Detail`]). Both are plain serde structs; the
//! parent module compresses and embeds them.
//!
//! Owns: turning the model and the findings into these structs, and splitting each raw
//! message into text parts with the findings whose evidence covers each part. Does not own:
//! layout (the ladder module) or markup (the script builds the DOM from this data as text).

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Serialize;

use crate::dialog::{Model, Owner};
use crate::event::{Event, Locator};
use crate::report::calls::status_text;
use crate::report::ladder::{Conversation, Layout, RowKind};
use crate::report::{Context, printable};
use crate::rules::Finding;
use crate::sip::status;

/// Everything the call list, the filters and the summary need, for every call and flow.
#[derive(Serialize)]
pub struct Index {
    pub inputs: Vec<String>,
    /// The rules that fired, by code.
    pub rules: BTreeMap<&'static str, RuleInfo>,
    pub items: Vec<Item>,
    pub findings: Vec<FindingInfo>,
    /// How many conversations each compressed detail chunk holds.
    pub chunk_size: usize,
}

#[derive(Serialize)]
pub struct RuleInfo {
    pub name: &'static str,
    pub severity: &'static str,
    pub summary: &'static str,
    /// The rule's documentation (Markdown source, shown as text).
    pub docs: &'static str,
}

/// One line of the call list: a call (each B2BUA leg has its own line) or a non-call flow.
#[derive(Serialize)]
pub struct Item {
    /// `1` for call 1, `F1` for flow 1 (as `sipflow flow --call` takes it).
    pub key: String,
    pub kind: &'static str,
    pub start: String,
    pub call_id: String,
    pub from: String,
    pub to: String,
    /// The call's outcome, or a flow's method.
    pub outcome: String,
    /// `603 Decline`, or `-`.
    pub status: String,
    /// What the final status means (empty when there is none).
    pub explanation: String,
    pub setup_ms: Option<i64>,
    pub duration_ms: Option<i64>,
    /// Indexes into [`Index::findings`].
    pub findings: Vec<usize>,
    /// The conversation (ladder) this line opens: B2BUA legs share one.
    pub conv: usize,
}

#[derive(Serialize)]
pub struct FindingInfo {
    pub rule: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub help: String,
    /// Where its evidence is, as `input:line` or `input frame N`, with the rule's label.
    pub places: Vec<String>,
    /// The call-list line it belongs to, if any.
    pub item: Option<usize>,
}

/// One conversation's ladder, messages and badges.
#[derive(Serialize)]
pub struct Detail {
    #[serde(flatten)]
    pub layout: Layout,
    /// For each row: the raw message (message rows) or nothing (notes).
    pub messages: Vec<Option<MessageView>>,
    /// For each row: the findings resting on it.
    pub badges: Vec<Vec<usize>>,
    /// Findings of this conversation that rest on no row.
    pub unplaced: Vec<usize>,
}

#[derive(Serialize)]
pub struct MessageView {
    /// Where the message was seen: `caller.log:12 TX`, `call.pcap frame 7`.
    pub seen: Vec<String>,
    pub transport: String,
    pub bytes: usize,
    /// The raw text, cut into parts; each part lists the findings whose evidence covers it.
    pub parts: Vec<(String, Vec<usize>)>,
}

/// Builds the index and the details of every conversation, in model order.
pub fn build(ctx: &Context<'_>, findings: &[Finding], chunk_size: usize) -> (Index, Vec<Detail>) {
    let model = ctx.model;
    let mut convs: Vec<Conversation> = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    // The conversation of each call group leader, by 1-based call index.
    let mut conv_of_group: BTreeMap<usize, usize> = BTreeMap::new();
    for c in model.calls.iter().filter(|c| c.group == c.index) {
        conv_of_group.insert(c.index, convs.len());
        convs.push(Conversation::of_call(model, c));
    }
    // Owners map to list lines, in model order: calls, then flows.
    let mut item_of: BTreeMap<Owner, usize> = BTreeMap::new();
    for (i, c) in model.calls.iter().enumerate() {
        item_of.insert(Owner::Call(i), items.len());
        let x = c.final_status.map(status::explain);
        items.push(Item {
            key: c.index.to_string(),
            kind: "call",
            start: c.start.to_string(),
            call_id: printable(&c.call_id),
            from: printable(c.from.as_deref().unwrap_or("")),
            to: printable(c.to.as_deref().unwrap_or("")),
            outcome: c.outcome.as_str().to_string(),
            status: status_text(c.final_status, c.final_reason.as_deref()),
            explanation: x.map_or(String::new(), |x| x.meaning.to_string()),
            setup_ms: c.setup_ms,
            duration_ms: c.duration_ms,
            findings: Vec::new(),
            conv: conv_of_group.get(&c.group).copied().unwrap_or(0),
        });
    }
    for (i, f) in model.flows.iter().enumerate() {
        item_of.insert(Owner::Flow(i), items.len());
        let x = f.final_status.map(status::explain);
        items.push(Item {
            key: format!("F{}", f.index),
            kind: "flow",
            start: f.start.to_string(),
            call_id: printable(&f.call_id),
            from: printable(f.from.as_deref().unwrap_or("")),
            to: printable(f.to.as_deref().unwrap_or("")),
            outcome: printable(&f.method),
            status: status_text(f.final_status, f.final_reason.as_deref()),
            explanation: x.map_or(String::new(), |x| x.meaning.to_string()),
            setup_ms: None,
            duration_ms: None,
            findings: Vec::new(),
            conv: convs.len(),
        });
        convs.push(Conversation::of_flow(f));
    }

    let mut rules = BTreeMap::new();
    let mut infos = Vec::with_capacity(findings.len());
    for (fi, f) in findings.iter().enumerate() {
        rules.entry(f.rule.code).or_insert(RuleInfo {
            name: f.rule.name,
            severity: f.rule.severity.as_str(),
            summary: f.rule.summary,
            docs: f.rule.docs,
        });
        let item = f.owner.and_then(|o| item_of.get(&o).copied());
        if let Some(i) = item {
            items[i].findings.push(fi);
        }
        infos.push(FindingInfo {
            rule: f.rule.code,
            severity: f.severity.as_str(),
            message: printable(&f.message),
            help: f.help.clone(),
            places: places(ctx, f),
            item,
        });
    }

    // Which findings belong to each conversation: those of its lines.
    let mut conv_findings: Vec<Vec<usize>> = vec![Vec::new(); convs.len()];
    for item in &items {
        if let Some(list) = conv_findings.get_mut(item.conv) {
            list.extend(&item.findings);
        }
    }
    let details = convs
        .iter()
        .zip(conv_findings)
        .map(|(conv, fs)| detail(ctx, conv, findings, fs))
        .collect();
    let index = Index {
        inputs: ctx.inputs.iter().map(|i| i.name.clone()).collect(),
        rules,
        items,
        findings: infos,
        chunk_size,
    };
    (index, details)
}

/// `caller.log:12`, `call.pcap frame 7`, each with the evidence label.
fn places(ctx: &Context<'_>, f: &Finding) -> Vec<String> {
    let mut out: Vec<String> = f
        .evidence
        .iter()
        .filter_map(|e| {
            let ev = ctx.model.events.get(e.event)?;
            Some(format!("{} ({})", place(ctx, ev), printable(&e.label)))
        })
        .collect();
    if out.is_empty()
        && let Some(i) = f.input
    {
        out.push(ctx.input_name(i).to_string());
    }
    out
}

fn place(ctx: &Context<'_>, ev: &Event) -> String {
    let origin = ev.origin();
    let name = ctx.input_name(origin.input);
    match &origin.locator {
        Locator::Text { line, .. } => format!("{name}:{line}"),
        Locator::Frames(frames) => {
            let list: Vec<String> = frames.iter().map(u64::to_string).collect();
            let word = if frames.len() == 1 { "frame" } else { "frames" };
            format!("{name} {word} {}", list.join(","))
        }
    }
}

fn detail(
    ctx: &Context<'_>,
    conv: &Conversation,
    findings: &[Finding],
    mine: Vec<usize>,
) -> Detail {
    let model = ctx.model;
    let layout = Layout::new(ctx, conv);
    let row_of = layout.rows_by_event(model);
    let mut badges: Vec<Vec<usize>> = vec![Vec::new(); layout.rows.len()];
    let mut unplaced = Vec::new();
    let mut spans: Vec<Vec<Mark>> = vec![Vec::new(); layout.rows.len()];
    for &fi in &mine {
        let mut placed = false;
        for e in &findings[fi].evidence {
            if let Some(&r) = row_of.get(&e.event) {
                if !badges[r].contains(&fi) {
                    badges[r].push(fi);
                }
                spans[r].push(Mark {
                    span: e.span.clone(),
                    event: e.event,
                    finding: fi,
                });
                placed = true;
            }
        }
        if !placed {
            unplaced.push(fi);
        }
    }
    let messages = layout
        .rows
        .iter()
        .zip(&spans)
        .map(|(row, spans)| match &row.kind {
            RowKind::Message { wire, .. } => Some(message_view(ctx, model, *wire, spans)),
            RowKind::Note { .. } => None,
        })
        .collect();
    Detail {
        layout,
        messages,
        badges,
        unplaced,
    }
}

/// A piece of evidence on a row.
#[derive(Clone)]
struct Mark {
    /// In the raw bytes of the sighting it came from.
    span: Option<Range<usize>>,
    /// That sighting.
    event: usize,
    finding: usize,
}

fn message_view(ctx: &Context<'_>, model: &Model, wire: usize, spans: &[Mark]) -> MessageView {
    let shown = model.message(wire);
    let raw = shown.raw();
    let seen = model.messages[wire]
        .sightings
        .iter()
        .filter_map(|&s| match &model.events[s] {
            Event::Message(m) => {
                let dir = match m.direction {
                    Some(d) => format!(" {}", d.as_str()),
                    None => String::new(),
                };
                let cut = if m.truncated { " (cut)" } else { "" };
                Some(format!("{}{dir}{cut}", place(ctx, &model.events[s])))
            }
            Event::Log(_) => None,
        })
        .collect();
    // A span is in the bytes of the sighting it came from; it is shown on the first sighting
    // only where those bytes are the same. Without a span, the start line stands for the
    // message as a whole.
    let first_line = 0..raw
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(raw.len());
    let marks: Vec<(Range<usize>, usize)> = spans
        .iter()
        .map(
            |Mark {
                 span,
                 event,
                 finding,
             }| {
                let theirs = match &model.events[*event] {
                    Event::Message(m) => m.raw(),
                    Event::Log(_) => &[][..],
                };
                let span = span
                    .clone()
                    .filter(|s| {
                        s.start < s.end
                            && theirs
                                .get(s.clone())
                                .is_some_and(|b| raw.get(s.clone()) == Some(b))
                    })
                    .unwrap_or_else(|| first_line.clone());
                (span, *finding)
            },
        )
        .collect();
    MessageView {
        seen,
        transport: shown.transport.as_str().to_string(),
        bytes: raw.len(),
        parts: split(raw, &marks),
    }
}

/// Cuts `raw` at every mark boundary; each part lists the marks covering it.
fn split(raw: &[u8], marks: &[(Range<usize>, usize)]) -> Vec<(String, Vec<usize>)> {
    let mut cuts: Vec<usize> = vec![0, raw.len()];
    for (r, _) in marks {
        cuts.push(r.start.min(raw.len()));
        cuts.push(r.end.min(raw.len()));
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut parts: Vec<(String, Vec<usize>)> = Vec::new();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a == b {
            continue;
        }
        let mut on: Vec<usize> = marks
            .iter()
            .filter(|(r, _)| r.start <= a && b <= r.end)
            .map(|(_, f)| *f)
            .collect();
        on.sort_unstable();
        on.dedup();
        let text = String::from_utf8_lossy(&raw[a..b]).into_owned();
        match parts.last_mut() {
            Some(last) if last.1 == on => last.0.push_str(&text),
            _ => parts.push((text, on)),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn parts_cover_the_message_once_with_overlapping_marks() {
        let raw = b"INVITE x SIP/2.0\r\nContent-Length: 5\r\n\r\nhello";
        let parts = split(raw, &[(18..35, 1), (0..6, 0), (30..35, 2)]);
        let text: String = parts.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(text.as_bytes(), raw);
        assert_eq!(parts[0], ("INVITE".to_string(), vec![0]));
        assert_eq!(parts[2], ("Content-Leng".to_string(), vec![1]));
        assert_eq!(parts[3], ("th: 5".to_string(), vec![1, 2]));
        assert!(split(b"", &[(3..9, 0)]).is_empty());
    }
}
