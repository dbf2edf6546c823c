//! Running the `sipflow` binary and reading fixtures.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture path relative to `fixtures/`, as a string relative to the crate root (so that
/// paths in output are stable).
pub fn fixture(rel: &str) -> String {
    let p = Path::new("fixtures").join(rel);
    assert!(root().join(&p).exists(), "missing fixture {}", p.display());
    p.to_string_lossy().into_owned()
}

/// Runs sipflow in the crate root with `args`, feeding `stdin`, in a 100-column terminal.
pub fn sipflow_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    run_sipflow(args, stdin, Some("100"))
}

/// Runs sipflow with `args` in a terminal wide enough that no ladder note wraps: for tests
/// that look for whole log lines in a ladder.
pub fn sipflow_wide(args: &[&str]) -> Run {
    run_sipflow(args, b"", Some("1000"))
}

/// Runs sipflow with `COLUMNS` set to `columns`, or without `COLUMNS` at all (`None`): for the
/// tests of how the ladder fits a width.
pub fn sipflow_columns(args: &[&str], columns: Option<&str>) -> Run {
    run_sipflow(args, b"", columns)
}

fn run_sipflow(args: &[&str], stdin: &[u8], columns: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sipflow"));
    match columns {
        Some(columns) => cmd.env("COLUMNS", columns),
        None => cmd.env_remove("COLUMNS"),
    };
    let mut child = cmd
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        // Status explanations follow the locale: every test reads English unless it asks.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sipflow");
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait sipflow");
    writer.join().expect("stdin writer");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn sipflow(args: &[&str]) -> Run {
    sipflow_with_stdin(args, b"")
}

/// Fixture inputs (relative to `fixtures/`) as paths relative to the crate root.
pub fn fixtures(inputs: &[&str]) -> Vec<String> {
    inputs.iter().map(|i| fixture(i)).collect()
}

/// `sipflow check --format json EXTRA… PATHS…` (paths relative to the crate root): the exit
/// code and the document. Fails the test unless the exit code is 0 or 1.
pub fn check_doc<S: AsRef<str>>(extra: &[&str], paths: &[S]) -> (i32, serde_json::Value) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    args.extend(paths.iter().map(AsRef::as_ref));
    let run = sipflow(&args);
    assert!(matches!(run.code, 0 | 1), "{args:?}: {}", run.stderr);
    let doc = serde_json::from_str(&run.stdout).expect("check JSON");
    (run.code, doc)
}

/// One finding of a `check --format json` document: (rule, severity, message).
pub type Found = (String, String, String);

/// (rule, severity, message) of every finding of a `check --format json` document.
pub fn found(doc: &serde_json::Value) -> Vec<Found> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("rule"), s("severity"), s("message"))
        })
        .collect()
}

/// `check --format json` on fixture inputs: the exit code and every finding.
pub fn check_fixtures(extra: &[&str], inputs: &[&str]) -> (i32, Vec<Found>) {
    let (code, doc) = check_doc(extra, &fixtures(inputs));
    (code, found(&doc))
}

/// `sipflow calls --format json` parsed.
pub fn calls_json(inputs: &[&str]) -> serde_json::Value {
    let mut args = vec!["calls", "--format", "json"];
    args.extend_from_slice(inputs);
    let run = sipflow(&args);
    assert_eq!(run.code, 0, "sipflow {args:?} failed: {}", run.stderr);
    serde_json::from_str(&run.stdout).expect("calls JSON")
}

/// (outcome, final_status) of every call in the JSON document.
pub fn outcomes(doc: &serde_json::Value) -> Vec<(String, Option<u64>)> {
    doc["calls"]
        .as_array()
        .expect("calls array")
        .iter()
        .map(|c| {
            (
                c["outcome"].as_str().expect("outcome").to_string(),
                c["final_status"].as_u64(),
            )
        })
        .collect()
}

/// Writes to `path` a pjsip log of `copies` calls derived from the recorded fixture log `rel`
/// by `fixtures/derive/derive.py many` (unique Call-IDs, tags and branches per copy, times
/// shifted).
pub fn derive_many(rel: &str, copies: usize, path: &Path) {
    let out = Command::new("python3")
        .arg(root().join("fixtures/derive/derive.py"))
        .arg("many")
        .arg(root().join(fixture(rel)))
        .arg(path)
        .args(["--copies", &copies.to_string()])
        .output()
        .expect("run python3 fixtures/derive/derive.py");
    assert!(
        out.status.success(),
        "derive.py many failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The text between `open` and the next `close`.
pub fn between<'a>(page: &'a str, open: &str, close: &str) -> &'a str {
    let start = page.find(open).map(|i| i + open.len()).expect(open);
    let len = page[start..].find(close).expect(close);
    &page[start..start + len]
}

fn inflate(b64: &str) -> serde_json::Value {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    serde_json::from_reader(flate2::read::GzDecoder::new(&bytes[..])).expect("gzip json")
}

/// The Call-IDs of an HTML report's call list, in its order.
pub fn listed(page: &str) -> Vec<String> {
    let (index, _) = data(page);
    index["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["call_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The embedded data of an HTML report: the call-list index and every chunk of conversations.
pub fn data(page: &str) -> (serde_json::Value, Vec<serde_json::Value>) {
    let json = between(
        page,
        r#"<script type="application/json" id="sipflow-data">"#,
        "</script>",
    );
    let env: serde_json::Value = serde_json::from_str(json).expect("envelope");
    assert_eq!(env["version"], 1);
    let chunks = env["chunks"]
        .as_array()
        .expect("chunks")
        .iter()
        .map(|c| inflate(c.as_str().expect("chunk")))
        .collect();
    (inflate(env["index"].as_str().expect("index")), chunks)
}

/// `sipflow check --format FORMAT` on two fixture sets with findings (SF001 among them).
pub fn check_output(format: &str) -> String {
    let run = sipflow(&[
        "check",
        "--format",
        format,
        &fixture("call-freed-early/caller.log"),
        &fixture("call-freed-early/callee.log"),
        &fixture("big-invite-cut/caller.log"),
    ]);
    assert_eq!(run.code, 1, "{format}: {}", run.stderr);
    run.stdout
}

/// A trace of `../shared/traces/public` (captures written by others, never committed), as an
/// argument for sipflow. A test that calls it carries
/// `#[cfg_attr(not(shared_traces), ignore = "…")]` (see `build.rs`), so that it is counted as
/// ignored when the folder is absent; with the folder there, a missing trace is a failure.
pub fn public_trace(rel: &str) -> String {
    let path = root().join("../shared/traces/public").join(rel);
    assert!(path.is_file(), "{} is missing", path.display());
    path.display().to_string()
}
