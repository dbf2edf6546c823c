//! `sipflow rules` (the table, and the generated documentation pages) and `sipflow explain`.

use std::io::{self, Write};

use miette::Diagnostic;

use super::{Outcome, written_outcome};
use crate::rules;

/// `sipflow rules`: a table of the registry.
pub(super) fn write_rules(out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<6} {:<28} {:<8} {:<12} SUMMARY",
        "CODE", "NAME", "SEVERITY", "SCOPE"
    )?;
    for r in rules::REGISTRY.iter() {
        writeln!(
            out,
            "{:<6} {:<28} {:<8} {:<12} {}",
            r.code,
            r.name,
            r.severity.as_str(),
            r.scope.as_str(),
            r.summary
        )?;
    }
    Ok(())
}

/// `sipflow rules --docs DIR [--check]`: the generated rule pages. With `--check` nothing is
/// written and the exit code is 1 when a page is missing, different, or left from a removed
/// rule.
pub(super) fn rule_docs(dir: &str, check: bool, out: &mut dyn Write) -> Outcome {
    let pages = crate::rules::docs::pages();
    let dir = std::path::Path::new(dir);
    let mut stale: Vec<std::path::PathBuf> = pages
        .iter()
        .filter(|(file, text)| {
            std::fs::read_to_string(dir.join(file)).ok().as_deref() != Some(text)
        })
        .map(|(file, _)| dir.join(file))
        .collect();
    let orphans: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| {
            !pages
                .iter()
                .any(|(f, _)| p.file_name().is_some_and(|n| n == f.as_str()))
        })
        .collect();
    if !check {
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| orphans.iter().try_for_each(std::fs::remove_file))
            .and_then(|()| {
                pages
                    .iter()
                    .try_for_each(|(f, t)| std::fs::write(dir.join(f), t))
            });
        if let Err(source) = written {
            let path = dir.display().to_string();
            return Outcome::usage(DocsError { path, source }, Vec::new());
        }
        let changed = stale.len() + orphans.len();
        return written_outcome(writeln!(
            out,
            "{} pages in {} ({changed} changed)",
            pages.len(),
            dir.display()
        ));
    }
    stale.extend(orphans);
    if stale.is_empty() {
        return written_outcome(writeln!(
            out,
            "{} pages up to date in {}",
            pages.len(),
            dir.display()
        ));
    }
    let names: Vec<String> = stale.iter().map(|p| p.display().to_string()).collect();
    let mut outcome = written_outcome(writeln!(
        out,
        "out of date (run `sipflow rules --docs {}`): {}",
        dir.display(),
        names.join(", ")
    ));
    outcome.code = outcome.code.max(1);
    outcome
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("cannot write {path}")]
#[diagnostic(code(sipflow::docs))]
struct DocsError {
    path: String,
    #[source]
    source: io::Error,
}

/// `sipflow explain`: a rule's docs or a status code's explanation.
pub(super) fn explain(what: &str) -> Option<String> {
    if let Ok(code) = what.trim().parse::<u16>() {
        return (100..700)
            .contains(&code)
            .then(|| crate::sip::status::render(code));
    }
    let r = rules::lookup(what.trim())?;
    Some(format!(
        "{} {} ({}, {} scope)\n{}\n\n{}",
        r.code,
        r.name,
        r.severity.as_str(),
        r.scope.as_str(),
        r.summary,
        r.docs
    ))
}
