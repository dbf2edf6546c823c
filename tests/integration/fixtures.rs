//! `sipflow calls` on every recorded fixture lists exactly the calls in it, with the right
//! outcomes and final statuses (see fixtures/README.md for how each was recorded).

use super::common::{calls_json, fixture, outcomes};

type Expect = &'static [(&'static str, Option<u64>)];

const ANSWERED: Expect = &[("answered", Some(200))];

/// (inputs, expected calls as (outcome, final status), expected flows as (method, status)).
const CASES: &[(&[&str], Expect, Expect)] = &[
    (&["basic-call/caller.log"], ANSWERED, &[]),
    (&["basic-call/callee.log"], ANSWERED, &[]),
    (
        &["call-freed-early/caller.log"],
        &[("rejected", Some(603))],
        &[],
    ),
    (
        &["call-freed-early/callee.log"],
        &[("rejected", Some(603))],
        &[],
    ),
    (&["call-freed-after-answer/caller.log"], ANSWERED, &[]),
    (&["call-freed-after-answer/callee.log"], ANSWERED, &[]),
    (&["decline-603/caller.log"], &[("rejected", Some(603))], &[]),
    (&["decline-603/callee.log"], &[("rejected", Some(603))], &[]),
    (&["busy-486/caller.log"], &[("busy", Some(486))], &[]),
    (&["busy-486/callee.log"], &[("busy", Some(486))], &[]),
    (
        &["cancel-ringing/caller.log"],
        &[("cancelled", Some(487))],
        &[],
    ),
    (
        &["cancel-ringing/callee.log"],
        &[("cancelled", Some(487))],
        &[],
    ),
    (&["tcp-call/caller.log"], ANSWERED, &[]),
    (&["tcp-call/callee.log"], ANSWERED, &[]),
    (&["ipv6-call/caller.log"], ANSWERED, &[]),
    (&["ipv6-call/callee.log"], ANSWERED, &[]),
    (&["big-invite-cut/caller.log"], &[("busy", Some(486))], &[]),
    (&["big-invite-cut/callee.log"], &[("busy", Some(486))], &[]),
    (&["python-logging/caller.log"], ANSWERED, &[]),
    (&["python-logging/callee.log"], ANSWERED, &[]),
    (&["decor-variants/date-dayname/caller.log"], ANSWERED, &[]),
    (&["decor-variants/date-dayname/callee.log"], ANSWERED, &[]),
    (&["decor-variants/thread-level/caller.log"], ANSWERED, &[]),
    (&["decor-variants/thread-level/callee.log"], ANSWERED, &[]),
    (&["decor-variants/full-color/caller.log"], ANSWERED, &[]),
    (&["decor-variants/full-color/callee.log"], ANSWERED, &[]),
    (
        &["decor-variants/full-color/caller.console.log"],
        ANSWERED,
        &[],
    ),
    (
        &["derive/basic-call.caller.sender14.derived.log"],
        ANSWERED,
        &[],
    ),
    (
        &["derive/basic-call.caller.midnight.derived.log"],
        ANSWERED,
        &[],
    ),
    (
        &["derive/call-freed-early.callee.logcat.derived.log"],
        &[("rejected", Some(603))],
        &[],
    ),
    (&["register-401/ua.log"], &[], &[("REGISTER", Some(200))]),
    (
        &["register-401/registrar.msg"],
        &[],
        &[("REGISTER", Some(200))],
    ),
    (&["register-403/ua.log"], &[], &[("REGISTER", Some(403))]),
    (
        &["register-403/registrar.msg"],
        &[],
        &[("REGISTER", Some(403))],
    ),
    (&["b2bua/caller.log"], ANSWERED, &[]),
    (&["b2bua/callee.log"], ANSWERED, &[]),
    (
        &["b2bua/b2bua.log"],
        &[("answered", Some(200)), ("answered", Some(200))],
        &[],
    ),
];

fn flows(doc: &serde_json::Value) -> Vec<(String, Option<u64>)> {
    doc["flows"]
        .as_array()
        .expect("flows array")
        .iter()
        .map(|f| {
            (
                f["method"].as_str().expect("method").to_string(),
                f["final_status"].as_u64(),
            )
        })
        .collect()
}

fn owned(e: Expect) -> Vec<(String, Option<u64>)> {
    e.iter().map(|(s, c)| (s.to_string(), *c)).collect()
}

#[test]
fn every_fixture_lists_exactly_its_calls() {
    for (inputs, calls, fl) in CASES {
        let paths: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let doc = calls_json(&refs);
        assert_eq!(outcomes(&doc), owned(calls), "calls of {inputs:?}");
        assert_eq!(flows(&doc), owned(fl), "flows of {inputs:?}");
    }
}

/// Both ends' logs of one call give one call, with each wire message counted once.
#[test]
fn both_ends_of_a_call_are_one_call() {
    for dir in [
        "basic-call",
        "call-freed-early",
        "call-freed-after-answer",
        "decline-603",
        "busy-486",
        "cancel-ringing",
        "tcp-call",
        "ipv6-call",
        "big-invite-cut",
        "python-logging",
    ] {
        let caller = fixture(&format!("{dir}/caller.log"));
        let callee = fixture(&format!("{dir}/callee.log"));
        let one = calls_json(&[&caller]);
        let both = calls_json(&[&caller, &callee]);
        assert_eq!(outcomes(&both), outcomes(&one), "{dir}");
        let n = |d: &serde_json::Value| d["calls"][0]["messages"].as_u64();
        assert_eq!(n(&both), n(&one), "{dir}: messages counted twice");
        let pj = both["calls"][0]["pjsua_calls"]
            .as_array()
            .expect("pjsua_calls")
            .len();
        assert_eq!(pj, 2, "{dir}: both logs' pjsua call 0 link to the call");
    }
}

#[test]
fn registrar_trace_and_ua_log_are_one_registration() {
    let ua = fixture("register-401/ua.log");
    let sipp = fixture("register-401/registrar.msg");
    let doc = calls_json(&[&ua, &sipp]);
    assert_eq!(flows(&doc), vec![("REGISTER".to_string(), Some(200))]);
    assert_eq!(doc["flows"][0]["messages"], 6);
}

#[test]
fn call_metrics_of_the_basic_call() {
    let doc = calls_json(&[
        &fixture("basic-call/caller.log"),
        &fixture("basic-call/callee.log"),
    ]);
    let call = &doc["calls"][0];
    assert_eq!(call["messages"], 7);
    assert_eq!(call["hung_up_by"], "caller");
    assert_eq!(call["retransmissions"], 0);
    assert!(
        call["setup_ms"]
            .as_i64()
            .is_some_and(|ms| (0..1000).contains(&ms)),
        "{call}"
    );
    assert!(
        call["answer_ms"]
            .as_i64()
            .is_some_and(|ms| (0..5000).contains(&ms)),
        "{call}"
    );
    assert!(
        call["duration_ms"]
            .as_i64()
            .is_some_and(|ms| (500..5000).contains(&ms)),
        "{call}"
    );
    assert_eq!(call["dialogs"].as_array().map(Vec::len), Some(1));
    assert_eq!(call["dialogs"][0]["confirmed"], true);
}

#[test]
fn callee_hangup_and_cancel_are_attributed() {
    let after = calls_json(&[&fixture("call-freed-after-answer/callee.log")]);
    assert_eq!(after["calls"][0]["hung_up_by"], "callee");
    let cancel = calls_json(&[&fixture("cancel-ringing/caller.log")]);
    assert_eq!(cancel["calls"][0]["hung_up_by"], "caller");
    assert!(cancel["calls"][0]["setup_ms"].is_i64());
    assert!(cancel["calls"][0]["duration_ms"].is_null());
}

#[test]
fn midnight_rollover_keeps_order_and_duration() {
    let doc = calls_json(&[&fixture("derive/basic-call.caller.midnight.derived.log")]);
    let call = &doc["calls"][0];
    assert!(
        call["duration_ms"].as_i64().is_some_and(|ms| ms > 0),
        "{call}"
    );
    assert_eq!(call["messages"], 7);
}

#[test]
fn b2bua_legs_are_linked_into_one_group() {
    let doc = calls_json(&[
        &fixture("b2bua/caller.log"),
        &fixture("b2bua/b2bua.log"),
        &fixture("b2bua/callee.log"),
    ]);
    let calls = doc["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 2, "two legs: {doc}");
    assert_eq!(calls[0]["group"], 1);
    assert_eq!(calls[1]["group"], 1);
    assert_eq!(calls[0]["linked"], serde_json::json!([2]));
    assert_eq!(calls[1]["linked"], serde_json::json!([1]));
    // Without the correlation headers, the legs stay apart.
    let run = super::common::sipflow(&[
        "calls",
        "--format",
        "json",
        "--correlation-header",
        "X-None",
        &fixture("b2bua/b2bua.log"),
    ]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["calls"][1]["group"], 2);
}

/// A call seen in both UAs' logs and in a capture is one call: each wire message once, with
/// every vantage point, and the logs' clocks moved onto the capture's.
#[test]
fn logs_and_capture_of_one_call_are_one_call() {
    for (dir, msgs) in [("pjsua-udp", 7), ("pjsua-freed-early", 4), ("ipv6", 7)] {
        let caller = fixture(&format!("captures/{dir}/caller.log"));
        let callee = fixture(&format!("captures/{dir}/callee.log"));
        let pcap = fixture(&format!("captures/{dir}/call.pcap"));
        for inputs in [
            vec![&caller, &pcap],
            vec![&pcap, &callee],
            vec![&caller, &callee, &pcap],
        ] {
            let doc = calls_json(&inputs.iter().map(|s| s.as_str()).collect::<Vec<_>>());
            assert_eq!(
                doc["calls"].as_array().map(Vec::len),
                Some(1),
                "{dir} {inputs:?}"
            );
            assert_eq!(doc["calls"][0]["messages"], msgs, "{dir} {inputs:?}");
            let start = doc["calls"][0]["start"].as_str().expect("start");
            assert!(
                start.starts_with("20"),
                "{dir}: the log clock joins the capture's: {start}"
            );
            for input in doc["inputs"].as_array().expect("inputs") {
                if input["format"] == "pjsip" {
                    // The skew, not the date: the logs and the capture were made on one
                    // machine, and pjsip logs its local time (at most half a day from UTC).
                    let skew = input["clock_offset_ms"].as_i64().expect("clock_offset_ms");
                    assert!(skew.abs() <= 12 * 3_600_000, "{dir}: {input}");
                    // The date comes apart, the capture's.
                    let date = input["clock_date"].as_str().expect("clock_date");
                    assert!(start.starts_with(date), "{dir}: {input} {start}");
                }
            }
        }
    }
}
