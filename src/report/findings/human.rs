//! `--format human`: miette diagnostics with labelled spans pointing into the user's inputs
//! (the log line, the dump's header line, or the exact place a message stopped parsing), the
//! help text, and evidence in other inputs as related diagnostics. Captures have no text to
//! point into: their evidence is listed by frame. No colour, fixed width: deterministic.

use std::fmt;
use std::io::{self, Write};
use std::ops::Range;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};
use rayon::prelude::*;

use super::{Located, count, place_text};
use crate::event::{Event, Locator};
use crate::ingest::Source;
use crate::report::{Context, printable_lines};
use crate::rules::{Finding, Severity};

/// One diagnostic: the finding itself, or its evidence in another input.
#[derive(Debug)]
struct Diag {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<Excerpt>,
    labels: Vec<LabeledSpan>,
    related: Vec<Diag>,
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diag {}

impl Diagnostic for Diag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty()).then(|| Box::new(self.labels.iter().cloned()) as _)
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        (!self.related.is_empty())
            .then(|| Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)) as _)
    }
}

/// The part of an input a diagnostic shows: the lines around its labels, and where they start
/// in the input, so that miette numbers lines as the input does without counting them from the
/// input's start for every finding (which made a large log with many findings quadratic).
#[derive(Debug)]
struct Excerpt {
    name: String,
    /// The lines shown, and where they start in the input's text.
    bytes: Vec<u8>,
    start: usize,
    /// 0-based number of the line at `start`.
    first_line: usize,
}

impl Excerpt {
    /// The lines around `spans` (two more on each side than the one line of context shown),
    /// numbered from `anchor`: the start of a line and its 1-based number. Only the text near
    /// them is read: a window that widens until it holds those lines (a line is at most
    /// `linecap::MAX_LINE` bytes).
    fn around(name: &str, text: &Source, spans: &[Range<usize>], anchor: (usize, u32)) -> Self {
        let lo = spans.iter().map(|s| s.start).min().unwrap_or(0);
        let hi = spans.iter().map(|s| s.end).max().unwrap_or(0).max(lo);
        let mut margin = 4096usize;
        loop {
            let from = lo.min(anchor.0).saturating_sub(margin);
            let want = hi.max(anchor.0).saturating_add(margin);
            let window = text.read(from..want);
            if let Some(excerpt) = Self::within(name, &window, from, want, (lo, hi), anchor) {
                return excerpt;
            }
            margin = margin.saturating_mul(4);
        }
    }

    /// [`Excerpt::around`] in `window`, the text from offset `from` (up to `want`, or shorter
    /// at the end of the text); `None` when the lines reach past the window.
    fn within(
        name: &str,
        window: &[u8],
        from: usize,
        want: usize,
        (lo, hi): (usize, usize),
        anchor: (usize, u32),
    ) -> Option<Self> {
        let len = from + window.len();
        let at_end = len < want;
        let lo = lo.min(len);
        let hi = hi.clamp(lo, len);
        let text = |r: Range<usize>| &window[r.start - from..r.end - from];
        let mut start = lo;
        for _ in 0..3 {
            let before = start.saturating_sub(1).max(from);
            start = match memchr::memrchr(b'\n', text(from..before)) {
                Some(p) => from + p + 1,
                None if from == 0 => 0,
                None => return None,
            };
        }
        let mut end = hi;
        for _ in 0..3 {
            end = match memchr::memchr(b'\n', text(end..len)) {
                Some(p) => (end + p + 1).min(len),
                None if at_end => len,
                None => return None,
            };
        }
        let newlines = |r: Range<usize>| memchr::memchr_iter(b'\n', text(r)).count();
        let (at, line) = (anchor.0.min(len), anchor.1.saturating_sub(1) as usize);
        let first_line = if start <= at {
            line.saturating_sub(newlines(start..at))
        } else {
            line + newlines(at..start)
        };
        Some(Excerpt {
            name: name.to_string(),
            bytes: text(start..end).to_vec(),
            start,
            first_line,
        })
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let offset = span
            .offset()
            .checked_sub(self.start)
            .ok_or(MietteError::OutOfBounds)?;
        let inner =
            self.bytes
                .read_span(&SourceSpan::new(offset.into(), span.len()), before, after)?;
        let at = SourceSpan::new(
            (inner.span().offset() + self.start).into(),
            inner.span().len(),
        );
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            at,
            inner.line() + self.first_line,
            inner.column(),
            // miette's own reader counts the lines from the input's start to the end of the
            // contents here (and merges label contexts by it): count them the same way.
            inner.line_count() + self.first_line,
        )))
    }
}

fn miette_severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Info => miette::Severity::Advice,
        Severity::Warning => miette::Severity::Warning,
        Severity::Error => miette::Severity::Error,
    }
}

/// The span to underline for an event: a parse error's exact place when the message did not
/// parse, else the first line of the record (the log line or the dump header).
fn event_span(source: &Source, ev: &Event) -> Option<Range<usize>> {
    let Locator::Text { span, .. } = &ev.origin().locator else {
        return None;
    };
    let record = source.read(span.clone());
    if record.len() != span.len() {
        return None;
    }
    let record = record.as_slice();
    if let Event::Message(m) = ev
        && let Err(u) = &m.msg
        && let Some(at) = find(record, &u.raw)
    {
        let start = span.start + at + u.error.span.start;
        let end = span.start + at + u.error.span.end.max(u.error.span.start + 1);
        return Some(start..end.min(span.end));
    }
    let line_end = record
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(record.len());
    let line_end = if record.get(..line_end)?.ends_with(b"\r") {
        line_end - 1
    } else {
        line_end
    };
    Some(span.start..span.start + line_end)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn diag(ctx: &Context<'_>, l: &Located<'_>) -> Diag {
    let f: &Finding = l.finding;
    let model = ctx.model;
    // Evidence grouped by input, in the order of first appearance, each group with the start
    // and number of its earliest record's first line.
    let mut groups: Vec<(usize, Vec<LabeledSpan>, (usize, u32))> = Vec::new();
    let mut elsewhere: Vec<String> = Vec::new();
    for (e, place) in f.evidence.iter().zip(&l.places) {
        let Some(ev) = model.events.get(e.event) else {
            continue;
        };
        let input = ev.origin().input;
        let span = ctx.sources.get(input).and_then(|src| event_span(src, ev));
        let anchor = match &ev.origin().locator {
            Locator::Text { line, span } => (span.start, *line),
            Locator::Frames(_) => (0, 1),
        };
        match span {
            Some(span) => {
                let label = LabeledSpan::new_with_span(Some(e.label.clone()), span);
                match groups.iter_mut().find(|(i, _, _)| *i == input) {
                    Some((_, labels, first)) => {
                        labels.push(label);
                        *first = (*first).min(anchor);
                    }
                    None => groups.push((input, vec![label], anchor)),
                }
            }
            None => elsewhere.push(format!("{}: {}", place_text(place), e.label)),
        }
    }
    if let Some(i) = f.input
        && !ctx.sources.get(i).is_some_and(|s| s.is_empty())
    {
        groups.push((
            i,
            vec![LabeledSpan::new_with_span(Some("this input".into()), 0..0)],
            (0, 1),
        ));
    }
    let source_of = |i: usize, labels: &[LabeledSpan], anchor: (usize, u32)| {
        let spans: Vec<Range<usize>> = labels
            .iter()
            .map(|l| l.offset()..l.offset() + l.len())
            .collect();
        ctx.sources
            .get(i)
            .map(|s| Excerpt::around(ctx.input_name(i), s, &spans, anchor))
    };
    let mut groups = groups.into_iter();
    let (source, labels) = match groups.next() {
        Some((i, labels, anchor)) => (source_of(i, &labels, anchor), labels),
        None => (None, Vec::new()),
    };
    let related = groups
        .map(|(i, labels, anchor)| Diag {
            message: format!("evidence in {}", ctx.input_name(i)),
            code: None,
            severity: miette::Severity::Advice,
            help: None,
            source: source_of(i, &labels, anchor),
            labels,
            related: Vec::new(),
        })
        .collect();
    let mut help = f.help.clone();
    for e in &elsewhere {
        help.push_str("\nevidence: ");
        help.push_str(e);
    }
    let call = l
        .call
        .zip(l.call_id)
        .map(|(c, id)| format!("call {c} ({id}): "))
        .unwrap_or_default();
    Diag {
        message: format!("{call}{}", f.message),
        code: Some(format!("{} {}", f.rule.code, f.rule.name)),
        severity: miette_severity(f.severity),
        help: Some(help),
        source,
        labels,
        related,
    }
}

pub fn write(ctx: &Context<'_>, located: &[Located<'_>], out: &mut dyn Write) -> io::Result<()> {
    write_findings(ctx, located, out)?;
    let count = |sev| count(located, sev);
    let counts = [
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    ];
    write_summary(counts, ctx.model.calls.len(), ctx.model.flows.len(), out)
}

/// The findings, without the summary line (for output written window by window).
pub fn write_findings(
    ctx: &Context<'_>,
    located: &[Located<'_>],
    out: &mut dyn Write,
) -> io::Result<()> {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .with_context_lines(1);
    let render = |l: &Located<'_>| -> io::Result<String> {
        let mut text = String::new();
        handler
            .render_report(&mut text, &diag(ctx, l))
            .map_err(io::Error::other)?;
        // The message, the labels and the excerpt all quote the input.
        let mut text = printable_lines(&text);
        text.push('\n');
        Ok(text)
    };
    // Laying out a diagnostic (wrapping its text) costs far more than writing it: findings are
    // rendered on every core, a bounded batch at a time, and written in their order.
    for batch in located.chunks(RENDER_BATCH) {
        let texts: Vec<io::Result<String>> = batch.par_iter().map(render).collect();
        for text in texts {
            out.write_all(text?.as_bytes())?;
        }
    }
    Ok(())
}

/// How many findings are rendered at once.
const RENDER_BATCH: usize = 256;

/// The closing line: findings by severity (error, warning, info), calls and flows.
pub fn write_summary(
    [errors, warnings, infos]: [usize; 3],
    calls: usize,
    flows: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "{} finding(s): {errors} error, {warnings} warning, {infos} info; {calls} call(s), \
         {flows} flow(s)",
        errors + warnings + infos,
    )
}
