//! The fuzz targets' invariants, checked without a fuzzer: every committed corpus file
//! (`fuzz/corpus/<target>/`) and every crash input found by fuzzing
//! (`fuzz/regressions/<target>/`) goes through the same checks as in `cargo fuzz run`. The checks
//! are `fuzz/src/checks.rs` itself, included here, so the two cannot drift apart. See
//! `docs/security.md`, "Fuzzing".

use std::path::{Path, PathBuf};

use super::common::root;

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use checks::Target;

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `target`'s checks on every file of `fuzz/<kind>/<target>/`; fails naming every file
/// that panics. Returns how many files there were.
fn replay(kind: &str, target: Target) -> usize {
    let dir = root().join("fuzz").join(kind).join(target.name());
    let files = files(&dir);
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("read input");
            std::panic::catch_unwind(|| target.check(&data)).is_err()
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{} failed: {failed:#?}", target.name());
    files.len()
}

fn corpus(target: Target) {
    let n = replay("corpus", target);
    assert!(n > 0, "no corpus for {}", target.name());
}

#[test]
fn corpus_sip_parser() {
    corpus(Target::SipParser);
}

#[test]
fn corpus_pjsip_ingest() {
    corpus(Target::PjsipIngest);
}

#[test]
fn corpus_pcap_ingest() {
    corpus(Target::PcapIngest);
}

#[test]
fn corpus_html_report() {
    corpus(Target::HtmlReport);
}

/// Every crash input found so far; each is also named in a test below with what it found.
#[test]
fn every_regression_input() {
    for target in Target::ALL {
        replay("regressions", target);
    }
}

/// The checks themselves catch what they are meant to catch.
#[test]
fn the_html_check_rejects_markup_that_is_not_the_programs() {
    use sipflow::dialog::{self, CorrelateOptions};
    let model = dialog::correlate(Vec::new(), &CorrelateOptions::default());
    let ctx = sipflow::report::Context {
        model: &model,
        inputs: &[],
        sources: &[],
        diagnoses: &sipflow::rules::Diagnoses::NONE,
        lang: sipflow::sip::status::Lang::En,
    };
    let mut page = Vec::new();
    sipflow::report::html::write(&ctx, &[], &Default::default(), &mut page).expect("page");
    let page = String::from_utf8(page).expect("utf-8");
    checks::check_html(&page, &model, 0, true);
    for evil in [
        "<img src=x>",
        "<p>",
        "</p>",
        "a > b",
        "<p class=\"x\" onclick=\"y\">",
    ] {
        let bad = page.replacen("No findings.", evil, 1);
        let caught = std::panic::catch_unwind(|| checks::check_html(&bad, &model, 0, true));
        assert!(caught.is_err(), "not caught: {evil}");
    }
}
