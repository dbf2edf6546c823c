//! Fixture cases of the network rules (`dns-failure`, `tls-failure`, `slow-transport-connect`),
//! recorded in network namespaces with a DNS server, TLS peers and a TCP registrar of their own
//! (`fixtures/rules-net/`), and what
//! their severities, their merging across inputs and their windows must be.

use super::common::{Found, check_fixtures, fixture, sipflow};
use super::rule_cases::{RuleCase, evidence};

pub const CASES: &[RuleCase] = &[
    RuleCase {
        rule: "dns-failure",
        args: &[],
        positive: &[
            &["rules-net/dns-nxdomain-call/caller.log"],
            &["rules-net/dns-nxdomain-call/call.pcap"],
            &["rules-net/dns-getaddrinfo-call/caller.log"],
            &["rules-net/dns-refused-register/ua.log"],
            &["rules-net/dns-refused-register/reg.pcap"],
            &["rules-net/dns-timeout-register/ua.log"],
            &["rules-net/dns-timeout-register/reg.pcap"],
        ],
        negative: &[
            &[
                "rules-net/dns-srv-ok/caller.log",
                "rules-net/dns-srv-ok/callee.log",
                "rules-net/dns-srv-ok/call.pcap",
            ],
            &["rules-net/tls-ok/caller.log", "rules-net/tls-ok/call.pcap"],
            &["captures/pjsua-udp/call.pcap"],
        ],
    },
    RuleCase {
        rule: "tls-failure",
        args: &[],
        positive: &[
            &["rules-net/tls-untrusted-cert/caller.log"],
            &["rules-net/tls-untrusted-cert/call.pcap"],
            &[
                "rules-net/tls-wrong-name/caller.log",
                "rules-net/tls-wrong-name/callee.log",
            ],
            &["rules-net/tls-protocol-version/call.pcap"],
            &["rules-net/tls-protocol-version/callee.log"],
        ],
        negative: &[
            &[
                "rules-net/tls-ok/caller.log",
                "rules-net/tls-ok/callee.log",
                "rules-net/tls-ok/call.pcap",
            ],
            &["rules-net/dns-srv-ok/call.pcap"],
            &["rules-message-extra/transport-error/caller.log"],
        ],
    },
    RuleCase {
        rule: "slow-transport-connect",
        args: &[],
        positive: &[
            &["rules-net/slow-connect/ua.log"],
            &[
                "rules-net/slow-connect/ua.log",
                "rules-net/slow-connect/reg.pcap",
            ],
            &["rules-net/slow-connect-timeout/ua.log"],
        ],
        negative: &[
            &[
                "rules-net/tcp-connect-ok/ua.log",
                "rules-net/tcp-connect-ok/reg.pcap",
            ],
            &["rules-net/tls-ok/caller.log", "rules-net/tls-ok/callee.log"],
            &["tcp-call/caller.log"],
            // A refused connection is `transport-error`'s; a failed handshake `tls-failure`'s.
            &["rules-message-extra/transport-error/caller.log"],
            &["rules-net/tls-untrusted-cert/caller.log"],
        ],
    },
];

/// (rule, severity, message) of every finding of `check` on `inputs` (relative to
/// `fixtures/`), with `extra` arguments.
fn findings_with(inputs: &[&str], extra: &[&str]) -> Vec<Found> {
    check_fixtures(extra, inputs).1
}

fn findings(inputs: &[&str]) -> Vec<Found> {
    findings_with(inputs, &[])
}

/// The (rule, severity) pairs of the network rules and of the rules they must not double.
fn verdicts(inputs: &[&str]) -> Vec<(String, String)> {
    findings(inputs)
        .into_iter()
        .filter(|(r, _, _)| {
            [
                "dns-failure",
                "tls-failure",
                "transport-error",
                "registration-failed",
            ]
            .contains(&r.as_str())
        })
        .map(|(r, s, _)| (r, s))
        .collect()
}

fn one(rule: &str, severity: &str) -> Vec<(String, String)> {
    vec![(rule.to_string(), severity.to_string())]
}

#[test]
fn a_request_that_never_left_is_an_error_and_only_a_dns_one() {
    // pjsip fails the INVITE or REGISTER with the DNS error: `transport-error` and
    // `registration-failed` leave it to `dns-failure` (one problem, one error).
    for inputs in [
        &["rules-net/dns-nxdomain-call/caller.log"][..],
        // Without a nameserver: getaddrinfo(), `Failed to resolve '…' (PJ_ERESOLVE)`.
        &["rules-net/dns-getaddrinfo-call/caller.log"],
        &[
            "rules-net/dns-getaddrinfo-call/caller.log",
            "rules-net/dns-getaddrinfo-call/call.pcap",
        ],
        &["rules-net/dns-refused-register/ua.log"],
        &["rules-net/dns-timeout-register/ua.log"],
        // The log and the capture of one run: one finding.
        &[
            "rules-net/dns-nxdomain-call/caller.log",
            "rules-net/dns-nxdomain-call/call.pcap",
        ],
        &[
            "rules-net/dns-timeout-register/ua.log",
            "rules-net/dns-timeout-register/reg.pcap",
        ],
        // From the capture alone: A and SRV both NXDOMAIN and nothing sent.
        &["rules-net/dns-nxdomain-call/call.pcap"],
    ] {
        assert_eq!(verdicts(inputs), one("dns-failure", "error"), "{inputs:?}");
    }
    let found = findings(&["rules-net/dns-nxdomain-call/caller.log"]);
    assert!(
        found[0].2.contains("nx.sipflow.test") && found[0].2.contains("INVITE was never sent"),
        "{found:?}"
    );
    let found = findings(&["rules-net/dns-refused-register/ua.log"]);
    assert!(found[0].2.contains("registration failed"), "{found:?}");
}

#[test]
fn a_capture_that_shows_only_the_failed_srv_lookup_is_a_warning() {
    // The resolver did not answer (or refused) the SRV query; the capture shows no A lookup
    // answered and no REGISTER after it: a risk, not a failure seen.
    for inputs in [
        &["rules-net/dns-timeout-register/reg.pcap"][..],
        &["rules-net/dns-refused-register/reg.pcap"],
    ] {
        assert_eq!(
            verdicts(inputs),
            one("dns-failure", "warning"),
            "{inputs:?}"
        );
    }
}

#[test]
fn a_missing_srv_record_then_the_a_fallback_is_info() {
    for inputs in [
        &["rules-net/dns-srv-fallback/caller.log"][..],
        &["rules-net/dns-srv-fallback/call.pcap"],
        &[
            "rules-net/dns-srv-fallback/caller.log",
            "rules-net/dns-srv-fallback/callee.log",
            "rules-net/dns-srv-fallback/call.pcap",
        ],
    ] {
        assert_eq!(verdicts(inputs), one("dns-failure", "info"), "{inputs:?}");
        let found = findings(inputs);
        assert!(found[0].2.contains("RFC 3263"), "{found:?}");
    }
}

#[test]
fn a_rejected_certificate_is_an_error_with_its_cause() {
    for inputs in [
        &["rules-net/tls-untrusted-cert/caller.log"][..],
        &["rules-net/tls-wrong-name/caller.log"],
        // Both ends' logs and the capture of one handshake: one finding.
        &[
            "rules-net/tls-untrusted-cert/caller.log",
            "rules-net/tls-untrusted-cert/callee.log",
            "rules-net/tls-untrusted-cert/call.pcap",
        ],
        &[
            "rules-net/tls-protocol-version/caller.log",
            "rules-net/tls-protocol-version/callee.log",
            "rules-net/tls-protocol-version/call.pcap",
        ],
    ] {
        assert_eq!(verdicts(inputs), one("tls-failure", "error"), "{inputs:?}");
    }
    let found = findings(&["rules-net/tls-untrusted-cert/caller.log"]);
    assert!(found[0].2.contains("certificate was rejected"), "{found:?}");
    let found = findings(&[
        "rules-net/tls-protocol-version/caller.log",
        "rules-net/tls-protocol-version/callee.log",
    ]);
    assert!(found[0].2.contains("no TLS version in common"), "{found:?}");
}

#[test]
fn a_capture_alone_that_stops_soon_after_the_handshake_is_a_warning() {
    // The capture shows no SIP over the connection, but it ends seconds later: whether the
    // request got through another way cannot be seen.
    for (inputs, says) in [
        (
            "rules-net/tls-untrusted-cert/call.pcap",
            "right after the handshake",
        ),
        (
            "rules-net/tls-protocol-version/call.pcap",
            "right after the ClientHello",
        ),
    ] {
        let found = findings(&[inputs]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].0.as_str(), found[0].1.as_str()),
            ("tls-failure", "warning")
        );
        assert!(found[0].2.contains(says), "{found:?}");
    }
}

#[test]
fn the_evidence_points_at_the_lookups_and_the_request() {
    let found = evidence("dns-failure", &["rules-net/dns-srv-fallback/call.pcap"]);
    let labels: Vec<&str> = found[0].iter().map(|e| e.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "the lookup that failed",
            "the fallback answer",
            "the INVITE sent after it"
        ]
    );
    let found = evidence(
        "tls-failure",
        &[
            "rules-net/tls-untrusted-cert/caller.log",
            "rules-net/tls-untrusted-cert/call.pcap",
        ],
    );
    let labels: Vec<&str> = found[0].iter().map(|e| e.label.as_str()).collect();
    assert!(labels.contains(&"the request it failed"), "{labels:?}");
    assert!(labels.contains(&"the same handshake"), "{labels:?}");
}

#[test]
fn lookups_go_with_the_call_they_were_for_in_every_window() {
    // The DNS lookups come before the INVITE: they wait for it and join its call, so that
    // windows of any size judge them with it.
    let inputs = [
        "rules-net/dns-srv-fallback/caller.log",
        "rules-net/dns-srv-fallback/call.pcap",
    ];
    let one_window = findings_with(&inputs, &["--limit", "window-events=100000"]);
    // Windows of 1 or 2 events cut this call itself (a group is closed at four times the
    // window size, and the run reports it), so they may judge its halves apart.
    for w in ["4", "16"] {
        let limit = format!("window-events={w}");
        assert_eq!(
            findings_with(&inputs, &["--limit", &limit]),
            one_window,
            "window-events={w}"
        );
    }
    // The ladder of the call shows them.
    let paths: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
    let mut args = vec!["flow", "--call", "1"];
    args.extend(paths.iter().map(String::as_str));
    let out = super::common::sipflow_wide(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("DNS SRV _sip._udp.pbx.sipflow.test: NXDOMAIN"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("DNS A pbx.sipflow.test: 10.63.4.2"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_call_that_never_sent_its_invite_keeps_its_lines_in_every_window() {
    // `Making call` is held for the INVITE that never comes: the end of the input lets it go,
    // window or not (it was lost when written window by window).
    let events = |w: &str| {
        let limit = format!("window-events={w}");
        let out = sipflow(&[
            "events",
            "--limit",
            &limit,
            &fixture("rules-net/dns-nxdomain-call/caller.log"),
        ]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout
    };
    // Windows are written one after the other, so a group held to the end comes after lines
    // of later windows: the same events, in another order.
    let sorted = |s: String| {
        let mut lines: Vec<String> = s.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    let whole = events("100000");
    assert!(whole.contains("Making call with acc #0 to sip:bob@nx.sipflow.test"));
    assert_eq!(sorted(events("2")), sorted(whole));
}

/// (type, name or peer, error) of the DNS and TLS events `sipflow events` reads from `input`.
fn net_events(input: &str) -> Vec<String> {
    let out = sipflow(&["events", &fixture(input)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|e| {
            let log = &e["log"];
            let kind = log["type"].as_str()?;
            let subject = match kind {
                "dns_failure" => log["name"].as_str().unwrap_or("-").to_string(),
                "tls_failure" => log["peer"].as_str().unwrap_or("-").to_string(),
                _ => return None,
            };
            let error = &log["error"];
            let why = error["detail"]
                .as_str()
                .or(error["kind"].as_str())
                .unwrap_or_default();
            Some(format!("{kind} {subject} {why}"))
        })
        .collect()
}

#[test]
fn pjsip_resolver_and_tls_lines_become_events() {
    // What PJSIP 2.15.1 writes, as recorded: every resolver and TLS failure line, and not the
    // lines that only announce a fallback or repeat the error at teardown.
    let cases: &[(&str, &[&str])] = &[
        (
            "rules-net/dns-nxdomain-call/caller.log",
            &[
                "dns_failure _sip._udp.nx.sipflow.test nx-domain",
                "dns_failure - nx-domain",
                "dns_failure - nx-domain",
            ],
        ),
        (
            "rules-net/dns-getaddrinfo-call/caller.log",
            &["dns_failure nx.sipflow.test gethostbyname() has returned error (PJ_ERESOLVE)"],
        ),
        (
            "rules-net/dns-refused-register/ua.log",
            &[
                "dns_failure _sip._udp.voip.example.net rcode",
                "dns_failure voip.example.net No working DNS nameserver (PJLIB_UTIL_EDNSNOWORKINGNS)",
                "dns_failure - No working DNS nameserver (PJLIB_UTIL_EDNSNOWORKINGNS)",
            ],
        ),
        (
            "rules-net/dns-timeout-register/ua.log",
            &[
                "dns_failure _sip._udp.slow.sipflow.test no-answer",
                "dns_failure - no-answer",
                "dns_failure - no-answer",
            ],
        ),
        (
            "rules-net/tls-untrusted-cert/caller.log",
            &["tls_failure 10.63.6.2 SSL certificate verification error (PJSIP_TLS_ECERTVERIF)"],
        ),
        (
            "rules-net/tls-protocol-version/caller.log",
            &[
                "tls_failure 10.63.8.2:6371 End of file (PJ_EEOF)",
                "tls_failure 10.63.8.2 End of file (PJ_EEOF)",
            ],
        ),
        (
            "rules-net/tls-protocol-version/callee.log",
            &[
                "tls_failure 10.63.8.1:52243 SSL routines-SSL23_GET_CLIENT_HELLO-unknown protocol",
                "tls_failure 10.63.8.1:52243 unknown protocol",
            ],
        ),
        ("rules-net/tls-ok/caller.log", &[]),
        ("rules-net/tls-ok/callee.log", &[]),
        ("rules-net/dns-srv-ok/caller.log", &[]),
        // A refused TCP connection is no TLS failure.
        ("rules-message-extra/transport-error/caller.log", &[]),
    ];
    for (input, want) in cases {
        assert_eq!(net_events(input), *want, "{input}");
    }
}

#[test]
fn resolver_and_tls_lines_posted_in_pjsip_issues() {
    // Lines of pjsip logs posted in public pjsip/pjproject issues, verbatim (the whole excerpts
    // are in tests/real-world/logs/).
    let cases: &[(&str, &str, &str)] = &[
        // Issue #4319: the SRV answer is too large for UDP and pjsip does not retry over TCP.
        (
            "13:31:45.730 _sip._udp.sip.plusnet.  Discard truncated DNS SRV response for _sip._udp.sip.plusnet.de\n\
             13:31:45.730 _sip._udp.sip.plusnet.  DNS SRV record resolution error for 'sip.plusnet.de'.: Ignored (PJ_EIGNORED)\n\
             13:31:45.731          sip_resolve.c  DNS A/AAAA record resolution failed: Ignored (PJ_EIGNORED)\n",
            "error",
            "truncated answer discarded",
        ),
        // Issue #4487: a nameserver given by name; pjsua_init fails.
        (
            "16:57:53.357           pjsua_core.c  .Error setting nameserver: Invalid DNS nameserver address (PJLIB_UTIL_EDNSINNSADDR) [status=320044]\n",
            "error",
            "Invalid DNS nameserver address",
        ),
        // Issue #4935: incoming TLS handshakes fail with no shared cipher.
        (
            "14:06:15.719                    SSL  SSL_ERROR_SSL (Handshake): Level: 0 err: <167772353> <error:0A0000C1:SSL routines::no shared cipher> len: 0 peer: 127.0.0.1:34180\n\
             14:06:15.719      ssl0x79136814d9a0  Handshake failed on 127.0.0.1:5101 in accepting 127.0.0.1:34180: no shared cipher\n",
            "warning",
            "no cipher (or other parameter) in common",
        ),
    ];
    for (log, severity, says) in cases {
        let out = super::common::sipflow_with_stdin(
            &["check", "--format", "json", "--input-format", "pjsip", "-"],
            log.as_bytes(),
        );
        assert!(matches!(out.code, 0 | 1), "{}", out.stderr);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
        let found: Vec<(String, String)> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| matches!(f["rule"].as_str(), Some("dns-failure" | "tls-failure")))
            .map(|f| {
                let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
                (s("severity"), s("message"))
            })
            .collect();
        assert_eq!(found.len(), 1, "{log}: {found:?}");
        assert_eq!(found[0].0, *severity, "{log}: {found:?}");
        assert!(found[0].1.contains(says), "{log}: {found:?}");
    }
}

#[test]
fn a_connect_that_lost_three_syns_is_a_warning_naming_the_peer_and_the_register() {
    // nftables dropped the first three SYNs: the SYN went again after 1 s, 3 s and 7 s.
    for inputs in [
        &["rules-net/slow-connect/ua.log"][..],
        &[
            "rules-net/slow-connect/ua.log",
            "rules-net/slow-connect/reg.pcap",
        ],
    ] {
        let found: Vec<Found> = findings(inputs)
            .into_iter()
            .filter(|(r, _, _)| r == "slow-transport-connect")
            .collect();
        assert_eq!(found.len(), 1, "{inputs:?}: {found:?}");
        assert_eq!(found[0].1, "warning");
        let m = &found[0].2;
        assert!(
            m.contains("TCP connection to 10.63.11.2:6392 took 7."),
            "{m}"
        );
        assert!(m.contains("REGISTER (CSeq "), "{m}");
        // The registration itself succeeded: nothing else to say about it.
        assert!(
            !findings(inputs)
                .iter()
                .any(|(r, _, _)| r == "registration-failed" || r == "transport-error"),
            "{inputs:?}"
        );
    }
    let found = evidence("slow-transport-connect", &["rules-net/slow-connect/ua.log"]);
    let labels: Vec<&str> = found[0].iter().map(|e| e.label.as_str()).collect();
    assert_eq!(labels.len(), 3, "{labels:?}");
    assert!(
        labels[0].starts_with("the connection came up after 7."),
        "{labels:?}"
    );
    assert_eq!(labels[1], "the connect started");
    assert!(
        labels[2].starts_with("logged as sent, waited 7."),
        "{labels:?}"
    );
    // `thresholds.slow-connect-ms` above the 7.3 s wait: nothing to report; below it: the same.
    let dir = std::env::temp_dir().join(format!("sipflow-slow-connect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("sipflow.toml");
    let slow_with = |ms: u32| {
        std::fs::write(&config, format!("[thresholds]\nslow-connect-ms = {ms}\n"))
            .expect("write config");
        let args = ["--config", config.to_str().expect("utf-8 path")];
        findings_with(&["rules-net/slow-connect/ua.log"], &args)
            .into_iter()
            .filter(|(r, _, _)| r == "slow-transport-connect")
            .count()
    };
    assert_eq!((slow_with(8_000), slow_with(7_000)), (0, 1));
    std::fs::remove_dir_all(&dir).ok();
    // Windows that do not cut the registration judge it the same.
    let inputs = ["rules-net/slow-connect/ua.log"];
    let one_window = findings_with(&inputs, &["--limit", "window-events=100000"]);
    for w in ["4", "16"] {
        let limit = format!("window-events={w}");
        assert_eq!(
            findings_with(&inputs, &["--limit", &limit]),
            one_window,
            "window-events={w}"
        );
    }
}

#[test]
fn a_connect_that_outlasted_the_transaction_is_the_error_and_the_408_info() {
    let inputs = [
        "rules-net/slow-connect-timeout/ua.log",
        "rules-net/slow-connect-timeout/reg.pcap",
    ];
    let found = findings(&inputs);
    let of = |rule: &str| -> Vec<&Found> { found.iter().filter(|f| f.0 == rule).collect() };
    let slow = of("slow-transport-connect");
    assert_eq!(slow.len(), 1, "{found:?}");
    assert_eq!(slow[0].1, "error");
    assert!(slow[0].2.contains("took 63."), "{}", slow[0].2);
    assert!(
        slow[0].2.contains("timed out before it could leave"),
        "{}",
        slow[0].2
    );
    let reg = of("registration-failed");
    assert_eq!(reg.len(), 1, "{found:?}");
    assert_eq!(reg[0].1, "info", "one problem, one error: {found:?}");
}
