//! `check` written window by window (`dialog::window`) says what holding the whole input says.
//!
//! The reference is one window (`--limit window-events` larger than the input); the streamed
//! runs cut the stream as often as the windowing allows. Findings are compared without call
//! numbers (calls are numbered per window, so they may be numbered in another order).

use std::path::{Path, PathBuf};

use super::common::{data, derive_many, fixture, root, sipflow};

/// `check --format concise` findings, sorted, without `(call N)`.
fn findings(input: &str, window_events: &str) -> Vec<String> {
    let limit = format!("window-events={window_events}");
    let run = sipflow(&["check", "--format", "concise", "--limit", &limit, input]);
    assert!(matches!(run.code, 0 | 1), "{input}: {}", run.stderr);
    let mut out: Vec<String> = run
        .stdout
        .lines()
        .map(|l| match (l.find(" (call "), l.find(") ")) {
            (Some(a), Some(b)) if b > a => format!("{}{}", &l[..a], &l[b + 1..]),
            _ => l.to_string(),
        })
        .collect();
    out.sort();
    out
}

/// A pjsip log of `copies` calls derived from the recorded log `rel`, written as `name` in
/// `target/streaming/`.
fn derived(name: &str, rel: &str, copies: usize) -> PathBuf {
    let dir = root().join("target").join("streaming");
    std::fs::create_dir_all(&dir).expect("target/streaming");
    let path = dir.join(name);
    derive_many(rel, copies, &path);
    path
}

/// Every recorded input in `fixtures/`.
fn fixture_inputs(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            fixture_inputs(&p, out);
        } else if p
            .extension()
            .is_some_and(|e| e == "log" || e == "pcap" || e == "pcapng")
            && !p.to_string_lossy().contains(".derived.")
        {
            let rel = p.strip_prefix(root()).unwrap_or(&p);
            out.push(rel.to_string_lossy().into_owned());
        }
    }
}

#[test]
fn small_windows_give_the_findings_of_one_window_for_every_fixture() {
    let mut inputs = Vec::new();
    fixture_inputs(&root().join("fixtures"), &mut inputs);
    assert!(inputs.len() > 50, "fixtures found: {}", inputs.len());
    let mut judged = 0;
    for input in &inputs {
        let whole = findings(input, "1G");
        judged += whole.len();
        // Sweeps over many Call-IDs: scanner-traffic reports a source once, with its counts as
        // of the window where it was first seen attacking (see its docs), and with 16-event
        // windows registration-failed and auth-failed split one registration's many attempts
        // (and a proxy's two hops of one REGISTER) across windows. Judged by the rule cases.
        if input.contains("rules-traffic/scanner-") {
            continue;
        }
        // pjsua writes its call dump after the call's last message, when the call has closed:
        // a window keeps a call that just closed for its stragglers only while it holds at
        // most a quarter of a window (4 events here, 1024 by default), so with 16-event
        // windows the dump misses its call and the rules that read it (`no-media-received`,
        // `packet-loss`, `high-jitter`) may lack that evidence. They never find something else.
        let dump = |f: &String| {
            ["no-media-received", "packet-loss", "high-jitter"]
                .iter()
                .any(|r| f.contains(r))
        };
        let small = findings(input, "16");
        assert!(
            small.iter().filter(|f| dump(f)).all(|f| whole.contains(f)),
            "{input}"
        );
        let rest = |v: &[String]| v.iter().filter(|f| !dump(f)).cloned().collect::<Vec<_>>();
        assert_eq!(rest(&small), rest(&whole), "{input}");
    }
    assert!(judged > 50, "the fixtures have findings: {judged}");
}

/// Hundreds of calls (recordings repeated with unique ids): windows of 64 events judge each call
/// as one window would, the flagship rule included, and a redirect is still seen followed.
#[test]
fn many_calls_judged_window_by_window_as_in_one_window() {
    for (rel, copies, expect) in [
        (
            "call-freed-early/caller.log",
            300,
            Some("SF001 call-object-freed-early"),
        ),
        ("rules/redirect-followed/caller.log", 200, None),
        ("basic-call/caller.log", 300, None),
    ] {
        let path = derived(&rel.replace('/', "-"), rel, copies);
        let input = path.to_string_lossy();
        let whole = findings(&input, "1G");
        let streamed = findings(&input, "64");
        assert_eq!(streamed, whole, "{rel}");
        let hits = streamed
            .iter()
            .filter(|l| expect.is_some_and(|e| l.contains(e)));
        assert_eq!(
            hits.count(),
            if expect.is_some() { copies } else { 0 },
            "{rel}"
        );
        if expect.is_none() {
            assert!(whole.is_empty(), "{rel}: {whole:?}");
        }
        std::fs::remove_file(&path).ok();
    }
}

/// The human format's closing line counts every window's calls and findings.
#[test]
fn the_summary_counts_every_window() {
    let path = derived("summary.log", "call-freed-early/caller.log", 50);
    let input = path.to_string_lossy();
    let run = sipflow(&["check", "--limit", "window-events=32", &input]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let last = run.stdout.lines().last().unwrap_or_default();
    assert_eq!(
        last, "100 finding(s): 0 error, 50 warning, 50 info; 50 call(s), 0 flow(s)",
        "{last}"
    );
    std::fs::remove_file(&path).ok();
}

/// `--format json` gathered window by window: the same document as from one window, but for
/// the order of calls and the call numbers.
#[test]
fn the_json_document_is_the_same_from_windows() {
    let path = derived("json.log", "call-freed-early/caller.log", 120);
    let input = path.to_string_lossy();
    let doc = |window: &str| -> serde_json::Value {
        let limit = format!("window-events={window}");
        let run = sipflow(&["check", "--format", "json", "--limit", &limit, &input]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str(&run.stdout).expect("one JSON document")
    };
    let (whole, streamed) = (doc("1G"), doc("32"));
    std::fs::remove_file(&path).ok();
    assert_eq!(streamed["summary"], whole["summary"]);
    assert_eq!(streamed["inputs"], whole["inputs"]);
    assert_eq!(whole["summary"]["calls"], 120);
    let sorted = |d: &serde_json::Value, key: &str, drop: &str| {
        let mut items: Vec<String> = d[key]
            .as_array()
            .expect("array")
            .iter()
            .map(|v| {
                let mut v = v.clone();
                v.as_object_mut().map(|o| o.remove(drop));
                v.to_string()
            })
            .collect();
        items.sort();
        items
    };
    assert_eq!(
        sorted(&streamed, "calls", "index"),
        sorted(&whole, "calls", "index")
    );
    assert_eq!(
        sorted(&streamed, "findings", "call"),
        sorted(&whole, "findings", "call")
    );
}

/// `sipflow report` gathered window by window: the same call list, findings and ladders as from
/// one window, but for the order of calls and their numbers; and the data holds together (each
/// finding's line lists it, each line opens a conversation that exists). Flows' findings are
/// included: their lines come after every call's.
#[test]
fn the_html_report_is_the_same_from_windows() {
    let calls = derived("report-calls.log", "call-freed-early/caller.log", 120);
    let flows = ["registration-failed-423", "auth-failed"]
        .map(|rule| root().join(fixture(&format!("rules/{rule}/ua.log"))));
    let inputs = [
        calls.to_string_lossy(),
        flows[0].to_string_lossy(),
        flows[1].to_string_lossy(),
    ];
    let canonical = |window: &str| -> Vec<String> {
        let limit = format!("window-events={window}");
        let mut args = vec!["report", "-o", "-", "--limit", &limit];
        args.extend(inputs.iter().map(|i| i.as_ref()));
        let run = sipflow(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let (index, chunks) = data(&run.stdout);
        let size = index["chunk_size"].as_u64().expect("chunk_size") as usize;
        let findings = index["findings"].as_array().expect("findings");
        let items = index["items"].as_array().expect("items");
        for (i, f) in findings.iter().enumerate() {
            if let Some(k) = f["item"].as_u64() {
                let listed = &items[k as usize]["findings"];
                assert!(
                    listed.as_array().is_some_and(|l| l.contains(&i.into())),
                    "finding {i} is not on its line {k}"
                );
            }
        }
        for (k, item) in items.iter().enumerate() {
            for i in item["findings"].as_array().expect("findings") {
                let f = &findings[i.as_u64().expect("finding index") as usize];
                assert_eq!(f["item"], k, "line {k} lists finding {i} of another line");
            }
        }
        // A finding as the page shows it, without its index.
        let finding = |i: &serde_json::Value| {
            let mut f = findings[i.as_u64().expect("finding index") as usize].clone();
            f.as_object_mut().map(|o| o.remove("item"));
            f
        };
        let mut lines: Vec<String> = items
            .iter()
            .map(|item| {
                let conv = item["conv"].as_u64().expect("conv") as usize;
                let mut detail = chunks[conv / size][conv % size].clone();
                assert!(detail.is_object(), "line {item} opens no conversation");
                let d = detail.as_object_mut().expect("detail");
                d.remove("title");
                let badges: Vec<Vec<serde_json::Value>> = d["badges"]
                    .as_array()
                    .expect("badges")
                    .iter()
                    .map(|row| row.as_array().expect("row").iter().map(finding).collect())
                    .collect();
                d.insert("badges".into(), badges.into());
                d.remove("unplaced");
                // The marks on each message's text, as the findings they show.
                for m in d["messages"].as_array_mut().expect("messages").iter_mut() {
                    for part in m["parts"].as_array_mut().into_iter().flatten() {
                        let on: Vec<_> = part[1]
                            .as_array()
                            .expect("marks")
                            .iter()
                            .map(finding)
                            .collect();
                        part[1] = on.into();
                    }
                }
                let mut item = item.clone();
                let mine: Vec<_> = item["findings"]
                    .as_array()
                    .expect("findings")
                    .iter()
                    .map(finding)
                    .collect();
                let o = item.as_object_mut().expect("item");
                for k in ["key", "conv"] {
                    o.remove(k);
                }
                o.insert("findings".into(), mine.into());
                o.insert("detail".into(), detail);
                item.to_string()
            })
            .collect();
        lines.sort();
        lines
    };
    let (whole, streamed) = (canonical("1G"), canonical("32"));
    std::fs::remove_file(&calls).ok();
    let kinds = |kind: &str| whole.iter().filter(|l| l.contains(kind)).count();
    assert_eq!(kinds("\"kind\":\"call\""), 120, "{whole:#?}");
    assert!(kinds("\"kind\":\"flow\"") >= 2, "{whole:#?}");
    assert_eq!(streamed, whole);
    let flagged = whole.iter().filter(|l| l.contains("SF001")).count();
    assert_eq!(flagged, 120);
    assert!(
        whole
            .iter()
            .any(|l| l.contains("\"kind\":\"flow\"") && l.contains("SF0"))
    );
}

/// `calls`, `events` and `flow` run window by window too: from windows of 32 events they show
/// what one window shows, but for the order of calls and their numbers; and the numbers agree
/// between them, so `flow --call N` draws the call `calls` lists as N.
#[test]
fn calls_events_and_flow_from_windows_agree_with_one_window_and_each_other() {
    let path = derived("views.log", "call-freed-early/caller.log", 60);
    let flows = root().join(fixture("rules/registration-failed-423/ua.log"));
    let inputs = [path.to_string_lossy(), flows.to_string_lossy()];
    let run = |args: &[&str], window: &str| {
        let limit = format!("window-events={window}");
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--limit", &limit]);
        all.extend(inputs.iter().map(|i| i.as_ref()));
        let run = sipflow(&all);
        assert_eq!(run.code, 0, "{all:?}: {}", run.stderr);
        run.stdout
    };
    // `calls --format json`: the same calls and flows, without their numbers.
    let items = |doc: &str, key: &str| -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_str(doc).expect("one JSON document");
        let mut items: Vec<String> = doc[key]
            .as_array()
            .expect("array")
            .iter()
            .map(|v| {
                let mut v = v.clone();
                if let Some(o) = v.as_object_mut() {
                    for k in ["index", "group", "linked"] {
                        o.remove(k);
                    }
                }
                v.to_string()
            })
            .collect();
        items.sort();
        items
    };
    let (whole, streamed) = (
        run(&["calls", "--format", "json"], "1G"),
        run(&["calls", "--format", "json"], "32"),
    );
    assert_eq!(items(&streamed, "calls"), items(&whole, "calls"));
    assert_eq!(items(&streamed, "flows"), items(&whole, "flows"));
    assert_eq!(items(&whole, "calls").len(), 60);
    assert!(!items(&whole, "flows").is_empty());

    // `events`: the same events, without call and flow numbers.
    let events = |text: &str| -> Vec<String> {
        let mut lines: Vec<String> = text
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
                if let Some(o) = v.as_object_mut() {
                    o.remove("call");
                    o.remove("flow");
                }
                v.to_string()
            })
            .collect();
        lines.sort();
        lines
    };
    let whole_events = events(&run(&["events"], "1G"));
    assert!(whole_events.len() > 60 * 4);
    assert_eq!(events(&run(&["events"], "32")), whole_events);

    // The table from windows: the same rows but for the number column.
    let rows = |table: &str| -> Vec<String> {
        let mut rows: Vec<String> = table
            .lines()
            .map(|l| {
                l.split_once("  ")
                    .map_or(l, |(_, rest)| rest)
                    .trim()
                    .to_string()
            })
            .collect();
        rows.sort();
        rows
    };
    let table = run(&["calls"], "32");
    assert_eq!(rows(&table), rows(&run(&["calls"], "1G")));

    // `calls` and `flow --call N` number calls alike: call 37 of the table is the call drawn.
    let line = table
        .lines()
        .find(|l| l.starts_with("37 "))
        .expect("call 37 in the table");
    let call_id = line.split_whitespace().nth(2).expect("Call-ID column");
    let drawn = run(&["flow", "--call", "37"], "32");
    assert!(
        drawn.contains(call_id),
        "flow --call 37 drew another call:\n{drawn}"
    );
    assert_eq!(run(&["flow", "--call", call_id], "32"), drawn);
    // Every call is drawn once, as from one window: the Call-IDs of the ladders' titles.
    let titles = |text: &str| -> Vec<String> {
        let mut ids: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with("Call "))
            .filter_map(|l| l.split_once(": ").map(|(_, id)| id.to_string()))
            .collect();
        ids.sort();
        ids
    };
    let all = titles(&run(&["flow"], "32"));
    assert_eq!(all.len(), 60);
    assert_eq!(all, titles(&run(&["flow"], "1G")));

    // A sequence diagram draws one call: the count is that of the whole run.
    let limit = "window-events=32".to_string();
    let mut args = vec!["flow", "--format", "mermaid", "--limit", &limit];
    args.extend(inputs.iter().map(|i| i.as_ref()));
    let run = sipflow(&args);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("the inputs hold 60"), "{}", run.stderr);
    std::fs::remove_file(&path).ok();
}

/// SARIF and JUnit are gathered window by window too: the same results and test cases as from
/// one window, but for call numbers.
#[test]
fn sarif_and_junit_are_the_same_from_windows() {
    let path = derived("sarif.log", "call-freed-early/caller.log", 50);
    let input = path.to_string_lossy();
    let run = |format: &str, window: &str| {
        let limit = format!("window-events={window}");
        let run = sipflow(&[
            "check",
            "--format",
            format,
            "--fail-on",
            "warning",
            "--limit",
            &limit,
            &input,
        ]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        run.stdout
    };
    let results = |text: &str| -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_str(text).expect("SARIF JSON");
        let mut results: Vec<String> = doc["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r["properties"].as_object_mut().map(|p| p.remove("call"));
                r.to_string()
            })
            .collect();
        results.sort();
        results
    };
    let whole = results(&run("sarif", "1G"));
    assert_eq!(whole.len(), 100, "SF001 and SF027 for each of the 50 calls");
    assert_eq!(results(&run("sarif", "32")), whole);

    // JUnit: one case per call, failing for SF001 at --fail-on warning, named by Call-ID.
    let cases = |xml: &str| -> Vec<String> {
        let mut cases: Vec<String> = xml
            .split("<testcase ")
            .skip(1)
            .map(|c| {
                let name = c.split_once(": ").map_or(c, |(_, rest)| rest);
                name.replace(|ch: char| ch.is_ascii_digit(), "#")
            })
            .collect();
        cases.sort();
        cases
    };
    let (whole, streamed) = (run("junit", "1G"), run("junit", "32"));
    assert!(whole.contains(r#"tests="50" failures="50""#), "{whole}");
    assert!(
        streamed.contains(r#"tests="50" failures="50""#),
        "{streamed}"
    );
    assert_eq!(cases(&streamed), cases(&whole));
    std::fs::remove_file(&path).ok();
}

/// `flow --call` with a key that matches nothing lists what there is, at most 1,000 calls (and
/// 1,000 flows), then how many more: the list is kept as the windows go by.
#[test]
fn an_unknown_call_lists_at_most_a_thousand() {
    let path = derived("unknown.log", "basic-call/caller.log", 1010);
    let run = sipflow(&["flow", "--call", "nope", &path.to_string_lossy()]);
    std::fs::remove_file(&path).ok();
    assert_eq!(run.code, 2, "{}", run.stderr);
    // miette wraps the help text: compare words.
    let words = run.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("no call matches --call 'nope'"), "{words}");
    assert!(words.contains("available: 1 ("), "{words}");
    assert!(words.contains(", 1000 ("), "{words}");
    assert!(!words.contains(", 1001 ("), "{words}");
    assert!(words.contains(") and 10 more"), "{words}");
    assert!(run.stdout.is_empty());
}
