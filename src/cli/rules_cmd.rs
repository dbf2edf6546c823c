//! `sipflow rules` and `sipflow formats` (the tables, and the generated documentation pages)
//! and `sipflow explain` (a rule, a status code, two codes compared, every code, and the
//! generated status-code pages).

use std::io::{self, Write};

use miette::Diagnostic;

use super::{ExplainFormat, Outcome, UsageError, written_outcome};
use crate::rules;
use crate::sip::status::{self, Lang, compare, render};

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

/// `sipflow rules --docs DIR [--check]`: the generated rule pages.
pub(super) fn rule_docs(dir: &str, check: bool, out: &mut dyn Write) -> Outcome {
    let pages = crate::rules::docs::pages();
    write_pages(&pages, dir, check, "rules", out)
}

/// `sipflow formats`: a table of the input-format registry.
pub(super) fn write_formats(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{:<10} {:<8} SUMMARY", "NAME", "KIND")?;
    for f in crate::ingest::format::FORMATS {
        writeln!(out, "{:<10} {:<8} {}", f.name, f.kind(), f.summary)?;
    }
    Ok(())
}

/// `sipflow formats --docs DIR [--check]`: the generated format pages.
pub(super) fn format_docs(dir: &str, check: bool, out: &mut dyn Write) -> Outcome {
    let pages = crate::ingest::format::docs::pages();
    write_pages(&pages, dir, check, "formats", out)
}

/// `sipflow explain --docs DIR [--check]`: the generated status-code pages.
pub(super) fn status_docs(dir: &str, check: bool, out: &mut dyn Write) -> Outcome {
    write_pages(&render::pages(), dir, check, "explain", out)
}

/// Writes generated pages into `dir`, removing Markdown files no page has any more. With
/// `check` nothing is written and the exit code is 1 when a page is missing, different, or
/// left over; `command` is the `sipflow` subcommand that writes them.
fn write_pages(
    pages: &[(String, String)],
    dir: &str,
    check: bool,
    command: &str,
    out: &mut dyn Write,
) -> Outcome {
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
        "out of date (run `sipflow {command} --docs {}`): {}",
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

/// `sipflow explain`: a rule's docs, a status code's explanation, two codes compared
/// (`A B` or `A vs B`), or with `all` every registered code; in `format` and `lang`.
pub(super) fn explain(
    what: &[String],
    all: bool,
    format: ExplainFormat,
    lang: Lang,
) -> Result<String, UsageError> {
    let json = |v: serde_json::Value| format!("{v:#}\n");
    if all {
        return Ok(match format {
            ExplainFormat::Text => render::all_text(lang),
            ExplainFormat::Markdown => render::all_markdown(lang),
            ExplainFormat::Json => json(render::all_json(lang)),
        });
    }
    let unknown = || UsageError::Explain(what.join(" "));
    let code = |s: &str| {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (100..700).contains(c))
    };
    let pair = match what {
        [_] => None,
        [a, b] => Some((a, b)),
        [a, vs, b] if vs.eq_ignore_ascii_case("vs") => Some((a, b)),
        _ => return Err(unknown()),
    };
    if let Some((a, b)) = pair {
        let (Some(a), Some(b)) = (code(a), code(b)) else {
            return Err(unknown());
        };
        let c = compare::compare(a, b, lang).ok_or_else(unknown)?;
        return Ok(match format {
            ExplainFormat::Text => render::pair_text(&c),
            ExplainFormat::Markdown => render::pair_markdown(&c),
            ExplainFormat::Json => json(render::pair_json(&c)),
        });
    }
    let one = what.first().map_or("", String::as_str);
    if one.trim().parse::<u16>().is_ok() {
        let code = code(one).ok_or_else(unknown)?;
        return Ok(match format {
            ExplainFormat::Text => status::render_in(code, lang),
            ExplainFormat::Markdown => render::code_markdown(code, lang, 1),
            ExplainFormat::Json => json(render::code_json(code, lang)),
        });
    }
    let r = rules::lookup(one.trim()).ok_or_else(unknown)?;
    Ok(match format {
        ExplainFormat::Text => format!(
            "{} {} ({}, {} scope)\n{}\n\n{}",
            r.code,
            r.name,
            r.severity.as_str(),
            r.scope.as_str(),
            r.summary,
            r.docs
        ),
        ExplainFormat::Markdown => format!(
            "# {} {}\n\n*{}, {} scope*\n\n{}\n\n{}",
            r.code,
            r.name,
            r.severity.as_str(),
            r.scope.as_str(),
            r.summary,
            r.docs
        ),
        ExplainFormat::Json => json(serde_json::json!({
            "code": r.code,
            "name": r.name,
            "severity": r.severity.as_str(),
            "scope": r.scope.as_str(),
            "judges_time": r.judges_time,
            "summary": r.summary,
            "docs": r.docs,
        })),
    })
}
