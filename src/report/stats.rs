//! `sipflow stats`: figures over the (selected) calls of a run, gathered window by window: SIP
//! messages per method and status code (as `tshark -z sip,stat` counts them), retransmissions,
//! calls by outcome, ASR, NER, ACD, post-dial delay and setup-time percentiles, registrations by
//! result, top talkers and top failure codes; as a table or one JSON document, optionally as a
//! time series (`--by minute|hour`). Definitions: `docs/stats.md`.
//!
//! Owns: the figures and their formats. Does not own: which calls count (the selection, in
//! `cli`). Memory is bounded: counters stop adding keys at [`KEYS`] (the rest count under
//! `other`), and the percentiles keep one counter per distinct millisecond value.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::fmt_ms;
use crate::dialog::{Model, Outcome};
use crate::event::Timestamp;

/// The most distinct keys a counter holds (methods, addresses, codes); more count as `other`.
const KEYS: usize = 10_000;
/// How many talkers and failure codes the tops list.
const TOP: usize = 10;

/// The length of a time-series bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Minute,
    Hour,
}

impl Bucket {
    fn micros(self) -> i64 {
        match self {
            Bucket::Minute => 60_000_000,
            Bucket::Hour => 3_600_000_000,
        }
    }
}

/// The figures of a run, gathered window by window.
pub struct Stats {
    /// Count only the messages of the model's calls and flows (a selection is active): the
    /// others belong to calls that were not selected.
    owned_only: bool,
    by: Option<Bucket>,
    total: Figures,
    /// By bucket start (log time, microseconds), with its timestamp for display.
    series: BTreeMap<(bool, i64), (Timestamp, Figures)>,
    /// Address → (messages sent, received).
    talkers: Counter<(u64, u64)>,
}

/// What is counted over the run and over each bucket.
#[derive(Default, Serialize)]
struct Figures {
    messages: u64,
    retransmissions: u64,
    requests: Counter<u64>,
    responses: BTreeMap<u16, u64>,
    calls: u64,
    outcomes: BTreeMap<&'static str, u64>,
    /// Final statuses of calls and flows that failed (4xx–6xx).
    failures: BTreeMap<u16, u64>,
    /// REGISTER flows by final status (`none`: no final response in the input).
    registrations: Counter<u64>,
    duration: Hist,
    post_dial: Hist,
    setup: Hist,
    /// Calls ASR and NER are over, and those NER counts as delivered.
    seizures: (u64, u64),
}

/// A map that stops taking new keys at [`KEYS`].
#[derive(Default, Serialize)]
#[serde(transparent)]
struct Counter<V>(BTreeMap<String, V>);

impl<V: Default> Counter<V> {
    fn entry(&mut self, key: &str) -> &mut V {
        let key = if self.0.len() < KEYS || self.0.contains_key(key) {
            key
        } else {
            "other"
        };
        self.0.entry(key.to_string()).or_default()
    }
}

/// Millisecond values and how often each was seen: exact percentiles, memory bounded by the
/// range of values.
#[derive(Default, Serialize)]
#[serde(transparent)]
struct Hist(BTreeMap<i64, u64>);

impl Hist {
    fn add(&mut self, v: Option<i64>) {
        if let Some(v) = v.filter(|v| *v >= 0) {
            *self.0.entry(v).or_default() += 1;
        }
    }

    fn count(&self) -> u64 {
        self.0.values().sum()
    }

    /// The nearest-rank percentile `p` (0–100).
    fn percentile(&self, p: u64) -> Option<i64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = (p * n).div_ceil(100).max(1);
        let mut seen = 0;
        self.0.iter().find_map(|(v, c)| {
            seen += c;
            (seen >= rank).then_some(*v)
        })
    }

    fn mean(&self) -> Option<i64> {
        let n = self.count();
        let sum: i128 = self
            .0
            .iter()
            .map(|(v, c)| i128::from(*v) * i128::from(*c))
            .sum();
        (n > 0).then(|| i64::try_from(sum / i128::from(n)).unwrap_or(i64::MAX))
    }

    fn summary(&self) -> Option<Percentiles> {
        Some(Percentiles {
            count: self.count(),
            p50: self.percentile(50)?,
            p90: self.percentile(90)?,
            p95: self.percentile(95)?,
            p99: self.percentile(99)?,
            max: self.percentile(100)?,
        })
    }
}

#[derive(Serialize)]
struct Percentiles {
    count: u64,
    p50: i64,
    p90: i64,
    p95: i64,
    p99: i64,
    max: i64,
}

/// Whether a call's end counts for the network under NER (ITU-T E.425: answered, user busy,
/// ring no answer, terminal reject; RFC 6076's SEER codes 200, 480, 486, 600, 603), and the
/// calls ASR and NER are over ("seizures": every call with a final status but a 3xx, which
/// passes the call on; calls without a final status in the input are left out, as the input
/// may stop before it).
fn effective(outcome: Outcome, status: Option<u16>) -> Option<bool> {
    match outcome {
        Outcome::Incomplete | Outcome::Redirected => None,
        // The caller gave up while it rang: ring no answer.
        Outcome::Answered | Outcome::Busy | Outcome::Cancelled => Some(true),
        Outcome::Rejected | Outcome::Failed => Some(matches!(status, Some(480 | 486 | 600 | 603))),
    }
}

impl Figures {
    fn ratios(&self) -> Ratios {
        let seizures = self.seizures.0;
        let pct = |n: u64| (seizures > 0).then(|| n as f64 * 100.0 / seizures as f64);
        Ratios {
            seizures,
            asr: pct(self.answered()),
            ner: pct(self.seizures.1),
            acd_ms: self.duration.mean(),
        }
    }

    fn answered(&self) -> u64 {
        self.outcomes.get("answered").copied().unwrap_or(0)
    }
}

#[derive(Serialize)]
struct Ratios {
    seizures: u64,
    asr: Option<f64>,
    ner: Option<f64>,
    acd_ms: Option<i64>,
}

impl Stats {
    pub fn new(owned_only: bool, by: Option<Bucket>) -> Self {
        Stats {
            owned_only,
            by,
            total: Figures::default(),
            series: BTreeMap::new(),
            talkers: Counter::default(),
        }
    }

    /// The bucket of a time, if it is known and a series is asked for.
    fn bucket(&mut self, t: Timestamp) -> Option<&mut Figures> {
        let by = self.by?;
        if !t.is_known() {
            return None;
        }
        let start = t.micros - t.micros.rem_euclid(by.micros());
        let ts = Timestamp { micros: start, ..t };
        Some(
            &mut self
                .series
                .entry((t.dated, start))
                .or_insert_with(|| (ts, Figures::default()))
                .1,
        )
    }

    /// Adds a window's (selected) calls, flows and messages.
    pub fn add(&mut self, model: &Model) {
        for (w, wire) in model.messages.iter().enumerate() {
            if self.owned_only && model.message_owner.get(w).copied().flatten().is_none() {
                continue;
            }
            let m = model.message(w);
            let (method, status) = match m.parsed() {
                Some(p) => (p.method(), p.status()),
                None => (None, None),
            };
            let count = |f: &mut Figures| {
                f.messages += 1;
                f.retransmissions += u64::from(wire.retransmission);
                if let Some(method) = method {
                    *f.requests.entry(method) += 1;
                }
                if let Some(status) = status {
                    *f.responses.entry(status).or_default() += 1;
                }
            };
            count(&mut self.total);
            if let Some(b) = self.bucket(m.ts) {
                count(b);
            }
            if let Some(src) = &wire.src {
                self.talkers.entry(src).0 += 1;
            }
            if let Some(dst) = &wire.dst {
                self.talkers.entry(dst).1 += 1;
            }
        }
        for c in &model.calls {
            let count = |f: &mut Figures| {
                f.calls += 1;
                *f.outcomes.entry(c.outcome.as_str()).or_default() += 1;
                if let Some(effective) = effective(c.outcome, c.final_status) {
                    f.seizures.0 += 1;
                    f.seizures.1 += u64::from(effective);
                }
                if let Some(s) = c.final_status.filter(|s| *s >= 400) {
                    *f.failures.entry(s).or_default() += 1;
                }
                f.duration.add(c.duration_ms);
                f.post_dial.add(c.setup_ms);
                f.setup.add(c.answer_ms);
            };
            count(&mut self.total);
            if let Some(b) = self.bucket(c.start) {
                count(b);
            }
        }
        for f in &model.flows {
            let count = |fig: &mut Figures| {
                if let Some(s) = f.final_status.filter(|s| *s >= 400) {
                    *fig.failures.entry(s).or_default() += 1;
                }
                if f.method == "REGISTER" {
                    let result = f.final_status.map_or("none".to_string(), |s| s.to_string());
                    *fig.registrations.entry(&result) += 1;
                }
            };
            count(&mut self.total);
            if let Some(b) = self.bucket(f.start) {
                count(b);
            }
        }
    }

    /// The busiest addresses: messages sent and received, most first.
    fn top_talkers(&self) -> Vec<Talker<'_>> {
        let mut all: Vec<Talker<'_>> = (self.talkers.0.iter())
            .map(|(address, (sent, received))| Talker {
                address,
                sent: *sent,
                received: *received,
            })
            .collect();
        all.sort_by(|a, b| {
            (b.sent + b.received)
                .cmp(&(a.sent + a.received))
                .then(a.address.cmp(b.address))
        });
        all.truncate(TOP);
        all
    }

    /// The headline figures, as (label, value) lines: the HTML report's summary.
    pub fn headline(&self) -> Vec<(&'static str, String)> {
        let f = &self.total;
        let r = f.ratios();
        let pct = |p: Option<f64>| p.map_or("-".to_string(), |p| format!("{p:.1}%"));
        let spread = |h: &Hist| match h.summary() {
            Some(p) => format!(
                "p50 {} · p95 {} · max {}",
                fmt_ms(Some(p.p50)),
                fmt_ms(Some(p.p95)),
                fmt_ms(Some(p.max))
            ),
            None => "-".to_string(),
        };
        vec![
            ("ASR", format!("{} of {} seizures", pct(r.asr), r.seizures)),
            ("NER", pct(r.ner)),
            ("ACD", fmt_ms(r.acd_ms)),
            ("post-dial delay", spread(&f.post_dial)),
            ("setup time", spread(&f.setup)),
            (
                "SIP messages",
                format!("{} ({} retransmissions)", f.messages, f.retransmissions),
            ),
        ]
    }

    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        let series: Vec<Bucketed<'_>> = (self.series.values())
            .map(|(start, f)| Bucketed {
                start: *start,
                figures: FiguresJson::of(f),
            })
            .collect();
        let doc = Doc {
            version: 1,
            figures: FiguresJson::of(&self.total),
            top_talkers: self.top_talkers(),
            series: self.by.map(|_| series),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }

    pub fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let f = &self.total;
        writeln!(
            out,
            "SIP messages: {} ({} retransmissions)",
            f.messages, f.retransmissions
        )?;
        if !f.requests.0.is_empty() {
            writeln!(out, "\nRequests")?;
            for (method, n) in &f.requests.0 {
                writeln!(out, "  {method:<26} {n:>8}")?;
            }
        }
        if !f.responses.is_empty() {
            writeln!(out, "\nResponses")?;
            for (code, n) in &f.responses {
                writeln!(out, "  {:<26} {n:>8}", status_text(*code))?;
            }
        }
        writeln!(out, "\nCalls: {}", f.calls)?;
        for (outcome, n) in &f.outcomes {
            writeln!(out, "  {outcome:<26} {n:>8}")?;
        }
        let r = f.ratios();
        let pct = |p: Option<f64>| p.map_or("-".to_string(), |p| format!("{p:.1}%"));
        writeln!(
            out,
            "  ASR {}  NER {}  over {} seizures  ACD {}",
            pct(r.asr),
            pct(r.ner),
            r.seizures,
            fmt_ms(r.acd_ms)
        )?;
        for (name, h) in [
            ("post-dial delay (INVITE to first 18x)", &f.post_dial),
            ("setup time (INVITE to 2xx)", &f.setup),
        ] {
            match h.summary() {
                Some(p) => writeln!(
                    out,
                    "  {name}: p50 {}  p90 {}  p95 {}  p99 {}  max {}  ({} calls)",
                    fmt_ms(Some(p.p50)),
                    fmt_ms(Some(p.p90)),
                    fmt_ms(Some(p.p95)),
                    fmt_ms(Some(p.p99)),
                    fmt_ms(Some(p.max)),
                    p.count
                )?,
                None => writeln!(out, "  {name}: -")?,
            }
        }
        if !f.registrations.0.is_empty() {
            writeln!(out, "\nRegistrations")?;
            for (result, n) in &f.registrations.0 {
                let text = result
                    .parse()
                    .map_or_else(|_| "no final response".to_string(), status_text);
                writeln!(out, "  {text:<26} {n:>8}")?;
            }
        }
        let talkers = self.top_talkers();
        if !talkers.is_empty() {
            writeln!(out, "\nTop talkers{:>47}{:>10}", "SENT", "RECEIVED")?;
            for t in talkers {
                writeln!(out, "  {:<47} {:>8} {:>9}", t.address, t.sent, t.received)?;
            }
        }
        let failures = top_failures(f);
        if !failures.is_empty() {
            writeln!(out, "\nTop failure codes (calls and flows)")?;
            for fail in failures {
                writeln!(out, "  {:<26} {:>8}", status_text(fail.status), fail.count)?;
            }
        }
        if self.by.is_some() {
            writeln!(
                out,
                "\n{:<24} {:>6} {:>8} {:>7} {:>7} {:>9} {:>8}",
                "START", "CALLS", "ANSWERED", "ASR", "NER", "ACD", "MSGS"
            )?;
            for (start, f) in self.series.values() {
                let r = f.ratios();
                writeln!(
                    out,
                    "{:<24} {:>6} {:>8} {:>7} {:>7} {:>9} {:>8}",
                    start.to_string(),
                    f.calls,
                    f.answered(),
                    pct(r.asr),
                    pct(r.ner),
                    fmt_ms(r.acd_ms),
                    f.messages
                )?;
            }
        }
        Ok(())
    }
}

fn status_text(code: u16) -> String {
    format!("{code} {}", crate::sip::status::explain(code).reason)
}

fn top_failures(f: &Figures) -> Vec<Failure> {
    let mut all: Vec<Failure> = (f.failures.iter())
        .map(|(s, n)| Failure {
            status: *s,
            count: *n,
        })
        .collect();
    all.sort_by(|a, b| b.count.cmp(&a.count).then(a.status.cmp(&b.status)));
    all.truncate(TOP);
    all
}

#[derive(Serialize)]
struct Doc<'a> {
    version: u32,
    #[serde(flatten)]
    figures: FiguresJson<'a>,
    top_talkers: Vec<Talker<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    series: Option<Vec<Bucketed<'a>>>,
}

#[derive(Serialize)]
struct Bucketed<'a> {
    start: Timestamp,
    #[serde(flatten)]
    figures: FiguresJson<'a>,
}

#[derive(Serialize)]
struct FiguresJson<'a> {
    messages: u64,
    retransmissions: u64,
    requests: &'a BTreeMap<String, u64>,
    responses: BTreeMap<String, u64>,
    calls: u64,
    outcomes: &'a BTreeMap<&'static str, u64>,
    #[serde(flatten)]
    ratios: Ratios,
    post_dial_delay_ms: Option<Percentiles>,
    setup_time_ms: Option<Percentiles>,
    registrations: &'a BTreeMap<String, u64>,
    top_failures: Vec<Failure>,
}

impl<'a> FiguresJson<'a> {
    fn of(f: &'a Figures) -> Self {
        FiguresJson {
            messages: f.messages,
            retransmissions: f.retransmissions,
            requests: &f.requests.0,
            responses: f
                .responses
                .iter()
                .map(|(c, n)| (c.to_string(), *n))
                .collect(),
            calls: f.calls,
            outcomes: &f.outcomes,
            ratios: f.ratios(),
            post_dial_delay_ms: f.post_dial.summary(),
            setup_time_ms: f.setup.summary(),
            registrations: &f.registrations.0,
            top_failures: top_failures(f),
        }
    }
}

#[derive(Serialize)]
struct Talker<'a> {
    address: &'a str,
    sent: u64,
    received: u64,
}

#[derive(Serialize)]
struct Failure {
    status: u16,
    count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut h = Hist::default();
        for v in 1..=100 {
            h.add(Some(v));
        }
        h.add(None);
        assert_eq!(h.count(), 100);
        assert_eq!(h.percentile(50), Some(50));
        assert_eq!(h.percentile(90), Some(90));
        assert_eq!(h.percentile(100), Some(100));
        assert_eq!(h.mean(), Some(50));
        assert_eq!(Hist::default().summary().map(|p| p.count), None);
    }

    #[test]
    fn ner_counts_user_behaviour_as_delivered() {
        assert_eq!(effective(Outcome::Busy, Some(486)), Some(true));
        assert_eq!(effective(Outcome::Rejected, Some(603)), Some(true));
        assert_eq!(effective(Outcome::Rejected, Some(404)), Some(false));
        assert_eq!(effective(Outcome::Failed, Some(503)), Some(false));
        assert_eq!(effective(Outcome::Redirected, Some(302)), None);
        assert_eq!(effective(Outcome::Incomplete, None), None);
    }

    #[test]
    fn counters_stop_growing() {
        let mut c: Counter<u64> = Counter::default();
        for i in 0..KEYS + 5 {
            *c.entry(&i.to_string()) += 1;
        }
        assert_eq!(c.0.len(), KEYS + 1);
        assert_eq!(c.0["other"], 5);
    }
}
