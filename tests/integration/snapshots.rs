//! Snapshots (insta) of `sipflow calls` and `sipflow flow` for every recorded fixture. The
//! ladder is the readable form of the whole correlation, so a change in it shows in review.

use super::common::{fixture, sipflow};

/// (snapshot name, inputs)
pub(crate) const SETS: &[(&str, &[&str])] = &[
    (
        "basic-call",
        &["basic-call/caller.log", "basic-call/callee.log"],
    ),
    (
        "call-freed-early",
        &["call-freed-early/caller.log", "call-freed-early/callee.log"],
    ),
    (
        "call-freed-after-answer",
        &[
            "call-freed-after-answer/caller.log",
            "call-freed-after-answer/callee.log",
        ],
    ),
    (
        "decline-603",
        &["decline-603/caller.log", "decline-603/callee.log"],
    ),
    ("busy-486", &["busy-486/caller.log", "busy-486/callee.log"]),
    (
        "cancel-ringing",
        &["cancel-ringing/caller.log", "cancel-ringing/callee.log"],
    ),
    ("tcp-call", &["tcp-call/caller.log", "tcp-call/callee.log"]),
    (
        "ipv6-call",
        &["ipv6-call/caller.log", "ipv6-call/callee.log"],
    ),
    (
        "big-invite-cut",
        &["big-invite-cut/caller.log", "big-invite-cut/callee.log"],
    ),
    ("python-logging", &["python-logging/callee.log"]),
    (
        "decor-date-dayname",
        &["decor-variants/date-dayname/caller.log"],
    ),
    (
        "decor-thread-level",
        &["decor-variants/thread-level/callee.log"],
    ),
    (
        "decor-full-color-console",
        &["decor-variants/full-color/caller.console.log"],
    ),
    (
        "sender14",
        &["derive/basic-call.caller.sender14.derived.log"],
    ),
    (
        "midnight",
        &["derive/basic-call.caller.midnight.derived.log"],
    ),
    (
        "logcat",
        &["derive/call-freed-early.callee.logcat.derived.log"],
    ),
    (
        "register-401",
        &["register-401/ua.log", "register-401/registrar.msg"],
    ),
    ("register-403", &["register-403/ua.log"]),
    (
        "b2bua",
        &["b2bua/caller.log", "b2bua/b2bua.log", "b2bua/callee.log"],
    ),
    ("capture-pjsua-udp", &["captures/pjsua-udp/call.pcap"]),
    (
        "capture-pjsua-udp-with-logs",
        &[
            "captures/pjsua-udp/caller.log",
            "captures/pjsua-udp/call.pcap",
            "captures/pjsua-udp/callee.log",
        ],
    ),
    (
        "capture-freed-early",
        &["captures/pjsua-freed-early/call.pcap"],
    ),
    ("capture-sipp-tcp-big", &["captures/sipp-tcp-big/tcp.pcap"]),
    (
        "capture-udp-fragments",
        &["captures/udp-fragments/frag.pcap"],
    ),
    ("capture-ipv6", &["captures/ipv6/call.pcap"]),
    ("capture-pcapng", &["captures/pcapng/call.pcapng"]),
    ("capture-nano", &["captures/pcapng/nano.pcap"]),
    (
        "media-pjsua-rtp",
        &[
            "media/pjsua-rtp/caller.log",
            "media/pjsua-rtp/call.pcap",
            "media/pjsua-rtp/callee.log",
        ],
    ),
    ("media-pjsua-loss", &["media/pjsua-loss/call.pcap"]),
];

fn output(cmd: &[&str], inputs: &[&str]) -> String {
    let paths: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
    let mut args: Vec<&str> = cmd.to_vec();
    args.extend(paths.iter().map(String::as_str));
    let run = sipflow(&args);
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
}

#[test]
fn calls_tables() {
    for (name, inputs) in SETS {
        insta::assert_snapshot!(format!("calls__{name}"), output(&["calls"], inputs));
    }
}

#[test]
fn flow_ladders() {
    for (name, inputs) in SETS {
        insta::assert_snapshot!(format!("flow__{name}"), output(&["flow"], inputs));
    }
}

#[test]
fn flow_of_a_registration() {
    let out = output(
        &["flow", "--call", "F1"],
        &["register-401/ua.log", "register-401/registrar.msg"],
    );
    insta::assert_snapshot!("flow__register-401-F1", out);
}

#[test]
fn check_human_and_json() {
    for (name, inputs) in [
        (
            "seed-bug",
            &["call-freed-early/caller.log", "call-freed-early/callee.log"][..],
        ),
        (
            "decline-603",
            &["decline-603/caller.log", "decline-603/callee.log"],
        ),
        (
            "capture-freed-early",
            &["captures/pjsua-freed-early/call.pcap"],
        ),
        (
            "cut-and-malformed",
            &["big-invite-cut/caller.log", "malformed/options.pcap"],
        ),
    ] {
        insta::assert_snapshot!(format!("check_human__{name}"), output(&["check"], inputs));
        let json = output(&["check", "--format", "json"], inputs);
        insta::assert_snapshot!(format!("check_json__{name}"), json);
    }
}

/// The ladder layout model (lanes, rows, deltas, marks) that every renderer draws, the HTML
/// report's SVG included: a B2BUA call, a cut record, retransmissions, a malformed message.
#[test]
fn ladder_layouts() {
    use sipflow::dialog::{self, CorrelateOptions};
    use sipflow::ingest::{self, IngestOptions};
    use sipflow::report::Context;
    use sipflow::report::ladder::{Conversation, Layout};

    for (name, inputs) in [
        (
            "seed-bug",
            &["call-freed-early/caller.log", "call-freed-early/callee.log"][..],
        ),
        (
            "b2bua",
            &["b2bua/caller.log", "b2bua/b2bua.log", "b2bua/callee.log"],
        ),
        ("big-invite-cut", &["big-invite-cut/caller.log"]),
        (
            "retransmissions",
            &["rules/retransmission-storm/invite-late-answer/call.pcap"],
        ),
        ("malformed", &["malformed/options.pcap"]),
    ] {
        let paths: Vec<String> = inputs
            .iter()
            .map(|i| super::common::root().join(fixture(i)).display().to_string())
            .collect();
        let ingested = ingest::ingest(&paths, &IngestOptions::default());
        let model = dialog::correlate(ingested.events, &CorrelateOptions::default());
        let ctx = Context {
            model: &model,
            inputs: &ingested.inputs,
            sources: &ingested.sources,
            diagnoses: &sipflow::rules::Diagnoses::NONE,
            lang: sipflow::sip::status::Lang::En,
        };
        let layouts: Vec<Layout> = model
            .calls
            .iter()
            .filter(|c| c.group == c.index)
            .map(|c| Conversation::of_call(&ctx, c))
            .chain(model.flows.iter().map(Conversation::of_flow))
            .map(|conv| Layout::new(&ctx, &conv))
            .collect();
        let json = serde_json::to_string_pretty(&layouts).expect("layout serialises");
        insta::assert_snapshot!(format!("layout__{name}"), json);
    }
}

/// `flow --format mermaid|plantuml` of one call.
#[test]
fn sequence_diagram_exports() {
    let inputs = &["call-freed-early/caller.log", "call-freed-early/callee.log"];
    for format in ["mermaid", "plantuml"] {
        let out = output(&["flow", "--call", "1", "--format", format], inputs);
        insta::assert_snapshot!(format!("flow_{format}__seed-bug"), out);
    }
    let run = output(
        &["flow", "--format", "mermaid"],
        &["b2bua/caller.log", "rules/missing-ack/call.pcap"],
    );
    assert!(run.starts_with("exit: 2"), "{run}");
    assert!(run.contains("draws one call"), "{run}");
}
