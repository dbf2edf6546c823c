//! `sipflow check`: exit codes, the seed bug told apart from a deliberate decline, clean calls
//! without findings, every output format, selection, configuration, `rules` and `explain`.

use super::common::{
    check_doc, check_output, fixture, fixtures, found, root, sipflow, sipflow_with_stdin,
};

/// `check --format json` on fixture inputs: (exit code, document).
fn check_json(extra: &[&str], inputs: &[&str]) -> (i32, serde_json::Value) {
    check_doc(extra, &fixtures(inputs))
}

/// (rule name, severity) of every finding.
fn findings(doc: &serde_json::Value) -> Vec<(String, String)> {
    found(doc).into_iter().map(|(r, s, _)| (r, s)).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn the_seed_bug_is_an_error_and_fails_the_build() {
    let (code, doc) = check_json(
        &[],
        &["call-freed-early/caller.log", "call-freed-early/callee.log"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        findings(&doc),
        pairs(&[
            ("call-object-freed-early", "error"),
            ("call-rejected", "info")
        ])
    );
    let f = &doc["findings"][0];
    assert_eq!(f["code"], "SF001");
    assert_eq!(f["call"], 1);
    assert_eq!(f["input"], "fixtures/call-freed-early/callee.log");
    assert_eq!(f["line"], 98, "points at `Answering call 0: code=200`");
    assert!(
        f["help"]
            .as_str()
            .is_some_and(|h| h.contains("keep a reference"))
    );
    let labels: Vec<&str> = f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["label"].as_str())
        .collect();
    assert!(
        labels
            .iter()
            .any(|l| l.contains("hanging up") || l.contains("destructor")),
        "{labels:?}"
    );
    assert_eq!(doc["summary"]["exit_code"], 1);
}

#[test]
fn a_deliberate_decline_is_only_explained() {
    let (code, doc) = check_json(&[], &["decline-603/caller.log", "decline-603/callee.log"]);
    assert_eq!(code, 0);
    assert_eq!(findings(&doc), pairs(&[("call-rejected", "info")]));
    let msg = doc["findings"][0]["message"].as_str().expect("message");
    assert!(
        msg.contains("603 Decline") && msg.contains("declined"),
        "{msg}"
    );
}

#[test]
fn freed_just_after_the_answer_is_the_same_error() {
    let (code, doc) = check_json(&[], &["call-freed-after-answer/callee.log"]);
    assert_eq!(code, 1);
    // The callee's BYE right after the ACK is also what bye-right-after-answer reports; it
    // leaves the diagnosis to call-object-freed-early (one problem, one error).
    assert_eq!(
        findings(&doc),
        pairs(&[
            ("call-object-freed-early", "error"),
            ("bye-right-after-answer", "info")
        ])
    );
    assert!(
        doc["findings"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("delayed a BYE"))
    );
}

#[test]
fn from_the_wire_alone_it_is_a_warning_asking_for_the_callee_log() {
    for input in [
        "call-freed-early/caller.log",
        "captures/pjsua-freed-early/call.pcap",
    ] {
        let (code, doc) = check_json(&[], &[input]);
        assert_eq!(code, 0, "{input}: a warning does not fail by default");
        assert_eq!(
            findings(&doc),
            pairs(&[
                ("call-object-freed-early", "warning"),
                ("call-rejected", "info")
            ]),
            "{input}"
        );
        assert!(
            doc["findings"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("callee's pjsip log"))
        );
        let (code, _) = check_json(&["--fail-on", "warning"], &[input]);
        assert_eq!(code, 1, "{input}");
    }
    let (_, doc) = check_json(&[], &["captures/pjsua-freed-early/call.pcap"]);
    assert_eq!(doc["findings"][0]["frame"], serde_json::json!([3]));
}

#[test]
fn clean_calls_have_no_findings() {
    for inputs in [
        &["basic-call/caller.log", "basic-call/callee.log"][..],
        &["tcp-call/caller.log", "tcp-call/callee.log"],
        &["ipv6-call/caller.log", "ipv6-call/callee.log"],
        &["python-logging/caller.log", "python-logging/callee.log"],
        &[
            "captures/pjsua-udp/caller.log",
            "captures/pjsua-udp/call.pcap",
        ],
        &["captures/sipp-tcp-big/tcp.pcap"],
        &["register-401/ua.log", "register-401/registrar.msg"],
    ] {
        let (code, doc) = check_json(&[], inputs);
        assert_eq!((code, findings(&doc)), (0, vec![]), "{inputs:?}");
    }
    // The B2BUA's calls are clean too, but its 1,330-byte INVITE went over UDP: a risk, not a
    // fault (RFC 3261 §18.1.1 wants TCP above 1,300 bytes).
    let (code, doc) = check_json(
        &[],
        &["b2bua/caller.log", "b2bua/b2bua.log", "b2bua/callee.log"],
    );
    assert_eq!(
        (code, findings(&doc)),
        (0, pairs(&[("oversized-udp-message", "warning")]))
    );
}

#[test]
fn cut_records_and_logs_without_dumps_are_reported() {
    let (_, doc) = check_json(&[], &["big-invite-cut/caller.log"]);
    // The message went on the wire whole: the cut log record is an explanation, not a fault.
    assert_eq!(
        findings(&doc),
        pairs(&[
            ("truncated-log-record", "info"),
            ("oversized-udp-message", "warning"),
            ("call-rejected", "info")
        ])
    );
    assert_eq!(doc["findings"][0]["line"], 61);
    let (_, doc) = check_json(&[], &["no-dumps/caller.log"]);
    assert_eq!(findings(&doc), pairs(&[("no-message-dumps", "info")]));
    assert!(
        doc["findings"][0]["help"]
            .as_str()
            .is_some_and(|h| h.contains("level"))
    );
}

#[test]
fn check_reads_stdin() {
    let bytes = std::fs::read(root().join(fixture("call-freed-early/callee.log"))).expect("log");
    let run = sipflow_with_stdin(&["check", "--format", "concise", "-"], &bytes);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("-:98: error[SF001 call-object-freed-early] (call 1)"),
        "{}",
        run.stdout
    );
}

#[test]
fn select_ignore_and_fail_on() {
    let inputs = ["call-freed-early/caller.log", "call-freed-early/callee.log"];
    let (code, doc) = check_json(&["--ignore", "SF001"], &inputs);
    assert_eq!(
        (code, findings(&doc)),
        (0, pairs(&[("call-rejected", "info")]))
    );
    let (code, doc) = check_json(&["--select", "call-rejected"], &inputs);
    assert_eq!(
        (code, findings(&doc)),
        (0, pairs(&[("call-rejected", "info")]))
    );
    let (code, _) = check_json(&["--select", "call-rejected", "--fail-on", "info"], &inputs);
    assert_eq!(code, 1);
    let run = sipflow(&["check", "--select", "no-such-rule", &fixture(inputs[0])]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown rule 'no-such-rule'"),
        "{}",
        run.stderr
    );
    let run = sipflow(&["check", "--fail-on", "fatal", &fixture(inputs[0])]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid severity 'fatal'"),
        "{}",
        run.stderr
    );
}

#[test]
fn config_file_sets_options_and_bad_ones_point_at_the_key() {
    let dir = std::env::temp_dir().join(format!("sipflow-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "fail-on = \"info\"\n[severity]\ncall-rejected = \"warning\"\n",
    )
    .expect("write");
    let inputs = ["decline-603/caller.log", "decline-603/callee.log"];
    let (code, doc) = check_json(&["--config", &good.to_string_lossy()], &inputs);
    assert_eq!(
        (code, findings(&doc)),
        (1, pairs(&[("call-rejected", "warning")]))
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "select = [\"call-rejected\"]\nfail-onn = \"info\"\n").expect("write");
    let run = sipflow(&[
        "check",
        "--config",
        &bad.to_string_lossy(),
        &fixture(inputs[0]),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown field `fail-onn`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("2 │ fail-onn"), "{}", run.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The SARIF document's shape and content; its validity against the official schema is checked
/// by `sarif::sarif_is_valid_sarif_2_1_0` (environment tests: it needs Node.js and Ajv).
#[test]
fn sarif_is_pretty_json_with_the_findings() {
    let text = check_output("sarif");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("SARIF JSON");
    // The results are written one by one, as windows end: the document is still exactly what
    // the pretty printer makes of it.
    let pretty = serde_json::to_string_pretty(&doc).expect("pretty") + "\n";
    assert!(pretty == text, "not pretty-printed:\n{text}");
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    // Among them oversized-udp-message: big-invite-cut's 3,958-byte INVITE went over UDP.
    assert_eq!(results.len(), 5);
    assert_eq!(results[0]["ruleId"], "SF001");
    assert_eq!(results[0]["level"], "error");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        98
    );
}

#[test]
fn junit_is_xml_with_one_test_case_per_call() {
    let xml = check_output("junit");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2, "two calls");
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].attribute("type"),
        Some("SF001 call-object-freed-early")
    );
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("suite");
    assert_eq!(suite.attribute("tests"), Some("2"));
    assert_eq!(suite.attribute("failures"), Some("1"));
}

#[test]
fn github_annotations() {
    // The seed bug (an error and its explained 603), a cut log record (info) and an OPTIONS
    // without Max-Forwards that was answered (a warning): one command of each kind.
    let run = sipflow(&[
        "check",
        "--format",
        "github",
        &fixture("call-freed-early/caller.log"),
        &fixture("call-freed-early/callee.log"),
        &fixture("big-invite-cut/caller.log"),
        &fixture("rules-message-extra/missing-max-forwards/options.pcap"),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let out = run.stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(
        lines[0].starts_with(
            "::error file=fixtures/call-freed-early/callee.log,line=98,title=SF001 call-object-freed-early::"
        ),
        "{}",
        lines[0]
    );
    assert!(lines.iter().any(|l| l.starts_with("::warning ")));
    assert!(lines.iter().any(|l| l.starts_with("::notice ")));
    assert!(lines.iter().all(|l| !l.contains('\r')));
}

#[test]
fn jsonl_is_one_finding_per_line() {
    let out = check_output("jsonl");
    let rules: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .map(|v| v["rule"].as_str().expect("rule").to_string())
        .collect();
    assert_eq!(rules.len(), 5);
    assert_eq!(rules[0], "call-object-freed-early");
}

#[test]
fn rules_table_and_explain() {
    let run = sipflow(&["rules"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("SF001  call-object-freed-early"),
        "{}",
        run.stdout
    );
    let run = sipflow(&["explain", "call-object-freed-early"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .starts_with("SF001 call-object-freed-early (error, call scope)")
    );
    assert!(run.stdout.contains("## How to fix"));
    assert_eq!(sipflow(&["explain", "SF001"]).stdout, run.stdout);
    for (code, needle) in [
        ("100", "Trying"),
        ("603", "declined"),
        ("600", "Busy Everywhere"),
        ("486", "Busy Here"),
        ("301", "Contact"),
    ] {
        let run = sipflow(&["explain", code]);
        assert_eq!(run.code, 0, "{code}");
        assert!(run.stdout.contains(needle), "{code}: {}", run.stdout);
    }
    let run = sipflow(&["explain", "nonsense"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nothing to explain for 'nonsense'"));
}

#[test]
fn generated_rule_docs_are_current() {
    let run = sipflow(&["rules", "--docs", "docs/rules", "--check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let dir = std::env::temp_dir().join(format!("sipflow-docs-{}", std::process::id()));
    let dir_s = dir.to_string_lossy().into_owned();
    let run = sipflow(&["rules", "--docs", &dir_s, "--check"]);
    assert_eq!(run.code, 1, "an empty directory is out of date");
    assert_eq!(sipflow(&["rules", "--docs", &dir_s]).code, 0);
    std::fs::write(dir.join("gone-rule.md"), "old").expect("write");
    assert_eq!(
        sipflow(&["rules", "--docs", &dir_s, "--check"]).code,
        1,
        "orphan page"
    );
    assert_eq!(sipflow(&["rules", "--docs", &dir_s]).code, 0);
    assert!(!dir.join("gone-rule.md").exists());
    assert_eq!(sipflow(&["rules", "--docs", &dir_s, "--check"]).code, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
