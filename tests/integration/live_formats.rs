//! Live input in the text formats other than pjsip: `ngrep -W byline … | sipflow …` or
//! `tail -f kamailio.log | sipflow …` hands on a call's last message when the writer pauses,
//! not when the next text comes, so the call's output arrives while the pipe is still open.

use super::live::{Live, read};

/// `sipflow events -` reading a pipe: `first` written, then (pipe open) the output lines
/// until one contains `needle` (within `live`'s patience: without the pause the call's last
/// message waits for the next part, written only after it), then `second` written and the
/// pipe closed. Returns the lines seen before the second part was written (`None` if
/// `needle` never came) and all the rest.
fn in_two_parts(first: &[u8], needle: &str, second: &[u8]) -> (Option<Vec<String>>, Vec<String>) {
    let mut live = Live::start(&["events"]);
    live.write(first);
    let seen = live.until(needle);
    live.write(second);
    let (rest, code) = live.finish();
    assert_eq!(code, Some(0));
    (seen, rest)
}

/// An ngrep trace of a call (`derived-text/ngrep/`), then another's: the first call's events,
/// down to the 200 OK of its BYE (the last packet, line 129), come before the second trace
/// is written, and none of the second call's.
#[test]
fn an_ngrep_traces_last_packet_is_out_when_the_writer_pauses() {
    let (first, rest) = in_two_parts(
        &read("derived-text/ngrep/pjsua-udp.byline.txt"),
        "\"line\":129,",
        &read("derived-text/ngrep/ipv6.T.byline.txt"),
    );
    let first = first.expect("the first call's last message while the pipe is open");
    assert_eq!(first.len(), 7, "{first:?}");
    assert!(
        first.iter().all(|l| l.contains("127.0.0.1:5411")),
        "{first:?}"
    );
    assert_eq!(rest.len(), 7, "the second call: {rest:?}");
    assert!(rest.iter().all(|l| l.contains("[::1]")), "{rest:?}");
}

/// A Kamailio log (`stacks/kamailio.log`, xlog of a proxied call) written up to the end of the
/// call's last dump (the 200 OK to its BYE, at line 195), then the rest (an OPTIONS):
/// the call's events come before the rest is written.
#[test]
fn a_kamailio_logs_last_dump_is_out_when_the_writer_pauses() {
    let log = read("stacks/kamailio.log");
    let needle: &[u8] = b"received request from udp:127.0.0.1:5753";
    let at = log
        .windows(needle.len())
        .position(|w| w == needle)
        .and_then(|p| log[..p].iter().rposition(|&b| b == b'\n'))
        .map(|p| p + 1)
        .expect("the OPTIONS record");
    let (first, rest) = in_two_parts(&log[..at], "\"line\":195,", &log[at..]);
    let first = first.expect("the call's last message while the pipe is open");
    assert_eq!(first.len(), 12, "{first:?}");
    assert!(first.iter().all(|l| l.contains("\"call\":1")), "{first:?}");
    assert!(rest.iter().any(|l| l.contains("OPTIONS")), "{rest:?}");
}
