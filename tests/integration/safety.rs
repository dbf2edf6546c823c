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
