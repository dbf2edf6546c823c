//! The `sipflow` binary: parses arguments, runs the command, renders diagnostics.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use sipflow::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = run(&cli, &mut std::io::stdout().lock());
    for w in outcome.input_warnings {
        eprintln!("{:?}", miette::Report::new(w));
    }
    for e in outcome.input_errors {
        eprintln!("{:?}", miette::Report::new(e));
    }
    if let Some(e) = outcome.usage_error {
        eprintln!("{:?}", miette::Report::new(e));
    }
    ExitCode::from(outcome.code)
}
