//! The `sipflow` binary: parses arguments, runs the command, renders diagnostics.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use sipflow::cli::{Cli, run};

/// mimalloc instead of the system allocator: sipflow allocates small, short-lived values per
/// message, and glibc's malloc spent 29–35 % of the time on them (docs/performance.md). The
/// `system-alloc` feature keeps the system's, for heap profilers that hook malloc
/// (bench/permsg.sh).
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = run(&cli, &mut std::io::stdout().lock());
    for d in outcome.diagnostics {
        eprintln!("{:?}", miette::Report::new_boxed(d));
    }
    ExitCode::from(outcome.code)
}
