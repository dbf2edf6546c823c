//! Command-line behaviour: stdin, gzip, errors and exit codes, selection flags.

use std::io::Write;

use super::common::{calls_json, fixture, outcomes, sipflow, sipflow_with_stdin};

#[test]
fn stdin_dash_reads_a_piped_log() {
    let path = fixture("basic-call/caller.log");
    let bytes = std::fs::read(super::common::root().join(&path)).expect("read fixture");
    let run = sipflow_with_stdin(&["calls", "--format", "json", "-"], &bytes);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["inputs"][0]["name"], "-");
    assert_eq!(outcomes(&doc), vec![("answered".to_string(), Some(200))]);
}

#[test]
fn gzip_input_is_read_transparently() {
    let path = fixture("basic-call/caller.log");
    let bytes = std::fs::read(super::common::root().join(&path)).expect("read fixture");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let run = sipflow_with_stdin(&["calls", "--format", "json", "-"], &gz);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["inputs"][0]["gzip"], true);
    assert_eq!(doc, {
        let mut plain = calls_json(&[&path]);
        plain["inputs"][0]["name"] = "-".into();
        plain["inputs"][0]["gzip"] = true.into();
        plain["calls"][0]["pjsua_calls"][0]["input"] = "-".into();
        plain
    });
}

#[test]
fn unreadable_input_is_reported_and_others_still_processed() {
    let good = fixture("basic-call/caller.log");
    let run = sipflow(&["calls", "no/such/file.log", &good]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read no/such/file.log"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("answered"), "{}", run.stdout);
}

#[test]
fn unrecognised_input_gets_a_span_and_exit_2() {
    let run = sipflow_with_stdin(&["calls", "-"], b"hello world\nnot sip\n");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("-: not a capture, pjsip log"),
        "{}",
        run.stderr
    );
    // miette draws the offending first line with a label under it.
    assert!(run.stderr.contains("1 │ hello world"), "{}", run.stderr);
    assert!(
        run.stderr.contains("this does not look like SIP"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_capture_with_a_cut_header_is_an_input_error() {
    // The pcap magic and half a global header: recognised as a capture, unreadable as one.
    let pcap = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0];
    let run = sipflow_with_stdin(&["calls", "-"], &pcap);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("sipflow::input::capture"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("-: "), "{}", run.stderr);
}

#[test]
fn empty_input_is_an_error() {
    let run = sipflow_with_stdin(&["calls", "-"], b"\n\n");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("the input is empty"), "{}", run.stderr);
}

#[test]
fn bad_date_is_a_usage_error() {
    let run = sipflow(&[
        "calls",
        "--date",
        "21/11/2026",
        &fixture("basic-call/caller.log"),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid --date '21/11/2026'"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("YYYY-MM-DD"), "{}", run.stderr);
}

#[test]
fn date_flag_dates_undated_logs() {
    let doc = calls_json(&["--date", "2026-11-21", &fixture("basic-call/caller.log")]);
    let start = doc["calls"][0]["start"].as_str().expect("start");
    assert!(start.starts_with("2026-11-21 "), "{start}");
}

#[test]
fn input_format_overrides_sniffing() {
    // A pjsip log read as raw SIP finds no start line at the top: its first "message" is the
    // log preamble, kept as an unparsed event rather than dropped.
    let path = fixture("basic-call/caller.log");
    let run = sipflow(&["events", "--input-format", "sip", &path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first: serde_json::Value =
        serde_json::from_str(run.stdout.lines().next().expect("one event")).expect("json");
    assert_eq!(first["kind"], "message");
    assert!(first["parse_error"].is_string(), "{first}");
}

#[test]
fn flow_call_selects_by_index_and_call_id() {
    let path = fixture("basic-call/caller.log");
    let doc = calls_json(&[&path]);
    let id = doc["calls"][0]["call_id"]
        .as_str()
        .expect("call id")
        .to_string();
    let by_index = sipflow(&["flow", "--call", "1", &path]);
    let by_id = sipflow(&["flow", "--call", &id, &path]);
    assert_eq!(by_index.code, 0, "{}", by_index.stderr);
    assert_eq!(by_index.stdout, by_id.stdout);
    assert!(by_index.stdout.starts_with(&format!("Call 1: {id}")));
}

#[test]
fn flow_unknown_call_lists_the_available_ones() {
    let path = fixture("basic-call/caller.log");
    let run = sipflow(&["flow", "--call", "42", &path]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no call matches --call '42'"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("available: 1 ("), "{}", run.stderr);
}

#[test]
fn stdin_twice_is_a_usage_error() {
    let run = sipflow(&["calls", "-", "-"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("stdin (`-`) is given more than once"),
        "{}",
        run.stderr
    );
}

#[test]
fn closed_pipe_is_a_clean_exit() {
    use std::process::{Command, Stdio};
    let path = fixture("basic-call/caller.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sipflow"))
        .args(["events", &path, &path, &path])
        .current_dir(super::common::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_truncated_capture_keeps_what_came_before_with_a_warning() {
    let path = super::common::root().join(fixture("captures/pjsua-udp/call.pcap"));
    let bytes = std::fs::read(path).expect("capture");
    // Cut in the middle of the last packet.
    let cut = &bytes[..bytes.len() - 40];
    let run = sipflow_with_stdin(&["calls", "--format", "json", "-"], cut);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("sipflow::input::damaged"),
        "{}",
        run.stderr
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["inputs"][0]["frames"], 6);
    assert_eq!(doc["calls"][0]["messages"], 6);
}

#[test]
fn garbage_after_a_capture_header_is_a_warning_not_a_crash() {
    let path = super::common::root().join(fixture("captures/pjsua-udp/call.pcap"));
    let mut bytes = std::fs::read(path).expect("capture");
    bytes.truncate(24);
    bytes.extend_from_slice(&[0xff; 200]);
    let run = sipflow_with_stdin(&["calls", "-"], &bytes);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("sipflow::input::damaged"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("no calls"), "{}", run.stdout);
}

#[test]
fn sip_port_narrows_the_search() {
    let pcap = fixture("captures/pjsua-udp/call.pcap");
    let all = calls_json(&[&pcap]);
    assert_eq!(all["calls"].as_array().map(Vec::len), Some(1));
    let none = calls_json(&["--sip-port", "9", &pcap]);
    assert_eq!(none["calls"].as_array().map(Vec::len), Some(0));
    let run = sipflow(&["calls", "--format", "json", "--sip-port", "5410", &pcap]);
    let one: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(one["calls"], all["calls"]);
}

#[test]
fn gzip_capture_and_misnamed_pcapng_are_detected_by_content() {
    let gz = calls_json(&[&fixture("captures/gz/call.pcap.gz")]);
    assert_eq!(gz["inputs"][0]["gzip"], true);
    assert_eq!(gz["inputs"][0]["format"], "pcap");
    let named = calls_json(&[&fixture("captures/gz/pcapng-named.pcap")]);
    assert_eq!(named["inputs"][0]["format"], "pcapng");
}

/// The progress bar is for terminals only: stdin (size unknown, so it would get a spinner)
/// with stderr piped writes nothing to stderr, in or out of CI.
#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let path = fixture("basic-call/caller.log");
    let bytes = std::fs::read(super::common::root().join(&path)).expect("read fixture");
    let run = sipflow_with_stdin(&["calls", "-"], &bytes);
    assert_eq!(run.code, 0);
    assert_eq!(run.stderr, "");
    assert!(run.stdout.contains("answered"));
}

/// Runs `shell` under a pseudo-terminal (`script` from util-linux), so that sipflow's stderr is
/// a terminal, outside CI (where the bar is off anyway); returns what the terminal showed.
fn on_a_terminal(shell: &str) -> String {
    let out = std::process::Command::new("script")
        .args(["-qec", shell, "/dev/null"])
        .current_dir(super::common::root())
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script(1)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// On a terminal, an input that does not exist gets its error and no progress spinner drawn
/// before it (the spinner was drawn, then the error). The same terminal does show the spinner
/// for a piped log, so the absence is not the terminal's.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "needs script(1) from util-linux")]
fn no_spinner_before_the_error_of_a_missing_input() {
    let bin = env!("CARGO_BIN_EXE_sipflow");
    let missing = on_a_terminal(&format!("{bin} check no-such-input.log"));
    assert!(missing.contains("no-such-input.log"), "{missing:?}");
    assert!(!missing.contains("reading"), "{missing:?}");
    let piped = on_a_terminal(&format!(
        "cat {} | {bin} calls - >/dev/null",
        fixture("basic-call/caller.log")
    ));
    assert!(piped.contains("reading"), "{piped:?}");
}

/// `--limit` changes a memory bound; hitting it is reported on stderr, and a bad setting is a
/// usage error that lists the limits.
#[test]
fn limits_are_configurable_and_hitting_one_is_reported() {
    let pcap = fixture("captures/sipp-tcp-big/tcp.pcap");
    let run = sipflow(&["calls", &pcap]);
    assert_eq!(run.code, 0);
    assert!(!run.stderr.contains("longer than"), "{}", run.stderr);
    let run = sipflow(&["calls", "--limit", "tcp-buffer=64", &pcap]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("a SIP header block longer than 64 bytes"),
        "{}",
        run.stderr
    );
    let run = sipflow(&["calls", "--limit", "tcp-bufer=64", &pcap]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid --limit 'tcp-bufer=64'"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("fragment-timeout-ms"), "{}", run.stderr);
}
