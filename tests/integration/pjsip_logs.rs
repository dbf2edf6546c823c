//! pjsip logs as people paste them (issue 13, part 3): the real excerpts of
//! `tests/real-world/logs/` (those not held out of tuning) and of `fixtures/pjsip-decors/`, and
//! logs derived from our recordings in the wrappers no public excerpt shows. Every dump whose
//! header is in the input is read as a message; a message cut by the excerpt's edges is marked
//! so and is not reported as a fault; a paste that lost the CRs gives the recording's bytes.

use std::collections::BTreeSet;
use std::path::Path;

use sipflow::event::{Cut, Event, MessageEvent};
use sipflow::ingest::{Format, IngestOptions, ingest_bytes};

use super::common::{check_doc, found, root, sipflow, sipflow_with_stdin};

/// The message events of one input read as a pjsip log.
fn messages(rel: &str) -> Vec<MessageEvent> {
    let bytes = std::fs::read(root().join(rel)).expect("read input");
    let (info, _, events) =
        ingest_bytes(rel, bytes, &IngestOptions::default()).expect("the input is read");
    assert_eq!(info.format, Format::PJSIP, "{rel}: sniffed as a pjsip log");
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            Event::Log(_) => None,
        })
        .collect()
}

/// Dump headers counted independently of the reader: `TX|RX N bytes Request|Response msg`
/// anywhere on a line, and pjsip's records of a packet it dropped (`Error processing N bytes
/// packet`), also when the input ends inside them.
fn headers(rel: &str) -> usize {
    let text = std::fs::read_to_string(root().join(rel)).expect("UTF-8 input");
    let re = regex::Regex::new(
        r"\b[TR]X [0-9]+ bytes Re(quest|sponse) msg\b|\bError processing ([0-9]+ bytes )?packet\b",
    )
    .expect("regex");
    text.lines().map(|l| re.find_iter(l).count()).sum()
}

/// Every dump header is a message; the only other message is the tail of a dump the input
/// starts inside: the first event, cut by the input, without a direction or a start line.
fn dumps_are_messages(rel: &str, m: &[MessageEvent]) {
    let (dumps, tails): (Vec<&MessageEvent>, Vec<&MessageEvent>) =
        m.iter().partition(|m| m.direction.is_some());
    assert_eq!(
        dumps.len(),
        headers(rel),
        "{rel}: every dump header is a message"
    );
    assert!(tails.len() <= 1, "{rel}");
    if let Some(t) = tails.first() {
        assert!(std::ptr::eq(*t, &m[0]), "{rel}: the tail comes first");
        assert_eq!(t.cut, Some(Cut::InputEdge), "{rel}");
        assert!(t.msg.is_err(), "{rel}: no start line");
    }
}

/// Real excerpts with a message its sender wrote wrong, and what `malformed-message` says of it.
const WRITTEN_WRONG: [(&str, &str); 1] = [
    // VialerSIPLib #217: the BYE's To tag is inside the URI's angle brackets.
    (
        "vialersiplib-217-bye-to-tag-inside-uri",
        "this To has no tag (its `tag=` is inside the angle brackets",
    ),
];

/// The rule names `check` reports on an input.
fn rules(rel: &str) -> Vec<String> {
    found(&check_doc(&[], &[rel]).1)
        .into_iter()
        .map(|(rule, ..)| rule)
        .collect()
}

/// The excerpts of `tests/real-world/logs/` that are not held out of tuning.
fn real_excerpts() -> Vec<String> {
    let held: BTreeSet<String> =
        std::fs::read_to_string(root().join("tests/real-world/held-out.txt"))
            .expect("held-out list")
            .lines()
            .filter_map(|l| {
                l.strip_prefix("public-logs/")
                    .or_else(|| l.strip_prefix("logs/"))
            })
            .map(str::to_string)
            .collect();
    let dir = root().join("tests/real-world/logs");
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/real-world/logs")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".log") && !held.contains(n))
        .map(|n| format!("tests/real-world/logs/{n}"))
        .collect();
    out.sort();
    out
}

fn summary(rel: &str, m: &[MessageEvent]) -> String {
    let each: Vec<String> = m
        .iter()
        .map(|m| {
            format!(
                "{}/{:?}/{}{}",
                m.raw().len(),
                m.declared_len,
                m.cut.map_or("whole", |c| c.as_str()),
                if m.msg.is_ok() { "" } else { "/unparsed" }
            )
        })
        .collect();
    format!("{}: {}", Path::new(rel).display(), each.join(" "))
}

#[test]
fn real_excerpts_are_read_without_faults_at_their_edges() {
    let excerpts = real_excerpts();
    assert!(excerpts.len() >= 16, "{excerpts:?}");
    for rel in &excerpts {
        let m = messages(rel);
        eprintln!("{}", summary(rel, &m));
        dumps_are_messages(rel, &m);
        let collapsed = rel.contains("collapsed-newlines");
        for m in &m {
            // A dump whose start line is in the input (a leading tail has none); a collapsed
            // paste is read back too.
            let start_line = m.direction.is_some() && m.raw().windows(7).any(|w| w == b"SIP/2.0");
            if start_line {
                assert!(m.msg.is_ok(), "{rel}: line {:?} parses", m.origin.line());
            }
            if !collapsed {
                assert!(
                    matches!(m.cut, None | Some(Cut::InputEdge)),
                    "{rel}: line {:?} is {:?}",
                    m.origin.line(),
                    m.cut
                );
            }
        }
        let rules = rules(rel);
        assert!(
            !rules.iter().any(|r| r == "truncated-log-record"),
            "{rel}: {rules:?}"
        );
        // Nothing is malformed but what pjsip itself could not parse (a collapsed paste is
        // read back, and marked so), or a message its sender really wrote wrong.
        let malformed = rules.iter().any(|r| r == "malformed-message");
        let dropped = m.iter().any(|m| m.stack_error.is_some());
        let written_wrong = WRITTEN_WRONG.iter().any(|(name, why)| {
            rel.contains(name)
                && found(&check_doc(&["--select", "malformed-message"], &[rel]).1)
                    .iter()
                    .all(|(.., message)| message.contains(why))
        });
        assert!(!malformed || dropped || written_wrong, "{rel}: {rules:?}");
        if collapsed {
            assert!(
                m.iter().any(|m| m.parsed().is_some_and(|p| p
                    .issues()
                    .iter()
                    .any(|i| i.kind == sipflow::sip::IssueKind::Recovered))),
                "{rel}"
            );
        }
    }
}

/// The excerpts of `fixtures/pjsip-decors/` (wrappers no real-world excerpt shows): every dump
/// header is a message, cut only by the excerpt's edges, and `check` reports nothing about the
/// edges.
#[test]
fn decor_excerpts_are_read_without_faults_at_their_edges() {
    let dir = root().join("fixtures/pjsip-decors");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures/pjsip-decors")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".log"))
        .map(|n| format!("fixtures/pjsip-decors/{n}"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    for rel in &files {
        let m = messages(rel);
        eprintln!("{}", summary(rel, &m));
        dumps_are_messages(rel, &m);
        assert!(
            m.iter()
                .all(|m| matches!(m.cut, None | Some(Cut::InputEdge))),
            "{rel}"
        );
        let rules = rules(rel);
        assert!(
            !rules
                .iter()
                .any(|r| r == "truncated-log-record" || r == "malformed-message"),
            "{rel}: {rules:?}"
        );
    }
}

/// (rule, severity, Call-ID) of every finding `check` reports on one input.
fn findings(rel: &str) -> Vec<(String, String, Option<String>)> {
    let (_, doc) = check_doc(&[], &[rel]);
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
                f["call_id"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// An excerpt that starts inside a 2xx dump and ends at its next retransmission (pjsip's
/// `Retransmiting Response msg 200/INVITE/cseq=N …, count=C` and a cut TX): the tail's Call-ID
/// opens the call, and the retransmission lines tell `missing-ack` the answerer is waiting: a
/// warning while the input does not cover 64×T1 since the 2xx was first sent (the count dates
/// it), an error once it does.
#[test]
fn missing_ack_from_pjsip_s_retransmission_lines() {
    for (rel, severity, call) in [
        (
            "tests/real-world/logs/pjproject-2342-tcp-200ok-retransmit-no-ack.log",
            "warning",
            "157290149_83336707@207.223.78.224",
        ),
        (
            "fixtures/derive/missing-ack.callee.retransmit-3.derived.log",
            "warning",
            "1-637@127.0.0.1",
        ),
        (
            "fixtures/derive/missing-ack.callee.retransmit-9.derived.log",
            "error",
            "1-637@127.0.0.1",
        ),
    ] {
        let f = findings(rel);
        let acks: Vec<_> = f.iter().filter(|(r, _, _)| r == "missing-ack").collect();
        assert_eq!(acks.len(), 1, "{rel}: {f:?}");
        assert_eq!(
            (acks[0].1.as_str(), acks[0].2.as_deref()),
            (severity, Some(call)),
            "{rel}"
        );
        // The tail is the input's edge, not a malformed message.
        assert!(
            !f.iter().any(|(r, _, _)| r == "malformed-message"),
            "{rel}: {f:?}"
        );
    }
    // A 200 retransmitted twice, then ACKed (fixtures/rules/missing-ack-late): nothing to report,
    // from the whole log or from an excerpt that starts inside the 200's dump.
    for rel in [
        "fixtures/rules/missing-ack-late/callee.log",
        "fixtures/derive/missing-ack-late.callee.acked.derived.log",
    ] {
        let f = findings(rel);
        assert!(
            !f.iter().any(|(r, _, _)| r == "missing-ack"),
            "{rel}: {f:?}"
        );
    }
}

/// An outgoing call whose INVITE the excerpt cuts before its Call-ID: its `Making call` and
/// `initializing media` lines are still printed, in file order, whole and windowed.
#[test]
fn lines_of_a_call_whose_invite_has_no_call_id_are_kept() {
    let rel = "fixtures/pjsip-decors/vialersiplib-11-xcodecolors-quoted-doubled.log";
    for args in [
        &["events"][..],
        &["events", "--limit", "window-events=4"][..],
    ] {
        let mut argv = args.to_vec();
        argv.push(rel);
        let run = sipflow(&argv);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let events: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        let seen: Vec<(String, u64)> = events
            .iter()
            .map(|e| {
                (
                    e["log"]["type"].as_str().unwrap_or("message").to_string(),
                    e["line"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("making_call".to_string(), 2),
                ("call_media_init".to_string(), 12),
                ("rtp_socket".to_string(), 14),
                ("message".to_string(), 20)
            ],
            "{args:?}"
        );
    }
}

/// What an input reads as, for comparing a wrapped log with its recording: each message (raw
/// bytes, cut, direction, time of day) and each evidence line (kind, time of day).
fn reading(rel: &str) -> (Vec<String>, Vec<String>) {
    let bytes = std::fs::read(root().join(rel)).expect("read input");
    let (info, _, events) =
        ingest_bytes(rel, bytes, &IngestOptions::default()).expect("the input is read");
    assert_eq!(info.format, Format::PJSIP, "{rel}: sniffed as a pjsip log");
    // The time of day only: a wrapper may add the date the recording does not show.
    let tod = |ts: String| ts[ts.len() - 12..].to_string();
    let (mut messages, mut lines) = (Vec::new(), Vec::new());
    for e in events {
        match e {
            Event::Message(m) => messages.push(format!(
                "{} {:?} {:?} {}",
                tod(m.ts.to_string()),
                m.direction,
                m.cut,
                String::from_utf8_lossy(m.raw())
            )),
            Event::Log(l) => lines.push(format!("{} {:?}", tod(l.ts.to_string()), l.kind)),
        }
    }
    (messages, lines)
}

/// Loggers' wrappings of issue 13 part 3 (spdlog, logcat threadtime with indented continuation
/// lines, Python logging, Apple's unified log, ANSI colour, a pjsua2 app on Windows), derived
/// from recordings by `fixtures/derive/derive.py wrap --style …`: each reads back to its
/// recording's messages (byte for byte, none cut), evidence lines and times, and `check` gives
/// the recording's findings.
#[test]
fn wrapped_logs_read_as_their_recordings() {
    let basic = "fixtures/basic-call/callee.log";
    let freed = "fixtures/call-freed-early/callee.log";
    let derived = |style: &str| format!("fixtures/derive/basic-call.callee.{style}.derived.log");
    let mut pairs: Vec<(String, &str)> = [
        "spdlog",
        "spdlog-thread",
        "logcat-threadtime",
        "python-logging",
        "python-basic",
        "os-log",
        "os-console",
        "ansi",
        "windows",
    ]
    .iter()
    .map(|s| (derived(s), basic))
    .collect();
    pairs.push((
        "fixtures/derive/call-freed-early.callee.logcat-threadtime.derived.log".into(),
        freed,
    ));
    for (rel, original) in &pairs {
        let (want_messages, want_lines) = reading(original);
        let (messages, lines) = reading(rel);
        assert!(!want_messages.is_empty(), "{original}");
        assert_eq!(messages, want_messages, "{rel} vs {original}");
        assert_eq!(lines, want_lines, "{rel} vs {original}");
        assert_eq!(findings(rel), findings(original), "{rel} vs {original}");
    }
}

/// Inputs without a dump header or an end marker, which only a record's own shape tells from
/// other text: the start-up of a log with pjsip's decor off in tg2sip's spdlog pattern (pjsip's
/// start-up texts anchor it), and one record of a Windows pjsua2 log quoted alone (pjsip's
/// columns with an upper-case pointer sender). Both are read as pjsip logs; random text and
/// another program's log still are not.
#[test]
fn decor_only_excerpts_are_pjsip_logs_and_other_text_is_not() {
    let startup = "fixtures/derive/basic-call.callee.spdlog-bare.startup.derived.log";
    let (messages, _) = reading(startup);
    assert!(messages.is_empty());
    check_doc(&[], &[startup]);
    let quote = "fixtures/derive/basic-call.callee.windows.quote.derived.log";
    let (messages, lines) = reading(quote);
    assert!(messages.is_empty());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("05:42:13.992 SdpNegotiation"),
        "{lines:?}"
    );
    for (name, text) in [
        (
            "random",
            "hello world\n12:00:01 some text here\nfoo bar baz\n",
        ),
        (
            "another program's log",
            "2024-05-01 10:31:46 startup packages configured\n\
             2024-05-01 10:31:47 status installed libc6:amd64 2.36-9\n\
             May  1 10:31:48 host kamailio[812]:  0(819) INFO: <core> [core/tcp_main.c:5042]: \
             tcp_init(): TCP listener on 10.0.0.1:5060\n\
             [2024-05-01 10:31:48.123] [app] [info] connected in 12 ms (db.c)\n",
        ),
    ] {
        let run = sipflow_with_stdin(&["events", "-"], text.as_bytes());
        assert_eq!(run.code, 2, "{name}: {}", run.stdout);
        assert!(
            run.stderr.contains("not a capture, pjsip log"),
            "{name}: {}",
            run.stderr
        );
    }
}
