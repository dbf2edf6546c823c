//! `flow --format plantuml` checked by PlantUML itself (`plantuml -syntax`), on recorded calls
//! and on hand-made hostile labels. Mermaid output is parsed by Mermaid in `browser.rs`.

use std::io::Write;
use std::process::{Command, Stdio};

use super::common::{fixture, sipflow, sipflow_with_stdin};
use super::needs::{Missing, on_path, require};

/// PlantUML's verdict on a diagram: `Ok(kind)` (e.g. `SEQUENCE`) or the error text.
fn plantuml_syntax(text: &str) -> Result<String, String> {
    let mut child = Command::new("plantuml")
        .arg("-syntax")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run plantuml: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(text.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let verdict = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() && !verdict.starts_with("ERROR") {
        Ok(verdict)
    } else {
        Err(format!("{verdict}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

pub fn plantuml_export_is_valid_plantuml() -> Result<(), Missing> {
    let missing: Vec<String> = (!on_path("plantuml"))
        .then(|| "plantuml on PATH".to_string())
        .into_iter()
        .collect();
    require(
        "the PlantUML export test",
        &missing,
        "apt-get install plantuml",
    )?;
    let hostile = "INVITE sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
        From: \"@enduml\\n\\\"x\" <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n\
        Call-ID: \"; note over L0 : <b>x</b> \\n @enduml\r\nCSeq: 1 INVITE\r\n\
        User-Agent: \"quoted\" \\ agent -> L9 : evil\r\nContent-Length: 0\r\n\r\n";
    let run = sipflow_with_stdin(&["flow", "--format", "plantuml", "-"], hostile.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut diagrams = vec![("hostile".to_string(), run.stdout)];
    for inputs in [
        &["call-freed-early/caller.log", "call-freed-early/callee.log"][..],
        &["b2bua/caller.log", "b2bua/b2bua.log", "b2bua/callee.log"],
        &["rules/retransmission-storm/invite-late-answer/call.pcap"],
        &["malformed/options.pcap"],
        &["big-invite-cut/caller.log", "big-invite-cut/callee.log"],
    ] {
        let paths: Vec<String> = inputs.iter().map(|i| fixture(i)).collect();
        let mut args = vec!["flow", "--call", "1", "--format", "plantuml"];
        if inputs[0].starts_with("malformed") {
            args[2] = "F1";
        }
        args.extend(paths.iter().map(String::as_str));
        let run = sipflow(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        diagrams.push((inputs[0].to_string(), run.stdout));
    }
    for (name, text) in diagrams {
        match plantuml_syntax(&text) {
            Ok(kind) => assert!(kind.starts_with("SEQUENCE"), "{name}: {kind}\n{text}"),
            Err(e) => panic!("{name}: PlantUML rejects the export: {e}\n{text}"),
        }
    }
    Ok(())
}
