//! Nothing is lost: every message dump in every fixture log becomes a message event, and every
//! dump without its `--end msg--` (pjsip's 4000-byte record cap) is marked truncated.

use std::path::{Path, PathBuf};

use regex::Regex;

use super::common::{root, sipflow};

fn logs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read fixtures dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            logs(&p, out);
        } else if p.extension().is_some_and(|e| e == "log")
            // Excerpts posted by others, cut at both ends: tests/integration/pjsip_logs.rs.
            && !p.starts_with(root().join("fixtures/pjsip-decors"))
            // Other stacks' logs (no pjsip dumps): src/ingest/format/{baresip,kamailio,…}.rs.
            && !p.starts_with(root().join("fixtures/stacks"))
        {
            out.push(p);
        }
    }
}

#[test]
fn every_dump_becomes_an_event() {
    let header = Regex::new(r"(TX|RX) \d+ bytes (Request|Response) msg").expect("regex");
    // An end marker ends its line, but for spaces, a CR or a colour reset after it.
    let end = Regex::new(r"--end msg--(?:\s|\x1b\[[0-9;]*m)*$").expect("regex");
    let mut files = Vec::new();
    logs(&root().join("fixtures"), &mut files);
    assert!(
        files.len() >= 30,
        "expected the recorded fixtures, found {}",
        files.len()
    );
    let mut cut_total = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("fixture is UTF-8");
        let dumps = text.lines().filter(|l| header.is_match(l)).count();
        let ends = text.lines().filter(|l| end.is_match(l)).count();
        let rel = file.strip_prefix(root()).expect("under root");
        let run = sipflow(&["events", &rel.to_string_lossy()]);
        assert_eq!(run.code, 0, "{}: {}", rel.display(), run.stderr);
        let events: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        let messages = events.iter().filter(|e| e["kind"] == "message").count();
        let truncated = events.iter().filter(|e| e["truncated"] == true).count();
        // The tail of a dump an excerpt starts inside (no header, no direction; its end marker
        // is the input's first).
        let tails = events
            .iter()
            .filter(|e| e["kind"] == "message" && e["direction"].is_null())
            .count();
        assert!(tails <= 1, "{}: one leading tail at most", rel.display());
        assert_eq!(
            messages - tails,
            dumps,
            "{}: dumps vs message events",
            rel.display()
        );
        // A dump whose header line carries its text (a paste that collapsed the line breaks;
        // the derived one keeps its end marker) is Damaged whatever ends it.
        let collapsed = text
            .lines()
            .filter(|l| header.is_match(l) && !l.trim_end().ends_with(':'))
            .count();
        assert_eq!(
            truncated - tails,
            dumps - (ends - tails) + collapsed,
            "{}: cut records",
            rel.display()
        );
        if rel.starts_with("fixtures/no-dumps") {
            assert_eq!(dumps, 0, "{}: logged at level 3", rel.display());
        }
        cut_total += truncated;
    }
    assert!(cut_total >= 2, "the big-invite-cut logs carry cut records");
}

/// Every SIP message in the recorded captures is found, in the frames where TShark finds it
/// (the `*.tshark.tsv` reference beside each capture).
#[test]
fn every_sip_message_in_the_captures_is_an_event() {
    let dir = root().join("fixtures/captures");
    let mut checked = 0;
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.to_string_lossy().into_owned();
            let Some(capture) = name.strip_suffix(".tshark.tsv") else {
                continue;
            };
            // One row per frame; a frame carrying several messages lists their methods and
            // statuses comma-separated, so it counts once per value.
            let mut want: Vec<u64> = Vec::new();
            for row in std::fs::read_to_string(&p).expect("tsv").lines() {
                let cols: Vec<&str> = row.split('\t').collect();
                let Some(frame) = cols.first().and_then(|f| f.parse::<u64>().ok()) else {
                    continue;
                };
                let values = |i: usize| {
                    cols.get(i)
                        .map_or(0, |c| c.split(',').filter(|v| !v.is_empty()).count())
                };
                want.extend(std::iter::repeat_n(frame, values(1) + values(2)));
            }
            let run = sipflow(&["events", capture]);
            assert_eq!(run.code, 0, "{capture}: {}", run.stderr);
            let mut got: Vec<u64> = run
                .stdout
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
                .filter(|e| e["kind"] == "message")
                .filter_map(|e| {
                    e["frame"]
                        .as_array()?
                        .iter()
                        .filter_map(|f| f.as_u64())
                        .max()
                })
                .collect();
            got.sort_unstable();
            assert_eq!(got, want, "{capture}: frames of the SIP messages");
            checked += 1;
        }
    }
    assert!(
        checked >= 9,
        "expected the recorded captures, checked {checked}"
    );
}
