//! `sipflow report` and `check --html`: the file is deterministic, self-contained, safe with
//! hostile input, and `check --html` keeps check's exit code. What the page does in a browser
//! is tested in `browser.rs`.

use base64::Engine;
use sha2::{Digest, Sha256};

use super::common::{between, data, fixture, public_trace, root, sipflow, sipflow_with_stdin};

const SEED_BUG: [&str; 2] = ["call-freed-early/caller.log", "call-freed-early/callee.log"];

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = root().join("target").join("report-tests");
    std::fs::create_dir_all(&dir).expect("target dir");
    dir.join(name)
}

fn report(inputs: &[&str], extra: &[&str]) -> String {
    let paths: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
    let mut args = vec!["report", "-o", "-"];
    args.extend(extra);
    args.extend(paths.iter().map(String::as_str));
    let run = sipflow(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "&#39;sha256-{}&#39;",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

#[test]
fn the_report_is_deterministic_and_dated_only_on_request() {
    let a = report(&SEED_BUG, &[]);
    let b = report(&SEED_BUG, &[]);
    assert_eq!(a, b);
    assert!(!a.contains("generated"));
    let dated = report(&SEED_BUG, &["--timestamp"]);
    assert!(dated.contains(" · generated 20"), "no generation time");
    assert!(dated.contains(" UTC</p>"));
}

#[test]
fn the_page_loads_nothing_and_runs_only_its_own_script_and_style() {
    let page = report(&SEED_BUG, &[]);
    let csp = between(
        &page,
        r#"<meta http-equiv="Content-Security-Policy" content=""#,
        "\">",
    );
    assert!(csp.starts_with("default-src &#39;none&#39;;"), "{csp}");
    let script = between(&page, "\n<script>", "</script>");
    let style = between(&page, "<style>", "</style>");
    assert!(
        csp.contains(&format!("script-src {};", csp_hash(script))),
        "{csp}"
    );
    assert!(
        csp.contains(&format!("style-src {};", csp_hash(style))),
        "{csp}"
    );
    // No address to load anything from, and no inline event handlers.
    let markup = page.replace(script, "");
    for needle in [
        "http://",
        "https://",
        " src=",
        " href=",
        " onclick=",
        " onload=",
        " onerror=",
    ] {
        assert!(!markup.contains(needle), "the page contains {needle:?}");
    }
    assert!(!script.contains("innerHTML") && !script.contains("eval("));
}

#[test]
fn the_data_holds_every_call_its_findings_and_the_evidence_spans() {
    let page = report(&SEED_BUG, &[]);
    let (index, chunks) = data(&page);
    let items = index["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["outcome"], "rejected");
    assert_eq!(items[0]["status"], "603 Decline");
    // The status as call-object-freed-early diagnosed it, not "the callee declined".
    assert!(
        items[0]["explanation"]
            .as_str()
            .is_some_and(|s| s.starts_with("Diagnosed by call-object-freed-early: Nobody declined")),
        "{}",
        items[0]["explanation"]
    );
    let rules: Vec<&str> = index["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(rules.contains(&"SF001"), "{rules:?}");
    let detail = &chunks[0][0];
    let rows = detail["rows"].as_array().expect("rows");
    let badges = detail["badges"].as_array().expect("badges");
    assert_eq!(rows.len(), badges.len());
    // The 603 carries the seed-bug badge, and the log line `hanging up: code=0` does too.
    let badge_of = |pred: &dyn Fn(&serde_json::Value) -> bool| {
        rows.iter()
            .zip(badges)
            .filter(|(r, _)| pred(r))
            .flat_map(|(_, b)| b.as_array().cloned().unwrap_or_default())
            .filter_map(|f| {
                index["findings"][f.as_u64().unwrap_or(0) as usize]["rule"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect::<Vec<String>>()
    };
    assert!(badge_of(&|r| r["label"] == "603 Decline").contains(&"SF001".to_string()));
    assert!(
        badge_of(&|r| r["text"]
            .as_str()
            .is_some_and(|t| t.contains("hanging up: code=0")))
        .contains(&"SF001".to_string())
    );
    // Every message's parts put back together are the message, and the 603's start line is
    // marked as evidence.
    for (row, m) in rows
        .iter()
        .zip(detail["messages"].as_array().expect("messages"))
    {
        if row["kind"] == "note" {
            assert!(m.is_null());
            continue;
        }
        let parts = m["parts"].as_array().expect("parts");
        let text: String = parts.iter().filter_map(|p| p[0].as_str()).collect();
        assert_eq!(text.len() as u64, m["bytes"].as_u64().expect("bytes"));
        if row["label"] == "603 Decline" {
            let marked: Vec<&str> = parts
                .iter()
                .filter(|p| p[1].as_array().is_some_and(|a| !a.is_empty()))
                .filter_map(|p| p[0].as_str())
                .collect();
            assert!(
                marked.iter().any(|t| t.starts_with("SIP/2.0 603 Decline")),
                "{marked:?}"
            );
        }
    }
}

/// Hand-made hostile input: markup in the Call-ID, the display name, the User-Agent and the
/// SDP. The page must carry it only as data; `browser.rs` checks that it shows as text.
#[test]
fn hostile_strings_never_reach_the_page_as_markup() {
    let evil = [
        "<script>window.__pwned=1</script>",
        "\"><img src=x onerror=\"window.__pwned=1\">",
        "</svg><script>window.__pwned=1</script>",
    ];
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns={}\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
        evil[2]
    );
    let invite = format!(
        "INVITE sip:b@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
         From: \"{}\" <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: {}\r\n\
         CSeq: 1 INVITE\r\nUser-Agent: {}\r\nMax-Forwards: 70\r\nContact: <sip:a@127.0.0.1:5060>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        evil[1],
        evil[0],
        evil[2],
        sdp.len()
    );
    let run = sipflow_with_stdin(&["report", "-o", "-", "-"], invite.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = run.stdout;
    for e in evil {
        assert!(!page.contains(e), "raw hostile string in the page: {e}");
    }
    assert_eq!(
        page.matches("<script").count(),
        2,
        "only the data block and the script"
    );
    assert!(!page.contains("<img") && !page.contains("onerror"));
    let (index, chunks) = data(&page);
    assert_eq!(index["items"][0]["call_id"], evil[0]);
    let raw: String = chunks[0][0]["messages"][0]["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .filter_map(|p| p[0].as_str())
        .collect();
    assert_eq!(raw, invite);
}

#[test]
fn check_html_writes_the_report_and_keeps_the_exit_code() {
    let paths: Vec<String> = SEED_BUG.iter().map(|i| fixture(i)).collect();
    let out = tmp("check.html");
    let _ = std::fs::remove_file(&out);
    let mut plain = vec!["check", "--format", "concise"];
    plain.extend(paths.iter().map(String::as_str));
    let without = sipflow(&plain);
    let out_s = out.display().to_string();
    let mut with_html = plain.clone();
    with_html.extend(["--html", out_s.as_str()]);
    let with = sipflow(&with_html);
    assert_eq!(without.code, 1);
    assert_eq!(with.code, without.code);
    assert_eq!(with.stdout, without.stdout);
    let page = std::fs::read_to_string(&out).expect("report written");
    assert_eq!(page, report(&SEED_BUG, &[]));
}

#[test]
fn an_unwritable_report_path_is_exit_2_with_the_reason() {
    let run = sipflow(&["report", "-o", "no/such/dir/r.html", &fixture(SEED_BUG[0])]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("could not write no/such/dir/r.html"),
        "{}",
        run.stderr
    );
    assert!(!root().join("no").exists());
}

fn report_of_paths(paths: &[&str]) -> String {
    let mut args = vec!["report", "-o", "-"];
    args.extend(paths);
    let run = sipflow(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

/// The Findings card counts each rule's findings by the severity each finding has, not the
/// rule's default: on this capture invite-timeout (an error by default) found a warning.
#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn the_findings_table_shows_the_findings_severities_not_the_rules() {
    let pcap = public_trace("heplify/sip_ipv4_tcp_fragmented.pcap");
    let page = report_of_paths(&[&pcap]);
    let card = between(&page, "<h2>Findings</h2>", "</div>");
    let row = between(card, "data-rule=\"SF003\">", "</tr>");
    assert!(row.contains("<td>warning</td>"), "{row}");
    let (index, _) = data(&page);
    let severities: Vec<&str> = index["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "SF003")
        .filter_map(|f| f["severity"].as_str())
        .collect();
    assert_eq!(severities, ["warning"]);
}

/// Control bytes from the wire (a NUL, a vertical tab) never reach the page's text: the
/// message panel shows them as `·`, as every text output does, and keeps the message's CR, LF
/// and tabs. The capture is a public bit-flipped trace with NULs inside start lines and
/// headers.
#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn control_bytes_from_the_wire_are_shown_escaped() {
    let pcap = public_trace("ndpi/fuzz-2006-06-26-2594.pcap");
    let page = report_of_paths(&[&pcap]);
    let (index, chunks) = data(&page);
    let mut texts = Vec::new();
    fn strings<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::String(s) => out.push(s),
            serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    strings(&index, &mut texts);
    chunks.iter().for_each(|c| strings(c, &mut texts));
    let bad: Vec<&&str> = texts
        .iter()
        .filter(|t| t.chars().any(|c| c.is_control() && !"\r\n\t".contains(c)))
        .collect();
    assert!(
        bad.is_empty(),
        "control characters in the page data: {bad:?}"
    );
    // The REGISTER whose Request-URI holds a NUL shows it escaped, and still has its lines.
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("REGISTER sip:sip.cyb%s·ity.dk SIP/2.0")),
        "the NUL of the REGISTER's Request-URI is not shown as ·"
    );
    assert!(texts.iter().any(|t| t.contains("\r\nCSeq: ")));
}

/// The search matches what a person looks a call up by and the list does not show: a display
/// name, a User-Agent or Server, the address messages went to (`XX.XXX.XX.XX` is the
/// reporter's own mask). From a public issue thread's log and a kamailio recording.
#[test]
fn the_search_data_carries_names_agents_and_addresses() {
    let terms = |index: &serde_json::Value, call_id: &str| -> Vec<String> {
        let items = index["items"].as_array().expect("items");
        let item = items
            .iter()
            .find(|i| i["call_id"] == call_id)
            .unwrap_or_else(|| panic!("no line for {call_id}"));
        item["search"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let page = report_of_paths(&[
        "tests/real-world/logs/64characters-telephone-643-register-408-timeout.log",
    ]);
    let (index, _) = data(&page);
    let register = terms(&index, "cLe.djPew6wOqxYjLIWfOI4uYLw9xREV");
    // The UA's address (from its Via: the log names only where it sent to) and the
    // registrar's; the Contact's user `account` is in the From shown, so not repeated.
    assert_eq!(
        register,
        [
            "192.168.0.12:63161",
            "XX.XXX.XX.XX:5060",
            "Full Name",
            "Telephone 1.5.2"
        ],
        "{register:?}"
    );
    let page = report(&["rules-severity/strict-proxy/call.pcap"], &[]);
    let (index, _) = data(&page);
    for call_id in [
        "1-31771@127.0.0.1",
        "1-31785@127.0.0.1",
        "1-32228@127.0.0.1",
    ] {
        let t = terms(&index, call_id);
        assert!(
            t.iter().any(|t| t == "kamailio (5.6.3 (x86_64/linux))"),
            "{call_id}: {t:?}"
        );
    }
    // The OPTIONS nobody answered has no Server.
    let unanswered = terms(&index, "1-31792@127.0.0.1");
    assert!(
        !unanswered.iter().any(|t| t.contains("kamailio")),
        "{unanswered:?}"
    );
}

/// A status is explained where that helps: a failure, or a status a finding diagnosed. An
/// answered call and an accepted REGISTER carry no text (it was "The request succeeded. For an
/// INVITE…" on every row, REGISTERs included).
#[test]
fn only_failures_and_diagnosed_statuses_are_explained_in_the_list() {
    let item = |inputs: &[&str]| {
        let page = report(inputs, &[]);
        let (index, _) = data(&page);
        index["items"][0].clone()
    };
    let answered = item(&["basic-call/caller.log", "basic-call/callee.log"]);
    assert_eq!(answered["status"], "200 OK");
    assert_eq!(answered["explanation"], "");
    let registered = item(&["register-401/ua.log", "register-401/registrar.msg"]);
    assert_eq!(registered["outcome"], "REGISTER");
    assert_eq!(registered["status"], "200 OK");
    assert_eq!(registered["explanation"], "");
    let busy = item(&["busy-486/caller.log", "busy-486/callee.log"]);
    assert_eq!(busy["status"], "486 Busy Here");
    assert!(
        busy["explanation"]
            .as_str()
            .is_some_and(|s| s.starts_with("The callee's user agent is busy")),
        "{}",
        busy["explanation"]
    );
    let forbidden = item(&["register-403/ua.log", "register-403/registrar.msg"]);
    assert_eq!(forbidden["status"], "403 Forbidden");
    assert!(
        forbidden["explanation"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
}
