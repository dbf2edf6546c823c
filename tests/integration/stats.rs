//! `sipflow stats` on recordings whose calls are known (the inputs of `select.rs`): a B2BUA
//! pair and a call whose 200 OK was never ACKed (answered), a cancelled call, a busy call, and a
//! registration that got a 401 before its 200.

use super::common::{fixtures, sipflow};

fn stats(args: &[&str]) -> serde_json::Value {
    let inputs = fixtures(&[
        "b2bua/b2bua.log",
        "cancel-ringing/caller.log",
        "cancel-ringing/callee.log",
        "busy-486/caller.log",
        "busy-486/callee.log",
        "register-401/ua.log",
        "rules/missing-ack/callee.log",
    ]);
    let mut all = vec!["stats", "--format", "json"];
    all.extend(args);
    all.extend(inputs.iter().map(String::as_str));
    let run = sipflow(&all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("stats json")
}

#[test]
fn call_figures_follow_the_outcomes() {
    let s = stats(&[]);
    assert_eq!(s["calls"], 5);
    assert_eq!(
        s["outcomes"],
        serde_json::json!({"answered": 3, "busy": 1, "cancelled": 1})
    );
    // Busy and cancelled calls are no answer (ASR) but the network's success (NER).
    assert_eq!(s["seizures"], 5);
    assert_eq!(s["asr"], 60.0);
    assert_eq!(s["ner"], 100.0);
    assert_eq!(s["registrations"], serde_json::json!({"200": 1}));
    assert_eq!(s["requests"]["REGISTER"], 3);
    assert_eq!(s["responses"]["401"], 1);
    // The missing ACK: the callee resent its 200 OK ten times.
    assert!(s["retransmissions"].as_u64().expect("count") >= 10, "{s}");
    assert_eq!(s["setup_time_ms"]["count"], 3);
    assert!(s["acd_ms"].as_i64().expect("acd") > 0);
    assert!(s.get("series").is_none());
}

#[test]
fn figures_count_only_the_selected_calls() {
    let busy = stats(&["--status", "486"]);
    assert_eq!(busy["calls"], 1);
    assert_eq!(busy["outcomes"], serde_json::json!({"busy": 1}));
    // INVITE, 100, 486, ACK: the busy call's messages only.
    assert_eq!(busy["messages"], 4);
    assert_eq!(busy["asr"], 0.0);
    assert_eq!(
        busy["top_failures"],
        serde_json::json!([{"status": 486, "count": 1}])
    );
    assert_eq!(busy["registrations"], serde_json::json!({}));
}

#[test]
fn a_series_buckets_calls_by_their_start() {
    let s = stats(&["--by", "minute"]);
    let series = s["series"].as_array().expect("series");
    let calls: u64 = series
        .iter()
        .map(|b| b["calls"].as_u64().expect("calls"))
        .sum();
    let messages: u64 = series
        .iter()
        .map(|b| b["messages"].as_u64().expect("n"))
        .sum();
    assert_eq!(calls, 5);
    assert_eq!(messages, s["messages"].as_u64().expect("n"));
    assert_eq!(series[0]["start"], "05:40:00.000");
    assert_eq!(series[0]["calls"], 2);
}

#[test]
fn the_table_names_each_figure() {
    let run = sipflow(&["stats", &fixtures(&["busy-486/caller.log"])[0]]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for part in [
        "SIP messages: 4",
        "486 Busy Here",
        "ASR 0.0%  NER 100.0%  over 1 seizures",
    ] {
        assert!(run.stdout.contains(part), "{part}:\n{}", run.stdout);
    }
}
