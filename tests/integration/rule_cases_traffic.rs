//! Fixture cases of the traffic rules (scanner-traffic, oversized-udp-message,
//! transfer-failed, subscription-failed): recordings in `fixtures/rules-traffic/`, and the
//! public traces in `../shared/traces/public` they were studied on (ignored when absent).

use super::common::{Found, check_doc, fixtures, found, public_trace};
use super::rule_cases::{RuleCase, evidence, span_text};

pub const CASES: &[RuleCase] = &[
    RuleCase {
        rule: "scanner-traffic",
        args: &[],
        positive: &[&["rules-traffic/scanner-crack/scan.pcap"]],
        negative: &[
            // A proxy forwarding four users' REGISTERs, a phone re-registering every 10 s,
            // OPTIONS keepalives: all challenged and accepted, or answered.
            &[
                "rules-traffic/scanner-negative/ua.log",
                "rules-traffic/scanner-negative/register.pcap",
            ],
            // One user's wrong password, refused: auth-failed's, not an attack.
            &["register-403/ua.log", "register-403/registrar.msg"],
            &["register-401/ua.log", "register-401/registrar.msg"],
        ],
    },
    RuleCase {
        rule: "oversized-udp-message",
        args: &[],
        positive: &[
            &["rules-traffic/oversized-udp/lost/call.pcap"],
            &["rules-traffic/oversized-udp/answered/call.pcap"],
        ],
        negative: &[
            &["rules-traffic/oversized-udp/tcp/call.pcap"],
            &["basic-call/caller.log", "basic-call/callee.log"],
            &["captures/pjsua-udp/call.pcap"],
        ],
    },
    RuleCase {
        rule: "transfer-failed",
        args: &[],
        positive: &[
            &[
                "rules-traffic/transfer/target-busy/transferor.log",
                "rules-traffic/transfer/target-busy/transferee.log",
            ],
            &["rules-traffic/transfer/target-busy/call.pcap"],
            &["rules-traffic/transfer/refer-refused/transferor.log"],
            &["rules-traffic/transfer/refer-refused/call.pcap"],
        ],
        negative: &[
            &[
                "rules-traffic/transfer/ok/transferor.log",
                "rules-traffic/transfer/ok/transferee.log",
            ],
            &["rules-traffic/transfer/ok/call.pcap"],
        ],
    },
    RuleCase {
        rule: "subscription-failed",
        args: &[],
        positive: &[
            &["rules-traffic/subscription/refused/ua.log"],
            &["rules-traffic/subscription/notify-481/ua.log"],
            &["rules-traffic/subscription/notify-481/call.pcap"],
        ],
        negative: &[
            &["rules-traffic/subscription/ok/ua.log"],
            &["rules-traffic/subscription/ok/call.pcap"],
        ],
    },
];

/// `check --format json --select RULE` findings: (severity, message) pairs.
fn findings(rule: &str, inputs: &[&str]) -> Vec<(String, String)> {
    found(&check_doc(&["--select", rule], inputs).1)
        .into_iter()
        .map(|(_, severity, message)| (severity, message))
        .collect()
}

fn fixture_findings(rule: &str, inputs: &[&str]) -> Vec<(String, String)> {
    findings(
        rule,
        &fixtures(inputs)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
}

#[test]
fn svcrack_brute_force_is_a_warning_and_the_cracked_account_an_error() {
    let found = fixture_findings(
        "scanner-traffic",
        &["rules-traffic/scanner-crack/scan.pcap"],
    );
    assert_eq!(found.len(), 2, "{found:#?}");
    let (sev, msg) = &found[0];
    assert_eq!(sev, "warning");
    for part in [
        "SIP scanner at 127.0.0.1",
        "\"friendly-scanner\"",
        "swept 21 users",
        "5 refused credentials for user 6001",
    ] {
        assert!(msg.contains(part), "{part}: {msg}");
    }
    let (sev, msg) = &found[1];
    assert_eq!(sev, "error");
    assert!(
        msg.starts_with("account 6001 compromised") && msg.contains("after 5 refused guesses"),
        "{msg}"
    );
    let ev = evidence(
        "scanner-traffic",
        &["rules-traffic/scanner-crack/scan.pcap"],
    );
    assert_eq!(
        span_text(&ev, "a scanner's User-Agent"),
        Some("User-Agent: friendly-scanner")
    );
    assert_eq!(
        span_text(&ev, "the attacker's request accepted"),
        Some("SIP/2.0 200 OK")
    );
    assert!(
        span_text(&ev, "the REGISTER from 127.0.0.1")
            .is_some_and(|t| t.starts_with("Authorization: Digest username=\"6001\"")),
        "{ev:#?}"
    );
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn the_public_scanner_capture_shows_the_compromised_account() {
    let path = public_trace("ipfixprobe/sip.pcap");
    let found = findings("scanner-traffic", &[&path]);
    let severities: Vec<&str> = found.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(severities, ["warning", "error"], "{found:#?}");
    assert!(found[0].1.contains("147.32.77.113"), "{found:#?}");
    assert!(
        found[1].1.starts_with("account 6001 compromised"),
        "{found:#?}"
    );
}

#[test]
fn a_large_udp_request_is_an_error_only_when_lost() {
    let lost = fixture_findings(
        "oversized-udp-message",
        &["rules-traffic/oversized-udp/lost/call.pcap"],
    );
    assert_eq!(lost.len(), 1, "{lost:#?}");
    assert_eq!(lost[0].0, "error");
    assert!(
        lost[0].1.starts_with("INVITE of 2346 bytes sent over UDP")
            && lost[0].1.contains("sent 5 times and never answered"),
        "{lost:#?}"
    );
    let answered = fixture_findings(
        "oversized-udp-message",
        &["rules-traffic/oversized-udp/answered/call.pcap"],
    );
    assert_eq!(answered.len(), 1, "{answered:#?}");
    assert_eq!(answered[0].0, "warning");
    assert!(answered[0].1.contains("answered 200"), "{answered:#?}");
    let ev = evidence(
        "oversized-udp-message",
        &["rules-traffic/oversized-udp/answered/call.pcap"],
    );
    assert_eq!(
        span_text(&ev, "2346 bytes over UDP"),
        Some("INVITE sip:service@10.99.62.2:6231 SIP/2.0")
    );
}

#[test]
fn transfers_refused_or_failed_at_the_target() {
    let busy = fixture_findings(
        "transfer-failed",
        &["rules-traffic/transfer/target-busy/transferor.log"],
    );
    assert_eq!(busy.len(), 1, "{busy:#?}");
    assert!(busy[0].1.contains("ended with 486"), "{busy:#?}");
    let ev = evidence(
        "transfer-failed",
        &["rules-traffic/transfer/target-busy/transferor.log"],
    );
    assert_eq!(
        span_text(&ev, "sipfrag: final status 486"),
        Some("SIP/2.0 486 Busy Here")
    );
    assert_eq!(
        span_text(&ev, "the transfer target"),
        Some("Refer-To: sip:target@127.0.0.1:6245")
    );
    let refused = fixture_findings(
        "transfer-failed",
        &["rules-traffic/transfer/refer-refused/call.pcap"],
    );
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert!(
        refused[0].1.contains("refused with 603 Decline"),
        "{refused:#?}"
    );
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn the_public_transfer_and_subscriptions() {
    let path = public_trace("heplify/erspan_sip_ipv4_udp.pcapng");
    // REFER → 407 → REFER with credentials → 488, relayed on both legs of the SBC: one finding.
    let transfer = findings("transfer-failed", &[&path]);
    assert_eq!(transfer.len(), 1, "{transfer:#?}");
    assert!(
        transfer[0].1.starts_with("attended transfer") && transfer[0].1.contains("488"),
        "{transfer:#?}"
    );
    // Four user-profile subscriptions, each lost: a NOTIFY and the refresh answered 481.
    let subs = findings("subscription-failed", &[&path]);
    assert_eq!(subs.len(), 4, "{subs:#?}");
    for (sev, msg) in &subs {
        assert_eq!(sev, "error");
        assert!(
            msg.contains("481") && msg.contains("1 more failure"),
            "{msg}"
        );
    }
    // Those 481s are not also unknown-dialog's.
    let unknown = findings("unknown-dialog", &[&path]);
    assert!(unknown.is_empty(), "{unknown:#?}");
}

#[test]
fn subscriptions_refused_or_lost() {
    let refused = fixture_findings(
        "subscription-failed",
        &["rules-traffic/subscription/refused/ua.log"],
    );
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(refused[0].0, "error");
    assert!(
        refused[0].1.contains("489 Bad Event") && refused[0].1.contains("no presence updates"),
        "{refused:#?}"
    );
    let ev = evidence(
        "subscription-failed",
        &["rules-traffic/subscription/notify-481/ua.log"],
    );
    assert_eq!(
        span_text(&ev, "481 to the NOTIFY"),
        Some("SIP/2.0 481 Call/Transaction Does Not Exist")
    );
    assert_eq!(span_text(&ev, "the NOTIFY"), Some("Event: presence"));
}

/// (rule, severity, message) of every finding of `check` with `args`.
fn all_findings(args: &[&str], inputs: &[&str]) -> Vec<Found> {
    found(&check_doc(args, inputs).1)
}

const VICTIM_RULES: [&str; 2] = ["auth-failed", "registration-failed"];

#[test]
fn a_scanners_refused_attempts_are_not_the_victims_errors() {
    let scan = super::common::fixture("rules-traffic/scanner-crack/scan.pcap");
    let select = "scanner-traffic,auth-failed,registration-failed";
    let found = all_findings(&["--select", select], &[&scan]);
    // The attack is scanner-traffic's (a warning, and the error of the account it won); the
    // refusals of its guesses and of its sweep (404) are info, and say why.
    let scanner: Vec<&str> = found
        .iter()
        .filter(|f| f.0 == "scanner-traffic")
        .map(|f| f.1.as_str())
        .collect();
    assert_eq!(scanner, ["warning", "error"], "{found:#?}");
    let victims: Vec<_> = found
        .iter()
        .filter(|f| VICTIM_RULES.contains(&f.0.as_str()))
        .collect();
    assert!(victims.len() >= 20, "{found:#?}");
    for f in &victims {
        assert_eq!(f.1, "info", "{f:?}");
        assert!(
            f.2.contains(
                "the request came from 127.0.0.1, which `scanner-traffic` reports as a SIP scanner"
            ),
            "{f:?}"
        );
    }
    // Without scanner-traffic nothing explains them: the sweep's 404s are errors again.
    let alone = all_findings(&["--select", "auth-failed,registration-failed"], &[&scan]);
    assert!(
        alone
            .iter()
            .any(|f| f.0 == "registration-failed" && f.1 == "error"),
        "{alone:#?}"
    );
    assert!(alone.iter().all(|f| !f.2.contains("scanner")), "{alone:#?}");
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn the_public_scanners_guesses_are_info() {
    let path = public_trace("ipfixprobe/sip.pcap");
    let found = all_findings(&[], &[&path]);
    let errors: Vec<_> = found.iter().filter(|f| f.1 == "error").collect();
    // The one error is the account the scanner won.
    assert_eq!(errors.len(), 1, "{found:#?}");
    assert_eq!(errors[0].0, "scanner-traffic");
    let guesses: Vec<_> = found.iter().filter(|f| f.0 == "auth-failed").collect();
    assert_eq!(guesses.len(), 2, "{found:#?}");
    for f in guesses {
        assert_eq!(f.1, "info", "{f:?}");
        assert!(
            f.2.contains("147.32.77.113, which `scanner-traffic`"),
            "{f:?}"
        );
    }
}
