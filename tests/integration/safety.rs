//! What hostile or mistaken input and output cannot do: drive the terminal, vanish into a
//! failed write, overwrite an input, flood stderr (issue 14's "Safety" and "CLI").

use std::path::{Path, PathBuf};

use super::common::{fixture, root, sipflow};

/// A scratch directory of its own for one test, emptied first.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sipflow-safety-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// miette's text on one line: its wrapping and margins undone.
fn flat(s: &str) -> String {
    s.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

/// Control characters other than line breaks and tabs.
fn controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect()
}

/// The busy-486 caller log with terminal sequences in the reason phrase and the Call-ID: set
/// the window title, clear the screen, plant a hyperlink (a malformed-input test, made by hand).
fn hostile_log(dir: &Path) -> PathBuf {
    let text = std::fs::read(root().join(fixture("busy-486/caller.log"))).expect("fixture");
    let text = String::from_utf8(text).expect("utf-8 fixture");
    assert!(text.contains("Busy Here") && text.contains("Rp4Pz.y4XIbeGdbQxk9bVeZjNyQ.8Z89"));
    let text = text
        .replace("Busy Here", "Busy\x1b]0;pwned\x07Here\x1b[2J")
        .replace(
            "Rp4Pz.y4XIbeGdbQxk9bVeZjNyQ.8Z89",
            "Rp4Pz\x1b]8;;http://evil/\x07x\u{9b}31m",
        );
    let path = dir.join("hostile.log");
    std::fs::write(&path, text).expect("write hostile log");
    path
}

#[test]
fn wire_bytes_never_reach_the_terminal_raw() {
    let dir = scratch("escapes");
    let log = hostile_log(&dir);
    let log = path_str(&log);
    let runs: Vec<(Vec<&str>, _)> = [
        vec!["check", "--format", "human", log],
        vec!["check", "--format", "concise", log],
        vec!["check", "--format", "github", log],
        vec!["calls", log],
        vec!["flow", log],
        vec!["flow", "--call", "nope", log],
    ]
    .into_iter()
    .map(|args| {
        let run = sipflow(&args);
        (args, run)
    })
    .collect();
    for (args, run) in &runs {
        assert!(matches!(run.code, 0..=2), "{args:?}: {}", run.stderr);
        assert_eq!(
            controls(&run.stdout),
            Vec::<char>::new(),
            "{args:?} stdout:\n{}",
            run.stdout
        );
        assert_eq!(
            controls(&run.stderr),
            Vec::<char>::new(),
            "{args:?} stderr:\n{}",
            run.stderr
        );
    }
    // The sequences were read (shown neutralised), not dropped on the way.
    let human = &runs[0].1.stdout;
    assert!(human.contains("Busy·]0;pwned·Here"), "{human}");
    let github = &runs[2].1.stdout;
    assert!(github.contains("Busy·]0;pwned·Here"), "{github}");
    let missing = &runs[5].1.stderr;
    assert!(missing.contains("Rp4Pz·]8;;http://evil/·x"), "{missing}");

    // An error that quotes an unrecognised input.
    let junk = dir.join("junk.txt");
    std::fs::write(&junk, b"hello\x1b]0;pwned\x07 world\x1b[2J\nmore\n").expect("write junk");
    let run = sipflow(&["calls", path_str(&junk)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("hello·]0;pwned· world"),
        "{}",
        run.stderr
    );
    assert_eq!(controls(&run.stderr), Vec::<char>::new(), "{}", run.stderr);
}

/// Runs sipflow with stdout going to `/dev/full`.
fn sipflow_to_dev_full(args: &[&str]) -> (i32, String) {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sipflow"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdout(full)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run sipflow");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "needs /dev/full (Linux)")]
fn a_failed_write_to_stdout_says_what_failed() {
    let log = fixture("busy-486/caller.log");
    for args in [
        vec!["calls", log.as_str()],
        vec!["check", "--format", "json", log.as_str()],
        vec!["flow", log.as_str()],
        vec!["rules"],
        vec!["explain", "SF001"],
    ] {
        let (code, stderr) = sipflow_to_dev_full(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("could not write the output to stdout"),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains("No space left on device"),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            stderr.matches("No space left").count(),
            1,
            "{args:?}: said once: {stderr}"
        );
    }
}

#[test]
fn a_report_that_cannot_be_written_says_so_once() {
    // Relative to the crate root, short enough that miette does not wrap it.
    let out = PathBuf::from(format!("no-such-dir-{}/r.html", std::process::id()));
    let log = fixture("busy-486/caller.log");
    for args in [
        vec!["report", log.as_str(), "-o", path_str(&out)],
        vec!["check", log.as_str(), "--html", path_str(&out)],
    ] {
        let run = sipflow(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("could not write {}", out.display())),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(
            run.stderr.matches("No such file or directory").count(),
            1,
            "{args:?}: the cause said once: {}",
            run.stderr
        );
    }
}

#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = scratch("overwrite");
    let original = std::fs::read(root().join(fixture("busy-486/caller.log"))).expect("fixture");
    let log = dir.join("caller.log");
    std::fs::write(&log, &original).expect("copy");
    let link = dir.join("link.log");
    let linked = std::fs::hard_link(&log, &link).is_ok();
    let log_s = path_str(&log);
    let dotted = format!(
        "{}/../{}/caller.log",
        dir.display(),
        dir.file_name().and_then(|n| n.to_str()).expect("name")
    );
    let mut cases = vec![
        vec!["report", log_s, "-o", log_s],
        vec!["report", log_s, "-o", dotted.as_str()],
        vec!["check", "--html", log_s, log_s],
        vec![
            "check",
            "--format",
            "json",
            "--html",
            dotted.as_str(),
            log_s,
        ],
    ];
    if linked {
        cases.push(vec!["report", log_s, "-o", path_str(&link)]);
    } else {
        println!("hard links are not possible here: that case is not run");
    }
    for args in cases {
        let run = sipflow(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("is the input"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert_eq!(
            std::fs::read(&log).expect("input"),
            original,
            "{args:?}: input kept"
        );
    }
    // Another file is fine.
    let report = dir.join("report.html");
    let run = sipflow(&["report", log_s, "-o", path_str(&report)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(report.exists());
}

/// A pcapng (hand-made, malformed): a section header, an Ethernet interface, then `blocks`
/// enhanced packet blocks of 64 KiB whose captured length is 0xFFFFFFFF, so that the parser
/// rejects each with the block's bytes in its error.
fn pcapng_with_bad_caplen(blocks: usize) -> Vec<u8> {
    let u32le = |v: u32| v.to_le_bytes();
    let mut out = Vec::new();
    // Section header block: type, length, byte-order magic, version 1.0, section length -1.
    for v in [0x0A0D_0D0A, 28, 0x1A2B_3C4D, 1] {
        out.extend(u32le(v));
    }
    out.extend((-1i64).to_le_bytes());
    out.extend(u32le(28));
    // Interface description block: Ethernet, no snaplen.
    for v in [1, 20, 1, 0, 20] {
        out.extend(u32le(v));
    }
    let data: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
    let len = 32 + data.len() as u32;
    for _ in 0..blocks {
        for v in [6, len, 0, 0, 0, u32::MAX, data.len() as u32] {
            out.extend(u32le(v));
        }
        out.extend(&data);
        out.extend(u32le(len));
    }
    out
}

#[test]
fn a_bad_pcapng_block_gives_a_short_warning() {
    let dir = scratch("pcapng");
    let path = dir.join("bad-caplen.pcapng");
    std::fs::write(&path, pcapng_with_bad_caplen(4)).expect("write pcapng");
    let run = sipflow(&["calls", path_str(&path)]);
    assert!(matches!(run.code, 0 | 2), "{}", run.stderr);
    assert!(run.stderr.contains("does not parse"), "{}", run.stderr);
    assert!(
        run.stderr.len() < 2000,
        "{} bytes of stderr: {}",
        run.stderr.len(),
        &run.stderr[..run.stderr.len().min(600)]
    );
}

#[test]
fn a_wrong_input_format_is_an_input_error() {
    let pcap = fixture("rules-call-extra/slow-setup/call.pcap");
    let log = fixture("busy-486/caller.log");
    for (format, input, looks) in [
        ("pjsip", pcap.as_str(), "a pcap capture"),
        ("sip", pcap.as_str(), "a pcap capture"),
        ("pcap", log.as_str(), "a pjsip log"),
    ] {
        let run = sipflow(&["calls", "--input-format", format, input]);
        assert_eq!(run.code, 2, "{format} {input}: {}", run.stderr);
        let said = flat(&run.stderr);
        assert!(
            said.contains(&format!(
                "{input}: --input-format {format} does not fit: the input looks like {looks}"
            )),
            "{said}"
        );
        assert!(!run.stdout.contains("no calls"), "{}", run.stdout);
    }
    // A format that fits is still taken.
    let run = sipflow(&["calls", "--input-format", "pcap", &pcap]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn when_every_input_failed_stdout_stays_empty() {
    let dir = scratch("all-failed");
    let report = dir.join("r.html");
    for args in [
        vec!["calls", "no/such/input.log"],
        vec!["calls", "--format", "json", "no/such/input.log"],
        vec!["check", "no/such/input.log", "no/such/other.pcap"],
        vec!["flow", "no/such/input.log"],
        vec!["report", "no/such/input.log", "-o", path_str(&report)],
    ] {
        let run = sipflow(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("cannot read"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{args:?}");
    }
    assert!(!report.exists(), "no report of nothing");
    // One input read of two: the output is there, and the exit code says one failed.
    let run = sipflow(&[
        "calls",
        "no/such/input.log",
        &fixture("busy-486/caller.log"),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.contains("busy"), "{}", run.stdout);
}

/// A log that ends inside a dump (an excerpt, a log still being written) is not a dump cut by
/// pjsip's record limit: SF020 stays quiet, and never counts more bytes than the dump declares.
#[test]
fn a_log_ending_inside_a_dump_is_no_record_limit_cut() {
    let dir = scratch("sf020");
    let text =
        std::fs::read_to_string(root().join(fixture("busy-486/caller.log"))).expect("fixture");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let start = lines
        .iter()
        .rposition(|l| l.contains(" bytes ") && l.contains(" msg "))
        .expect("a dump header");
    let end = start
        + lines[start..]
            .iter()
            .position(|l| l.contains("--end msg--"))
            .expect("its end marker");
    let path = dir.join("cut.log");
    let mut cases = 0;
    for keep in start + 1..=end {
        let whole: String = lines[..keep].concat();
        for cut in [whole.as_str(), whole.trim_end_matches('\n')] {
            std::fs::write(&path, cut).expect("write cut log");
            let run = sipflow(&["check", "--format", "json", path_str(&path)]);
            assert!(matches!(run.code, 0 | 1), "{}", run.stderr);
            let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
            let sf020: Vec<_> = super::common::found(&doc)
                .into_iter()
                .filter(|(rule, _, _)| rule.contains("truncated-log-record"))
                .collect();
            assert_eq!(sf020, [], "the log cut after line {keep}");
            cases += 1;
        }
    }
    assert!(cases >= 4, "{cases} cuts tried");
}
