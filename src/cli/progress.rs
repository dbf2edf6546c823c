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
        let bar = match input_bytes(inputs) {
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
            // The last bytes are read: what is left is parsing them.
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

/// The inputs' total size, `None` when stdin (of unknown size) is one. An input that cannot
/// be read counts for nothing: its error comes at once, and a spinner drawn before it would
/// only mix with it.
fn input_bytes(inputs: &[String]) -> Option<u64> {
    inputs
        .iter()
        .map(|i| (i != "-").then(|| std::fs::metadata(i).map_or(0, |m| m.len())))
        .sum()
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::input_bytes;

    #[test]
    fn a_missing_input_is_no_reason_for_a_spinner() {
        let missing = vec!["no/such/input.log".to_string()];
        assert_eq!(input_bytes(&missing), Some(0));
        let with_stdin = vec!["no/such/input.log".to_string(), "-".to_string()];
        assert_eq!(input_bytes(&with_stdin), None);
        let here = vec![file!().to_string()];
        let size = std::fs::metadata(file!()).map(|m| m.len()).ok();
        if size.is_some() {
            assert_eq!(input_bytes(&here), size);
        }
    }
}
