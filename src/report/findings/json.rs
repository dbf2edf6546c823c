//! `--format json` (one versioned document) and `--format jsonl` (one finding per line).
//! Fields: `docs/output.md`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::{Located, Place};
use crate::event::Timestamp;
use crate::report::Context;
use crate::report::calls::{CallJson, FlowJson, JSON_VERSION};
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
    evidence: &'a [Place],
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
            input: p.map(|p| p.input.as_str()),
            line: p.and_then(|p| p.line),
            frame: p.and_then(|p| p.frame.as_deref()),
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

#[derive(Serialize)]
struct CheckDoc<'a> {
    version: u32,
    inputs: &'a [crate::ingest::InputInfo],
    calls: Vec<CallJson<'a>>,
    flows: Vec<FlowJson<'a>>,
    findings: Vec<FindingJson<'a>>,
    summary: Summary,
}

pub fn write(
    ctx: &Context<'_>,
    located: &[Located<'_>],
    exit_code: u8,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut by_severity = BTreeMap::new();
    let mut by_rule = BTreeMap::new();
    for l in located {
        *by_severity.entry(l.finding.severity.as_str()).or_insert(0) += 1;
        *by_rule.entry(l.finding.rule.name).or_insert(0) += 1;
    }
    let doc = CheckDoc {
        version: JSON_VERSION,
        inputs: ctx.inputs,
        calls: ctx
            .model
            .calls
            .iter()
            .map(|c| CallJson::new(ctx, c))
            .collect(),
        flows: ctx.model.flows.iter().map(FlowJson::new).collect(),
        findings: located.iter().map(FindingJson::new).collect(),
        summary: Summary {
            calls: ctx.model.calls.len(),
            flows: ctx.model.flows.len(),
            findings: located.len(),
            by_severity,
            by_rule,
            exit_code,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

pub fn write_lines(located: &[Located<'_>], out: &mut dyn Write) -> io::Result<()> {
    for l in located {
        serde_json::to_writer(&mut *out, &FindingJson::new(l))?;
        writeln!(out)?;
    }
    Ok(())
}
