//! Any bytes as one SIP message: no panic, every span inside the message, re-parsing gives the same index.
//! The checks are in `src/checks.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipflow_fuzz::checks::Target;

fuzz_target!(|data: &[u8]| Target::SipParser.check(data));
