//! Runs written as they go: the event stream cut into windows of ended calls
//! (`dialog::window`), each window correlated, judged and shown, and what the outputs keep
//! between windows. Every command that reads inputs (`check`, `report`, `calls`, `events`,
//! `flow`) runs this way.
//!
//! Owns: the window loop, the exit code, the order of outputs, the thread behind the
//! analysis. Does not own: any output's format (the `report` modules) or the settings
//! (`cli::check`, `cli::mod`).

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::check::HtmlTarget;
use super::flow::Drawing;
use super::progress::Bar;
use super::{CallsFormat, CheckFormat, FlowFormat, MediaFormat, Selection, UsageError};
use crate::dialog::window::{self, OpenCallLimit, Window, Windows};
use crate::dialog::{self, CorrelateOptions, Model};
use crate::ingest::{EventStream, InputInfo, Next, Source};
use crate::report::{Context, calls, events, export, findings, html, stats};
use crate::rules::{self, Diagnoses, Finding, RuleSettings, Severity};
use crate::sip::status::Lang;

/// What a run analysed window by window writes: `check`'s findings in its format (one finding
/// after the other, or a document that keeps only each call's, flow's and finding's record),
/// the HTML report (`check --html`, `sipflow report`), which keeps the compact call list and
/// the compressed details of each window, or a view of what happened (`calls`, `events`,
/// `flow`).
pub(super) struct Streamed<'a> {
    /// The rules to run; none for the commands that only show what happened.
    pub(super) rules: Option<&'a RuleSettings>,
    /// A finding this severe makes the exit code 1; `report` has none and exits 0.
    pub(super) fail_on: Option<Severity>,
    pub(super) format: Option<CheckFormat>,
    pub(super) html: Option<&'a HtmlTarget>,
    pub(super) view: Option<View<'a>>,
    /// The language of status explanations.
    pub(super) lang: Lang,
    /// The calls and flows shown, judged and counted.
    pub(super) selection: &'a Selection,
    /// `listen --for`: how long to follow live inputs before ending as at their end.
    pub(super) duration: Option<Duration>,
}

/// The selection of every call and flow.
pub(super) static ALL: Selection = Selection::ALL;

/// What `calls`, `events` and `flow` show of each window.
#[derive(Clone, Copy)]
pub(super) enum View<'a> {
    Calls(CallsFormat),
    Events,
    Flow {
        call: Option<&'a str>,
        format: FlowFormat,
    },
    Stats {
        format: MediaFormat,
        by: Option<stats::Bucket>,
    },
    Export {
        format: export::ExportFormat,
        /// The file to write, `-` for the command's output.
        output: &'a str,
        /// The inputs' paths, to read the captures again.
        inputs: &'a [String],
    },
}

impl<'a> Streamed<'a> {
    /// `sipflow report`: the HTML report only.
    pub(super) fn report(rules: &'a RuleSettings, html: &'a HtmlTarget) -> Self {
        Streamed {
            rules: Some(rules),
            fail_on: None,
            format: None,
            html: Some(html),
            view: None,
            lang: Lang::En,
            selection: &ALL,
            duration: None,
        }
    }

    /// `calls`, `events` or `flow`: no rules.
    pub(super) fn view(view: View<'a>) -> Self {
        Streamed {
            rules: None,
            fail_on: None,
            format: None,
            html: None,
            view: Some(view),
            lang: Lang::En,
            selection: &ALL,
            duration: None,
        }
    }

    /// Whether the output shows excerpts of the inputs (so text inputs must be kept).
    pub(super) fn shows_excerpts(&self) -> bool {
        matches!(self.format, Some(CheckFormat::Human))
    }
}

/// How a run written as it goes ended.
pub(super) struct Ran {
    pub(super) code: u8,
    /// The open-call limit's report, if it was reached.
    pub(super) limit: Option<OpenCallLimit>,
    /// `flow`: why nothing could be drawn.
    pub(super) usage: Option<UsageError>,
}

/// A run written as it goes ([`Streamed`]): the stream is cut into windows
/// ([`crate::dialog::window`]), and each is correlated, judged and written before the next is
/// read, so memory holds the open calls and one window, not the input. Calls and flows are
/// numbered across windows.
pub(super) fn run_streamed(
    run: &Streamed<'_>,
    events: &mut EventStream,
    limits: window::Limits,
    correlate: &CorrelateOptions,
    bar: Option<&Bar>,
    out: &mut dyn Write,
) -> io::Result<Ran> {
    // A live run rewrites its report file as it goes.
    let live_html = run
        .html
        .filter(|target| events.is_live() && target.rewritable())
        .cloned();
    let mut totals = Totals {
        behind: Some(Behind::start(run.html.is_some(), live_html, run.lang)),
        view: run
            .view
            .map(|v| Gathered::new(v, run.selection, events.is_live()))
            .transpose()?,
        ..Totals::default()
    };
    let windows = if events.is_live() {
        follow(run, &mut totals, events, limits, correlate, out)?
    } else {
        let mut windows = Windows::new(limits);
        while let Some(ev) = events.next() {
            if let Some(w) = windows.push(ev) {
                totals.window(run, (w, false), events, correlate, bar, out)?;
            }
        }
        windows
    };
    let (last, limit) = windows.finish();
    if events.inputs().is_empty() {
        // No input could be read: their errors say it all, and a summary, an empty document
        // or "no calls" would only hide them.
        return Ok(Ran {
            code: totals.code,
            limit,
            usage: None,
        });
    }
    totals.window(run, (last, true), events, correlate, bar, out)?;
    let mut end = Vec::new();
    match run.format {
        Some(CheckFormat::Human) => {
            findings::human::write_summary(
                totals.by_severity,
                totals.calls,
                totals.flows,
                &mut end,
            )?;
            crate::report::write_rtp_counts(events.inputs(), &mut end)?;
            crate::report::write_untimed_notes(events.inputs(), &mut end)?;
        }
        Some(CheckFormat::Json) => totals.json.write(events.inputs(), totals.code, &mut end)?,
        Some(CheckFormat::Sarif) => totals.sarif.write(&mut end)?,
        Some(CheckFormat::Junit) => totals.junit.write(&mut end)?,
        _ => {}
    }
    let mut usage = None;
    match totals.view.take() {
        Some(Gathered::Table(t)) => {
            t.write(events.inputs(), &mut end)?;
            crate::report::write_untimed_notes(events.inputs(), &mut end)?;
        }
        Some(Gathered::LiveTable(t)) => {
            t.finish(&mut end)?;
            crate::report::write_untimed_notes(events.inputs(), &mut end)?;
        }
        Some(Gathered::Doc(d)) => d.write(events.inputs(), &mut end)?,
        Some(Gathered::Flow(f)) => match f.finish() {
            Ok(held) => end.extend(held),
            Err(e) => usage = Some(e),
        },
        Some(Gathered::Stats(s, MediaFormat::Table)) => s.write_table(&mut end)?,
        Some(Gathered::Stats(s, MediaFormat::Json)) => s.write_json(&mut end)?,
        Some(Gathered::Export {
            export,
            output,
            inputs,
        }) => {
            if output == "-" {
                export.finish(inputs, events.inputs(), &mut end)?;
            } else {
                let written = std::fs::File::create(output).and_then(|f| {
                    let mut w = io::BufWriter::new(f);
                    export.finish(inputs, events.inputs(), &mut w)?;
                    w.flush()
                });
                if let Err(e) = written {
                    let _ = std::fs::remove_file(output);
                    return Err(file_error(output, e));
                }
            }
        }
        Some(Gathered::Events(_)) | None => {}
    }
    write_through(bar, &end, out)?;
    let report = totals.behind.take().map_or(Ok(None), Behind::finish)?;
    if let (Some(target), Some(report)) = (run.html, report) {
        target.write(&report, events.inputs(), events.is_live(), out)?;
    }
    Ok(Ran {
        code: totals.code,
        limit,
        usage,
    })
}

/// How often a run that follows live inputs hands on the calls that ended.
const TICK: Duration = Duration::from_millis(250);
/// How long, once asked to stop, live inputs have to end before they are given up.
const GRACE: Duration = Duration::from_millis(500);

/// Ctrl-C and SIGTERM, once registered: set when one came. A second one ends the process at
/// once (exit code 1), as a user pressing Ctrl-C again expects.
fn interrupted() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registering fails only for a forbidden signal, which these are not; without the
        // handler Ctrl-C ends the run as it always did.
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 1, flag.clone());
        let _ = signal_hook::flag::register(signal, flag.clone());
    }
    flag
}

/// The window loop of live inputs: events are windowed as they come, and every [`TICK`] (or
/// as soon as the inputs go quiet) the calls that ended are handed on by the wall clock
/// ([`Windows::flush`]) and written, the output flushed after each window. Ends at the end of
/// the inputs, after `--for`, or on Ctrl-C / SIGTERM, which end the run as the end of the
/// inputs would: what is pending is written.
fn follow(
    run: &Streamed<'_>,
    totals: &mut Totals<'_>,
    events: &mut EventStream,
    limits: window::Limits,
    correlate: &CorrelateOptions,
    out: &mut dyn Write,
) -> io::Result<Windows> {
    let signal = interrupted();
    let until = run.duration.map(|d| Instant::now() + d);
    let mut windows = Windows::live(limits);
    let mut grace: Option<Instant> = None;
    let mut abandoned = false;
    let mut flushed = Instant::now();
    loop {
        let now = Instant::now();
        if grace.is_none() && (signal.load(Ordering::Relaxed) || until.is_some_and(|u| now >= u)) {
            events.stop();
            grace = Some(now + GRACE);
        }
        if !abandoned && grace.is_some_and(|g| now >= g) {
            events.abandon();
            abandoned = true;
        }
        let mut deadline = now + TICK;
        for limit in [until, grace].into_iter().flatten() {
            deadline = deadline.min(limit.max(now));
        }
        let end = match events.next_until(deadline) {
            Next::Event(ev) => {
                if let Some(w) = windows.push(ev) {
                    totals.window(run, (w, false), events, correlate, None, out)?;
                    out.flush()?;
                }
                false
            }
            Next::Quiet => false,
            Next::End => true,
        };
        if end {
            return Ok(windows);
        }
        let now = Instant::now();
        if now.duration_since(flushed) >= TICK {
            flushed = now;
            if let Some(w) = windows.flush(now) {
                totals.window(run, (w, false), events, correlate, None, out)?;
                out.flush()?;
            }
        }
    }
}

/// What a view keeps between windows.
enum Gathered<'a> {
    Table(calls::Table),
    /// The table of live inputs: rows written as calls end.
    LiveTable(calls::LiveTable),
    Doc(calls::Doc),
    /// Whether only the events of the (selected) calls and flows are written.
    Events(bool),
    Flow(Drawing<'a>),
    Stats(Box<stats::Stats>, MediaFormat),
    Export {
        export: Box<export::Export>,
        output: &'a str,
        inputs: &'a [String],
    },
}

impl<'a> Gathered<'a> {
    /// `live`: the run follows live inputs, and writes what it can as calls end.
    fn new(view: View<'a>, selection: &Selection, live: bool) -> io::Result<Self> {
        Ok(match view {
            View::Calls(CallsFormat::Table) if live => {
                Gathered::LiveTable(calls::LiveTable::default())
            }
            View::Calls(CallsFormat::Table) => Gathered::Table(calls::Table::default()),
            View::Calls(CallsFormat::Json) => Gathered::Doc(calls::Doc::default()),
            View::Events => Gathered::Events(!selection.is_all()),
            View::Flow { call, format } => Gathered::Flow(Drawing::new(call, format, live)),
            View::Stats { format, by } => {
                Gathered::Stats(Box::new(stats::Stats::new(!selection.is_all(), by)), format)
            }
            View::Export {
                format,
                output,
                inputs,
            } => {
                // A raw SIP dump is written as the run goes; a capture at the end.
                let sip = match (format, output) {
                    (export::ExportFormat::Sip, "-") => Some(Box::new(io::stdout()) as _),
                    (export::ExportFormat::Sip, path) => Some(Box::new(io::BufWriter::new(
                        std::fs::File::create(path).map_err(|e| file_error(path, e))?,
                    )) as _),
                    _ => None,
                };
                let export = export::Export::new(format, !selection.is_all(), sip);
                Gathered::Export {
                    export: Box::new(export),
                    output,
                    inputs,
                }
            }
        })
    }

    /// Adds a window; what can be written at once goes into `out`.
    fn add(&mut self, ctx: &Context<'_>, out: &mut Vec<u8>) -> io::Result<()> {
        match self {
            Gathered::Table(t) => t.add(ctx),
            Gathered::LiveTable(t) => t.add(ctx, out)?,
            Gathered::Doc(d) => d.add(ctx)?,
            Gathered::Events(owned) => events::write_jsonl(ctx, *owned, out)?,
            Gathered::Flow(f) => f.add(ctx, out)?,
            Gathered::Stats(s, _) => s.add(ctx.model),
            Gathered::Export { export, output, .. } => {
                export.add(ctx).map_err(|e| file_error(output, e))?;
            }
        }
        Ok(())
    }
}

/// What the windows written so far add up to.
#[derive(Default)]
struct Totals<'a> {
    /// Calls and flows of the windows so far, for numbering the next window's.
    numbered: (usize, usize),
    /// Those selected.
    calls: usize,
    flows: usize,
    /// Errors, warnings, infos.
    by_severity: [usize; 3],
    code: u8,
    /// With `--format json`: the document's parts.
    json: findings::json::Parts,
    /// With `--format sarif`: the results.
    sarif: findings::sarif::Results,
    /// With `--format junit`: the test cases.
    junit: findings::junit::Cases,
    /// The thread that takes each window once it is written.
    behind: Option<Behind>,
    /// With `calls`, `events` or `flow`: what it keeps.
    view: Option<Gathered<'a>>,
    /// What the rules remember from one window to the next.
    memory: rules::Memory,
}

/// A window's model and findings, and the inputs as known when it was cut.
type Judged = (Model, Vec<Finding>, Vec<InputInfo>);

/// A thread at most two windows behind the analysis that gathers the HTML report, if there is
/// one, and frees each window. Laying out the ladders and compressing the details costs about
/// as much as the analysis, and freeing a window's model a tenth of it: off the analysing
/// thread, both run on the other core. On live inputs it also rewrites the report file while
/// the run goes ([`HtmlTarget::snapshot`]), when calls came since it last did, at most every
/// `--html-every`.
struct Behind {
    windows: SyncSender<Judged>,
    thread: Option<JoinHandle<io::Result<Option<html::Report>>>>,
    report: bool,
}

impl Behind {
    /// `report`: whether to gather the HTML report; `live`: the file to rewrite as it goes.
    fn start(report: bool, live: Option<HtmlTarget>, lang: Lang) -> Self {
        let (windows, judged) = sync_channel::<Judged>(2);
        let thread = std::thread::spawn(move || {
            let mut gathered = report.then(html::Report::default);
            // The inputs as the last window knew them, for a snapshot's header and cards.
            let mut known: Vec<InputInfo> = Vec::new();
            // When the file was last written, and whether calls came since.
            let mut written: Option<Instant> = None;
            let mut fresh = false;
            loop {
                let next = match &live {
                    Some(target) if fresh => {
                        let due = written.map_or_else(Instant::now, |w| w + target.every());
                        match judged.recv_timeout(due.saturating_duration_since(Instant::now())) {
                            Ok(w) => Some(w),
                            Err(RecvTimeoutError::Timeout) => None,
                            Err(RecvTimeoutError::Disconnected) => break,
                        }
                    }
                    _ => match judged.recv() {
                        Ok(w) => Some(w),
                        Err(_) => break,
                    },
                };
                if let Some((model, found, inputs)) = next
                    && let Some(r) = &mut gathered
                {
                    let diagnoses = Diagnoses::of(&model, &found);
                    let ctx = Context {
                        model: &model,
                        inputs: &inputs,
                        sources: &[],
                        diagnoses: &diagnoses,
                        lang,
                    };
                    r.add(&ctx, &found)?;
                    fresh |=
                        !(model.calls.is_empty() && model.flows.is_empty() && found.is_empty());
                    known = inputs;
                }
                if let (Some(target), Some(r)) = (&live, &gathered)
                    && fresh
                    && written.is_none_or(|w| w.elapsed() >= target.every())
                {
                    target.snapshot(r, &known)?;
                    written = Some(Instant::now());
                    fresh = false;
                }
            }
            Ok(gathered)
        });
        Behind {
            windows,
            thread: Some(thread),
            report,
        }
    }

    /// Hands a window on; an error is the one the thread stopped with.
    fn add(&mut self, model: Model, found: Vec<Finding>, inputs: &[InputInfo]) -> io::Result<()> {
        let inputs = if self.report {
            inputs.to_vec()
        } else {
            Vec::new()
        };
        match self.windows.send((model, found, inputs)) {
            Ok(()) => Ok(()),
            Err(_) => match self.thread.take().map(JoinHandle::join) {
                Some(Ok(Err(e))) => Err(e),
                _ => Err(io::Error::other("the HTML report stopped")),
            },
        }
    }

    /// The report, if one was gathered.
    fn finish(self) -> io::Result<Option<html::Report>> {
        drop(self.windows);
        match self.thread {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the HTML report failed"))),
            None => Err(io::Error::other("the HTML report stopped")),
        }
    }
}

/// A failure to write the file `path`, told apart from a failed stdout.
fn file_error(path: &str, source: io::Error) -> io::Error {
    io::Error::new(
        source.kind(),
        super::FileError {
            path: path.to_string(),
            source,
        },
    )
}

/// Writes `bytes` with the progress bar, if any, hidden meanwhile.
fn write_through(bar: Option<&Bar>, bytes: &[u8], out: &mut dyn Write) -> io::Result<()> {
    match bar {
        Some(bar) => bar.suspend(|| out.write_all(bytes)),
        None => out.write_all(bytes),
    }
}

impl Totals<'_> {
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
        model.renumber(self.numbered.0, self.numbered.1);
        self.numbered.0 += model.calls.len();
        self.numbered.1 += model.flows.len();
        // `calls` and `flow` run no rules but the ones that explain statuses, so that what
        // they say a status means agrees with `check`.
        let explaining;
        let settings = match (run.rules, run.view) {
            (Some(settings), _) => Some(settings),
            (None, view) => {
                // And the rules `--rule` selects by (their findings are not shown).
                let mut views = RuleSettings::explaining_statuses();
                if matches!(
                    view,
                    Some(View::Events | View::Stats { .. } | View::Export { .. })
                ) {
                    views.select.clear();
                }
                views.select.extend_from_slice(run.selection.rules());
                explaining = views;
                (!explaining.select.is_empty()).then_some(&explaining)
            }
        };
        // How far each input had been read when the window was cut, not how far this window's
        // events go.
        let found = match settings {
            Some(settings) => {
                let ctx = rules::Context {
                    model: &model,
                    settings,
                    inputs,
                    input_ends: w.input_ends,
                    whole_inputs: last,
                    memory: std::mem::take(&mut self.memory),
                    shared: rules::Shared::default(),
                };
                let found = rules::run(&ctx);
                self.memory = ctx.memory;
                found
            }
            None => Vec::new(),
        };
        if let Some(Gathered::Flow(drawing)) = &mut self.view {
            drawing.list(&model);
        }
        let mut found = found;
        run.selection.apply(&mut model, &mut found);
        self.calls += model.calls.len();
        self.flows += model.flows.len();
        let diagnoses = Diagnoses::of(&model, &found);
        let ctx = Context {
            model: &model,
            inputs,
            sources,
            diagnoses: &diagnoses,
            lang: run.lang,
        };
        if run
            .fail_on
            .is_some_and(|fail_on| found.iter().any(|f| f.severity >= fail_on))
        {
            self.code = 1;
        }
        if let Some(format) = run.format {
            let fail_on = run.fail_on.unwrap_or(Severity::Error);
            self.write((format, fail_on), &ctx, &found, bar, out)?;
        }
        if let Some(view) = &mut self.view {
            let mut buf = Vec::new();
            view.add(&ctx, &mut buf)?;
            write_through(bar, &buf, out)?;
        }
        if let Some(behind) = &mut self.behind {
            behind.add(model, found, inputs)?;
        }
        Ok(())
    }

    /// Writes a window's findings, or keeps them for a document.
    fn write(
        &mut self,
        (format, fail_on): (CheckFormat, Severity),
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
            CheckFormat::Human => findings::human::write_findings(ctx, &located, &mut buf)?,
            CheckFormat::Concise => findings::concise::write(&located, &mut buf)?,
            CheckFormat::Jsonl => findings::json::write_lines(&located, &mut buf)?,
            CheckFormat::Github => findings::github::write(&located, &mut buf)?,
            CheckFormat::Json => self.json.add(ctx, &located)?,
            CheckFormat::Sarif => self.sarif.add(&located)?,
            CheckFormat::Junit => self.junit.add(ctx, &located, fail_on)?,
        }
        write_through(bar, &buf, out)
    }
}
