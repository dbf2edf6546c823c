//! Every rule has a positive and a negative fixture: `check` on the positive reports the rule
//! (and exits 1 with `--fail-on warning`, 0 for an info rule); on the negative it reports
//! nothing from that rule and exits 0. The cases of each group of rules are in their own file.

use sipflow::dialog::{self, CorrelateOptions};
use sipflow::event::Event;
use sipflow::ingest::{self, IngestOptions};
use sipflow::rules::{self, RuleSettings};

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
            // no `Answering call`: freed before the app's answer from its loop, or while INCOMING
            &[
                "flagship/freed-no-answer/caller.log",
                "flagship/freed-no-answer/callee.log",
            ],
            &["flagship/freed-while-incoming/callee.log"],
            // the wire alone: PJSIP's two BYEs right after the ACK
            &["flagship/freed-after-answer/call.pcap"],
            &["call-freed-after-answer/caller.log"],
            // an excerpt from INCOMING -> DISCONNECTED to the ACK; quoted TX 603 + hangup line
            &["derive/call-freed-early.callee.tail.derived.log"],
            &["derive/freed-no-answer.callee.quote.derived.log"],
            // both logs in one millisecond
            &[
                "derive/call-freed-early.caller.samems.derived.log",
                "derive/call-freed-early.callee.samems.derived.log",
            ],
        ],
        negative: &[
            &["decline-603/caller.log", "decline-603/callee.log"],
            &["basic-call/caller.log", "basic-call/callee.log"],
            &["busy-486/caller.log", "busy-486/callee.log"],
            // declines on purpose without an answer line: `hanging up: code=603`
            &[
                "flagship/decline-hangup-603/caller.log",
                "flagship/decline-hangup-603/callee.log",
            ],
            &["derive/decline-hangup-603.callee.quote.derived.log"],
            // rang, then the user rejected it a second later (code 0 -> 603 after 180)
            &[
                "flagship/reject-after-ringing/caller.log",
                "flagship/reject-after-ringing/callee.log",
            ],
            // one BYE right after the ACK, on purpose: pjsua2 after CONFIRMED, SIPp
            &["flagship/hangup-after-confirmed/call.pcap"],
            &["flagship/sipp-bye-after-ack/call.pcap"],
            // an excerpt whose final status is visible and is not 603
            &["derive/busy-486.callee.tail.derived.log"],
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

pub(crate) fn all_cases() -> impl Iterator<Item = &'static RuleCase> {
    CORE.iter()
        .chain(super::rule_cases_calls::CASES)
        .chain(super::rule_cases_messages::CASES)
        .chain(super::rule_cases_traffic::CASES)
        .chain(super::rule_cases_net::CASES)
}

/// (exit code, (rule name, severity) of each finding) of `check --select RULE`.
fn run_with_severities(
    case: &RuleCase,
    inputs: &[&str],
    fail_on: &str,
) -> (i32, Vec<(String, String)>) {
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
    let found = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| Some((f["rule"].as_str()?.into(), f["severity"].as_str()?.into())))
        .collect();
    (out.code, found)
}

/// (exit code, rule names found) of `check --select RULE`.
fn run(case: &RuleCase, inputs: &[&str], fail_on: &str) -> (i32, Vec<String>) {
    let (code, found) = run_with_severities(case, inputs, fail_on);
    (code, found.into_iter().map(|(r, _)| r).collect())
}

/// The severities `check --select RULE` gives the rule's findings on `inputs` (relative to
/// `fixtures/`), in order.
pub fn severities(rule: &str, inputs: &[&str]) -> Vec<String> {
    let case = all_cases()
        .find(|c| c.rule == rule)
        .unwrap_or_else(|| panic!("{rule}: no fixture case"));
    run_with_severities(case, inputs, "error")
        .1
        .into_iter()
        .filter(|(r, _)| r == rule)
        .map(|(_, s)| s)
        .collect()
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
    for case in all_cases() {
        for inputs in case.positive {
            let (code, found) = run_with_severities(case, inputs, "warning");
            assert!(
                found.iter().any(|(r, _)| r == case.rule),
                "{}: {inputs:?} found {found:?}",
                case.rule
            );
            // Each finding's severity follows its evidence (`rule_severity.rs` pins them);
            // the exit code follows the findings' severities.
            let want = i32::from(found.iter().any(|(_, s)| s != "info"));
            assert_eq!(code, want, "{}: {inputs:?} {found:?}", case.rule);
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

/// One piece of evidence of a finding, resolved in-process: its label, and the text its span
/// covers in the raw bytes of its message (`None`: no span).
#[derive(Debug)]
pub struct Evidence {
    pub label: String,
    pub span_text: Option<String>,
}

/// The evidence of every finding of `rule` (a name) on `inputs` (relative to `fixtures/`),
/// finding by finding, from the library as `check` runs it (default settings).
pub fn evidence(rule: &str, inputs: &[&str]) -> Vec<Vec<Evidence>> {
    let names: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
    // Media counted, as `check` does: the media rules read it.
    let opts = IngestOptions {
        media: true,
        ..IngestOptions::default()
    };
    let ingested = ingest::ingest(&names, &opts);
    assert!(
        ingested.errors.is_empty(),
        "{inputs:?}: {:?}",
        ingested.errors
    );
    let model = dialog::correlate(ingested.events, &CorrelateOptions::default());
    let code = rules::lookup(rule)
        .unwrap_or_else(|| panic!("{rule}: no such rule"))
        .code;
    let settings = RuleSettings {
        select: vec![code],
        ..RuleSettings::default()
    };
    let ctx = rules::Context::new(&model, &settings, &ingested.inputs);
    rules::run(&ctx)
        .iter()
        .map(|f| {
            f.evidence
                .iter()
                .map(|e| {
                    let span_text = e.span.clone().map(|span| {
                        let Some(Event::Message(m)) = model.events.get(e.event) else {
                            panic!("{rule}: a span on event {} that is not a message", e.event);
                        };
                        let bytes = m.raw().get(span.clone()).unwrap_or_else(|| {
                            panic!(
                                "{rule}: span {span:?} outside the message ({} bytes)",
                                m.raw().len()
                            )
                        });
                        assert!(!bytes.is_empty(), "{rule}: empty span");
                        String::from_utf8_lossy(bytes).into_owned()
                    });
                    Evidence {
                        label: e.label.clone(),
                        span_text,
                    }
                })
                .collect()
        })
        .collect()
}

/// The text the span of the evidence labelled `label` covers, in the first finding that has
/// such evidence (`None` if that evidence has no span).
pub fn span_text<'a>(findings: &'a [Vec<Evidence>], label: &str) -> Option<&'a str> {
    let e = findings
        .iter()
        .flatten()
        .find(|e| e.label == label)
        .unwrap_or_else(|| panic!("no evidence labelled {label:?} in {findings:#?}"));
    e.span_text.as_deref()
}

#[test]
fn evidence_spans_fit_their_messages() {
    // `evidence` panics on a span that is empty, outside its message or on a log event (and
    // `rules::run` asserts the same in debug builds).
    let mut spans = 0;
    let mut rules_with_spans = std::collections::BTreeSet::new();
    for case in all_cases() {
        for inputs in case.positive.iter().filter(|_| case.args.is_empty()) {
            let findings = evidence(case.rule, inputs);
            assert!(!findings.is_empty(), "{}: {inputs:?}", case.rule);
            for e in findings.iter().flatten() {
                if let Some(text) = &e.span_text {
                    spans += 1;
                    rules_with_spans.insert(case.rule);
                    assert_eq!(text.trim(), text, "{}: {text:?}", case.rule);
                }
            }
        }
    }
    assert!(spans >= 50, "{spans} spans");
    assert!(rules_with_spans.len() >= 20, "{rules_with_spans:?}");
}

#[test]
fn malformed_message_points_at_the_parse_error() {
    // The request line says `SIP/2.O` (the letter O): the span is that byte.
    let found = evidence("malformed-message", &["malformed/options.pcap"]);
    let label = "not a SIP start line: expected `METHOD uri SIP/2.0` or `SIP/2.0 code reason`";
    assert_eq!(span_text(&found, label), Some("O"));
}

#[test]
fn call_rejected_points_at_the_status_line() {
    let found = evidence("call-rejected", &["busy-486/caller.log"]);
    assert_eq!(
        span_text(&found, "486 Busy Here"),
        Some("SIP/2.0 486 Busy Here")
    );
    let found = evidence(
        "call-object-freed-early",
        &["captures/pjsua-freed-early/call.pcap"],
    );
    assert_eq!(
        span_text(&found, "603 without Allow"),
        Some("SIP/2.0 603 Decline")
    );
    assert_eq!(span_text(&found, "the INVITE"), None);
}

#[test]
fn truncated_log_record_points_at_where_the_dump_stops() {
    let found = evidence("truncated-log-record", &["big-invite-cut/caller.log"]);
    let text = span_text(&found, "the dump ends here without --end msg--").expect("a span");
    // pjsip's log record limit cut the dump in the middle of an SDP attribute line.
    assert!(text.starts_with("a="), "{text:?}");
    assert!(!text.contains('\n'), "{text:?}");
}
