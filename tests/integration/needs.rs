//! What the tests of `tests/environment.rs` need from outside the repository, and how a missing
//! prerequisite is reported: ignored with the reason, or in CI a failure.

use std::path::PathBuf;
use std::process::Command;

use super::common::root;

/// Whether a program is on `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Why a test of `tests/environment.rs` did not run here: its harness reports the test as
/// "ignored" with this reason in `cargo test`'s summary.
#[derive(Debug)]
pub struct Missing(pub String);

/// Whether a test's external prerequisites (a browser, a tool) are all present. In CI (`CI`
/// set) a missing one fails the test, since `.ci/run` installs them; elsewhere the test is
/// reported as ignored, with what is missing and how to install it, so that `cargo test` works
/// on a fresh machine and says what it did not run.
pub fn require(test: &str, missing: &[String], install: &str) -> Result<(), Missing> {
    if missing.is_empty() {
        return Ok(());
    }
    let what = missing.join("; ");
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} cannot run in CI: missing {what}. .ci/run installs them ({install})."
    );
    Err(Missing(format!("missing {what} (install: {install})")))
}

/// `../shared/traces/<dir>` beside the checkout: traces written by others, never committed.
/// A test that needs it is ignored when it is absent, in CI too (CI has no `../shared`).
pub fn shared_traces(dir: &str) -> Result<PathBuf, Missing> {
    let p = root().join("../shared/traces").join(dir);
    if p.is_dir() {
        Ok(p)
    } else {
        Err(Missing(format!(
            "../shared/traces/{dir} is absent (public traces beside the checkout; see README)"
        )))
    }
}

/// What is missing to run Node.js (>= 20) with these packages of `tests/browser` (installed by
/// `npm ci --prefix tests/browser`): nothing when all is there.
pub fn node_packages(packages: &[&str]) -> Vec<String> {
    let mut missing = Vec::new();
    let modules = root().join("tests/browser/node_modules");
    for package in packages {
        if !modules.join(package).join("package.json").exists() {
            missing.push(format!(
                "{}/{package} (run `npm ci --prefix tests/browser`)",
                modules.display()
            ));
        }
    }
    let node = Command::new("node").arg("--version").output();
    let major = node.as_ref().ok().and_then(|o| {
        let v = String::from_utf8_lossy(&o.stdout);
        v.trim()
            .trim_start_matches('v')
            .split('.')
            .next()?
            .parse::<u32>()
            .ok()
    });
    if major.is_none_or(|m| m < 20) {
        missing.push(format!(
            "Node.js >= 20 on PATH (found {})",
            major.map_or("none".to_string(), |m| format!("v{m}"))
        ));
    }
    missing
}
