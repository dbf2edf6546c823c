//! The public captures in `../shared/traces/public` (written by others; never committed here):
//! every capture ingests without a panic, and the SIP messages sipflow finds are exactly those
//! TShark 4.0.17 found (the reference dumps in `_tshark/`), frame by frame, except for the
//! differences listed below with their reasons. Ignored (with the reason) only when the folder
//! is absent; runs from `tests/environment.rs`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::common::sipflow;
use super::needs::{Missing, shared_traces};

fn public_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/traces/public")
}

/// (capture, frames TShark reports as SIP that sipflow does not, frames sipflow finds that
/// TShark does not, why).
const DIFFERENCES: &[(&str, &[u64], &[u64], &str)] = &[
    (
        "ipfixprobe/sip.pcap",
        &[7, 10, 12, 14, 15],
        &[],
        "ICMP destination-unreachable (type 3 code 10) errors quoting a REGISTER: a quoted packet \
         was not sent to anyone, so it is not a message",
    ),
    (
        "ndpi/http_on_sip_port.pcap",
        &[3, 4],
        &[],
        "HTTP over TCP from port 5060: TShark calls it a SIP continuation by port alone",
    ),
    (
        "ndpi/fuzz-2006-06-26-2594.pcap",
        &[],
        &[108, 154, 223, 346, 348, 558],
        "bit-flipped SIP (NUL bytes and `%s` inside start lines, `SI\\x10/2.0`, a flipped port) \
         that TShark's heuristic shows as data; sipflow keeps them as messages (unparsed where \
         the start line is broken) so that they are reported as malformed",
    ),
];

/// The frames of the reference dump: one row per frame carrying SIP.
fn tshark_frames(tsv: &Path) -> BTreeSet<u64> {
    std::fs::read_to_string(tsv)
        .expect("reference dump")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            l.split('\t')
                .next()
                .and_then(|f| f.parse().ok())
                .expect("frame number")
        })
        .collect()
}

/// The frame that completed each SIP message sipflow found (as TShark reports a reassembled
/// PDU on its last frame).
fn sipflow_frames(capture: &Path) -> BTreeSet<u64> {
    let run = sipflow(&["events", &capture.to_string_lossy()]);
    assert_eq!(
        run.code,
        0,
        "{}: exit {} {}",
        capture.display(),
        run.code,
        run.stderr
    );
    run.stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .filter(|e| e["kind"] == "message")
        .map(|e| {
            e["frame"]
                .as_array()
                .and_then(|f| f.iter().filter_map(serde_json::Value::as_u64).max())
                .expect("a capture event has frames")
        })
        .collect()
}

fn captures() -> Vec<(String, PathBuf, PathBuf)> {
    let dir = public_dir();
    let mut out = Vec::new();
    let Ok(origins) = std::fs::read_dir(&dir) else {
        return out;
    };
    let mut origins: Vec<_> = origins.filter_map(Result::ok).map(|e| e.path()).collect();
    origins.sort();
    for origin in origins.iter().filter(|p| p.is_dir()) {
        let name = origin
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('_') {
            continue;
        }
        let mut files: Vec<_> = std::fs::read_dir(origin)
            .expect("origin dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            let file = f
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if file.ends_with(".md") {
                continue;
            }
            let tsv = dir.join("_tshark").join(format!("{name}_{file}.tsv"));
            out.push((format!("{name}/{file}"), f, tsv));
        }
    }
    out
}

pub fn public_captures_match_tshark_frame_by_frame() -> Result<(), Missing> {
    shared_traces("public")?;
    let all = captures();
    assert!(
        !all.is_empty(),
        "no capture with a TShark dump in {}",
        public_dir().display()
    );
    let mut report = Vec::new();
    for (name, capture, tsv) in &all {
        let theirs = tshark_frames(tsv);
        let ours = sipflow_frames(capture);
        let missing: Vec<u64> = theirs.difference(&ours).copied().collect();
        let extra: Vec<u64> = ours.difference(&theirs).copied().collect();
        let listed = DIFFERENCES.iter().find(|d| d.0 == name);
        let expected = listed.map_or((&[][..], &[][..]), |d| (d.1, d.2));
        if (missing.as_slice(), extra.as_slice()) != expected {
            let why = listed.map_or(String::new(), |d| {
                format!(" (listed as {expected:?}: {})", d.3)
            });
            report.push(format!(
                "{name}: tshark {} sipflow {}; missing {missing:?} extra {extra:?}{why}",
                theirs.len(),
                ours.len()
            ));
        }
    }
    assert!(
        report.is_empty(),
        "unexplained differences:\n{}",
        report.join("\n")
    );
    Ok(())
}
