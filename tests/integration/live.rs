//! Live input: a run that reads a pipe writes each call's findings soon after the call ends,
//! not when the writer closes the pipe; Ctrl-C / SIGTERM end it as the end of the input would.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use super::common::{listed, root};

/// How long a finding may take to arrive (about a second is promised; a loaded machine may
/// take longer, and a failure still shows: without live flushing it never arrives while the
/// pipe is open).
const PATIENCE: Duration = Duration::from_secs(10);

/// `sipflow ARGS -` reading a pipe the test writes, and its output lines as they come.
pub(super) struct Live {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Live {
    pub(super) fn start(args: &[&str]) -> Self {
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

    pub(super) fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write");
        stdin.flush().expect("flush");
    }

    /// Lines until one contains `needle`, or `None` after [`PATIENCE`].
    pub(super) fn until(&self, needle: &str) -> Option<Vec<String>> {
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
    pub(super) fn finish(mut self) -> (Vec<String>, Option<i32>) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait");
        (self.lines.iter().collect(), status.code())
    }
}

pub(super) fn read(rel: &str) -> Vec<u8> {
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

/// The Call-IDs of the two parts the tests pipe: busy-486's caller, then decline-603's.
const FIRST: &str = "Rp4Pz.y4XIbeGdbQxk9bVeZjNyQ.8Z89";
const SECOND: &str = "LQvnW0QRa3SQHIarkP5Pecc1bV6Fxujo";

#[test]
fn a_calls_row_arrives_before_the_next_part_of_a_piped_log_is_written() {
    let mut live = Live::start(&["calls"]);
    live.write(&read("busy-486/caller.log"));
    let first = live
        .until(FIRST)
        .expect("the first call's row while the pipe is still open");
    let head = first.first().expect("the head");
    for column in [
        "#",
        "START",
        "CALL-ID",
        "FROM → TO",
        "OUTCOME",
        "STATUS",
        "MSGS",
    ] {
        assert!(head.contains(column), "{head}");
    }
    let row = first.last().expect("the row");
    assert!(row.starts_with("1 ") && row.contains("busy") && row.contains("486 Busy Here"));
    // Its status's meaning comes under it, not at the end.
    let meaning = live.until("486 Busy Here:").expect("the status explained");
    assert!(
        meaning
            .last()
            .is_some_and(|l| l.starts_with("  486 Busy Here: "))
    );
    live.write(&read("decline-603/caller.log"));
    let (rest, code) = live.finish();
    assert!(
        rest.iter()
            .any(|l| l.starts_with("2 ") && l.contains(SECOND) && l.contains("603 Decline")),
        "{rest:?}"
    );
    // The second call's status is diagnosed, under its row; the head is not written again.
    assert!(
        rest.iter()
            .any(|l| l.starts_with("  603 Decline (call 2), diagnosed by call-object-freed-early")),
        "{rest:?}"
    );
    assert!(!rest.iter().any(|l| l.contains("CALL-ID")), "{rest:?}");
    assert_eq!(code, Some(0));
}

#[test]
fn a_calls_ladder_is_drawn_before_the_next_part_of_a_piped_log_is_written() {
    let mut live = Live::start(&["flow"]);
    live.write(&read("busy-486/caller.log"));
    let first = live
        .until("-- ACK --")
        .expect("the first call's ladder while the pipe is still open");
    assert!(
        first.iter().any(|l| l == &format!("Call 1: {FIRST}")),
        "{first:?}"
    );
    assert!(first.iter().any(|l| l.contains("486 Busy Here --")));
    assert!(
        !first.iter().any(|l| l.contains(SECOND)),
        "only the first part"
    );
    live.write(&read("decline-603/caller.log"));
    let (rest, code) = live.finish();
    assert!(
        rest.iter().any(|l| l == &format!("Call 2: {SECOND}")),
        "{rest:?}"
    );
    assert!(rest.iter().any(|l| l.contains("603 Decline --")));
    assert_eq!(code, Some(0));
}

#[test]
fn a_sequence_diagram_of_the_call_asked_for_is_written_when_it_ends() {
    // `--call 1`: one diagram, written as call 1 ends, not when the pipe closes.
    let mut live = Live::start(&["flow", "--format", "plantuml", "--call", "1"]);
    live.write(&read("busy-486/caller.log"));
    let first = live
        .until("@enduml")
        .expect("the diagram while the pipe is still open");
    assert_eq!(first.first().map(String::as_str), Some("@startuml"));
    assert!(first.iter().any(|l| l == &format!("title Call 1: {FIRST}")));
    assert!(first.iter().any(|l| l.contains(": 486 Busy Here")));
    live.write(&read("decline-603/caller.log"));
    let (rest, code) = live.finish();
    assert!(rest.is_empty(), "nothing of call 2: {rest:?}");
    assert_eq!(code, Some(0));
}

/// A directory of its own under the system's temporary one.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sipflow-live-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// The report at `path` once it is a whole page, within [`PATIENCE`].
fn whole_page(path: &std::path::Path) -> Option<String> {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if let Ok(page) = std::fs::read_to_string(path)
            && page.ends_with("</html>\n")
        {
            return Some(page);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// The names in `dir` other than `keep`: a temporary file left behind.
fn others(dir: &std::path::Path, keep: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != keep)
        .collect()
}

#[test]
fn the_html_report_is_rewritten_whole_while_the_pipe_is_open() {
    let dir = scratch("html");
    let path = dir.join("live.html");
    let html = path.to_str().expect("a UTF-8 path");
    let mut live = Live::start(&["check", "--format", "jsonl", "--html", html]);
    live.write(&read("busy-486/caller.log"));
    // The writer pauses: the first call has ended, so the report shows it now.
    let page = whole_page(&path).expect("the report while the pipe is still open");
    assert!(page.contains("<title>sipflow report: 1 call</title>"));
    assert_eq!(listed(&page), [FIRST]);
    live.write(&read("decline-603/caller.log"));
    // SIGTERM once the second call was judged: the run ends as at the end of its input.
    live.until("\"call-object-freed-early\"")
        .expect("the second call's finding");
    let pid = live.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let (_, code) = live.finish();
    assert_eq!(code, Some(0));
    let page = std::fs::read_to_string(&path).expect("the report");
    assert!(page.ends_with("</html>\n"));
    assert_eq!(listed(&page), [FIRST, SECOND]);
    assert!(
        others(&dir, "live.html").is_empty(),
        "a temporary file left"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_final_live_report_is_the_report_of_the_same_log_read_from_a_file() {
    // `sipflow report -o F -` on a pipe, closed at the end: rewritten as it goes, and at the
    // end the same bytes as the report of the file (both parts, one after the other).
    let dir = scratch("report");
    let path = dir.join("r.html");
    let html = path.to_str().expect("a UTF-8 path");
    let mut live = Live::start(&["report", "--html-every", "1s", "-o", html]);
    live.write(&read("busy-486/caller.log"));
    let page = whole_page(&path).expect("the report while the pipe is still open");
    assert_eq!(listed(&page), [FIRST]);
    live.write(&read("decline-603/caller.log"));
    let (_, code) = live.finish();
    assert_eq!(code, Some(0));
    assert!(others(&dir, "r.html").is_empty(), "a temporary file left");
    // The same log from a file as stdin (`- < both.log`: read to its end, not followed).
    let both = dir.join("both.log");
    let mut log = read("busy-486/caller.log");
    log.extend(read("decline-603/caller.log"));
    std::fs::write(&both, log).expect("write");
    let whole = dir.join("whole.html");
    let status = Command::new(env!("CARGO_BIN_EXE_sipflow"))
        .args(["report", "-o"])
        .args([&whole])
        .arg("-")
        .stdin(std::fs::File::open(&both).expect("open"))
        .current_dir(root())
        .status()
        .expect("sipflow report");
    assert!(status.success());
    let (live_page, file_page) = (
        std::fs::read_to_string(&path).expect("live"),
        std::fs::read_to_string(&whole).expect("file"),
    );
    assert_eq!(listed(&live_page), [FIRST, SECOND]);
    assert!(
        live_page == file_page,
        "the live report differs from the file's"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
