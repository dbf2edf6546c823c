//! Severity follows the evidence (issue 13, `docs/rules/README.md`): what each recorded fixture's
//! findings are worth, branch by branch; inputs that end before a transaction's timer (a
//! recording's prefix, as an excerpt or a capture that stops gives it) are not timeouts; one
//! problem gives one error; the user's overrides win.

use sipflow::dialog::{self, CorrelateOptions};
use sipflow::event::Timestamp;
use sipflow::ingest::{self, IngestOptions};
use sipflow::rules::{self, Finding, RuleSettings, Severity};

use super::common::{
    Found, check_doc, check_fixtures, data, fixture, found, public_trace, sipflow,
};
use super::rule_cases::severities;

/// (rule, inputs, the severities of its findings with `--select RULE`), for the recorded
/// fixtures of every rule whose severity depends on the evidence.
const PINS: &[(&str, &[&str], &[&str])] = &[
    // Answered 200 by a lenient UA: the risk is the next strict hop.
    (
        "missing-mandatory-header",
        &["rules-message-extra/missing-max-forwards/options.pcap"],
        &["warning"],
    ),
    // Refused with 400 (INVITE), the ACK of the 400 that shows nothing more (a warning: an
    // anomaly worth a look), dropped and unanswered while the capture covers Timer F (OPTIONS).
    (
        "missing-mandatory-header",
        &["rules-severity/strict-proxy/call.pcap"],
        &["error", "warning", "error"],
    ),
    // The ACK of a 200 dropped by the proxy: the callee kept retransmitting its 200.
    (
        "missing-mandatory-header",
        &["rules-severity/ack-dropped/call.pcap"],
        &["error"],
    ),
    // The caller's own log shows its INVITE session ending at the 302 (a pjsua2 Call whose
    // onCallRedirected returns the default STOP); the capture alone ends 1.5 s after it.
    (
        "redirect-not-followed",
        &["rules/redirect-not-followed/caller.log"],
        &["error"],
    ),
    (
        "redirect-not-followed",
        &["rules/redirect-not-followed/call.pcap"],
        &["info"],
    ),
    (
        "content-length-mismatch",
        &["rules-message-extra/content-length-mismatch/message.pcap"],
        &["warning"],
    ),
    (
        "content-length-mismatch",
        &["rules-severity/strict-proxy/call.pcap"],
        &["error"],
    ),
    // pjsip refuses an INVITE whose application/sdp body is not SDP (400 Bad SDP); a SIPp UAS
    // answers the same INVITE 200 without reading it.
    (
        "invalid-sdp",
        &["rules-message-extra/invalid-sdp/refused.pcap"],
        &["error"],
    ),
    (
        "invalid-sdp",
        &["rules-message-extra/invalid-sdp/callee.log"],
        &["error"],
    ),
    (
        "invalid-sdp",
        &["rules-message-extra/invalid-sdp/answered.pcap"],
        &["warning"],
    ),
    // A stale-nonce challenge the client followed: an explanation.
    (
        "auth-failed",
        &[
            "rules-severity/stale-nonce/ua.log",
            "rules-severity/stale-nonce/registrar.msg",
        ],
        &["info"],
    ),
    // A wrong password, never accepted.
    ("auth-failed", &["rules/auth-failed/ua.log"], &["error"]),
    (
        "truncated-log-record",
        &["big-invite-cut/caller.log"],
        &["info"],
    ),
    ("no-message-dumps", &["no-dumps/caller.log"], &["info"]),
    // A BYE answered 481: the call is over anyway; a re-INVITE answered 481 failed.
    (
        "unknown-dialog",
        &["rules/unknown-dialog/bye-481/caller.log"],
        &["warning"],
    ),
    (
        "unknown-dialog",
        &["rules/unknown-dialog/reinvite-481/call.pcap"],
        &["error", "warning"],
    ),
    // Rejected with 500 as RFC 3261 §12.2.2 says: the INFO failed.
    (
        "cseq-not-increasing",
        &["rules-message-extra/cseq-lower-info/call.pcap"],
        &["error"],
    ),
    // The callee hung up for want of a refresh.
    (
        "session-timer-failure",
        &["rules-call-extra/session-expired/call.pcap"],
        &["error"],
    ),
    // The recordings end 0.4 s and 3 s after the 422: the retry may be outside them.
    (
        "session-timer-failure",
        &["rules-call-extra/session-422/call.pcap"],
        &["info"],
    ),
    // The caller rang and gave up with CANCEL (threshold lowered to 5 s by the case's config):
    // a long ring is people, not a fault.
    (
        "stuck-in-proceeding",
        &["rules/stuck-in-proceeding/caller.log"],
        &["info"],
    ),
    (
        "invite-timeout",
        &["rules/invite-timeout/call.pcap"],
        &["error"],
    ),
    // The log says the INVITE could not be sent (connection refused): no response was due.
    (
        "invite-timeout",
        &["rules-message-extra/transport-error/caller.log"],
        &[],
    ),
    ("missing-ack", &["rules/missing-ack/call.pcap"], &["error"]),
    (
        "registration-failed",
        &["rules/retransmission-storm/register-no-listener/call.pcap"],
        &["error"],
    ),
    (
        "no-common-codec",
        &["rules/no-common-codec/uas-488/caller.log"],
        &["error"],
    ),
    (
        "cancel-answer-race",
        &["rules/cancel-answer-race/call.pcap"],
        &["warning"],
    ),
    (
        "transport-error",
        &["rules-message-extra/transport-error/caller.log"],
        &["error", "error"],
    ),
    // The connection came up after 7 s: the REGISTER was late, not lost.
    (
        "slow-transport-connect",
        &["rules-net/slow-connect/ua.log"],
        &["warning"],
    ),
    // After 63.8 s: the REGISTER's transaction had timed out at 32 s.
    (
        "slow-transport-connect",
        &["rules-net/slow-connect-timeout/ua.log"],
        &["error"],
    ),
    (
        "thread-not-registered",
        &["rules-message-extra/thread-not-registered/app.console.log"],
        &["error"],
    ),
];

#[test]
fn recorded_fixtures_get_the_severity_their_evidence_supports() {
    for &(rule, inputs, want) in PINS {
        assert_eq!(severities(rule, inputs), want, "{rule}: {inputs:?}");
    }
}

/// The findings of `check --format json` (all rules) as (rule, severity, message).
fn check(extra: &[&str], inputs: &[&str]) -> (i32, Vec<Found>) {
    check_fixtures(extra, inputs)
}

fn of<'a>(found: &'a [(String, String, String)], rule: &str) -> Vec<&'a (String, String, String)> {
    found.iter().filter(|f| f.0 == rule).collect()
}

#[test]
fn a_strict_proxy_turns_a_missing_header_into_an_error() {
    let (code, found) = check(&[], &["rules-severity/strict-proxy/call.pcap"]);
    assert_eq!(code, 1);
    let mmh = of(&found, "missing-mandatory-header");
    assert_eq!(mmh.len(), 3, "{found:#?}");
    assert!(
        mmh[0].2.contains("refused with 400 Missing Max-Forwards"),
        "{mmh:?}"
    );
    assert!(mmh[1].2.starts_with("the ACK"), "{mmh:?}");
    assert!(mmh[2].2.contains("got no response at all"), "{mmh:?}");
    let cl = of(&found, "content-length-mismatch");
    assert!(
        cl[0]
            .2
            .contains("refused with 400 Content-Length mis-match"),
        "{cl:?}"
    );
    // The same request answered 200 by a lenient UA: no error, `--fail-on error` passes.
    let (code, found) = check(
        &[],
        &["rules-message-extra/missing-max-forwards/options.pcap"],
    );
    assert_eq!(code, 0, "{found:#?}");
    assert!(
        of(&found, "missing-mandatory-header")[0]
            .2
            .contains("answered 200 OK")
    );
}

#[test]
fn a_stale_nonce_is_a_race_not_a_wrong_password() {
    let inputs = [
        "rules-severity/stale-nonce/ua.log",
        "rules-severity/stale-nonce/registrar.msg",
        "rules-severity/stale-nonce/call.pcap",
    ];
    let (code, found) = check(&["--fail-on", "warning"], &inputs);
    assert_eq!(code, 0, "{found:#?}");
    let auth = of(&found, "auth-failed");
    assert_eq!(auth.len(), 1, "{found:#?}");
    assert_eq!(auth[0].1, "info");
    assert!(auth[0].2.contains("stale=true"), "{auth:?}");
    assert!(auth[0].2.contains("not a wrong password"), "{auth:?}");
    assert!(auth[0].2.contains("a later REGISTER succeeded"), "{auth:?}");
    assert!(of(&found, "registration-failed").is_empty(), "{found:#?}");
    // A wrong password: the same rule's error.
    let (code, found) = check(&[], &["rules/auth-failed/ua.log"]);
    assert_eq!(code, 1);
    let auth = of(&found, "auth-failed");
    assert!(auth[0].2.contains("wrong password"), "{auth:?}");
}

/// The findings of rule `name` on `inputs` (relative to `fixtures/`), keeping only the events
/// up to `secs` after the first one: what an excerpt or a capture that stops there gives.
fn prefix(name: &str, inputs: &[&str], secs: f64) -> Vec<Finding> {
    let paths: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
    let ingested = ingest::ingest(&paths, &IngestOptions::default());
    assert!(ingested.errors.is_empty(), "{:?}", ingested.errors);
    let t0 = ingested.events.first().map(|e| e.ts()).unwrap_or_default();
    let end = Timestamp {
        micros: t0.micros + (secs * 1e6) as i64,
        ..t0
    };
    let events = ingested
        .events
        .into_iter()
        .filter(|e| e.ts() <= end)
        .collect();
    let model = dialog::correlate(events, &CorrelateOptions::default());
    let settings = RuleSettings {
        select: vec![rules::lookup(name).expect("rule").code],
        ..RuleSettings::default()
    };
    rules::run(&rules::Context::new(&model, &settings, &ingested.inputs))
}

fn severities_of(found: &[Finding]) -> Vec<Severity> {
    found.iter().map(|f| f.severity).collect()
}

#[test]
fn an_input_that_ends_before_the_timer_shows_no_timeout() {
    // An INVITE retransmitted without an answer for 32 s: a timeout. The same recording cut
    // after 5 s (four copies) is a warning, cut after 0.2 s (one copy) an explanation.
    let inputs = ["rules/invite-timeout/call.pcap"];
    assert_eq!(
        severities_of(&prefix("invite-timeout", &inputs, 60.0)),
        [Severity::Error]
    );
    let cut = prefix("invite-timeout", &inputs, 5.0);
    assert_eq!(severities_of(&cut), [Severity::Warning]);
    assert!(
        cut[0].message.contains("which ends 3.5 s after it"),
        "{cut:?}"
    );
    let cut = prefix("invite-timeout", &inputs, 0.2);
    assert_eq!(severities_of(&cut), [Severity::Info]);
    assert!(cut[0].message.contains("had not yet run out"), "{cut:?}");

    // The same for a REGISTER and Timer F.
    let inputs = ["rules/retransmission-storm/register-no-listener/call.pcap"];
    assert_eq!(
        severities_of(&prefix("registration-failed", &inputs, 60.0)),
        [Severity::Error]
    );
    assert_eq!(
        severities_of(&prefix("registration-failed", &inputs, 8.0)),
        [Severity::Warning]
    );
    let cut = prefix("registration-failed", &inputs, 0.2);
    assert_eq!(severities_of(&cut), [Severity::Info]);
    assert!(
        cut[0]
            .message
            .contains("the input, which ends 0.0 s after it"),
        "{cut:?}"
    );

    // A 2xx retransmitted for want of an ACK: an error once the 32 s are in the input, a
    // warning while the answerer is still waiting.
    let inputs = ["rules/missing-ack/call.pcap"];
    assert_eq!(
        severities_of(&prefix("missing-ack", &inputs, 60.0)),
        [Severity::Error]
    );
    assert_eq!(
        severities_of(&prefix("missing-ack", &inputs, 5.0)),
        [Severity::Warning]
    );
    // Cut right after the 2xx: nothing shows a failure yet.
    let cut = prefix("missing-ack", &inputs, 0.1);
    assert_eq!(severities_of(&cut), [Severity::Info], "{cut:?}");
    assert!(
        cut[0].message.contains("has no ACK in the input"),
        "{cut:?}"
    );
}

#[test]
fn one_problem_gives_one_error_and_overrides_win() {
    // A REGISTER refused with 403 after a challenge: auth-failed's error; registration-failed
    // on the same 403 is info and names it.
    let inputs = ["register-403/ua.log", "register-403/registrar.msg"];
    let (code, found) = check(&[], &inputs);
    assert_eq!(code, 1);
    let errors: Vec<&str> = found
        .iter()
        .filter(|f| f.1 == "error")
        .map(|f| f.0.as_str())
        .collect();
    assert_eq!(errors, ["auth-failed"], "{found:#?}");
    let reg = of(&found, "registration-failed");
    assert_eq!(reg[0].1, "info");
    assert!(
        reg[0].2.contains("`auth-failed` reports this as an error"),
        "{reg:?}"
    );
    // The user's word wins over the evidence and over the precedence.
    let (_, found) = check(&["--severity", "registration-failed=error"], &inputs);
    assert_eq!(of(&found, "registration-failed")[0].1, "error");
    assert_eq!(of(&found, "auth-failed")[0].1, "error");
    // With auth-failed lowered by the user, registration-failed is the one error.
    let (code, found) = check(&["--severity", "auth-failed=warning"], &inputs);
    assert_eq!(code, 1);
    assert_eq!(of(&found, "auth-failed")[0].1, "warning");
    assert_eq!(of(&found, "registration-failed")[0].1, "error");
    // A warning raised by the user fails `--fail-on error`; a bad override is a usage error.
    let options = ["rules-message-extra/missing-max-forwards/options.pcap"];
    let (code, _) = check(&["--severity", "missing-mandatory-header=error"], &options);
    assert_eq!(code, 1);
    let run = sipflow(&["check", "--severity", "nope=error", &fixture(options[0])]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = sipflow(&[
        "check",
        "--severity",
        "auth-failed=loud",
        &fixture(options[0]),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

/// Every output that explains a call's final status, for `inputs`, in one window and in
/// windows of 16 events.
fn status_outputs(inputs: &[&str]) -> Vec<(String, String)> {
    let paths: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
    let mut out = Vec::new();
    for window in ["window-events=100000", "window-events=16"] {
        for cmd in [
            &["calls"][..],
            &["calls", "--format", "json"],
            &["flow"],
            &["check", "--format", "json"],
            &["report", "-o", "-"],
        ] {
            let mut args: Vec<&str> = cmd.to_vec();
            args.extend(["--limit", window]);
            args.extend(paths.iter().map(String::as_str));
            let run = sipflow(&args);
            assert!(matches!(run.code, 0 | 1), "{args:?}: {}", run.stderr);
            // The report's page, and its call list and conversations (gzipped in the page).
            let text = if cmd[0] == "report" {
                let (index, chunks) = data(&run.stdout);
                format!("{}\n{index}\n{chunks:?}", run.stdout)
            } else {
                run.stdout
            };
            out.push((format!("{cmd:?} {window}"), text));
        }
    }
    out
}

#[test]
fn a_diagnosis_is_never_contradicted() {
    // The seed bug: PJSIP sent 603 for a Call object the app let go. No output may say the
    // callee declined; each gives the diagnosis.
    for (what, text) in
        status_outputs(&["call-freed-early/caller.log", "call-freed-early/callee.log"])
    {
        assert!(!text.contains("explicitly declined"), "{what}: {text}");
        assert!(
            text.contains("Nobody declined this call") && text.contains("call-object-freed-early"),
            "{what}: {text}"
        );
    }
    // A deliberate 603 keeps the code's meaning everywhere.
    for (what, text) in status_outputs(&["decline-603/caller.log", "decline-603/callee.log"]) {
        assert!(text.contains("explicitly declined"), "{what}: {text}");
        assert!(!text.contains("Nobody declined"), "{what}: {text}");
        assert!(!text.contains("diagnosed_by"), "{what}: {text}");
    }
    // `sipflow explain 603` has no trace: the generic meaning.
    let run = sipflow(&["explain", "603"]);
    assert!(run.stdout.contains("explicitly declined"), "{}", run.stdout);
}

#[test]
fn the_outcome_word_and_call_rejected_agree() {
    // 486 is "busy" in the calls table, and call-rejected says busy; 603 "rejected" in both.
    let (_, found) = check(&[], &["busy-486/caller.log"]);
    assert!(
        of(&found, "call-rejected")[0]
            .2
            .starts_with("callee busy (486 Busy Here)")
    );
    let table = sipflow(&["calls", &fixture("busy-486/caller.log")]).stdout;
    assert!(table.contains(" busy "), "{table}");
    let (_, found) = check(&[], &["decline-603/callee.log"]);
    assert!(
        of(&found, "call-rejected")[0]
            .2
            .starts_with("call rejected with 603")
    );
}

#[test]
fn the_report_summary_gives_the_findings_severities_not_the_rules_defaults() {
    // unknown-dialog defaults to error; its finding on a BYE answered 481 is a warning.
    let run = sipflow(&[
        "report",
        "-o",
        "-",
        &fixture("rules/unknown-dialog/bye-481/call.pcap"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("SF007 unknown-dialog</td><td>warning</td>"),
        "{}",
        run.stdout
    );
}

/// (rule, severity, message) of every finding of `check --format json` on `path`.
fn check_path(extra: &[&str], path: &str) -> (i32, Vec<Found>) {
    let (code, doc) = check_doc(extra, &[path]);
    (code, found(&doc))
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn a_healthy_call_without_max_forwards_passes_fail_on_error() {
    // The reproduction: a proxy's INVITEs and ACK without Max-Forwards, answered.
    let path = public_trace("heplify/rtp_rtcp_sip_ipv4_udp.pcap");
    let (code, found) = check_path(&[], &path);
    assert_eq!(code, 0, "{found:#?}");
    let mmh = of(&found, "missing-mandatory-header");
    assert!(
        mmh.iter()
            .any(|f| f.1 == "warning" && f.2.starts_with("the INVITE")),
        "{mmh:?}"
    );
    assert!(
        mmh.iter()
            .any(|f| f.1 == "warning" && f.2.starts_with("the ACK")),
        "{mmh:?}"
    );
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn an_ack_without_max_forwards_that_arrives_is_a_warning() {
    // The Wireshark sample (sngrep's copy and zeek's): the phone's ACKs carry no Max-Forwards;
    // nothing shows them refused, but the anomaly is worth a look.
    for rel in ["sngrep/aaa.pcap", "zeek/wireshark.pcap"] {
        let path = public_trace(rel);
        let (_, found) = check_path(&[], &path);
        let acks: Vec<_> = of(&found, "missing-mandatory-header")
            .into_iter()
            .filter(|f| f.2.starts_with("the ACK"))
            .collect();
        assert_eq!(acks.len(), 1, "{rel}: {found:#?}");
        assert_eq!(acks[0].1, "warning", "{rel}: {acks:?}");
        assert!(acks[0].2.contains("7 such messages"), "{acks:?}");
    }
}

#[test]
fn a_dropped_ack_shows_in_the_retransmitted_200() {
    let (code, found) = check(&[], &["rules-severity/ack-dropped/call.pcap"]);
    assert_eq!(code, 1);
    let mmh = of(&found, "missing-mandatory-header");
    assert_eq!(mmh.len(), 1, "{found:#?}");
    assert_eq!(mmh[0].1, "error");
    // Counted on the way to the caller only (the capture sees each copy on both sides of the
    // proxy).
    assert!(
        mmh[0]
            .2
            .contains("the response it acknowledges was sent 9 more times after it"),
        "{mmh:?}"
    );
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn headers_a_strict_parser_rejects_are_malformed() {
    // suricata-verify's synthetic INVITEs: a From display name `\"arik\"` (quotes escaped
    // twice), two To headers in one of them, and 100 bytes after the 272 that `l:` declares.
    for (rel, twice) in [
        (
            "suricata-verify/sip-compact-form_sip_compact_form.pcap",
            false,
        ),
        (
            "suricata-verify/sip-header-multi-value_sip_header_multi_val.pcap",
            true,
        ),
    ] {
        let path = public_trace(rel);
        let (_, found) = check_path(&[], &path);
        let bad = of(&found, "malformed-message");
        assert_eq!(bad.len(), 1, "{rel}: {found:#?}");
        assert_eq!(bad[0].1, "warning");
        assert!(
            bad[0].2.contains("the display name `\\\"arik\\\"`"),
            "{bad:?}"
        );
        assert_eq!(bad[0].2.contains("a second To header"), twice, "{bad:?}");
        let cl = of(&found, "content-length-mismatch");
        assert_eq!(cl.len(), 1, "{rel}: {found:#?}");
        assert_eq!(cl[0].1, "warning");
        assert!(
            cl[0]
                .2
                .contains("follow the 272-byte body declared by Content-Length")
                && cl[0].2.contains("the body it reads is cut"),
            "{cl:?}"
        );
    }
    // A 401 whose WWW-Authenticate parameters are `realm=\"…\"`.
    {
        let path = public_trace("suricata-verify/sip-tcp-pattern-matching_sip.pcap");
        let (_, found) = check_path(&[], &path);
        let bad = of(&found, "malformed-message");
        assert_eq!(bad.len(), 1, "{found:#?}");
        assert_eq!(bad[0].1, "warning");
        assert!(
            bad[0].2.starts_with("the 401 response")
                && bad[0].2.contains("WWW-Authenticate: the value of `realm`"),
            "{bad:?}"
        );
    }
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn legal_but_odd_messages_are_not_malformed() {
    // Real traffic that writes odd but legal things: compact forms, quoted display names,
    // `;lr`, IPv6, comma lists, Digest challenges and credentials. None is malformed.
    for rel in [
        "sngrep/aaa.pcap",
        "heplify/rtp_rtcp_sip_ipv4_udp.pcap",
        "sngrep/ipv6frag.pcap",
        "zeek/sip-long-request-response-paths.pcap",
    ] {
        let path = public_trace(rel);
        let (_, found) = check_path(&["--select", "malformed-message"], &path);
        assert!(found.is_empty(), "{rel}: {found:#?}");
    }
}

#[test]
fn an_invite_sent_again_8_s_later_is_a_warning() {
    // D-Modem issue #4: the same INVITE (same branch) at lines 3 and 37, 8.0 s apart; the
    // excerpt ends inside the second copy, before its Call-ID and CSeq, and before Timer B.
    let log = "tests/real-world/logs/d-modem-4-invite-retransmitted-no-answer.log";
    let (_, found) = check_path(&[], log);
    let timeout = of(&found, "invite-timeout");
    assert_eq!(timeout.len(), 1, "{found:#?}");
    assert_eq!(timeout[0].1, "warning");
    assert!(
        timeout[0]
            .2
            .contains("sent 2 times (1 retransmission over 8.0 s)"),
        "{timeout:?}"
    );
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn public_traces_wrong_passwords_races_and_refused_reinvites() {
    // The Wireshark sample: 403 "Wrong password" to INVITEs with credentials fail the calls;
    // a REGISTER refused with "401 nonce has changed" and then accepted is a race.
    {
        let path = public_trace("zeek/wireshark.pcap");
        let (_, found) = check_path(&[], &path);
        let auth = of(&found, "auth-failed");
        let race: Vec<_> = auth
            .iter()
            .filter(|f| f.2.contains("was challenged again"))
            .collect();
        assert_eq!(race.len(), 1, "{auth:#?}");
        assert_eq!(race[0].1, "warning");
        assert!(race[0].2.contains("401 nonce has changed"), "{race:?}");
        let invites = auth
            .iter()
            .filter(|f| f.2.starts_with("INVITE") && f.1 == "error");
        assert_eq!(invites.count(), 2, "{auth:#?}");
        // The registration that failed and recovered is not a second error on the same 403.
        assert!(
            of(&found, "registration-failed")
                .iter()
                .all(|f| f.1 != "error"),
            "{found:#?}"
        );
    }
    // A fax call's re-INVITE to T.38 refused with 488: the call goes on with audio.
    {
        let path = public_trace("ndpi/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap");
        let (_, found) = check_path(&[], &path);
        let codec = of(&found, "no-common-codec");
        assert!(
            !codec.is_empty() && codec.iter().all(|f| f.1 == "warning"),
            "{codec:#?}"
        );
    }
}

#[test]
fn a_message_cut_by_the_input_is_not_malformed() {
    // A user's excerpt that starts inside a 200 and ends inside its retransmission
    // (`SIP/2.`): the input holds only part of those messages.
    let log = "tests/real-world/logs/pjproject-2342-tcp-200ok-retransmit-no-ack.log";
    let (_, found) = check_path(&[], log);
    for rule in [
        "malformed-message",
        "missing-mandatory-header",
        "content-length-mismatch",
    ] {
        assert!(of(&found, rule).is_empty(), "{rule}: {found:#?}");
    }
    assert!(found.iter().all(|f| f.1 != "error"), "{found:#?}");
}
