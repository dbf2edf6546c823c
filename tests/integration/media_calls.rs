//! Streams matched to calls on the recorded media fixtures: `calls --format json` gives each
//! call its streams with their direction, and `sipflow media` names each stream's call.

use serde_json::Value;

use super::common::{fixture, root, sipflow};

fn json(args: &[&str]) -> Value {
    let run = sipflow(args);
    assert_eq!(run.code, 0, "sipflow {args:?}: {}", run.stderr);
    serde_json::from_str(&run.stdout).expect("JSON")
}

/// (direction, src, dst, packets, lost) of each stream of a call.
fn streams(call: &Value) -> Vec<(String, String, String, u64, i64)> {
    call["media"]
        .as_array()
        .expect("a media array")
        .iter()
        .map(|s| {
            (
                s["direction"].as_str().unwrap_or("?").to_string(),
                s["src"].as_str().unwrap_or("?").to_string(),
                s["dst"].as_str().unwrap_or("?").to_string(),
                s["packets"].as_u64().unwrap_or(0),
                s["lost"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

#[test]
fn each_fixture_call_has_its_two_streams_with_their_directions() {
    // pjsua-rtp: callee RTP 48500, caller 48520, on loopback; speex both ways, no loss.
    let doc = json(&[
        "calls",
        "--format",
        "json",
        &fixture("media/pjsua-rtp/call.pcap"),
    ]);
    let calls = doc["calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 1);
    let mut got = streams(&calls[0]);
    got.sort();
    assert_eq!(
        got.iter()
            .map(|s| (s.0.as_str(), s.1.as_str(), s.2.as_str(), s.4))
            .collect::<Vec<_>>(),
        [
            ("callee_to_caller", "127.0.0.1:48500", "127.0.0.1:48520", 0),
            ("caller_to_callee", "127.0.0.1:48520", "127.0.0.1:48500", 0),
        ]
    );
    assert!(got.iter().all(|s| s.3 >= 140), "{got:?}");
    let speex = &calls[0]["media"][0]["payloads"][0]["name"];
    assert_eq!(speex.as_str(), Some("speex"));

    // pjsua-loss: the caller (10.77.5.1) loses 19 of its RTP packets on the way.
    let doc = json(&[
        "calls",
        "--format",
        "json",
        &fixture("media/pjsua-loss/call.pcap"),
    ]);
    let call = &doc["calls"][0];
    let mut got = streams(call);
    got.sort();
    assert_eq!(
        got,
        [
            (
                "callee_to_caller".into(),
                "10.77.5.2:48540".into(),
                "10.77.5.1:48560".into(),
                200,
                0
            ),
            (
                "caller_to_callee".into(),
                "10.77.5.1:48560".into(),
                "10.77.5.2:48540".into(),
                180,
                19
            ),
        ]
    );
    let call_id = call["call_id"].as_str().expect("call_id");

    // `sipflow media` names the same call for both streams.
    let media = json(&[
        "media",
        "--format",
        "json",
        &fixture("media/pjsua-loss/call.pcap"),
    ]);
    for s in media["inputs"][0]["streams"].as_array().expect("streams") {
        assert_eq!(s["calls"][0]["call_id"].as_str(), Some(call_id), "{s}");
        assert_eq!(s["calls"][0]["source_not_in_sdp"], Value::Bool(false));
    }
    let table = sipflow(&["media", &fixture("media/pjsua-loss/call.pcap")]);
    assert!(
        table.stdout.contains(&format!("{call_id} (caller→callee)"))
            && table.stdout.contains(&format!("{call_id} (callee→caller)")),
        "{}",
        table.stdout
    );
}

/// The recording without its SIP packets: the same RTP, no SDP.
fn without_sip(pcap: &[u8]) -> Vec<u8> {
    let mut out = pcap[..24].to_vec();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let len = u32::from_le_bytes(pcap[at + 8..at + 12].try_into().expect("4 bytes")) as usize;
        let end = (at + 16 + len).min(pcap.len());
        let record = &pcap[at..end];
        if !record.windows(7).any(|w| w == b"SIP/2.0") {
            out.extend_from_slice(record);
        }
        at = end;
    }
    out
}

#[test]
fn streams_whose_sdp_is_absent_belong_to_no_call() {
    let pcap = std::fs::read(root().join("fixtures/media/pjsua-rtp/call.pcap")).expect("fixture");
    assert_eq!(&pcap[..4], [0xd4, 0xc3, 0xb2, 0xa1], "a little-endian pcap");
    let dir = std::env::temp_dir().join(format!("sipflow-media-calls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("rtp-only.pcap");
    std::fs::write(&path, without_sip(&pcap)).expect("write");
    let path = path.to_string_lossy().to_string();
    let media = json(&["media", "--format", "json", &path]);
    let streams = media["inputs"][0]["streams"].as_array().expect("streams");
    assert_eq!(streams.len(), 2, "the RTP is still there");
    for s in streams {
        assert_eq!(s["calls"], Value::Array(Vec::new()), "{s}");
    }
    let table = sipflow(&["media", &path]);
    assert!(
        table
            .stdout
            .lines()
            .skip(1)
            .take(2)
            .all(|l| l.ends_with(" -")),
        "{}",
        table.stdout
    );
    let calls = sipflow(&["calls", "--format", "json", &path]);
    assert!(!calls.stdout.contains("\"media\""), "{}", calls.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// pjsua's call dump at the end of each call (`MediaStats` log events) agrees with the capture
/// of the same call: each end's RX count is the packets of the stream its peer sent, its TX
/// count those of the stream it sent to its peer; and each dump belongs to the call.
#[test]
fn pjsua_call_dumps_agree_with_the_capture() {
    let dir = "fixtures/media/pjsua-rtp";
    let capture = json(&["media", "--format", "json", &format!("{dir}/call.pcap")]);
    let streams = capture["inputs"][0]["streams"].as_array().expect("streams");
    let packets = |from: &str, to: &str| {
        streams
            .iter()
            .find(|s| s["src"] == from && s["dst"] == to)
            .and_then(|s| s["packets"].as_u64())
    };
    for side in ["caller", "callee"] {
        let log = format!("{dir}/{side}.log");
        let run = sipflow(&["events", &log]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let dumps: Vec<Value> = run
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["log"]["type"] == "media_stats")
            .collect();
        assert_eq!(dumps.len(), 1, "{side}: one stream in one dump");
        let d = &dumps[0];
        assert_eq!(d["call"], 1, "{side}: the dump belongs to the call");
        let s = &d["log"];
        assert_eq!(s["codec"], "speex");
        let peer = s["peer"].as_str().expect("peer");
        // The other end's RTP address is the only stream end that is not the peer.
        let me = streams
            .iter()
            .filter_map(|st| st["src"].as_str())
            .find(|&a| a != peer)
            .expect("this side's address");
        assert_eq!(s["rx"]["packets"].as_u64(), packets(peer, me), "{side}: RX");
        assert_eq!(s["tx"]["packets"].as_u64(), packets(me, peer), "{side}: TX");
        assert_eq!(s["rx"]["lost"], 0, "{side}: nothing lost on loopback");
    }
}
