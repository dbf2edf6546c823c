//! `check --format sarif` against the official SARIF 2.1.0 JSON schema
//! (`tests/schemas/sarif-schema-2.1.0.json`), validated by Ajv under Node.js
//! (`tests/browser/sarif.mjs`). Runs from `tests/environment.rs`: without Node.js and
//! `npm ci --prefix tests/browser` it is reported as ignored, and fails in CI. The document's
//! shape and content are checked without Node.js by `check::sarif_is_pretty_json_with_the_findings`.

use std::process::Command;

use super::common::{check_output, root};
use super::needs::{Missing, node_packages, require};

pub fn sarif_is_valid_sarif_2_1_0() -> Result<(), Missing> {
    require(
        "sarif::sarif_is_valid_sarif_2_1_0",
        &node_packages(&["ajv", "ajv-formats"]),
        "Node.js >= 20; npm ci --prefix tests/browser",
    )?;
    let dir = root().join("target/sarif");
    std::fs::create_dir_all(&dir).expect("target/sarif");
    let doc = dir.join("check.sarif");
    std::fs::write(&doc, check_output("sarif")).expect("write the SARIF document");
    let out = Command::new("node")
        .arg(root().join("tests/browser/sarif.mjs"))
        .arg(root().join("tests/schemas/sarif-schema-2.1.0.json"))
        .arg(&doc)
        .output()
        .expect("run node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} is not valid SARIF 2.1.0:\n{text}",
        doc.display()
    );
    assert!(text.contains("valid SARIF 2.1.0"), "{text}");
    Ok(())
}
