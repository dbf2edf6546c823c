//! The flagship diagnosis on the shapes users post (issue 13, part 4): the merge of logs that
//! share a millisecond (`fixtures/derive/*.samems.derived.log`).

use super::common::{fixture, sipflow};

const CALLER_1MS: &str = "derive/call-freed-early.caller.samems.derived.log";
const CALLEE_1MS: &str = "derive/call-freed-early.callee.samems.derived.log";

fn run(args: &[&str], inputs: &[&str]) -> String {
    let paths: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(paths.iter().map(String::as_str));
    let out = sipflow(&all);
    assert!(matches!(out.code, 0 | 1), "{all:?}: {}", out.stderr);
    out.stdout
}

/// `check --format json`: (rule, severity, message) of every finding.
fn findings(extra: &[&str], inputs: &[&str]) -> Vec<(String, String, String)> {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let doc: serde_json::Value = serde_json::from_str(&run(&args, inputs)).expect("check JSON");
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("rule"), s("severity"), s("message"))
        })
        .collect()
}

fn rules(found: &[(String, String, String)]) -> Vec<(&str, &str)> {
    found
        .iter()
        .map(|(r, s, _)| (r.as_str(), s.as_str()))
        .collect()
}

/// One event of `sipflow events`: (input file name, line, what it is).
fn events(inputs: &[&str]) -> Vec<(String, u64, String)> {
    run(&["events"], inputs)
        .lines()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).expect("event JSON");
            let input = e["input"].as_str().unwrap_or_default();
            let side = if input.contains(".caller.") {
                "caller"
            } else {
                "callee"
            };
            let what = match e["kind"].as_str() {
                Some("message") => format!(
                    "{} {}",
                    e["direction"].as_str().unwrap_or_default().to_uppercase(),
                    e["method"]
                        .as_str()
                        .map(str::to_string)
                        .or_else(|| e["status"].as_u64().map(|s| s.to_string()))
                        .unwrap_or_default()
                ),
                _ => e["text"].as_str().unwrap_or_default().to_string(),
            };
            (side.to_string(), e["line"].as_u64().unwrap_or(0), what)
        })
        .collect()
}

fn position(evs: &[(String, u64, String)], side: &str, what: &str) -> usize {
    evs.iter()
        .position(|(s, _, w)| s == side && w.starts_with(what))
        .unwrap_or_else(|| panic!("no {side} {what} in {evs:#?}"))
}

#[test]
fn logs_of_one_millisecond_are_merged_in_causal_order() {
    // Both logs of the seed bug with every record at 05:42:13.580, given in either order.
    for inputs in [[CALLER_1MS, CALLEE_1MS], [CALLEE_1MS, CALLER_1MS]] {
        let evs = events(&inputs);
        let at = |side, what| position(&evs, side, what);
        // A message sits where its sender wrote it: each TX before the matching RX.
        assert!(
            at("caller", "TX INVITE") < at("callee", "RX INVITE"),
            "{inputs:?}"
        );
        assert!(
            at("callee", "TX 100") < at("caller", "RX 100"),
            "{inputs:?}"
        );
        assert!(
            at("callee", "TX 603") < at("caller", "RX 603"),
            "{inputs:?}"
        );
        assert!(
            at("caller", "TX ACK") < at("callee", "RX ACK"),
            "{inputs:?}"
        );
        // What the callee wrote before its 603 comes before the caller receives it.
        for line in ["Answering call 0", "Call 0 hanging up: code=0"] {
            assert!(
                at("callee", line) < at("caller", "RX 603"),
                "{line}: {inputs:?}"
            );
        }
        // Each log keeps its own order.
        for side in ["caller", "callee"] {
            let lines: Vec<u64> = evs
                .iter()
                .filter(|(s, _, _)| s == side)
                .map(|(_, l, _)| *l)
                .collect();
            assert!(lines.windows(2).all(|w| w[0] < w[1]), "{side}: {lines:?}");
        }
    }
}

#[test]
fn the_ladder_of_one_millisecond_draws_the_cause_before_the_603() {
    let ladder = run(&["flow"], &[CALLER_1MS, CALLEE_1MS]);
    let row = |needle: &str| {
        ladder
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{ladder}"))
    };
    assert!(
        row("INVITE --") < row("Answering call 0: code=200"),
        "{ladder}"
    );
    assert!(row("Answering call 0: code=200") < row("hanging up: code=0"));
    assert!(row("hanging up: code=0") < row("100 Trying"), "{ladder}");
    assert!(
        row("processing pending hangup") < row("603 Decline --"),
        "{ladder}"
    );
    assert!(row("603 Decline --") < row("ACK --"), "{ladder}");
    // And the diagnosis is the one the real timing gives.
    let found = findings(&[], &[CALLER_1MS, CALLEE_1MS]);
    assert_eq!(
        rules(&found),
        [
            ("call-object-freed-early", "error"),
            ("call-rejected", "info")
        ]
    );
}
