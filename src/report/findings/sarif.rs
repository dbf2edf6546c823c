//! `--format sarif`: SARIF 2.1.0, for code-scanning uploads (GitHub, GitLab, Azure DevOps).

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Located, Place};
use crate::report::pretty_nested;
use crate::rules::{REGISTRY, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Info => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

fn location(p: &Place<'_>) -> Value {
    let mut physical = json!({ "artifactLocation": { "uri": p.input } });
    if let Some(line) = p.line {
        physical["region"] = json!({ "startLine": line });
    }
    let mut loc = json!({ "physicalLocation": physical, "message": { "text": p.label } });
    if let Some(frames) = p.frame {
        let frames: Vec<String> = frames.iter().map(ToString::to_string).collect();
        loc["message"]["text"] = json!(format!("frame {}: {}", frames.join(","), p.label));
    }
    loc
}

pub fn write(located: &[Located<'_>], out: &mut dyn Write) -> io::Result<()> {
    let mut results = Results::default();
    results.add(located)?;
    results.write(out)
}

/// The results gathered window by window, each already written as it sits in the document;
/// `write` gives the bytes `serde_json`'s pretty printer gives for the whole document.
#[derive(Default)]
pub struct Results {
    results: Vec<String>,
}

/// The indentation of a result in the pretty document (`runs[0].results[i]`).
const RESULT_INDENT: &str = "        ";

impl Results {
    pub fn add(&mut self, located: &[Located<'_>]) -> io::Result<()> {
        for l in located {
            let f = l.finding;
            let rule_index = REGISTRY.iter().position(|r| r.code == f.rule.code);
            let mut result = json!({
                "ruleId": f.rule.code,
                "ruleIndex": rule_index,
                "level": level(f.severity),
                "message": { "text": format!("{}\n{}", f.message, f.help) },
                "locations": l.primary().map(location).into_iter().collect::<Vec<_>>(),
                "relatedLocations": l.places.iter().skip(1).enumerate().map(|(i, p)| {
                    let mut loc = location(p);
                    loc["id"] = json!(i + 1);
                    loc
                }).collect::<Vec<_>>(),
            });
            if let Some(id) = l.call_id {
                result["properties"] = json!({ "call": l.call, "callId": id });
            }
            self.results.push(pretty_nested(&result, RESULT_INDENT)?);
        }
        Ok(())
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let rules: Vec<Value> = REGISTRY
            .iter()
            .map(|r| {
                json!({
                    "id": r.code,
                    "name": r.name,
                    "shortDescription": { "text": r.summary },
                    "fullDescription": { "text": r.summary },
                    "help": { "text": r.docs, "markdown": r.docs },
                    "defaultConfiguration": { "level": level(r.severity) },
                    "properties": { "scope": r.scope.as_str() },
                })
            })
            .collect();
        let doc = json!({
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": {
                    "name": "sipflow",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/sipflow/sipflow",
                    "rules": rules,
                }},
                "columnKind": "unicodeCodePoints",
                "results": [],
            }],
        });
        let text = serde_json::to_string_pretty(&doc)?;
        // The results go where the printer put the empty array: the run's last key, so the
        // last `"results": []` (inside strings, quotes are escaped).
        const EMPTY: &str = "\"results\": []";
        match text.rfind(EMPTY) {
            Some(at) if !self.results.is_empty() => {
                let (head, tail) = text.split_at(at);
                let tail = &tail[EMPTY.len()..];
                writeln!(out, "{head}\"results\": [")?;
                for (i, r) in self.results.iter().enumerate() {
                    let comma = if i + 1 < self.results.len() { "," } else { "" };
                    writeln!(out, "{RESULT_INDENT}{r}{comma}")?;
                }
                write!(out, "      ]{tail}")?;
            }
            _ => out.write_all(text.as_bytes())?,
        }
        writeln!(out)
    }
}
