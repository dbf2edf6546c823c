//! `sipflow check` and `sipflow report`: their settings (flags over `sipflow.toml` over
//! defaults) and where the HTML report goes. Running them is `cli::stream`.

use std::io::{self, Write};

use super::stream::Streamed;
use super::{CheckArgs, CheckFormat, RuleArgs, UsageError};
use crate::config::Config;
use crate::ingest::InputInfo;
use crate::report::html;
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
    // The file's, then the flags' (which win, rule by rule).
    let flags = args.severity.iter().map(|pair| match pair.split_once('=') {
        Some((rule, sev)) => (rule.trim().to_string(), sev.trim().to_string()),
        None => (pair.trim().to_string(), String::new()),
    });
    for (rule, sev) in config.severity.clone().into_iter().chain(flags) {
        let code = rules::lookup(&rule)
            .map(|r| r.code)
            .ok_or(UsageError::UnknownRule(rule))?;
        overrides.insert(code, severity(&sev)?);
    }
    let t = &config.thresholds;
    let d = Thresholds::default();
    let thresholds = Thresholds {
        slow_setup_ms: t.slow_setup_ms.unwrap_or(d.slow_setup_ms),
        stuck_proceeding_ms: t.stuck_proceeding_ms.unwrap_or(d.stuck_proceeding_ms),
        retransmissions: t.retransmissions.unwrap_or(d.retransmissions),
        bye_after_answer_ms: t.bye_after_answer_ms.unwrap_or(d.bye_after_answer_ms),
        caller_bye_after_answer_ms: t
            .caller_bye_after_answer_ms
            .unwrap_or(d.caller_bye_after_answer_ms),
        no_media_call_ms: t.no_media_call_ms.unwrap_or(d.no_media_call_ms),
        media_stopped_ms: t.media_stopped_ms.unwrap_or(d.media_stopped_ms),
        packet_loss_percent: t.packet_loss_percent.unwrap_or(d.packet_loss_percent),
        packet_loss_min_packets: t
            .packet_loss_min_packets
            .unwrap_or(d.packet_loss_min_packets),
        jitter_mean_ms: t.jitter_mean_ms.unwrap_or(d.jitter_mean_ms),
        jitter_max_ms: t.jitter_max_ms.unwrap_or(d.jitter_max_ms),
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
    /// How the run is written, window by window.
    pub(super) fn streamed(&self) -> Streamed<'_> {
        Streamed {
            rules: Some(&self.rules),
            fail_on: Some(self.fail_on),
            format: Some(self.format),
            html: self.html.as_ref(),
            view: None,
            lang: crate::sip::status::Lang::En,
            selection: &super::stream::ALL,
            duration: None,
        }
    }

    /// `--html`'s file, if any.
    pub(super) fn html_path(&self) -> Option<&str> {
        self.html.as_ref().map(HtmlTarget::path)
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
    /// The file the report goes to, `-` for the command's output.
    pub(super) fn path(&self) -> &str {
        &self.path
    }

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
        std::fs::write(path, buf).map_err(|source| {
            let _ = std::fs::remove_file(path);
            io::Error::new(
                source.kind(),
                super::FileError {
                    path: self.path.clone(),
                    source,
                },
            )
        })
    }
}
