//! Live input: a run that reads a pipe writes each call's findings soon after the call ends,
//! not when the writer closes the pipe; Ctrl-C / SIGTERM end it as the end of the input would.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use super::common::root;

/// How long a finding may take to arrive (about a second is promised; a loaded machine may
/// take longer, and a failure still shows: without live flushing it never arrives while the
/// pipe is open).
const PATIENCE: Duration = Duration::from_secs(10);

/// `sipflow ARGS -` reading a pipe the test writes, and its output lines as they come.
struct Live {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Live {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sipflow"))
            .args(args)
            .arg("-")
            .current_dir(root())
            .env("NO_COLOR", "1")
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sipflow");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Live {
            child,
            stdin,
            lines,
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write");
        stdin.flush().expect("flush");
    }

    /// Lines until one contains `needle`, or `None` after [`PATIENCE`].
    fn until(&self, needle: &str) -> Option<Vec<String>> {
        let deadline = Instant::now() + PATIENCE;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(line) = self.lines.recv_timeout(left) else {
                break;
            };
            let found = line.contains(needle);
            seen.push(line);
            if found {
                return Some(seen);
            }
        }
        None
    }

    /// Closes the pipe and returns the rest of the output and the exit code.
    fn finish(mut self) -> (Vec<String>, Option<i32>) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait");
        (self.lines.iter().collect(), status.code())
    }
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(root().join("fixtures").join(rel)).expect("fixture")
}

#[test]
fn a_calls_findings_arrive_before_the_next_part_of_a_piped_log_is_written() {
    let mut live = Live::start(&["check", "--format", "jsonl"]);
    live.write(&read("busy-486/caller.log"));
    // The writer pauses here, pipe open: the 486 call has ended, so its finding must come now.
    let first = live
        .until("\"call-rejected\"")
        .expect("the first call's finding while the pipe is still open");
    assert!(
        first.iter().any(|l| l.contains("486 Busy Here")),
        "{first:?}"
    );
    assert!(
        !first.iter().any(|l| l.contains("603")),
        "only the first part"
    );
    live.write(&read("decline-603/caller.log"));
    let (rest, code) = live.finish();
    assert!(rest.iter().any(|l| l.contains("603 Decline")), "{rest:?}");
    // A warning (call-object-freed-early) but no error: check's usual exit code.
    assert_eq!(code, Some(0));
}

/// The frames of a pcap, each with its record header, after the 24-byte file header.
fn pcap_frames(pcap: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let (header, mut rest) = pcap.split_at(24);
    assert_eq!(
        &header[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian µs pcap"
    );
    let mut frames = Vec::new();
    while rest.len() >= 16 {
        let len = u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]) as usize;
        let (frame, tail) = rest.split_at(16 + len);
        frames.push(frame.to_vec());
        rest = tail;
    }
    (header.to_vec(), frames)
}

#[test]
fn a_capture_piped_as_tcpdump_writes_it_is_read_packet_by_packet() {
    // `tcpdump -U -w - | sipflow check -`: the header and the rejected call's three frames,
    // then a pause, then the rest of the capture.
    let (header, frames) = pcap_frames(&read("rules-severity/strict-proxy/call.pcap"));
    let mut live = Live::start(&["check", "--format", "jsonl"]);
    live.write(&header);
    for f in &frames[..3] {
        live.write(f);
    }
    let first = live
        .until("\"call-rejected\"")
        .expect("the first call's findings while the capture goes on");
    assert!(first.iter().any(|l| l.contains("400 Missing Max-Forwards")));
    assert!(!first.iter().any(|l| l.contains("MESSAGE")), "{first:?}");
    for f in &frames[3..] {
        live.write(f);
    }
    let (rest, code) = live.finish();
    assert!(rest.iter().any(|l| l.contains("content-length-mismatch")));
    assert_eq!(code, Some(1), "errors were found");
}

#[test]
fn sigterm_writes_the_summary_and_exits_with_the_usual_code() {
    let mut live = Live::start(&["check"]);
    live.write(&read("busy-486/caller.log"));
    live.until("486").expect("the finding");
    let pid = live.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    // The pipe stays open: the run ends on the signal alone.
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = live.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "sipflow did not end on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let rest: Vec<String> = live.lines.iter().collect();
    assert!(
        rest.iter()
            .any(|l| l.contains("1 finding(s): 0 error, 0 warning, 1 info; 1 call(s)")),
        // (Exactly the file's finding: the input's counts are what it gave before the signal,
        // so no rule says it held no messages.)
        "the summary: {rest:?}"
    );
    assert_eq!(status.code(), Some(0));
}
