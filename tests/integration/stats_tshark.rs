//! `sipflow stats` against `tshark -q -z sip,stat`: the number of SIP messages, and the counts
//! per request method and per status code, on every capture of `fixtures/` and of
//! `../shared/traces/public` (those not held out of tuning). tshark is told where SIP is
//! (`-d udp.port==P,sip` and `tcp`, for every port sipflow found SIP on), since it recognises
//! SIP only on 5060 and sipflow by content on any port. Every difference is listed in
//! [`DIFFERENCES`] with why; a listed difference that no longer occurs fails too. tshark's
//! "resent" count is not compared: it counts a request resent when it sees its Call-ID and
//! CSeq again, sipflow's retransmissions are per transaction (docs/stats.md).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::common::{root, sipflow};
use super::media_tshark::compared_captures;
use super::needs::{Missing, on_path, require};

/// (capture, why): captures whose counts differ, understood.
const DIFFERENCES: &[(&str, &str)] = &[
    (
        "public/ndpi/fuzz-2006-06-26-2594.pcap",
        "a fuzzed capture: tshark's SIP statistics count 28 messages of the 52 frames it shows \
         as SIP (it leaves out those whose fuzzed headers it could not dissect whole); sipflow \
         reads 58, also from IP fragments and TCP segments it reassembles around the damage",
    ),
    (
        "fixtures/malformed/options.pcap",
        "its first OPTIONS has a broken start line: sipflow counts it as a SIP message (with \
         no method, and a finding about it), tshark does not dissect it as SIP",
    ),
];

/// (messages, requests by method, responses by code).
type Counts = (u64, BTreeMap<String, u64>, BTreeMap<String, u64>);

fn tshark_counts(capture: &Path, ports: &[(String, u64)]) -> Counts {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-q", "-z", "sip,stat"]);
    for (transport, port) in ports {
        cmd.arg("-d").arg(format!("{transport}.port=={port},sip"));
    }
    let out = cmd.arg("-r").arg(capture).output().expect("tshark runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut counts = Counts::default();
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("Number of SIP messages: ") {
            counts.0 = n.trim().parse().expect("a count");
        }
        let Some((name, packets)) = line.rsplit_once(':') else {
            continue;
        };
        let Some(n) = packets.trim().strip_suffix(" Packets") else {
            continue;
        };
        let n: u64 = n.trim().parse().expect("a count");
        let name = name.trim();
        match name.strip_prefix("SIP ") {
            Some(status) => {
                let code = status.split_whitespace().next().unwrap_or_default();
                *counts.2.entry(code.to_string()).or_default() += n;
            }
            None => *counts.1.entry(name.to_string()).or_default() += n,
        }
    }
    counts
}

/// sipflow's counts, and the transports and ports it found SIP on.
pub fn sipflow_counts(capture: &Path) -> (Counts, Vec<(String, u64)>) {
    let path = capture.display().to_string();
    let run = sipflow(&["stats", "--format", "json", &path]);
    assert_eq!(run.code, 0, "sipflow stats {path}: {}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("stats json");
    let map = |v: &serde_json::Value| -> BTreeMap<String, u64> {
        v.as_object()
            .expect("object")
            .iter()
            .map(|(k, n)| (k.clone(), n.as_u64().expect("count")))
            .collect()
    };
    let counts = (
        doc["messages"].as_u64().expect("messages"),
        map(&doc["requests"]),
        map(&doc["responses"]),
    );
    let events = sipflow(&["events", &path]);
    let mut ports = std::collections::BTreeSet::new();
    for line in events.stdout.lines() {
        let ev: serde_json::Value = serde_json::from_str(line).expect("event");
        let transport = match ev["transport"].as_str() {
            Some("udp") => "udp",
            Some("tcp") => "tcp",
            _ => continue,
        };
        for end in ["src", "dst"] {
            if let Some(port) = ev[end]
                .as_str()
                .and_then(|a| a.rsplit_once(':'))
                .and_then(|(_, p)| p.parse::<u64>().ok())
            {
                ports.insert((transport.to_string(), port));
            }
        }
    }
    (counts, ports.into_iter().collect())
}

pub fn stats_agree_with_tshark_sip_stat() -> Result<(), Missing> {
    let missing: Vec<String> = (!on_path("tshark"))
        .then(|| "tshark on PATH".to_string())
        .into_iter()
        .collect();
    require(
        "stats_agree_with_tshark_sip_stat",
        &missing,
        "apt-get install tshark",
    )?;
    let shared = root().join("../shared/traces");
    let mut compared = 0;
    let mut seen = Vec::new();
    let mut report = Vec::new();
    for f in compared_captures() {
        let name = f
            .strip_prefix(&shared)
            .or_else(|_| f.strip_prefix(root()))
            .unwrap_or(&f)
            .to_string_lossy()
            .into_owned();
        let (ours, ports) = sipflow_counts(&f);
        let theirs = tshark_counts(&f, &ports);
        // Not one SIP message for either.
        if ours.0 == 0 && theirs.0 == 0 {
            continue;
        }
        compared += 1;
        if ours == theirs {
            continue;
        }
        match DIFFERENCES.iter().position(|d| d.0 == name) {
            Some(i) => seen.push(i),
            None => report.push(format!("{name}:\n  tshark  {theirs:?}\n  sipflow {ours:?}")),
        }
    }
    for (i, d) in DIFFERENCES.iter().enumerate() {
        let present = d.0.starts_with("fixtures/") || shared.join(d.0).exists();
        if present && !seen.contains(&i) {
            report.push(format!("{}: listed as different, but agrees now", d.0));
        }
    }
    println!("stats against tshark -z sip,stat: {compared} captures with SIP compared");
    assert!(compared > 0, "no capture with SIP was compared");
    assert!(report.is_empty(), "{}", report.join("\n"));
    Ok(())
}
