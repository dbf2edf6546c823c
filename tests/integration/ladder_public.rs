//! Lanes on public captures of `../shared/traces/public` (run from `tests/environment.rs`,
//! ignored with the reason when the folder is absent): one lane per host on a TCP capture,
//! and lanes named from what each host sent itself.

use super::common::sipflow;
use super::needs::{Missing, shared_traces};

/// The ladders (terminal and HTML data) of a public capture in `../shared/traces/public`,
/// through `sipflow flow` and `sipflow report`.
fn public_ladders(
    rel: &str,
) -> Result<(String, serde_json::Value, Vec<serde_json::Value>), Missing> {
    let capture = shared_traces("public")?.join(rel);
    let capture = capture.to_string_lossy();
    let flow = sipflow(&["flow", &capture]);
    assert_eq!(flow.code, 0, "{}", flow.stderr);
    let page = sipflow(&["report", "-o", "-", &capture]);
    assert_eq!(page.code, 0, "{}", page.stderr);
    let (index, chunks) = super::common::data(&page.stdout);
    Ok((flow.stdout, index, chunks))
}

/// The lanes of every conversation in the report's data: (address, side) per lane.
fn lanes_of(chunks: &[serde_json::Value]) -> Vec<Vec<(String, Option<String>)>> {
    chunks
        .iter()
        .flat_map(|c| c.as_array().cloned().unwrap_or_default())
        .map(|d| {
            d["lanes"]
                .as_array()
                .expect("lanes")
                .iter()
                .map(|l| {
                    (
                        l["addr"].as_str().expect("addr").to_string(),
                        l["side"].as_str().map(str::to_string),
                    )
                })
                .collect()
        })
        .collect()
}

/// One lane per host, not per TCP port: on `heplify/sip_ipv4_tcp_fragmented.pcap` an SBC
/// (10.186.207.1) and two Avaya CMs each listen at 6060 and open connections from ephemeral
/// ports (37398, 60722, 16933, 22600); the first call had four lanes, two per host. Every
/// ladder now has one lane per host, named after its listening port, and each arrow keeps the
/// ports it used (shown in the HTML report's arrow tooltip and message panel). Each lane is
/// named from what its host sent itself: the SBC's "ES FS SBC", the CM's Server header.
pub fn one_lane_per_host_on_a_tcp_capture() -> Result<(), Missing> {
    let (flow, _, chunks) = public_ladders("heplify/sip_ipv4_tcp_fragmented.pcap")?;
    let all = lanes_of(&chunks);
    assert!(!all.is_empty());
    for lanes in &all {
        let mut hosts: Vec<&str> = lanes
            .iter()
            .map(|(a, _)| a.split(':').next().unwrap_or(a))
            .collect();
        hosts.dedup();
        assert_eq!(hosts.len(), lanes.len(), "a host has two lanes: {lanes:?}");
        for (addr, _) in lanes {
            assert!(addr.ends_with(":6060"), "{addr} is not a listening port");
        }
    }
    let sbc = (
        "10.186.207.1:6060".to_string(),
        Some("ES FS SBC".to_string()),
    );
    let cm = (
        "10.186.205.131:6060".to_string(),
        Some("Avaya CM/R016x.03.0.124.0".to_string()),
    );
    assert_eq!(all[0], [sbc, cm]);
    // The INVITE left the SBC from its ephemeral port: the arrow says so.
    let rows = chunks[0][0]["rows"].as_array().expect("rows");
    let invite = rows
        .iter()
        .find(|r| r["label"] == "INVITE")
        .expect("the INVITE");
    assert_eq!(invite["src"], "10.186.207.1:37398");
    assert_eq!(invite["dst"], "10.186.205.131:6060");
    assert_eq!(
        chunks[0][0]["lanes"][0]["endpoints"][0],
        "10.186.207.1:37398"
    );
    // The terminal draws the same two lanes.
    let head = flow
        .lines()
        .find(|l| l.contains("10.186.207.1"))
        .expect("the first ladder's head");
    assert!(
        head.contains("10.186.207.1:6060")
            && head.contains("10.186.205.131:6060")
            && !head.contains(":37398")
            && !head.contains(":16933"),
        "{head}"
    );
    Ok(())
}

/// A lane is named from what its host sent itself. On
/// `sip-rtp-pcap-analyzer/sip-session.pcap` iptel.org's SBC (212.79.111.155) relays a MicroSIP
/// caller's INVITE and BYE with one Via of its own but the caller's `User-Agent:
/// MicroSIP/3.18.5` and the `Max-Forwards` it had left (3 and 15): it is not MicroSIP, and
/// sends nothing that names it, so its lane has no name (both lanes said "MicroSIP"). The
/// callee (10.19.189.1) originates its BYE (one Via, `Max-Forwards: 70`): MicroSIP/3.18.5.
pub fn lanes_are_named_from_what_the_host_sent_itself() -> Result<(), Missing> {
    let (flow, _, chunks) = public_ladders("sip-rtp-pcap-analyzer/sip-session.pcap")?;
    let all = lanes_of(&chunks);
    assert_eq!(
        all[0],
        [
            ("212.79.111.155:5060".to_string(), None),
            (
                "10.19.189.1:54945".to_string(),
                Some("MicroSIP/3.18.5".to_string())
            ),
        ]
    );
    assert_eq!(flow.matches("MicroSIP").count(), 1, "{flow}");
    Ok(())
}
