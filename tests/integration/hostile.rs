//! Malformed and hostile inputs: never a panic, always a finding or a clear error. Inputs here
//! are made by hand or by mutating real fixtures, which is what hand-made inputs are for.

use sipflow::dialog::{self, CorrelateOptions};
use sipflow::ingest::{self, IngestOptions};
use sipflow::report::{self, Context};

use super::common::{root, sipflow_with_stdin};

/// Runs every stage and every reporter in-process; panics propagate to the test.
fn pipeline(bytes: Vec<u8>) {
    let opts = IngestOptions::default();
    let Ok((info, src, events)) = ingest::ingest_bytes("hostile", bytes, &opts) else {
        return;
    };
    let sources = vec![ingest::Source::new(src)];
    let model = dialog::correlate(events, &CorrelateOptions::default());
    let inputs = [info];
    let ctx = Context {
        model: &model,
        inputs: &inputs,
        sources: &sources,
        diagnoses: &sipflow::rules::Diagnoses::NONE,
        lang: sipflow::sip::status::Lang::En,
    };
    let mut sink = Vec::new();
    report::calls::write_table(&ctx, &mut sink).expect("table");
    report::calls::write_json(&ctx, &mut sink).expect("json");
    report::events::write_jsonl(&ctx, false, &mut sink).expect("jsonl");
    for c in &model.calls {
        let conv = report::ladder::Conversation::of_call(&ctx, c);
        report::ladder::write_ladder(&ctx, &conv, &mut sink).expect("ladder");
    }
}

const PJ: &str = "05:28:17.580           pjsua_core.c  ....";

fn hostile_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let huge_cl = b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 4294967295\r\n\r\nv=0\r\n".to_vec();
    let mut many_headers = b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: h\r\nCSeq: 1 OPTIONS\r\n".to_vec();
    for i in 0..20_000 {
        many_headers.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    many_headers.extend_from_slice(b"\r\n");
    let mut folded = b"MESSAGE sip:a@b SIP/2.0\r\nSubject: a\r\n".to_vec();
    for _ in 0..20_000 {
        folded.extend_from_slice(b" more\r\n");
    }
    folded.extend_from_slice(b"Call-ID: f\r\nCSeq: 1 MESSAGE\r\n\r\n");
    vec![
        ("dump header then EOF", format!("{PJ}TX 999999999 bytes Request msg INVITE/cseq=1 (tdta0x1) to UDP 1.2.3.4:5060:\n").into_bytes()),
        ("dump with garbage body", format!("{PJ}RX 10 bytes Request msg INVITE/cseq=1 (rdata0x1) from UDP 1.2.3.4:5060:\n\x00\x01\x02 not sip\n--end msg--\n").into_bytes()),
        ("dump of a lone start line", format!("{PJ}RX 5 bytes Response msg 200/INVITE/cseq=1 (rdata0x1) from UDP [::1]:5060:\nSIP/2.0 200 OK\n--end msg--\n").into_bytes()),
        ("evidence with absurd numbers", format!("{PJ}Answering call 99999999999999999999: code=99999999\n{PJ}Call 4294967296 hanging up: code=-1..\n").into_bytes()),
        ("huge content length", huge_cl),
        ("20k headers", many_headers),
        ("20k folded lines", folded),
        ("raw sip with junk between", b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\njunk junk\r\n\x00\xff\xfe\r\nSIP/2.0 200 OK\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\n\r\n".to_vec()),
        ("response without anything", b"SIP/2.0 200 OK\r\n\r\n".to_vec()),
        ("in-dialog requests without an INVITE", b"BYE sip:a@b SIP/2.0\r\nCall-ID: q\r\nCSeq: 2 BYE\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\n\r\nACK sip:a@b SIP/2.0\r\nCall-ID: q\r\nCSeq: 1 ACK\r\n\r\n".to_vec()),
        ("invalid utf-8 everywhere", b"INVITE sip:\xff@\xfe SIP/2.0\r\nFrom: \"\xc3\x28\" <sip:\xa0@b>;tag=\xff\r\nCall-ID: \xf0\x28\x8c\x28\r\nCSeq: 1 INVITE\r\n\r\n".to_vec()),
        ("sipp separator without records", b"----------------------------------------------- 2026-11-21 05:32:59.268909\nUDP message sent (506 bytes):\n\n".to_vec()),
        ("long single line", vec![b'a'; 5 << 20]),
        ("nul bytes", vec![0; 100_000]),
    ]
}

#[test]
fn hostile_inputs_never_panic() {
    for (name, bytes) in hostile_inputs() {
        let result = std::panic::catch_unwind(|| pipeline(bytes));
        assert!(result.is_ok(), "panic on: {name}");
    }
}

#[test]
fn hostile_inputs_exit_0_or_2_from_the_binary() {
    for (name, bytes) in hostile_inputs() {
        for cmd in ["calls", "events", "flow"] {
            let run = sipflow_with_stdin(&[cmd, "-"], &bytes);
            assert!(
                matches!(run.code, 0 | 2),
                "{cmd} on {name}: exit {} {}",
                run.code,
                run.stderr
            );
        }
    }
}

/// A small deterministic generator, so that failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
}

#[test]
fn mutated_fixtures_never_panic() {
    let seeds = [
        "basic-call/caller.log",
        "big-invite-cut/caller.log",
        "register-401/registrar.msg",
        "captures/pjsua-udp/call.pcap",
        "captures/pcapng/call.pcapng",
        "captures/udp-fragments/frag.pcap",
    ];
    let mut rng = Lcg(0x5EED);
    for seed in seeds {
        let original = std::fs::read(root().join("fixtures").join(seed)).expect("fixture");
        for round in 0..200 {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.next() % 40 {
                let at = rng.next() % bytes.len().max(1);
                match rng.next() % 4 {
                    0 => bytes[at] = rng.next() as u8,
                    1 => {
                        bytes.remove(at);
                    }
                    2 => bytes.insert(at, b"\r\n:;<>\"\0 "[rng.next() % 9]),
                    _ => bytes.truncate(at),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let result = std::panic::catch_unwind(|| pipeline(bytes));
            assert!(result.is_ok(), "panic on {seed} mutation round {round}");
        }
    }
}
