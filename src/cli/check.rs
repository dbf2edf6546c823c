//! `sipflow check`: its settings (flags over `sipflow.toml` over defaults), running the rules,
//! rendering the findings, and the exit code.

use std::io::{self, Write};

use super::progress::Bar;
use super::{CheckArgs, CheckFormat, RuleArgs, UsageError};
use crate::config::Config;
use crate::dialog::window::{self, OpenCallLimit, Window, Windows};
use crate::dialog::{self, CorrelateOptions};
use crate::ingest::{EventStream, InputInfo, Source};
use crate::report::{Context, findings, html};
use crate::rules::{self, Finding, RuleSettings, Severity, Thresholds};

/// `check`'s validated options: flags over `sipflow.toml` over defaults.
pub(super) struct CheckSettings {
    format: CheckFormat,
    rules: RuleSettings,
    fail_on: Severity,
    html: Option<HtmlTarget>,
}

/// The rules to run and their thresholds: flags over `sipflow.toml` over defaults.
pub(super) fn rule_settings(args: &RuleArgs, config: &Config) -> Result<RuleSettings, UsageError> {
    let codes = |names: &[String]| -> Result<Vec<&'static str>, UsageError> {
        names
            .iter()
            .map(|n| {
                rules::lookup(n.trim())
                    .map(|r| r.code)
                    .ok_or_else(|| UsageError::UnknownRule(n.clone()))
            })
            .collect()
    };
    let pick = |flag: &Vec<String>, file: &Vec<String>| {
        if flag.is_empty() {
            file.clone()
        } else {
            flag.clone()
        }
    };
    let mut overrides = std::collections::BTreeMap::new();
    for (rule, sev) in &config.severity {
        let code = rules::lookup(rule)
            .map(|r| r.code)
            .ok_or_else(|| UsageError::UnknownRule(rule.clone()))?;
        overrides.insert(code, severity(sev)?);
    }
    let t = &config.thresholds;
    let d = Thresholds::default();
    let thresholds = Thresholds {
        slow_setup_ms: t.slow_setup_ms.unwrap_or(d.slow_setup_ms),
        stuck_proceeding_ms: t.stuck_proceeding_ms.unwrap_or(d.stuck_proceeding_ms),
        retransmissions: t.retransmissions.unwrap_or(d.retransmissions),
        bye_after_answer_ms: t.bye_after_answer_ms.unwrap_or(d.bye_after_answer_ms),
    };
    Ok(RuleSettings {
        thresholds,
        select: codes(&pick(&args.select, &config.select))?,
        ignore: codes(&pick(&args.ignore, &config.ignore))?,
        severity: overrides,
    })
}

fn severity(s: &str) -> Result<Severity, UsageError> {
    Severity::parse(s).ok_or_else(|| UsageError::Severity(s.into()))
}

/// The formats that can be written window by window (see [`run_streamed`]): one finding after
/// the other, or a document that keeps only each call's, flow's and finding's JSON.
#[derive(Clone, Copy)]
pub(super) enum Streamed {
    Human,
    Concise,
    Jsonl,
    Github,
    Json,
}

impl Streamed {
    /// Whether the output shows excerpts of the inputs (so text inputs must be kept).
    pub(super) fn shows_excerpts(self) -> bool {
        matches!(self, Streamed::Human)
    }
}

impl CheckSettings {
    /// The format, if the output can be written as windows are analysed: a format that is one
    /// finding after another, and no HTML report (which needs every call).
    pub(super) fn streamed(&self) -> Option<Streamed> {
        if self.html.is_some() {
            return None;
        }
        match self.format {
            CheckFormat::Human => Some(Streamed::Human),
            CheckFormat::Concise => Some(Streamed::Concise),
            CheckFormat::Jsonl => Some(Streamed::Jsonl),
            CheckFormat::Github => Some(Streamed::Github),
            CheckFormat::Json => Some(Streamed::Json),
            CheckFormat::Sarif | CheckFormat::Junit => None,
        }
    }

    pub(super) fn new(
        args: &CheckArgs,
        config: &Config,
        rules: RuleSettings,
    ) -> Result<Self, UsageError> {
        let fail_on = match args.fail_on.as_deref().or(config.fail_on.as_deref()) {
            Some(s) => severity(s)?,
            None => Severity::Error,
        };
        Ok(CheckSettings {
            format: args.format,
            rules,
            fail_on,
            html: args
                .html
                .as_deref()
                .map(|path| HtmlTarget::new(path, args.timestamp)),
        })
    }
}

/// Where the HTML report goes (`-`: the command's output) and how it is dated.
pub(super) struct HtmlTarget {
    path: String,
    options: html::Options,
}

impl HtmlTarget {
    pub(super) fn new(path: &str, timestamp: bool) -> Self {
        HtmlTarget {
            path: path.to_string(),
            options: html::Options {
                generated_at: timestamp.then(html::now_utc),
            },
        }
    }

    /// Writes the report; a file is written whole or, on error, not left half-written.
    pub(super) fn write(
        &self,
        ctx: &Context<'_>,
        findings: &[Finding],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if self.path == "-" {
            return html::write(ctx, findings, &self.options, out);
        }
        let path = std::path::Path::new(&self.path);
        let mut buf = Vec::new();
        html::write(ctx, findings, &self.options, &mut buf)?;
        std::fs::write(path, buf).map_err(|e| {
            let _ = std::fs::remove_file(path);
            io::Error::new(e.kind(), format!("{}: {e}", self.path))
        })
    }
}

/// Runs the rules and renders the findings (and the HTML report, with `--html`); the exit
/// code is 1 when a finding reaches `--fail-on`.
pub(super) fn run_check(
    ctx: &Context<'_>,
    check: &CheckSettings,
    out: &mut dyn Write,
) -> io::Result<u8> {
    let rctx = rules::Context::new(ctx.model, &check.rules, ctx.inputs);
    let findings = rules::run(&rctx);
    let code = u8::from(findings.iter().any(|f| f.severity >= check.fail_on));
    let located: Vec<_> = findings.iter().map(|f| findings::locate(ctx, f)).collect();
    match check.format {
        CheckFormat::Human => findings::human::write(ctx, &located, out)?,
        CheckFormat::Concise => findings::concise::write(&located, out)?,
        CheckFormat::Json => findings::json::write(ctx, &located, code, out)?,
        CheckFormat::Jsonl => findings::json::write_lines(&located, out)?,
        CheckFormat::Sarif => findings::sarif::write(&located, out)?,
        CheckFormat::Junit => findings::junit::write(ctx, &located, check.fail_on, out)?,
        CheckFormat::Github => findings::github::write(&located, out)?,
    }
    if let Some(html) = &check.html {
        html.write(ctx, &findings, out)?;
    }
    Ok(code)
}

/// `check` with a format written as it goes ([`CheckSettings::streamed`]): the stream is cut
/// into windows ([`crate::dialog::window`]), and each is correlated, judged and written before
/// the next is read, so memory holds the open calls and one window, not the input. Calls and
/// flows are numbered across windows. Returns the exit code and, if the open-call limit was
/// reached, its report.
pub(super) fn run_streamed(
    check: &CheckSettings,
    format: Streamed,
    events: &mut EventStream,
    limits: window::Limits,
    correlate: &CorrelateOptions,
    bar: Option<&Bar>,
    out: &mut dyn Write,
) -> io::Result<(u8, Option<OpenCallLimit>)> {
    let mut run = Totals::default();
    let mut windows = Windows::new(limits);
    while let Some(ev) = events.next() {
        if let Some(w) = windows.push(ev) {
            run.window(check, format, (w, false), events, correlate, bar, out)?;
        }
    }
    let (last, limit) = windows.finish();
    run.window(check, format, (last, true), events, correlate, bar, out)?;
    let mut end = Vec::new();
    match format {
        Streamed::Human => {
            findings::human::write_summary(run.by_severity, run.calls, run.flows, &mut end)?
        }
        Streamed::Json => run.json.write(events.inputs(), run.code, &mut end)?,
        Streamed::Concise | Streamed::Jsonl | Streamed::Github => {}
    }
    write_through(bar, &end, out)?;
    Ok((run.code, limit))
}

/// What the windows written so far add up to.
#[derive(Default)]
struct Totals {
    calls: usize,
    flows: usize,
    /// Errors, warnings, infos.
    by_severity: [usize; 3],
    code: u8,
    /// With `--format json`: the document's parts.
    json: findings::json::Parts,
}

/// Writes `bytes` with the progress bar, if any, hidden meanwhile.
fn write_through(bar: Option<&Bar>, bytes: &[u8], out: &mut dyn Write) -> io::Result<()> {
    match bar {
        Some(bar) => bar.suspend(|| out.write_all(bytes)),
        None => out.write_all(bytes),
    }
}

impl Totals {
    #[allow(clippy::too_many_arguments)]
    fn window(
        &mut self,
        check: &CheckSettings,
        format: Streamed,
        (w, last): (Window, bool),
        events: &EventStream,
        correlate: &CorrelateOptions,
        bar: Option<&Bar>,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if w.events.is_empty() && !last {
            return Ok(());
        }
        let inputs: &[InputInfo] = events.inputs();
        let sources: &[Source] = events.sources();
        let mut model = dialog::correlate(w.events, correlate);
        model.renumber(self.calls, self.flows);
        self.calls += model.calls.len();
        self.flows += model.flows.len();
        // How far each input had been read when the window was cut, not how far this window's
        // events go.
        let rctx = rules::Context {
            model: &model,
            settings: &check.rules,
            inputs,
            input_ends: w.input_ends,
            whole_inputs: last,
        };
        let found = rules::run(&rctx);
        let ctx = Context {
            model: &model,
            inputs,
            sources,
        };
        let located: Vec<_> = found.iter().map(|f| findings::locate(&ctx, f)).collect();
        for (i, sev) in [Severity::Error, Severity::Warning, Severity::Info]
            .into_iter()
            .enumerate()
        {
            self.by_severity[i] += findings::count(&located, sev);
        }
        if found.iter().any(|f| f.severity >= check.fail_on) {
            self.code = 1;
        }
        let mut buf = Vec::new();
        match format {
            Streamed::Human => findings::human::write_findings(&ctx, &located, &mut buf)?,
            Streamed::Concise => findings::concise::write(&located, &mut buf)?,
            Streamed::Jsonl => findings::json::write_lines(&located, &mut buf)?,
            Streamed::Github => findings::github::write(&located, &mut buf)?,
            Streamed::Json => self.json.add(&ctx, &located)?,
        }
        write_through(bar, &buf, out)
    }
}
