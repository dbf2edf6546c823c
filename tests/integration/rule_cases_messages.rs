//! Fixture cases of the registration, log and message rules (auth-failed, transport-error, …).

use super::common::public_trace;
use super::rule_cases::{RuleCase, evidence, span_text};

pub const CASES: &[RuleCase] = &[
    RuleCase {
        rule: "auth-failed",
        args: &[],
        positive: &[
            &["rules/auth-failed/ua.log"],
            &["rules/auth-failed/call.pcap"],
            &["register-403/ua.log", "register-403/registrar.msg"],
            // 401, then `403 Forbidden (Bad auth)` to the credentials; and a quote of only the
            // 403, whose reason phrase alone says the credentials were refused
            &["rules/auth-failed-bad-auth/ua.log"],
            &["rules/auth-failed-bad-auth/call.pcap"],
            &["derive/auth-failed-bad-auth.ua.quote.derived.log"],
        ],
        negative: &[
            &["register-401/ua.log", "register-401/registrar.msg"],
            &["rules/account-kept/ua.log"],
            &["basic-call/caller.log", "basic-call/callee.log"],
            // a quote of only a `403 Forbidden`: nothing says it was the credentials
            &["derive/register-403.ua.quote.derived.log"],
        ],
    },
    RuleCase {
        rule: "registration-failed",
        args: &[],
        positive: &[
            &["register-403/ua.log", "register-403/registrar.msg"],
            &["rules/auth-failed/ua.log"],
            &["rules-message-extra/register-423-loop/ua.log"],
            &["rules-message-extra/register-423-loop/call.pcap"],
            &["rules/retransmission-storm/register-no-listener/ua.log"],
        ],
        negative: &[
            &["register-401/ua.log", "register-401/registrar.msg"],
            // 423, then the retry at Min-Expires succeeds.
            &[
                "rules/registration-failed-423/ua.log",
                "rules/registration-failed-423/call.pcap",
            ],
            &["rules/account-kept/ua.log"],
        ],
    },
    RuleCase {
        rule: "private-address-in-sdp",
        args: &[],
        positive: &[&["rules-message-extra/private-sdp-nat/call.pcap"]],
        negative: &[
            &["basic-call/caller.log", "basic-call/callee.log"],
            &["captures/pjsua-udp/call.pcap"],
            &["captures/ipv6/call.pcap"],
            &["b2bua/caller.log", "b2bua/b2bua.log", "b2bua/callee.log"],
        ],
    },
    RuleCase {
        rule: "transport-error",
        args: &[],
        positive: &[&["rules-message-extra/transport-error/caller.log"]],
        negative: &[
            &["basic-call/caller.log", "basic-call/callee.log"],
            &["tcp-call/caller.log", "tcp-call/callee.log"],
            // `Temporary failure … will try next server`, then sent over UDP: recovered.
            &["big-invite-cut/caller.log"],
            &["b2bua/b2bua.log"],
        ],
    },
    RuleCase {
        rule: "thread-not-registered",
        args: &[],
        positive: &[&["rules-message-extra/thread-not-registered/app.console.log"]],
        negative: &[
            &["basic-call/caller.log", "basic-call/callee.log"],
            &["python-logging/caller.log", "python-logging/callee.log"],
        ],
    },
    RuleCase {
        rule: "no-sound-device",
        args: &[],
        positive: &[
            &["rules/no-sound-device/answer/callee.log"],
            &["rules/no-sound-device/make-call/caller.log"],
        ],
        negative: &[&["basic-call/caller.log", "basic-call/callee.log"]],
    },
    RuleCase {
        rule: "account-deleted",
        args: &[],
        positive: &[&["rules/account-deleted/ua.log"]],
        negative: &[
            &["rules/account-kept/ua.log"],
            // setRegistration(False) first, `Deleting account` only after.
            &["register-401/ua.log", "register-401/registrar.msg"],
            &["rules/registration-failed-423/ua.log"],
            // deliberate shutdowns: the account deleted, then pjsua destroyed at once or after
            // the un-REGISTER's answer; libDestroy with the account alive
            &[
                "flagship/account-del/ua.log",
                "flagship/account-del/registrar.msg",
            ],
            &["flagship/account-shutdown/ua.log"],
            &["flagship/account-libdestroy/ua.log"],
        ],
    },
    RuleCase {
        rule: "call-slots-exhausted",
        args: &[],
        positive: &[
            &["rules/call-slots-exhausted/callee.log"],
            &[
                "rules/call-slots-exhausted/caller.log",
                "rules/call-slots-exhausted/callee.log",
            ],
        ],
        negative: &[
            // A deliberate 486 from the application.
            &["busy-486/caller.log", "busy-486/callee.log"],
            &["basic-call/caller.log", "basic-call/callee.log"],
        ],
    },
    RuleCase {
        rule: "missing-mandatory-header",
        args: &[],
        positive: &[
            &["rules-message-extra/missing-max-forwards/options.pcap"],
            &["rules-message-extra/missing-max-forwards/ua.log"],
        ],
        negative: &[
            &["basic-call/caller.log", "basic-call/callee.log"],
            &["captures/pjsua-udp/call.pcap"],
            &["malformed/options.pcap"],
            &["register-401/ua.log", "register-401/registrar.msg"],
        ],
    },
    RuleCase {
        rule: "content-length-mismatch",
        args: &[],
        positive: &[
            &["rules-message-extra/content-length-mismatch/message.pcap"],
            &["rules-message-extra/content-length-mismatch/ua.log"],
        ],
        negative: &[
            // Dumps cut by pjsip's log record limit: truncated-log-record's job.
            &["big-invite-cut/caller.log", "big-invite-cut/callee.log"],
            &["basic-call/caller.log", "basic-call/callee.log"],
            &["captures/sipp-tcp-big/tcp.pcap"],
            &["captures/udp-fragments/frag.pcap"],
        ],
    },
    RuleCase {
        rule: "cseq-not-increasing",
        args: &[],
        positive: &[
            &["rules-message-extra/cseq-lower-info/call.pcap"],
            &["rules-message-extra/cseq-lower-info/callee.log"],
        ],
        negative: &[
            &["basic-call/caller.log", "basic-call/callee.log"],
            // Two BYEs, CSeq n and n+1.
            &[
                "call-freed-after-answer/caller.log",
                "call-freed-after-answer/callee.log",
            ],
            // CANCEL and ACK reuse the INVITE's number.
            &["cancel-ringing/caller.log", "cancel-ringing/callee.log"],
        ],
    },
    RuleCase {
        rule: "invalid-sdp",
        args: &[],
        positive: &[
            // pjsip refuses the INVITE with 400 Bad SDP (error); a SIPp UAS answers it 200
            // without reading the body (warning).
            &["rules-message-extra/invalid-sdp/refused.pcap"],
            &["rules-message-extra/invalid-sdp/callee.log"],
            &["rules-message-extra/invalid-sdp/answered.pcap"],
        ],
        negative: &[
            // The same UAC with a real SDP offer.
            &["rules-message-extra/invalid-sdp/valid.pcap"],
            &["basic-call/caller.log", "basic-call/callee.log"],
            &["captures/pjsua-udp/call.pcap"],
            // SDP offers with many lines, and a body cut by pjsip's log record limit.
            &["captures/udp-fragments/frag.pcap"],
            &["big-invite-cut/caller.log", "big-invite-cut/callee.log"],
        ],
    },
];

#[test]
fn invalid_sdp_points_at_the_content_type_and_the_body() {
    for inputs in [
        &["rules-message-extra/invalid-sdp/refused.pcap"][..],
        &["rules-message-extra/invalid-sdp/callee.log"],
        &["rules-message-extra/invalid-sdp/answered.pcap"],
    ] {
        let found = evidence("invalid-sdp", inputs);
        assert_eq!(found.len(), 1, "{inputs:?}: {found:#?}");
        assert_eq!(
            span_text(&found, "Content-Type: application/sdp"),
            Some("Content-Type: application/sdp"),
            "{inputs:?}"
        );
        let line = span_text(&found, "the body's first line");
        assert_eq!(line, Some("X".repeat(300).as_str()), "{inputs:?}");
    }
    let found = evidence(
        "invalid-sdp",
        &["rules-message-extra/invalid-sdp/refused.pcap"],
    );
    assert_eq!(
        span_text(&found, "400 Bad SDP"),
        Some("SIP/2.0 400 Bad SDP")
    );
}

#[test]
fn content_length_mismatch_points_at_the_content_length_header() {
    for inputs in [
        &["rules-message-extra/content-length-mismatch/message.pcap"][..],
        &["rules-message-extra/content-length-mismatch/ua.log"],
    ] {
        let found = evidence("content-length-mismatch", inputs);
        let label = "Content-Length declares 40 bytes but only 28 are present";
        assert_eq!(
            span_text(&found, label),
            Some("Content-Length: 40"),
            "{inputs:?}"
        );
    }
}

#[test]
fn cseq_not_increasing_points_at_both_cseq_headers() {
    for inputs in [
        &["rules-message-extra/cseq-lower-info/call.pcap"][..],
        &["rules-message-extra/cseq-lower-info/callee.log"],
    ] {
        let found = evidence("cseq-not-increasing", inputs);
        assert_eq!(span_text(&found, "INFO, CSeq 5"), Some("CSeq: 5 INFO"));
        assert_eq!(
            span_text(&found, "INVITE, CSeq 20"),
            Some("CSeq: 20 INVITE")
        );
        let answer = span_text(&found, "answered 500").expect("a span");
        assert!(answer.starts_with("SIP/2.0 500 "), "{answer:?}");
    }
}

#[test]
fn private_address_in_sdp_points_at_the_c_line() {
    let found = evidence(
        "private-address-in-sdp",
        &["rules-message-extra/private-sdp-nat/call.pcap"],
    );
    let text = found[0][0].span_text.as_deref().expect("a span");
    assert!(text.starts_with("c=IN IP4 192.168."), "{text:?}");
    assert!(!text.contains('\n'), "{text:?}");
}

#[test]
fn auth_failed_points_at_the_challenge_and_the_credentials() {
    let found = evidence("auth-failed", &["rules/auth-failed/call.pcap"]);
    let challenge =
        span_text(&found, "401 Unauthorized to a request with credentials").expect("a span");
    assert!(
        challenge.starts_with("WWW-Authenticate: Digest "),
        "{challenge:?}"
    );
    let label = "the REGISTER with credentials (username \"alice\", realm \"sipflow.test\")";
    let creds = span_text(&found, label).expect("a span");
    assert!(
        creds.starts_with("Authorization: Digest username=\"alice\""),
        "{creds:?}"
    );
    // A 403 has no challenge: its status line.
    let found = evidence(
        "auth-failed",
        &["register-403/ua.log", "register-403/registrar.msg"],
    );
    assert_eq!(
        span_text(&found, "403 Forbidden to a request with credentials"),
        Some("SIP/2.0 403 Forbidden")
    );
}

#[test]
fn registration_failed_points_at_min_expires_and_expires() {
    let found = evidence(
        "registration-failed",
        &["rules-message-extra/register-423-loop/call.pcap"],
    );
    let min = span_text(&found, "final response 423").expect("a span");
    assert!(min.starts_with("Min-Expires: "), "{min:?}");
    let asked = span_text(&found, "the REGISTER").expect("a span");
    assert!(asked.starts_with("Expires: "), "{asked:?}");
    // Never answered: nothing in the message to point at.
    let found = evidence(
        "registration-failed",
        &["rules/retransmission-storm/register-no-listener/ua.log"],
    );
    assert_eq!(span_text(&found, "the REGISTER, never answered"), None);
}

#[test]
fn account_deleted_points_at_the_zero_expiry() {
    let found = evidence("account-deleted", &["rules/account-deleted/ua.log"]);
    assert_eq!(
        span_text(&found, "the un-REGISTER it caused"),
        Some("Expires: 0")
    );
    assert_eq!(
        span_text(&found, "Deleting account: the Account object's destructor"),
        None
    );
}

#[test]
fn missing_mandatory_header_has_nothing_to_point_at() {
    let found = evidence(
        "missing-mandatory-header",
        &["rules-message-extra/missing-max-forwards/options.pcap"],
    );
    assert_eq!(span_text(&found, "no Max-Forwards"), None);
}

#[test]
fn an_account_deleted_while_a_call_is_up_in_an_excerpt_that_ends_in_its_unregister() {
    // pjsip/pjproject#3807: `Deleting account 0..` 3 s after the ACK, `.Acc 0: setting
    // unregistration..`, and the excerpt ends two lines into the REGISTER (no Expires in
    // sight): pjsua's own line says it is the un-REGISTER.
    let path = "tests/real-world/logs/pjproject-3807-account-deleted-after-ack-windows.log";
    let out = super::common::sipflow(&["check", "--format", "json", path]);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("check JSON");
    let found: Vec<_> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .collect();
    assert_eq!(found.len(), 1, "{}", out.stdout);
    let f = found[0];
    assert_eq!(
        (f["rule"].as_str(), f["severity"].as_str()),
        (Some("account-deleted"), Some("warning"))
    );
    let m = f["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("announced by `Acc 0: setting unregistration..`; the input ends inside it"),
        "{m}"
    );
    assert!(
        m.contains("(the input ends 0.0 s after the un-REGISTER"),
        "{m}"
    );
    let lines: Vec<u64> = f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["line"].as_u64())
        .collect();
    assert_eq!(
        lines,
        [25, 27, 26],
        "the deletion, the REGISTER, pjsua's announcement"
    );
}

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn a_bit_flipped_capture_still_shows_the_refused_passwords() {
    // ntop/nDPI's fuzz-2006-06-26-2594.pcap is sngrep's aaa.pcap with random bytes flipped.
    // Frame 32's `403 Wrong password` lost its REGISTER (frame 30's Ethernet type is flipped),
    // its own Call-ID and CSeq name; frame 581's `403 Wrong password or domain` lost its
    // INVITE's Call-ID and Proxy-Authorization (frame 578), and the 407 before it its CSeq.
    // The status lines are whole: the server's words are the evidence.
    let path = public_trace("ndpi/fuzz-2006-06-26-2594.pcap");
    let out = super::common::sipflow(&[
        "check",
        "--format",
        "json",
        "--select",
        "auth-failed",
        &path,
    ]);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("check JSON");
    let found: Vec<(u64, String, String)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let frame = f["evidence"][0]["frame"][0].as_u64().unwrap_or(0);
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (frame, s("severity"), s("message"))
        })
        .collect();
    for frame in [32, 581] {
        let f = found
            .iter()
            .find(|f| f.0 == frame)
            .unwrap_or_else(|| panic!("frame {frame}: {found:#?}"));
        assert_eq!(f.1, "error", "{f:?}");
        assert!(
            f.2.contains("its reason phrase is the server's verdict: the credentials were refused"),
            "{f:?}"
        );
    }
    let ev = evidence_labels(&doc);
    assert!(
        ev.contains(&"403 Wrong password: the server's verdict on the credentials".to_string()),
        "{ev:?}"
    );
    // Nothing rests on a message that does not parse (frames 154, 223, 247, 558).
    for f in &found {
        assert!(![154, 223, 247, 558].contains(&f.0), "{f:?}");
    }
}

/// The labels of every finding's evidence in a `check --format json` document.
fn evidence_labels(doc: &serde_json::Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["evidence"].as_array().into_iter().flatten())
        .filter_map(|e| e["label"].as_str().map(str::to_string))
        .collect()
}
