//! Code examples in the rule docs work: SF001's Python fix is checked by Python itself.

use super::common::{root, sipflow};
use super::needs::{Missing, on_path, require};

/// The fenced ```python blocks of a text.
fn python_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("```python\n") {
        let body = &rest[at + "```python\n".len()..];
        let Some(end) = body.find("\n```") else { break };
        blocks.push(body[..end + 1].to_string());
        rest = &body[end..];
    }
    blocks
}

pub fn the_sf001_python_example_runs() -> Result<(), Missing> {
    let missing: Vec<String> = (!on_path("python3"))
        .then(|| "python3 on PATH".to_string())
        .into_iter()
        .collect();
    require(
        "the SF001 Python example test",
        &missing,
        "apt-get install python3",
    )?;
    let run = sipflow(&["explain", "SF001"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let blocks = python_blocks(&run.stdout);
    assert_eq!(blocks.len(), 1, "{}", run.stdout);
    let dir = std::env::temp_dir().join(format!("sipflow-sf001-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let example = dir.join("example.py");
    std::fs::write(&example, &blocks[0]).expect("write example");
    let checker = root().join("tests/integration/docs_examples/check_python.py");
    let out = std::process::Command::new("timeout")
        .args(["60", "python3"])
        .arg(&checker)
        .arg(&example)
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}\n{}", blocks[0]);
    if stdout.contains("SKIP-PJSUA2") {
        println!(
            "pjsua2 is not importable: the example was compiled and its names checked, not run"
        );
    }
    Ok(())
}
