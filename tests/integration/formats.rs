//! The input-format registry seen from the command line: `sipflow formats`, its generated
//! pages, `--input-format`'s values, and what an unrecognised input is told.

use super::common::{sipflow, sipflow_with_stdin};

#[test]
fn generated_format_docs_are_current() {
    let run = sipflow(&["formats", "--docs", "docs/formats", "--check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let dir = std::env::temp_dir().join(format!("sipflow-format-docs-{}", std::process::id()));
    let dir_s = dir.to_string_lossy().into_owned();
    let run = sipflow(&["formats", "--docs", &dir_s, "--check"]);
    assert_eq!(run.code, 1, "an empty directory is out of date");
    assert_eq!(sipflow(&["formats", "--docs", &dir_s]).code, 0);
    assert_eq!(sipflow(&["formats", "--docs", &dir_s, "--check"]).code, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sipflow formats` lists every format once, with its kind; `--input-format` takes each name
/// and its help lists them all.
#[test]
fn every_format_is_listed_and_can_be_forced() {
    let run = sipflow(&["formats"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let names: Vec<(&str, &str)> = run
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .collect();
    for (name, kind) in [
        ("pcap", "capture"),
        ("pcapng", "capture"),
        ("pjsip", "text"),
        ("sipp", "text"),
        ("sip", "text"),
    ] {
        assert!(names.contains(&(name, kind)), "{name}: {}", run.stdout);
    }
    let help = sipflow(&["calls", "--help"]).stdout;
    for (name, _) in &names {
        assert!(
            help.contains(&format!("{name}:")),
            "{name} in --help: {help}"
        );
        // Forcing a text format on text is taken (it may find nothing).
        let run = sipflow_with_stdin(
            &["calls", "--input-format", name, "-"],
            b"INVITE sip:a@b SIP/2.0\r\n\r\n",
        );
        assert!(
            !run.stderr.contains("invalid value"),
            "{name}: {}",
            run.stderr
        );
    }
}

#[test]
fn an_unrecognised_input_is_told_every_format() {
    let run = sipflow_with_stdin(&["calls", "-"], b"hello world\nnot sip\n");
    assert_eq!(run.code, 2);
    let said = run.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    for words in [
        "pcapng captures",
        "SIPp `-trace_msg` records",
        "sipflow formats",
    ] {
        assert!(said.contains(words), "{words}: {said}");
    }
}

/// An input that gives no times (raw SIP: here the messages of the `missing-ack` recording,
/// back to back) says so: times `--:--:--.---` / `null`, no interval measured, a note per
/// input, and no finding of a rule that judges time, where the capture gives two. Read with
/// the capture, the same messages take its times and the findings come back.
#[test]
fn an_input_without_times_says_so_and_judges_no_time() {
    let capture = "fixtures/rules/missing-ack/call.pcap";
    let bytes = std::fs::read(super::common::root().join(capture)).expect("read capture");
    let opts = sipflow::ingest::IngestOptions::default();
    let (_, _, events) = sipflow::ingest::ingest_bytes("c", bytes, &opts).expect("ingest");
    let messages: Vec<&[u8]> = events
        .iter()
        .filter_map(|e| match e {
            sipflow::event::Event::Message(m) => Some(m.raw()),
            sipflow::event::Event::Log(_) => None,
        })
        .collect();
    assert!(messages.len() > 10, "{} messages", messages.len());
    let raw: Vec<u8> = messages.concat();
    let path = std::env::temp_dir().join(format!("sipflow-untimed-{}.sip", std::process::id()));
    std::fs::write(&path, &raw).expect("write");
    let text = path.to_string_lossy().into_owned();

    let rules = |args: &[&str]| -> Vec<String> {
        let run = sipflow(&[&["check", "--format", "jsonl"], args].concat());
        assert!(run.code <= 1, "{}", run.stderr);
        let mut r: Vec<String> = run
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|f| f["rule"].as_str().map(str::to_string))
            .collect();
        r.sort();
        r
    };
    assert_eq!(
        rules(&[capture]),
        ["missing-ack", "retransmission-storm"],
        "the capture's findings"
    );
    assert_eq!(rules(&[&text]), Vec::<String>::new(), "no times, no timers");
    assert_eq!(
        rules(&[capture, &text]),
        ["missing-ack", "retransmission-storm"],
        "with the capture, its times"
    );

    let calls = sipflow(&["calls", "--format", "json", &text]);
    let doc: serde_json::Value = serde_json::from_str(&calls.stdout).expect("json");
    assert_eq!(doc["inputs"][0]["untimed_messages"], messages.len());
    let call = &doc["calls"][0];
    assert!(call["start"].is_null(), "{call}");
    assert!(
        call["duration_ms"].is_null() && call["setup_ms"].is_null(),
        "{call}"
    );
    let table = sipflow(&["calls", &text]).stdout;
    assert!(table.contains("--:--:--.---"), "{table}");
    assert!(table.contains("gives no times"), "{table}");
    let check = sipflow(&["check", &text]).stdout;
    assert!(check.contains("gives no times"), "{check}");
    let both = sipflow(&["calls", "--format", "json", capture, &text]).stdout;
    assert!(!both.contains("untimed_messages"), "{both}");
    let _ = std::fs::remove_file(&path);
}
