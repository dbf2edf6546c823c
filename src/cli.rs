//! The command line: clap structs, their validation into [`Settings`], and the commands.
//!
//! Owns: argument parsing and validation, running `calls`, `events` and `flow`, and the exit
//! code. Returns per-input errors as data; `main` renders them (it alone knows miette's
//! `Report`). Nothing below this module sees clap.

use std::io::{self, BufWriter, Write};

use clap::{Args, Parser, Subcommand, ValueEnum};
use miette::Diagnostic;

use crate::dialog::{self, CorrelateOptions, Model};
use crate::ingest::capture::CaptureOptions;
use crate::ingest::capture::payload::PayloadOptions;
use crate::ingest::{self, Format, IngestOptions, InputError, InputWarning};
use crate::report::{self, Context, ladder::Conversation};

#[derive(Debug, Parser)]
#[command(
    name = "sipflow",
    version,
    about = "SIP log analyzer and call-flow debugger",
    long_about = "sipflow reads pjsip/pjsua logs, SIPp message traces and raw SIP dumps, \
                  rebuilds transactions, dialogs and calls, and shows what happened."
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
    /// A terminal ladder diagram of one call (or all calls).
    Flow {
        #[command(flatten)]
        input: InputArgs,
        /// The call to draw: its Call-ID, its index in `sipflow calls`, or `F<n>` for a
        /// non-call flow. Without it, every call is drawn.
        #[arg(long, value_name = "ID|INDEX")]
        call: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Input files: pjsip logs, SIPp -trace_msg logs, raw SIP dumps (optionally .gz); `-` reads
    /// stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Skip content sniffing and read every input as this format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
    /// Date of logs whose lines carry only a time of day (pjsip's default).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Header linking B2BUA legs (repeatable; replaces the default X-Call-ID, X-CID,
    /// Session-ID).
    #[arg(long = "correlation-header", value_name = "NAME")]
    pub correlation_headers: Vec<String>,
    /// In captures, look for SIP only on these ports (repeatable). By default SIP is
    /// recognised by its content on any port.
    #[arg(long = "sip-port", value_name = "PORT")]
    pub sip_ports: Vec<u16>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InputFormat {
    Pjsip,
    Sipp,
    Sip,
    /// pcap or pcapng (told apart by their magic).
    Pcap,
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
    #[error("stdin (`-`) is given more than once")]
    #[diagnostic(
        code(sipflow::usage::stdin),
        help("stdin can be read only once per run")
    )]
    StdinTwice,
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
        let format = self.input_format.map(|f| match f {
            InputFormat::Pjsip => Format::Pjsip,
            InputFormat::Sipp => Format::Sipp,
            InputFormat::Sip => Format::Sip,
            InputFormat::Pcap => Format::Pcap,
        });
        let mut correlate = CorrelateOptions::default();
        if !self.correlation_headers.is_empty() {
            correlate.correlation_headers = self.correlation_headers.clone();
        }
        Ok(Settings {
            inputs: self.inputs.clone(),
            ingest: IngestOptions {
                format,
                date,
                capture: CaptureOptions {
                    payload: PayloadOptions {
                        sip_ports: self.sip_ports.clone(),
                    },
                },
            },
            correlate,
        })
    }
}

/// What a run ended with: the exit code and the diagnostics to show on stderr.
pub struct Outcome {
    pub code: u8,
    pub input_errors: Vec<InputError>,
    pub input_warnings: Vec<InputWarning>,
    pub usage_error: Option<UsageError>,
}

impl Outcome {
    fn usage(e: UsageError) -> Self {
        Outcome {
            code: 2,
            input_errors: Vec::new(),
            input_warnings: Vec::new(),
            usage_error: Some(e),
        }
    }
}

/// Runs a command. Output goes to `out`; a closed pipe ends the run quietly with code 0.
pub fn run(cli: &Cli, out: &mut dyn Write) -> Outcome {
    let input = match &cli.command {
        Command::Calls { input, .. } | Command::Events { input } | Command::Flow { input, .. } => {
            input
        }
    };
    let settings = match input.settings() {
        Ok(s) => s,
        Err(e) => return Outcome::usage(e),
    };
    let ingested = ingest::ingest(&settings.inputs, &settings.ingest);
    let model = dialog::correlate(ingested.events, &settings.correlate);
    let ctx = Context {
        model: &model,
        inputs: &ingested.inputs,
    };
    let mut out = BufWriter::new(out);
    let written = match &cli.command {
        Command::Calls {
            format: CallsFormat::Table,
            ..
        } => report::calls::write_table(&ctx, &mut out),
        Command::Calls {
            format: CallsFormat::Json,
            ..
        } => report::calls::write_json(&ctx, &mut out),
        Command::Events { .. } => report::events::write_jsonl(&ctx, &mut out),
        Command::Flow { call, .. } => match select(&model, call.as_deref()) {
            Ok(convs) => write_ladders(&ctx, &convs, &mut out),
            Err(e) => {
                return Outcome {
                    input_errors: ingested.errors,
                    input_warnings: ingested.warnings,
                    ..Outcome::usage(e)
                };
            }
        },
    };
    let code = match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(_) => 2,
        Ok(()) if !ingested.errors.is_empty() => 2,
        Ok(()) => 0,
    };
    Outcome {
        code,
        input_errors: ingested.errors,
        input_warnings: ingested.warnings,
        usage_error: None,
    }
}

/// The ladders to draw: the wanted call (with its B2BUA legs) or flow, or every call group.
fn select(model: &Model, wanted: Option<&str>) -> Result<Vec<Conversation>, UsageError> {
    let Some(wanted) = wanted else {
        return Ok(model
            .calls
            .iter()
            .filter(|c| c.group == c.index)
            .map(|c| Conversation::of_call(model, c))
            .collect());
    };
    if let Some(c) = model.find_call(wanted) {
        return Ok(vec![Conversation::of_call(model, c)]);
    }
    let flow = wanted
        .strip_prefix(['F', 'f'])
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| model.flows.iter().find(|f| f.index == n))
        .or_else(|| model.flows.iter().find(|f| f.call_id == wanted));
    if let Some(f) = flow {
        return Ok(vec![Conversation::of_flow(f)]);
    }
    let mut ids: Vec<String> = model
        .calls
        .iter()
        .map(|c| format!("{} ({})", c.index, c.call_id))
        .collect();
    ids.extend(
        model
            .flows
            .iter()
            .map(|f| format!("F{} ({})", f.index, f.call_id)),
    );
    let available = if ids.is_empty() {
        "the inputs contain no calls".to_string()
    } else {
        format!("available: {}", ids.join(", "))
    };
    Err(UsageError::NoSuchCall {
        wanted: wanted.to_string(),
        available,
    })
}

fn write_ladders(ctx: &Context<'_>, convs: &[Conversation], out: &mut dyn Write) -> io::Result<()> {
    for (i, conv) in convs.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        report::ladder::write_ladder(ctx, conv, out)?;
    }
    Ok(())
}
