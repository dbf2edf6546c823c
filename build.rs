//! Tells the tests whether `../shared/traces` is beside the checkout: the public traces written
//! by others (captures and pjsip excerpts, never committed; see README). When the folder is
//! there the package is built with `cfg(shared_traces)`; the tests that read it carry
//! `#[cfg_attr(not(shared_traces), ignore = "…")]`, so that without it `cargo test` counts them
//! as ignored, with the reason, instead of passing without looking at anything.
//!
//! Cargo watches the folder while it exists. When it appears after a build, `touch build.rs`
//! (or any rebuild from clean) makes the tests see it.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(shared_traces)");
    println!("cargo::rerun-if-changed=build.rs");
    let Ok(root) = std::env::var("CARGO_MANIFEST_DIR") else {
        return;
    };
    let traces = Path::new(&root).join("../shared/traces");
    if traces.is_dir() {
        println!("cargo::rustc-cfg=shared_traces");
        println!("cargo::rerun-if-changed={}", traces.display());
    }
}
