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

/// sngrep, the sender these tests use, is there (or the test is ignored, or fails in CI).
fn require_sngrep(test: &str) -> Result<(), Missing> {
    let missing: Vec<String> = ["sngrep"]
        .into_iter()
        .filter(|p| !on_path(p))
        .map(String::from)
        .collect();
    require(test, &missing, "apt-get install sngrep")
}

/// sngrep replays `capture`'s SIP as HEP3 to `endpoint` (`udp:127.0.0.1:PORT`).
fn send_with_sngrep(capture: &str, endpoint: &str) {
    let sent = Command::new("timeout")
        .args(["20", "sngrep", "-I", capture, "-H", endpoint, "-N", "-q"])
        .current_dir(root())
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("sngrep");
    assert!(sent.success(), "sngrep -H {endpoint}");
}

pub fn listen_matches_check_on_what_sngrep_sends() -> Result<(), Missing> {
    require_sngrep("listen_matches_check_on_what_sngrep_sends")?;
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
        send_with_sngrep(capture, &endpoint);
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

/// The Call-IDs of a report's call list, sorted.
fn listed(page: &str) -> Vec<String> {
    let mut ids = super::common::listed(page);
    ids.sort();
    ids
}

/// `listen --html F`: the report is a whole page with the calls sngrep sent while the listener
/// still runs, and at the end it lists what `sipflow report` of the capture lists, with no
/// temporary file beside it.
pub fn listen_rewrites_its_html_report_while_it_runs() -> Result<(), Missing> {
    require_sngrep("listen_rewrites_its_html_report_while_it_runs")?;
    let capture = "fixtures/rules-severity/strict-proxy/call.pcap";
    let dir = std::env::temp_dir().join(format!("sipflow-listen-html-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let page = dir.join("live.html");
    // Port 6220 (this test's).
    let endpoint = "udp:127.0.0.1:6220";
    let mut listen = Command::new(env!("CARGO_BIN_EXE_sipflow"))
        .args(["listen", "--hep", endpoint, "--for", "10s"])
        .args(["--format", "jsonl", "--html-every", "1s", "--html"])
        .arg(&page)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sipflow listen");
    std::thread::sleep(Duration::from_millis(800));
    send_with_sngrep(capture, endpoint);
    // While it listens: a whole report with calls in it.
    let deadline = std::time::Instant::now() + Duration::from_secs(7);
    let mut seen = None;
    while std::time::Instant::now() < deadline && seen.is_none() {
        if let Ok(text) = std::fs::read_to_string(&page)
            && text.ends_with("</html>\n")
            && !listed(&text).is_empty()
        {
            seen = Some(text);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let running = listen.try_wait().expect("try_wait").is_none();
    let status = listen.wait().expect("listen");
    assert!(seen.is_some(), "no report with calls while listening");
    assert!(running, "the report came only at the end");
    assert_eq!(status.code(), Some(1), "errors were found, as check finds");
    let report = dir.join("file.html");
    let made = Command::new(env!("CARGO_BIN_EXE_sipflow"))
        .args(["report", capture, "-o"])
        .arg(&report)
        .current_dir(root())
        .status()
        .expect("report");
    assert!(made.success());
    let last = std::fs::read_to_string(&page).expect("the report");
    let want = listed(&std::fs::read_to_string(&report).expect("report"));
    assert!(!want.is_empty());
    assert_eq!(listed(&last), want);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["file.html", "live.html"], "a temporary file left");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
