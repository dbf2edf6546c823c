//! `sipflow explain`: two codes compared (`A B`, `A vs B`), `--format`, `--lang` and the
//! locale, `--all`, the generated `docs/status-codes/` pages, and the language of the status
//! explanations in `calls`, `check` and `flow` (issue 19).

use std::process::{Command, Stdio};

use super::common::{root, sipflow};

/// Runs sipflow with these locale variables (and no others).
fn with_locale(args: &[&str], vars: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sipflow"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .stdin(Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run sipflow");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn two_codes_side_by_side() {
    let run = sipflow(&["explain", "301", "600"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(
        out.starts_with("301 Moved Permanently vs 600 Busy Everywhere\n\n"),
        "{out}"
    );
    // Both explanations as `explain CODE` gives them, then the comparison.
    let one = sipflow(&["explain", "301"]).stdout;
    assert!(out.contains(&one));
    assert!(out.contains(&sipflow(&["explain", "600"]).stdout));
    let difference = out.find("\nMain difference\n").expect("difference");
    let which = out.find("\nWhen to use which\n").expect("which");
    assert!(out.find(&one).unwrap() < difference && difference < which);
    assert!(out.contains("600: definitive: every location; no other location will accept it"));
    assert_eq!(sipflow(&["explain", "301", "vs", "600"]).stdout, *out);
    assert_eq!(sipflow(&["explain", "301", "VS", "600"]).stdout, *out);
    // The README's example.
    let run = sipflow(&["explain", "486", "600"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .contains("A proxy keeps forking (or goes to voicemail) after 486")
    );
}

#[test]
fn bad_comparisons_are_usage_errors() {
    for args in [
        &["explain", "301", "999"][..],
        &["explain", "301", "SF001"],
        &["explain", "301", "and", "600"],
        &["explain", "301", "600", "603"],
        &["explain", "099"],
    ] {
        let run = sipflow(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("nothing to explain for"),
            "{}",
            run.stderr
        );
    }
    let run = sipflow(&["explain", "603", "--lang", "de"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("'de' is not en, zh or vi"),
        "{}",
        run.stderr
    );
}

#[test]
fn formats() {
    let run = sipflow(&["explain", "100", "603", "--format", "json", "--lang", "zh"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["lang"], "zh");
    assert_eq!(doc["a"]["code"], 100);
    assert_eq!(doc["a"]["final"], false);
    assert_eq!(doc["b"]["facts"]["scope"], "everywhere");
    assert_eq!(doc["b"]["facts"]["retry"], "never");
    assert_eq!(doc["b"]["class"], "global failure (6xx)");
    assert_eq!(doc["b"]["class_text"], "全局失败 (6xx)");
    assert!(doc["b"]["meaning"].as_str().unwrap().contains("明确拒绝"));
    assert_eq!(doc["difference"]["aspects"][0]["aspect"], "class");
    assert!(doc["which"]["note"].as_str().unwrap().contains("603"));

    let run = sipflow(&[
        "explain", "301", "600", "--format", "markdown", "--lang", "vi",
    ]);
    let md = &run.stdout;
    assert!(
        md.starts_with("# 301 Moved Permanently vs 600 Busy Everywhere\n"),
        "{md}"
    );
    for heading in [
        "\n## 301 Moved Permanently — chuyển hướng (3xx)\n",
        "\n### Mô tả\n",
        "\n### Khi bạn thấy mã này\n",
        "\n### Cách khắc phục\n",
        "\n## Khác biệt chính\n",
        "\n## Khi nào dùng mã nào\n",
        "\n| | 301 Moved Permanently | 600 Busy Everywhere |\n",
    ] {
        assert!(md.contains(heading), "{heading}\n{md}");
    }

    let run = sipflow(&["explain", "603", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["reason"], "Decline");
    assert_eq!(doc["lang"], "en");

    let run = sipflow(&["explain", "--all", "--format", "json", "--lang", "vi"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let codes = doc["codes"].as_array().expect("codes");
    assert_eq!(codes.len(), 75);
    assert!(codes.iter().all(|c| c["lang"] == "vi"));
    let run = sipflow(&["explain", "--all"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("608 Rejected — global failure (6xx)\n"));

    let run = sipflow(&["explain", "SF001", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["name"], "call-object-freed-early");
}

#[test]
fn language_from_flag_and_locale() {
    let english = sipflow(&["explain", "603"]).stdout;
    let (code, zh) = with_locale(&["explain", "603"], &[("LANG", "zh_CN.UTF-8")]);
    assert_eq!(code, 0);
    assert!(zh.contains("\n描述:") && zh.contains("\n如何修复:"), "{zh}");
    let (_, vi) = with_locale(
        &["explain", "603"],
        &[("LC_ALL", "vi_VN.UTF-8"), ("LANG", "zh_CN")],
    );
    assert!(
        vi.contains("\nMô tả:") && vi.contains("\nCách khắc phục:"),
        "{vi}"
    );
    let (_, flag) = with_locale(
        &["explain", "603", "--lang", "en"],
        &[("LANG", "zh_CN.UTF-8")],
    );
    assert_eq!(flag, english);
    let (_, other) = with_locale(&["explain", "603"], &[("LANG", "fr_FR.UTF-8")]);
    assert_eq!(other, english);
    let (_, none) = with_locale(&["explain", "603"], &[]);
    assert_eq!(none, english);
}

#[test]
fn status_explanations_follow_the_language() {
    let log = "fixtures/busy-486/caller.log";
    let (_, calls) = with_locale(&["calls", log, "--lang", "zh"], &[]);
    assert!(
        calls.contains("486 Busy Here: 被叫的用户代理在此位置忙"),
        "{calls}"
    );
    let (_, calls) = with_locale(&["calls", log], &[("LANG", "vi_VN.UTF-8")]);
    assert!(
        calls.contains("486 Busy Here: User agent của người được gọi đang bận"),
        "{calls}"
    );
    let (_, flow) = with_locale(&["flow", log, "--lang", "vi"], &[]);
    assert!(
        flow.contains("\n  486 Busy Here: User agent của người được gọi"),
        "{flow}"
    );
    // JSON: keys and the class identifier stay English, the texts do not.
    let (_, json) = with_locale(&["check", log, "--format", "json", "--lang", "zh"], &[]);
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    let found = doc.to_string();
    assert!(found.contains("\"status_explanation\""), "{found}");
    assert!(
        found.contains("\"class\":\"client error (4xx)\""),
        "{found}"
    );
    assert!(found.contains("被叫的用户代理在此位置忙"), "{found}");
    // Without --lang and with an English locale, nothing changes.
    let (_, en) = with_locale(&["calls", log], &[("LANG", "en_US.UTF-8")]);
    assert_eq!(en, sipflow(&["calls", log]).stdout);
    assert!(en.contains("486 Busy Here: The callee's user agent is busy at this location"));
}

#[test]
fn generated_status_code_docs_are_current() {
    let run = sipflow(&["explain", "--docs", "docs/status-codes", "--check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let dir = std::env::temp_dir().join(format!("sipflow-status-docs-{}", std::process::id()));
    let dir_s = dir.to_string_lossy().into_owned();
    assert_eq!(sipflow(&["explain", "--docs", &dir_s, "--check"]).code, 1);
    assert_eq!(sipflow(&["explain", "--docs", &dir_s]).code, 0);
    std::fs::write(dir.join("999-vs-100.en.md"), "old").expect("write");
    let run = sipflow(&["explain", "--docs", &dir_s, "--check"]);
    assert_eq!(run.code, 1, "orphan page");
    assert!(
        run.stdout.contains("run `sipflow explain --docs"),
        "{}",
        run.stdout
    );
    assert_eq!(sipflow(&["explain", "--docs", &dir_s]).code, 0);
    assert_eq!(sipflow(&["explain", "--docs", &dir_s, "--check"]).code, 0);
    let page = std::fs::read_to_string(dir.join("486-vs-600.zh.md")).expect("page");
    assert!(
        page.contains("## 主要区别") && page.contains("## 何时使用哪个"),
        "{page}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
