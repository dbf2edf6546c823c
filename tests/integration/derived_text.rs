//! The issue-16 acceptance for texts derived from captures: every recorded capture in
//! `fixtures/`, turned into each text variant by the real tool at test time, gives exactly the
//! calls (Call-IDs), outcomes, final statuses and message counts that the capture gives, and,
//! where the text keeps the capture's times, the same findings.
//! Differences a tool makes inevitable are stated here, per capture, with why.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::common::{root, sipflow};
use super::needs::{Missing, on_path, require};

/// Every capture under `fixtures/` (gzip ones too), relative to the crate root.
fn captures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if p.is_dir() {
                walk(&p, out);
            } else if [".pcap", ".pcapng", ".pcap.gz"]
                .iter()
                .any(|x| name.ends_with(x))
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("fixtures"), &mut out);
    out.sort();
    out
}

/// (Call-ID, outcome, final status, messages) of every call, sorted.
type Summary = Vec<(String, String, String, u64)>;

fn summary(path: &str) -> (Summary, u64) {
    let run = sipflow(&["calls", "--format", "json", path]);
    parse_summary(path, &run)
}

/// Like [`summary`], or `None` when sipflow recognises no format in the text (exit 2).
fn summary_if_read(path: &str) -> Option<(Summary, u64)> {
    let run = sipflow(&["calls", "--format", "json", path]);
    (run.code != 2).then(|| parse_summary(path, &run))
}

fn summary_of(paths: &[&str]) -> Summary {
    let mut args = vec!["calls", "--format", "json"];
    args.extend_from_slice(paths);
    parse_summary(&paths.join(" "), &sipflow(&args)).0
}

fn parse_summary(path: &str, run: &super::common::Run) -> (Summary, u64) {
    assert!(run.code == 0 || run.code == 1, "{path}: {}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("calls json");
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let mut calls: Summary = doc["calls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                text(&c["call_id"]),
                text(&c["outcome"]),
                text(&c["final_status"]),
                c["messages"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    calls.sort();
    let truncated = doc["inputs"][0]["truncated"].as_u64().unwrap_or(0);
    (calls, truncated)
}

/// Rules whose evidence is read from packets that are not SIP (DNS answers, TLS alerts): a text
/// tool prints their binary payload as dots, so only a hex dump (whole frames) gives their
/// findings.
const FROM_BINARY_PACKETS: [&str; 2] = ["dns-failure", "tls-failure"];

/// Rules that read RTP and RTCP (`crate::media`): only a capture file counts them; no text of a
/// capture carries its media (the text readers take the SIP out of a tool's text), so their
/// findings are left out of both sides.
const FROM_MEDIA: [&str; 6] = [
    "no-media-received",
    "media-stopped",
    "packet-loss",
    "high-jitter",
    "codec-mismatch",
    "media-address-mismatch",
];

/// Rules whose severity may rest on the RTP (see [`FROM_MEDIA`]): `no-common-codec` is a
/// warning, not an error, when the capture shows media flowing both ways despite the failed
/// SDP exchange. Their findings are compared without their severity.
const SEVERITY_FROM_MEDIA: [&str; 1] = ["no-common-codec"];

/// (rule, severity, Call-ID) of every finding, sorted; those of [`FROM_BINARY_PACKETS`] only
/// when `binary` (the text shows whole frames), none of [`FROM_MEDIA`]. Not their times: a text with `-T` gives the
/// capture's intervals from another start.
fn findings(path: &str, binary: bool) -> Vec<String> {
    let run = sipflow(&["check", "--format", "jsonl", path]);
    assert!(run.code == 0 || run.code == 1, "{path}: {}", run.stderr);
    let mut out: Vec<String> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("jsonl"))
        .filter(|f| binary || !FROM_BINARY_PACKETS.contains(&f["rule"].as_str().unwrap_or("")))
        .filter(|f| !FROM_MEDIA.contains(&f["rule"].as_str().unwrap_or("")))
        .map(|f| {
            let rule = f["rule"].as_str().unwrap_or("");
            let severity = if SEVERITY_FROM_MEDIA.contains(&rule) {
                "(severity from the media)".to_string()
            } else {
                f["severity"].to_string()
            };
            format!("{} {severity} {}", f["rule"], f["call_id"])
        })
        .collect();
    out.sort();
    out
}

/// A capture as a plain pcap file the tools can read (gzip undone into `dir`).
fn plain(capture: &Path, dir: &Path) -> PathBuf {
    if capture.extension().is_some_and(|e| e == "gz") {
        let bytes = std::fs::read(capture).expect("read capture");
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
            .expect("gunzip");
        let p = dir.join("gunzipped.pcap");
        std::fs::write(&p, out).expect("write");
        p
    } else {
        capture.to_path_buf()
    }
}

/// Runs `tool args… -I|-r capture` with TZ=UTC (so printed times are the capture's) into a file.
fn derive(tool: &str, args: &[&str], read_flag: &str, capture: &Path, out: &Path) {
    if tool == "sngrep" {
        return sngrep_save(capture, out);
    }
    let output = Command::new(tool)
        .args(args)
        .arg(read_flag)
        .arg(capture)
        .env("TZ", "UTC")
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e}"));
    // ngrep exits with 1 when no packet matched: a capture without payload
    // (`rules-net/slow-connect-timeout`: SYNs only) gives a text without packets.
    let nothing_matched = tool == "ngrep" && output.status.code() == Some(1);
    assert!(
        output.status.success() || nothing_matched,
        "{tool} {args:?} {}",
        capture.display()
    );
    std::fs::write(out, output.stdout).expect("write derived text");
}

pub fn ngrep_texts_give_the_captures_calls() -> Result<(), Missing> {
    require_tool("ngrep_texts_give_the_captures_calls", "ngrep")?;
    // ngrep prints every byte of these recordings (no tab or non-ASCII byte turned into `.`),
    // so each message read with the capture is one message seen twice. Without times (no -t,
    // -T) every message sits at one time: read alone, rules that judge time have nothing to
    // judge; read with the capture, the text takes its times.
    let variants: [&[&str]; 3] = [
        &["-q", "-t", "-W", "byline"],
        &["-q", "-T", "-W", "byline"],
        &["-W", "byline"],
    ];
    let (compared, stated) = derived_texts_agree(
        "ngrep",
        "-I",
        &variants,
        // A capture whose packets carry no payload (TCP handshakes only) gives a text
        // without packets, not recognised, as it has no call.
        |_, _, want, read| !read && want.is_empty(),
        |_| true,
        |args| args.contains(&"-t") || args.contains(&"-T"),
        |_| false,
    );
    assert!(
        compared >= 3 * 68,
        "{compared} texts compared ({stated} stated)"
    );
    Ok(())
}

/// sipgrep (an ngrep fork) prints ngrep's `-t -W byline` layout, in colour by default (into a
/// file too) or without (`-C`); `-P 1-65535` because it listens to 5060-5061 only. It
/// reassembles TCP segments and IP fragments before printing. Stated difference: sipgrep 2.1
/// prints nothing of IPv6 packets, so a text from the IPv6 capture holds no packet and is not
/// recognised (nor is a text from a capture without SIP: no call in either).
pub fn sipgrep_texts_give_the_captures_calls() -> Result<(), Missing> {
    require_tool("sipgrep_texts_give_the_captures_calls", "sipgrep")?;
    let variants: [&[&str]; 2] = [&["-P", "1-65535"], &["-C", "-P", "1-65535"]];
    let (compared, stated) = derived_texts_agree(
        "sipgrep",
        "-I",
        &variants,
        |rel, _, want, read| !read && (want.is_empty() || rel.starts_with("captures/ipv6/")),
        |_| true,
        |_| true,
        |_| false,
    );
    assert!(
        compared >= 2 * 60,
        "{compared} texts compared ({stated} stated)"
    );
    assert!(stated <= 2 * 12, "{stated} texts with a stated difference");
    Ok(())
}

/// Derives every capture with `tool variant… read_flag capture` and compares its calls with
/// the capture's. `stated` says a text may differ, for a reason the caller documents (given
/// the capture, the variant, the capture's calls and whether sipflow recognised the text);
/// such a text is not compared. `merges` says whether a variant gives the frames byte for
/// byte, so that read with the capture each message is one message seen twice (a text without
/// times takes the capture's: `ingest::align`); `timed` whether it has the capture's times
/// (or its intervals), so that alone it gives the capture's findings too; `frames` whether it
/// shows whole frames (a hex dump: DNS and TLS are read too).
fn derived_texts_agree(
    tool: &str,
    read_flag: &str,
    variants: &[&[&str]],
    stated: impl Fn(&str, &[&str], &Summary, bool) -> bool,
    merges: impl Fn(&[&str]) -> bool,
    timed: impl Fn(&[&str]) -> bool,
    frames: impl Fn(&[&str]) -> bool,
) -> (usize, usize) {
    // One directory per call: several tests derive with one tool at the same time.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("sipflow-{tool}-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (mut compared, mut differ) = (0, 0);
    // Findings of rules that judge time that captures give and their texts without times do
    // not: some must exist, or the untimed comparison proves nothing.
    let (mut silenced, mut untimed_compared) = (0, false);
    for capture in captures() {
        let rel = capture
            .strip_prefix(root().join("fixtures"))
            .expect("under fixtures")
            .to_string_lossy()
            .into_owned();
        let (want, want_cut) = summary(&capture.to_string_lossy());
        let mut want_findings = [None, None];
        let pcap = plain(&capture, &dir);
        for &args in variants {
            let text = dir.join("derived.txt");
            derive(tool, args, read_flag, &pcap, &text);
            let read = summary_if_read(&text.to_string_lossy());
            if stated(&rel, args, &want, read.is_some()) {
                differ += 1;
                continue;
            }
            let Some((got, got_cut)) = read else {
                panic!("{rel}: {tool} {args:?}: not recognised");
            };
            assert_eq!(got, want, "{rel}: {tool} {args:?}");
            assert_eq!(got_cut, want_cut, "{rel}: {tool} {args:?}: truncated");
            if merges(args) {
                let both = summary_of(&[&capture.to_string_lossy(), &text.to_string_lossy()]);
                assert_eq!(both, want, "{rel}: the capture with {tool} {args:?}");
            }
            if merges(args) {
                let binary = frames(args);
                let want = want_findings[usize::from(binary)]
                    .get_or_insert_with(|| findings(&capture.to_string_lossy(), binary));
                let got = findings(&text.to_string_lossy(), binary);
                if timed(args) {
                    // The capture's bytes with its times (or the same intervals): the same
                    // findings.
                    assert_eq!(&got, want, "{rel}: {tool} {args:?}: findings");
                } else {
                    silenced +=
                        untimed_findings_agree(&got, want, &format!("{rel}: {tool} {args:?}"));
                    untimed_compared = true;
                }
            }
            compared += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !untimed_compared || silenced > 0,
        "{tool}: no capture has a finding that needs times"
    );
    (compared, differ)
}

/// The capture's bytes without times: no finding of a rule that judges time, and no finding
/// (rule and Call-ID) the capture does not give: a missing time makes no finding. (The others
/// may differ in severity: a rule whose severity depends on how long the trace goes on sees a
/// trace of no length.) Gives the number of the capture's findings that need times.
fn untimed_findings_agree(got: &[String], want: &[String], what: &str) -> usize {
    let judges_time = |f: &str| {
        sipflow::rules::REGISTRY
            .iter()
            .any(|r| r.judges_time && f.starts_with(&format!("\"{}\" ", r.name)))
    };
    let rule_and_call = |f: &str| {
        let mut words = f.split(' ');
        (
            words.next().map(str::to_string),
            words.nth(1).map(str::to_string),
        )
    };
    for f in got {
        assert!(!judges_time(f), "{what}: {f} from a text without times");
        assert!(
            want.iter().any(|w| rule_and_call(w) == rule_and_call(f)),
            "{what}: {f} is not the capture's"
        );
    }
    want.iter().filter(|w| judges_time(w)).count()
}

fn require_tool(test: &str, tool: &str) -> Result<(), Missing> {
    let missing: Vec<String> = [tool]
        .iter()
        .filter(|p| !on_path(p))
        .map(|p| p.to_string())
        .collect();
    require(test, &missing, &format!("apt-get install {tool}"))
}

/// tcpdump `-A` (ASCII), `-X` (hex from the IP header) and `-XX` (hex from the link layer),
/// with default, `-tttt` and `-tt` times, with and without `-n`. The hex dumps give every
/// capture's result exactly (the decoder reads the frames, IP fragments included), and merge
/// with the capture. Stated differences, both of `-A` only:
/// - a capture without SIP (the DNS and TLS recordings) gives an `-A` text with no SIP start
///   line, which sipflow does not recognise as tcpdump output (the capture gives no calls);
/// - a datagram in IP fragments (`udp-fragments`, `oversized-udp`): `-A` prints each
///   fragment's IP header as ASCII, with no length, and drops CRs before LFs, so where a
///   fragment's payload starts is a guess (20 characters); a message may be lost or cut there.
///
/// `-A` texts do not merge with the capture: a CR that was not before an LF, a tab or a
/// non-ASCII byte comes back as `.`.
pub fn tcpdump_texts_give_the_captures_calls() -> Result<(), Missing> {
    require_tool("tcpdump_texts_give_the_captures_calls", "tcpdump")?;
    let variants: [&[&str]; 4] = [
        &["-A"],
        &["-nn", "-tttt", "-A"],
        &["-tt", "-X"],
        &["-nn", "-XX"],
    ];
    let ascii = |args: &[&str]| args.contains(&"-A");
    let (compared, stated) = derived_texts_agree(
        "tcpdump",
        "-r",
        &variants,
        |rel, args, want, read| {
            ascii(args)
                && ((want.is_empty() && !read)
                    || ["udp-fragments/", "oversized-udp/"]
                        .iter()
                        .any(|f| rel.contains(f)))
        },
        |args| !ascii(args),
        |_| true,
        |args| !ascii(args),
    );
    assert!(
        compared >= 4 * 60,
        "{compared} texts compared ({stated} stated)"
    );
    assert!(stated <= 30, "{stated} texts with a stated difference");
    Ok(())
}

/// tshark `-x` hex dumps: alone (times unknown, in the capture's order), after
/// `-P` summary lines with `-t ad` and `-t e` times, and after `-V` details (times from their
/// `Epoch Time`). Every capture gives its calls, with no stated difference, and every text
/// merges with the capture.
pub fn tshark_hex_texts_give_the_captures_calls() -> Result<(), Missing> {
    require_tool("tshark_hex_texts_give_the_captures_calls", "tshark")?;
    let variants: [&[&str]; 4] = [
        &["-x"],
        &["-t", "ad", "-P", "-x"],
        &["-t", "e", "-P", "-x"],
        &["-V", "-x"],
    ];
    let (compared, stated) = derived_texts_agree(
        "tshark",
        "-r",
        &variants,
        |_, _, _, _| false,
        |_| true,
        |args| args.len() > 1,
        |_| true,
    );
    assert!(
        compared >= 4 * 70,
        "{compared} texts compared ({stated} stated)"
    );
    Ok(())
}

/// tshark's packet details (`tshark-text`): `-V`, `-P -V` (Wireshark's plain-text export of
/// dissections has this layout) and `-O sip` (times unknown, in the capture's order). Each message is rebuilt from its dissection; every capture gives its calls, with no
/// stated difference, every text merges with the capture, and the timed ones give its findings.
/// tshark decodes a port by the protocol registered for it before trying SIP's heuristics
/// (6160 is ECMP's: `flagship/sipp-bye-after-ack`), so the texts are made with
/// `-o udp.try_heuristic_first:TRUE`, as a user with SIP on such a port would.
/// Stated differences: tshark prints a header line longer than its label limit (240
/// characters) cut, marked `[truncated]` (a Digest `Authorization` in the auth recordings):
/// that message is read cut (`damaged`), where the capture's is whole; the same for a body
/// declared SDP that is not (`invalid-sdp`'s recordings: tshark prints it cut); and with `-V`,
/// `malformed/options.pcap`'s broken message, which tshark shows as `Data`, not SIP, so the
/// text has no message for `malformed-message` to find.
pub fn tshark_dissection_texts_give_the_captures_calls() -> Result<(), Missing> {
    require_tool("tshark_dissection_texts_give_the_captures_calls", "tshark")?;
    let variants: [&[&str]; 3] = [
        &["-o", "udp.try_heuristic_first:TRUE", "-V"],
        &["-o", "udp.try_heuristic_first:TRUE", "-t", "ad", "-P", "-V"],
        &["-o", "udp.try_heuristic_first:TRUE", "-O", "sip"],
    ];
    let (compared, stated) = derived_texts_agree(
        "tshark",
        "-r",
        &variants,
        |rel, args, _, _| {
            LONG_HEADER_LINES.iter().any(|c| rel.ends_with(c))
                || NOT_SDP_BODIES.iter().any(|c| rel.ends_with(c))
                || (args.contains(&"-V") && rel.ends_with("malformed/options.pcap"))
        },
        |_| true,
        |args| args.contains(&"-V"),
        |_| false,
    );
    assert!(
        compared >= 3 * 68,
        "{compared} texts compared ({stated} stated)"
    );
    Ok(())
}

/// Captures with an INVITE whose `application/sdp` body is 300 `X`s: tshark shows it as one
/// SDP `Invalid line [truncated]: XXX…`, so the text does not give the body and its message is
/// read cut (`damaged`), where the capture's is whole (and `invalid-sdp` judges it).
const NOT_SDP_BODIES: [&str; 2] = [
    "rules-message-extra/invalid-sdp/answered.pcap",
    "rules-message-extra/invalid-sdp/refused.pcap",
];

/// Captures with a header line longer than tshark's 240-character label limit.
const LONG_HEADER_LINES: [&str; 3] = [
    "rules-severity/stale-nonce/call.pcap",
    "rules/auth-failed-bad-auth/call.pcap",
    "rules/auth-failed/call.pcap",
];

/// tshark `-T json` and `-T ek` (`tshark-json`): each message is its start line and
/// `sip.msg_hdr` (the rest of the message as sent), with `frame.time_epoch`. Every capture gives
/// its calls and findings, and merges with the capture. Made with
/// `-o udp.try_heuristic_first:TRUE` for the reason given at
/// [`tshark_dissection_texts_give_the_captures_calls`]. (With several messages in one TCP
/// segment, tshark gives the first one's `sip.msg_hdr` up to the end of the segment:
/// `captures/sipp-tcp-big` is the case.) Stated difference: `malformed/options.pcap`'s broken
/// message, which tshark dissects as `Data`, not SIP, as with `-V`.
pub fn tshark_json_texts_give_the_captures_calls() -> Result<(), Missing> {
    require_tool("tshark_json_texts_give_the_captures_calls", "tshark")?;
    let variants: [&[&str]; 2] = [
        &["-o", "udp.try_heuristic_first:TRUE", "-T", "json"],
        &["-o", "udp.try_heuristic_first:TRUE", "-T", "ek"],
    ];
    let (compared, stated) = derived_texts_agree(
        "tshark",
        "-r",
        &variants,
        |rel, _, _, _| rel.ends_with("malformed/options.pcap"),
        |_| true,
        |_| true,
        |_| false,
    );
    assert!(
        compared >= 2 * 70,
        "{compared} texts compared ({stated} stated)"
    );
    Ok(())
}

/// sngrep 1.6 writes text only from its interactive Save dialog (`src/ingest/format/sngrep.md`):
/// `sngrep -I capture` runs in a detached tmux session in `out`'s directory, and F2, the file
/// name, "all dialogs" (the default) and `.txt` (five Tabs, Space) are typed into it, as
/// `fixtures/derived-text/make.sh` does; each step waits until the screen shows it took. A
/// capture in which sngrep finds no dialog leaves an empty text.
fn sngrep_save(capture: &Path, out: &Path) {
    static SESSIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let session = format!(
        "sipflow-sngrep-{}-{}",
        std::process::id(),
        SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let dir = out.parent().expect("a directory");
    let name = out.file_stem().and_then(|n| n.to_str()).expect("a name");
    let _ = std::fs::remove_file(out);
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("tmux: {e}"))
    };
    let screen = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-t", &session, "-p"]).stdout).into_owned()
    };
    let wait_for = |what: &str| {
        let shown = (0..400).any(|_| {
            let found = screen().contains(what);
            if !found {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            found
        });
        assert!(
            shown,
            "sngrep -I {}: no `{what}` on its screen:\n{}",
            capture.display(),
            screen()
        );
    };
    let started = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-c",
        &dir.to_string_lossy(),
        "-x",
        "200",
        "-y",
        "50",
        &format!("TZ=UTC timeout 120 sngrep -I '{}'", capture.display()),
    ]);
    assert!(
        started.status.success(),
        "tmux new-session: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    // Ends the session however this function ends.
    struct Session<'a>(&'a str);
    impl Drop for Session<'_> {
        fn drop(&mut self) {
            let _ = Command::new("tmux")
                .args(["kill-session", "-t", self.0])
                .output();
        }
    }
    let _session = Session(&session);
    wait_for("Dialogs:");
    tmux(&["send-keys", "-t", &session, "F2"]);
    wait_for("Save capture");
    tmux(&["send-keys", "-t", &session, "-l", name]);
    tmux(&[
        "send-keys",
        "-t",
        &session,
        "Tab",
        "Tab",
        "Tab",
        "Tab",
        "Tab",
        "Space",
    ]);
    wait_for("(*) .txt");
    assert!(
        screen().contains("(*) all dialogs"),
        "sngrep: not all dialogs:\n{}",
        screen()
    );
    tmux(&["send-keys", "-t", &session, "Enter"]);
    // sngrep writes the file, then says so ("Successfully saved N dialogs"); with no dialog
    // it writes nothing.
    let _ = (0..100).any(|_| {
        let said = screen().contains("saved");
        if !said {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        said
    });
    if !out.exists() {
        std::fs::write(out, b"").expect("write empty text");
    }
}

/// sngrep's saved text (`.txt` from its Save dialog, driven in tmux by [`sngrep_save`]): every
/// capture gives its calls, with its times (to the microsecond) and its findings, and merges
/// with the capture. Stated differences: a capture in which sngrep finds no dialog (DNS, TLS)
/// gives an empty text, which is no input (the capture gives no call either);
/// `malformed/options.pcap`'s broken OPTIONS (`SIP/2.O`), which sngrep does not take for SIP
/// and leaves out of its dialogs, so the text has no message for `malformed-message` to find
/// (as with tshark `-V`); and sngrep 1.6's
/// own TCP reassembly drops messages of `captures/sipp-tcp-big` (21 of its 140 messages are
/// missing from its save: three BYEs' 200s and ACKs among them), so that text's calls have
/// fewer messages.
pub fn sngrep_texts_give_the_captures_calls() -> Result<(), Missing> {
    let missing: Vec<String> = ["sngrep", "tmux"]
        .iter()
        .filter(|p| !on_path(p))
        .map(|p| p.to_string())
        .collect();
    require(
        "sngrep_texts_give_the_captures_calls",
        &missing,
        "apt-get install sngrep tmux",
    )?;
    let variants: [&[&str]; 1] = [&[]];
    let (compared, stated) = derived_texts_agree(
        "sngrep",
        "-I",
        &variants,
        |rel, _, want, read| {
            (!read && want.is_empty())
                || ["captures/sipp-tcp-big/tcp.pcap", "malformed/options.pcap"].contains(&rel)
        },
        |_| true,
        |_| true,
        |_| false,
    );
    assert!(
        compared >= 70,
        "{compared} texts compared ({stated} stated)"
    );
    assert!(stated <= 12, "{stated} texts with a stated difference");
    Ok(())
}
