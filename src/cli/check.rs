//! `sipflow check` and `sipflow report`: their settings (flags over `sipflow.toml` over
//! defaults) and where the HTML report goes. Running them is `cli::stream`.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

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
        slow_connect_ms: t.slow_connect_ms.unwrap_or(d.slow_connect_ms),
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
                .map(|path| HtmlTarget::new(path, args.timestamp, args.html_every)),
        })
    }
}

/// How often a run that follows live inputs rewrites its HTML report at most, by default.
pub(super) const HTML_EVERY: Duration = Duration::from_secs(5);

/// Where the HTML report goes (`-`: the command's output), how it is dated, and how often a
/// live run rewrites it.
#[derive(Clone)]
pub(super) struct HtmlTarget {
    path: String,
    options: html::Options,
    every: Duration,
}

impl HtmlTarget {
    /// The file the report goes to, `-` for the command's output.
    pub(super) fn path(&self) -> &str {
        &self.path
    }

    pub(super) fn new(path: &str, timestamp: bool, every: Option<Duration>) -> Self {
        HtmlTarget {
            path: path.to_string(),
            options: html::Options {
                generated_at: timestamp.then(html::now_utc),
            },
            every: every.unwrap_or(HTML_EVERY),
        }
    }

    /// How often a live run rewrites the report at most.
    pub(super) fn every(&self) -> Duration {
        self.every
    }

    /// Whether a live run can rewrite the report while it runs: a file (or a link to one) or
    /// a path not there yet, replaced whole by a rename. Not the command's output, a FIFO or a
    /// device, which take the report once, at the end.
    pub(super) fn rewritable(&self) -> bool {
        self.path != "-"
            && match std::fs::metadata(&self.path) {
                Ok(m) => m.is_file(),
                Err(e) => e.kind() == io::ErrorKind::NotFound,
            }
    }

    /// Writes the report; a file is written whole or, on error, not left half-written. With
    /// `atomic` (a live run, whose readers may open the file at any time), a file is replaced
    /// by a rename, as [`HtmlTarget::snapshot`] replaces it.
    pub(super) fn write(
        &self,
        report: &html::Report,
        inputs: &[InputInfo],
        atomic: bool,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if self.path == "-" {
            return report.write(inputs, &self.options, out);
        }
        if atomic && self.rewritable() {
            return self.snapshot(report, inputs);
        }
        let path = Path::new(&self.path);
        let mut buf = Vec::new();
        report.write(inputs, &self.options, &mut buf)?;
        std::fs::write(path, buf).map_err(|source| {
            let _ = std::fs::remove_file(path);
            self.error(source)
        })
    }

    /// Replaces the file with the report as gathered so far: written to a temporary file
    /// beside it (`.NAME.tmp-PID`), then renamed over it, so that a reader sees the previous
    /// report or this one, never a part. A link is followed: the file it names is replaced.
    /// On error the temporary file is removed and the previous report stays.
    pub(super) fn snapshot(&self, report: &html::Report, inputs: &[InputInfo]) -> io::Result<()> {
        let path = Path::new(&self.path);
        let target = match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                std::fs::canonicalize(path).map_err(|e| self.error(e))?
            }
            _ => path.to_path_buf(),
        };
        let Some(name) = target.file_name() else {
            return Err(self.error(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a file name",
            )));
        };
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = target.with_file_name(tmp_name);
        let written = std::fs::File::create(&tmp).and_then(|f| {
            let mut w = io::BufWriter::new(f);
            report.write(inputs, &self.options, &mut w)?;
            w.into_inner().map_err(io::IntoInnerError::into_error)?;
            std::fs::rename(&tmp, &target)
        });
        written.map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            self.error(source)
        })
    }

    /// A failure to write the report file, told apart from a failed stdout.
    fn error(&self, source: io::Error) -> io::Error {
        io::Error::new(
            source.kind(),
            super::FileError {
                path: self.path.clone(),
                source,
            },
        )
    }
}
