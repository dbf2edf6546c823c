//! `sipflow export` checked by tshark: on every capture of `fixtures/` (and the public ones of
//! `../shared/traces/public` not held out), each of the first calls exported alone, as pcap and
//! as pcapng, holds exactly the SIP frames tshark finds for its Call-ID in the input
//! (`sip.Call-ID == "…"`, reassembled from the copied IP fragments and TCP segments), and no
//! SIP frame of another call; the pcapng names the call in each frame's comment.

use std::path::Path;
use std::process::Command;

use super::common::sipflow;
use super::media_tshark::compared_captures;
use super::needs::{Missing, on_path, require};
use super::stats_tshark::sipflow_counts;

/// How many calls of each capture are exported.
const CALLS_PER_CAPTURE: usize = 3;

/// tshark's SIP frames of `capture` (Call-IDs, frame comments), SIP decoded on `ports`.
fn tshark_sip(capture: &Path, ports: &[(String, u64)]) -> Vec<(String, String)> {
    let mut cmd = Command::new("tshark");
    cmd.args([
        "-n",
        "-Y",
        "sip",
        "-T",
        "fields",
        "-e",
        "sip.Call-ID",
        "-e",
        "frame.comment",
    ]);
    for (transport, port) in ports {
        cmd.arg("-d").arg(format!("{transport}.port=={port},sip"));
    }
    let out = cmd.arg("-r").arg(capture).output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark {}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (id, comment) = l.split_once('\t').unwrap_or((l, ""));
            (id.to_string(), comment.to_string())
        })
        .collect()
}

pub fn exported_calls_hold_the_frames_tshark_finds() -> Result<(), Missing> {
    let missing: Vec<String> = (!on_path("tshark"))
        .then(|| "tshark on PATH".to_string())
        .into_iter()
        .collect();
    require(
        "exported_calls_hold_the_frames_tshark_finds",
        &missing,
        "apt-get install tshark",
    )?;
    let dir = std::env::temp_dir().join(format!("sipflow-export-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut exported = 0;
    let mut report = Vec::new();
    for f in compared_captures() {
        let path = f.display().to_string();
        let (_, ports) = sipflow_counts(&f);
        let calls = sipflow(&["calls", "--format", "json", &path]);
        let doc: serde_json::Value = serde_json::from_str(&calls.stdout).expect("calls json");
        let ids: Vec<String> = doc["calls"]
            .as_array()
            .expect("calls")
            .iter()
            // One leg per B2BUA group, since a leg brings its group.
            .filter(|c| c["linked"].as_array().is_none_or(Vec::is_empty))
            .filter_map(|c| c["call_id"].as_str().map(String::from))
            .take(CALLS_PER_CAPTURE)
            .collect();
        let input = tshark_sip(&f, &ports);
        for id in ids {
            let theirs = input.iter().filter(|(i, _)| *i == id).count();
            for ext in ["pcap", "pcapng"] {
                let out = dir.join(format!("call.{ext}"));
                let out_s = out.display().to_string();
                let run = sipflow(&["export", "-o", &out_s, "--call", &id, &path]);
                assert_eq!(run.code, 0, "export {path} {id}: {}", run.stderr);
                let ours = tshark_sip(&out, &ports);
                let same = ours.iter().filter(|(i, _)| *i == id).count();
                let others = ours.len() - same;
                exported += 1;
                if same != theirs || others > 0 {
                    report.push(format!(
                        "{path} {id} ({ext}): tshark finds {theirs} SIP frames in the input, \
                         {same} in the export, and {others} of other calls"
                    ));
                }
                if ext == "pcapng"
                    && let Some((_, comment)) = ours.iter().find(|(_, c)| !c.contains(&id))
                {
                    report.push(format!("{path} {id}: a frame's comment is '{comment}'"));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("export against tshark: {exported} exports compared");
    assert!(exported > 0);
    assert!(report.is_empty(), "{}", report.join("\n"));
    Ok(())
}
