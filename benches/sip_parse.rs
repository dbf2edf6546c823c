//! The SIP parser on real messages: the exact bytes of messages dumped by pjsip in the recorded
//! `fixtures/basic-call/caller.log` (each dump header says how many bytes follow).
//!
//! API used: `sipflow::sip::SipMessage::parse(&[u8]) -> Result<SipMessage, Unparsed>`.
//!
//!   cargo bench --features bench --bench sip_parse

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sipflow::sip::SipMessage;

const CALLER_LOG: &[u8] = include_bytes!("../fixtures/basic-call/caller.log");

/// The message dumped after the first log line containing `marker` (a pjsip dump header
/// `TX|RX <n> bytes <kind> msg <what> …:`): the `<n>` bytes after that line.
fn dump(log: &[u8], marker: &str) -> Vec<u8> {
    let text = std::str::from_utf8(log).expect("the fixture log is UTF-8");
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no dump header with {marker:?} in the fixture"));
    let line_end = start + text[start..].find('\n').expect("dump header ends");
    let header = &text[text[..start].rfind('\n').map_or(0, |i| i + 1)..line_end];
    let n: usize = header
        .split_whitespace()
        .skip_while(|w| !w.ends_with("TX") && !w.ends_with("RX"))
        .nth(1)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no byte count in dump header {header:?}"));
    let body = &log[line_end + 1..line_end + 1 + n];
    assert!(
        SipMessage::parse(body).is_ok(),
        "the dump after {marker:?} does not parse"
    );
    body.to_vec()
}

fn bench_parse(c: &mut Criterion) {
    let messages = [
        (
            "invite_with_sdp",
            dump(CALLER_LOG, "bytes Request msg INVITE/"),
        ),
        (
            "response_100_trying",
            dump(CALLER_LOG, "bytes Response msg 100/INVITE/"),
        ),
        (
            "response_200_with_sdp",
            dump(CALLER_LOG, "bytes Response msg 200/INVITE/"),
        ),
    ];
    let mut group = c.benchmark_group("sip_parse");
    for (name, raw) in &messages {
        group.throughput(Throughput::Bytes(raw.len() as u64));
        group.bench_function(*name, |b| b.iter(|| SipMessage::parse(raw)));
    }
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
