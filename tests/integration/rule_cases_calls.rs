//! Fixture cases of the call-flow rules (missing-ack, invite-timeout, stuck-in-proceeding, …).

use super::rule_cases::{RuleCase, evidence, span_text};

const BASIC: &[&str] = &["basic-call/caller.log", "basic-call/callee.log"];

pub const CASES: &[RuleCase] = &[
    RuleCase {
        rule: "missing-ack",
        args: &[],
        positive: &[
            &["rules/missing-ack/callee.log"],
            &["rules/missing-ack/call.pcap"],
            &["rules/missing-ack/uac.msg"],
        ],
        negative: &[
            BASIC,
            &["tcp-call/caller.log", "tcp-call/callee.log"],
            &["captures/pjsua-udp/call.pcap"],
            // the 200 is retransmitted by SIPp until the late ACK comes
            &["rules/retransmission-storm/invite-late-answer/uas.msg"],
            // the callee's BYE with cause 408 ends a session, not an unACKed answer
            &["rules-call-extra/session-expired/callee.log"],
        ],
    },
    RuleCase {
        rule: "invite-timeout",
        args: &[],
        positive: &[
            &["rules/invite-timeout/caller.log"],
            &["rules/invite-timeout/call.pcap"],
            &["rules/invite-timeout/uas.msg"],
        ],
        negative: &[
            BASIC,
            // INVITE retransmitted five times, then answered
            &["rules/retransmission-storm/invite-late-answer/caller.log"],
            // provisional responses, no final one: stuck-in-proceeding, not a timeout
            &["rules/stuck-in-proceeding/caller.log"],
            &["captures/pjsua-udp/call.pcap"],
        ],
    },
    RuleCase {
        rule: "stuck-in-proceeding",
        args: &[
            "--config",
            "fixtures/rules/stuck-in-proceeding/sipflow.toml",
        ],
        positive: &[
            &["rules/stuck-in-proceeding/caller.log"],
            &["rules/stuck-in-proceeding/call.pcap"],
            &["rules/stuck-in-proceeding/uas.msg"],
        ],
        negative: &[
            BASIC,
            // rings for 1 s, then CANCEL: below the threshold
            &["cancel-ringing/caller.log", "cancel-ringing/callee.log"],
            // no provisional response at all
            &["rules/invite-timeout/caller.log"],
        ],
    },
    RuleCase {
        rule: "unknown-dialog",
        args: &[],
        positive: &[
            &["rules/unknown-dialog/bye-481/caller.log"],
            &["rules/unknown-dialog/reinvite-481/caller.log"],
            &["rules/unknown-dialog/reinvite-481/call.pcap"],
        ],
        negative: &[
            BASIC,
            // two BYEs from the callee, both answered 200
            &["call-freed-after-answer/callee.log"],
            // CANCEL after the answer: handled by cancel-answer-race
            &["rules/cancel-answer-race/caller.log"],
        ],
    },
    RuleCase {
        rule: "cancel-answer-race",
        args: &[],
        positive: &[
            &["rules/cancel-answer-race/caller.log"],
            &["rules/cancel-answer-race/call.pcap"],
            &["rules/cancel-answer-race/uas.msg"],
        ],
        negative: &[
            BASIC,
            // an ordinary cancelled call: 487 to the INVITE
            &["cancel-ringing/caller.log", "cancel-ringing/callee.log"],
            &["rules/stuck-in-proceeding/caller.log"],
        ],
    },
    RuleCase {
        rule: "reinvite-glare",
        args: &[],
        positive: &[
            &["rules/reinvite-glare/caller.log"],
            &["rules/reinvite-glare/call.pcap"],
        ],
        negative: &[
            BASIC,
            // a re-INVITE that fails with 481, not 491
            &["rules/unknown-dialog/reinvite-481/caller.log"],
        ],
    },
    RuleCase {
        rule: "no-common-codec",
        args: &[],
        positive: &[
            &["rules/no-common-codec/offer-g729/callee.log"],
            &["rules/no-common-codec/offer-g729/call.pcap"],
            &["rules/no-common-codec/uas-488/caller.log"],
            // a 200 whose SDP answer has no codec of the offer; pjsip's negotiation fails
            &["rules-call-extra/answer-g729/caller.log"],
            &["rules-call-extra/answer-g729/call.pcap"],
            // the same answer, but PCMU flowed both ways: a warning (media_rules.rs)
            &["media/sipp-answer-g729/call.pcap"],
        ],
        negative: &[
            BASIC,
            &["busy-486/caller.log", "busy-486/callee.log"],
            &["decline-603/caller.log", "decline-603/callee.log"],
            &["captures/sipp-tcp-big/tcp.pcap"],
        ],
    },
    RuleCase {
        rule: "session-timer-failure",
        args: &[],
        positive: &[
            &["rules-call-extra/session-422/callee.log"],
            &["rules-call-extra/session-422/call.pcap"],
            &["rules-call-extra/session-expired/callee.log"],
            &["rules-call-extra/session-expired/call.pcap"],
        ],
        negative: &[
            BASIC,
            // 422, retried at once with Session-Expires: 1800, answered
            &["rules/session-timer/caller.log"],
            &["rules/session-timer/call.pcap"],
            // a BYE with cause 408 that is an ACK timeout, not a session timer
            &["rules/missing-ack/callee.log"],
        ],
    },
    RuleCase {
        rule: "redirect-not-followed",
        args: &[],
        positive: &[
            &["rules/redirect-not-followed/caller.log"],
            &["rules/redirect-not-followed/call.pcap"],
        ],
        negative: &[
            BASIC,
            &["rules/redirect-followed/caller.log"],
            &["rules/redirect-followed/call.pcap"],
        ],
    },
    RuleCase {
        rule: "retransmission-storm",
        args: &[],
        positive: &[
            &["rules/retransmission-storm/register-no-listener/ua.log"],
            &["rules/retransmission-storm/register-no-listener/call.pcap"],
            &["rules/missing-ack/callee.log"],
        ],
        negative: &[
            BASIC,
            // exactly 6 retransmissions: the threshold, not more
            &["rules/invite-timeout/caller.log"],
            // 5 retransmissions before a late answer
            &["rules/retransmission-storm/invite-late-answer/caller.log"],
        ],
    },
    RuleCase {
        rule: "retransmission-storm",
        args: &[
            "--config",
            "fixtures/rules/retransmission-storm/invite-late-answer/sipflow.toml",
        ],
        positive: &[
            &["rules/retransmission-storm/invite-late-answer/caller.log"],
            &["rules/retransmission-storm/invite-late-answer/call.pcap"],
        ],
        negative: &[BASIC, &["rules/cancel-answer-race/caller.log"]],
    },
    RuleCase {
        rule: "slow-call-setup",
        args: &[],
        positive: &[
            &["rules-call-extra/slow-setup/caller.log"],
            &["rules-call-extra/slow-setup/call.pcap"],
            &["rules/retransmission-storm/invite-late-answer/caller.log"],
        ],
        negative: &[
            BASIC,
            &["rules/redirect-followed/caller.log"],
            // rings at once (and for 10 s): not a setup delay
            &["rules/stuck-in-proceeding/caller.log"],
        ],
    },
    RuleCase {
        rule: "bye-right-after-answer",
        args: &[],
        positive: &[
            &["call-freed-after-answer/callee.log"],
            &["call-freed-after-answer/caller.log"],
            // hung up on purpose at once after the ACK: a pjsua2 app, SIPp
            &["flagship/hangup-after-confirmed/call.pcap"],
            &["flagship/sipp-bye-after-ack/call.pcap"],
            // the caller hangs up 31 ms after CONFIRMED: its log, and a quote of it with only
            // the BYE's 200 (from the wire or the callee's log alone it is info)
            &["flagship/caller-hangup-on-answer/caller.log"],
            &["derive/caller-hangup-on-answer.caller.quote.derived.log"],
        ],
        negative: &[
            // the caller hangs up after about 1 s
            BASIC,
            // the caller's BYE right after a late answer
            &["rules/cancel-answer-race/caller.log"],
            // the callee's BYE without any ACK: missing-ack
            &["rules/missing-ack/callee.log"],
            // SIPp callers ending short calls on purpose, 180 to 610 ms after the ACK
            &["captures/sipp-tcp-big/tcp.pcap"],
            &["captures/udp-fragments/frag.pcap"],
            &["captures/pcapng/call.pcapng"],
            &["rules-message-extra/cseq-lower-info/call.pcap"],
            // a log that shows no time: every line at midnight
            &["derive/basic-call.callee.pj-level.derived.log"],
        ],
    },
    RuleCase {
        rule: "packet-loss",
        args: &[],
        positive: &[
            &["media/pjsua-loss/call.pcap"],
            &["media/pjsua-loss/callee.log"],
        ],
        negative: &[
            &["media/pjsua-rtp/call.pcap"],
            &["media/pjsua-loss/caller.log"],
            &["media/sipp-rtp-stream/call.pcap"],
        ],
    },
    RuleCase {
        rule: "high-jitter",
        args: &[],
        positive: &[&["media/pjsua-jitter/call.pcap"]],
        negative: &[
            &["media/pjsua-rtp/call.pcap"],
            &["media/pjsua-loss/call.pcap"],
        ],
    },
    RuleCase {
        rule: "codec-mismatch",
        args: &[],
        positive: &[
            &["media/sipp-pcma-in-pcmu/call.pcap"],
            // an RTP/AVP answer to an RTP/SAVP offer
            &["media/sipp-avp-to-savp/call.pcap"],
        ],
        negative: &[
            &["media/sipp-rtp-stream/call.pcap"],
            // no common codec, PCMU both ways: no-common-codec's to report
            &["media/sipp-answer-g729/call.pcap"],
            &["media/pjsua-rtp/call.pcap"],
        ],
    },
    RuleCase {
        rule: "media-address-mismatch",
        args: &[],
        positive: &[&["media/pjsua-nat/call.pcap"]],
        negative: &[
            &["media/pjsua-rtp/call.pcap"],
            &["media/pjsua-loss/call.pcap"],
        ],
    },
];

#[test]
fn no_common_codec_points_at_the_m_lines() {
    // The answer's m= line (G.729 only) and the offer's (pjsua's list).
    for inputs in [
        &["rules-call-extra/answer-g729/caller.log"][..],
        &["rules-call-extra/answer-g729/call.pcap"],
    ] {
        let found = evidence("no-common-codec", inputs);
        let answer = span_text(&found, "answer without a common codec").expect("a span");
        assert!(
            answer.starts_with("m=audio ") && answer.ends_with(" RTP/AVP 18"),
            "{answer:?}"
        );
        let offer = span_text(&found, "the offer").expect("a span");
        assert!(
            offer.starts_with("m=audio ") && offer.contains(" RTP/AVP 96 "),
            "{offer:?}"
        );
        assert!(!offer.contains('\n'), "{offer:?}");
    }
    // A 488: its status line, and the offer's m= line.
    let found = evidence(
        "no-common-codec",
        &["rules/no-common-codec/offer-g729/call.pcap"],
    );
    assert_eq!(
        span_text(&found, "488 Not Acceptable Here"),
        Some("SIP/2.0 488 Not Acceptable Here")
    );
    let offer = span_text(&found, "the INVITE's offer").expect("a span");
    assert!(
        offer.starts_with("m=audio ") && offer.ends_with(" RTP/AVP 18"),
        "{offer:?}"
    );
}

#[test]
fn session_timer_failure_points_at_min_se_and_session_expires() {
    let found = evidence(
        "session-timer-failure",
        &["rules-call-extra/session-422/call.pcap"],
    );
    assert_eq!(span_text(&found, "422 with Min-SE: 90"), Some("Min-SE: 90"));
    assert_eq!(
        span_text(&found, "the INVITE whose Session-Expires was too small"),
        Some("Session-Expires: 60")
    );
    let found = evidence(
        "session-timer-failure",
        &["rules-call-extra/session-expired/callee.log"],
    );
    let reason = span_text(&found, "BYE: the session expired").expect("a span");
    assert!(reason.starts_with("Reason: SIP ;cause=408"), "{reason:?}");
    let negotiated = span_text(&found, "the last negotiated Session-Expires").expect("a span");
    assert!(
        negotiated.starts_with("Session-Expires: 90;refresher="),
        "{negotiated:?}"
    );
}

#[test]
fn redirect_not_followed_points_at_the_contact() {
    for inputs in [
        &["rules/redirect-not-followed/caller.log"][..],
        &["rules/redirect-not-followed/call.pcap"],
    ] {
        let found = evidence("redirect-not-followed", inputs);
        let contact = found[0][0].span_text.as_deref().expect("a span");
        assert!(contact.starts_with("Contact: <sip:target@"), "{contact:?}");
    }
}

#[test]
fn call_flow_rules_point_at_status_lines_and_reasons() {
    let found = evidence("missing-ack", &["rules/missing-ack/call.pcap"]);
    assert_eq!(
        span_text(&found, "200 OK to the INVITE (CSeq 1), never acknowledged"),
        Some("SIP/2.0 200 OK")
    );
    let reason = span_text(&found, "the callee gives up and hangs up").expect("a span");
    assert!(reason.starts_with("Reason: SIP ;cause=408"), "{reason:?}");
    // A retransmission is evidence as a whole.
    assert_eq!(
        span_text(&found, "retransmission 10 of the 2xx, still no ACK"),
        None
    );

    let found = evidence("invite-timeout", &["rules/invite-timeout/call.pcap"]);
    let sent = span_text(&found, "INVITE sent, no response ever came").expect("a span");
    assert!(
        sent.starts_with("INVITE sip:") && sent.ends_with(" SIP/2.0"),
        "{sent:?}"
    );

    let found = evidence(
        "unknown-dialog",
        &["rules/unknown-dialog/bye-481/caller.log"],
    );
    let label = found[0][0].label.clone();
    assert_eq!(
        span_text(&found, &label),
        Some("SIP/2.0 481 Call/Transaction Does Not Exist")
    );
}
