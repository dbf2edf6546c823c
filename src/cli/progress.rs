//! The progress bar on stderr for long runs: bytes read while the inputs are read and analysed
//! window by window. Shown only when stderr is a terminal and `CI` is not set, and only for inputs
//! large enough to take a while (or stdin, whose size is unknown): never in pipes, files or CI,
//! so output stays deterministic.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::ingest::Progress;

/// Inputs smaller than this in total are quick: no bar.
const MIN_BYTES: u64 = 32 * 1024 * 1024;

pub(super) struct Bar(ProgressBar);

impl Bar {
    /// A bar for reading `inputs`, or `None` when none should be shown.
    pub(super) fn for_inputs(inputs: &[String]) -> Option<Bar> {
        if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
            return None;
        }
        let sizes: Option<u64> = inputs
            .iter()
            .map(|i| {
                (i != "-")
                    .then(|| std::fs::metadata(i).ok().map(|m| m.len()))
                    .flatten()
            })
            .sum();
        let bar = match sizes {
            Some(total) if total < MIN_BYTES => return None,
            Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template(
                        "{msg:>10} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{msg:>10} {spinner} {bytes} ({bytes_per_sec})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message("reading");
        Some(Bar(bar))
    }

    /// What ingest calls as it reads.
    pub(super) fn sink(&self) -> Progress {
        let bar = self.0.clone();
        Progress(Arc::new(move |n| {
            bar.inc(n);
            // Text inputs are read whole, then parsed: say so once all bytes are in.
            if bar.length().is_some_and(|len| bar.position() >= len) {
                bar.set_message("parsing");
            }
        }))
    }

    /// Runs `write` with the bar hidden, so that output written while it runs never mixes
    /// with it on a terminal.
    pub(super) fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        self.0.suspend(write)
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
