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
