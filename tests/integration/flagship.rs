//! The flagship diagnosis on the shapes users post (issue 13, part 4): the merge of logs that
//! share a millisecond, `call-object-freed-early` with and without the answer line, on excerpts
//! and from a capture alone, what `bye-right-after-answer` says when that rule explains the
//! BYE, and deliberate look-alikes (`fixtures/flagship/`, `fixtures/derive/`).

use super::common::{Found, check_fixtures, fixture, root, sipflow};

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
fn findings(extra: &[&str], inputs: &[&str]) -> Vec<Found> {
    check_fixtures(extra, inputs).1
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
    let paths: Vec<String> = [CALLER_1MS, CALLEE_1MS]
        .iter()
        .map(|i| fixture(i))
        .collect();
    let mut args = vec!["flow"];
    args.extend(paths.iter().map(String::as_str));
    let ladder = super::common::sipflow_wide(&args).stdout;
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

#[test]
fn a_call_dropped_on_answer_by_the_caller() {
    // A pjsua2 caller hangs up 31 ms after CONFIRMED: the caller's log shows its application
    // decided, a warning; the callee's log and the wire cannot tell it from a hangup that
    // crossed the answer, info.
    for (input, own_log) in [
        ("flagship/caller-hangup-on-answer/caller.log", true),
        ("flagship/caller-hangup-on-answer/callee.log", false),
        ("flagship/caller-hangup-on-answer/call.pcap", false),
    ] {
        let found = findings(&[], &[input]);
        let severity = if own_log { "warning" } else { "info" };
        assert_eq!(
            rules(&found),
            [("bye-right-after-answer", severity)],
            "{input}"
        );
        let m = &found[0].2;
        assert!(m.starts_with("the caller"), "{m}");
        assert!(m.contains("ms after the ACK (threshold 100 ms)"), "{m}");
        // The caller's own log is named as the side that hung up, with its hangup line.
        let named = m.contains("(the UA that wrote fixtures/flagship");
        assert_eq!(named, own_log, "{m}");
        let hangup = m.contains("logs `Call 0 hanging up: code=0..`");
        assert_eq!(hangup, own_log, "{m}");
        assert_eq!(m.contains("crossed the answer"), !own_log, "{m}");
    }
    // Both logs: the caller's shows the decision.
    let both = findings(
        &[],
        &[
            "flagship/caller-hangup-on-answer/caller.log",
            "flagship/caller-hangup-on-answer/callee.log",
        ],
    );
    assert_eq!(rules(&both), [("bye-right-after-answer", "warning")]);
    // A quote with only the BYE's 200 (the BYE left out): the answer bounds the gap.
    let found = findings(
        &[],
        &["derive/caller-hangup-on-answer.caller.quote.derived.log"],
    );
    assert_eq!(rules(&found), [("bye-right-after-answer", "warning")]);
    assert!(
        found[0].2.contains("went out at most 32 ms after the ACK")
            && found[0].2.contains("only the BYE's answer is in the input"),
        "{}",
        found[0].2
    );
    // Its threshold is its own: 100 ms by default, and a config may widen it (a SIPp caller
    // that ends its calls 505 ms after the ACK is then reported, in its own trace).
    let sipp = "rules-traffic/oversized-udp/answered/uac.msg";
    let quick = |f: &(String, String, String)| f.0 == "bye-right-after-answer";
    assert!(!findings(&[], &[sipp]).iter().any(quick));
    let dir = std::env::temp_dir().join(format!("sipflow-caller-bye-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("sipflow.toml");
    std::fs::write(&config, "[thresholds]\ncaller-bye-after-answer-ms = 600\n").expect("write");
    let wide = findings(&["--config", &config.to_string_lossy()], &[sipp]);
    assert!(
        wide.iter().any(|f| quick(f)
            && f.1 == "warning"
            && f.2.contains("505 ms after the ACK (threshold 600 ms)")),
        "{wide:?}"
    );
}

#[test]
fn a_call_dropped_on_answer_in_a_real_excerpt() {
    // voiceip/tinyphone#37: the caller's ACK, CONFIRMED, then only the 200 to its own BYE
    // 33 (34) ms later; the INVITE is not in the excerpt.
    for (log, gap) in [("a", 33), ("b", 34)] {
        let path =
            format!("tests/real-world/logs/voiceip-tinyphone-37-call-drops-on-answer-{log}.log");
        assert!(root().join(&path).exists(), "{path}");
        let out = sipflow(&["check", "--format", "json", &path]);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("check JSON");
        let found: Vec<_> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .collect();
        assert_eq!(found.len(), 1, "{}", out.stdout);
        assert_eq!(found[0]["rule"], "bye-right-after-answer");
        assert_eq!(found[0]["severity"], "warning");
        let m = found[0]["message"].as_str().unwrap_or_default();
        assert!(m.starts_with("the caller (the UA that wrote"), "{m}");
        assert!(
            m.contains(&format!("went out at most {gap} ms after the ACK")),
            "{m}"
        );
        assert!(
            m.contains("the INVITE and its answer are not in the input"),
            "{m}"
        );
    }
}

#[test]
fn a_caller_that_drops_an_answer_it_cannot_use_is_no_common_codec() {
    // The pjsua2 caller ends the call at once with `Reason: SIP ;cause=415 ;text="SDP
    // negotiation failed"`: no-common-codec is the problem, the timing is info.
    let input = "rules-call-extra/answer-g729/caller.log";
    let found = findings(&[], &[input]);
    assert_eq!(
        rules(&found),
        [
            ("no-common-codec", "error"),
            ("bye-right-after-answer", "info")
        ]
    );
    let note = "(info here: `no-common-codec` reports the cause, on the same call)";
    assert!(found[1].2.contains(note), "{}", found[1].2);
    // Without no-common-codec, the timing is the warning.
    let alone = findings(&["--ignore", "no-common-codec"], &[input]);
    assert_eq!(rules(&alone), [("bye-right-after-answer", "warning")]);
}
