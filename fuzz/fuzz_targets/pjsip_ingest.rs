//! Any text as a pjsip log, then correlation, the rules and every reporter.
//! The checks are in `src/checks.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipflow_fuzz::checks::Target;

fuzz_target!(|data: &[u8]| Target::PjsipIngest.check(data));
