//! The flagship diagnosis on the shapes users post (issue 13, part 4): the merge of logs that
//! share a millisecond, `call-object-freed-early` with and without the answer line, on excerpts
//! and from a capture alone, what `bye-right-after-answer` says when that rule explains the
//! BYE, and deliberate look-alikes (`fixtures/flagship/`, `fixtures/derive/`).

use super::common::{fixture, root, sipflow};

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

#[test]
fn without_an_answer_line_it_is_a_warning_because_a_deliberate_hangup_looks_the_same() {
    // The Call freed before the app's answer from its loop, and a deliberate hangup() with a
    // default CallOpParam in onIncomingCall: PJSIP 2.15.1 logs the same lines.
    for callee in [
        "flagship/freed-no-answer/callee.log",
        "flagship/freed-while-incoming/callee.log",
        "flagship/hangup-default-in-callback/callee.log",
    ] {
        let found = findings(&[], &[callee]);
        assert_eq!(
            rules(&found),
            [
                ("call-object-freed-early", "warning"),
                ("call-rejected", "info")
            ],
            "{callee}"
        );
        let msg = &found[0].2;
        assert!(
            msg.contains("before any answer") && msg.contains("cannot tell them apart"),
            "{callee}: {msg}"
        );
    }
}

#[test]
fn a_decline_the_log_states_is_not_reported_even_with_the_caller_log() {
    // Alone, the caller's log shows only the wire shape (a warning that asks for the callee's
    // log); with the callee's log, which says `hanging up: code=603`, nothing is reported.
    let caller = "flagship/decline-hangup-603/caller.log";
    let callee = "flagship/decline-hangup-603/callee.log";
    assert_eq!(
        rules(&findings(&[], &[caller])),
        [
            ("call-object-freed-early", "warning"),
            ("call-rejected", "info")
        ]
    );
    assert_eq!(
        rules(&findings(&[], &[caller, callee])),
        [("call-rejected", "info")]
    );
}

#[test]
fn excerpts_and_quotes_are_diagnosed_as_warnings() {
    for (input, says) in [
        (
            "derive/call-freed-early.callee.tail.derived.log",
            "went from INCOMING straight to DISCONNECTED",
        ),
        (
            "derive/freed-no-answer.callee.quote.derived.log",
            "quotes a 603 Decline sent next to `Call 0 hanging up: code=0..`",
        ),
    ] {
        let found = findings(&["--select", "call-object-freed-early"], &[input]);
        assert_eq!(
            rules(&found),
            [("call-object-freed-early", "warning")],
            "{input}"
        );
        assert!(found[0].2.contains(says), "{input}: {}", found[0].2);
    }
}

/// The seed bug's own issue (pjsip/pjproject#4055): the excerpt that starts at the INVITE
/// session's INCOMING -> DISCONNECTED and ends with the ACK of its final response.
#[test]
fn the_seed_bug_issue_excerpt_is_diagnosed() {
    let rel = "tests/real-world/logs/pjproject-4055-603-decline-on-autoanswer-b.log";
    assert!(root().join(rel).exists(), "{rel}");
    let out = sipflow(&[
        "check",
        "--format",
        "json",
        "--select",
        "call-object-freed-early",
        rel,
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("check JSON");
    let f = &doc["findings"][0];
    assert_eq!(f["rule"], "call-object-freed-early", "{}", out.stdout);
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["line"], 2, "points at the INCOMING -> DISCONNECTED line");
}

#[test]
fn two_byes_at_once_after_the_ack_are_the_same_diagnosis_from_a_capture() {
    for input in [
        "flagship/freed-after-answer/call.pcap",
        "call-freed-after-answer/caller.log",
    ] {
        let found = findings(&[], &[input]);
        // One problem, one warning: bye-right-after-answer only gives the timing.
        assert_eq!(
            rules(&found),
            [
                ("call-object-freed-early", "warning"),
                ("bye-right-after-answer", "info")
            ],
            "{input}"
        );
        assert!(found[0].2.contains("two BYEs"), "{}", found[0].2);
        assert!(
            found[1]
                .2
                .contains("call-object-freed-early explains this BYE")
        );
        // Without call-object-freed-early, bye-right-after-answer is the warning again.
        let alone = findings(&["--ignore", "call-object-freed-early"], &[input]);
        assert_eq!(rules(&alone), [("bye-right-after-answer", "warning")]);
    }
    // The callee's log makes it certain.
    let found = findings(&[], &["flagship/freed-after-answer/callee.log"]);
    assert_eq!(
        rules(&found),
        [
            ("call-object-freed-early", "error"),
            ("bye-right-after-answer", "info")
        ]
    );
}

#[test]
fn a_bye_at_once_after_the_ack_on_purpose() {
    // One BYE: a pjsua2 app that hangs up when CONFIRMED, a SIPp UAS. Only the timing rule.
    for input in [
        "flagship/hangup-after-confirmed/call.pcap",
        "flagship/sipp-bye-after-ack/call.pcap",
    ] {
        assert_eq!(
            rules(&findings(&[], &[input])),
            [("bye-right-after-answer", "warning")],
            "{input}"
        );
    }
    // A deliberate hangup before the ACK sends PJSIP's two BYEs too: the wire cannot tell it,
    // so the capture gives the warning that asks for the callee's log (see the rule's docs).
    assert_eq!(
        rules(&findings(&[], &["flagship/hangup-before-ack/call.pcap"])),
        [
            ("call-object-freed-early", "warning"),
            ("bye-right-after-answer", "info")
        ]
    );
}
