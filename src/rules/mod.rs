//! Rules: turn the correlated model into explained findings.
//!
//! Owns: the [`Rule`] record (code, name, default severity, scope, docs with fixed sections,
//! check function), the ordered [`REGISTRY`], rule selection, severity overrides and
//! thresholds ([`RuleSettings`]), and [`Finding`]s as data with their evidence. One rule per
//! file, in the spirit of ruff. Does not own: correlation, and nothing here prints (the
//! renderers are in `report::findings`).

mod account_deleted;
mod auth_failed;
mod bye_right_after_answer;
mod call_object_freed_early;
mod call_rejected;
mod call_slots_exhausted;
mod cancel_answer_race;
mod codec_mismatch;
mod content_length_mismatch;
mod cseq_not_increasing;
mod dns_failure;
pub mod docs;
mod fate;
mod high_jitter;
mod invalid_sdp;
mod invite_timeout;
mod malformed_message;
mod media;
mod media_address_mismatch;
mod media_stopped;
mod missing_ack;
mod missing_mandatory_header;
mod no_common_codec;
mod no_media_received;
mod no_message_dumps;
mod no_sound_device;
mod oversized_udp_message;
mod packet_loss;
mod private_address_in_sdp;
mod redirect_not_followed;
mod registration_failed;
mod reinvite_glare;
mod retransmission_storm;
mod scanner_traffic;
mod session_timer_failure;
mod slow_call_setup;
mod slow_transport_connect;
mod stuck_in_proceeding;
mod subscription_failed;
mod thread_not_registered;
mod timers;
mod tls_failure;
mod transfer_failed;
mod transport_error;
mod truncated_log_record;
mod unknown_dialog;

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::Serialize;

use crate::dialog::{Model, Owner};
use crate::event::{Event, LogEvent, LogKind, Timestamp};
use crate::ingest::InputInfo;
use crate::sip::{HeaderName, SipMessage};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Message,
    Transaction,
    Dialog,
    Call,
    Log,
}

impl Scope {
    pub fn as_str(&self) -> &'static str {
        match self {
            Scope::Message => "message",
            Scope::Transaction => "transaction",
            Scope::Dialog => "dialog",
            Scope::Call => "call",
            Scope::Log => "log",
        }
    }
}

/// One rule. Each lives in its own file as a `pub(super) const RULE: Rule`.
pub struct Rule {
    /// Stable code, `SF` and three digits.
    pub code: &'static str,
    /// Stable name, read as the pattern found (`missing-ack`). Users put it in configs.
    pub name: &'static str,
    pub severity: Severity,
    pub scope: Scope,
    /// The rule judges intervals (timers, rates, "right after"): it says nothing where the input
    /// gives no times ([`crate::event::Timestamp::UNKNOWN`]), neither about such events nor
    /// about a call or flow that has one (see [`run`]).
    pub judges_time: bool,
    /// One line for `sipflow rules`.
    pub summary: &'static str,
    /// Markdown with the sections listed in [`DOC_SECTIONS`].
    pub docs: &'static str,
    pub check: fn(&Context<'_>, &mut Vec<Finding>),
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.name)
    }
}

/// The sections every rule's docs must have, in order. `## Severity` gives the rule's default
/// severity and exactly what evidence in the trace raises or lowers it (the policy is in
/// `docs/rules/README.md`).
pub const DOC_SECTIONS: [&str; 7] = [
    "## What it detects",
    "## Why it matters",
    "## Severity",
    "## Typical causes",
    "## How to fix",
    "## Example",
    "## References",
];

/// Every rule, ordered by code. Drives `check`, `--select`, `rules`, `explain` and the docs.
pub static REGISTRY: &[&Rule] = &[
    &call_object_freed_early::RULE,
    &missing_ack::RULE,
    &invite_timeout::RULE,
    &stuck_in_proceeding::RULE,
    &auth_failed::RULE,
    &registration_failed::RULE,
    &unknown_dialog::RULE,
    &cancel_answer_race::RULE,
    &reinvite_glare::RULE,
    &no_common_codec::RULE,
    &private_address_in_sdp::RULE,
    &session_timer_failure::RULE,
    &redirect_not_followed::RULE,
    &retransmission_storm::RULE,
    &transport_error::RULE,
    &thread_not_registered::RULE,
    &no_sound_device::RULE,
    &account_deleted::RULE,
    &call_slots_exhausted::RULE,
    &truncated_log_record::RULE,
    &malformed_message::RULE,
    &missing_mandatory_header::RULE,
    &content_length_mismatch::RULE,
    &cseq_not_increasing::RULE,
    &slow_call_setup::RULE,
    &bye_right_after_answer::RULE,
    &call_rejected::RULE,
    &no_message_dumps::RULE,
    &scanner_traffic::RULE,
    &oversized_udp_message::RULE,
    &transfer_failed::RULE,
    &subscription_failed::RULE,
    &dns_failure::RULE,
    &tls_failure::RULE,
    &no_media_received::RULE,
    &media_stopped::RULE,
    &packet_loss::RULE,
    &high_jitter::RULE,
    &codec_mismatch::RULE,
    &media_address_mismatch::RULE,
    &invalid_sdp::RULE,
    &slow_transport_connect::RULE,
];

/// Finds a rule by code or name (case-insensitive).
pub fn lookup(key: &str) -> Option<&'static Rule> {
    REGISTRY
        .iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(key) || r.name.eq_ignore_ascii_case(key))
}

/// Limits some rules compare against (`[thresholds]` in `sipflow.toml`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// `slow-call-setup`: INVITE to first 18x above this (ms).
    pub slow_setup_ms: i64,
    /// `stuck-in-proceeding`: a provisional response and no final one for longer (ms).
    pub stuck_proceeding_ms: i64,
    /// `retransmission-storm`: more retransmissions of one message than this.
    pub retransmissions: u32,
    /// `bye-right-after-answer`: a BYE from the answerer within this long after the ACK (ms).
    pub bye_after_answer_ms: i64,
    /// `bye-right-after-answer`: a BYE from the caller within this long after the ACK (ms).
    /// Shorter than the answerer's: a caller ends a call it made at once on purpose only in a
    /// test or a probe, and those (SIPp, dialers) pause for a few hundred milliseconds.
    pub caller_bye_after_answer_ms: i64,
    /// `no-media-received`: an answered call must have been up longer than this (ms) for a
    /// direction without RTP to count.
    pub no_media_call_ms: i64,
    /// `media-stopped`: a direction's RTP stopped at least this long (ms) before the call ended
    /// (or the capture did).
    pub media_stopped_ms: i64,
    /// `packet-loss`: a direction of RTP losing more than this share of its packets (%).
    pub packet_loss_percent: f64,
    /// `packet-loss`, `high-jitter`: streams shorter than this many packets are not judged.
    pub packet_loss_min_packets: u64,
    /// `high-jitter`: RFC 3550 jitter above this mean (ms).
    pub jitter_mean_ms: u32,
    /// `high-jitter`: RFC 3550 jitter above this maximum (ms).
    pub jitter_max_ms: u32,
    /// `slow-transport-connect`: a TCP/TLS connection that took this long or longer (ms).
    pub slow_connect_ms: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            slow_setup_ms: 5_000,
            stuck_proceeding_ms: 30_000,
            retransmissions: 6,
            bye_after_answer_ms: 1_000,
            caller_bye_after_answer_ms: 100,
            no_media_call_ms: 3_000,
            media_stopped_ms: 3_000,
            packet_loss_percent: 5.0,
            packet_loss_min_packets: 50,
            jitter_mean_ms: 30,
            jitter_max_ms: 50,
            slow_connect_ms: 3_000,
        }
    }
}

/// Thresholds and selection, validated from flags and `sipflow.toml`.
#[derive(Debug, Clone, Default)]
pub struct RuleSettings {
    pub thresholds: Thresholds,
    /// Rules to run (codes); empty means all.
    pub select: Vec<&'static str>,
    /// Rules not to run (codes).
    pub ignore: Vec<&'static str>,
    /// Severity overrides by code.
    pub severity: BTreeMap<&'static str, Severity>,
}

impl RuleSettings {
    fn enabled(&self, rule: &Rule) -> bool {
        (self.select.is_empty() || self.select.contains(&rule.code))
            && !self.ignore.contains(&rule.code)
    }
}

/// What a rule's check sees.
pub struct Context<'a> {
    pub model: &'a Model,
    pub settings: &'a RuleSettings,
    pub inputs: &'a [InputInfo],
    /// The time of the last event of each input: how far each vantage point saw, for rules
    /// that need "nothing came before the input ended". Computed once per run.
    pub input_ends: Vec<Option<crate::event::Timestamp>>,
    /// Whether `inputs` are final and this model is the last (or only) one of the run: rules
    /// about whole inputs run only then (output written window by window sees several models;
    /// see [`crate::dialog::window`]).
    pub whole_inputs: bool,
    /// What rules remember from one window to the next (see [`Memory`]). A run that judges
    /// window after window moves it from each window's context into the next.
    pub memory: Memory,
    /// What several rules read about this window, computed once (see [`Shared`]); a new
    /// context starts with none (`Shared::default()`).
    pub shared: Shared,
}

/// Analyses of one window that several rules read, each computed once, by whichever rule asks
/// first (the rules run in parallel). Each is a function of the window's model and of the
/// [`Memory`] before it, so what any rule finds does not depend on which asked first.
#[derive(Debug, Default)]
pub struct Shared {
    /// `scanner-traffic`'s findings and the sources it knows as scanners: `auth-failed` and
    /// `registration-failed` lower their findings on a scanner's requests.
    scanner: std::sync::OnceLock<scanner_traffic::Window>,
}

/// What rules remember across the windows of one run, for patterns that spread over many
/// calls and flows (a scanner's sweep): bounded whatever the input's size. One model judged
/// alone starts with an empty one ([`Context::new`]).
#[derive(Debug, Default)]
pub struct Memory {
    /// `scanner-traffic`: what each source has done so far.
    scanner: std::sync::Mutex<scanner_traffic::Sources>,
}

impl<'a> Context<'a> {
    pub fn new(model: &'a Model, settings: &'a RuleSettings, inputs: &'a [InputInfo]) -> Self {
        let mut input_ends = vec![None; inputs.len()];
        for ev in &model.events {
            let i = ev.origin().input;
            if input_ends.len() <= i {
                input_ends.resize(i + 1, None);
            }
            input_ends[i] =
                Some(input_ends[i].map_or(ev.ts(), |t: crate::event::Timestamp| t.max(ev.ts())));
        }
        Context {
            model,
            settings,
            inputs,
            input_ends,
            whole_inputs: true,
            memory: Memory::default(),
            shared: Shared::default(),
        }
    }

    pub fn input_name(&self, index: usize) -> &str {
        self.inputs.get(index).map_or("?", |i| i.name.as_str())
    }

    /// The wire messages `wires` that parse, with their times: (wire index, time, message).
    pub fn parsed(&self, wires: &[usize]) -> Vec<(usize, Timestamp, &'a SipMessage)> {
        let model = self.model;
        wires
            .iter()
            .filter_map(|&w| {
                let ev = model.message(w);
                Some((w, ev.ts, ev.parsed()?))
            })
            .collect()
    }

    /// The log events linked to a call, with their event indexes, in order.
    pub fn call_logs(&self, call: usize) -> impl Iterator<Item = (usize, &'a LogEvent)> + 'a {
        let model = self.model;
        model.calls[call]
            .log_events
            .iter()
            .filter_map(move |&e| match &model.events[e] {
                Event::Log(l) => Some((e, l)),
                Event::Message(_) => None,
            })
    }

    /// The inputs that saw a wire message.
    pub fn inputs_of(&self, wire: usize) -> impl Iterator<Item = usize> + '_ {
        self.model.messages[wire]
            .sightings
            .iter()
            .map(|&e| self.model.events[e].origin().input)
    }

    /// How far `inputs` saw: the latest of their ends.
    pub fn seen_until(
        &self,
        inputs: impl IntoIterator<Item = usize>,
    ) -> Option<crate::event::Timestamp> {
        inputs
            .into_iter()
            .filter_map(|i| self.input_ends.get(i).copied().flatten())
            .max()
    }

    /// How long the inputs that saw wire message `w` go on after it (ms; 0 when no input's end
    /// is known): whether the input covers a timer that started with `w`.
    pub fn covered_after(&self, w: usize) -> i64 {
        let t0 = self.model.message(w).ts;
        self.seen_until(self.inputs_of(w))
            .map_or(0, |end| t0.ms_until(end))
    }

    /// The parsed message of event `event`; `None` for a log event or a message that did not
    /// parse.
    pub fn parsed_at(&self, event: usize) -> Option<&'a SipMessage> {
        match self.model.events.get(event)? {
            Event::Message(m) => m.parsed(),
            Event::Log(_) => None,
        }
    }

    /// A span in the parsed message of event `event`, found by `find` (for
    /// [`Finding::with_span`]); `None` when the event is not a parsed message.
    pub fn span_in(
        &self,
        event: usize,
        find: impl FnOnce(&'a SipMessage) -> Option<Range<usize>>,
    ) -> Option<Range<usize>> {
        self.parsed_at(event).and_then(find)
    }

    /// The span of the start line (request line or status line) of the message of `event`.
    pub fn start_line_of(&self, event: usize) -> Option<Range<usize>> {
        self.span_in(event, |m| Some(m.start_span()))
    }

    /// The span of the first `name` header of the message of `event`.
    pub fn header_of(&self, event: usize, name: HeaderName) -> Option<Range<usize>> {
        self.span_in(event, |m| m.header_span(name))
    }

    /// The sighting of a wire message in `input`, else its first sighting.
    pub fn sighting_in(&self, wire: usize, input: Option<usize>) -> usize {
        let w = &self.model.messages[wire];
        input
            .and_then(|i| {
                w.sightings
                    .iter()
                    .copied()
                    .find(|&s| self.model.events[s].origin().input == i)
            })
            .unwrap_or(w.event)
    }
}

/// A duration for messages: `31.5 s`.
pub fn secs(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// A sort key that groups findings by call, then flow, then none.
pub fn owner_sort_key(owner: Option<Owner>, fallback: usize) -> (u8, usize) {
    match owner {
        Some(Owner::Call(c)) => (0, c),
        Some(Owner::Flow(f)) => (1, f),
        None => (2, fallback),
    }
}

/// The first log event of `kind` (by a predicate) among `logs`.
pub fn find_log<'a>(
    logs: &[(usize, &'a LogEvent)],
    pred: impl Fn(&LogKind) -> bool,
) -> Option<(usize, &'a LogEvent)> {
    logs.iter().copied().find(|(_, l)| pred(&l.kind))
}

/// One thing a finding rests on: an event (message sighting or log line) and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Index into [`Model::events`].
    pub event: usize,
    /// The part of the message that is the evidence: a byte range into the raw bytes of the
    /// message of `event` ([`SipMessage::raw`] when it parsed, [`crate::sip::Unparsed::raw`]
    /// when it did not), e.g. one header ([`crate::sip::Header::span`]), an SDP line, the
    /// start line, or where parsing failed. `None`: the message as a whole, or a log event.
    ///
    /// When set it is never empty and lies within those raw bytes ([`run`] drops a span that
    /// does not). It indexes the message, not the input: a report maps it into the input
    /// itself (a log dump's lines, a packet's payload). Machine output formats do not carry
    /// it.
    pub span: Option<Range<usize>>,
    pub label: String,
}

/// A rule's finding, as data. Renderers decide how it looks.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    /// How bad it is: the rule's default, raised or lowered by the rule from the evidence
    /// (its docs' `## Severity`), lowered to info by [`run`] when another rule reports the same
    /// evidence as an error ([`PRECEDENCE`]), and replaced by the user's override if any.
    pub severity: Severity,
    pub message: String,
    /// The call or flow it is about, if any.
    pub owner: Option<Owner>,
    /// The input a finding is about when no event is (e.g. a log without message dumps).
    pub input: Option<usize>,
    /// In the order the rule found them; the first is the primary location.
    pub evidence: Vec<Evidence>,
    pub help: String,
    /// What the final status of the finding's call or flow means in this trace, when the
    /// finding knows better than the status code's generic meaning (see
    /// [`Finding::explains_status`]).
    pub status: Option<StatusNote>,
    /// The media stream it is about, if any (media rules; see [`Finding::on_stream`]).
    pub stream: Option<StreamRef>,
}

/// A media stream of an input: `inputs[input].media.streams[index]`
/// ([`crate::ingest::InputInfo::media`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamRef {
    pub input: usize,
    pub index: usize,
}

/// A finding's explanation of its owner's final status (see [`Finding::explains_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusNote {
    /// The status code it explains; the note applies only while the owner's final status is
    /// this code.
    pub code: u16,
    /// One sentence: what the status means here (replaces the code's generic meaning).
    pub text: String,
}

impl Finding {
    /// A finding with the rule's default severity.
    pub fn new(rule: &'static Rule, owner: Option<Owner>, message: String, help: String) -> Self {
        Finding {
            rule,
            severity: rule.severity,
            message,
            owner,
            input: None,
            evidence: Vec::new(),
            help,
            status: None,
            stream: None,
        }
    }

    /// Says which media stream the finding is about (a report draws its badge on that stream).
    pub fn on_stream(mut self, input: usize, index: usize) -> Self {
        self.stream = Some(StreamRef { input, index });
        self
    }

    /// Says that this finding explains its call's (or flow's) final status `code`: wherever
    /// that status is explained (the calls table, the ladder summary, the JSON
    /// `status_explanation`, the HTML report, `call-rejected`'s finding), `text` and the
    /// finding's help replace the code's generic meaning and action. E.g.
    /// `call-object-freed-early` says a 603 was not declined by anyone. Ignored when the owner's
    /// final status is another code. A rule that calls it must be listed in
    /// [`EXPLAINS_STATUS`] (views such as `sipflow calls` run only those rules).
    pub fn explains_status(mut self, code: u16, text: impl Into<String>) -> Self {
        self.status = Some(StatusNote {
            code,
            text: text.into(),
        });
        self
    }

    /// Adds evidence that is a whole event (a message, a log line).
    pub fn with(self, event: usize, label: impl Into<String>) -> Self {
        self.with_span(event, None, label)
    }

    /// Adds evidence that is a part of the message of `event`: `span` is a byte range into its
    /// raw bytes (see [`Evidence::span`]). Takes a `Range` or an `Option<Range>` (the helpers
    /// [`Context::start_line_of`], [`Context::header_of`], [`Context::span_in`] give one);
    /// `None` or an empty range makes it evidence about the whole event, as [`Finding::with`].
    pub fn with_span(
        mut self,
        event: usize,
        span: impl Into<Option<Range<usize>>>,
        label: impl Into<String>,
    ) -> Self {
        self.evidence.push(Evidence {
            event,
            span: span.into().filter(|r| r.start < r.end),
            label: label.into(),
        });
        self
    }

    /// The event the finding points at first (its location), if any.
    pub fn primary_event(&self) -> Option<usize> {
        self.evidence.first().map(|e| e.event)
    }
}

/// Runs every enabled rule. Findings come out in a stable order: by the event they point at,
/// then by rule code.
pub fn run(ctx: &Context<'_>) -> Vec<Finding> {
    let rules: Vec<&Rule> = REGISTRY
        .iter()
        .copied()
        .filter(|r| ctx.settings.enabled(r))
        .collect();
    // The rules only read the model: they run on every core, on rayon's pool (its threads live
    // as long as the process: none is started per window). Their findings are collected in
    // registry order, so the result is the same as one after the other.
    let untimed = Untimed::of(ctx.model);
    let per_rule: Vec<Vec<Finding>> = rules
        .par_iter()
        .map(|rule| {
            let mut found = Vec::new();
            (rule.check)(ctx, &mut found);
            if let Some(untimed) = untimed.as_ref().filter(|_| rule.judges_time) {
                found.retain(|f| !untimed.touches(f));
            }
            if let Some(&sev) = ctx.settings.severity.get(rule.code) {
                for f in &mut found {
                    f.severity = sev;
                }
            }
            found
        })
        .collect();
    let mut out: Vec<Finding> = per_rule.into_iter().flatten().collect();
    debug_assert!(
        out.iter()
            .all(|f| f.status.is_none() || EXPLAINS_STATUS.contains(&f.rule.name)),
        "a rule that explains statuses is missing from EXPLAINS_STATUS"
    );
    out.sort_by_key(|f| (f.primary_event().unwrap_or(usize::MAX), f.rule.code));
    for f in &mut out {
        for e in &mut f.evidence {
            if let Some(span) = &e.span {
                let fits = span_fits(ctx.model, e.event, span);
                debug_assert!(
                    fits,
                    "{}: evidence span {span:?} does not fit event {}",
                    f.rule.code, e.event
                );
                if !fits {
                    e.span = None;
                }
            }
        }
    }
    one_error_per_problem(ctx, &mut out);
    symptoms_explained(ctx, &mut out);
    let diagnoses = Diagnoses::of(ctx.model, &out);
    for f in &mut out {
        call_rejected::diagnosed(ctx.model, &diagnoses, f);
    }
    out
}

/// The events and owners (calls, flows) of a model that have an event without a time.
struct Untimed {
    events: Vec<bool>,
    owners: std::collections::BTreeSet<Owner>,
}

impl Untimed {
    /// `None` when every event has a time (nearly always: then nothing is checked).
    fn of(model: &Model) -> Option<Untimed> {
        let events: Vec<bool> = model.events.iter().map(|e| !e.ts().is_known()).collect();
        if !events.contains(&true) {
            return None;
        }
        let owners = events
            .iter()
            .zip(&model.event_owner)
            .filter_map(|(&unknown, owner)| if unknown { *owner } else { None })
            .collect();
        Some(Untimed { events, owners })
    }

    /// Whether a finding rests on an event without a time, or is about a call or flow that has
    /// one.
    fn touches(&self, f: &Finding) -> bool {
        f.owner.is_some_and(|o| self.owners.contains(&o))
            || f.evidence
                .iter()
                .any(|e| self.events.get(e.event).copied().unwrap_or(false))
    }
}

/// One problem, one error: an error finding whose primary evidence (its first: the same wire
/// message, whichever input saw it, or the same log line) is also evidence of an error of a
/// more specific rule ([`PRECEDENCE`]) becomes info and names that rule. A finding whose rule
/// has a user's severity override is never lowered.
fn one_error_per_problem(ctx: &Context<'_>, found: &mut [Finding]) {
    let mut errors: Vec<usize> = (0..found.len())
        .filter(|&i| found[i].severity == Severity::Error)
        .collect();
    if errors.len() < 2 {
        return;
    }
    // Event → its wire message, for message events.
    let mut wire_of = vec![None; ctx.model.events.len()];
    for (w, m) in ctx.model.messages.iter().enumerate() {
        for &e in &m.sightings {
            if let Some(slot) = wire_of.get_mut(e) {
                *slot = Some(w);
            }
        }
    }
    // (is a log event, wire message or event index).
    let key = |e: usize| match wire_of.get(e).copied().flatten() {
        Some(w) => (false, w),
        None => (true, e),
    };
    // Evidence → the error findings that rest on it first.
    let mut by_primary: BTreeMap<(bool, usize), Vec<usize>> = BTreeMap::new();
    for &i in &errors {
        if let Some(e) = found[i].primary_event() {
            by_primary.entry(key(e)).or_default().push(i);
        }
    }
    // The most specific first: each keeps its error and lowers the less specific errors that
    // rest first on any of its evidence.
    errors.sort_by_key(|&i| (precedence(found[i].rule), i));
    for &i in &errors {
        if found[i].severity != Severity::Error {
            continue;
        }
        let winner = found[i].rule;
        let rank = precedence(winner);
        let mut keys: Vec<(bool, usize)> = found[i].evidence.iter().map(|e| key(e.event)).collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            for &j in by_primary.get(&k).map_or(&[][..], Vec::as_slice) {
                let f = &mut found[j];
                if f.severity != Severity::Error
                    || f.rule.code == winner.code
                    || precedence(f.rule) <= rank
                    || ctx.settings.severity.contains_key(f.rule.code)
                {
                    continue;
                }
                f.severity = Severity::Info;
                f.message.push_str(&format!(
                    " (info here: `{}` reports this as an error, on the same evidence)",
                    winner.name
                ));
            }
        }
    }
}

/// One problem, one finding, for rules that report what a call did rather than why
/// ([`EXPLAINED_BY`]): a warning or error of such a rule becomes info, and names the rule, when
/// a rule that reports a cause found a warning or an error on the same call. A finding whose
/// rule has a user's severity override is never lowered.
fn symptoms_explained(ctx: &Context<'_>, found: &mut [Finding]) {
    let causes: Vec<(Owner, &'static str)> = found
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .filter_map(|f| Some((f.owner?, f.rule.name)))
        .collect();
    for f in found.iter_mut() {
        let Some(&(_, explained_by)) = EXPLAINED_BY.iter().find(|(s, _)| *s == f.rule.name) else {
            continue;
        };
        if f.severity == Severity::Info || ctx.settings.severity.contains_key(f.rule.code) {
            continue;
        }
        let Some(&(_, cause)) = causes
            .iter()
            .find(|(o, c)| Some(*o) == f.owner && explained_by.contains(c))
        else {
            continue;
        };
        f.severity = Severity::Info;
        f.message.push_str(&format!(
            " (info here: `{cause}` reports the cause, on the same call)"
        ));
    }
}

/// The rules that report what a call did (a symptom), each with the rules that report a cause
/// of it: a finding of the first is info when one of the others reports the same call (see
/// [`symptoms_explained`]). E.g. a caller that hangs up right after the answer because the
/// answer shares no codec with its offer: `no-common-codec` is the problem,
/// `bye-right-after-answer` its timing. (`call-object-freed-early` explains a callee's BYE more
/// precisely, by the BYE itself: `bye-right-after-answer` asks it.)
pub static EXPLAINED_BY: &[(&str, &[&str])] = &[("bye-right-after-answer", &["no-common-codec"])];

/// A rule's rank for [`one_error_per_problem`]: unlisted rules first (in registry order), then
/// [`PRECEDENCE`] in its order.
fn precedence(rule: &Rule) -> (usize, usize) {
    let listed = PRECEDENCE
        .iter()
        .position(|&n| n == rule.name)
        .map_or(0, |p| p + 1);
    let registered = REGISTRY
        .iter()
        .position(|r| r.code == rule.code)
        .unwrap_or(usize::MAX);
    (listed, registered)
}

/// One problem, one error: the rules whose errors another rule's error on the same evidence may
/// explain, from the most specific to the most general. When an error's primary evidence is
/// also evidence of an error of a rule ranked before it, it is lowered to info; a rule not
/// listed here comes before every listed one (a rule about a cause is more specific than one
/// about an outcome), and two unlisted rules go by registry order.
/// E.g. a REGISTER refused with 401 although it carried credentials is `auth-failed`'s error;
/// `registration-failed` on the same 401 is info. See `docs/rules/README.md`.
pub static PRECEDENCE: &[&str] = &[
    "auth-failed",
    "no-common-codec",
    "missing-mandatory-header",
    "cancel-answer-race",
    "unknown-dialog",
    "missing-ack",
    "registration-failed",
    "invite-timeout",
    "stuck-in-proceeding",
    "call-rejected",
];

/// The rules that may explain a call's or flow's final status ([`Finding::explains_status`]).
/// `sipflow calls` and `flow` run only these (with default settings) to explain statuses.
pub static EXPLAINS_STATUS: &[&str] = &["call-object-freed-early"];

impl RuleSettings {
    /// The settings that run only the rules of [`EXPLAINS_STATUS`] (for the views that explain
    /// statuses but show no findings).
    pub fn explaining_statuses() -> Self {
        RuleSettings {
            select: REGISTRY
                .iter()
                .filter(|r| EXPLAINS_STATUS.contains(&r.name))
                .map(|r| r.code)
                .collect(),
            ..RuleSettings::default()
        }
    }
}

/// What findings say the final statuses of calls and flows mean in this trace (see
/// [`Finding::explains_status`]), by call or flow of one model.
#[derive(Debug, Default, Clone)]
pub struct Diagnoses(BTreeMap<Owner, Diagnosis>);

/// One finding's explanation of its owner's final status.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub code: u16,
    /// What the status means here.
    pub text: String,
    /// What to do (the finding's help).
    pub help: String,
    /// The rule that explains it.
    pub rule: &'static Rule,
}

impl Diagnoses {
    /// None: every status keeps its generic meaning.
    pub const NONE: Diagnoses = Diagnoses(BTreeMap::new());

    /// The explanations `found` gives of the statuses of `model`'s calls and flows: a note
    /// counts only while its code is the owner's final status; of several, the most severe
    /// finding's (then the first).
    pub fn of(model: &Model, found: &[Finding]) -> Self {
        let mut out: BTreeMap<Owner, (Severity, Diagnosis)> = BTreeMap::new();
        for f in found {
            let (Some(note), Some(owner)) = (&f.status, f.owner) else {
                continue;
            };
            let status = match owner {
                Owner::Call(c) => model.calls.get(c).and_then(|c| c.final_status),
                Owner::Flow(x) => model.flows.get(x).and_then(|x| x.final_status),
            };
            if status != Some(note.code) {
                continue;
            }
            if out.get(&owner).is_some_and(|(s, _)| *s >= f.severity) {
                continue;
            }
            let d = Diagnosis {
                code: note.code,
                text: note.text.clone(),
                help: f.help.clone(),
                rule: f.rule,
            };
            out.insert(owner, (f.severity, d));
        }
        Diagnoses(out.into_iter().map(|(o, (_, d))| (o, d)).collect())
    }

    /// The explanation of `owner`'s final status, if a finding gives one.
    pub fn get(&self, owner: Owner) -> Option<&Diagnosis> {
        self.0.get(&owner)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether `span` is a non-empty range within the raw bytes of the message of `event`.
fn span_fits(model: &Model, event: usize, span: &Range<usize>) -> bool {
    match model.events.get(event) {
        Some(Event::Message(m)) => span.start < span.end && span.end <= m.raw().len(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_codes_and_names_are_unique_and_ordered() {
        let codes: Vec<_> = REGISTRY.iter().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted, "codes unique and in order");
        let mut names: Vec<_> = REGISTRY.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len(), "names unique");
        for r in REGISTRY.iter() {
            assert!(r.code.len() == 5 && r.code.starts_with("SF"), "{}", r.code);
            assert!(
                r.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                r.name
            );
        }
    }

    #[test]
    fn every_rule_has_every_doc_section_in_order() {
        for r in REGISTRY.iter() {
            let mut at = 0;
            for section in DOC_SECTIONS {
                let found = r.docs[at..].find(section);
                assert!(
                    found.is_some(),
                    "{}: missing or misplaced {section}",
                    r.name
                );
                at += found.unwrap_or(0) + section.len();
            }
        }
    }

    #[test]
    fn precedence_lists_registered_rules_and_ranks_unlisted_rules_first() {
        for name in PRECEDENCE.iter().chain(EXPLAINS_STATUS) {
            assert!(lookup(name).is_some(), "{name}: not a rule");
        }
        let rank = |name: &str| precedence(lookup(name).expect("rule"));
        // A rule about a cause (not listed) before the listed ones; the list in its order.
        assert!(rank("call-object-freed-early") < rank("auth-failed"));
        assert!(rank("auth-failed") < rank("registration-failed"));
        assert!(rank("missing-mandatory-header") < rank("invite-timeout"));
        assert!(rank("cancel-answer-race") < rank("missing-ack"));
        // Two unlisted rules: by code.
        assert!(rank("call-object-freed-early") < rank("transport-error"));
    }

    /// A finding of `rule` at `severity` whose evidence is `events` (log events: the model
    /// has no wire messages).
    fn finding(rule: &str, severity: Severity, events: &[usize]) -> Finding {
        let rule = lookup(rule).expect("rule");
        let mut f = Finding::new(rule, None, format!("{} finding", rule.name), String::new());
        f.severity = severity;
        for &e in events {
            f = f.with(e, "evidence");
        }
        f
    }

    #[test]
    fn one_problem_one_error() {
        let model = Model::default();
        let settings = RuleSettings::default();
        let ctx = Context::new(&model, &settings, &[]);
        let mut found = vec![
            // The same refusal: the more specific rule keeps the error.
            finding("registration-failed", Severity::Error, &[5]),
            finding("auth-failed", Severity::Error, &[5, 6]),
            // Its primary evidence is only secondary evidence of a more specific error.
            finding("invite-timeout", Severity::Error, &[6]),
            // Other evidence: untouched.
            finding("registration-failed", Severity::Error, &[7]),
            // Not an error: untouched.
            finding("retransmission-storm", Severity::Warning, &[5]),
        ];
        one_error_per_problem(&ctx, &mut found);
        let got: Vec<Severity> = found.iter().map(|f| f.severity).collect();
        use Severity::*;
        assert_eq!(got, [Info, Error, Info, Error, Warning]);
        assert!(
            found[0]
                .message
                .contains("`auth-failed` reports this as an error")
        );

        // The user's override of a rule is never lowered.
        let settings = RuleSettings {
            severity: BTreeMap::from([("SF006", Error)]),
            ..RuleSettings::default()
        };
        let ctx = Context::new(&model, &settings, &[]);
        let mut found = vec![
            finding("registration-failed", Error, &[5]),
            finding("auth-failed", Error, &[5]),
        ];
        one_error_per_problem(&ctx, &mut found);
        assert_eq!(found[0].severity, Error);
        assert_eq!(found[1].severity, Error);
    }

    #[test]
    fn a_symptom_gives_way_to_its_cause_on_the_same_call() {
        let model = Model::default();
        let settings = RuleSettings::default();
        let ctx = Context::new(&model, &settings, &[]);
        let on = |rule: &str, severity, call| {
            let mut f = finding(rule, severity, &[1]);
            f.owner = Some(Owner::Call(call));
            f
        };
        use Severity::*;
        let mut found = vec![
            on("no-common-codec", Error, 0),
            on("bye-right-after-answer", Warning, 0),
            // Another call: untouched.
            on("bye-right-after-answer", Warning, 1),
            // Not a listed cause.
            on("slow-call-setup", Warning, 1),
        ];
        symptoms_explained(&ctx, &mut found);
        let got: Vec<Severity> = found.iter().map(|f| f.severity).collect();
        assert_eq!(got, [Error, Info, Warning, Warning]);
        assert!(
            found[1]
                .message
                .contains("`no-common-codec` reports the cause")
        );
        // The user's override is never lowered.
        let settings = RuleSettings {
            severity: BTreeMap::from([("SF026", Warning)]),
            ..RuleSettings::default()
        };
        let ctx = Context::new(&model, &settings, &[]);
        let mut found = vec![
            on("no-common-codec", Error, 0),
            on("bye-right-after-answer", Warning, 0),
        ];
        symptoms_explained(&ctx, &mut found);
        assert_eq!(found[1].severity, Warning);
        for (symptom, causes) in EXPLAINED_BY {
            assert!(lookup(symptom).is_some(), "{symptom}: not a rule");
            for c in *causes {
                assert!(lookup(c).is_some(), "{c}: not a rule");
            }
        }
    }

    #[test]
    fn a_status_note_counts_only_for_the_status_it_explains() {
        let mut model = Model::default();
        let mut call =
            crate::dialog::Call::new(1, "c".into(), None, 0, crate::event::Timestamp::default());
        call.final_status = Some(603);
        model.calls.push(call);
        let rule = lookup("call-object-freed-early").expect("rule");
        let note = |code| {
            Finding::new(rule, Some(Owner::Call(0)), "m".into(), "help".into())
                .explains_status(code, "not declined")
        };
        let d = Diagnoses::of(&model, &[note(603)]);
        let got = d.get(Owner::Call(0)).expect("a diagnosis");
        assert_eq!(
            (got.code, got.text.as_str(), got.help.as_str()),
            (603, "not declined", "help")
        );
        // A note about another code (the call ended otherwise): the generic meaning stays.
        assert!(Diagnoses::of(&model, &[note(486)]).is_empty());
    }

    #[test]
    fn lookup_by_code_or_name() {
        let r = lookup("call-object-freed-early").expect("by name");
        assert_eq!(lookup(r.code).map(|x| x.name), Some(r.name));
        assert_eq!(lookup("sf001").map(|x| x.code), Some("SF001"));
        assert!(lookup("nope").is_none());
    }
}
