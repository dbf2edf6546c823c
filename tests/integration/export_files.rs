//! `sipflow export` read back by sipflow: a raw SIP dump (`--format sip`) and a pcapng of
//! synthetic frames from logs hold the selected call, whole, and nothing else; a capture's
//! export copies its frames byte for byte. (tshark's view of exports: `export_tshark.rs`.)

use super::common::{fixture, fixtures, sipflow};

/// (Call-ID, outcome, status, messages) of every call `sipflow calls` finds in `input`.
fn calls(input: &str) -> Vec<(String, String, String, String)> {
    let run = sipflow(&["calls", "--format", "json", input]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    doc["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| {
            (
                c["call_id"].to_string(),
                c["outcome"].to_string(),
                c["final_status"].to_string(),
                c["messages"].to_string(),
            )
        })
        .collect()
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sipflow-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

#[test]
fn a_raw_sip_export_reads_back_as_the_same_call() {
    let inputs = fixtures(&[
        "busy-486/caller.log",
        "busy-486/callee.log",
        "b2bua/b2bua.log",
    ]);
    let out = temp("busy.sip");
    let out_s = out.display().to_string();
    let mut args = vec!["export", "-o", &out_s, "--outcome", "busy"];
    args.extend(inputs.iter().map(String::as_str));
    let run = sipflow(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let back = calls(&out_s);
    let mut busy = calls(&inputs[0]);
    busy.retain(|c| c.1 == "\"busy\"");
    assert_eq!(back, busy);
    let _ = std::fs::remove_file(&out);
}

#[test]
fn logs_export_as_synthetic_frames_that_read_back() {
    let inputs = fixtures(&["busy-486/caller.log", "busy-486/callee.log"]);
    let out = temp("busy.pcapng");
    let out_s = out.display().to_string();
    let mut args = vec!["export", "-o", &out_s];
    args.extend(inputs.iter().map(String::as_str));
    let run = sipflow(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bytes = std::fs::read(&out).expect("export");
    assert_eq!(
        &bytes[..4],
        &[0x0a, 0x0d, 0x0d, 0x0a],
        "a pcapng section header"
    );
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("synthesised by sipflow from the log"),
        "the frames say so"
    );
    // One frame per wire message (a message both logs show is one), so the call reads back
    // whole, with the logged addresses.
    let back = calls(&out_s);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].1, "\"busy\"");
    assert_eq!(back[0].3, "4");
    let _ = std::fs::remove_file(&out);
}

#[test]
fn a_capture_exports_its_frames_unchanged() {
    let input = fixture("captures/udp-fragments/frag.pcap");
    let out = temp("frag.pcap");
    let out_s = out.display().to_string();
    let run = sipflow(&["export", "-o", &out_s, &input]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Every frame of this capture carries SIP: the export is the same file, but for the
    // header's snaplen, byte for byte.
    let (ours, theirs) = (
        std::fs::read(&out).expect("export"),
        std::fs::read(&input).expect("in"),
    );
    assert_eq!(ours.len(), theirs.len());
    assert_eq!(ours[24..], theirs[24..]);
    assert_eq!(calls(&out_s), calls(&input));
    let _ = std::fs::remove_file(&out);
}

#[test]
fn export_refuses_what_it_cannot_write() {
    let input = fixture("captures/udp-fragments/frag.pcap");
    let run = sipflow(&["export", "-o", "out.unknown", &input]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("which format"), "{}", run.stderr);
    let run = sipflow(&["export", "-o", "x.pcap", "-"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("stdin"), "{}", run.stderr);
    let run = sipflow(&["export", "-o", &input, &input]);
    assert_eq!(run.code, 2, "the output would replace the input");
}

/// (src, dst, packets) of every RTP stream `sipflow media` finds in `input`, and its RTCP
/// packets.
fn streams(input: &str) -> (Vec<(String, String, u64)>, u64) {
    let run = sipflow(&["media", "--format", "json", input]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let input = &doc["inputs"][0];
    let mut streams: Vec<_> = input["streams"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| {
            (
                s["src"].as_str().unwrap_or_default().to_string(),
                s["dst"].as_str().unwrap_or_default().to_string(),
                s["packets"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    streams.sort();
    (streams, input["rtcp_packets"].as_u64().unwrap_or_default())
}

#[test]
fn a_calls_export_carries_its_own_rtp_only() {
    // Two SIPp calls at once, both with the SSRC 0xCA110000 both ways: only the addresses of
    // the SDP tell their streams apart.
    let input = fixture("media/sipp-two-calls/call.pcap");
    let (all, _) = streams(&input);
    assert_eq!(all.len(), 4, "{all:?}");
    let stream = |a: u16, b: u16| (format!("127.0.0.1:{a}"), format!("127.0.0.1:{b}"), 150u64);
    for (call, ports) in [("1", [51580, 51600]), ("2", [51620, 51640])] {
        let out = temp(&format!("two-calls-{call}.pcapng"));
        let out_s = out.display().to_string();
        let run = sipflow(&["export", "-o", &out_s, "--call", call, &input]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let (ours, rtcp) = streams(&out_s);
        assert_eq!(
            ours,
            vec![stream(ports[0], ports[1]), stream(ports[1], ports[0])],
            "call {call}"
        );
        assert_eq!(rtcp, 0);
        // The call's 6 SIP frames and its 300 RTP frames, nothing else.
        let back = calls(&out_s);
        assert_eq!(back.len(), 1, "{back:?}");
        assert_eq!(back[0].3, "6");
        let text = String::from_utf8_lossy(&std::fs::read(&out).expect("export")).into_owned();
        assert_eq!(
            text.matches(" RTP PCMU").count(),
            300,
            "comments name the call"
        );
        // Signalling only.
        let run = sipflow(&["export", "--no-media", "-o", &out_s, "--call", call, &input]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(streams(&out_s), (vec![], 0));
        assert_eq!(calls(&out_s).len(), 1);
        let _ = std::fs::remove_file(&out);
    }
    // Without a selection, every call's media.
    let out = temp("two-calls.pcap");
    let out_s = out.display().to_string();
    let run = sipflow(&["export", "-o", &out_s, &input]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(streams(&out_s).0, all);
    let _ = std::fs::remove_file(&out);
}

#[test]
fn a_calls_export_carries_its_rtcp() {
    // pjsua sends RTCP (SDES, SR, RR, BYE) on the port above its RTP: all 10 packets go along,
    // and the export is the whole capture (it holds one call and its media only).
    let input = fixture("media/pjsua-rtp/call.pcap");
    let (theirs, rtcp) = streams(&input);
    assert_eq!(rtcp, 10);
    let out = temp("pjsua-rtp.pcap");
    let out_s = out.display().to_string();
    let run = sipflow(&["export", "-o", &out_s, "--call", "1", &input]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(streams(&out_s), (theirs, 10));
    let (ours, whole) = (
        std::fs::read(&out).expect("export"),
        std::fs::read(&input).expect("in"),
    );
    assert_eq!(ours.len(), whole.len());
    assert_eq!(ours[24..], whole[24..]);
    let _ = std::fs::remove_file(&out);
}
