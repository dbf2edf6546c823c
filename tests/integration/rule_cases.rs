//! Every rule has a positive and a negative fixture: `check` on the positive reports the rule
//! (and exits 1 with `--fail-on warning`, 0 for an info rule); on the negative it reports
//! nothing from that rule and exits 0. The cases of each group of rules are in their own file.

use super::common::{fixture, sipflow};

/// One rule's fixtures. Inputs are relative to `fixtures/`; `args` go before them (e.g.
/// `--config` for thresholds).
pub struct RuleCase {
    pub rule: &'static str,
    pub args: &'static [&'static str],
    pub positive: &'static [&'static [&'static str]],
    pub negative: &'static [&'static [&'static str]],
}

const CORE: &[RuleCase] = &[
    RuleCase {
        rule: "call-object-freed-early",
        args: &[],
        positive: &[
            &["call-freed-early/caller.log", "call-freed-early/callee.log"],
            &["call-freed-after-answer/callee.log"],
            &["captures/pjsua-freed-early/call.pcap"],
        ],
        negative: &[
            &["decline-603/caller.log", "decline-603/callee.log"],
            &["basic-call/caller.log", "basic-call/callee.log"],
            &["busy-486/caller.log", "busy-486/callee.log"],
        ],
    },
    RuleCase {
        rule: "truncated-log-record",
        args: &[],
        positive: &[
            &["big-invite-cut/caller.log"],
            &["big-invite-cut/callee.log"],
        ],
        negative: &[
            &["basic-call/caller.log"],
            &["captures/pjsua-udp/call.pcap"],
        ],
    },
    RuleCase {
        rule: "malformed-message",
        args: &[],
        positive: &[&["malformed/options.pcap"]],
        negative: &[
            &["basic-call/caller.log"],
            &["captures/sipp-tcp-big/tcp.pcap"],
        ],
    },
    RuleCase {
        rule: "call-rejected",
        args: &[],
        positive: &[&["busy-486/caller.log"], &["decline-603/callee.log"]],
        negative: &[&["basic-call/caller.log"], &["cancel-ringing/caller.log"]],
    },
    RuleCase {
        rule: "no-message-dumps",
        args: &[],
        positive: &[&["no-dumps/caller.log"], &["no-dumps/callee.log"]],
        negative: &[&["basic-call/caller.log"]],
    },
];

fn all_cases() -> impl Iterator<Item = &'static RuleCase> {
    CORE.iter()
        .chain(super::rule_cases_calls::CASES)
        .chain(super::rule_cases_messages::CASES)
}

/// (exit code, rule names found) of `check --select RULE`.
fn run(case: &RuleCase, inputs: &[&str], fail_on: &str) -> (i32, Vec<String>) {
    let paths: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
    let mut args = vec![
        "check",
        "--format",
        "json",
        "--fail-on",
        fail_on,
        "--select",
        case.rule,
    ];
    args.extend_from_slice(case.args);
    args.extend(paths.iter().map(String::as_str));
    let out = sipflow(&args);
    assert!(matches!(out.code, 0 | 1), "{args:?}: {}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let rules = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect();
    (out.code, rules)
}

/// The registry as `sipflow rules` prints it: (name, severity).
fn registry() -> Vec<(String, String)> {
    sipflow(&["rules"])
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split_whitespace().skip(1);
            Some((cols.next()?.to_string(), cols.next()?.to_string()))
        })
        .collect()
}

#[test]
fn every_rule_has_a_positive_and_a_negative_fixture() {
    let registry = registry();
    for (name, _) in &registry {
        let case = all_cases().find(|c| c.rule == name);
        let case = case.unwrap_or_else(|| panic!("{name}: no fixture case"));
        assert!(
            !case.positive.is_empty() && !case.negative.is_empty(),
            "{name}"
        );
    }
    for case in all_cases() {
        assert!(
            registry.iter().any(|(n, _)| n == case.rule),
            "{}: not a rule",
            case.rule
        );
    }
}

#[test]
fn positive_fixtures_report_their_rule() {
    let registry = registry();
    for case in all_cases() {
        let severity = registry
            .iter()
            .find(|(n, _)| n == case.rule)
            .map(|(_, s)| s.as_str())
            .unwrap_or("?");
        for inputs in case.positive {
            let (code, found) = run(case, inputs, "warning");
            assert!(
                found.iter().any(|r| r == case.rule),
                "{}: {inputs:?} found {found:?}",
                case.rule
            );
            let want = if severity == "info" { 0 } else { 1 };
            assert_eq!(code, want, "{}: {inputs:?}", case.rule);
        }
    }
}

#[test]
fn negative_fixtures_do_not() {
    for case in all_cases() {
        for inputs in case.negative {
            let (code, found) = run(case, inputs, "error");
            assert_eq!((code, found), (0, vec![]), "{}: {inputs:?}", case.rule);
        }
    }
}
