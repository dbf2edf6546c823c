//! The HTML report in a real browser. Writes reports into `target/browser/` for every recorded
//! fixture set (the snapshot sets and every positive input list of the rule cases), a hostile
//! report, a report of 10,000 calls and a few Mermaid diagrams, then runs
//! `node tests/browser/report.test.mjs MANIFEST`, which opens each in headless Chromium
//! (playwright-core) and checks it through the page's DOM contract.
//!
//! Needs Chromium (`/usr/bin/chromium`, or `$CHROMIUM`), Node and `npm ci --prefix tests/browser`.
//! Without them the test fails when `CI` is set, and is otherwise reported as ignored with the
//! reason (it runs from `tests/environment.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::common::{Run, derive_many, fixture, root, sipflow};
use super::needs::{Missing, node_packages, require};
use super::rule_cases::all_cases;
use super::snapshots::SETS;

/// Calls in the big report.
const BIG_CALLS: usize = 10_000;

/// The payloads of the hostile report; each tries to set `window.__pwned`.
const PAYLOADS: [&str; 3] = [
    "<script>window.__pwned=1</script>",
    "\"><img src=x onerror=\"window.__pwned=1\">",
    "</svg><script>window.__pwned=1</script>",
];

/// Fixture sets (relative to `fixtures/`) whose first call becomes a Mermaid diagram.
const MERMAID: &[(&str, &[&str])] = &[
    (
        "basic-call",
        &["basic-call/caller.log", "basic-call/callee.log"],
    ),
    (
        "call-freed-early",
        &["call-freed-early/caller.log", "call-freed-early/callee.log"],
    ),
    (
        "cancel-ringing",
        &["cancel-ringing/caller.log", "cancel-ringing/callee.log"],
    ),
    (
        "big-invite-cut",
        &["big-invite-cut/caller.log", "big-invite-cut/callee.log"],
    ),
    (
        "b2bua",
        &["b2bua/caller.log", "b2bua/b2bua.log", "b2bua/callee.log"],
    ),
    ("capture-sipp-tcp-big", &["captures/sipp-tcp-big/tcp.pcap"]),
];

/// Where reports, inputs, diagrams and screenshots go (`target/browser`), relative to the crate
/// root (sipflow runs there, so input paths in the reports stay short and stable).
const OUT: &str = "target/browser";

pub fn out_dir() -> PathBuf {
    root().join(OUT)
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string())
}

/// What the browser test needs and is missing, if anything.
pub fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    let chromium = chromium();
    if !Path::new(&chromium).exists() {
        missing.push(format!(
            "Chromium ({chromium}; set $CHROMIUM to use another)"
        ));
    }
    missing.extend(node_packages(&["playwright-core", "mermaid"]));
    missing
}

/// One report for the browser to check (an entry of the manifest).
pub struct Report {
    name: String,
    path: PathBuf,
    calls: Option<usize>,
    findings: bool,
    hostile: bool,
    big: bool,
    /// The key of the list's last line (`12`, `F3`).
    last_key: Option<String>,
    /// Check the arrow keys, Home, End and Page Down on the list.
    pub keyboard: bool,
    /// The window's width, when not the default 1500 pixels.
    pub width: Option<u32>,
    /// Some cell of the list must be clipped (so that its tooltip is tested).
    pub clipped: bool,
    /// Searches, each with the lines it must list: `{ query, count }` or `{ query, call_ids }`.
    pub searches: Vec<Value>,
}

impl Report {
    fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "path": self.path,
            "calls": self.calls,
            "findings": self.findings,
            "hostile": self.hostile,
            "big": self.big,
            "keyboard": self.keyboard,
            "clipped": self.clipped,
        });
        if let Some(key) = &self.last_key {
            v["last_key"] = json!(key);
        }
        if let Some(width) = self.width {
            v["width"] = json!(width);
        }
        if !self.searches.is_empty() {
            v["searches"] = json!(self.searches);
        }
        v
    }
}

/// A search of the report and the Call-IDs of exactly the lines it must list.
pub fn search_for(query: &str, call_ids: &[&str]) -> Value {
    json!({ "query": query, "call_ids": call_ids })
}

/// A search of the report and how many lines it must list.
pub fn search_count(query: &str, count: usize) -> Value {
    json!({ "query": query, "count": count })
}

/// A search with a term the report cannot use: how many lines it must list, and a text the
/// hint under the box must hold (every other search must show no hint).
pub fn search_hint(query: &str, count: usize, hint: &str) -> Value {
    json!({ "query": query, "count": count, "hint": hint })
}

fn show(args: &[&str], run: &Run) -> String {
    format!(
        "sipflow {}\nexit: {}\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        run.code,
        run.stdout,
        run.stderr
    )
}

/// Writes the report of one input set: with `check --html` (asserting that `--html` changes
/// neither the exit code nor the output of check) or with `report -o`. The expectations (call
/// list length, whether rule badges show) come from `check --format json`.
pub fn write_report(name: &str, args: &[&str], inputs: &[String], via_check: bool) -> Report {
    write_report_in(&out_dir(), name, args, inputs, via_check)
}

/// [`write_report`] into `dir`.
pub fn write_report_in(
    dir: &Path,
    name: &str,
    args: &[&str],
    inputs: &[String],
    via_check: bool,
) -> Report {
    let path = dir.join(format!("{name}.html"));
    let _ = std::fs::remove_file(&path);
    let html = path.to_string_lossy().into_owned();
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();

    let mut plain: Vec<&str> = vec!["check", "--format", "json"];
    plain.extend_from_slice(args);
    plain.extend_from_slice(&inputs);
    let expected = sipflow(&plain);
    assert!(
        matches!(expected.code, 0 | 1),
        "{}",
        show(&plain, &expected)
    );
    let doc: Value = serde_json::from_str(&expected.stdout)
        .unwrap_or_else(|e| panic!("check JSON: {e}\n{}", show(&plain, &expected)));
    let count = |key: &str| doc[key].as_array().map_or(0, Vec::len);
    let items = count("calls") + count("flows");
    // Flows are listed after the calls.
    let last_key = match (count("calls"), count("flows")) {
        (_, 0) => doc["calls"].as_array().and_then(|c| c.last()),
        _ => doc["flows"].as_array().and_then(|f| f.last()),
    }
    .map(|last| {
        let index = &last["index"];
        if count("flows") > 0 {
            format!("F{index}")
        } else {
            index.to_string()
        }
    });
    let findings = doc["findings"].as_array().is_some_and(|fs| {
        fs.iter()
            .any(|f| !f["call"].is_null() || !f["call_id"].is_null())
    });

    if via_check {
        let mut with_html: Vec<&str> = vec!["check", "--format", "json", "--html", &html];
        with_html.extend_from_slice(args);
        with_html.extend_from_slice(&inputs);
        let run = sipflow(&with_html);
        assert_eq!(
            run.code,
            expected.code,
            "--html changed the exit code of check\n{}\n{}",
            show(&plain, &expected),
            show(&with_html, &run)
        );
        assert_eq!(
            run.stdout,
            expected.stdout,
            "--html changed the output of check\n{}",
            show(&with_html, &run)
        );
    } else {
        let mut report: Vec<&str> = vec!["report", "-o", &html];
        report.extend_from_slice(args);
        report.extend_from_slice(&inputs);
        let run = sipflow(&report);
        assert_eq!(run.code, 0, "{}", show(&report, &run));
    }
    assert!(path.exists(), "{name}: no report written at {html}");
    Report {
        name: name.to_string(),
        path,
        calls: Some(items),
        findings,
        hostile: false,
        big: false,
        last_key,
        keyboard: false,
        width: None,
        clipped: false,
        searches: Vec::new(),
    }
}

/// A hand-made raw SIP input (messages back to back) whose Call-IDs, From display names,
/// User-Agent/Server headers and SDP `s=` lines carry script and markup payloads; the last
/// message is malformed.
fn hostile_input() -> String {
    let all = PAYLOADS.join(" ");
    let escaped = all.replace('\\', "\\\\").replace('"', "\\\"");
    let msg = |start: &str, headers: &[(&str, String)], body: &str| {
        let mut m = format!("{start}\r\n");
        for (k, v) in headers {
            let _ = write!(m, "{k}: {v}\r\n");
        }
        let _ = write!(m, "Content-Length: {}\r\n\r\n{body}", body.len());
        m
    };
    let sdp = |host: &str, n: usize| {
        format!(
            "v=0\r\no=- {n} 1 IN IP4 {host}\r\ns={all}\r\nc=IN IP4 {host}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        )
    };
    let mut out = String::new();
    let call_ids = [
        format!("{}@evil.example", PAYLOADS[0]),
        PAYLOADS[1].to_string(),
        PAYLOADS[2].to_string(),
    ];
    for (i, call_id) in call_ids.iter().enumerate() {
        let n = i + 1;
        let via = format!("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-hostile-{n}");
        // Calls 1 and 2 quote the display name correctly; call 3's breaks out of the quotes.
        let from = if n == 3 {
            format!("\"{all}\" <sip:alice@192.0.2.1>;tag=from{n}")
        } else {
            format!("\"{escaped}\" <sip:alice@192.0.2.1>;tag=from{n}")
        };
        let to = "<sip:bob@192.0.2.2>".to_string();
        let to_tagged = format!("{to};tag=to{n}");
        let common = |to: &str, cseq: &str| {
            vec![
                ("Via", via.clone()),
                ("Max-Forwards", "70".to_string()),
                ("From", from.clone()),
                ("To", to.to_string()),
                ("Call-ID", call_id.clone()),
                ("CSeq", cseq.to_string()),
            ]
        };
        let mut invite = common(&to, "1 INVITE");
        invite.push(("Contact", "<sip:alice@192.0.2.1>".to_string()));
        invite.push(("User-Agent", all.clone()));
        invite.push(("Content-Type", "application/sdp".to_string()));
        out += &msg(
            "INVITE sip:bob@192.0.2.2 SIP/2.0",
            &invite,
            &sdp("192.0.2.1", n),
        );
        let mut trying = common(&to, "1 INVITE");
        trying.push(("Server", all.clone()));
        out += &msg("SIP/2.0 100 Trying", &trying, "");
        let mut ringing = common(&to_tagged, "1 INVITE");
        ringing.push(("Server", all.clone()));
        out += &msg(&format!("SIP/2.0 180 {}", PAYLOADS[n - 1]), &ringing, "");
        let mut ok = common(&to_tagged, "1 INVITE");
        ok.push(("Contact", "<sip:bob@192.0.2.2>".to_string()));
        ok.push(("Server", all.clone()));
        ok.push(("Content-Type", "application/sdp".to_string()));
        out += &msg("SIP/2.0 200 OK", &ok, &sdp("192.0.2.2", n));
        let mut ack = common(&to_tagged, "1 ACK");
        ack[0].1 = format!("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-hostile-ack-{n}");
        ack.push(("User-Agent", all.clone()));
        out += &msg("ACK sip:bob@192.0.2.2 SIP/2.0", &ack, "");
    }
    // Malformed: a markup "URI" in the start line, a non-numeric CSeq.
    out += &format!(
        "INVITE {} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-bad\r\nFrom: \"{all}\" <sip:a@b>;tag=x\r\nCall-ID: {}\r\nCSeq: nope INVITE\r\nUser-Agent: {all}\r\nContent-Length: 9\r\n\r\n<img src=",
        PAYLOADS[0], PAYLOADS[2]
    );
    out
}

/// Writes `sipflow flow --call 1 --format mermaid` of an input set into NAME.mmd.
fn write_mermaid(name: &str, inputs: &[String]) -> Value {
    let mut args = vec!["flow", "--call", "1", "--format", "mermaid"];
    args.extend(inputs.iter().map(String::as_str));
    let run = sipflow(&args);
    assert_eq!(run.code, 0, "{}", show(&args, &run));
    assert!(
        run.stdout.starts_with("sequenceDiagram"),
        "{}",
        show(&args, &run)
    );
    let path = out_dir().join(format!("{name}.mmd"));
    std::fs::write(&path, &run.stdout).expect("write .mmd");
    json!({ "name": name, "path": path })
}

pub fn html_reports_work_in_a_browser() -> Result<(), Missing> {
    require(
        "the HTML report browser test (tests/integration/browser.rs)",
        &missing_prerequisites(),
        "apt-get install chromium; npm ci --prefix tests/browser",
    )?;

    let started = Instant::now();
    let dir = out_dir();
    std::fs::create_dir_all(&dir).expect("create target/browser");
    // Leave only this run's reports and screenshots.
    for entry in std::fs::read_dir(&dir)
        .expect("read target/browser")
        .flatten()
    {
        let path = entry.path();
        if path
            .extension()
            .is_some_and(|e| e == "html" || e == "png" || e == "mmd")
        {
            let _ = std::fs::remove_file(path);
        }
    }

    // The big report takes longest: write it while the others are written.
    let big = std::thread::spawn(|| {
        let log = format!("{OUT}/big-{BIG_CALLS}-calls.log");
        derive_many("basic-call/caller.log", BIG_CALLS, &root().join(&log));
        let html = out_dir().join(format!("big-{BIG_CALLS}-calls.html"));
        let _ = std::fs::remove_file(&html);
        let out = html.to_string_lossy();
        let args = ["report", "-o", out.as_ref(), &log];
        let run = sipflow(&args);
        assert_eq!(run.code, 0, "{}", show(&args, &run));
        Report {
            name: format!("big-{BIG_CALLS}-calls"),
            path: html,
            calls: Some(BIG_CALLS),
            findings: false,
            hostile: false,
            big: true,
            last_key: Some(BIG_CALLS.to_string()),
            keyboard: true,
            width: None,
            clipped: false,
            searches: Vec::new(),
        }
    });

    let mut reports = Vec::new();
    let mut seen: BTreeSet<(Vec<String>, Vec<String>)> = BTreeSet::new();
    let mut sets: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    for (name, inputs) in SETS {
        let inputs: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
        if seen.insert((Vec::new(), inputs.clone())) {
            sets.push((name.to_string(), Vec::new(), inputs));
        }
    }
    // A rule may have several cases (e.g. one with a --config): number its inputs across them.
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for case in all_cases() {
        for inputs in case.positive {
            let n = per_rule.entry(case.rule).or_default();
            *n += 1;
            let args: Vec<String> = case.args.iter().map(|a| a.to_string()).collect();
            let inputs: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
            if seen.insert((args.clone(), inputs.clone())) {
                sets.push((format!("rule-{}-{n}", case.rule), args, inputs));
            }
        }
    }
    let names: BTreeSet<&str> = sets.iter().map(|(name, ..)| name.as_str()).collect();
    assert_eq!(names.len(), sets.len(), "report names must be unique");
    for (i, (name, args, inputs)) in sets.iter().enumerate() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        reports.push(write_report(name, &args, inputs, i % 2 == 0));
    }

    let hostile_inputs = vec![format!("{OUT}/hostile.sip")];
    std::fs::write(root().join(&hostile_inputs[0]), hostile_input()).expect("write hostile.sip");
    let mut hostile = write_report("hostile", &[], &hostile_inputs, true);
    hostile.hostile = true;
    assert!(
        hostile.calls.unwrap_or(0) >= 3,
        "the hostile input should give 3 calls"
    );
    reports.push(hostile);

    let mut mermaid: Vec<Value> = MERMAID
        .iter()
        .map(|(name, inputs)| {
            let inputs: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
            write_mermaid(name, &inputs)
        })
        .collect();
    mermaid.push(write_mermaid("hostile", &hostile_inputs));

    // Search, tooltips and keys on recorded inputs: a registration from a public issue thread
    // (display name and User-Agent), and a kamailio proxy's call and flows (its Server header).
    let register = vec![
        "tests/real-world/logs/64characters-telephone-643-register-408-timeout.log".to_string(),
    ];
    let mut search = write_report("search-register", &[], &register, false);
    search.searches = vec![
        search_for("FULL NAME", &["cLe.djPew6wOqxYjLIWfOI4uYLw9xREV"]),
        search_for("telephone 1.5.2", &["cLe.djPew6wOqxYjLIWfOI4uYLw9xREV"]),
        search_count("no such party", 0),
    ];
    reports.push(search);
    let proxy = vec![fixture("rules-severity/strict-proxy/call.pcap")];
    let mut search = write_report("search-proxy", &[], &proxy, true);
    search.keyboard = true;
    search.searches = vec![search_for(
        "KAMAILIO (5.6.3",
        &[
            "1-31771@127.0.0.1",
            "1-31785@127.0.0.1",
            "1-32228@127.0.0.1",
        ],
    )];
    reports.push(search);

    reports.push(big.join().expect("the big report"));
    check_in_browser(&dir, &reports, &mermaid, started.elapsed());
    Ok(())
}

/// Writes the manifest of `reports` and `mermaid` into `dir` and runs the browser checks on
/// them; fails the test when a check fails. `generated`: how long writing them took.
pub fn check_in_browser(dir: &Path, reports: &[Report], mermaid: &[Value], generated: Duration) {
    let manifest = json!({
        "screenshots": dir,
        "reports": reports.iter().map(Report::to_json).collect::<Vec<_>>(),
        "mermaid": mermaid,
    });
    let manifest_path = dir.join("manifest.json");
    std::fs::write(
        &manifest_path,
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .expect("write the manifest");
    let browser_started = Instant::now();
    let out = Command::new("node")
        .arg(root().join("tests/browser/report.test.mjs"))
        .arg(&manifest_path)
        .current_dir(root())
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!(
        "browser test: {} reports and {} diagrams written in {:.1}s, checked in {:.1}s",
        reports.len(),
        mermaid.len(),
        generated.as_secs_f64(),
        browser_started.elapsed().as_secs_f64()
    );
    assert!(
        out.status.success(),
        "the browser checks failed ({}):\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}
