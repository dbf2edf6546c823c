//! Any bytes as a pcap/pcapng capture, then correlation, the rules and every reporter.
//! The checks are in `src/checks.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipflow_fuzz::checks::Target;

fuzz_target!(|data: &[u8]| Target::PcapIngest.check(data));
