//! `sipflow listen --hep` fed by a real sender, `sngrep -I capture -H udp:…`: its findings are
//! those of `sipflow check` on the same capture.

use std::process::{Command, Stdio};
use std::time::Duration;

use super::common::root;
use super::needs::{Missing, on_path, require};

/// Findings as (rule, severity, message): where they point differs (a HEP packet number, not
/// the capture's frame), what they say must not, except how long the input covers after a
/// request ("in the 36.7 s the input covers"): a listener has covered the time it listened.
fn findings(jsonl: &str) -> Vec<(String, String, String)> {
    let seconds = regex::Regex::new(r"\d+(\.\d+)? s the input covers").expect("regex");
    let mut out: Vec<_> = jsonl
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let message = s("message");
            let message = seconds
                .replace_all(&message, "N s the input covers")
                .into_owned();
            (s("rule"), s("severity"), message)
        })
        .collect();
    out.sort();
    out
}

pub fn listen_matches_check_on_what_sngrep_sends() -> Result<(), Missing> {
    let missing: Vec<String> = ["sngrep"]
        .into_iter()
        .filter(|p| !on_path(p))
        .map(String::from)
        .collect();
    require(
        "listen_matches_check_on_what_sngrep_sends",
        &missing,
        "apt-get install sngrep",
    )?;
    let captures = [
        "fixtures/rules-severity/strict-proxy/call.pcap",
        "fixtures/rules-severity/ack-dropped/call.pcap",
        "fixtures/rules/auth-failed/call.pcap",
    ];
    for (i, capture) in captures.iter().enumerate() {
        // Ports 6210-6219 (this test's range).
        let endpoint = format!("udp:127.0.0.1:{}", 6210 + i);
        let listen = Command::new(env!("CARGO_BIN_EXE_sipflow"))
            .args(["listen", "--hep", &endpoint, "--for", "4s"])
            .args(["--format", "jsonl"])
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sipflow listen");
        std::thread::sleep(Duration::from_millis(800));
        let sent = Command::new("timeout")
            .args(["20", "sngrep", "-I", capture, "-H", &endpoint, "-N", "-q"])
            .current_dir(root())
            .env("HOME", std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("sngrep");
        assert!(sent.success(), "sngrep -H {endpoint}");
        let heard = listen.wait_with_output().expect("listen");
        let checked = Command::new(env!("CARGO_BIN_EXE_sipflow"))
            .args(["check", "--format", "jsonl", capture])
            .current_dir(root())
            .output()
            .expect("check");
        let want = findings(&String::from_utf8_lossy(&checked.stdout));
        let got = findings(&String::from_utf8_lossy(&heard.stdout));
        assert!(!want.is_empty(), "{capture}: a capture with findings");
        assert_eq!(got, want, "{capture}");
        assert_eq!(
            heard.status.code(),
            checked.status.code(),
            "{capture}: exit code"
        );
    }
    Ok(())
}
