//! `--format sarif`: SARIF 2.1.0, for code-scanning uploads (GitHub, GitLab, Azure DevOps).

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Located, Place};
use crate::rules::{REGISTRY, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Info => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

fn location(p: &Place) -> Value {
    let mut physical = json!({ "artifactLocation": { "uri": p.input } });
    if let Some(line) = p.line {
        physical["region"] = json!({ "startLine": line });
    }
    let mut loc = json!({ "physicalLocation": physical, "message": { "text": p.label } });
    if let Some(frames) = &p.frame {
        let frames: Vec<String> = frames.iter().map(ToString::to_string).collect();
        loc["message"]["text"] = json!(format!("frame {}: {}", frames.join(","), p.label));
    }
    loc
}

pub fn write(located: &[Located<'_>], out: &mut dyn Write) -> io::Result<()> {
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
    let results: Vec<Value> = located
        .iter()
        .map(|l| {
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
            result
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
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
