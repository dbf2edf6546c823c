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

pub fn write(
    ctx: &Context<'_>,
    located: &[Located<'_>],
    fail_on: Severity,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut cases = Cases::default();
    cases.add(ctx, located, fail_on)?;
    cases.write(out)
}

/// The test cases gathered window by window, already written; the findings about no call make
/// one last case.
#[derive(Default)]
pub struct Cases {
    /// The calls' test cases, written.
    calls: Vec<u8>,
    tests: usize,
    failures: usize,
    /// The findings about no call, written, and whether one fails.
    other: Vec<u8>,
    other_fails: bool,
}

impl Cases {
    pub fn add(
        &mut self,
        ctx: &Context<'_>,
        located: &[Located<'_>],
        fail_on: Severity,
    ) -> io::Result<()> {
        for c in &ctx.model.calls {
            let name = format!("call {}: {}", c.index, c.call_id);
            writeln!(
                self.calls,
                r#"    <testcase classname="sipflow.calls" name="{}">"#,
                esc(&name)
            )?;
            let mut fails = false;
            for l in located.iter().filter(|l| l.call == Some(c.index)) {
                fails |= write_finding(l, fail_on, &mut self.calls)?;
            }
            writeln!(self.calls, "    </testcase>")?;
            self.tests += 1;
            self.failures += usize::from(fails);
        }
        for l in located.iter().filter(|l| l.call.is_none()) {
            self.other_fails |= write_finding(l, fail_on, &mut self.other)?;
        }
        Ok(())
    }

    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let other = !self.other.is_empty();
        let tests = self.tests + usize::from(other);
        let failures = self.failures + usize::from(self.other_fails);
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            out,
            r#"<testsuites name="sipflow" tests="{tests}" failures="{failures}">"#
        )?;
        writeln!(
            out,
            r#"  <testsuite name="sipflow check" tests="{tests}" failures="{failures}" errors="0" skipped="0">"#
        )?;
        out.write_all(&self.calls)?;
        if other {
            writeln!(
                out,
                r#"    <testcase classname="sipflow.calls" name="{}">"#,
                esc("inputs and non-call flows")
            )?;
            out.write_all(&self.other)?;
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
        writeln!(out, "</testsuites>")
    }
}

/// A finding inside its test case: a failure at or above `fail_on`, else output. Returns
/// whether it fails the case.
fn write_finding(l: &Located<'_>, fail_on: Severity, out: &mut dyn Write) -> io::Result<bool> {
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
        Ok(true)
    } else {
        writeln!(
            out,
            "      <system-out>{}: {} {}</system-out>",
            f.severity,
            f.rule.name,
            esc(&detail)
        )?;
        Ok(false)
    }
}
