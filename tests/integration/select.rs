//! Selecting calls (`docs/selecting.md`): the options shared by every command, on recordings
//! with calls of every kind (a B2BUA pair, a cancelled call, a busy call, a call whose 200 OK
//! was never ACKed, an IPv6 call from a capture, a registration).

use super::common::{fixtures, sipflow};

/// The inputs: calls 1+2 (B2BUA, answered), 3 (cancelled, 487), 4 (busy, 486), 5 (missing
/// ACK), and the REGISTER flow F1.
fn inputs() -> Vec<String> {
    fixtures(&[
        "b2bua/b2bua.log",
        "cancel-ringing/caller.log",
        "cancel-ringing/callee.log",
        "busy-486/caller.log",
        "busy-486/callee.log",
        "register-401/ua.log",
        "rules/missing-ack/callee.log",
    ])
}

/// The Call-IDs `calls --format json` lists for `args` (selection options).
fn selected(args: &[&str]) -> (Vec<String>, Vec<String>) {
    let inputs = inputs();
    let mut all: Vec<&str> = vec!["calls", "--format", "json"];
    all.extend(args);
    all.extend(inputs.iter().map(String::as_str));
    let run = sipflow(&all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let ids = |key: &str| -> Vec<String> {
        doc[key]
            .as_array()
            .expect("array")
            .iter()
            .map(|c| c["index"].to_string())
            .collect()
    };
    (ids("calls"), ids("flows"))
}

fn calls(args: &[&str]) -> Vec<String> {
    selected(args).0
}

#[test]
fn without_options_everything_is_selected() {
    assert_eq!(
        selected(&[]),
        (strings(&["1", "2", "3", "4", "5"]), strings(&["1"]))
    );
}

fn strings(s: &[&str]) -> Vec<String> {
    s.iter().map(ToString::to_string).collect()
}

#[test]
fn each_option_selects_its_calls() {
    // By index and by Call-ID (repeatable: any of them); a B2BUA leg brings its group.
    assert_eq!(
        calls(&["--call", "4", "--call", "rJLVdOFbpCn3hjHsHsg.YMEDh8NWDfOM"]),
        strings(&["3", "4"])
    );
    assert_eq!(calls(&["--call", "2"]), strings(&["1", "2"]));
    // Final status, by code and by class.
    assert_eq!(calls(&["--status", "486"]), strings(&["4"]));
    assert_eq!(calls(&["--status", "4xx"]), strings(&["3", "4"]));
    assert_eq!(calls(&["--outcome", "cancelled"]), strings(&["3"]));
    // The user part of the To of the B2BUA's outgoing leg, case-insensitive.
    assert_eq!(
        calls(&["--user", "B2BUA", "--status", "2xx"]),
        strings(&["1", "2"])
    );
    assert_eq!(calls(&["--user", "nobody-here"]), strings(&[]));
    // A rule's findings select whether or not `calls` shows them.
    assert_eq!(calls(&["--rule", "SF002"]), strings(&["5"]));
    assert_eq!(calls(&["--rule", "call-rejected"]), strings(&["4"]));
    assert_eq!(
        calls(&["--ip", "127.0.0.0/8", "--method", "CANCEL"]),
        strings(&["3"])
    );
    assert_eq!(calls(&["--ip", "10.0.0.0/8"]), strings(&[]));
    // Log times of day: the B2BUA pair started at 05:40:49, the others at 05:42.
    assert_eq!(calls(&["--until", "05:41"]), strings(&["1", "2"]));
    assert_eq!(
        calls(&["--since", "05:42:13.650", "--until", "05:42:13.700"]),
        strings(&["4"])
    );
}

#[test]
fn flows_are_selected_by_method_and_number() {
    assert_eq!(
        selected(&["--method", "register"]),
        (strings(&[]), strings(&["1"]))
    );
    assert_eq!(selected(&["--call", "F1"]), (strings(&[]), strings(&["1"])));
    // Flows have no outcome.
    assert_eq!(selected(&["--outcome", "answered"]).1, strings(&[]));
}

#[test]
fn check_judges_and_counts_only_the_selected_calls() {
    let inputs = inputs();
    let run = |extra: &[&str]| {
        let mut args = vec!["check", "--format", "concise"];
        args.extend(extra);
        args.extend(inputs.iter().map(String::as_str));
        sipflow(&args)
    };
    let all = run(&[]);
    assert_eq!(all.code, 1, "the missing ACK is an error: {}", all.stdout);
    let busy = run(&["--status", "486"]);
    assert_eq!(busy.code, 0, "{}", busy.stdout);
    assert!(
        busy.stdout.contains("SF027") && !busy.stdout.contains("SF002"),
        "{}",
        busy.stdout
    );
    assert!(
        busy.stdout.lines().all(|l| l.contains("(call 4)")),
        "{}",
        busy.stdout
    );
    let missing = run(&["--call", "5"]);
    assert_eq!(missing.code, 1, "{}", missing.stdout);
}

#[test]
fn events_and_flow_show_only_the_selected_calls() {
    let inputs = inputs();
    let mut args = vec!["events", "--status", "486"];
    args.extend(inputs.iter().map(String::as_str));
    let run = sipflow(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.is_empty());
    for line in run.stdout.lines() {
        let ev: serde_json::Value = serde_json::from_str(line).expect("jsonl");
        assert_eq!(ev["call"], 4, "{line}");
    }
    let mut args = vec!["flow", "--outcome", "busy"];
    args.extend(inputs.iter().map(String::as_str));
    let run = sipflow(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("Call 4:"), "{}", run.stdout);
    assert_eq!(run.stdout.matches("\nCall ").count(), 0, "{}", run.stdout);
}

#[test]
fn bad_values_are_usage_errors() {
    for (option, value) in [
        ("--status", "9xx"),
        ("--ip", "host.example"),
        ("--outcome", "happy"),
        ("--since", "25:00"),
        ("--rule", "no-such-rule"),
    ] {
        let run = sipflow(&[
            "calls",
            option,
            value,
            &fixtures(&["busy-486/caller.log"])[0],
        ]);
        assert_eq!(run.code, 2, "{option} {value}: {}", run.stderr);
        assert!(run.stderr.contains(value), "{}", run.stderr);
    }
}
