//! Fixture cases of the rules that judge whether media flowed (`no-media-received`,
//! `media-stopped`), on the pjsua2 calls of `fixtures/media/` whose RTP an nftables rule dropped
//! (no audio, one-way audio, audio that stops mid-call), and what each input alone, and all of
//! them together, must give.

use std::path::PathBuf;

use super::common::{Found, check_fixtures};
use super::rule_cases::{RuleCase, evidence};

pub const CASES: &[RuleCase] = &[
    RuleCase {
        rule: "no-media-received",
        args: &[],
        positive: &[
            &["media/pjsua-noaudio/call.pcap"],
            &["media/pjsua-noaudio/caller.log"],
            &["media/pjsua-noaudio/callee.log"],
            &["media/pjsua-oneway/call.pcap"],
            &["media/pjsua-oneway/caller.log"],
            // SIPp peers that send no RTP: the pjsua side heard nothing for 60 s / 7 s.
            &["rules-call-extra/session-expired/callee.log"],
            &["rules/reinvite-glare/caller.log"],
        ],
        negative: &[
            &[
                "media/pjsua-rtp/call.pcap",
                "media/pjsua-rtp/caller.log",
                "media/pjsua-rtp/callee.log",
            ],
            &[
                "media/pjsua-loss/call.pcap",
                "media/pjsua-loss/caller.log",
                "media/pjsua-loss/callee.log",
            ],
            &[
                "media/pjsua-stopped/call.pcap",
                "media/pjsua-stopped/caller.log",
                "media/pjsua-stopped/callee.log",
            ],
            // the callee heard the caller's 300 packets
            &["media/pjsua-oneway/callee.log"],
            // a capture filtered to SIP: no RTP of any call in it
            &["rules-call-extra/session-expired/call.pcap"],
            // a 2xx never acknowledged: the call was never up
            &["rules/missing-ack/callee.log"],
            // answered calls shorter than the threshold, with dumps of 0 packets
            &[
                "flagship/hangup-after-confirmed/caller.log",
                "flagship/hangup-after-confirmed/callee.log",
            ],
        ],
    },
    RuleCase {
        rule: "media-stopped",
        args: &[],
        positive: &[
            &["media/pjsua-stopped/call.pcap"],
            &[
                "media/pjsua-stopped/call.pcap",
                "media/pjsua-stopped/caller.log",
                "media/pjsua-stopped/callee.log",
            ],
        ],
        negative: &[
            &["media/pjsua-rtp/call.pcap"],
            &["media/pjsua-loss/call.pcap"],
            // a direction that never flowed is `no-media-received`'s
            &["media/pjsua-noaudio/call.pcap"],
            &["media/pjsua-oneway/call.pcap"],
            // the dumps do not say when RTP stopped
            &[
                "media/pjsua-stopped/caller.log",
                "media/pjsua-stopped/callee.log",
            ],
        ],
    },
];

fn of_rule(rule: &str, extra: &[&str], inputs: &[&str]) -> Vec<Found> {
    check_fixtures(extra, inputs)
        .1
        .into_iter()
        .filter(|(r, _, _)| r == rule)
        .collect()
}

/// The messages of `no-media-received` on `inputs`, cut at the first colon (who heard nothing).
fn who_heard_nothing(inputs: &[&str]) -> Vec<String> {
    of_rule("no-media-received", &[], inputs)
        .into_iter()
        .map(|(_, sev, msg)| {
            assert_eq!(sev, "error", "{msg}");
            msg.split(':').next().unwrap_or_default().to_string()
        })
        .collect()
}

#[test]
fn no_audio_each_input_says_who_heard_nothing() {
    // Captured on the callee's side: the callee's RTP leaves, the caller's never arrives.
    assert_eq!(
        who_heard_nothing(&["media/pjsua-noaudio/call.pcap"]),
        ["the callee heard nothing"]
    );
    // Each side's call dump speaks for that side.
    assert_eq!(
        who_heard_nothing(&["media/pjsua-noaudio/caller.log"]),
        ["the caller heard nothing"]
    );
    assert_eq!(
        who_heard_nothing(&["media/pjsua-noaudio/callee.log"]),
        ["the callee heard nothing"]
    );
    // All together: one finding per direction, not one per input.
    let mut all = who_heard_nothing(&[
        "media/pjsua-noaudio/call.pcap",
        "media/pjsua-noaudio/caller.log",
        "media/pjsua-noaudio/callee.log",
    ]);
    all.sort();
    assert_eq!(
        all,
        ["the callee heard nothing", "the caller heard nothing"]
    );
}

#[test]
fn one_way_audio_is_one_finding_with_the_evidence_of_capture_and_dump() {
    let inputs = [
        "media/pjsua-oneway/call.pcap",
        "media/pjsua-oneway/caller.log",
        "media/pjsua-oneway/callee.log",
    ];
    let found = of_rule("no-media-received", &[], &inputs);
    assert_eq!(found.len(), 1, "{found:?}");
    let msg = &found[0].2;
    assert!(msg.starts_with("the caller heard nothing"), "{msg}");
    assert!(
        msg.contains("300 RTP packets from the caller and none from the callee"),
        "{msg}"
    );
    assert!(
        msg.contains("pjsua call dump counts 0 packets received"),
        "{msg}"
    );
    let evidence = evidence("no-media-received", &inputs);
    assert_eq!(evidence.len(), 1);
    let labels: Vec<&str> = evidence[0].iter().map(|e| e.label.as_str()).collect();
    assert!(
        labels
            .iter()
            .any(|l| l.contains("call.pcap: RTP from the caller to the callee")),
        "{labels:?}"
    );
    assert!(
        labels
            .iter()
            .any(|l| l.starts_with("the caller's pjsua call dump") && l.contains("received 0")),
        "{labels:?}"
    );
}

#[test]
fn the_stop_is_an_error_that_says_when() {
    let found = of_rule("media-stopped", &[], &["media/pjsua-stopped/call.pcap"]);
    assert_eq!(found.len(), 1, "{found:?}");
    let (_, sev, msg) = &found[0];
    assert_eq!(sev, "error");
    assert!(
        msg.starts_with("the callee stopped hearing the caller: the caller's RTP stopped"),
        "{msg}"
    );
    assert!(msg.contains("before the BYE"), "{msg}");
    assert!(msg.contains("the callee's RTP went on"), "{msg}");
    // The call is not silent from the start: that is the other rule's, which stays quiet.
    assert!(of_rule("no-media-received", &[], &["media/pjsua-stopped/call.pcap"]).is_empty());
}

/// A config file with `[thresholds]` `body`, in a temp dir removed on drop.
struct Config(PathBuf);

impl Config {
    fn new(name: &str, body: &str) -> Config {
        let dir = std::env::temp_dir().join(format!("sipflow-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("sipflow.toml");
        std::fs::write(&path, format!("[thresholds]\n{body}\n")).expect("config");
        Config(path)
    }

    fn arg(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn the_thresholds_come_from_the_config() {
    // The no-audio call was up 6.0 s, the caller's RTP stopped 3.9 s before the BYE.
    let long = Config::new("no-media-call-ms", "no-media-call-ms = 7000");
    let args = ["--config", &long.arg()];
    assert!(
        of_rule(
            "no-media-received",
            &args,
            &["media/pjsua-noaudio/call.pcap"]
        )
        .is_empty()
    );
    assert!(
        of_rule(
            "no-media-received",
            &args,
            &["media/pjsua-noaudio/callee.log"]
        )
        .is_empty()
    );
    let short = Config::new("media-stopped-ms", "media-stopped-ms = 4500");
    let args = ["--config", &short.arg()];
    assert!(of_rule("media-stopped", &args, &["media/pjsua-stopped/call.pcap"]).is_empty());
}
