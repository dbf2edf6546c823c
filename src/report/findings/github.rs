//! `--format github`: GitHub Actions workflow commands, shown as annotations on the run.

use std::io::{self, Write};

use super::{Located, place_text};
use crate::report::{printable, printable_lines};
use crate::rules::Severity;

/// Escapes a workflow command's message (data); other control characters than line breaks
/// are replaced, as the runner's log shows them raw.
fn data(s: &str) -> String {
    printable_lines(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (one line).
fn property(s: &str) -> String {
    data(&printable(s)).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(located: &[Located<'_>], out: &mut dyn Write) -> io::Result<()> {
    for l in located {
        let f = l.finding;
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some(p) = l.primary() {
            props.push(format!("file={}", property(p.input)));
            if let Some(line) = p.line {
                props.push(format!("line={line}"));
            }
        }
        props.push(format!(
            "title={}",
            property(&format!("{} {}", f.rule.code, f.rule.name))
        ));
        let mut message = f.message.clone();
        if let Some(p) = l.primary().filter(|p| p.line.is_none()) {
            message = format!("{}: {message}", place_text(p));
        }
        writeln!(
            out,
            "::{command} {}::{}",
            props.join(","),
            data(&format!("{message}\n{}", f.help))
        )?;
    }
    Ok(())
}
