//! The HTML report's search on the public capture issue 14 tried it on
//! (`../shared/traces/public/heplify/sip_ipv4_tcp_fragmented.pcap`: a FreeSWITCH SBC at
//! 10.186.207.1 and two Avaya hosts over TCP, Cyrillic display names): it found neither
//! `10.186.207.1` nor `Псков`. The expected lines were counted with tshark
//! (`tshark -d tcp.port==6060,sip -Y 'sip && ip.addr==10.186.205.133' -T fields -e sip.Call-ID`
//! and the like), not with sipflow. Needs `../shared` (and the browser test's programs for the
//! second test); run from `tests/environment.rs`.

use serde_json::Value;

use super::browser::{
    check_in_browser, missing_prerequisites, out_dir, search_count, search_for, search_hint,
    write_report_in,
};
use super::common::{data, fixture, sipflow};
use super::needs::{Missing, require, shared_traces};

const CAPTURE: &str = "heplify/sip_ipv4_tcp_fragmented.pcap";
/// The call from `"Псков-5" <sip:540454@maxus.lan>`, over the SBC's connection from port 37398.
const PSKOV: &str = "17c0b3b3-dfd2-42ac-9018-6156179021c0";
/// A call from "Vlasova YAna" whose 486 carries `P-Asserted-Identity: "Outbound Call"
/// <sip:+79283840774@maxus.lan>`: that name and number are in no From or To.
const BUSY: &str = "044e6256592e8113b15b37b77600";
/// Every Call-ID with a message naming "Outbound Call" (all in P-Asserted-Identity).
const OUTBOUND_CALL: [&str; 8] = [
    BUSY,
    "05abc5c6592e8166b25b37b77600",
    "08aa9496592e81f3b15b37b77600",
    "0ba96366592e8180b15b37b77600",
    "8014f9386592e8190b15b37b77600",
    "808aa9496592e812b25b37b77600",
    "809021216592e81e4b05b37b77600",
    "80e81616592e819ab25b37b77600",
];

fn capture() -> Result<String, Missing> {
    Ok(shared_traces("public")?.join(CAPTURE).display().to_string())
}

/// The report's data carries each call's addresses (IP:port of every message), display names
/// (From, To, Contact, P-Asserted-Identity), numbers and User-Agent/Server, once each.
pub fn the_report_data_carries_addresses_names_and_agents() -> Result<(), Missing> {
    let pcap = capture()?;
    let run = sipflow(&["report", "-o", "-", &pcap]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (index, _) = data(&run.stdout);
    let items = index["items"].as_array().expect("items");
    assert_eq!(items.len(), 70, "65 calls and 5 OPTIONS flows");
    let terms = |call_id: &str| -> Vec<String> {
        let item = items
            .iter()
            .find(|i| i["call_id"] == call_id)
            .unwrap_or_else(|| panic!("no line for {call_id}"));
        let terms: Vec<String> = item["search"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let mut distinct = terms.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), terms.len(), "repeated terms: {terms:?}");
        terms
    };
    let pskov = terms(PSKOV);
    for want in [
        "10.186.207.1:37398",
        "Псков-5",
        "ES FS SBC",
        "Avaya CM/R016x.03.0.124.0",
    ] {
        assert!(pskov.iter().any(|t| t == want), "{want:?} not in {pskov:?}");
    }
    // The bare address is in the address with its port, and the number in the From shown.
    assert!(
        !pskov.iter().any(|t| t == "10.186.207.1" || t == "540454"),
        "{pskov:?}"
    );
    let busy = terms(BUSY);
    for want in ["Vlasova YAna", "Outbound Call", "+79283840774"] {
        assert!(busy.iter().any(|t| t == want), "{want:?} not in {busy:?}");
    }
    // No line carries more than its bound (16 of each kind).
    assert!(
        items
            .iter()
            .all(|i| i["search"].as_array().map_or(0, Vec::len) <= 48)
    );
    Ok(())
}

/// In the browser, the search finds an address (bare, with its port, or a port alone), a
/// display name in any case, a name and a number only P-Asserted-Identity gives; a narrow
/// window clips Call-IDs, which carry their tooltips; the arrow keys go on from a clicked line.
pub fn the_search_finds_addresses_and_names_in_a_browser() -> Result<(), Missing> {
    let pcap = capture()?;
    require(
        "the report search browser test (tests/integration/search.rs)",
        &missing_prerequisites(),
        "apt-get install chromium; npm ci --prefix tests/browser",
    )?;
    // A folder of its own: the other browser test empties target/browser as it starts.
    let dir = out_dir().join("search");
    std::fs::create_dir_all(&dir).expect("create target/browser/search");
    let started = std::time::Instant::now();
    let mut report = write_report_in(&dir, "search-heplify", &[], &[pcap], false);
    report.width = Some(1000);
    report.clipped = true;
    report.keyboard = true;
    report.searches = vec![
        search_count("10.186.207.1", 70),
        search_count("10.186.205.133", 21),
        search_count(":37398", 21),
        search_for("ПСКОВ", &[PSKOV]),
        search_for("псков-5", &[PSKOV]),
        search_for("vlasova yana", &[BUSY]),
        search_for("+79283840774", &[BUSY]),
        search_for("Outbound Call", &OUTBOUND_CALL),
    ];
    check_in_browser(&dir, &[report], &[], started.elapsed());
    Ok(())
}

/// The Call-IDs of the calls and flows `sipflow calls` selects with `options` from `inputs`, in
/// its order (a call with its B2BUA legs).
fn selected(options: &[&str], inputs: &[String]) -> Vec<String> {
    let mut args = vec!["calls", "--format", "json"];
    args.extend_from_slice(options);
    args.extend(inputs.iter().map(String::as_str));
    let run = sipflow(&args);
    assert_eq!(run.code, 0, "sipflow {args:?}: {}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("calls JSON");
    let ids: Vec<String> = ["calls", "flows"]
        .iter()
        .filter_map(|k| doc[k].as_array())
        .flatten()
        .filter_map(|c| c["call_id"].as_str().map(String::from))
        .collect();
    ids
}

/// The search's `field:value` terms list exactly the lines the selection options select, on
/// the capture above and a recorded call over IPv6 (`fixtures/captures/ipv6`): status code
/// and class, IPv4 and IPv6 networks, users (a name only P-Asserted-Identity gives), rules by
/// name and by code, methods, outcomes, times of day and dated times, repeated `call:`; they
/// combine with free text; bad values and unknown fields are hints, never errors.
pub fn field_terms_select_as_the_options_do_in_a_browser() -> Result<(), Missing> {
    let inputs = vec![capture()?, fixture("captures/ipv6/call.pcap")];
    require(
        "the report search browser test (tests/integration/search.rs)",
        &missing_prerequisites(),
        "apt-get install chromium; npm ci --prefix tests/browser",
    )?;
    let dir = out_dir().join("search-fields");
    std::fs::create_dir_all(&dir).expect("create target/browser/search-fields");
    let started = std::time::Instant::now();
    let mut report = write_report_in(&dir, "search-fields", &[], &inputs, false);
    let total = selected(&[], &inputs).len();
    assert_eq!(total, 71, "65 calls and 5 flows, and the IPv6 call");

    let cases: &[(&str, &[&str])] = &[
        ("status:4xx", &["--status", "4xx"]),
        ("status:486", &["--status", "486"]),
        ("status:2XX", &["--status", "2xx"]),
        ("ip:10.186.205.130/31", &["--ip", "10.186.205.130/31"]),
        ("ip:10.186.205.133", &["--ip", "10.186.205.133"]),
        ("ip:::1", &["--ip", "::1"]),
        ("ip:::/0", &["--ip", "::/0"]),
        ("ip:2001:db8::/32", &["--ip", "2001:db8::/32"]),
        ("user:ПСКОВ", &["--user", "ПСКОВ"]),
        ("user:\"outbound call\"", &["--user", "outbound call"]),
        ("user:79283840774", &["--user", "79283840774"]),
        (
            "rule:stuck-in-proceeding",
            &["--rule", "stuck-in-proceeding"],
        ),
        ("rule:sf027", &["--rule", "SF027"]),
        ("rule:missing-ack", &["--rule", "missing-ack"]),
        ("method:options", &["--method", "OPTIONS"]),
        ("method:BYE", &["--method", "BYE"]),
        ("outcome:busy", &["--outcome", "busy"]),
        ("outcome:incomplete", &["--outcome", "incomplete"]),
        (
            "since:09:54 until:09:55",
            &["--since", "09:54", "--until", "09:55"],
        ),
        (
            "since:2018-07-19 09:55:03.5",
            &["--since", "2018-07-19 09:55:03.5"],
        ),
        (
            "until:\"2018-07-19T09:53:06.495\"",
            &["--until", "2018-07-19T09:53:06.495"],
        ),
        ("since:2026-11-21T00:00", &["--since", "2026-11-21T00:00"]),
        (
            "call:2 call:F1 call:bef7ab40-12f0-4b7b-8b38-e0b729487c26",
            &[
                "--call",
                "2",
                "--call",
                "F1",
                "--call",
                "bef7ab40-12f0-4b7b-8b38-e0b729487c26",
            ],
        ),
        (
            "status:4xx method:INVITE outcome:rejected",
            &[
                "--status",
                "4xx",
                "--method",
                "INVITE",
                "--outcome",
                "rejected",
            ],
        ),
    ];
    let mut searches = Vec::new();
    for (query, options) in cases {
        let want = selected(options, &inputs);
        // Only these select nothing here; every other case tells lines apart.
        let none = ["ip:2001:db8::/32", "rule:missing-ack"].contains(query);
        assert_eq!(
            want.is_empty(),
            none,
            "{query}: {} of {total} lines",
            want.len()
        );
        assert!(want.len() < total, "{query} selects every line");
        let want: Vec<&str> = want.iter().map(String::as_str).collect();
        searches.push(search_for(query, &want));
    }
    // Fields AND-ed with free text (a name from this call's From).
    searches.push(search_for("status:2xx Псков", &[PSKOV]));
    searches.push(search_for("Псков status:4xx", &[]));
    searches.push(search_for("status:486 outbound", &[BUSY]));
    // A URI is text, not a field (the only From or To with it is this call's).
    searches.push(search_for("sip:540454@maxus.lan", &[PSKOV]));
    searches.push(search_for("method:INVITE sip:540454@maxus.lan", &[PSKOV]));
    // A bad value is left out (the other terms still apply); an unknown field is searched as
    // text.
    let busy = selected(&["--status", "486"], &inputs).len();
    searches.push(search_hint("status:7xx", total, "status: takes"));
    searches.push(search_hint("status:486 ip:10.0.0.0/33", busy, "ip: takes"));
    searches.push(search_hint("rule:no-such-rule", total, "no rule is named"));
    searches.push(search_hint("since:25:00", total, "since: takes"));
    searches.push(search_hint("outcome:ringing", total, "outcome: takes"));
    searches.push(search_hint("colour:red", 0, "unknown field"));
    searches.push(search_hint("user:", total, "user: needs a value"));
    report.searches = searches;
    let legs = legs_report(&dir)?;
    check_in_browser(&dir, &[report, legs], &[], started.elapsed());
    Ok(())
}

/// A Call-ID of the public capture `heplify/sip_tcp_websocket.pcap` whose INVITE carries
/// `Remote-Party-ID: "Outbound Call" <sip:9998112263382742@…>`, a name in no header `--user`
/// reads (found with `tshark -Y 'sip contains "Outbound Call"' -T fields -e sip.Call-ID`).
const RPID_CALL: &str = "kovfhoptshgn59q712sr";

/// The second report of the test above: a call through a B2BUA (`fixtures/b2bua`, its three
/// logs: legs A and B, linked) and a capture whose Remote-Party-ID names a party no header
/// `--user` reads. A term matching one leg lists both, as the options select them; `user:`
/// reads the option's headers, and the free text finds the Remote-Party-ID too.
fn legs_report(dir: &std::path::Path) -> Result<super::browser::Report, Missing> {
    let inputs = vec![
        fixture("b2bua/caller.log"),
        fixture("b2bua/b2bua.log"),
        fixture("b2bua/callee.log"),
        shared_traces("public")?
            .join("heplify/sip_tcp_websocket.pcap")
            .display()
            .to_string(),
    ];
    let mut report = write_report_in(dir, "search-legs", &[], &inputs, false);
    let run = sipflow(&[&["calls", "--format", "json"][..], &inputs_str(&inputs)].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("calls JSON");
    let linked = doc["calls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["group"] != c["index"])
        .count();
    assert_eq!(linked, 1, "leg B is in leg A's group: {}", run.stdout);
    let total = selected(&[], &inputs).len();
    let cases: &[(&str, &[&str])] = &[
        // Leg A's caller and leg B's callee: each term matches one leg, and lists both.
        ("user:caller", &["--user", "caller"]),
        ("user:callee", &["--user", "callee"]),
        ("call:2", &["--call", "2"]),
        (
            "status:2xx method:BYE",
            &["--status", "2xx", "--method", "BYE"],
        ),
        ("user:9998112263382742", &["--user", "9998112263382742"]),
        ("ip:10.243.0.0/24", &["--ip", "10.243.0.0/24"]),
        ("user:\"outbound call\"", &["--user", "outbound call"]),
    ];
    let mut searches = Vec::new();
    for (query, options) in cases {
        let want = selected(options, &inputs);
        assert!(want.len() < total, "{query} selects every line");
        let legs = ["user:caller", "user:callee", "call:2"].contains(query);
        if legs {
            assert_eq!(want.len(), 2, "{query}: both legs, {want:?}");
        }
        // Only in a Remote-Party-ID, which `--user` does not read.
        assert_eq!(
            want.is_empty(),
            query.contains("outbound"),
            "{query}: {want:?}"
        );
        let want: Vec<&str> = want.iter().map(String::as_str).collect();
        searches.push(search_for(query, &want));
    }
    // The free text reads the Remote-Party-ID, and narrows the lines a field term selects.
    searches.push(search_for("outbound call", &[RPID_CALL]));
    let leg_a = doc["calls"][0]["call_id"].as_str().expect("leg A");
    searches.push(search_for("user:callee sip:caller@127.0.0.1", &[leg_a]));
    report.searches = searches;
    Ok(report)
}

fn inputs_str(inputs: &[String]) -> Vec<&str> {
    inputs.iter().map(String::as_str).collect()
}
