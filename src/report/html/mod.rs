//! The HTML report (`sipflow report`, `sipflow check --html`): one self-contained file with
//! the summary, a searchable and filterable call list, and an SVG ladder per call drawn when
//! the call is opened, with the raw messages and the findings' evidence highlighted.
//!
//! Owns: the page shell (written here with the auto-escaping [`markup`] writer), its
//! Content-Security-Policy, and embedding the data ([`data`]) as gzip + base64 blocks: the
//! call list in one, the conversations' details in chunks that the script inflates only when
//! a call in them is opened. That keeps a 50,000-call report small and quick to open.
//! Does not own: deciding what is wrong (rules) or the ladder's layout (`report::ladder`).
//!
//! Safety: the page loads nothing (`default-src 'none'`); its one script and one style sheet
//! are allowed by their SHA-256 hashes, so no other script can run even if markup got in. The
//! script builds every element from data with `textContent` and `setAttribute` on fixed
//! attribute names; there are no inline event handlers. Deterministic: the same inputs give
//! the same bytes (no generation time unless asked for).

pub mod data;
pub mod markup;

use std::collections::BTreeMap;
use std::io::{self, Write};

use base64::Engine;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use sha2::{Digest, Sha256};

use std::cmp::Reverse;

use self::markup::Markup;
use super::Context;
use crate::dialog::Model;
use crate::event::Timestamp;
use crate::ingest::InputInfo;
use crate::rules::{Finding, Rule, Severity};

const SCRIPT: &str = include_str!("report.js");
const STYLE: &str = include_str!("report.css");

/// Conversations per compressed detail chunk: small enough to inflate at a click, big
/// enough that gzip finds the repeats between calls.
const CHUNK: usize = 32;

/// The embedded data's format version, read by the script.
const DATA_VERSION: u32 = 1;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Shown in the header when given (`--timestamp`); absent by default, for reproducible
    /// reports.
    pub generated_at: Option<String>,
}

/// The current UTC time as the report shows it, for `--timestamp`.
pub fn now_utc() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    format!(
        "{} UTC",
        Timestamp {
            micros,
            dated: true,
            micro: false,
            unknown: false,
        }
    )
}

#[derive(Serialize)]
struct Envelope<'a> {
    version: u32,
    index: String,
    chunks: Vec<&'a str>,
}

/// gzip, then base64: the form the script inflates with `DecompressionStream`.
fn pack<T: Serialize + ?Sized>(value: &T) -> io::Result<String> {
    // Serialised first, then compressed in one write: the encoder pays a fixed cost per write,
    // which serde's many small writes would multiply.
    let json = serde_json::to_vec(value)?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&json)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(gz.finish()?))
}

fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The Content-Security-Policy: nothing may load, and only this program's script and style
/// may run.
fn csp() -> String {
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src data:; base-uri 'none'; \
         form-action 'none'",
        csp_hash(SCRIPT),
        csp_hash(STYLE)
    )
}

/// Writes the report of one model.
pub fn write(
    ctx: &Context<'_>,
    findings: &[Finding],
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    Report::of(ctx, findings)?.write(ctx.inputs, opts, out)
}

/// The report gathered model by model, as a run analysed in windows goes: the call list's
/// lines, the findings, the summary's counts, and the conversations' details, packed
/// [`CHUNK`] at a time as they come. So memory holds the compact call list and the compressed
/// details, not the models. One model gives the bytes it always gave.
#[derive(Default)]
pub struct Report {
    data: data::Gather,
    summary: Summary,
    /// Details not yet packed (fewer than [`CHUNK`]).
    pending: Vec<data::Detail>,
    chunks: Vec<String>,
}

impl Report {
    /// The report of one model.
    pub fn of(ctx: &Context<'_>, findings: &[Finding]) -> io::Result<Self> {
        let mut report = Report::default();
        report.add(ctx, findings)?;
        Ok(report)
    }

    pub fn add(&mut self, ctx: &Context<'_>, findings: &[Finding]) -> io::Result<()> {
        self.summary.add(ctx.model, findings);
        for detail in self.data.add(ctx, findings) {
            self.pending.push(detail);
            if self.pending.len() == CHUNK {
                self.chunks.push(pack(&self.pending)?);
                self.pending.clear();
            }
        }
        Ok(())
    }

    /// Writes the page of what was added so far; `inputs` are the run's inputs as read so far
    /// (to the end, for the final report). The report can go on gathering after: a live run
    /// writes it again and again.
    pub fn write(
        &self,
        inputs: &[InputInfo],
        opts: &Options,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        // The details not yet packed: packed for this page, kept unpacked for the next one.
        let last = if self.pending.is_empty() {
            None
        } else {
            Some(pack(&self.pending)?)
        };
        let envelope = Envelope {
            version: DATA_VERSION,
            index: pack(&self.data.index(inputs, CHUNK))?,
            chunks: self
                .chunks
                .iter()
                .map(String::as_str)
                .chain(last.as_deref())
                .collect(),
        };
        let mut m = Markup::default();
        m.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .open(
                "meta",
                &[
                    ("http-equiv", "Content-Security-Policy"),
                    ("content", &csp()),
                ],
            )
            .raw("\n<meta name=\"referrer\" content=\"no-referrer\">\n")
            .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .open(
                "meta",
                &[
                    ("name", "generator"),
                    ("content", concat!("sipflow ", env!("CARGO_PKG_VERSION"))),
                ],
            )
            .raw("\n");
        m.elem(
            "title",
            &format!("sipflow report: {}", plural(self.summary.calls, "call")),
        )
        .raw("\n<style>")
        .raw(STYLE)
        .raw("</style>\n</head>\n<body>\n");
        header(&mut m, inputs, opts);
        self.summary.write(&mut m, inputs);
        m.raw(BODY);
        m.json_script("sipflow-data", &envelope)
            .raw("\n<script>")
            .raw(SCRIPT)
            .raw("</script>\n</body>\n</html>\n");
        out.write_all(m.into_string().as_bytes())
    }
}

/// The interactive part: filled in by the script from the embedded data.
const BODY: &str = r#"<noscript><p class="warn">The call list and the ladders need JavaScript.</p></noscript>
<section id="calls" aria-label="Calls">
<div class="controls">
<input id="search" type="search" placeholder="Search Call-ID, number, name, address, User-Agent, status, rule… or status:4xx ip:10.0.0.0/8" aria-label="Search calls" title="Text, and fields as the selection options take them: call:ID|INDEX user:TEXT ip:ADDR[/PREFIX] status:CODE|CLASS outcome:OUTCOME rule:NAME|CODE method:METHOD since:TIME until:TIME">
<select id="filter-outcome" aria-label="Outcome"><option value="">every outcome</option></select>
<select id="filter-rule" aria-label="Rule"><option value="">any or no finding</option></select>
<select id="filter-severity" aria-label="Severity"><option value="">any severity</option><option value="error">errors</option><option value="warning">warnings or worse</option><option value="info">with findings</option><option value="none">without findings</option></select>
<span id="count" aria-live="polite"></span>
</div>
<p id="search-help" class="search-help">Fields, AND-ed with each other and the text: <span class="field">call:</span> <span class="field">user:</span> <span class="field">ip:10.0.0.0/8</span> <span class="field">status:4xx</span> <span class="field">outcome:busy</span> <span class="field">rule:missing-ack</span> <span class="field">method:REGISTER</span> <span class="field">since:14:05</span> <span class="field">until:"2026-11-21 14:30"</span> (as the selection options take them).</p>
<p id="search-hint" class="search-hint" aria-live="polite" hidden></p>
<div class="list-head" role="row"><span>#</span><span class="start-head">start</span><span>Call-ID</span><span>from</span><span>to</span><span>outcome</span><span>setup</span><span>duration</span><span>findings</span></div>
<div id="call-list" role="grid" tabindex="0"><div class="spacer"></div></div>
<p id="load-error" class="warn" hidden></p>
</section>
<section id="call-view" hidden aria-label="Call">
<h2 id="call-title"></h2>
<ul id="call-summary"></ul>
<div class="call-body">
<div id="ladder"></div>
<aside id="panel" aria-live="polite"><p class="hint">Click an arrow to see the message, a note to see the log line, a badge to see the finding.</p></aside>
</div>
<div id="call-findings"></div>
</section>
"#;

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn header(m: &mut Markup, inputs: &[InputInfo], opts: &Options) {
    m.raw("<header>\n<h1>sipflow report</h1>\n<p class=\"meta\">");
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    m.text(&names.join(", "));
    if let Some(at) = &opts.generated_at {
        m.raw(" · generated ").text(at);
    }
    m.raw("</p>\n</header>\n");
}

/// The summary cards' figures, added up model by model.
#[derive(Default)]
struct Summary {
    /// The first and last log times.
    span: Option<(Timestamp, Timestamp)>,
    outcomes: BTreeMap<&'static str, usize>,
    calls: usize,
    flows: usize,
    by_severity: BTreeMap<Reverse<Severity>, usize>,
    /// Per rule: the rule, and its findings by severity (most severe first). A rule's findings
    /// need not have its default severity: rules judge each from its evidence.
    by_rule: BTreeMap<&'static str, (&'static Rule, BTreeMap<Reverse<Severity>, usize>)>,
    /// Findings about no call: severity, rule code, message.
    loose: Vec<(Severity, &'static str, String)>,
    /// `sipflow stats`'s figures, over the messages of the calls and flows.
    figures: Option<crate::report::stats::Stats>,
}

impl Summary {
    fn add(&mut self, model: &Model, findings: &[Finding]) {
        let known = model.events.iter().map(crate::event::Event::ts);
        for t in known.filter(Timestamp::is_known) {
            self.span = Some(match self.span {
                Some((lo, hi)) => (lo.min(t), hi.max(t)),
                None => (t, t),
            });
        }
        for c in &model.calls {
            *self.outcomes.entry(c.outcome.as_str()).or_default() += 1;
        }
        self.calls += model.calls.len();
        self.flows += model.flows.len();
        self.figures
            .get_or_insert_with(|| crate::report::stats::Stats::new(true, None))
            .add(model);
        for f in findings {
            *self.by_severity.entry(Reverse(f.severity)).or_default() += 1;
            *(self.by_rule.entry(f.rule.code))
                .or_insert((f.rule, BTreeMap::new()))
                .1
                .entry(Reverse(f.severity))
                .or_default() += 1;
            if f.owner.is_none() {
                self.loose
                    .push((f.severity, f.rule.code, f.message.clone()));
            }
        }
    }

    fn write(&self, m: &mut Markup, inputs: &[InputInfo]) {
        m.raw("<section id=\"summary\" aria-label=\"Summary\">\n");

        // An RTP column when a capture had RTP.
        let rtp = inputs.iter().any(|i| i.rtp().is_some());
        m.raw("<div class=\"card\"><h2>Inputs</h2><table><tr><th>input</th><th>format</th><th>bytes</th><th>messages</th>");
        if rtp {
            m.raw("<th>RTP</th>");
        }
        m.raw("</tr>");
        for i in inputs {
            let format = serde_json::to_value(i.format)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            m.raw("<tr>")
                .elem("td", &i.name)
                .elem("td", &format)
                .elem("td", &i.bytes.to_string())
                .elem("td", &i.messages.to_string());
            if rtp {
                let count = i.rtp().map_or_else(String::new, |r| {
                    format!("{}, {} packets", plural(r.streams, "stream"), r.packets)
                });
                m.elem("td", &count);
            }
            m.raw("</tr>");
        }
        m.raw("</table>");
        if let Some((lo, hi)) = self.span {
            m.open("p", &[("class", "span")])
                .text(&format!(
                    "{lo} – {hi} ({})",
                    super::fmt_ms(lo.known_ms_until(hi))
                ))
                .close("p");
        }
        m.raw("</div>\n");

        m.raw("<div class=\"card\"><h2>Calls</h2><table><tr><th>outcome</th><th>calls</th></tr>");
        for (outcome, n) in &self.outcomes {
            m.open("tr", &[("class", "pick"), ("data-outcome", outcome)])
                .elem("td", outcome)
                .elem("td", &n.to_string())
                .raw("</tr>");
        }
        m.raw("<tr class=\"total\">")
            .elem("td", "all calls")
            .elem("td", &self.calls.to_string())
            .raw("</tr><tr>")
            .elem("td", "other flows (REGISTER, OPTIONS, …)")
            .elem("td", &self.flows.to_string())
            .raw("</tr></table></div>\n");

        if let Some(figures) = &self.figures {
            m.raw("<div class=\"card\"><h2>Figures</h2><table>");
            for (label, value) in figures.headline() {
                m.raw("<tr>")
                    .elem("td", label)
                    .elem("td", &value)
                    .raw("</tr>");
            }
            m.raw("</table></div>\n");
        }

        m.raw("<div class=\"card\"><h2>Findings</h2>");
        if self.by_rule.is_empty() {
            m.raw("<p>No findings.</p>");
        } else {
            m.raw("<p class=\"severities\">");
            for (Reverse(sev), n) in &self.by_severity {
                m.open("span", &[("class", &format!("sev sev-{sev}"))])
                    .text(&format!("{n} {sev}"))
                    .close("span")
                    .raw(" ");
            }
            m.raw("</p><table><tr><th>rule</th><th>severity</th><th>findings</th></tr>");
            for (code, (rule, by_severity)) in &self.by_rule {
                let n: usize = by_severity.values().sum();
                // The severities its findings have, e.g. `warning` or `1 error, 2 warning`.
                let severities = match by_severity.len() {
                    1 => by_severity.keys().map(|s| s.0.to_string()).collect(),
                    _ => by_severity
                        .iter()
                        .map(|(s, k)| format!("{k} {}", s.0))
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                m.open("tr", &[("class", "pick"), ("data-rule", code)])
                    .open("td", &[("title", rule.summary)])
                    .text(&format!("{code} {}", rule.name))
                    .close("td")
                    .elem("td", &severities)
                    .elem("td", &n.to_string())
                    .raw("</tr>");
            }
            m.raw("</table>");
            if !self.loose.is_empty() {
                m.raw("<h3>Not about one call</h3><ul class=\"loose\">");
                for (severity, code, message) in &self.loose {
                    m.raw("<li>")
                        .open("span", &[("class", &format!("sev sev-{severity}"))])
                        .text(code)
                        .close("span")
                        .raw(" ")
                        .text(message)
                        .raw("</li>");
                }
                m.raw("</ul>");
            }
        }
        m.raw("</div>\n</section>\n");
    }
}
