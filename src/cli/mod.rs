//! The command line: clap structs, their validation into [`Settings`], and the commands.
//!
//! Owns: argument parsing and validation (flags over `sipflow.toml` over defaults), running
//! `calls`, `events`, `flow`, `check`, `rules`, `formats` and `explain`, and the exit code. Returns
//! diagnostics as data; `main` renders them (it alone knows miette's `Report`). Nothing below
//! this module sees clap.

use std::io::{self, BufWriter, Write};

use clap::{Args, Parser, Subcommand, ValueEnum};
use miette::Diagnostic;

use crate::config::Config;
use crate::dialog::CorrelateOptions;
use crate::ingest::capture::CaptureOptions;
use crate::ingest::capture::payload::PayloadOptions;
use crate::ingest::{self, Format, IngestOptions};
use crate::report::export::ExportFormat;
use crate::rules::RuleSettings;

mod check;
mod flow;
mod limits;
mod media;
mod progress;
mod rules_cmd;
mod select;
mod stream;

use check::{CheckSettings, HtmlTarget, rule_settings};
use rules_cmd::{explain, format_docs, rule_docs, status_docs, write_formats, write_rules};
pub use select::{SelectArgs, Selection};
use stream::{Streamed, View, run_streamed};

#[derive(Debug, Parser)]
#[command(
    name = "sipflow",
    version,
    about = "SIP log analyzer and call-flow debugger",
    long_about = "sipflow reads pjsip/pjsua logs, pcap/pcapng captures, SIPp message traces \
                  and raw SIP dumps, rebuilds transactions, dialogs and calls, shows what \
                  happened, and diagnoses what went wrong (`sipflow check`)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One line per call: start, Call-ID, parties, outcome, final status, setup time, duration.
    Calls {
        #[command(flatten)]
        input: InputArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = CallsFormat::Table)]
        format: CallsFormat,
    },
    /// Every ingested event as JSON Lines (one object per line).
    Events {
        #[command(flatten)]
        input: InputArgs,
    },
    /// A terminal ladder diagram of every selected call (all calls, or those --call and the
    /// other selection options pick; `--call F<n>` draws a non-call flow).
    Flow {
        #[command(flatten)]
        input: InputArgs,
        /// Output format: the terminal ladder, or a sequence diagram of one call (needs a
        /// selection of one call unless the inputs hold only one).
        #[arg(long, value_enum, default_value_t = FlowFormat::Ascii)]
        format: FlowFormat,
    },
    /// Run the rules; exit 1 when a finding is at or above --fail-on (for CI).
    Check {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        check: CheckArgs,
    },
    /// Receive SIP over HEP (heplify, Kamailio siptrace, OpenSIPS, FreeSWITCH, Asterisk
    /// res_hep, sngrep -H) and check each call as it ends, as `check` does; until --for has
    /// passed, or Ctrl-C or SIGTERM, which write what is pending (the summary, --html).
    Listen {
        #[command(flatten)]
        listen: ListenArgs,
        #[command(flatten)]
        check: CheckArgs,
    },
    /// Write the self-contained HTML report: summary, call list, ladders and findings.
    Report {
        #[command(flatten)]
        input: InputArgs,
        /// The file to write (`-` for stdout).
        #[arg(short, long, value_name = "FILE")]
        output: String,
        /// Show the time the report was made (off by default, so that the same inputs give
        /// the same file).
        #[arg(long)]
        timestamp: bool,
        /// On a live input (a pipe, a FIFO): rewrite the file at most this often while calls
        /// come (`5s`, `1m`), each time whole (written beside it, then renamed over it), and
        /// once more at the end [default: 5s].
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        html_every: Option<std::time::Duration>,
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Write the (selected) calls' messages to a capture or a raw SIP dump: a capture's
    /// frames unchanged (IP fragments and TCP segments too) with the RTP and RTCP of the
    /// calls' media streams, a log's messages as synthetic UDP frames; pcap or pcapng by the
    /// file's extension, or --format.
    Export {
        #[command(flatten)]
        input: InputArgs,
        /// The file to write (`.pcap`, `.pcapng`; `-` for stdout, with --format).
        #[arg(short, long, value_name = "FILE")]
        output: String,
        /// What to write [default: from the extension of --output].
        #[arg(long, value_enum)]
        format: Option<ExportArg>,
        /// Signalling only: leave out the RTP and RTCP of the calls' media streams, which a
        /// capture's export copies by default (the streams matched to the calls by their SDP).
        #[arg(long)]
        no_media: bool,
    },
    /// Figures over the (selected) calls: messages per method and status (as `tshark -z
    /// sip,stat`), retransmissions, outcomes, ASR, NER, ACD, post-dial delay and setup time
    /// percentiles, registrations, top talkers and failure codes (docs/stats.md).
    Stats {
        #[command(flatten)]
        input: InputArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = MediaFormat::Table)]
        format: MediaFormat,
        /// Also give the figures per minute or hour of log time (by call start; messages by
        /// their own time).
        #[arg(long, value_enum, value_name = "BUCKET")]
        by: Option<StatsBucket>,
    },
    /// The RTP streams and RTCP reports of captures: one line per stream, like
    /// `tshark -q -z rtp,streams` (pcap/pcapng only for now).
    Media {
        /// Capture files (optionally .gz); `-` reads stdin.
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = MediaFormat::Table)]
        format: MediaFormat,
    },
    /// List the rules, or write their documentation pages.
    Rules {
        /// Write one Markdown page per rule, and an index, into this directory.
        #[arg(long, value_name = "DIR")]
        docs: Option<String>,
        /// With --docs: change nothing, exit 1 if the pages are not up to date.
        #[arg(long, requires = "docs")]
        check: bool,
    },
    /// List the input formats sipflow reads, or write their documentation pages.
    Formats {
        /// Write one Markdown page per format, and an index, into this directory.
        #[arg(long, value_name = "DIR")]
        docs: Option<String>,
        /// With --docs: change nothing, exit 1 if the pages are not up to date.
        #[arg(long, requires = "docs")]
        check: bool,
    },
    /// Explain a rule (by name or code) or a SIP status code, or compare two status codes.
    Explain {
        /// A rule name (`call-object-freed-early`), code (`SF001`) or status code (`603`); or
        /// two status codes to compare (`486 600`, `486 vs 600`).
        #[arg(value_name = "WHAT", num_args = 0..=3, required_unless_present_any = ["all", "docs"])]
        what: Vec<String>,
        /// Every registered status code.
        #[arg(long, conflicts_with_all = ["what", "docs"])]
        all: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
        #[command(flatten)]
        lang: LangArg,
        /// Write the status-code pages (every code, the classic pairs, in every language)
        /// into this directory.
        #[arg(long, value_name = "DIR", conflicts_with = "what")]
        docs: Option<String>,
        /// With --docs: change nothing, exit 1 if the pages are not up to date.
        #[arg(long, requires = "docs")]
        check: bool,
    },
}

/// The language of status explanations.
#[derive(Debug, Args, Default, Clone)]
pub struct LangArg {
    /// The language of status-code explanations: en, zh (simplified Chinese) or vi
    /// [default: from LC_ALL, LC_MESSAGES or LANG, else en].
    #[arg(long = "lang", value_name = "LANG", value_parser = parse_lang)]
    pub lang: Option<crate::sip::status::Lang>,
}

impl LangArg {
    /// `--lang`, else the locale's.
    pub fn resolve(&self) -> crate::sip::status::Lang {
        self.lang.unwrap_or_else(crate::sip::status::Lang::from_env)
    }
}

fn parse_lang(s: &str) -> Result<crate::sip::status::Lang, String> {
    crate::sip::status::Lang::parse(s).ok_or_else(|| format!("'{s}' is not en, zh or vi"))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum MediaFormat {
    /// One line per stream, then the RTCP reports.
    #[default]
    Table,
    /// One JSON document.
    Json,
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportArg {
    /// pcap (one link type).
    Pcap,
    /// pcapng, with a comment naming each frame's call.
    Pcapng,
    /// Raw SIP messages back to back, as `sipflow` reads them.
    Sip,
}

/// The time series of `stats --by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatsBucket {
    Minute,
    Hour,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// The lowest severity that makes `check` exit 1 [default: error].
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// Also write the HTML report of the same findings to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<String>,
    /// With --html: show the time the report was made (off by default, so that the same
    /// inputs give the same file).
    #[arg(long, requires = "html")]
    pub timestamp: bool,
    /// With --html on a live input (a pipe, a FIFO, `listen`): rewrite the report at most
    /// this often while calls come (`5s`, `1m`), each time whole (written beside it, then
    /// renamed over it), and once more at the end [default: 5s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "html")]
    pub html_every: Option<std::time::Duration>,
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// Which rules run, and how: shared by `check` and `report`.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Run only these rules (names or codes, comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Vec<String>,
    /// Do not run these rules (names or codes).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<String>,
    /// Give every finding of a rule this severity (`RULE=info|warning|error`), whatever its
    /// evidence says; over `[severity]` in sipflow.toml.
    #[arg(long, value_delimiter = ',', value_name = "RULE=SEVERITY")]
    pub severity: Vec<String>,
    /// The configuration file [default: ./sipflow.toml, if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum CheckFormat {
    /// Diagnostics with source excerpts and help.
    #[default]
    Human,
    /// One line per finding.
    Concise,
    /// One versioned JSON document.
    Json,
    /// One JSON object per finding.
    Jsonl,
    /// SARIF 2.1.0 (code-scanning upload).
    Sarif,
    /// JUnit XML, one test case per call.
    Junit,
    /// GitHub Actions annotations.
    Github,
}

/// `sipflow listen`'s own options.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where to receive HEP v1/v2/v3: `udp:ADDR:PORT` or `tcp:ADDR:PORT` (repeatable: every
    /// listener feeds one analysis). TCP takes HEPv3 only.
    #[arg(long = "hep", required = true, value_name = "PROTO:ADDR:PORT", value_parser = parse_endpoint)]
    pub hep: Vec<ingest::hep::Endpoint>,
    /// Stop after this long (`90s`, `5m`, `2h`, or seconds), then write what is pending as at
    /// the end of an input. Without it, until Ctrl-C or SIGTERM.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Take only packets that carry this HEP authentication key (HEPv3 chunk 0x0e); others
    /// are dropped and counted.
    #[arg(long, value_name = "PASSWORD")]
    pub hep_password: Option<String>,
    /// Take only packets of these capture agents (HEP capture ID; repeatable); others are
    /// dropped and counted.
    #[arg(long = "hep-capture-id", value_name = "ID")]
    pub hep_capture_ids: Vec<u32>,
    #[command(flatten)]
    pub read: ReadArgs,
}

impl ListenArgs {
    /// The listeners and which packets they take.
    fn spec(&self) -> ingest::hep::Listen {
        ingest::hep::Listen {
            endpoints: self.hep.clone(),
            password: self.hep_password.clone(),
            capture_ids: self.hep_capture_ids.clone(),
        }
    }

    /// The input options `listen` shares with the commands that read files.
    fn input_args(&self) -> InputArgs {
        InputArgs {
            read: self.read.clone(),
            ..InputArgs::default()
        }
    }
}

fn parse_endpoint(s: &str) -> Result<ingest::hep::Endpoint, String> {
    ingest::hep::Endpoint::parse(s)
}

/// `90s`, `5m`, `2h`, `1500ms` or a number of seconds.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let bad = || format!("'{s}' is not a duration such as 90s, 5m, 2h or 1500ms");
    let (number, unit) = s.split_at(
        s.find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(s.len()),
    );
    let n: f64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    std::time::Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

#[derive(Debug, Args, Default)]
pub struct InputArgs {
    /// Input files (optionally .gz), in any format `sipflow formats` lists (pjsip logs,
    /// pcap/pcapng captures, SIPp -trace_msg logs, raw SIP dumps, …); `-` reads stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Skip content sniffing and read every input as this format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<Format>,
    /// Date of logs whose lines carry only a time of day (pjsip's default).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub select: SelectArgs,
}

/// How messages are read and correlated, whatever the inputs are (files or HEP listeners).
#[derive(Debug, Args, Default, Clone)]
pub struct ReadArgs {
    /// Header linking B2BUA legs (repeatable; replaces the default X-Call-ID, X-CID,
    /// Session-ID).
    #[arg(long = "correlation-header", value_name = "NAME")]
    pub correlation_headers: Vec<String>,
    /// In captures and HEP packets, look for SIP only on these ports (repeatable). By default
    /// SIP is recognised by its content on any port.
    #[arg(long = "sip-port", value_name = "PORT")]
    pub sip_ports: Vec<u16>,
    /// Change a memory bound (repeatable), e.g. `--limit open-calls=20k`. Names: open-calls,
    /// window-events, tcp-buffer, tcp-flows, tcp-out-of-order, tcp-resync, fragment-packets,
    /// fragment-bytes, fragment-timeout-ms (see docs/security.md). Hitting one is reported.
    #[arg(long = "limit", value_name = "NAME=VALUE")]
    pub limits: Vec<String>,
    #[command(flatten)]
    pub lang: LangArg,
}

/// `--input-format` takes the registry's names, each with its summary as help.
impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        ingest::format::FORMATS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name).help(self.summary))
    }
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum FlowFormat {
    /// The terminal ladder.
    #[default]
    Ascii,
    /// A Mermaid `sequenceDiagram`.
    Mermaid,
    /// A PlantUML sequence diagram.
    Plantuml,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum CallsFormat {
    #[default]
    Table,
    Json,
}

/// Validated settings: what the rest of the program sees instead of clap.
#[derive(Debug, Clone)]
pub struct Settings {
    pub inputs: Vec<String>,
    pub ingest: IngestOptions,
    pub correlate: CorrelateOptions,
    /// How `check` cuts the stream into windows (see [`crate::dialog::window`]).
    pub windows: crate::dialog::window::Limits,
    /// The language of status explanations (`--lang`, else the locale's).
    pub lang: crate::sip::status::Lang,
    /// The calls and flows to show, judge and count.
    pub selection: Selection,
}

/// A usage error found while validating arguments.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum UsageError {
    #[error("invalid --date '{0}'")]
    #[diagnostic(
        code(sipflow::usage::date),
        help("give the date as YYYY-MM-DD, e.g. --date 2026-11-21")
    )]
    Date(String),
    #[error("no call matches --call '{wanted}'")]
    #[diagnostic(code(sipflow::usage::call), help("{available}"))]
    NoSuchCall { wanted: String, available: String },
    #[error("--format {format} draws one call, and the inputs hold {count}")]
    #[diagnostic(
        code(sipflow::usage::one_call),
        help("pick one with --call (its Call-ID, its index in `sipflow calls`, or F<n>)")
    )]
    OneCall { format: &'static str, count: usize },
    #[error("stdin (`-`) is given more than once")]
    #[diagnostic(
        code(sipflow::usage::stdin),
        help("stdin can be read only once per run")
    )]
    StdinTwice,
    #[error("invalid {option} '{value}'")]
    #[diagnostic(
        code(sipflow::usage::select),
        help(
            "--ip takes an address or network (10.0.0.7, 10.0.0.0/8, 2001:db8::/32); --status a \
             code (486) or class (4xx); --outcome answered, cancelled, rejected, busy, \
             redirected, failed or incomplete; --since and --until a time of day (14:05:30) or \
             a date and time (2026-11-21 14:05:30)"
        )
    )]
    Select { option: &'static str, value: String },
    #[error("which format should {0} be?")]
    #[diagnostic(
        code(sipflow::usage::export_format),
        help("name the file .pcap, .pcapng or .sip, or give --format pcap|pcapng|sip")
    )]
    ExportFormat(String),
    #[error("a capture cannot be exported from stdin")]
    #[diagnostic(
        code(sipflow::usage::export_stdin),
        help(
            "export copies a capture's frames by reading it again at the end: save it to a \
             file first, or give --format sip"
        )
    )]
    ExportStdin,
    #[error("unknown rule '{0}'")]
    #[diagnostic(code(sipflow::usage::rule), help("`sipflow rules` lists the rules"))]
    UnknownRule(String),
    #[error("invalid --limit '{0}'")]
    #[diagnostic(
        code(sipflow::usage::limit),
        help(
            "give NAME=VALUE with a positive number, optionally with k, M or G; the limits are:\n{}",
            limits::table()
        )
    )]
    Limit(String),
    #[error("invalid severity '{0}'")]
    #[diagnostic(code(sipflow::usage::severity), help("use info, warning or error"))]
    Severity(String),
    #[error("the output {output} is the input {input}: writing it would replace the input")]
    #[diagnostic(
        code(sipflow::usage::output_is_input),
        help("give the report another file name")
    )]
    OutputIsInput { output: String, input: String },
    #[error("nothing to explain for '{0}'")]
    #[diagnostic(
        code(sipflow::usage::explain),
        help(
            "give a rule name or code (see `sipflow rules`), a SIP status code (100-699), or \
             two status codes to compare (`486 600` or `486 vs 600`)"
        )
    )]
    Explain(String),
}

impl InputArgs {
    pub fn settings(&self) -> Result<Settings, UsageError> {
        let date = match &self.date {
            Some(d) => {
                Some(crate::event::parse_date(d).ok_or_else(|| UsageError::Date(d.clone()))?)
            }
            None => None,
        };
        if self.inputs.iter().filter(|i| *i == "-").count() > 1 {
            return Err(UsageError::StdinTwice);
        }
        let format = self.input_format;
        let mut bounds = limits::Bounds {
            capture: CaptureOptions {
                payload: PayloadOptions {
                    sip_ports: self.read.sip_ports.clone(),
                },
                ..CaptureOptions::default()
            },
            ..limits::Bounds::default()
        };
        limits::apply(&self.read.limits, &mut bounds)?;
        let mut correlate = CorrelateOptions::default();
        if !self.read.correlation_headers.is_empty() {
            correlate.correlation_headers = self.read.correlation_headers.clone();
        }
        Ok(Settings {
            inputs: self.inputs.clone(),
            ingest: IngestOptions {
                format,
                date,
                capture: bounds.capture,
                progress: None,
                drop_text: false,
                media: false,
            },
            correlate,
            windows: bounds.windows,
            lang: self.read.lang.resolve(),
            selection: self.select.selection()?,
        })
    }
}

/// A diagnostic for stderr; `main` renders them with miette.
pub type Diag = Box<dyn Diagnostic + Send + Sync + 'static>;

/// What a run ended with: the exit code and the diagnostics to show on stderr.
pub struct Outcome {
    pub code: u8,
    pub diagnostics: Vec<Diag>,
}

impl Outcome {
    fn usage(e: impl Diagnostic + Send + Sync + 'static, mut diagnostics: Vec<Diag>) -> Self {
        diagnostics.push(Box::new(e));
        Outcome {
            code: 2,
            diagnostics,
        }
    }
}

/// Runs a command. Output goes to `out`; a closed pipe ends the run quietly with code 0.
pub fn run(cli: &Cli, out: &mut dyn Write) -> Outcome {
    let mut out = BufWriter::new(out);
    let outcome = match &cli.command {
        Command::Rules { docs: None, .. } => written_outcome(write_rules(&mut out)),
        Command::Rules {
            docs: Some(dir),
            check,
        } => rule_docs(dir, *check, &mut out),
        Command::Formats { docs: None, .. } => written_outcome(write_formats(&mut out)),
        Command::Formats {
            docs: Some(dir),
            check,
        } => format_docs(dir, *check, &mut out),
        Command::Explain {
            docs: Some(dir),
            check,
            ..
        } => status_docs(dir, *check, &mut out),
        Command::Explain {
            what,
            all,
            format,
            lang,
            ..
        } => match explain(what, *all, *format, lang.resolve()) {
            Ok(text) => written_outcome(out.write_all(text.as_bytes())),
            Err(e) => Outcome::usage(e, Vec::new()),
        },
        Command::Media { inputs, format } => media::run(inputs, *format, &mut out),
        Command::Calls { input, .. }
        | Command::Events { input }
        | Command::Flow { input, .. }
        | Command::Check { input, .. }
        | Command::Report { input, .. }
        | Command::Stats { input, .. }
        | Command::Export { input, .. } => analyse(cli, input, &mut out),
        Command::Listen { listen, .. } => analyse(cli, &listen.input_args(), &mut out),
    };
    // A write that failed earlier was already reported; what the buffer still held fails the
    // same way.
    let failed = |d: &Diag| {
        let e: &(dyn std::error::Error + 'static) = d.as_ref();
        e.is::<OutputError>()
    };
    if outcome.diagnostics.iter().any(failed) {
        let _ = out.into_parts();
        return outcome;
    }
    match out.flush() {
        Ok(()) => outcome,
        Err(e) => {
            let Outcome {
                code,
                mut diagnostics,
            } = outcome;
            match output_failed(e) {
                Some(e) => {
                    diagnostics.push(Box::new(e));
                    Outcome {
                        code: 2,
                        diagnostics,
                    }
                }
                None => Outcome { code, diagnostics },
            }
        }
    }
}

/// The outcome of writing output: 0, or quietly 0 on a closed pipe, or 2 and why.
fn written_outcome(r: io::Result<()>) -> Outcome {
    outcome(r.map(|()| 0), false, Vec::new())
}

/// The rule options of the commands that run rules.
fn rule_args(command: &Command) -> Option<&RuleArgs> {
    match command {
        Command::Check { check, .. } | Command::Listen { check, .. } => Some(&check.rules),
        Command::Report { rules, .. } => Some(rules),
        _ => None,
    }
}

fn analyse(cli: &Cli, input: &InputArgs, out: &mut dyn Write) -> Outcome {
    let config = match rule_args(&cli.command) {
        Some(rules) => {
            let (path, required) = match &rules.config {
                Some(p) => (p.as_str(), true),
                None => ("sipflow.toml", false),
            };
            match Config::load(path, required) {
                Ok(c) => c.unwrap_or_default(),
                Err(e) => return Outcome::usage(*e, Vec::new()),
            }
        }
        None => Config::default(),
    };
    let mut settings = match input.settings() {
        Ok(s) => s,
        Err(e) => return Outcome::usage(e, Vec::new()),
    };
    if input.read.correlation_headers.is_empty()
        && let Some(h) = &config.correlation_headers
    {
        settings.correlate.correlation_headers = h.clone();
    }
    let rule_settings = match rule_args(&cli.command).map(|r| rule_settings(r, &config)) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => return Outcome::usage(e, Vec::new()),
        None => None,
    };
    let check = match (&cli.command, rule_settings) {
        (Command::Check { check, .. } | Command::Listen { check, .. }, Some(rules)) => {
            match CheckSettings::new(check, &config, rules) {
                Ok(c) => Some(Run::Check(c)),
                Err(e) => return Outcome::usage(e, Vec::new()),
            }
        }
        (
            Command::Report {
                output,
                timestamp,
                html_every,
                ..
            },
            Some(rules),
        ) => Some(Run::Report {
            rules,
            html: HtmlTarget::new(output, *timestamp, *html_every),
        }),
        _ => None,
    };
    let output = match (&check, &cli.command) {
        (Some(Run::Check(c)), _) => c.html_path(),
        (Some(Run::Report { html, .. }), _) => Some(html.path()),
        (None, Command::Export { output, .. }) => Some(output.as_str()),
        (None, _) => None,
    };
    if let Some(output) = output
        && let Some(input) = settings.inputs.iter().find(|i| same_file(output, i))
    {
        return Outcome::usage(
            UsageError::OutputIsInput {
                output: output.to_string(),
                input: input.clone(),
            },
            Vec::new(),
        );
    }
    let bar = progress::Bar::for_inputs(&settings.inputs);
    settings.ingest.progress = bar.as_ref().map(progress::Bar::sink);
    let view = match &cli.command {
        Command::Calls { format, .. } => Some(View::Calls(*format)),
        Command::Events { .. } => Some(View::Events),
        Command::Export { output, format, .. } => {
            let format = match format.or_else(|| export_format(output)) {
                Some(f) => f,
                None => {
                    return Outcome::usage(UsageError::ExportFormat(output.clone()), Vec::new());
                }
            };
            let format = match format {
                ExportArg::Pcap => ExportFormat::Pcap,
                ExportArg::Pcapng => ExportFormat::Pcapng,
                ExportArg::Sip => ExportFormat::Sip,
            };
            if format != ExportFormat::Sip && settings.inputs.iter().any(|i| i == "-") {
                return Outcome::usage(UsageError::ExportStdin, Vec::new());
            }
            Some(View::Export {
                format,
                output,
                inputs: &settings.inputs,
            })
        }
        Command::Stats { format, by, .. } => Some(View::Stats {
            format: *format,
            by: by.map(|b| match b {
                StatsBucket::Minute => crate::report::stats::Bucket::Minute,
                StatsBucket::Hour => crate::report::stats::Bucket::Hour,
            }),
        }),
        Command::Flow { format, .. } => Some(View::Flow {
            call: settings.selection.one_call(),
            format: *format,
        }),
        _ => None,
    };
    let mut run = match (&check, view) {
        (Some(Run::Check(check)), _) => check.streamed(),
        (Some(Run::Report { rules, html }), _) => Streamed::report(rules, html),
        (None, Some(view)) => Streamed::view(view),
        // Not a command that reads inputs.
        (None, None) => return written_outcome(Ok(())),
    };
    run.lang = settings.lang;
    run.selection = &settings.selection;
    settings.ingest.drop_text = !run.shows_excerpts();
    // `calls` and `flow` show media; `check` and `report` also run the rules that judge it
    // (no-media-received, media-stopped …); `export` copies the calls' streams (they must be
    // matched to the calls). The others skip counting RTP.
    settings.ingest.media = matches!(
        cli.command,
        Command::Calls { .. }
            | Command::Flow { .. }
            | Command::Report { .. }
            | Command::Check { .. }
            | Command::Export {
                no_media: false,
                ..
            }
    );
    let mut events = match &cli.command {
        Command::Listen { listen, .. } => {
            run.duration = listen.duration;
            ingest::listen(listen.spec(), &settings.ingest, Default::default())
        }
        _ => ingest::stream(&settings.inputs, &settings.ingest),
    };
    let result = run_streamed(
        &run,
        &mut events,
        settings.windows,
        &settings.correlate,
        bar.as_ref(),
        out,
    );
    // Cleared before the diagnostics are shown, so that it never mixes with them.
    drop(bar);
    let ran = match result {
        Ok(ran) => ran,
        // The output is gone (a closed pipe, a full disk): the rest of the inputs is not
        // read, and what they would have said cannot be shown with it.
        Err(e) => return outcome(Err(e), false, Vec::new()),
    };
    let ingested = events.finish();
    let (mut diagnostics, input_failed) = input_diagnostics(ingested.warnings, ingested.errors);
    diagnostics.extend(ran.limit.map(|l| Box::new(l) as Diag));
    if let Some(e) = ran.usage {
        return Outcome::usage(e, diagnostics);
    }
    outcome(Ok(ran.code), input_failed, diagnostics)
}

/// The export format an output file's extension names.
fn export_format(path: &str) -> Option<ExportArg> {
    let ext = std::path::Path::new(path).extension()?.to_str()?;
    match ext.to_ascii_lowercase().as_str() {
        "pcap" | "cap" => Some(ExportArg::Pcap),
        "pcapng" => Some(ExportArg::Pcapng),
        "sip" | "txt" => Some(ExportArg::Sip),
        _ => None,
    }
}

/// Whether the paths `a` and `b` name one existing file (through links, `..` or hard links).
/// Stdin and stdout (`-`) are no file.
fn same_file(a: &str, b: &str) -> bool {
    if a == "-" || b == "-" {
        return false;
    }
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (ma.dev(), ma.ino()) == (mb.dev(), mb.ino()) {
            return true;
        }
    }
    let _ = (ma, mb);
    matches!(
        (std::fs::canonicalize(a), std::fs::canonicalize(b)),
        (Ok(ca), Ok(cb)) if ca == cb
    )
}

/// The diagnostics of reading the inputs, and whether one could not be read.
fn input_diagnostics(
    warnings: Vec<ingest::InputWarning>,
    errors: Vec<ingest::InputError>,
) -> (Vec<Diag>, bool) {
    let failed = !errors.is_empty();
    let mut diagnostics: Vec<Diag> = Vec::new();
    diagnostics.extend(warnings.into_iter().map(|w| Box::new(w) as Diag));
    diagnostics.extend(errors.into_iter().map(|e| Box::new(e) as Diag));
    (diagnostics, failed)
}

/// The outcome of a command that wrote `result`: its code, 2 when an input could not be read
/// or the output could not be written, 0 quietly on a closed pipe.
fn outcome(result: io::Result<u8>, input_failed: bool, mut diagnostics: Vec<Diag>) -> Outcome {
    let code = match result {
        Err(e) => match output_failed(e) {
            Some(e) => {
                diagnostics.push(Box::new(e));
                2
            }
            None => 0,
        },
        Ok(_) if input_failed => 2,
        Ok(code) => code,
    };
    Outcome { code, diagnostics }
}

/// What a failed write says: nothing on a closed pipe (the reader has had enough, as `head`
/// does), else which output failed and why.
fn output_failed(e: io::Error) -> Option<OutputError> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return None;
    }
    Some(match e.downcast::<FileError>() {
        Ok(file) => OutputError::File {
            path: file.path,
            source: file.source,
        },
        Err(e) => OutputError::Stdout(e),
    })
}

/// What a rules-running command does once the model is built.
enum Run {
    Check(CheckSettings),
    Report {
        rules: RuleSettings,
        html: HtmlTarget,
    },
}

/// Output could not be written (a report file, or stdout). The cause is its source, shown
/// once by miette under the message.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum OutputError {
    #[error("could not write the output to stdout")]
    #[diagnostic(
        code(sipflow::output),
        help("check where stdout goes: a full disk, a closed file or device")
    )]
    Stdout(#[source] io::Error),
    #[error("could not write {path}")]
    #[diagnostic(
        code(sipflow::output),
        help(
            "check that the directory exists, that you may write there, and that the disk has \
             room"
        )
    )]
    File {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// A file output that could not be written, carried inside an `io::Error` through the writers
/// of a run until [`output_failed`] tells it from a failed stdout.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub(crate) struct FileError {
    pub(crate) path: String,
    #[source]
    pub(crate) source: io::Error,
}
