//! The `sipflow` binary: parses arguments, runs the command, renders diagnostics.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use sipflow::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = run(&cli, &mut std::io::stdout().lock());
    for d in outcome.diagnostics {
        eprintln!("{:?}", miette::Report::new_boxed(d));
    }
    ExitCode::from(outcome.code)
}
