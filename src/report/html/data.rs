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
use crate::event::{Event, Locator, Timestamp};
use crate::ingest::InputInfo;
use crate::report::calls::status_text;
use crate::report::identities::Identities;
use crate::report::ladder::streams::host;
use crate::report::ladder::{Conversation, Layout, RowKind};
use crate::report::{Context, printable, printable_lines, printable_raw};
use crate::rules::{Finding, REGISTRY, StreamRef};

/// Everything the call list, the filters and the summary need, for every call and flow: a
/// view of what [`Gather`] holds, so that a report can be written while it is still gathered
/// (a live run's periodic `--html`) without copying the call list.
#[derive(Serialize)]
pub struct Index<'a> {
    pub inputs: Vec<&'a str>,
    /// The rules that fired, by code.
    pub rules: &'a BTreeMap<&'static str, RuleInfo>,
    /// Every rule as (code, name), fired or not: what the search's `rule:` term takes.
    pub catalog: Vec<(&'static str, &'static str)>,
    /// The calls' lines, then the flows'.
    pub items: Items<'a>,
    pub findings: Findings<'a>,
    /// How many conversations each compressed detail chunk holds.
    pub chunk_size: usize,
}

/// The call list's lines: every call's, then every flow's.
pub struct Items<'a> {
    pub calls: &'a [Item],
    pub flows: &'a [Item],
}

impl Serialize for Items<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.calls.iter().chain(self.flows))
    }
}

/// The findings, each with its line in the list: a flow's line comes after every call's.
pub struct Findings<'a> {
    pub list: &'a [FindingInfo],
    /// How many call lines there are.
    pub calls: usize,
}

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.list.iter().map(|f| FindingOut {
            rule: f.rule,
            severity: f.severity,
            message: &f.message,
            help: &f.help,
            places: &f.places,
            item: f.flow.map(|flow| self.calls + flow).or(f.item),
        }))
    }
}

/// A finding as the index writes it (the fields of [`FindingInfo`], its line resolved).
#[derive(Serialize)]
struct FindingOut<'a> {
    rule: &'static str,
    severity: &'static str,
    message: &'a str,
    help: &'a str,
    places: &'a [String],
    item: Option<usize>,
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
    /// A B2BUA leg's group: the number of the call leading it (`group` in `sipflow calls`),
    /// absent when the line leads its own. A line the `field:value` terms select brings the
    /// other lines of its group, as the selection options do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<usize>,
    /// What else the search matches: the line's [`Identities`] (addresses, display names,
    /// numbers, those `user:` does not read included, User-Agent/Server) as shown, without what the line's own text or another term
    /// already holds. Bounded (see [`search_terms`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    /// What the search's `field:value` terms compare.
    #[serde(flatten)]
    pub select: Selectable,
}

/// A line's typed data for the search's `field:value` terms, which take the selection options'
/// syntax and meaning (`docs/selecting.md`); `call:`, `outcome:` and `rule:` read the line's
/// other fields. Each list is bounded as the search terms are (see [`SELECT_VALUES`]).
#[derive(Serialize, Default, Debug, PartialEq, Eq)]
pub struct Selectable {
    /// The final status code (`status:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// The start (`since:`, `until:`): µs since the epoch when `dated`, else since midnight
    /// (plus days after a rollover); absent when the input gives no time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    pub dated: bool,
    /// Every address a message came from or went to, without port (`ip:`); an IPv4-mapped
    /// IPv6 address as its IPv4 address.
    pub ips: Vec<String>,
    /// Display names and user parts (numbers) of From, To, the Request-URI, Contact and the
    /// first P-Asserted-Identity header (`user:`, as `--user` reads them), as
    /// [`Identities::users`].
    pub users: Vec<String>,
    /// The methods of its requests (`method:`).
    pub methods: Vec<String>,
}

impl Item {
    /// What a call's and a flow's lines share; setup, duration and conversation unset.
    fn line(
        (kind, key): (&'static str, String),
        outcome: String,
        start: Timestamp,
        call_id: &str,
        (from, to): (Option<&str>, Option<&str>),
        (status, reason): (Option<u16>, Option<&str>),
        explanation: String,
    ) -> Item {
        Item {
            key,
            kind,
            start: start.to_string(),
            call_id: printable(call_id),
            from: printable(from.unwrap_or("")),
            to: printable(to.unwrap_or("")),
            outcome,
            status: status_text(status, reason),
            explanation,
            setup_ms: None,
            duration_ms: None,
            findings: Vec::new(),
            conv: 0,
            group: None,
            search: Vec::new(),
            select: Selectable {
                code: status,
                at: start.is_known().then_some(start.micros),
                dated: start.dated,
                ..Selectable::default()
            },
        }
    }

    /// The line with the search terms and the selection data of its wire messages `wires`.
    fn searching(mut self, model: &Model, wires: &[usize]) -> Item {
        let shown = [&self.call_id, &self.from, &self.to].map(|t| t.to_lowercase());
        let ids = Identities::of(model, wires);
        self.search = search_terms(&ids, &shown);
        let sel = &mut self.select;
        sel.users = bounded(ids.users.iter().map(|u| printable(u)));
        let ips = wires.iter().flat_map(|&w| {
            let wire = &model.messages[w];
            [&wire.src, &wire.dst]
        });
        sel.ips = bounded(
            ips.flatten()
                .filter_map(|a| host(a))
                .map(|ip| ip.to_canonical().to_string()),
        );
        let parsed = wires.iter().filter_map(|&w| model.message(w).parsed());
        sel.methods = bounded(parsed.filter_map(|m| m.method()).map(printable));
        self
    }
}

/// At most this many values in each list of a line's [`Selectable`] (each of at most
/// [`SEARCH_TERM_CHARS`] characters): more than any real call has, and a call of thousands of
/// distinct Contacts or addresses still costs the index a few kilobytes.
const SELECT_VALUES: usize = 32;

/// The distinct `values`, clipped, in order first seen, at most [`SELECT_VALUES`].
fn bounded(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v: String = v.chars().take(SEARCH_TERM_CHARS).collect();
        if v.is_empty() || out.contains(&v) {
            continue;
        }
        if out.len() == SELECT_VALUES {
            break;
        }
        out.push(v);
    }
    out
}

/// At most this many search terms of each kind (addresses, users, agents) per line, each of at
/// most [`SEARCH_TERM_CHARS`] characters: enough for any real call, and a call of thousands of
/// distinct Contacts still costs the index a few hundred bytes.
const SEARCH_TERMS: usize = 16;
const SEARCH_TERM_CHARS: usize = 160;

/// The identities as search terms: shown as text ([`printable`]), clipped, and each only when
/// no other term and no text in `shown` (lower-cased) contains it, ignoring case, since the
/// search ignores case (`10.186.207.1` goes when `10.186.207.1:37398` is there).
fn search_terms(ids: &Identities, shown: &[String]) -> Vec<String> {
    // (term, its lower case, kind)
    let mut kept: Vec<(String, String, usize)> = Vec::new();
    let mut per_kind = [0; 3];
    let users: Vec<&String> = ids.users.iter().chain(&ids.other_users).collect();
    let lists: [Vec<&String>; 3] = [
        ids.addresses.iter().collect(),
        users,
        ids.agents.iter().collect(),
    ];
    for (kind, list) in lists.into_iter().enumerate() {
        for value in list {
            if per_kind[kind] == SEARCH_TERMS {
                break;
            }
            let term: String = printable(value).chars().take(SEARCH_TERM_CHARS).collect();
            let lower = term.to_lowercase();
            if shown.iter().any(|t| t.contains(&lower))
                || kept.iter().any(|(_, k, _)| k.contains(&lower))
            {
                continue;
            }
            kept.retain(|(_, k, kd)| {
                let gone = lower.contains(k.as_str());
                if gone {
                    per_kind[*kd] -= 1;
                }
                !gone
            });
            kept.push((term, lower, kind));
            per_kind[kind] += 1;
        }
    }
    kept.into_iter().map(|(term, ..)| term).collect()
}

/// What a line's final status means (see [`Context::status_meaning`]), where that helps: a
/// status a finding diagnosed, or a failure (3xx and up). A success needs no words on every
/// answered row, and the code's generic text is written for an INVITE; empty otherwise.
fn explanation(ctx: &Context<'_>, owner: Owner, status: Option<u16>) -> String {
    let Some(code) = status else {
        return String::new();
    };
    let x = ctx.status_meaning(owner, code);
    match x.by {
        Some(rule) => format!("Diagnosed by {rule}: {}", x.meaning),
        None if code >= 300 => x.meaning.to_string(),
        None => String::new(),
    }
}

pub struct FindingInfo {
    pub rule: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub help: String,
    /// Where its evidence is, as `input:line` or `input frame N`, with the rule's label.
    pub places: Vec<String>,
    /// The call-list line it belongs to, if a call's.
    pub item: Option<usize>,
    /// The flow it belongs to, if a flow's (its line is known once every call is in).
    pub flow: Option<usize>,
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

/// The index, gathered model by model (a run analysed in windows adds one model per window),
/// and each model's conversations' details as it is added. Calls, flows, conversations and
/// findings are numbered across models; one model gives what it always gave.
#[derive(Default)]
pub struct Gather {
    calls: Vec<Item>,
    flows: Vec<Item>,
    findings: Vec<FindingInfo>,
    rules: BTreeMap<&'static str, RuleInfo>,
    /// Conversations so far.
    convs: usize,
}

impl Gather {
    /// Adds a model's calls, flows and findings, and returns the details of its conversations,
    /// in order: calls' (B2BUA legs share one), then flows'.
    pub fn add(&mut self, ctx: &Context<'_>, findings: &[Finding]) -> Vec<Detail> {
        let model = ctx.model;
        let (first_call, first_flow) = (self.calls.len(), self.flows.len());
        let first_finding = self.findings.len();
        let mut convs: Vec<Conversation> = Vec::new();
        // The conversation of each call group leader, by 1-based call index.
        let mut conv_of_group: BTreeMap<usize, usize> = BTreeMap::new();
        for c in model.calls.iter().filter(|c| c.group == c.index) {
            conv_of_group.insert(c.index, self.convs + convs.len());
            convs.push(Conversation::of_call(ctx, c));
        }
        for (ci, c) in model.calls.iter().enumerate() {
            self.calls.push(Item {
                setup_ms: c.setup_ms,
                duration_ms: c.duration_ms,
                // A leg whose group leader is missing would open the window's first ladder.
                conv: conv_of_group.get(&c.group).copied().unwrap_or(self.convs),
                group: (c.group != c.index).then_some(c.group),
                ..Item::line(
                    ("call", c.index.to_string()),
                    c.outcome.as_str().to_string(),
                    c.start,
                    &c.call_id,
                    (c.from.as_deref(), c.to.as_deref()),
                    (c.final_status, c.final_reason.as_deref()),
                    explanation(ctx, Owner::Call(ci), c.final_status),
                )
                .searching(model, &c.messages)
            });
        }
        for (fi, f) in model.flows.iter().enumerate() {
            self.flows.push(Item {
                conv: self.convs + convs.len(),
                ..Item::line(
                    ("flow", format!("F{}", f.index)),
                    printable(&f.method),
                    f.start,
                    &f.call_id,
                    (f.from.as_deref(), f.to.as_deref()),
                    (f.final_status, f.final_reason.as_deref()),
                    explanation(ctx, Owner::Flow(fi), f.final_status),
                )
                .searching(model, &f.messages)
            });
            convs.push(Conversation::of_flow(f));
        }

        for (k, f) in findings.iter().enumerate() {
            let fi = first_finding + k;
            self.rules.entry(f.rule.code).or_insert(RuleInfo {
                name: f.rule.name,
                severity: f.rule.severity.as_str(),
                summary: f.rule.summary,
                docs: f.rule.docs,
            });
            let (mut item, mut flow) = (None, None);
            match f.owner {
                Some(Owner::Call(i)) => {
                    if let Some(line) = self.calls.get_mut(first_call + i) {
                        line.findings.push(fi);
                        item = Some(first_call + i);
                    }
                }
                Some(Owner::Flow(i)) => {
                    if let Some(line) = self.flows.get_mut(first_flow + i) {
                        line.findings.push(fi);
                        flow = Some(first_flow + i);
                    }
                }
                None => {}
            }
            self.findings.push(FindingInfo {
                rule: f.rule.code,
                severity: f.severity.as_str(),
                message: printable(&f.message),
                help: printable_lines(&f.help),
                places: places(ctx, f),
                item,
                flow,
            });
        }

        // Which findings belong to each conversation: those of its lines.
        let mut conv_findings: Vec<Vec<usize>> = vec![Vec::new(); convs.len()];
        for line in self.calls[first_call..]
            .iter()
            .chain(&self.flows[first_flow..])
        {
            let mine = line.conv.checked_sub(self.convs);
            if let Some(list) = mine.and_then(|i| conv_findings.get_mut(i)) {
                list.extend(line.findings.iter().map(|fi| fi - first_finding));
            }
        }
        self.convs += convs.len();
        convs
            .iter()
            .zip(conv_findings)
            .map(|(conv, mine)| detail(ctx, conv, findings, &mine, first_finding))
            .collect()
    }

    /// The index of everything added so far.
    pub fn index<'a>(&'a self, inputs: &'a [InputInfo], chunk_size: usize) -> Index<'a> {
        Index {
            inputs: inputs.iter().map(|i| i.name.as_str()).collect(),
            rules: &self.rules,
            catalog: REGISTRY.iter().map(|r| (r.code, r.name)).collect(),
            items: Items {
                calls: &self.calls,
                flows: &self.flows,
            },
            findings: Findings {
                list: &self.findings,
                calls: self.calls.len(),
            },
            chunk_size,
        }
    }
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

/// `mine` indexes `findings`; the detail numbers them from `first_finding`, as the index does.
fn detail(
    ctx: &Context<'_>,
    conv: &Conversation,
    findings: &[Finding],
    mine: &[usize],
    first_finding: usize,
) -> Detail {
    let model = ctx.model;
    let layout = Layout::new(ctx, conv);
    let row_of = layout.rows_by_event(model);
    let mut badges: Vec<Vec<usize>> = vec![Vec::new(); layout.rows.len()];
    let mut unplaced = Vec::new();
    let mut spans: Vec<Vec<Mark>> = vec![Vec::new(); layout.rows.len()];
    for (k, f) in mine.iter().filter_map(|&k| Some((k, findings.get(k)?))) {
        let fi = first_finding + k;
        let mut placed = false;
        for e in &f.evidence {
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
        // A finding about a stream: its badge on the stream's line.
        if let Some(r) = f.stream.and_then(|at| stream_row(&layout, at)) {
            if !badges[r].contains(&fi) {
                badges[r].push(fi);
            }
            placed = true;
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
            RowKind::Note { .. } | RowKind::Stream(_) => None,
        })
        .collect();
    Detail {
        layout,
        messages,
        badges,
        unplaced,
    }
}

/// The row drawing the stream `at`, if the ladder has it.
fn stream_row(layout: &Layout, at: StreamRef) -> Option<usize> {
    layout.rows.iter().position(
        |row| matches!(&row.kind, RowKind::Stream(v) if v.input == at.input && v.index == at.index),
    )
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
                let cut = if m.truncated() { " (cut)" } else { "" };
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
        let text = printable_raw(&String::from_utf8_lossy(&raw[a..b]));
        match parts.last_mut() {
            Some(last) if last.1 == on => last.0.push_str(&text),
            _ => parts.push((text, on)),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::{
        Identities, SEARCH_TERM_CHARS, SEARCH_TERMS, SELECT_VALUES, bounded, search_terms, split,
    };

    /// Values are distinct, clipped, in order first seen, and bounded.
    #[test]
    fn selection_lists_are_distinct_clipped_and_bounded() {
        let list = bounded(["b", "a", "b", "", "c"].into_iter().map(String::from));
        assert_eq!(list, ["b", "a", "c"]);
        let many = bounded((0..1000).map(|i| format!("{i:04}{}", "x".repeat(500))));
        assert_eq!(many.len(), SELECT_VALUES);
        assert!(many.iter().all(|v| v.chars().count() == SEARCH_TERM_CHARS));
        assert!(many[0].starts_with("0000") && many[31].starts_with("0031"));
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// A term goes when the line's text or another term holds it (ignoring case, as the
    /// search does); control characters are shown as `·`; each kind is bounded.
    #[test]
    fn search_terms_are_distinct_shown_and_bounded() {
        let ids = Identities {
            addresses: strings(&["10.186.207.1", "10.186.207.1:37398", "10.186.205.131:6060"]),
            users: strings(&["Псков-5", "ПСКОВ", "540454", "699818", "a\u{0}b"]),
            other_users: strings(&["Remote Party", "699818"]),
            agents: strings(&["ES FS SBC"]),
        };
        let shown = ["sip:540454@maxus.lan".to_string()];
        assert_eq!(
            search_terms(&ids, &shown),
            [
                "10.186.207.1:37398",
                "10.186.205.131:6060",
                "Псков-5",
                "699818",
                "a·b",
                "Remote Party",
                "ES FS SBC"
            ]
        );

        let many = Identities {
            users: (0..1000)
                .map(|i| format!("user{i:04}{}", "x".repeat(500)))
                .collect(),
            ..Identities::default()
        };
        let terms = search_terms(&many, &[]);
        assert_eq!(terms.len(), SEARCH_TERMS);
        assert!(terms.iter().all(|t| t.chars().count() == SEARCH_TERM_CHARS));
        assert!(terms[0].starts_with("user0000"));
    }

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

/// The data the search's `field:value` terms read, on recorded calls.
#[cfg(test)]
mod select_tests {
    use super::{Gather, Item, Selectable};
    use crate::dialog::{CorrelateOptions, correlate};
    use crate::ingest::{IngestOptions, ingest};
    use crate::report::Context;
    use crate::rules::Diagnoses;

    fn items(paths: &[&str]) -> Vec<Item> {
        let paths: Vec<String> = paths
            .iter()
            .map(|p| format!("{}/fixtures/{p}", env!("CARGO_MANIFEST_DIR")))
            .collect();
        let read = ingest(&paths, &IngestOptions::default());
        let model = correlate(read.events, &CorrelateOptions::default());
        let ctx = Context {
            model: &model,
            inputs: &read.inputs,
            sources: &read.sources,
            diagnoses: &Diagnoses::NONE,
            lang: Default::default(),
        };
        let mut g = Gather::default();
        g.add(&ctx, &[]);
        g.calls.into_iter().chain(g.flows).collect()
    }

    /// A capture over IPv6: the addresses without ports, the methods of its requests, its
    /// parties, its final status and its dated start.
    #[test]
    fn a_captured_call_carries_addresses_methods_users_status_and_time() {
        let items = items(&["captures/ipv6/call.pcap"]);
        assert_eq!(items.len(), 1);
        let sel = &items[0].select;
        assert_eq!(
            sel,
            &Selectable {
                code: Some(200),
                at: sel.at,
                dated: true,
                ips: vec!["::1".into()],
                users: vec!["caller".into(), "callee".into()],
                methods: vec!["INVITE".into(), "ACK".into(), "BYE".into()],
            }
        );
        // 2026-11-21 06:11:25.405, as `sipflow calls` shows it.
        let day = crate::event::days_from_civil(2026, 11, 21);
        let tod = ((6 * 60 + 11) * 60 + 25) * 1_000_000 + 405_000;
        let at = sel.at.expect("a start");
        assert_eq!(at / 1000, (day * crate::event::MICROS_PER_DAY + tod) / 1000);
    }

    /// pjsip logs give the addresses the log names, and a 486 its code.
    #[test]
    fn a_logged_busy_call_carries_its_status() {
        let items = items(&["busy-486/caller.log"]);
        let call = items.iter().find(|i| i.kind == "call").expect("a call");
        assert_eq!(call.select.code, Some(486));
        assert!(call.select.methods.contains(&"INVITE".to_string()));
        assert!(!call.select.ips.is_empty(), "{:?}", call.select);
        assert!(
            call.select.ips.iter().all(|ip| !ip.contains(':')),
            "no ports: {:?}",
            call.select.ips
        );
    }
}

/// The streams of a call on its ladder, and a finding about a stream as a badge on it (the
/// media rules set [`Finding::stream`]; here one is made by hand on a recorded capture).
#[cfg(test)]
mod stream_tests {
    use super::{Gather, RowKind};
    use crate::dialog::{CorrelateOptions, Owner, correlate};
    use crate::ingest::{IngestOptions, ingest};
    use crate::report::Context;
    use crate::rules::{Diagnoses, Finding, REGISTRY};

    #[test]
    fn a_finding_on_a_stream_is_a_badge_on_its_line() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/media/pjsua-loss/call.pcap"
        );
        let opts = IngestOptions {
            media: true,
            ..IngestOptions::default()
        };
        let read = ingest(&[path.to_string()], &opts);
        let media = read.inputs[0].media.clone().expect("media counted");
        // The caller's stream, which lost packets on the way.
        let lossy = media
            .streams
            .iter()
            .position(|s| s.lost > 0)
            .expect("a stream with loss");
        let model = correlate(read.events, &CorrelateOptions::default());
        let ctx = Context {
            model: &model,
            inputs: &read.inputs,
            sources: &read.sources,
            diagnoses: &Diagnoses::NONE,
            lang: Default::default(),
        };
        let rule = REGISTRY[0];
        let on_stream = |index| {
            Finding::new(rule, Some(Owner::Call(0)), "m".into(), String::new()).on_stream(0, index)
        };
        // One on the lossy stream, one on a stream the capture does not have.
        let findings = [on_stream(lossy), on_stream(media.streams.len())];
        let details = Gather::default().add(&ctx, &findings);
        let d = &details[0];

        let streams: Vec<(usize, usize)> = (d.layout.rows.iter().enumerate())
            .filter_map(|(r, row)| match &row.kind {
                RowKind::Stream(v) => Some((r, v.index)),
                _ => None,
            })
            .collect();
        assert_eq!(streams.len(), 2, "both directions drawn");
        // Between the ACK and the BYE, at their first packets' times.
        let label = |r: usize| match &d.layout.rows[r].kind {
            RowKind::Message { label, .. } => label.clone(),
            _ => String::new(),
        };
        assert_eq!(label(streams[0].0 - 1), "ACK");
        assert_eq!(label(streams[1].0 + 1), "BYE");
        for (r, index) in &streams {
            let want: &[usize] = if *index == lossy { &[0] } else { &[] };
            assert_eq!(d.badges[*r], want, "row {r}, stream {index}");
        }
        // The finding whose stream is not on the ladder is listed below it.
        assert_eq!(d.unplaced, [1]);

        // The data the script reads: the stream's figures and its line's text.
        let json = serde_json::to_value(&d.layout.rows[streams[0].0]).expect("json");
        assert_eq!(json["kind"], "stream");
        assert_eq!(json["codec"], "PCMU");
        assert!(
            json["label"]
                .as_str()
                .is_some_and(|l| l.starts_with("RTP PCMU "))
        );
        assert!(json["last"].is_string() && json["ts"].is_string(), "{json}");
    }
}
