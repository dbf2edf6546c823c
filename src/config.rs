//! `sipflow.toml`: the options of `sipflow check` kept with a project.
//!
//! Owns: reading and validating the file (unknown keys, unknown rules and bad severities are
//! errors that point at the offending span). Does not own: merging it with the flags (`cli`).

use std::collections::BTreeMap;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;

/// The file's contents. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Rules to run (codes or names); empty: all.
    #[serde(default)]
    pub select: Vec<String>,
    /// Rules not to run.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// `info`, `warning` or `error`: the lowest severity that makes `check` exit 1.
    pub fail_on: Option<String>,
    /// Headers that link B2BUA legs.
    pub correlation_headers: Option<Vec<String>>,
    /// Severity overrides, by rule code or name.
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    #[serde(default)]
    pub thresholds: ConfigThresholds,
}

/// `[thresholds]`: every key optional; see `rules::Thresholds` for the defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigThresholds {
    pub slow_setup_ms: Option<i64>,
    pub stuck_proceeding_ms: Option<i64>,
    pub retransmissions: Option<u32>,
    pub bye_after_answer_ms: Option<i64>,
    pub caller_bye_after_answer_ms: Option<i64>,
    pub no_media_call_ms: Option<i64>,
    pub media_stopped_ms: Option<i64>,
    pub packet_loss_percent: Option<f64>,
    pub packet_loss_min_packets: Option<u64>,
    pub jitter_mean_ms: Option<u32>,
    pub jitter_max_ms: Option<u32>,
    pub slow_connect_ms: Option<i64>,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{path}: {message}")]
#[diagnostic(code(sipflow::config))]
pub struct ConfigError {
    pub path: String,
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("here")]
    pub span: Option<SourceSpan>,
}

impl Config {
    /// Reads `path`. A missing default file is not an error (`Ok(None)`); a missing file given
    /// with `--config` is.
    pub fn load(path: &str, required: bool) -> Result<Option<Config>, Box<ConfigError>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(Box::new(ConfigError {
                    path: path.to_string(),
                    message: format!("cannot read it: {e}"),
                    src: NamedSource::new(path, String::new()),
                    span: None,
                }));
            }
        };
        match toml::from_str::<Config>(&text) {
            Ok(c) => Ok(Some(c)),
            Err(e) => Err(Box::new(ConfigError {
                path: path.to_string(),
                message: e.message().to_string(),
                span: e.span().map(SourceSpan::from),
                src: NamedSource::new(path, text),
            })),
        }
    }
}
