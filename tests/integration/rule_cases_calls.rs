//! Fixture cases of the call-flow rules (missing-ack, invite-timeout, stuck-in-proceeding, …).

use super::rule_cases::RuleCase;

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
        ],
        negative: &[
            // the caller hangs up after about 1 s
            BASIC,
            // the caller's BYE right after a late answer
            &["rules/cancel-answer-race/caller.log"],
            // the callee's BYE without any ACK: missing-ack
            &["rules/missing-ack/callee.log"],
        ],
    },
];
