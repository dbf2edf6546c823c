//! Support shared by the unit tests: a small deterministic generator, so that randomised
//! (mutation) tests reproduce exactly, where the shared public traces are, and the recorded
//! fixtures.

use std::path::PathBuf;

/// `../shared/traces/public` beside the checkout (found from `CARGO_MANIFEST_DIR`, as the
/// integration tests do): public captures written by others, read in place and never
/// committed. Tests that read it are built with
/// `#[cfg_attr(not(shared_traces), ignore = "…")]` (see `build.rs`): ignored, with the reason,
/// when it is absent.
pub fn shared_public() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/traces/public")
}

/// Every file under `fixtures/` whose extension is one of `extensions` (all files when it is
/// empty), recursively, sorted: the recorded inputs that unit tests check a fast path against.
pub fn fixture_files(extensions: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, extensions, out);
            } else if extensions.is_empty()
                || p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| extensions.contains(&x))
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        extensions,
        &mut out,
    );
    out.sort();
    out
}

/// A 64-bit linear congruential generator (Knuth's MMIX constants); returns the high bits.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The bytes of the recorded fixture `fixtures/REL`.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The message events of `text` read as `format` (its log events left out).
pub fn messages_as(format: crate::ingest::Format, text: &[u8]) -> Vec<crate::event::MessageEvent> {
    let opts = crate::ingest::IngestOptions {
        format: Some(format),
        ..crate::ingest::IngestOptions::default()
    };
    let (_, _, events) = crate::ingest::ingest_bytes("t", text.to_vec(), &opts).expect("read");
    events
        .into_iter()
        .filter_map(|e| match e {
            crate::event::Event::Message(m) => Some(m),
            crate::event::Event::Log(_) => None,
        })
        .collect()
}

/// The start line of a message, as text (empty when it did not parse).
pub fn start_line(m: &crate::event::MessageEvent) -> String {
    m.parsed()
        .map(|p| String::from_utf8_lossy(&p.raw()[p.start_span()]).into_owned())
        .unwrap_or_default()
}
