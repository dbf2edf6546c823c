//! The HTML report as the page's script draws it, read back from headless Chromium
//! (`--dump-dom`) without Node.js: an environment test (`tests/environment.rs`), ignored without
//! Chromium or `../shared`. The full browser checks are `browser.rs`'.

use super::common::{public_trace, root, sipflow};
use super::needs::{Missing, require, shared_traces};

/// The call list shows the date once, in the column head, and each start as a time with its
/// milliseconds (it was clipped to `2018-07-19 09:53:05.4…`); the full start is the tooltip.
/// Drawn by the page's script in headless Chromium (`--dump-dom`): an environment test
/// (`tests/environment.rs`), ignored without Chromium or `../shared`.
pub fn the_call_list_shows_the_date_once_and_times_with_milliseconds() -> Result<(), Missing> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
    shared_traces("public")?;
    let missing = if std::path::Path::new(&chromium).exists() {
        vec![]
    } else {
        vec![format!(
            "Chromium ({chromium}; set $CHROMIUM to use another)"
        )]
    };
    require(
        "report::the_call_list_shows_the_date_once_and_times_with_milliseconds",
        &missing,
        "apt-get install chromium",
    )?;
    let pcap = public_trace("heplify/sip_ipv4_tcp_fragmented.pcap");
    let dir = root().join("target/report-tests");
    std::fs::create_dir_all(&dir).expect("target/report-tests");
    let out = dir.join("dated-list.html");
    let out_s = out.display().to_string();
    let run = sipflow(&["report", "-o", &out_s, &pcap]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dom = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", out.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains(r#"class="start-head">start (2018-07-19)<"#),
        "no date in the list's head"
    );
    assert!(
        dom.contains(r#"class="start" title="2018-07-19 09:53:05.422">09:53:05.422<"#),
        "the first call's start is not its time with milliseconds"
    );
    Ok(())
}
