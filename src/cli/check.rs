//! `sipflow check`: its settings (flags over `sipflow.toml` over defaults), running the rules,
//! rendering the findings, and the exit code.

use std::io::{self, Write};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use super::progress::Bar;
use super::{CheckArgs, CheckFormat, RuleArgs, UsageError};
use crate::config::Config;
use crate::dialog::window::{self, OpenCallLimit, Window, Windows};
use crate::dialog::{self, CorrelateOptions, Model};
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
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum StreamFormat {
    Human,
    Concise,
    Jsonl,
    Github,
    Json,
}

/// What a run analysed window by window writes: `check`'s findings in a [`StreamFormat`],
/// and the HTML report (`check --html`, `sipflow report`), which keeps the compact call list
/// and the compressed details of each window.
pub(super) struct Streamed<'a> {
    rules: &'a RuleSettings,
    /// A finding this severe makes the exit code 1; `report` has none and exits 0.
    fail_on: Option<Severity>,
    format: Option<StreamFormat>,
    html: Option<&'a HtmlTarget>,
}

impl<'a> Streamed<'a> {
    /// `sipflow report`: the HTML report only.
    pub(super) fn report(rules: &'a RuleSettings, html: &'a HtmlTarget) -> Self {
        Streamed {
            rules,
            fail_on: None,
            format: None,
            html: Some(html),
        }
    }

    /// Whether the output shows excerpts of the inputs (so text inputs must be kept).
    pub(super) fn shows_excerpts(&self) -> bool {
        self.format == Some(StreamFormat::Human)
    }
}

impl CheckSettings {
    /// How the run is written window by window, if its format allows: every format but SARIF
    /// and JUnit, which are written from one model of the run.
    pub(super) fn streamed(&self) -> Option<Streamed<'_>> {
        let format = match self.format {
            CheckFormat::Human => StreamFormat::Human,
            CheckFormat::Concise => StreamFormat::Concise,
            CheckFormat::Jsonl => StreamFormat::Jsonl,
            CheckFormat::Github => StreamFormat::Github,
            CheckFormat::Json => StreamFormat::Json,
            CheckFormat::Sarif | CheckFormat::Junit => return None,
        };
        Some(Streamed {
            rules: &self.rules,
            fail_on: Some(self.fail_on),
            format: Some(format),
            html: self.html.as_ref(),
        })
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
        report: html::Report,
        inputs: &[InputInfo],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if self.path == "-" {
            return report.write(inputs, &self.options, out);
        }
        let path = std::path::Path::new(&self.path);
        let mut buf = Vec::new();
        report.write(inputs, &self.options, &mut buf)?;
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
        html.write(html::Report::of(ctx, &findings)?, ctx.inputs, out)?;
    }
    Ok(code)
}

/// A run written as it goes ([`Streamed`]): the stream is cut into windows
/// ([`crate::dialog::window`]), and each is correlated, judged and written before the next is
/// read, so memory holds the open calls and one window, not the input. Calls and flows are
/// numbered across windows. Returns the exit code and, if the open-call limit was reached,
/// its report.
pub(super) fn run_streamed(
    run: &Streamed<'_>,
    events: &mut EventStream,
    limits: window::Limits,
    correlate: &CorrelateOptions,
    bar: Option<&Bar>,
    out: &mut dyn Write,
) -> io::Result<(u8, Option<OpenCallLimit>)> {
    let mut totals = Totals {
        behind: Some(Behind::start(run.html.is_some())),
        ..Totals::default()
    };
    let mut windows = Windows::new(limits);
    while let Some(ev) = events.next() {
        if let Some(w) = windows.push(ev) {
            totals.window(run, (w, false), events, correlate, bar, out)?;
        }
    }
    let (last, limit) = windows.finish();
    totals.window(run, (last, true), events, correlate, bar, out)?;
    let mut end = Vec::new();
    match run.format {
        Some(StreamFormat::Human) => findings::human::write_summary(
            totals.by_severity,
            totals.calls,
            totals.flows,
            &mut end,
        )?,
        Some(StreamFormat::Json) => totals.json.write(events.inputs(), totals.code, &mut end)?,
        _ => {}
    }
    write_through(bar, &end, out)?;
    let report = totals.behind.map_or(Ok(None), Behind::finish)?;
    if let (Some(target), Some(report)) = (run.html, report) {
        target.write(report, events.inputs(), out)?;
    }
    Ok((totals.code, limit))
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
    /// The thread that takes each window once it is written.
    behind: Option<Behind>,
}

/// A window's model and findings, and the inputs as known when it was cut.
type Judged = (Model, Vec<Finding>, Vec<InputInfo>);

/// A thread at most two windows behind the analysis that gathers the HTML report, if there is
/// one, and frees each window. Laying out the ladders and compressing the details costs about
/// as much as the analysis, and freeing a window's model a tenth of it: off the analysing
/// thread, both run on the other core.
struct Behind {
    windows: SyncSender<Judged>,
    thread: JoinHandle<io::Result<Option<html::Report>>>,
    report: bool,
}

impl Behind {
    fn start(report: bool) -> Self {
        let (windows, judged) = sync_channel::<Judged>(2);
        let thread = std::thread::spawn(move || {
            let mut gathered = report.then(html::Report::default);
            for (model, found, inputs) in judged {
                if let Some(r) = &mut gathered {
                    let ctx = Context {
                        model: &model,
                        inputs: &inputs,
                        sources: &[],
                    };
                    r.add(&ctx, &found)?;
                }
            }
            Ok(gathered)
        });
        Behind {
            windows,
            thread,
            report,
        }
    }

    /// Hands a window on; an error is the one the thread stopped with.
    fn add(&self, model: Model, found: Vec<Finding>, inputs: &[InputInfo]) -> io::Result<()> {
        let inputs = if self.report {
            inputs.to_vec()
        } else {
            Vec::new()
        };
        match self.windows.send((model, found, inputs)) {
            Ok(()) => Ok(()),
            Err(_) => Err(io::Error::other("the HTML report stopped")),
        }
    }

    /// The report, if one was gathered.
    fn finish(self) -> io::Result<Option<html::Report>> {
        drop(self.windows);
        self.thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the HTML report failed")))
    }
}

/// Writes `bytes` with the progress bar, if any, hidden meanwhile.
fn write_through(bar: Option<&Bar>, bytes: &[u8], out: &mut dyn Write) -> io::Result<()> {
    match bar {
        Some(bar) => bar.suspend(|| out.write_all(bytes)),
        None => out.write_all(bytes),
    }
}

impl Totals {
    fn window(
        &mut self,
        run: &Streamed<'_>,
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
            settings: run.rules,
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
        if run
            .fail_on
            .is_some_and(|fail_on| found.iter().any(|f| f.severity >= fail_on))
        {
            self.code = 1;
        }
        if let Some(format) = run.format {
            self.write(format, &ctx, &found, bar, out)?;
        }
        if let Some(behind) = &self.behind {
            behind.add(model, found, inputs)?;
        }
        Ok(())
    }

    /// Writes a window's findings.
    fn write(
        &mut self,
        format: StreamFormat,
        ctx: &Context<'_>,
        found: &[Finding],
        bar: Option<&Bar>,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let located: Vec<_> = found.iter().map(|f| findings::locate(ctx, f)).collect();
        for (i, sev) in [Severity::Error, Severity::Warning, Severity::Info]
            .into_iter()
            .enumerate()
        {
            self.by_severity[i] += findings::count(&located, sev);
        }
        let mut buf = Vec::new();
        match format {
            StreamFormat::Human => findings::human::write_findings(ctx, &located, &mut buf)?,
            StreamFormat::Concise => findings::concise::write(&located, &mut buf)?,
            StreamFormat::Jsonl => findings::json::write_lines(&located, &mut buf)?,
            StreamFormat::Github => findings::github::write(&located, &mut buf)?,
            StreamFormat::Json => self.json.add(ctx, &located)?,
        }
        write_through(bar, &buf, out)
    }
}
