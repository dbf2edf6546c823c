//! The ladders' geometry and times (`sipflow flow`, ASCII, Mermaid and PlantUML): deltas
//! between messages, the terminal width, file names in notes.

use super::common::{fixtures, sipflow};

/// `sipflow flow EXTRA… INPUTS…` (inputs relative to `fixtures/`): its stdout. Fails the test
/// unless it exits 0.
fn flow(extra: &[&str], inputs: &[&str]) -> String {
    let paths = fixtures(inputs);
    let mut args = vec!["flow"];
    args.extend_from_slice(extra);
    args.extend(paths.iter().map(String::as_str));
    let run = sipflow(&args);
    assert_eq!(run.code, 0, "sipflow {args:?}: {}", run.stderr);
    run.stdout
}

const BASIC: &[&str] = &["basic-call/caller.log", "basic-call/callee.log"];

/// Each arrow's delta is measured from the previous message, not from the log line drawn
/// just above it: the 200 OK answering the INVITE came 0.304 s after the 180 Ringing (0.305 s
/// after the INVITE), and the BYE 1.003 s after the ACK, although log lines sit between them.
#[test]
fn deltas_run_from_the_previous_message() {
    let ascii = flow(&[], BASIC);
    let arrows: Vec<(&str, &str)> = ascii
        .lines()
        .filter(|l| l.contains("--"))
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            let _time = cols.next()?;
            let delta = cols.next()?;
            let label = [
                "INVITE",
                "100 Trying",
                "180 Ringing",
                "200 OK",
                "ACK",
                "BYE",
            ]
            .into_iter()
            .find(|m| l.contains(&format!(" {m} ")))?;
            Some((label, delta))
        })
        .collect();
    assert_eq!(
        arrows,
        [
            ("INVITE", "+0.000s"),
            ("100 Trying", "+0.001s"),
            ("180 Ringing", "+0.000s"),
            ("200 OK", "+0.304s"),
            ("ACK", "+0.001s"),
            ("BYE", "+1.003s"),
            ("200 OK", "+0.000s"),
        ],
        "{ascii}"
    );
    // A note shows its own time, and no delta.
    let note = ascii
        .lines()
        .find(|l| l.contains("caller.log:231"))
        .expect("the hang-up note");
    assert!(note.starts_with("05:42:14.996  "), "{note}");
    assert!(!note.contains("+1.002s") && !note.contains("+0."), "{note}");

    let mermaid = flow(&["--call", "1", "--format", "mermaid"], BASIC);
    let plantuml = flow(&["--call", "1", "--format", "plantuml"], BASIC);
    for (text, arrow) in [(&mermaid, "->>"), (&plantuml, " -> ")] {
        let labels: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(arrow))
            .filter_map(|l| l.split_once(':').map(|(_, label)| label.trim()))
            .collect();
        assert_eq!(
            labels,
            [
                "INVITE (+0.000s)",
                "100 Trying (+0.001s)",
                "180 Ringing (+0.000s)",
                "200 OK (+0.304s)",
                "ACK (+0.001s)",
                "BYE (+1.003s)",
                "200 OK (+0.000s)",
            ],
            "{text}"
        );
    }
}
