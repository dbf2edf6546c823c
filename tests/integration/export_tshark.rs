//! `sipflow export` checked by tshark: on every capture of `fixtures/` (and the public ones of
//! `../shared/traces/public` not held out), each of the first calls exported alone, as pcap and
//! as pcapng (a call with media also with `--no-media`), holds exactly the SIP frames tshark
//! finds for its Call-ID in the input (`sip.Call-ID == "…"`, reassembled from the copied IP
//! fragments and TCP segments), and no SIP frame of another call; the pcapng names the call in
//! each frame's comment. Without `--no-media` the export also holds exactly the RTP and RTCP
//! frames of the call's streams as tshark sees them in the input (its RTP and RTCP heuristics
//! on): the RTP streams (`-z rtp,streams`: addresses and SSRC) from or to an address and port
//! the call's SDP named and that run while the call does (within 10 s of its SIP frames), and the RTCP between the ends of those streams or the ports above
//! them; the same frames (time, length, addresses), and no other frame beside the
//! `--no-media` export's.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use super::common::sipflow;
use super::media_tshark::compared_captures;
use super::needs::{Missing, on_path, require};
use super::stats_tshark::sipflow_counts;

/// How many calls of each capture are exported.
const CALLS_PER_CAPTURE: usize = 3;

/// tshark's SIP frames of `capture` (Call-IDs, frame comments), SIP decoded on `ports`.
fn tshark_sip(capture: &Path, ports: &[(String, u64)]) -> Vec<(String, String)> {
    let mut cmd = Command::new("tshark");
    cmd.args([
        "-n",
        "-Y",
        "sip",
        "-T",
        "fields",
        "-e",
        "sip.Call-ID",
        "-e",
        "frame.comment",
    ]);
    for (transport, port) in ports {
        cmd.arg("-d").arg(format!("{transport}.port=={port},sip"));
    }
    let out = cmd.arg("-r").arg(capture).output().expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark {}: {}",
        capture.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (id, comment) = l.split_once('\t').unwrap_or((l, ""));
            (id.to_string(), comment.to_string())
        })
        .collect()
}

/// An RTP or RTCP frame as tshark shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct MediaFrame {
    time: String,
    len: String,
    src: String,
    dst: String,
    /// The RTP SSRC; empty for RTCP.
    ssrc: String,
    comment: String,
}

/// Every frame tshark takes for RTP or RTCP in `capture` (heuristics on, SIP on `ports`).
fn tshark_media(capture: &Path, ports: &[(String, u64)]) -> Vec<MediaFrame> {
    let mut cmd = Command::new("tshark");
    cmd.args([
        "-n",
        // As in `media_tshark`: RTP sent to a port after a refused T.38 re-INVITE is RTP.
        "--disable-protocol",
        "t38",
        "-o",
        "rtp.heuristic_rtp:TRUE",
        "-o",
        "rtcp.heuristic_rtcp:TRUE",
        "-Y",
        "(rtp && !rtcp) || rtcp",
        "-T",
        "fields",
        "-E",
        "occurrence=l",
    ]);
    for f in [
        "frame.time_epoch",
        "frame.len",
        "ip.src",
        "ipv6.src",
        "udp.srcport",
        "ip.dst",
        "ipv6.dst",
        "udp.dstport",
        "rtp.ssrc",
        "rtcp.pt",
        "frame.comment",
        "frame.protocols",
    ] {
        cmd.arg("-e").arg(f);
    }
    for (transport, port) in ports {
        cmd.arg("-d").arg(format!("{transport}.port=={port},sip"));
    }
    let out = cmd.arg("-r").arg(capture).output().expect("tshark runs");
    assert!(out.status.success(), "tshark {}", capture.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            // `sll:ip:udp:gtp:ipv6:udp:rtp`: the innermost IP layer is the media's (the last
            // occurrence of `ip.src` is the outer IPv4 one of a GTP-U tunnel).
            let protocols = format!("{}:", f.get(11)?);
            // An ICMP error quoting an RTP packet is not a media frame.
            if protocols.contains(":icmp") {
                return None;
            }
            let v6 = protocols.rfind(":ipv6:") > protocols.rfind(":ip:");
            let at = |ip4: &str, ip6: &str, port: &str| {
                let ip = if v6 { ip6 } else { ip4 };
                format!("{ip}:{port}")
            };
            let rtcp = !f.get(9)?.is_empty();
            Some(MediaFrame {
                time: f[0].to_string(),
                len: f[1].to_string(),
                src: at(f[2], f[3], f[4]),
                dst: at(f[5], f[6], f[7]),
                ssrc: if rtcp {
                    String::new()
                } else {
                    f[8].to_string()
                },
                comment: f.get(10).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

/// What the SIP frames of the call `id` in `capture` say of its media: the addresses
/// (`ip:port`) its SDP bodies name, and the times (epoch seconds) of its first and last frame.
fn sdp_addresses(
    capture: &Path,
    ports: &[(String, u64)],
    id: &str,
) -> (BTreeSet<String>, f64, f64) {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-Y"])
        .arg(format!("sip.Call-ID == \"{id}\""))
        .args([
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=;",
            "-e",
            "frame.time_epoch",
            "-e",
            "sdp.connection_info.address",
            "-e",
            "sdp.media.port",
        ]);
    for (transport, port) in ports {
        cmd.arg("-d").arg(format!("{transport}.port=={port},sip"));
    }
    let out = cmd.arg("-r").arg(capture).output().expect("tshark runs");
    let mut named = BTreeSet::new();
    let (mut first, mut last) = (f64::MAX, f64::MIN);
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let mut f = l.split('\t');
        let (time, addrs, ports) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or(""));
        if let Some(t) = time.and_then(|t| t.parse::<f64>().ok()) {
            (first, last) = (first.min(t), last.max(t));
        }
        for a in addrs.split(';').filter(|a| !a.is_empty()) {
            for p in ports.split(';').filter(|p| !p.is_empty() && *p != "0") {
                named.insert(format!("{a}:{p}"));
            }
        }
    }
    (named, first, last)
}

/// How far (seconds) before its first or after its last SIP frame a call's stream may run and
/// still be the call's.
const SPAN_SLACK_S: f64 = 10.0;

/// The RTP and RTCP frames of the streams of a call whose SDP named `named` and whose SIP
/// frames run from `first` to `last`: a stream is the call's when it runs, within
/// [`SPAN_SLACK_S`], while the call does (a phone that names the same port in every call's SDP,
/// as in sngrep's `aaa.pcap`, has each stream in one call only).
fn call_media(
    all: &[MediaFrame],
    (named, first, last): &(BTreeSet<String>, f64, f64),
) -> Vec<MediaFrame> {
    let mut packets: std::collections::BTreeMap<(&str, &str, &str), (u64, f64, f64)> =
        Default::default();
    for m in all
        .iter()
        .filter(|m| !m.ssrc.is_empty() && (named.contains(&m.src) || named.contains(&m.dst)))
    {
        let t = m.time.parse::<f64>().unwrap_or(0.0);
        let e = packets
            .entry((m.src.as_str(), m.dst.as_str(), m.ssrc.as_str()))
            .or_insert((0, t, t));
        *e = (e.0 + 1, e.1.min(t), e.2.max(t));
    }
    // A stream is 3 packets or more (`media::CONFIRM`): a lone packet to an address the SDP
    // named (pjsua-nat: the callee's first RTP to the caller's private address) is none.
    let streams: BTreeSet<(&str, &str, &str)> = packets
        .into_iter()
        .filter(|&(_, (n, from, to))| {
            n >= 3 && from <= last + SPAN_SLACK_S && to >= first - SPAN_SLACK_S
        })
        .map(|(k, _)| k)
        .collect();
    let next = |a: &str| {
        let (ip, port) = a.rsplit_once(':')?;
        Some(format!(
            "{ip}:{}",
            port.parse::<u16>().ok()?.checked_add(1)?
        ))
    };
    let mut rtcp_ends = BTreeSet::new();
    for (s, d, _) in &streams {
        rtcp_ends.insert(((*s).to_string(), (*d).to_string()));
        rtcp_ends.insert(((*d).to_string(), (*s).to_string()));
        if let (Some(s), Some(d)) = (next(s), next(d)) {
            rtcp_ends.insert((s.clone(), d.clone()));
            rtcp_ends.insert((d, s));
        }
    }
    all.iter()
        .filter(|m| {
            if m.ssrc.is_empty() {
                rtcp_ends.contains(&(m.src.clone(), m.dst.clone()))
            } else {
                streams.contains(&(m.src.as_str(), m.dst.as_str(), m.ssrc.as_str()))
            }
        })
        .cloned()
        .collect()
}

/// Frames in a capture, as tshark counts them.
fn frame_count(capture: &Path) -> usize {
    let out = Command::new("tshark")
        .args(["-n", "-T", "fields", "-e", "frame.number", "-r"])
        .arg(capture)
        .output()
        .expect("tshark runs");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

pub fn exported_calls_hold_the_frames_tshark_finds() -> Result<(), Missing> {
    let missing: Vec<String> = (!on_path("tshark"))
        .then(|| "tshark on PATH".to_string())
        .into_iter()
        .collect();
    require(
        "exported_calls_hold_the_frames_tshark_finds",
        &missing,
        "apt-get install tshark",
    )?;
    let dir = std::env::temp_dir().join(format!("sipflow-export-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (mut exported, mut with_media, mut media_frames) = (0, 0, 0);
    let mut report = Vec::new();
    for f in compared_captures() {
        let path = f.display().to_string();
        let (_, ports) = sipflow_counts(&f);
        let calls = sipflow(&["calls", "--format", "json", &path]);
        let doc: serde_json::Value = serde_json::from_str(&calls.stdout).expect("calls json");
        let ids: Vec<String> = doc["calls"]
            .as_array()
            .expect("calls")
            .iter()
            // One leg per B2BUA group, since a leg brings its group.
            .filter(|c| c["linked"].as_array().is_none_or(Vec::is_empty))
            .filter_map(|c| c["call_id"].as_str().map(String::from))
            .take(CALLS_PER_CAPTURE)
            .collect();
        let input = tshark_sip(&f, &ports);
        let input_media = tshark_media(&f, &ports);
        for id in ids {
            let theirs = input.iter().filter(|(i, _)| *i == id).count();
            let mut media = call_media(&input_media, &sdp_addresses(&f, &ports, &id));
            media.iter_mut().for_each(|m| m.comment.clear());
            media.sort();
            with_media += usize::from(!media.is_empty());
            for ext in ["pcap", "pcapng"] {
                let mut sip_only = 0;
                // A call without media: the default export is the --no-media one.
                let runs: &[bool] = if media.is_empty() {
                    &[false]
                } else {
                    &[true, false]
                };
                for &no_media in runs {
                    let out = dir.join(format!("call.{ext}"));
                    let out_s = out.display().to_string();
                    let mut args = vec!["export", "-o", &out_s, "--call", &id, &path];
                    if no_media {
                        args.push("--no-media");
                    }
                    let run = sipflow(&args);
                    assert_eq!(run.code, 0, "export {path} {id}: {}", run.stderr);
                    let ours = tshark_sip(&out, &ports);
                    let same = ours.iter().filter(|(i, _)| *i == id).count();
                    let others = ours.len() - same;
                    exported += 1;
                    let what = if no_media { "--no-media" } else { "with media" };
                    if same != theirs || others > 0 {
                        report.push(format!(
                            "{path} {id} ({ext}, {what}): tshark finds {theirs} SIP frames in \
                             the input, {same} in the export, and {others} of other calls"
                        ));
                    }
                    let frames = if media.is_empty() {
                        0
                    } else {
                        frame_count(&out)
                    };
                    let mut copied = tshark_media(&out, &ports);
                    if ext == "pcapng"
                        && let Some((_, comment)) = ours.iter().find(|(_, c)| !c.contains(&id))
                    {
                        report.push(format!("{path} {id}: a frame's comment is '{comment}'"));
                    }
                    if ext == "pcapng"
                        && let Some(m) = copied.iter().find(|m| {
                            !m.comment.contains(&id)
                                || !m.comment.contains(if m.ssrc.is_empty() {
                                    "RTCP"
                                } else {
                                    "RTP"
                                })
                        })
                    {
                        report.push(format!(
                            "{path} {id}: a media frame's comment is '{}'",
                            m.comment
                        ));
                    }
                    copied.iter_mut().for_each(|m| m.comment.clear());
                    copied.sort();
                    if no_media {
                        sip_only = frames;
                        if !copied.is_empty() {
                            report.push(format!(
                                "{path} {id} ({ext}, --no-media): {} RTP/RTCP frames",
                                copied.len()
                            ));
                        }
                    } else {
                        media_frames += copied.len();
                        if copied != media || frames != sip_only + media.len() {
                            report.push(format!(
                                "{path} {id} ({ext}): tshark finds {} RTP/RTCP frames of the \
                                 call in the input, {} in the export ({} the same); the export \
                                 has {frames} frames, the --no-media one {sip_only}",
                                media.len(),
                                copied.len(),
                                copied.iter().filter(|m| media.contains(m)).count()
                            ));
                        }
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "export against tshark: {exported} exports compared; {with_media} calls with media, \
         {media_frames} RTP/RTCP frames copied"
    );
    assert!(exported > 0);
    assert!(with_media >= 10, "only {with_media} calls with media");
    assert!(report.is_empty(), "{}", report.join("\n"));
    Ok(())
}
