//! The public captures of `../shared/traces/public` (read in place, never copied into the
//! repository), through the whole capture pipeline, compared with the TShark dumps in its
//! `_tshark` folder. Each test is ignored, with the reason, when the captures are not there
//! (`cfg(shared_traces)`, set by `build.rs`).

use std::collections::BTreeMap;
use std::fs::File;

use crate::event::{Event, Locator, Transport};
use crate::ingest::capture::{CaptureLog, CaptureOptions, WarningKind, parse};
use crate::testutil::shared_public;

/// A message found: the last frame that carried it, its transport, whether it is truncated,
/// its method or status, and its CSeq.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    frame: u64,
    transport: Transport,
    truncated: bool,
    label: String,
}

fn load(rel: &str) -> (CaptureLog, Vec<Found>) {
    let path = shared_public().join(rel);
    let mut f = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut events = Vec::new();
    let log = parse(&mut f, 0, &CaptureOptions::default(), &mut |e| {
        events.push(e)
    })
    .expect("a readable capture");
    let found = events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            Event::Log(_) => None,
        })
        .map(|m| Found {
            frame: match &m.origin.locator {
                Locator::Frames(f) => f.iter().copied().max().unwrap_or(0),
                Locator::Text { .. } => 0,
            },
            transport: m.transport,
            truncated: m.truncated(),
            label: m.parsed().map_or_else(
                || "?".to_string(),
                |p| {
                    p.method()
                        .map(str::to_string)
                        .or_else(|| p.status().map(|s| s.to_string()))
                        .unwrap_or_default()
                },
            ),
        })
        .collect();
    (log, found)
}

/// TShark's SIP messages: `(frame, method or status)`, one per message (a row may hold several).
fn tshark(rel: &str) -> Vec<(u64, String)> {
    let name = format!("{}.tsv", rel.replacen('/', "_", 1));
    let path = shared_public().join("_tshark").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut rows = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let Some(frame) = cols.first().and_then(|f| f.parse().ok()) else {
            continue;
        };
        let methods: Vec<&str> = cols.get(12).map_or(vec![], |m| m.split(',').collect());
        let statuses: Vec<&str> = cols.get(13).map_or(vec![], |m| m.split(',').collect());
        let cseqs = cols.get(14).map_or(1, |c| c.split(',').count()).max(1);
        for i in 0..cseqs {
            let m = methods.get(i).copied().unwrap_or("");
            let s = statuses.get(i).copied().unwrap_or("");
            rows.push((frame, if m.is_empty() { s } else { m }.to_string()));
        }
    }
    rows
}

fn labels(found: &[Found]) -> Vec<(u64, String)> {
    let mut v: Vec<_> = found.iter().map(|f| (f.frame, f.label.clone())).collect();
    v.sort();
    v
}

fn count_by_transport(found: &[Found]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in found {
        *m.entry(f.transport.as_str()).or_insert(0) += 1;
    }
    m
}

/// Asserts that we find exactly TShark's messages, frame by frame.
fn same_as_tshark(rel: &str) -> Vec<Found> {
    let (_, found) = load(rel);
    let mut want = tshark(rel);
    want.sort();
    assert_eq!(labels(&found), want, "{rel}");
    found
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn tcp_fragmented_on_port_6060() {
    let found = same_as_tshark("heplify/sip_ipv4_tcp_fragmented.pcap");
    assert_eq!(found.len(), 406);
    assert!(
        found
            .iter()
            .all(|f| f.transport == Transport::Tcp && !f.truncated)
    );
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn tcp_retransmitted_200_ok() {
    let found = same_as_tshark("heplify/sip_ipv4_tcp_retrans.pcap");
    assert_eq!(found.len(), 8);
    assert!(!found.iter().any(|f| f.frame == 38));
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn websocket_and_udp_legs() {
    let found = same_as_tshark("heplify/sip_tcp_websocket.pcap");
    let by = count_by_transport(&found);
    assert!(by.get("WS").copied().unwrap_or(0) > 0, "{by:?}");
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn large_body_over_loopback() {
    let found = same_as_tshark("suricata-verify/sip-body-large_sip-body-large.pcap");
    assert!(found.iter().all(|f| !f.truncated));
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn sctp() {
    let found = same_as_tshark("heplify/sip_sctp.pcap");
    assert!(found.iter().all(|f| f.transport == Transport::Sctp));
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn negative_and_keepalive_cases() {
    let (log, found) = load("ndpi/http_on_sip_port.pcap");
    assert!(found.is_empty(), "{found:?}");
    assert!(
        log.warnings
            .iter()
            .any(|w| w.kind == WarningKind::Malformed && w.message.contains("HTTP"))
    );
    let (_, found) = load("ndpi/sip_hello.pcapng");
    assert_eq!(found.len(), 8);
    // Frame 1 is 4 NULs (a keep-alive). The "junk" before frame 2's REGISTER is in fact the
    // UDP checksum (`DB`), so the payload itself is clean.
    let (log, found) = load("zeek/sip-junk-before-request.pcap");
    assert_eq!(labels(&found), vec![(2, "REGISTER".to_string())]);
    assert!(log.warnings.is_empty(), "{:?}", log.warnings);
}

/// Every capture: exactly TShark's messages, frame by frame, except where TShark is wrong.
/// The counts are printed with `--nocapture`.
#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn every_capture_against_tshark() {
    let dir = std::fs::read_dir(shared_public().join("_tshark")).expect("_tshark");
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".tsv").map(str::to_string))
        .collect();
    names.sort();
    for name in names {
        let Some((origin, file)) = name.split_once('_') else {
            continue;
        };
        let rel = format!("{origin}/{file}");
        let (log, found) = load(&rel);
        let mut want = tshark(&rel);
        want.sort();
        let mut kinds = BTreeMap::new();
        for w in &log.warnings {
            *kinds.entry(format!("{:?}", w.kind)).or_insert(0) += 1;
        }
        println!(
            "{rel}: {} messages (TShark {}), {} truncated, {:?}, warnings {:?}",
            found.len(),
            want.len(),
            log.truncated,
            count_by_transport(&found),
            kinds
        );
        match rel.as_str() {
            // Fuzzed bytes: TShark and the grammar disagree on mangled start lines.
            "ndpi/fuzz-2006-06-26-2594.pcap" => {
                assert!(found.len().abs_diff(want.len()) <= 5, "{rel}");
            }
            // TShark marks two HTTP frames on port 5060 "SIP Continuation"; they are not SIP.
            "ndpi/http_on_sip_port.pcap" => assert!(found.is_empty(), "{rel}"),
            // Frames 7, 10, 12, 14, 15 are ICMP errors quoting a request: not sent messages.
            "ipfixprobe/sip.pcap" => {
                let icmp = [7, 10, 12, 14, 15];
                want.retain(|(f, _)| !icmp.contains(f));
                assert_eq!(labels(&found), want, "{rel}");
            }
            _ => assert_eq!(labels(&found), want, "{rel}"),
        }
    }
}
