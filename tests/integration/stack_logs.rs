//! Other SIP stacks' logs (baresip, Kamailio, sofia-sip) of one recorded call, read alone and
//! together with the capture of the same traffic (`fixtures/stacks/`): the same call, outcome
//! and final status whichever form it comes in, and one call, not several, when both ends'
//! logs and the capture are read together.

use super::common::{calls_json, fixture, outcomes};

/// The call and the OPTIONS flow of `inputs` (under `fixtures/stacks/`): (Call-ID, outcome,
/// final status, messages) of each call, and (method, final status, messages) of each flow.
type Summary = (
    Vec<(String, String, Option<u64>, u64)>,
    Vec<(String, u64, u64)>,
);

fn summary(inputs: &[&str]) -> Summary {
    let paths: Vec<String> = inputs
        .iter()
        .map(|i| fixture(&format!("stacks/{i}")))
        .collect();
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();
    let doc = calls_json(&args);
    let calls = doc["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .zip(outcomes(&doc))
        .map(|(c, (outcome, status))| {
            let msgs = c["messages"].as_u64().unwrap_or(0);
            (
                c["call_id"].as_str().unwrap_or_default().to_string(),
                outcome,
                status,
                msgs,
            )
        })
        .collect();
    let flows = doc["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .map(|f| {
            let msgs = f["messages"].as_u64().unwrap_or(0);
            (
                f["method"].as_str().unwrap_or_default().to_string(),
                f["final_status"].as_u64().unwrap_or(0),
                msgs,
            )
        })
        .collect();
    (calls, flows)
}

/// Each log alone gives the call the capture gives: answered, 200, with the messages that
/// stack saw (baresip: its 6; the proxy: the 12 in and out); sofia-sip's log gives the ping.
#[test]
fn each_stack_log_gives_the_call_of_the_capture() {
    let (capture, capture_flows) = summary(&["call.pcap"]);
    assert_eq!(capture.len(), 1, "{capture:?}");
    let (id, outcome, status, msgs) = &capture[0];
    assert_eq!(
        (outcome.as_str(), *status, *msgs),
        ("answered", Some(200), 12)
    );
    assert_eq!(capture_flows, [("OPTIONS".to_string(), 200, 2)]);
    for (log, seen) in [("baresip.log", 6), ("kamailio.log", 12)] {
        let (calls, _) = summary(&[log]);
        assert_eq!(
            calls,
            [(id.clone(), outcome.clone(), *status, seen)],
            "{log}"
        );
    }
    let (calls, flows) = summary(&["sofia.log"]);
    assert!(calls.is_empty());
    assert_eq!(flows, capture_flows);
}

/// Both ends' logs in two stacks' formats and the capture are one call: every message seen
/// by baresip, by the proxy and on the wire is one wire message with several vantage points
/// (the capture's 12, no more), and the OPTIONS ping seen by sofia-sip and on the wire is one.
#[test]
fn both_ends_logs_and_the_capture_are_one_call() {
    let all = summary(&["baresip.log", "kamailio.log", "sofia.log", "call.pcap"]);
    assert_eq!(all, summary(&["call.pcap"]));
    let logs = summary(&["baresip.log", "kamailio.log"]);
    assert_eq!(logs.0, summary(&["kamailio.log"]).0);
}

/// baresip 1.0 and Kamailio on stderr print no times: read with the capture, their messages
/// take the times of the capture's copies, so the call lasts what it lasted on the wire (not
/// 0 s) and the findings are the capture's (before, a BYE "0 ms after the ACK" was reported).
#[test]
fn logs_without_times_take_the_captures_times() {
    let path = |i: &str| fixture(&format!("stacks/{i}"));
    let duration = |inputs: &[&str]| {
        let paths: Vec<String> = inputs.iter().map(|i| path(i)).collect();
        let args: Vec<&str> = paths.iter().map(String::as_str).collect();
        let doc = calls_json(&args);
        (
            doc["calls"][0]["start"].to_string(),
            doc["calls"][0]["duration_ms"].to_string(),
        )
    };
    let capture = duration(&["call.pcap"]);
    assert_ne!(capture.1, "null", "{capture:?}");
    for logs in [
        &["baresip.log"][..],
        &["kamailio.log"],
        &["baresip.log", "kamailio.log"],
    ] {
        let mut inputs = logs.to_vec();
        inputs.push("call.pcap");
        assert_eq!(duration(&inputs), capture, "{inputs:?}");
        let mut args = vec!["check".to_string(), "--format".into(), "concise".into()];
        args.extend(inputs.iter().map(|i| path(i)));
        let run = super::common::sipflow(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(run.stdout, "", "{inputs:?}: {}", run.stdout);
    }
}

/// sngrep's text saves (made by the real sngrep 1.6 through its Save dialog,
/// `fixtures/derived-text/make.sh`) give the calls, outcomes, final statuses and message counts
/// their captures give (UDP, IPv6), alone and with the capture; the TCP one holds only what
/// sngrep saved (it lost 21 of 140 messages) and, read with its capture, gives the capture's.
#[test]
fn sngrep_texts_give_their_captures_calls() {
    let calls = |inputs: &[String]| {
        let args: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let doc = calls_json(&args);
        let mut calls: Vec<(String, String, Option<u64>, u64)> = doc["calls"]
            .as_array()
            .expect("calls")
            .iter()
            .zip(outcomes(&doc))
            .map(|(c, (outcome, status))| {
                (
                    c["call_id"].as_str().unwrap_or_default().to_string(),
                    outcome,
                    status,
                    c["messages"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        calls.sort();
        calls
    };
    for (text, capture, n) in [
        ("pjsua-udp.txt", "captures/pjsua-udp/call.pcap", 1),
        ("sipp-tcp-big.txt", "captures/sipp-tcp-big/tcp.pcap", 20),
        ("ipv6.txt", "captures/ipv6/call.pcap", 1),
    ] {
        let text = fixture(&format!("derived-text/sngrep/{text}"));
        let capture = fixture(capture);
        let want = calls(std::slice::from_ref(&capture));
        assert_eq!(want.len(), n, "{capture}");
        assert_eq!(
            calls(&[capture, text.clone()]),
            want,
            "{text} with its capture"
        );
        let alone = calls(std::slice::from_ref(&text));
        if text.ends_with("sipp-tcp-big.txt") {
            // sngrep 1.6 saved 119 of the capture's 140 messages (its TCP reassembly lost the
            // rest): every message of the text is read, and no call is invented.
            let saved = std::fs::read_to_string(&text).expect("text");
            let headers = saved.lines().filter(|l| l.contains(" -> ")).count();
            assert_eq!(headers, 119);
            assert_eq!(alone.iter().map(|c| c.3).sum::<u64>(), 119);
            assert_eq!(alone.len(), want.len());
        } else {
            assert_eq!(alone, want, "{text}");
        }
    }
}
