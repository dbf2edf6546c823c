//! `--format json` (one versioned document) and `--format jsonl` (one finding per line).
//! Fields: `docs/output.md`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::{Located, Place};
use crate::event::Timestamp;
use crate::report::calls::{CallJson, FlowJson, JSON_VERSION};
use crate::report::{Context, pretty_element, pretty_nested, write_pretty_array};
use crate::rules::Severity;

#[derive(Serialize)]
struct FindingJson<'a> {
    rule: &'static str,
    code: &'static str,
    severity: Severity,
    message: &'a str,
    /// 1-based call index, as in `sipflow calls`.
    call: Option<usize>,
    call_id: Option<&'a str>,
    input: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frame: Option<&'a [u64]>,
    ts: Option<Timestamp>,
    help: &'a str,
    evidence: &'a [Place<'a>],
}

impl<'a> FindingJson<'a> {
    fn new(l: &'a Located<'a>) -> Self {
        let f = l.finding;
        let p = l.primary();
        FindingJson {
            rule: f.rule.name,
            code: f.rule.code,
            severity: f.severity,
            message: &f.message,
            call: l.call,
            call_id: l.call_id,
            input: p.map(|p| p.input),
            line: p.and_then(|p| p.line),
            frame: p.and_then(|p| p.frame),
            ts: p.and_then(|p| p.ts),
            help: &f.help,
            evidence: &l.places,
        }
    }
}

#[derive(Serialize)]
struct Summary {
    calls: usize,
    flows: usize,
    findings: usize,
    by_severity: BTreeMap<&'static str, usize>,
    by_rule: BTreeMap<&'static str, usize>,
    /// The exit code `check` returns for this document.
    exit_code: u8,
}

pub fn write(
    ctx: &Context<'_>,
    located: &[Located<'_>],
    exit_code: u8,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut parts = Parts::default();
    parts.add(ctx, located)?;
    parts.write(ctx.inputs, exit_code, out)
}

/// The document, gathered window by window (see `dialog::window`): what is kept of each call,
/// flow and finding is its JSON, already written, and the counts. `write` puts them together
/// exactly as `serde_json`'s pretty printer writes the whole document.
#[derive(Default)]
pub struct Parts {
    calls: Vec<String>,
    flows: Vec<String>,
    findings: Vec<String>,
    by_severity: BTreeMap<&'static str, usize>,
    by_rule: BTreeMap<&'static str, usize>,
}

impl Parts {
    /// Adds a window's calls, flows and findings.
    pub fn add(&mut self, ctx: &Context<'_>, located: &[Located<'_>]) -> io::Result<()> {
        for (ci, c) in ctx.model.calls.iter().enumerate() {
            self.calls.push(pretty_element(&CallJson::new(ctx, ci, c))?);
        }
        for (fi, f) in ctx.model.flows.iter().enumerate() {
            self.flows.push(pretty_element(&FlowJson::new(ctx, fi, f))?);
        }
        for l in located {
            self.findings.push(pretty_element(&FindingJson::new(l))?);
            *self
                .by_severity
                .entry(l.finding.severity.as_str())
                .or_insert(0) += 1;
            *self.by_rule.entry(l.finding.rule.name).or_insert(0) += 1;
        }
        Ok(())
    }

    pub fn write(
        &self,
        inputs: &[crate::ingest::InputInfo],
        exit_code: u8,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let summary = Summary {
            calls: self.calls.len(),
            flows: self.flows.len(),
            findings: self.findings.len(),
            by_severity: self.by_severity.clone(),
            by_rule: self.by_rule.clone(),
            exit_code,
        };
        writeln!(out, "{{\n  \"version\": {JSON_VERSION},")?;
        writeln!(out, "  \"inputs\": {},", pretty_nested(&inputs, "  ")?)?;
        write_pretty_array(out, "calls", &self.calls, false)?;
        write_pretty_array(out, "flows", &self.flows, false)?;
        write_pretty_array(out, "findings", &self.findings, false)?;
        writeln!(out, "  \"summary\": {}", pretty_nested(&summary, "  ")?)?;
        writeln!(out, "}}")
    }
}

pub fn write_lines(located: &[Located<'_>], out: &mut dyn Write) -> io::Result<()> {
    for l in located {
        serde_json::to_writer(&mut *out, &FindingJson::new(l))?;
        writeln!(out)?;
    }
    Ok(())
}
