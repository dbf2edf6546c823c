//! Any bytes as raw SIP, then the whole pipeline; the HTML report must be well formed with no markup from the input.
//! The checks are in `src/checks.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipflow_fuzz::checks::Target;

fuzz_target!(|data: &[u8]| Target::HtmlReport.check(data));
