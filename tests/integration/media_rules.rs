//! The media rules (`packet-loss`, `high-jitter`, `codec-mismatch`, `media-address-mismatch`),
//! and `no-common-codec` against the RTP that flowed, on recordings: each fires on its positive
//! recording, with the figures `sipflow media` and tshark give, and none fires on any other
//! fixture (the public captures with RTP: `media_tshark::media_rules_on_public_captures`).

use std::path::{Path, PathBuf};

use super::common::{fixture, root, sipflow};

const MEDIA_RULES: &str = "packet-loss,high-jitter,codec-mismatch,media-address-mismatch";

/// (severity, rule name, message) of each finding of the media rules on `inputs`.
pub fn findings(extra: &[&str], inputs: &[&str]) -> Vec<(String, String, String)> {
    let mut args = vec!["--select", MEDIA_RULES];
    args.extend_from_slice(extra);
    args.extend_from_slice(inputs);
    concise(&args)
}

/// (severity, rule name, message) of each finding of every rule on `inputs`.
fn every_finding(inputs: &[&str]) -> Vec<(String, String, String)> {
    concise(inputs)
}

/// (severity, rule name, message) of each finding of `sipflow check --format concise ARGS`.
fn concise(rest: &[&str]) -> Vec<(String, String, String)> {
    let mut args = vec!["check", "--format", "concise"];
    args.extend_from_slice(rest);
    let run = sipflow(&args);
    assert!(
        run.code == 0 || run.code == 1,
        "sipflow {args:?}: {}",
        run.stderr
    );
    run.stdout
        .lines()
        .filter_map(|l| {
            // `<where>: <severity>[<code> <name>] (call n) <message>`
            let (head, rest) = l.split_once('[')?;
            let severity = head.rsplit(' ').next()?.to_string();
            let (rule, message) = rest.split_once("] ")?;
            let name = rule.split_once(' ')?.1.to_string();
            Some((severity, name, message.to_string()))
        })
        .collect()
}

#[test]
fn packet_loss_fires_on_the_lossy_recording_from_capture_rtcp_and_dump() {
    // 19 of the caller's 199 packets dropped by an nftables egress rule (README of
    // fixtures/media; `sipflow media` and tshark both say 19 lost).
    let pcap = fixture("media/pjsua-loss/call.pcap");
    let got = findings(&[], &[&pcap]);
    assert_eq!(got.len(), 1, "{got:?}");
    let (sev, rule, msg) = &got[0];
    assert_eq!((sev.as_str(), rule.as_str()), ("warning", "packet-loss"));
    assert!(
        msg.contains("caller→callee 10.77.5.1:48560 → 10.77.5.2:48540"),
        "{msg}"
    );
    assert!(msg.contains("the capture: 19 of 199 lost (9.5 %)"), "{msg}");
    assert!(
        msg.contains("the receiver's RTCP reports: 19 of 199 lost"),
        "{msg}"
    );
    assert!(msg.contains("the callee hears the gaps"), "{msg}");

    // The callee's own call dump says the same, without any capture.
    let callee = fixture("media/pjsua-loss/callee.log");
    let got = findings(&[], &[&callee]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0]
            .2
            .contains("the receiver's pjsua call dump: 19 of 199 lost (9.5 %)")
            && got[0].2.contains("the callee hears"),
        "{got:?}"
    );
    // The caller's dump: its RX (the callee's RTP) lost nothing.
    assert_eq!(
        findings(&[], &[&fixture("media/pjsua-loss/caller.log")]),
        []
    );

    // Capture and both logs together: one finding, the dump joined to the captured stream.
    let caller = fixture("media/pjsua-loss/caller.log");
    let got = findings(&[], &[&pcap, &callee, &caller]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].2.contains("the capture: 19 of 199")
            && got[0]
                .2
                .contains("the receiver's pjsua call dump: 19 of 199"),
        "{got:?}"
    );
}

#[test]
fn the_loss_threshold_comes_from_the_config() {
    let dir = std::env::temp_dir().join(format!("sipflow-media-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("sipflow.toml");
    let pcap = fixture("media/pjsua-loss/call.pcap");
    let with = |text: &str| {
        std::fs::write(&config, text).expect("write config");
        findings(
            &["--config", config.to_str().expect("utf-8 path")],
            &[&pcap],
        )
    };
    // 9.5 % is under a 10 % threshold.
    assert_eq!(with("[thresholds]\npacket-loss-percent = 10\n"), []);
    // A stream of 199 expected packets is under a 200-packet minimum.
    assert_eq!(with("[thresholds]\npacket-loss-min-packets = 200\n"), []);
    // Jitter of about 0.7 ms mean and 1.25 ms max, both ways, is over 0 ms mean and 1 ms max.
    let got = with("[thresholds]\njitter-mean-ms = 0\njitter-max-ms = 1\n");
    assert!(
        got.iter().filter(|f| f.1 == "high-jitter").count() == 2
            && got.iter().all(|f| f.1 != "high-jitter" || f.0 == "warning"),
        "{got:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn high_jitter_fires_on_the_jittery_recording_and_not_from_pjsuas_dump() {
    // Half of the caller's RTP held 0-120 ms by a bridge: RFC 3550 jitter (sipflow and tshark)
    // well over 30 ms mean and 50 ms max; the other direction is clean.
    let got = findings(&[], &[&fixture("media/pjsua-jitter/call.pcap")]);
    assert_eq!(got.len(), 1, "{got:?}");
    let (sev, rule, msg) = &got[0];
    assert_eq!((sev.as_str(), rule.as_str()), ("warning", "high-jitter"));
    assert!(
        msg.contains("caller→callee 10.78.1.1:51720 → 10.78.1.2:51700")
            && msg.contains("the capture: mean 33.9 ms, max 56.2 ms")
            && msg.contains("the callee hears it"),
        "{msg}"
    );
    // pjmedia leaves reordered packets out of its jitter: the callee's dump says 7.9 ms mean,
    // 15.8 ms max, under the thresholds; no finding from the logs alone.
    let logs = [
        fixture("media/pjsua-jitter/callee.log"),
        fixture("media/pjsua-jitter/caller.log"),
    ];
    assert_eq!(findings(&[], &[&logs[0], &logs[1]]), []);
}

#[test]
fn media_address_mismatch_fires_behind_a_masquerading_nat() {
    // The caller's SDP names 192.168.77.2; its RTP reaches the callee from the router's
    // 203.0.113.1:51820, and the callee, once latched, sends there.
    let got = findings(&[], &[&fixture("media/pjsua-nat/call.pcap")]);
    assert_eq!(got.len(), 1, "{got:?}");
    let (sev, rule, msg) = &got[0];
    assert_eq!(
        (sev.as_str(), rule.as_str()),
        ("warning", "media-address-mismatch")
    );
    assert!(
        msg.contains(
            "caller→callee 203.0.113.1:51820 → 203.0.113.2:51800 (SSRC 0x2C317C43) comes from \
             203.0.113.1:51820, which no SDP of the call named"
        ) && msg.contains(
            "callee→caller 203.0.113.2:51800 → 203.0.113.1:51820 (SSRC 0x1489BBEF) goes to \
             203.0.113.1:51820, which no SDP of the call named"
        ) && msg.contains("the SDP names the private address 192.168.77.2"),
        "{msg}"
    );
    // The SIP side of the same NAT: private-address-in-sdp, which the finding points to.
    let run = sipflow(&[
        "check",
        "--format",
        "concise",
        "--select",
        "private-address-in-sdp",
        &fixture("media/pjsua-nat/call.pcap"),
    ]);
    assert!(
        run.stdout.contains("SF011 private-address-in-sdp"),
        "{}",
        run.stdout
    );
}

#[test]
fn codec_mismatch_fires_on_pcma_played_into_a_pcmu_call() {
    // Both SDPs are PCMU only; SIPp plays PCMA (static type 8) and the UAS echoes it.
    let got = findings(&[], &[&fixture("media/sipp-pcma-in-pcmu/call.pcap")]);
    assert_eq!(got.len(), 2, "{got:?}");
    for (sev, rule, msg) in &got {
        assert_eq!((sev.as_str(), rule.as_str()), ("error", "codec-mismatch"));
        assert!(
            msg.contains("RTP payload type 8 (PCMA) not negotiated"),
            "{msg}"
        );
        assert!(msg.contains("the receiver's SDP lists 0 on"), "{msg}");
    }
    assert!(got.iter().any(|f| f.2.contains("the callee cannot play")));
    assert!(got.iter().any(|f| f.2.contains("the caller cannot play")));
}

#[test]
fn no_common_codec_is_a_warning_when_media_flowed_both_ways() {
    // The UAC offers PCMU only, the UAS answers G.729 only, and PCMU flows both ways anyway
    // (the UAC streams it, the UAS echoes it): the SDP exchange is wrong, the call had media.
    let got = every_finding(&[&fixture("media/sipp-answer-g729/call.pcap")]);
    assert_eq!(got.len(), 1, "{got:?}");
    let (sev, rule, msg) = &got[0];
    assert_eq!(
        (sev.as_str(), rule.as_str()),
        ("warning", "no-common-codec")
    );
    assert!(
        msg.contains("the answer's G729/8000 shares no codec with the offer's PCMU/8000"),
        "{msg}"
    );
    assert!(
        msg.contains(
            "the SDP exchange is wrong, but media flowed: RTP of payload type 0 (PCMU) both \
             ways, 150 packets caller→callee and 150 callee→caller"
        ),
        "{msg}"
    );
    // codec-mismatch leaves those payload types to no-common-codec.
    assert!(got.iter().all(|f| f.1 != "codec-mismatch"), "{got:?}");
}

#[test]
fn no_common_codec_stays_an_error_when_no_media_flowed() {
    // pjsua2 offered its codecs, a SIPp UAS answered G.729 only; no RTP in the capture, and
    // the caller hung up (`SDP negotiation failed`).
    for input in [
        "rules-call-extra/answer-g729/call.pcap",
        "rules-call-extra/answer-g729/caller.log",
    ] {
        let got = every_finding(&[&fixture(input)]);
        let codec: Vec<_> = got.iter().filter(|f| f.1 == "no-common-codec").collect();
        assert_eq!(codec.len(), 1, "{input}: {got:?}");
        assert_eq!(codec[0].0, "error", "{input}: {got:?}");
        assert!(!codec[0].2.contains("media flowed"), "{input}: {got:?}");
    }
}

#[test]
fn codec_mismatch_fires_on_an_rtp_avp_answer_to_an_srtp_offer() {
    // The UAC offers PCMU over RTP/SAVP with an a=crypto line, the UAS answers RTP/AVP; plain
    // PCMU then flows both ways (SIPp has no SRTP). The profile switch is the one finding.
    let got = every_finding(&[&fixture("media/sipp-avp-to-savp/call.pcap")]);
    assert_eq!(
        got,
        vec![(
            "error".to_string(),
            "codec-mismatch".to_string(),
            "(call 1) m= line 1 (audio): an RTP/AVP answer to an RTP/SAVP offer: the offerer \
             uses SRTP, the answerer plain RTP"
                .to_string()
        )]
    );
}

pub fn inputs_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            inputs_under(&p, out);
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| matches!(x, "pcap" | "pcapng" | "cap" | "log"))
        {
            out.push(p);
        }
    }
}

#[test]
fn media_rules_are_silent_on_every_other_fixture() {
    let positives = [
        "fixtures/media/pjsua-loss/call.pcap",
        "fixtures/media/pjsua-loss/callee.log",
        "fixtures/media/pjsua-jitter/call.pcap",
        "fixtures/media/pjsua-nat/call.pcap",
        "fixtures/media/sipp-pcma-in-pcmu/call.pcap",
        "fixtures/media/sipp-avp-to-savp/call.pcap",
    ];
    let mut files = Vec::new();
    inputs_under(&root().join("fixtures"), &mut files);
    files.sort();
    let mut checked = 0;
    let mut loud = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(root())
            .unwrap_or(f)
            .to_string_lossy()
            .into_owned();
        if positives.contains(&rel.as_str()) {
            continue;
        }
        checked += 1;
        for finding in findings(&[], &[&rel]) {
            loud.push(format!("{rel}: {finding:?}"));
        }
    }
    // The healthy media recordings are among them.
    assert!(checked > 200, "{checked} inputs");
    assert!(loud.is_empty(), "{}", loud.join("\n"));
}
