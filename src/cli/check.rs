//! `sipflow check`: its settings (flags over `sipflow.toml` over defaults), running the rules,
//! rendering the findings, and the exit code.

use std::io::{self, Write};

use super::stream::{StreamFormat, Streamed};
use super::{CheckArgs, CheckFormat, RuleArgs, UsageError};
use crate::config::Config;
use crate::ingest::InputInfo;
use crate::report::{Context, findings, html};
use crate::rules::{self, RuleSettings, Severity, Thresholds};

/// `check`'s validated options: flags over `sipflow.toml` over defaults.
pub(super) struct CheckSettings {
    format: CheckFormat,
    rules: RuleSettings,
    fail_on: Severity,
    html: Option<HtmlTarget>,
}

/// The rules to run and their thresholds: flags over `sipflow.toml` over defaults.
pub(super) fn rule_settings(args: &RuleArgs, config: &Config) -> Result<RuleSettings, UsageError> {
    let codes = |names: &[String]| -> Result<Vec<&'static str>, UsageError> {
        names
            .iter()
            .map(|n| {
                rules::lookup(n.trim())
                    .map(|r| r.code)
                    .ok_or_else(|| UsageError::UnknownRule(n.clone()))
            })
            .collect()
    };
    let pick = |flag: &Vec<String>, file: &Vec<String>| {
        if flag.is_empty() {
            file.clone()
        } else {
            flag.clone()
        }
    };
    let mut overrides = std::collections::BTreeMap::new();
    for (rule, sev) in &config.severity {
        let code = rules::lookup(rule)
            .map(|r| r.code)
            .ok_or_else(|| UsageError::UnknownRule(rule.clone()))?;
        overrides.insert(code, severity(sev)?);
    }
    let t = &config.thresholds;
    let d = Thresholds::default();
    let thresholds = Thresholds {
        slow_setup_ms: t.slow_setup_ms.unwrap_or(d.slow_setup_ms),
        stuck_proceeding_ms: t.stuck_proceeding_ms.unwrap_or(d.stuck_proceeding_ms),
        retransmissions: t.retransmissions.unwrap_or(d.retransmissions),
        bye_after_answer_ms: t.bye_after_answer_ms.unwrap_or(d.bye_after_answer_ms),
    };
    Ok(RuleSettings {
        thresholds,
        select: codes(&pick(&args.select, &config.select))?,
        ignore: codes(&pick(&args.ignore, &config.ignore))?,
        severity: overrides,
    })
}

fn severity(s: &str) -> Result<Severity, UsageError> {
    Severity::parse(s).ok_or_else(|| UsageError::Severity(s.into()))
}

impl CheckSettings {
    /// How the run is written window by window, if its format allows: every format but SARIF
    /// and JUnit, which are written from one model of the run.
    pub(super) fn streamed(&self) -> Option<Streamed<'_>> {
        let format = match self.format {
            CheckFormat::Human => StreamFormat::Human,
            CheckFormat::Concise => StreamFormat::Concise,
            CheckFormat::Jsonl => StreamFormat::Jsonl,
            CheckFormat::Github => StreamFormat::Github,
            CheckFormat::Json => StreamFormat::Json,
            CheckFormat::Sarif | CheckFormat::Junit => return None,
        };
        Some(Streamed {
            rules: Some(&self.rules),
            fail_on: Some(self.fail_on),
            format: Some(format),
            html: self.html.as_ref(),
            view: None,
        })
    }

    pub(super) fn new(
        args: &CheckArgs,
        config: &Config,
        rules: RuleSettings,
    ) -> Result<Self, UsageError> {
        let fail_on = match args.fail_on.as_deref().or(config.fail_on.as_deref()) {
            Some(s) => severity(s)?,
            None => Severity::Error,
        };
        Ok(CheckSettings {
            format: args.format,
            rules,
            fail_on,
            html: args
                .html
                .as_deref()
                .map(|path| HtmlTarget::new(path, args.timestamp)),
        })
    }
}

/// Where the HTML report goes (`-`: the command's output) and how it is dated.
pub(super) struct HtmlTarget {
    path: String,
    options: html::Options,
}

impl HtmlTarget {
    pub(super) fn new(path: &str, timestamp: bool) -> Self {
        HtmlTarget {
            path: path.to_string(),
            options: html::Options {
                generated_at: timestamp.then(html::now_utc),
            },
        }
    }

    /// Writes the report; a file is written whole or, on error, not left half-written.
    pub(super) fn write(
        &self,
        report: html::Report,
        inputs: &[InputInfo],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if self.path == "-" {
            return report.write(inputs, &self.options, out);
        }
        let path = std::path::Path::new(&self.path);
        let mut buf = Vec::new();
        report.write(inputs, &self.options, &mut buf)?;
        std::fs::write(path, buf).map_err(|e| {
            let _ = std::fs::remove_file(path);
            io::Error::new(e.kind(), format!("{}: {e}", self.path))
        })
    }
}

/// Runs the rules and renders the findings (and the HTML report, with `--html`); the exit
/// code is 1 when a finding reaches `--fail-on`.
pub(super) fn run_check(
    ctx: &Context<'_>,
    check: &CheckSettings,
    out: &mut dyn Write,
) -> io::Result<u8> {
    let rctx = rules::Context::new(ctx.model, &check.rules, ctx.inputs);
    let findings = rules::run(&rctx);
    let code = u8::from(findings.iter().any(|f| f.severity >= check.fail_on));
    let located: Vec<_> = findings.iter().map(|f| findings::locate(ctx, f)).collect();
    match check.format {
        CheckFormat::Human => findings::human::write(ctx, &located, out)?,
        CheckFormat::Concise => findings::concise::write(&located, out)?,
        CheckFormat::Json => findings::json::write(ctx, &located, code, out)?,
        CheckFormat::Jsonl => findings::json::write_lines(&located, out)?,
        CheckFormat::Sarif => findings::sarif::write(&located, out)?,
        CheckFormat::Junit => findings::junit::write(ctx, &located, check.fail_on, out)?,
        CheckFormat::Github => findings::github::write(&located, out)?,
    }
    if let Some(html) = &check.html {
        html.write(html::Report::of(ctx, &findings)?, ctx.inputs, out)?;
    }
    Ok(code)
}
