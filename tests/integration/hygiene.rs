//! The sources name no path of one machine: tests find `../shared` and the fixtures from
//! `CARGO_MANIFEST_DIR`, so that they run the same from any checkout.

use std::path::{Path, PathBuf};

use super::common::root;

/// The `.rs` files under `dir` (recursively; `target` folders left out).
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            if e.file_name() != "target" {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_absolute_machine_path_in_the_sources() {
    // Built at run time, so that this file does not match itself.
    let quote = '"';
    let needles: Vec<String> = ["work", "check", "home", "root", "tmp"]
        .iter()
        .map(|d| format!("{quote}/{d}/"))
        .collect();
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "fuzz", "examples"] {
        rust_files(&root().join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() > 50, "too few sources found: {}", files.len());
    let mut hits = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read a source file");
        for (n, line) in text.lines().enumerate() {
            if needles.iter().any(|s| line.contains(s.as_str())) {
                let rel = f.strip_prefix(root()).unwrap_or(f);
                hits.push(format!("{}:{}: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "absolute paths of one machine (find ../shared and fixtures from CARGO_MANIFEST_DIR \
         instead, see tests/integration/common.rs and src/testutil.rs):\n{}",
        hits.join("\n")
    );
}
