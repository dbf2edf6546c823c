//! Ingest of whole inputs (read, sniff, parse every message), throughput in input bytes:
//!
//! - pjsip: the recorded `fixtures/basic-call/caller.log`, and a ~1000-call log derived from it
//!   with `fixtures/derive/derive.py many` (written to target/bench/calls-1000.log at bench
//!   start when missing; needs python3, else skipped with a note);
//! - pcap: the recorded `fixtures/captures/pjsua-udp/call.pcap` (UDP) and
//!   `fixtures/captures/sipp-tcp-big/tcp.pcap` (TCP reassembly), and the 5,000-call SIPp
//!   capture made by `bench/gen-sipp-pcap.sh 50000` (target/bench/sipp-50000.first5000.pcap;
//!   another one with SIPFLOW_BENCH_PCAP=path), skipped with a note when it is not there.
//!
//! API used: `sipflow::ingest::ingest_bytes(name: &str, bytes: Vec<u8>, &IngestOptions)
//! -> Result<(InputInfo, Vec<u8>, Vec<Event>), InputError>` and `IngestOptions::default()`.
//!
//!   cargo bench --features bench --bench ingest

use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sipflow::ingest::{IngestOptions, ingest_bytes};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn target_bench() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("target"))
        .join("bench")
}

/// target/bench/calls-1000.log (the name bench/report-scale.sh uses too), derived if missing.
fn derived_log() -> Option<PathBuf> {
    let out = target_bench().join("calls-1000.log");
    if out.is_file() {
        return Some(out);
    }
    std::fs::create_dir_all(target_bench()).ok()?;
    let status = Command::new("python3")
        .current_dir(ROOT)
        .args([
            "fixtures/derive/derive.py",
            "many",
            "fixtures/basic-call/caller.log",
        ])
        .arg(&out)
        .args(["--copies", "1000"])
        .status();
    match status {
        Ok(s) if s.success() => Some(out),
        other => {
            eprintln!(
                "note: skipping the derived 1000-call log: derive.py failed ({other:?}); \
                 needs python3"
            );
            None
        }
    }
}

fn sipp_pcap() -> Option<PathBuf> {
    let path = std::env::var_os("SIPFLOW_BENCH_PCAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_bench().join("sipp-50000.first5000.pcap"));
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "note: skipping the SIPp capture bench: {} not found (run bench/gen-sipp-pcap.sh \
             50000 first)",
            path.display()
        );
        None
    }
}

/// One benchmark of `ingest_bytes` on `bytes`; the copy of the input each run consumes is made
/// outside the timed part.
fn bench_input(c: &mut Criterion, group: &str, name: &str, bytes: Vec<u8>, large: bool) {
    let opts = IngestOptions::default();
    let (_, _, events) = ingest_bytes(name, bytes.clone(), &opts)
        .unwrap_or_else(|e| panic!("{name} does not ingest: {e}"));
    assert!(!events.is_empty(), "{name}: no events");
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    if large {
        g.sample_size(10);
    }
    let size = if large {
        BatchSize::PerIteration
    } else {
        BatchSize::SmallInput
    };
    g.bench_function(name, |b| {
        b.iter_batched(
            || bytes.clone(),
            |input| ingest_bytes(name, input, &opts),
            size,
        )
    });
    g.finish();
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn bench_pjsip(c: &mut Criterion) {
    let fixture = Path::new(ROOT).join("fixtures/basic-call/caller.log");
    bench_input(
        c,
        "ingest_pjsip",
        "basic-call/caller.log",
        read(&fixture),
        false,
    );
    if let Some(log) = derived_log() {
        bench_input(
            c,
            "ingest_pjsip",
            "derived-1000-calls.log",
            read(&log),
            true,
        );
    }
}

fn bench_pcap(c: &mut Criterion) {
    for fixture in [
        "fixtures/captures/pjsua-udp/call.pcap",
        "fixtures/captures/sipp-tcp-big/tcp.pcap",
    ] {
        let name = fixture.trim_start_matches("fixtures/captures/");
        bench_input(
            c,
            "ingest_pcap",
            name,
            read(&Path::new(ROOT).join(fixture)),
            false,
        );
    }
    if let Some(pcap) = sipp_pcap() {
        let name = pcap.file_name().map_or_else(
            || "sipp.pcap".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        bench_input(c, "ingest_pcap", &name, read(&pcap), true);
    }
}

criterion_group!(benches, bench_pjsip, bench_pcap);
criterion_main!(benches);
