//! `sipflow calls`: one line per call as a table, or the versioned JSON document described in
//! `docs/output.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use serde::Serialize;

use super::{Context, clip, fmt_ms, pretty_element, pretty_nested, printable, write_pretty_array};
use crate::dialog::{Call, Flow, Outcome, Owner, Party};
use crate::event::Timestamp;
use crate::ingest::InputInfo;
use crate::sip::status;

/// The JSON document's version; bump it on any incompatible change.
pub const JSON_VERSION: u32 = 2;

#[derive(Serialize)]
pub struct CallsDoc<'a> {
    pub version: u32,
    pub inputs: &'a [InputInfo],
    pub calls: Vec<CallJson<'a>>,
    pub flows: Vec<FlowJson<'a>>,
}

/// The explanation of a call's or flow's final status, for JSON outputs: the code's generic
/// meaning (as `sipflow explain CODE`), or a finding's diagnosis of it.
#[derive(Serialize)]
pub struct StatusJson<'a> {
    pub class: Option<&'static str>,
    /// What the status means in this trace: a finding's diagnosis, else the generic meaning.
    pub meaning: &'a str,
    pub when: &'static str,
    pub action: &'a str,
    pub rfc: &'static str,
    /// The rule whose finding diagnosed the status (absent: the generic meaning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosed_by: Option<&'static str>,
}

impl<'a> StatusJson<'a> {
    pub fn of(ctx: &'a Context<'a>, owner: Owner, code: Option<u16>) -> Option<StatusJson<'a>> {
        let x = ctx.status_meaning(owner, code?);
        Some(StatusJson {
            class: x.generic.class.map(|c| c.name()),
            meaning: x.meaning,
            when: x.generic.when,
            action: x.action,
            rfc: x.generic.rfc,
            diagnosed_by: x.by,
        })
    }
}

#[derive(Serialize)]
pub struct PjsuaCallJson<'a> {
    pub input: &'a str,
    pub call: u32,
}

#[derive(Serialize)]
pub struct CallJson<'a> {
    pub index: usize,
    pub start: Timestamp,
    pub call_id: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub outcome: Outcome,
    pub final_status: Option<u16>,
    pub final_reason: Option<&'a str>,
    /// What the final status means and what to do (as `sipflow explain CODE`).
    pub status_explanation: Option<StatusJson<'a>>,
    pub setup_ms: Option<i64>,
    pub answer_ms: Option<i64>,
    pub duration_ms: Option<i64>,
    pub hung_up_by: Option<Party>,
    pub messages: usize,
    pub retransmissions: u32,
    pub dialogs: &'a [crate::dialog::call::Dialog],
    pub pjsua_calls: Vec<PjsuaCallJson<'a>>,
    pub log_events: usize,
    pub group: usize,
    pub linked: &'a [usize],
}

#[derive(Serialize)]
pub struct FlowJson<'a> {
    pub index: usize,
    pub start: Timestamp,
    pub call_id: &'a str,
    pub method: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub final_status: Option<u16>,
    pub final_reason: Option<&'a str>,
    pub status_explanation: Option<StatusJson<'a>>,
    pub messages: usize,
    pub retransmissions: u32,
    pub log_events: usize,
}

impl<'a> CallJson<'a> {
    /// Call `c`, the `ci`-th of the model.
    pub fn new(ctx: &'a Context<'a>, ci: usize, c: &'a Call) -> Self {
        CallJson {
            index: c.index,
            start: c.start,
            call_id: &c.call_id,
            from: c.from.as_deref(),
            to: c.to.as_deref(),
            outcome: c.outcome,
            final_status: c.final_status,
            final_reason: c.final_reason.as_deref(),
            status_explanation: StatusJson::of(ctx, Owner::Call(ci), c.final_status),
            setup_ms: c.setup_ms,
            answer_ms: c.answer_ms,
            duration_ms: c.duration_ms,
            hung_up_by: c.hung_up_by,
            messages: c.messages.len(),
            retransmissions: c.retransmissions,
            dialogs: &c.dialogs,
            pjsua_calls: c
                .pjsua_calls
                .iter()
                .map(|p| PjsuaCallJson {
                    input: ctx.input_name(p.input),
                    call: p.call,
                })
                .collect(),
            log_events: c.log_events.len(),
            group: c.group,
            linked: &c.linked,
        }
    }
}

impl<'a> FlowJson<'a> {
    /// Flow `f`, the `fi`-th of the model.
    pub fn new(ctx: &'a Context<'a>, fi: usize, f: &'a Flow) -> Self {
        FlowJson {
            index: f.index,
            start: f.start,
            call_id: &f.call_id,
            method: &f.method,
            from: f.from.as_deref(),
            to: f.to.as_deref(),
            final_status: f.final_status,
            final_reason: f.final_reason.as_deref(),
            status_explanation: StatusJson::of(ctx, Owner::Flow(fi), f.final_status),
            messages: f.messages.len(),
            retransmissions: f.retransmissions,
            log_events: f.log_events.len(),
        }
    }
}

pub fn write_json(ctx: &Context<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut doc = Doc::default();
    doc.add(ctx)?;
    doc.write(ctx.inputs, out)
}

/// The JSON document gathered model by model (a run analysed in windows adds one per window):
/// each call's and flow's JSON, already written. `write` puts them together exactly as
/// `serde_json`'s pretty printer writes [`CallsDoc`].
#[derive(Default)]
pub struct Doc {
    /// Each call's JSON and its Call-ID (its media is joined at the end).
    calls: Vec<(String, String)>,
    flows: Vec<String>,
}

/// One RTP stream of a call, in the `calls` JSON (from [`crate::media`]).
#[derive(Serialize)]
pub struct CallStreamJson<'a> {
    /// The capture it was counted in.
    pub input: &'a str,
    /// `caller_to_callee`, `callee_to_caller`, or null when the capture does not show who the
    /// caller is.
    pub direction: Option<crate::media::Direction>,
    pub src: std::net::SocketAddr,
    pub dst: std::net::SocketAddr,
    pub ssrc: &'a str,
    pub payloads: &'a [crate::media::PayloadType],
    pub packets: u64,
    pub lost: i64,
    pub max_delta_ms: f64,
    pub max_jitter_ms: f64,
    pub mean_jitter_ms: f64,
    pub mos: f64,
    /// RTP reaches the address the SDP named from another one (latching behind NAT).
    pub source_not_in_sdp: bool,
}

/// The streams of every capture in `inputs`, by the Call-ID of each call they belong to.
pub fn streams_by_call(inputs: &[InputInfo]) -> BTreeMap<&str, Vec<CallStreamJson<'_>>> {
    let mut by_call: BTreeMap<&str, Vec<CallStreamJson<'_>>> = BTreeMap::new();
    for input in inputs {
        let Some(media) = &input.media else { continue };
        for s in &media.streams {
            for c in &s.calls {
                by_call.entry(&c.call_id).or_default().push(CallStreamJson {
                    input: &input.name,
                    direction: c.direction,
                    src: s.src,
                    dst: s.dst,
                    ssrc: &s.ssrc,
                    payloads: &s.payloads,
                    packets: s.packets,
                    lost: s.lost,
                    max_delta_ms: s.max_delta_ms,
                    max_jitter_ms: s.max_jitter_ms,
                    mean_jitter_ms: s.mean_jitter_ms,
                    mos: s.mos,
                    source_not_in_sdp: c.source_not_in_sdp,
                });
            }
        }
    }
    by_call
}

impl Doc {
    pub fn add(&mut self, ctx: &Context<'_>) -> io::Result<()> {
        for (ci, c) in ctx.model.calls.iter().enumerate() {
            let json = pretty_element(&CallJson::new(ctx, ci, c))?;
            self.calls.push((json, c.call_id.clone()));
        }
        for (fi, f) in ctx.model.flows.iter().enumerate() {
            self.flows.push(pretty_element(&FlowJson::new(ctx, fi, f))?);
        }
        Ok(())
    }

    pub fn write(&self, inputs: &[InputInfo], out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{{\n  \"version\": {JSON_VERSION},")?;
        writeln!(out, "  \"inputs\": {},", pretty_nested(&inputs, "  ")?)?;
        // A call with RTP in a capture gets a last field, `media`: its streams.
        let streams = streams_by_call(inputs);
        let calls = self
            .calls
            .iter()
            .map(|(json, call_id)| {
                match (streams.get(call_id.as_str()), json.strip_suffix("\n    }")) {
                    (Some(media), Some(body)) => {
                        let media = pretty_nested(media, "      ")?;
                        Ok(format!("{body},\n      \"media\": {media}\n    }}"))
                    }
                    _ => Ok(json.clone()),
                }
            })
            .collect::<io::Result<Vec<String>>>()?;
        write_pretty_array(out, "calls", &calls, false)?;
        write_pretty_array(out, "flows", &self.flows, true)?;
        writeln!(out, "}}")
    }
}

/// `200 OK`, `487 Request Terminated`, or `-`.
pub fn status_text(code: Option<u16>, reason: Option<&str>) -> String {
    match (code, reason) {
        (Some(c), Some(r)) if !r.is_empty() => format!("{c} {}", printable(r)),
        (Some(c), _) => c.to_string(),
        (None, _) => "-".to_string(),
    }
}

/// The table: calls first, then non-call flows.
pub fn write_table(ctx: &Context<'_>, out: &mut dyn Write) -> io::Result<()> {
    let mut table = Table::default();
    table.add(ctx);
    table.write(ctx.inputs, out)
}

/// The table gathered model by model: its rows, and the final statuses for the legend.
#[derive(Default)]
pub struct Table {
    calls: Vec<[String; 9]>,
    /// Each call's Call-ID, for its media (joined at the end, as the JSON's).
    call_ids: Vec<String>,
    flows: Vec<[String; 7]>,
    /// Final statuses that some call or flow has with no diagnosis: their generic meaning.
    statuses: BTreeSet<u16>,
    /// (status, order) → `603 Decline (call 1), diagnosed by …: …`, for each call or flow whose
    /// status a finding explains.
    diagnosed: BTreeMap<(u16, usize), String>,
    /// The language of the generic meanings.
    lang: status::Lang,
}

const CALL_COLUMNS: [&str; 9] = [
    "#",
    "START",
    "CALL-ID",
    "FROM → TO",
    "OUTCOME",
    "STATUS",
    "SETUP",
    "DURATION",
    "MSGS",
];

const FLOW_COLUMNS: [&str; 7] = [
    "#",
    "START",
    "CALL-ID",
    "METHOD",
    "FROM → TO",
    "STATUS",
    "MSGS",
];

impl Table {
    pub fn add(&mut self, ctx: &Context<'_>) {
        self.lang = ctx.lang;
        for c in &ctx.model.calls {
            self.calls.push(call_row(c));
            self.call_ids.push(c.call_id.clone());
        }
        for f in &ctx.model.flows {
            self.flows.push(flow_row(f));
        }
        for meaning in meanings(ctx) {
            match meaning {
                Meaning::Diagnosed(code, line) => {
                    self.diagnosed.insert((code, self.diagnosed.len()), line);
                }
                Meaning::Generic(code) => {
                    self.statuses.insert(code);
                }
            }
        }
    }

    /// Writes the table; `inputs` are the run's inputs as read to the end (their media).
    pub fn write(&self, inputs: &[InputInfo], out: &mut dyn Write) -> io::Result<()> {
        let streams = streams_by_call(inputs);
        if self.calls.is_empty() {
            writeln!(out, "no calls")?;
        } else if streams.is_empty() {
            write_rows(out, CALL_COLUMNS, &self.calls)?;
        } else {
            // A last column, MEDIA, when a capture had RTP.
            let mut head = [""; 10];
            head[..9].copy_from_slice(&CALL_COLUMNS);
            head[9] = "MEDIA";
            let rows: Vec<[String; 10]> = (self.calls.iter().zip(&self.call_ids))
                .map(|(row, call_id)| {
                    let media = streams
                        .get(call_id.as_str())
                        .map_or_else(String::new, |s| media_cell(s));
                    std::array::from_fn(|i| row.get(i).cloned().unwrap_or_else(|| media.clone()))
                })
                .collect();
            write_rows(out, head, &rows)?;
            writeln!(
                out,
                "\nMEDIA: the codecs, then each RTP stream: → caller to callee, ← callee to caller, \
                 ? direction unknown (`sipflow media` has every figure)"
            )?;
        }
        if !self.flows.is_empty() {
            writeln!(out)?;
            write_rows(out, FLOW_COLUMNS, &self.flows)?;
        }
        // One line per final status that appears above: what it means (`sipflow explain
        // CODE`), and for each call or flow whose status a finding diagnosed, that diagnosis
        // instead.
        if !self.statuses.is_empty() || !self.diagnosed.is_empty() {
            writeln!(out)?;
            let codes: BTreeSet<u16> = (self.statuses.iter().copied())
                .chain(self.diagnosed.keys().map(|&(c, _)| c))
                .collect();
            for code in codes {
                if self.statuses.contains(&code) {
                    let x = status::explain_in(code, self.lang);
                    writeln!(out, "{code} {}: {}", x.reason, x.meaning)?;
                }
                for line in self.diagnosed.range((code, 0)..=(code, usize::MAX)) {
                    writeln!(out, "{}", line.1)?;
                }
            }
        }
        Ok(())
    }
}

/// A call's row: its index (with its B2BUA legs), start, Call-ID, parties, outcome, status,
/// setup time, duration and messages.
fn call_row(c: &Call) -> [String; 9] {
    let index = if c.linked.is_empty() {
        c.index.to_string()
    } else {
        let mut legs: Vec<usize> = c.linked.clone();
        legs.push(c.index);
        legs.sort_unstable();
        let legs: Vec<String> = legs.iter().map(ToString::to_string).collect();
        format!("{} (b2bua {})", c.index, legs.join("+"))
    };
    [
        index,
        c.start.to_string(),
        clip(&printable(&c.call_id), 40),
        parties(c.from.as_deref(), c.to.as_deref()),
        c.outcome.as_str().to_string(),
        status_text(c.final_status, c.final_reason.as_deref()),
        fmt_ms(c.setup_ms),
        fmt_ms(c.duration_ms),
        c.messages.len().to_string(),
    ]
}

/// A non-call flow's row.
fn flow_row(f: &Flow) -> [String; 7] {
    [
        format!("F{}", f.index),
        f.start.to_string(),
        clip(&printable(&f.call_id), 40),
        printable(&f.method),
        parties(f.from.as_deref(), f.to.as_deref()),
        status_text(f.final_status, f.final_reason.as_deref()),
        f.messages.len().to_string(),
    ]
}

/// What a final status under the table says.
enum Meaning {
    /// A finding's diagnosis of one call's or flow's status: `603 Decline (call 1), diagnosed
    /// by …: …`.
    Diagnosed(u16, String),
    /// A status with no diagnosis: its generic meaning is shown once.
    Generic(u16),
}

/// The meaning of each final status of a model's calls, then flows, in order.
fn meanings(ctx: &Context<'_>) -> Vec<Meaning> {
    let calls = (ctx.model.calls.iter().enumerate())
        .map(|(ci, c)| (Owner::Call(ci), c.index.to_string(), c.final_status));
    let flows = (ctx.model.flows.iter().enumerate())
        .map(|(fi, f)| (Owner::Flow(fi), format!("F{}", f.index), f.final_status));
    let mut out = Vec::new();
    for (owner, name, code) in calls.chain(flows) {
        let Some(code) = code else { continue };
        let x = ctx.status_meaning(owner, code);
        out.push(match x.by {
            Some(rule) => {
                let kind = if matches!(owner, Owner::Call(_)) {
                    "call"
                } else {
                    "flow"
                };
                Meaning::Diagnosed(
                    code,
                    format!(
                        "{code} {} ({kind} {name}), diagnosed by {rule}: {}",
                        x.generic.reason, x.meaning
                    ),
                )
            }
            None => Meaning::Generic(code),
        });
    }
    out
}

/// The table of a run that follows live inputs: the head once, then each call's and flow's
/// row as its window is written, in one table (a flow's row has `F<n>` and its method under
/// OUTCOME). Columns have fixed widths, so that a row need not wait for the ones after it:
/// Call-IDs, parties and statuses are cut with `…` to fit, and an index or time longer than
/// its column shifts the rest of its row. Under each window's rows, indented, what their
/// final statuses mean: a status's generic meaning the first time it appears, a finding's
/// diagnosis for each call or flow it diagnosed. No MEDIA column: a capture's streams are
/// counted when it ends (`calls --format json` and `sipflow media` have them).
#[derive(Default)]
pub struct LiveTable {
    /// The START column's width, from the first row (a log's times all have one form).
    start: Option<usize>,
    /// The statuses whose generic meaning was written.
    explained: BTreeSet<u16>,
    rows: usize,
}

/// The live table's columns: heads and widths (the last is not padded).
const LIVE_COLUMNS: [(&str, usize); 9] = [
    ("#", 4),
    ("START", 0),
    ("CALL-ID", 32),
    ("FROM → TO", 45),
    ("OUTCOME", 10),
    ("STATUS", 22),
    ("SETUP", 7),
    ("DURATION", 8),
    ("MSGS", 0),
];

impl LiveTable {
    /// Writes a window's rows (the head before the first), and what their statuses mean.
    pub fn add(&mut self, ctx: &Context<'_>, out: &mut dyn Write) -> io::Result<()> {
        let live_parties = |from: Option<&str>, to: Option<&str>| {
            let p = |s: Option<&str>| clip(&printable(s.unwrap_or("?")), 21);
            format!("{} → {}", p(from), p(to))
        };
        let mut rows: Vec<[String; 9]> = Vec::new();
        for c in &ctx.model.calls {
            let mut row = call_row(c);
            row[2] = clip(&printable(&c.call_id), 32);
            row[3] = live_parties(c.from.as_deref(), c.to.as_deref());
            row[5] = clip(&row[5], 22);
            rows.push(row);
        }
        for f in &ctx.model.flows {
            rows.push([
                format!("F{}", f.index),
                f.start.to_string(),
                clip(&printable(&f.call_id), 32),
                live_parties(f.from.as_deref(), f.to.as_deref()),
                clip(&printable(&f.method), 10),
                clip(&status_text(f.final_status, f.final_reason.as_deref()), 22),
                "-".to_string(),
                "-".to_string(),
                f.messages.len().to_string(),
            ]);
        }
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let start = *self
            .start
            .get_or_insert_with(|| first[1].chars().count().max(LIVE_COLUMNS[1].0.len()));
        let widths = LIVE_COLUMNS.map(|(_, w)| w);
        let widths: [usize; 9] = std::array::from_fn(|i| if i == 1 { start } else { widths[i] });
        if self.rows == 0 {
            let head = LIVE_COLUMNS.map(|(h, _)| h.to_string());
            write_fixed(out, &head, &widths)?;
        }
        for row in &rows {
            write_fixed(out, row, &widths)?;
        }
        self.rows += rows.len();
        for meaning in meanings(ctx) {
            match meaning {
                Meaning::Diagnosed(_, line) => writeln!(out, "  {line}")?,
                Meaning::Generic(code) => {
                    if self.explained.insert(code) {
                        let x = status::explain_in(code, ctx.lang);
                        writeln!(out, "  {code} {}: {}", x.reason, x.meaning)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// What is left once the run is over: `no calls` if no row was written.
    pub fn finish(&self, out: &mut dyn Write) -> io::Result<()> {
        if self.rows == 0 {
            writeln!(out, "no calls")?;
        }
        Ok(())
    }
}

/// A row in columns of the given widths (at least), two spaces apart.
fn write_fixed(out: &mut dyn Write, row: &[String; 9], widths: &[usize; 9]) -> io::Result<()> {
    let mut line = String::new();
    for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
        line.push_str(cell);
        if i + 1 < row.len() {
            let pad = w.saturating_sub(cell.chars().count()) + 2;
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    writeln!(out, "{}", line.trim_end())
}

/// A call's streams in one cell: `PCMU →180 pkts 19 lost MOS 3.43 ←200 pkts 0 lost MOS 4.40`.
fn media_cell(streams: &[CallStreamJson<'_>]) -> String {
    let mut codecs: Vec<String> = Vec::new();
    for p in streams.iter().flat_map(|s| s.payloads) {
        let name = p
            .name
            .as_deref()
            .map_or_else(|| p.pt.to_string(), printable);
        if !codecs.contains(&name) {
            codecs.push(name);
        }
    }
    let mut ordered: Vec<&CallStreamJson<'_>> = streams.iter().collect();
    ordered.sort_by_key(|s| match s.direction {
        Some(crate::media::Direction::CallerToCallee) => 0,
        Some(crate::media::Direction::CalleeToCaller) => 1,
        None => 2,
    });
    let mut cell = codecs.join("/");
    for s in ordered {
        let arrow = match s.direction {
            Some(crate::media::Direction::CallerToCallee) => "→",
            Some(crate::media::Direction::CalleeToCaller) => "←",
            None => "?",
        };
        cell.push_str(&format!(
            " {arrow}{} pkts {} lost MOS {:.2}",
            s.packets,
            s.lost.max(0),
            s.mos
        ));
    }
    cell
}

fn parties(from: Option<&str>, to: Option<&str>) -> String {
    let p = |s: Option<&str>| clip(&printable(s.unwrap_or("?")), 40);
    format!("{} → {}", p(from), p(to))
}

/// Left-aligned columns under their heads, separated by two spaces, widths from the content.
fn write_rows<const N: usize>(
    out: &mut dyn Write,
    head: [&str; N],
    rows: &[[String; N]],
) -> io::Result<()> {
    let mut widths = head.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let head = head.map(String::from);
    for row in std::iter::once(&head).chain(rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            line.push_str(cell);
            if i + 1 < N {
                line.extend(std::iter::repeat_n(' ', w - cell.chars().count() + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
