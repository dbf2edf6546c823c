//! Fixture cases of the registration, log and message rules (auth-failed, transport-error, …).

use super::rule_cases::RuleCase;

pub const CASES: &[RuleCase] = &[
    RuleCase {
        rule: "auth-failed",
        args: &[],
        positive: &[
            &["rules/auth-failed/ua.log"],
            &["rules/auth-failed/call.pcap"],
            &["register-403/ua.log", "register-403/registrar.msg"],
        ],
        negative: &[
            &["register-401/ua.log", "register-401/registrar.msg"],
            &["rules/account-kept/ua.log"],
            &["basic-call/caller.log", "basic-call/callee.log"],
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
];
