//! `--format junit`: JUnit XML, one test case per call (and one for findings about no call),
//! failing when it has a finding at or above `--fail-on`. CI systems show it as a test report.

use std::io::{self, Write};

use super::{Located, place_text};
use crate::report::Context;
use crate::rules::Severity;

/// XML-escapes text for element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if c.is_control() && !matches!(c, '\n' | '\t') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

struct Case<'a> {
    name: String,
    findings: Vec<&'a Located<'a>>,
}

pub fn write(
    ctx: &Context<'_>,
    located: &[Located<'_>],
    fail_on: Severity,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut cases: Vec<Case<'_>> = ctx
        .model
        .calls
        .iter()
        .map(|c| Case {
            name: format!("call {}: {}", c.index, c.call_id),
            findings: located.iter().filter(|l| l.call == Some(c.index)).collect(),
        })
        .collect();
    let other: Vec<_> = located.iter().filter(|l| l.call.is_none()).collect();
    if !other.is_empty() {
        cases.push(Case {
            name: "inputs and non-call flows".into(),
            findings: other,
        });
    }
    let failing = |c: &Case<'_>| c.findings.iter().any(|l| l.finding.severity >= fail_on);
    let failures = cases.iter().filter(|c| failing(c)).count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="sipflow" tests="{}" failures="{failures}">"#,
        cases.len()
    )?;
    writeln!(
        out,
        r#"  <testsuite name="sipflow check" tests="{}" failures="{failures}" errors="0" skipped="0">"#,
        cases.len()
    )?;
    for case in &cases {
        writeln!(
            out,
            r#"    <testcase classname="sipflow.calls" name="{}">"#,
            esc(&case.name)
        )?;
        for l in &case.findings {
            let f = l.finding;
            let at = l.primary().map(place_text).unwrap_or_default();
            let detail = format!("{at}\n{}\n{}", f.message, f.help);
            if f.severity >= fail_on {
                writeln!(
                    out,
                    r#"      <failure type="{} {}" message="{}">{}</failure>"#,
                    f.rule.code,
                    f.rule.name,
                    esc(&f.message),
                    esc(&detail)
                )?;
            } else {
                writeln!(
                    out,
                    "      <system-out>{}: {} {}</system-out>",
                    f.severity,
                    f.rule.name,
                    esc(&detail)
                )?;
            }
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}
