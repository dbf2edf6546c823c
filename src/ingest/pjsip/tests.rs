//! Tests of the pjsip ingest. Excerpts are copied from real pjsua2 2.15.1 logs (loopback calls,
//! registrations, decor variants); whole fixtures are checked against invariants that hold for
//! any re-recording.

use std::ops::Range;

use super::*;
use crate::event::{Cut, Direction, LogKind, Transport, parse_date};
use crate::sip::{SipMessage, StartLine};
use prefix::Layout;

/// Builds a log the way pjsip writes it: lines starting with `|` are SIP lines and end in CRLF
/// (the `|` is dropped), every other line ends in LF. A leading newline is ignored.
fn pj(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    text.lines()
        .map(|l| match l.strip_prefix('|') {
            Some(sip) => format!("{sip}\r\n"),
            None => format!("{l}\n"),
        })
        .collect()
}

/// What a log yields, collected (the reader hands its events on one by one).
struct PjsipLog {
    events: Vec<Event>,
    dumps: usize,
    truncated: usize,
}

fn parse(text: &[u8], input: usize, opts: &PjsipOptions) -> PjsipLog {
    let mut events = Vec::new();
    let log = super::parse(text, input, opts, &mut |e| events.push(e));
    PjsipLog {
        events,
        dumps: log.dumps,
        truncated: log.truncated,
    }
}

fn run(text: &str) -> PjsipLog {
    parse(text.as_bytes(), 3, &PjsipOptions::default())
}

fn msgs(log: &PjsipLog) -> Vec<&MessageEvent> {
    log.events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            Event::Log(_) => None,
        })
        .collect()
}

fn logs(log: &PjsipLog) -> Vec<&LogEvent> {
    log.events
        .iter()
        .filter_map(|e| match e {
            Event::Log(l) => Some(l),
            Event::Message(_) => None,
        })
        .collect()
}

fn span(e: &Event) -> Range<usize> {
    match &e.origin().locator {
        Locator::Text { span, .. } => span.clone(),
        Locator::Frames(_) => panic!("pjsip events are text"),
    }
}

fn kinds(log: &PjsipLog) -> Vec<LogKind> {
    logs(log).into_iter().map(|l| l.kind.clone()).collect()
}

/// The caller side of a real UDP call (pjsua2 2.15.1, default decor), trimmed.
const CALLER: &str = r"
05:28:17.579           pjsua_core.c  SIP UDP socket reachable at 127.0.0.1:5080
05:28:17.579      udp0x55a2d06c78c0  SIP UDP transport started, published address is 127.0.0.1:5080
05:28:17.580           pjsua_call.c  Making call with acc #0 to sip:callee@127.0.0.1:5070
05:28:17.580          pjsua_media.c  .Call 0: initializing media..
05:28:17.581         sip_endpoint.c  Processing incoming message: Response msg 100/INVITE/cseq=320 (rdata0x55a2d07dbe28)
05:28:17.581           pjsua_core.c  .RX 310 bytes Response msg 100/INVITE/cseq=320 (rdata0x55a2d07dbe28) from UDP 127.0.0.1:5070:
|SIP/2.0 100 Trying
|Via: SIP/2.0/UDP 127.0.0.1:5080;rport=5080;received=127.0.0.1;branch=z9hG4bKPjhZeEsLnH5.sEhxKD5eoJSswpe94yNif7
|Call-ID: tsovfMIH4BJiebJAbSXM9yCX1ozsVyTI
|From: <sip:caller@127.0.0.1>;tag=gQB9eJof2JjtH3Uw0y3JyWw4buq1.SRt
|To: <sip:callee@127.0.0.1>
|CSeq: 320 INVITE
|Content-Length:  0
|

--end msg--
05:28:17.581      tsx0x55a2d07edf98  .Incoming Response msg 100/INVITE/cseq=320 (rdata0x55a2d07dbe28) in state Calling
05:28:17.582      inv0x55a2d07e0b38  ....SDP negotiation done: Success
05:28:17.582           pjsua_core.c  .....TX 353 bytes Request msg ACK/cseq=320 (tdta0x55a2d08068c8) to UDP 127.0.0.1:5070:
|ACK sip:callee@127.0.0.1:5070 SIP/2.0
|Via: SIP/2.0/UDP 127.0.0.1:5080;rport;branch=z9hG4bKPjN1IOriBq45mPWK2YsxPik8FlWH5HPtlK
|Max-Forwards: 70
|From: sip:caller@127.0.0.1;tag=gQB9eJof2JjtH3Uw0y3JyWw4buq1.SRt
|To: sip:callee@127.0.0.1;tag=2gwglktTjBBafA59saNsCTvG3CSAW0Jo
|Call-ID: tsovfMIH4BJiebJAbSXM9yCX1ozsVyTI
|CSeq: 320 ACK
|Content-Length:  0
|

--end msg--
05:28:17.582      udp0x55a2d06c78c0  .....Request msg ACK/cseq=320 (tdta0x55a2d08068c8) sent successfully
05:28:19.076           pjsua_call.c !Call 0 hanging up: code=0..
05:28:19.076          pjsua_media.c  ..
  [CONFIRMED] To: sip:callee@127.0.0.1;tag=2gwglktTjBBafA59saNsCTvG3CSAW0Jo
    Call time: 00h:00m:01s, 1st res in 2 ms, conn in 2ms
";

const RX_100_HEADER: &str = "05:28:17.581           pjsua_core.c  .RX 310 bytes Response msg 100/INVITE/cseq=320 (rdata0x55a2d07dbe28) from UDP 127.0.0.1:5070:";

/// Checks the two dumps of [`CALLER`] however it was wrapped.
fn check_caller_dumps(log: &PjsipLog) {
    assert_eq!((log.dumps, log.truncated), (2, 0));
    let m = msgs(log);
    assert_eq!(m.len(), 2);
    let (rx, tx) = (m[0], m[1]);
    assert_eq!(rx.direction, Some(Direction::Rx));
    assert_eq!(rx.transport, Transport::Udp);
    assert_eq!(rx.src.as_deref(), Some("127.0.0.1:5070"));
    assert_eq!(rx.dst.as_deref(), Some("127.0.0.1:5080"));
    assert_eq!(rx.handle.as_deref(), Some("rdata0x55a2d07dbe28"));
    assert_eq!(
        (rx.declared_len, rx.raw().len(), rx.truncated()),
        (Some(310), 310, false)
    );
    assert!(rx.raw().starts_with(b"SIP/2.0 100 Trying\r\nVia: "));
    assert!(rx.raw().ends_with(b"Content-Length:  0\r\n\r\n"));
    assert_eq!(rx.parsed().and_then(|p| p.status()), Some(100));
    assert_eq!(rx.origin.line(), Some(6));
    assert!(
        rx.ts.to_string().ends_with("05:28:17.581"),
        "pjsip's time, not the wrapper's"
    );
    assert_eq!(tx.direction, Some(Direction::Tx));
    assert_eq!(tx.src.as_deref(), Some("127.0.0.1:5080"));
    assert_eq!(tx.dst.as_deref(), Some("127.0.0.1:5070"));
    assert_eq!(tx.handle.as_deref(), Some("tdta0x55a2d08068c8"));
    assert_eq!(
        (tx.declared_len, tx.raw().len(), tx.truncated()),
        (Some(353), 353, false)
    );
    assert_eq!(tx.parsed().and_then(|p| p.method()), Some("ACK"));
    assert_eq!(tx.origin.line(), Some(19));
}

fn check_caller_evidence(log: &PjsipLog) {
    let l = logs(log);
    let lines: Vec<_> = l.iter().map(|e| e.origin.line()).collect();
    assert_eq!(lines, [Some(3), Some(4), Some(18), Some(32)]);
    assert_eq!(
        kinds(log),
        [
            LogKind::MakingCall {
                account: 0,
                target: "sip:callee@127.0.0.1:5070".into()
            },
            LogKind::CallMediaInit { call: 0 },
            LogKind::SdpNegotiation {
                ok: true,
                detail: "Success".into()
            },
            LogKind::HangingUp { call: 0, code: 0 },
        ]
    );
    assert_eq!(l[3].sender, "pjsua_call.c");
    assert_eq!(l[3].text, "Call 0 hanging up: code=0..");
    assert_eq!(l[2].sender, "inv0x55a2d07e0b38");
    assert!(l[3].ts.to_string().ends_with("05:28:19.076"));
}

#[test]
fn default_decor_dumps_addresses_and_spans() {
    let text = pj(CALLER);
    let log = run(&text);
    check_caller_dumps(&log);
    let m = msgs(&log);
    let rx = &log.events[2];
    assert_eq!(rx.origin().input, 3);
    let s = span(rx);
    assert!(text[s.clone()].starts_with(RX_100_HEADER));
    assert!(text[s].ends_with("\n--end msg--"));
    assert!(
        text[span(&log.events[4])].starts_with("05:28:17.582           pjsua_core.c  .....TX 353")
    );
    assert_eq!(
        m[0].raw(),
        &text.as_bytes()[text.find("SIP/2.0 100").unwrap()..][..310]
    );
}

#[test]
fn default_decor_evidence_lines() {
    let text = pj(CALLER);
    let log = run(&text);
    check_caller_evidence(&log);
    let making = &log.events[0];
    assert_eq!(
        &text[span(making)],
        "05:28:17.580           pjsua_call.c  Making call with acc #0 to sip:callee@127.0.0.1:5070"
    );
    assert!(logs(&log).iter().all(|l| l.errors.is_empty()));
}

// ---- record cap and truncation ----

/// A real INVITE cut by pjsip's 4000-byte record cap (fixture big-invite-cut): no `--end msg--`,
/// the next prefixed line right after the cut.
const CUT: &str = r"
05:38:30.717      tsx0x56300fc60288  ....Temporary failure in sending Request msg INVITE/cseq=31607 (tdta0x56300fc5c368), will try next server: Unsupported transport (PJSIP_EUNSUPTRANSPORT)
05:38:30.717           pjsua_core.c  ....TX 3959 bytes Request msg INVITE/cseq=31607 (tdta0x56300fc5c368) to UDP 127.0.0.1:5190:
|INVITE sip:callee@127.0.0.1:5190 SIP/2.0
|Via: SIP/2.0/UDP 127.0.0.1:5191;rport;branch=z9hG4bKPjyuT8fSo6zSe-x.ounc14-2gS8mIOgLzb
|Max-Forwards: 70
|From: sip:caller@127.0.0.1;tag=mz4sb16G8PQ5nYg0dbad8uLEki8gVPIZ
|To: sip:callee@127.0.0.1
|Contact: <sip:caller@127.0.0.1:5191;ob>
|Call-ID: pR2abMczkMLFc0dZ8hzAFSf0wokz1e3b
|CSeq: 31607 INVITE
|Content-Type: application/sdp
|Content-Length:   622
|
|v=0
|o=- 4004228310 4004228310 IN IP4 127.0.0.1
|s=pjmedia
a=rtp
05:38:30.717      udp0x56300fc4c2b0  ....Request msg INVITE/cseq=31607 (tdta0x56300fc5c368) sent successfully
05:38:30.718           pjsua_call.c  Call 0 hanging up: code=0..
";

#[test]
fn dump_cut_by_record_cap_is_kept_and_marked() {
    let text = pj(CUT);
    let log = run(&text);
    assert_eq!((log.dumps, log.truncated), (1, 1));
    let m = msgs(&log);
    assert!(m[0].truncated());
    assert_eq!(m[0].declared_len, Some(3959));
    assert!(m[0].raw().ends_with(b"s=pjmedia\r\na=rtp"));
    assert_eq!(m[0].origin.line(), Some(2));
    assert!(text[span(&log.events[1])].ends_with("\na=rtp"));
    assert_eq!(m[0].dst.as_deref(), Some("127.0.0.1:5190"));
    // No transport line in the excerpt: the local address is the Via sent-by of the request.
    assert_eq!(m[0].src.as_deref(), Some("127.0.0.1:5191"));
    assert_eq!(
        kinds(&log),
        [
            LogKind::SendFailure,
            LogKind::HangingUp { call: 0, code: 0 }
        ]
    );
    assert_eq!(logs(&log)[0].errors, ["PJSIP_EUNSUPTRANSPORT"]);
    assert_eq!(logs(&log)[1].origin.line(), Some(19));
}

#[test]
fn dump_shorter_than_declared_is_truncated_even_with_end_marker() {
    let text = pj(r"
05:28:17.582           pjsua_core.c  .TX 900 bytes Request msg BYE/cseq=321 (tdta0x55a2d0809828) to UDP 127.0.0.1:5070:
|BYE sip:callee@127.0.0.1:5070 SIP/2.0
|

--end msg--
");
    let log = run(&text);
    assert_eq!((log.dumps, log.truncated), (1, 1));
    assert!(msgs(&log)[0].truncated());
}

#[test]
fn unparsable_and_empty_dumps_are_still_events() {
    let text = pj(r"
05:28:17.582           pjsua_core.c  .TX 12 bytes Request msg BYE/cseq=321 (tdta0x55a2d0809828) to UDP 127.0.0.1:5070:
05:28:17.583           pjsua_core.c  .RX 10 bytes Response msg 200/BYE/cseq=321 (rdata0x55a2d07dbe28) from UDP 127.0.0.1:5070:
garbage!!!
--end msg--
");
    let log = run(&text);
    assert_eq!((log.dumps, log.truncated), (2, 1));
    let m = msgs(&log);
    assert_eq!((m[0].truncated(), m[0].raw()), (true, &b""[..]));
    assert!(m[0].msg.is_err());
    assert_eq!((m[1].truncated(), m[1].raw()), (false, &b"garbage!!!"[..]));
    assert!(m[1].msg.is_err());
}

#[test]
fn dump_header_at_end_of_input() {
    let log = run(
        "05:28:17.582           pjsua_core.c  .TX 353 bytes Request msg ACK/cseq=320 (tdta0x1234567) to UDP 127.0.0.1:5070:",
    );
    assert_eq!((log.dumps, log.truncated, log.events.len()), (1, 1, 1));
}

// ---- decor variants ----

#[test]
fn level_day_name_date_and_thread_columns() {
    // decor = default | LEVEL_TEXT | DAY_NAME | YEAR | MONTH | DAY_OF_MON | THREAD_ID
    let text = pj(r"
DEBUG:Sat 2026-11-21 05:33:13.959      udp0x55eced589e90 thr0x7f20285  SIP UDP transport started, published address is 127.0.0.1:5090
DEBUG:Sat 2026-11-21 05:33:13.959           pjsua_call.c thr0x7f20285  Making call with acc #0 to sip:me@127.0.0.1:5090
 INFO:Sat 2026-11-21 05:33:13.960           pjsua_core.c thr0x7f20285  ....TX 13 bytes Request msg OPTIONS/cseq=1 (tdta0x55eced5f2828) to UDP 127.0.0.1:5091:
|OPTIONS x
|

--end msg--
TRACE:Sat 2026-11-21 05:33:13.961          pjsua_media.c thr0x7f20285 !.Call 1: initializing media..
");
    let log = run(&text);
    assert_eq!(
        Layout::learn(text.as_bytes()),
        Layout {
            sender: 22,
            thread: true
        }
    );
    let l = logs(&log);
    assert_eq!(l[0].ts.to_string(), "2026-11-21 05:33:13.959");
    assert!(l[0].ts.dated);
    assert_eq!(
        (l[0].sender.as_str(), l[0].text.as_str()),
        (
            "pjsua_call.c",
            "Making call with acc #0 to sip:me@127.0.0.1:5090"
        )
    );
    assert_eq!(l[1].kind, LogKind::CallMediaInit { call: 1 });
    let m = msgs(&log);
    assert_eq!(m[0].src.as_deref(), Some("127.0.0.1:5090"));
    assert_eq!(
        (m[0].raw(), m[0].truncated()),
        (&b"OPTIONS x\r\n\r\n"[..], false)
    );
}

#[test]
fn date_parts_without_full_date_are_undated() {
    for prefix in ["2026 ", "2026-11 ", "-21 ", "Sat ", "DEBUG: "] {
        let text = format!(
            "{prefix}05:33:31.174           pjsua_call.c  Making call with acc #0 to sip:a@b\n"
        );
        let log = run(&text);
        let l = logs(&log);
        assert_eq!(l.len(), 1, "{prefix:?}");
        assert_eq!(
            (l[0].ts.to_string(), l[0].ts.dated),
            ("05:33:31.174".into(), false)
        );
    }
}

#[test]
fn sender_column_14_wide_with_cut_names() {
    // 32-bit builds: PJ_LOG_SENDER_WIDTH 14; `udp0x55a2d06c78c0` is cut to 14 bytes.
    let text = pj(r"
05:28:17.579 udp0x55a2d06c7  SIP UDP transport started, published address is 127.0.0.1:5080
05:28:17.580   pjsua_call.c  Making call with acc #0 to sip:callee@127.0.0.1:5070
05:28:17.580   pjsua_core.c  ....TX 9 bytes Request msg ACK/cseq=320 (tdta0x55a2d08068c8) to UDP 127.0.0.1:5070:
|ACK x
|

--end msg--
05:28:17.582 inv0x55a2d07e0  ....SDP negotiation done: Success
");
    let log = run(&text);
    assert_eq!(
        Layout::learn(text.as_bytes()),
        Layout {
            sender: 14,
            thread: false
        }
    );
    assert_eq!(log.dumps, 1);
    assert_eq!(msgs(&log)[0].src.as_deref(), Some("127.0.0.1:5080"));
    let senders: Vec<_> = logs(&log).iter().map(|l| l.sender.clone()).collect();
    assert_eq!(senders, ["pjsua_call.c", "inv0x55a2d07e0"]);
}

#[test]
fn without_micro_sec_with_micro_digits_and_without_sender() {
    let no_ms = run("05:33:20           pjsua_call.c Making call with acc #0 to sip:me@h\n");
    assert_eq!(
        logs(&no_ms)[0].ts.micros,
        ((5 * 60 + 33) * 60 + 20) * 1_000_000
    );
    let micro =
        run("05:28:17.580123           pjsua_call.c  Making call with acc #0 to sip:me@h\n");
    assert_eq!(logs(&micro)[0].ts.micros % 1_000_000, 580_123);
    // decor without SENDER: time, the separator, the thread-switch marker, the text.
    let text = "05:33:48.182  Making call with acc #0 to sip:me@127.0.0.1:5114\n05:33:48.183 !Call 0 hanging up: code=0..\n";
    let log = run(text);
    assert_eq!(Layout::learn(text.as_bytes()).sender, 0);
    assert_eq!(kinds(&log).len(), 2);
    assert_eq!(logs(&log)[1].sender, "");
}

#[test]
fn crlf_decor_and_crlf_converted_file() {
    // PJ_LOG_HAS_CR: `\r\n` ends each record (the dump's end marker), not its inner lines.
    let cr = pj(CALLER)
        .replace("--end msg--\n", "--end msg--\r\n")
        .replace("code=0..\n", "code=0..\r\n");
    check_caller_dumps(&run(&cr));
    check_caller_evidence(&run(&cr));
    // A file whose every `\n` became `\r\n` (Windows text mode): SIP lines end in `\r\r\n`.
    let converted = pj(CALLER).replace('\n', "\r\n");
    check_caller_dumps(&run(&converted));
    check_caller_evidence(&run(&converted));
}

#[test]
fn lf_only_copy_gives_the_same_bytes() {
    // A log copied through a tool that dropped every CR: the dumps are whole and their CRLF
    // line ends come back, so the messages are the recording's, byte for byte.
    let log = run(&pj(CALLER).replace('\r', ""));
    assert_eq!((log.dumps, log.truncated), (2, 0));
    let original = run(&pj(CALLER));
    let raws =
        |log: &PjsipLog| -> Vec<Vec<u8>> { msgs(log).iter().map(|m| m.raw().to_vec()).collect() };
    assert_eq!(raws(&log), raws(&original));
    assert_eq!(msgs(&log)[0].raw().len(), 310);
}

// ---- wrappers ----

fn is_prefixed(line: &str) -> bool {
    line.as_bytes().get(2) == Some(&b':') && line.as_bytes().get(12) == Some(&b' ')
}

/// Puts `wrap(line number)` before the lines `pick` selects.
fn wrap(text: &str, pick: fn(&str) -> bool, wrap: fn(usize) -> String) -> String {
    text.split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| {
            if pick(l) {
                format!("{}{l}", wrap(i))
            } else {
                l.to_string()
            }
        })
        .collect()
}

#[test]
fn android_logcat_wraps_every_line() {
    // logcat splits a record into lines and prefixes each, body lines and end marker included.
    let text = wrap(
        &pj(CALLER),
        |_| true,
        |i| {
            format!(
                "11-21 05:28:{:02}.{:03}  1234  {:4} I pjsua   : ",
                17 + i / 10,
                i * 7 % 1000,
                1250 + i % 3
            )
        },
    );
    let log = run(&text);
    check_caller_dumps(&log);
    check_caller_evidence(&log);
    assert!(
        text[span(&log.events[2])]
            .starts_with("11-21 05:28:17.035  1234  1252 I pjsua   : 05:28:17.581")
    );
    assert!(!log.events[0].ts().dated, "logcat shows no year");
}

#[test]
fn python_logging_wraps_the_first_line_of_each_record() {
    // `logging.basicConfig(format='%(asctime)s %(levelname)s %(name)s: %(message)s')` fed by a
    // pj.LogWriter: one logging call per pjsip record.
    let text = wrap(&pj(CALLER), is_prefixed, |i| {
        format!("2026-11-21 05:28:17,{:03} INFO pjsua: ", 500 + i)
    });
    let log = run(&text);
    check_caller_dumps(&log);
    check_caller_evidence(&log);
    let ts = log.events[0].ts();
    assert_eq!(
        (ts.to_string(), ts.dated),
        ("2026-11-21 05:28:17.580".into(), true)
    );
    // `%(levelname)s:%(name)s:%(message)s`: no date, no space before pjsip's time.
    let text = wrap(&pj(CALLER), is_prefixed, |_| "INFO:pjsua:".into());
    check_caller_dumps(&run(&text));
}

#[test]
fn nslog_and_log4net_wrappers() {
    let text = wrap(&pj(CALLER), is_prefixed, |i| {
        format!("2026-11-21 05:28:17.{:03} App[123:4567] ", i)
    });
    let log = run(&text);
    check_caller_dumps(&log);
    check_caller_evidence(&log);
    assert_eq!(log.events[0].ts().to_string(), "2026-11-21 05:28:17.580");
    let text = wrap(&pj(CALLER), is_prefixed, |i| {
        format!("2026-11-20 05:28:17,{:03} [1] DEBUG Sip.Pjsua - ", i)
    });
    let log = run(&text);
    check_caller_dumps(&log);
    assert_eq!(log.events[0].ts().to_string(), "2026-11-20 05:28:17.580");
}

#[test]
fn many_app_lines_before_pjsip_starts() {
    let app: String = (0..3000)
        .map(|i| {
            format!(
                "2026-11-21 05:27:{:02}.000 App[123:4567] app line {i}\n",
                i % 60
            )
        })
        .collect();
    let nslog = wrap(&pj(CALLER), is_prefixed, |i| {
        format!("2026-11-21 05:28:17.{i:03} App[123:4567] ")
    });
    let log = run(&(app + &nslog));
    assert_eq!((log.dumps, log.truncated), (2, 0));
    let m = msgs(&log);
    let got: Vec<_> = m.iter().map(|m| (m.origin.line(), m.raw().len())).collect();
    assert_eq!(got, [(Some(3006), 310), (Some(3019), 353)]);
}

#[test]
fn ansi_colour_codes() {
    // pjsip's console writer with PJ_LOG_HAS_COLOR: colour set before each record, reset after.
    let text = wrap(&pj(CALLER), is_prefixed, |i| {
        if i % 2 == 0 {
            "\x1b[00;37m\x1b[00;37m".into()
        } else {
            "\x1b[00;37m\x1b[01;37m".into()
        }
    });
    let text = text.replace("--end msg--\n", "--end msg--\x1b[00;37m\n");
    let log = run(&text);
    check_caller_dumps(&log);
    check_caller_evidence(&log);
}

// ---- header variants ----

#[test]
fn header_variants() {
    let text = pj(r"
05:28:17.580           pjsua_core.c  .TX 7 bytes Request msg INVITE/cseq=5/call-id=abc/to=sip:x@y (tdta0x55a2d07eb028) to UDP [::1]:5060:
|A x
|

--end msg--
05:28:17.581           pjsua_core.c  .RX 7 bytes Response msg 603/INVITE/cseq=5 (rdata000001A2B3C4) from udp 10.0.0.1:5060:
|B y
|

--end msg--
05:28:17.582           pjsua_core.c  .TX 7 bytes Request msg BYE/cseq=6 (tdta0x55a2d07eb028) to TLS6 [2001:db8::1]:5061:
|C z
|

--end msg--
");
    let log = run(&text);
    let m = msgs(&log);
    assert_eq!((log.dumps, log.truncated), (3, 0));
    assert_eq!(m[0].dst.as_deref(), Some("[::1]:5060"));
    assert_eq!(m[0].handle.as_deref(), Some("tdta0x55a2d07eb028"));
    assert_eq!(m[1].transport, Transport::Udp);
    assert_eq!(m[1].src.as_deref(), Some("10.0.0.1:5060"));
    assert_eq!(m[1].handle.as_deref(), Some("rdata000001A2B3C4"));
    assert_eq!(
        (m[2].transport, m[2].dst.as_deref()),
        (Transport::Tls, Some("[2001:db8::1]:5061"))
    );
    assert!(m.iter().all(|m| m.raw().len() == 7));
}

#[test]
fn ipv6_published_address_picks_the_family() {
    let text = pj(r"
05:36:14.211      udp0x555697e91a60  SIP UDP transport started, published address is 127.0.0.1:5241
05:36:14.211    udpv60x555697e91a60  SIP UDP IPv6 transport started, published address is [::1]:5241
05:36:14.212           pjsua_core.c  ....TX 5 bytes Request msg INVITE/cseq=28879 (tdta0x555697fb51b8) to UDP [::1]:5240:
|x y

--end msg--
05:36:14.212           pjsua_core.c  ....TX 5 bytes Request msg INVITE/cseq=28879 (tdta0x555697fb51b8) to UDP 127.0.0.1:5240:
|x y

--end msg--
");
    let m = msgs(&run(&text))
        .iter()
        .map(|m| m.src.as_deref().map(str::to_string))
        .collect::<Vec<_>>();
    assert_eq!(
        m,
        [
            Some("[::1]:5241".to_string()),
            Some("127.0.0.1:5241".to_string())
        ]
    );
}

// ---- local addresses ----

/// Real TCP transport lines (fixture tcp-call), the connection line after the dump.
const TCP: &str = r"
05:34:29.812             tcptp:5170  SIP TCP listener ready for incoming connections at 127.0.0.1:5170
05:34:30.329             tcptp:5170  TCP listener 127.0.0.1:5170: got incoming TCP connection from 127.0.0.1:49561, sock=5
05:34:30.329           pjsua_core.c  .RX 5 bytes Request msg INVITE/cseq=1506 (rdata0x5630e470a630) from TCP 127.0.0.1:49561:
|x y

--end msg--
05:34:30.330           pjsua_core.c  .....TX 5 bytes Request msg INVITE/cseq=1 (tdta0x5630e4724d48) to TCP 127.0.0.1:5300:
|x y

--end msg--
05:34:30.331     tcpc0x55df8958a768  TCP transport 127.0.0.1:49999 is connected to 127.0.0.1:5300
05:34:30.332     tcpc0x55df8958dbe8  .TCP transport 127.0.0.1:48759 is connecting to 127.0.0.1:5171...
05:34:30.333           pjsua_core.c  .....TX 5 bytes Request msg INVITE/cseq=2 (tdta0x5630e4724d48) to TCP 127.0.0.1:5171:
|x y

--end msg--
05:34:30.334           pjsua_core.c  .....TX 5 bytes Request msg INVITE/cseq=3 (tdta0x5630e4724d48) to TCP 127.0.0.1:7777:
|x y

--end msg--
";

#[test]
fn tcp_local_addresses_from_connection_lines() {
    let log = run(&pj(TCP));
    let pairs: Vec<_> = msgs(&log)
        .iter()
        .map(|m| (m.src.clone().unwrap(), m.dst.clone().unwrap()))
        .collect();
    let want = [
        ("127.0.0.1:49561", "127.0.0.1:5170"),
        ("127.0.0.1:49999", "127.0.0.1:5300"),
        ("127.0.0.1:48759", "127.0.0.1:5171"),
        // No connection line for this peer: the listener's address.
        ("127.0.0.1:5170", "127.0.0.1:7777"),
    ];
    let pairs: Vec<_> = pairs.iter().map(|(s, d)| (&**s, &**d)).collect();
    assert_eq!(pairs, want);
    // Besides the messages, only the outgoing connections' lines are events (for
    // `slow-transport-connect`); the listener's lines are not.
    let connects: Vec<_> = log
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Log(l) => match &l.kind {
                LogKind::TransportConnect {
                    peer, connected, ..
                } => Some((peer.as_str(), *connected)),
                _ => None,
            },
            Event::Message(_) => None,
        })
        .collect();
    assert_eq!(
        connects,
        [("127.0.0.1:5300", true), ("127.0.0.1:5171", false)]
    );
    assert_eq!(
        log.events
            .iter()
            .filter(|e| matches!(e, Event::Log(_)))
            .count(),
        2
    );
}

#[test]
fn local_address_from_the_messages_when_the_log_shows_none() {
    let text = pj(r"
05:28:17.581           pjsua_core.c  .RX 52 bytes Request msg OPTIONS/cseq=1 (rdata0x55e4265a5e28) from UDP 10.0.0.9:5060:
|OPTIONS sip:me@10.0.0.1 SIP/2.0
|CSeq: 1 OPTIONS
|

--end msg--
05:28:17.582           pjsua_core.c  .TX 92 bytes Response msg 200/OPTIONS/cseq=1 (tdta0x55e4265c1cf8) to UDP 10.0.0.9:5060:
|SIP/2.0 200 OK
|Contact: <sip:me@[2001:db8::5]:5072>
|CSeq: 1 OPTIONS
|Content-Length: 0
|

--end msg--
05:28:17.583           pjsua_core.c  .RX 78 bytes Response msg 200/OPTIONS/cseq=2 (rdata0x55e4265a5e28) from UDP 10.0.0.9:5060:
|SIP/2.0 200 OK
|Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1
|CSeq: 2 OPTIONS
|

--end msg--
");
    let log = run(&text);
    let m = msgs(&log);
    assert!(m.iter().all(|m| !m.truncated()));
    // RX request: nothing in it names us; the first address found for UDP is used.
    assert_eq!(m[0].dst.as_deref(), Some("[2001:db8::5]:5072"));
    assert_eq!(m[1].src.as_deref(), Some("[2001:db8::5]:5072"));
    assert_eq!(m[2].dst.as_deref(), Some("10.0.0.1:5060"));
}

// ---- evidence table ----

#[test]
fn every_evidence_kind() {
    let cases: &[(&str, LogKind)] = &[
        (
            "Answering call 0: code=200",
            LogKind::Answering { call: 0, code: 200 },
        ),
        (
            "Pending answering call 0 upon completion of media transport",
            LogKind::PendingAnswer { call: 0 },
        ),
        (
            "Call 2 hanging up: code=603..",
            LogKind::HangingUp { call: 2, code: 603 },
        ),
        (
            "Call 1 processing pending hangup: code=487..",
            LogKind::PendingHangup { call: 1, code: 487 },
        ),
        (
            "Delaying BYE request until ACK is received",
            LogKind::DelayingBye,
        ),
        (
            "Making call with acc #1 to \"Bob\" <sip:bob@example.com>",
            LogKind::MakingCall {
                account: 1,
                target: "\"Bob\" <sip:bob@example.com>".into(),
            },
        ),
        (
            "Call 0 state changed to EARLY (180 Ringing)",
            LogKind::CallState {
                call: 0,
                state: "EARLY".into(),
                reason: Some("180 Ringing".into()),
            },
        ),
        (
            "Call 0 state changed to CONFIRMED",
            LogKind::CallState {
                call: 0,
                state: "CONFIRMED".into(),
                reason: None,
            },
        ),
        (
            "Call 3 is DISCONNECTED [reason=487 (Request Terminated)]",
            LogKind::CallState {
                call: 3,
                state: "DISCONNECTED".into(),
                reason: Some("487 (Request Terminated)".into()),
            },
        ),
        (
            "Call 0: initializing media..",
            LogKind::CallMediaInit { call: 0 },
        ),
        (
            "SDP negotiation done: Success",
            LogKind::SdpNegotiation {
                ok: true,
                detail: "Success".into(),
            },
        ),
        (
            "SDP negotiation has failed: No suitable codec for remote offer (PJMEDIA_SDPNEG_NOANSCODEC)",
            LogKind::SdpNegotiation {
                ok: false,
                detail: "No suitable codec for remote offer (PJMEDIA_SDPNEG_NOANSCODEC)".into(),
            },
        ),
        (
            "sip:alice@127.0.0.1: registration success, status=200 (OK), will re-register in 300 seconds",
            LogKind::Registration {
                ok: true,
                status: Some(200),
            },
        ),
        (
            "sip:alice@127.0.0.1: unregistration success",
            LogKind::Registration {
                ok: true,
                status: None,
            },
        ),
        (
            "SIP registration failed, status=403 (Forbidden)",
            LogKind::Registration {
                ok: false,
                status: Some(403),
            },
        ),
        (
            "SIP registration error: Maximum number of stale retries exceeded (PJSIP_EAUTHSTALECOUNT) [status=171111]",
            LogKind::Registration {
                ok: false,
                status: None,
            },
        ),
        (
            "SIP registration error: Request Timeout [status=170408]",
            LogKind::Registration {
                ok: false,
                status: Some(408),
            },
        ),
        (
            "Deleting account 0..",
            LogKind::AccountDeleted { account: 0 },
        ),
        (
            "Temporary failure in sending Request msg INVITE/cseq=3401 (tdta0x5555f7f84888), will try next server: Unsupported transport (PJSIP_EUNSUPTRANSPORT)",
            LogKind::SendFailure,
        ),
        (
            "Failed to send Request msg INVITE/cseq=20465 (tdta0x562019ea3718)! err=171064 (Unsuitable transport selected (PJSIP_ETPNOTSUITABLE))",
            LogKind::SendFailure,
        ),
        (
            "Calling pjlib from unknown/external thread. You must register external threads",
            LogKind::ExternalThread,
        ),
        (
            "Error opening sound device: Unable to find default audio device (PJMEDIA_EAUD_NODEFDEV)",
            LogKind::SoundDevice,
        ),
        (
            "Unhandled redirection for call 4 (callback not implemented by application). Disconnecting call.",
            LogKind::UnhandledRedirection { call: Some(4) },
        ),
        (
            "Authorization failed for alice@test: maximum number of stale retries exceeded",
            LogKind::AuthFailed,
        ),
        (
            "Unable to accept incoming call (too many calls)",
            LogKind::TooManyCalls,
        ),
        (
            "Error making call: Too many objects of the specified type (PJ_ETOOMANY)",
            LogKind::TooManyCalls,
        ),
        (
            "TCP transport destroyed with reason 70016: End of file (PJ_EEOF)",
            LogKind::PjError {
                name: "PJ_EEOF".into(),
            },
        ),
    ];
    let text: String = cases
        .iter()
        .map(|(t, _)| format!("05:28:17.580           pjsua_call.c  ..{t}\n"))
        .collect();
    let log = run(&text);
    let want: Vec<_> = cases.iter().map(|c| c.1.clone()).collect();
    assert_eq!(kinds(&log), want);
    let l = logs(&log);
    assert!(l.iter().zip(1..).all(|(e, n)| e.origin.line() == Some(n)));
    assert_eq!(l[11].errors, ["PJMEDIA_SDPNEG_NOANSCODEC"]);
    assert_eq!(l[15].errors, ["PJSIP_EAUTHSTALECOUNT"]);
    assert_eq!(l[19].errors, ["PJSIP_ETPNOTSUITABLE"]);
    assert_eq!(l[25].errors, ["PJ_ETOOMANY"]);
}

#[test]
fn chatter_lines_are_not_events() {
    let text = pj(r"
05:28:17.578         sip_endpoint.c  .Module mod-msg-print registered
05:28:17.580           pjsua_call.c  Call 0: deinitializing media..
05:28:17.580           pjsua_call.c  Call 0: re-initializing media..
05:28:17.580      inv0x55a2d07e0b38  ......State changed from NULL to CALLING, event=TSX_STATE
05:28:17.581         sip_endpoint.c  Processing incoming message: Response msg 100/INVITE/cseq=320 (rdata0x55a2d07dbe28)
05:28:17.581           pjsua_core.c  SIP UDP socket reachable at 127.0.0.1:5080
05:28:17.582            pjsua_acc.c  Acc 0: Registration sent
05:28:17.583            pjsua_acc.c  Acc 0: Unregistration sent
");
    assert!(run(&text).events.is_empty());
}

#[test]
fn foreign_lines_use_the_last_record_time() {
    let text = "05:28:19.076           pjsua_call.c  Call 0: deinitializing media..\n\
python3: ../src/pj/os_core_unix.c:694: pj_thread_this: Assertion `!\"Calling pjlib from unknown/external thread. You must register external threads\"' failed.\n";
    let log = run(text);
    let l = logs(&log);
    assert_eq!(
        (l[0].kind.clone(), l[0].sender.as_str()),
        (LogKind::ExternalThread, "")
    );
    assert_eq!(
        (l[0].origin.line(), l[0].ts.to_string()),
        (Some(2), "05:28:19.076".into())
    );
}

// ---- time ----

#[test]
fn midnight_rollover_bumps_the_day() {
    let text = "23:59:59.990           pjsua_call.c  Call 0 hanging up: code=0..\n\
23:59:59.980           pjsua_call.c  Call 1 hanging up: code=0..\n\
00:00:00.010           pjsua_call.c  Call 2 hanging up: code=0..\n";
    let log = run(text);
    let ts: Vec<_> = log.events.iter().map(|e| e.ts().to_string()).collect();
    assert_eq!(ts, ["23:59:59.990", "23:59:59.980", "00:00:00.010+1d"]);
    let dated = parse(
        text.as_bytes(),
        0,
        &PjsipOptions {
            date: parse_date("2026-11-21"),
        },
    );
    let ts: Vec<_> = dated.events.iter().map(|e| e.ts().to_string()).collect();
    assert_eq!(
        ts,
        [
            "2026-11-21 23:59:59.990",
            "2026-11-21 23:59:59.980",
            "2026-11-22 00:00:00.010"
        ]
    );
    assert!(dated.events.iter().all(|e| e.ts().dated));
}

// ---- sniff ----

#[test]
fn sniff_pjsip_not_raw_sip() {
    assert!(sniff(pj(CALLER).as_bytes()));
    assert!(sniff(RX_100_HEADER.as_bytes()));
    let chatter = "05:28:17.578         os_core_unix.c !pjlib 2.15.1 for POSIX initialized\n\
05:28:17.578         sip_endpoint.c  .Creating endpoint instance...\n";
    assert!(sniff(chatter.as_bytes()));
    // One record in pjsip's own columns is enough (a one-line quote in an issue); its time alone
    // is not.
    assert!(sniff(&chatter.as_bytes()[..80]));
    assert!(!sniff(&chatter.as_bytes()[..30]));
    let raw_sip = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060\r\nDate: Sat, 21 Nov 2026 05:28:17 GMT\r\n\r\n";
    assert!(!sniff(raw_sip.as_bytes()));
    assert!(!sniff(b""));
    assert!(!sniff(&[0xff, 0x00, 0x1b]));
}

// ---- robustness ----

#[test]
fn never_panics_on_hostile_input() {
    let mut nasty: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\n\n\r\n".to_vec(),
        b"05:28:17.580           pjsua_core.c  .TX 99999999999999999999999 bytes Request msg A (tdta0x1234567) to UDP 1.2.3.4:5:\nA\n".to_vec(),
        b"05:28:17.580           pjsua_core.c  .RX 18446744073709551615 bytes Response msg 1 (x) from UDP 1:\nA\n--end msg--\n".to_vec(),
        b"99:99:99.999           pjsua_core.c  Making call with acc #99999999999 to x\n".to_vec(),
        b"05:28:17.580           pjsua_call.c  \xff\xfe Call 0 hanging up\x00: code=0..\n\x00\x00\xff".to_vec(),
        b"\x1b[\x1b[1;2;3\x1b05:28:17.580  \x1b[m         pjsua_call.c  Answering call 1: code=99999999\n".to_vec(),
    ];
    let mut long = b"05:28:17.580           pjsua_call.c  Making call with acc #0 to ".to_vec();
    long.resize(4 << 20, b'x');
    nasty.push(long);
    let mut body = format!("{RX_100_HEADER}\n").into_bytes();
    body.extend(std::iter::repeat_n(b"\xffgarbage line\x00\n".as_slice(), 20_000).flatten());
    nasty.push(body);
    for text in &nasty {
        let log = parse(
            text,
            0,
            &PjsipOptions {
                date: Some(i64::MAX),
            },
        );
        assert!(log.truncated <= log.dumps);
        let _ = sniff(text);
    }
    let log = parse(&nasty[2], 0, &PjsipOptions::default());
    assert_eq!((log.dumps, msgs(&log)[0].declared_len), (1, None));
    // A dump that never ends stops at its declared size plus slack; the rest is ordinary lines.
    let log = parse(nasty.last().unwrap(), 0, &PjsipOptions::default());
    assert_eq!((log.dumps, log.truncated), (1, 1));
    assert!(msgs(&log)[0].raw().len() < 8 * 1024);
}

// ---- real fixtures ----

/// Headers counted independently of the parser: `TX`/`RX` token, byte count, `bytes`, `msg` info.
fn header_directions(text: &[u8]) -> Vec<Direction> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let i = w.iter().position(|t| *t == "bytes")?;
            let ok = i >= 2 && w[i - 1].parse::<usize>().is_ok() && w.get(i + 2) == Some(&"msg");
            let dir = w.get(i.checked_sub(2)?)?.trim_start_matches(['.', '!']);
            match (ok, dir) {
                (true, "TX") => Some(Direction::Tx),
                (true, "RX") => Some(Direction::Rx),
                _ => None,
            }
        })
        .collect()
}

/// What holds for any real pjsua2 log: every dump found, in order, with both addresses, every
/// complete dump exactly its declared size and a valid SIP message.
fn check_fixture(name: &str, text: &[u8]) -> PjsipLog {
    assert!(sniff(text), "{name}");
    let log = parse(text, 0, &PjsipOptions::default());
    let m = msgs(&log);
    let dirs: Vec<_> = m.iter().filter_map(|m| m.direction).collect();
    assert_eq!(dirs, header_directions(text), "{name}");
    assert_eq!(log.dumps, m.len(), "{name}");
    for m in &m {
        assert!(
            m.src.is_some() && m.dst.is_some() && m.handle.is_some(),
            "{name} {:?}",
            m.origin
        );
        if !m.truncated() {
            assert_eq!(m.declared_len, Some(m.raw().len()), "{name} {:?}", m.origin);
            assert!(m.msg.is_ok(), "{name} {:?}", m.origin);
        }
    }
    let layout = Layout::learn(text);
    let starts = log.events.iter().all(|e| {
        let first = text.get(span(e)).and_then(|t| Lines::new(t).next());
        first.is_some_and(|l| layout.parse(&clean_head(l.bytes)).is_some())
    });
    assert!(starts, "{name}: every span starts at a prefixed line");
    log
}

macro_rules! fixture {
    ($path:literal) => {
        (
            $path,
            include_bytes!(concat!("../../../fixtures/", $path)).as_slice(),
        )
    };
}

/// Every recorded pjsua2 log, with the number of dumps its scenario cuts.
const FIXTURES: &[((&str, &[u8]), usize)] = &[
    (fixture!("basic-call/caller.log"), 0),
    (fixture!("basic-call/callee.log"), 0),
    (fixture!("tcp-call/caller.log"), 0),
    (fixture!("tcp-call/callee.log"), 0),
    (fixture!("ipv6-call/caller.log"), 0),
    (fixture!("cancel-ringing/callee.log"), 0),
    (fixture!("register-401/ua.log"), 0),
    (fixture!("register-403/ua.log"), 0),
    (fixture!("big-invite-cut/caller.log"), 1),
    (fixture!("decor-variants/date-dayname/caller.log"), 0),
    (fixture!("decor-variants/thread-level/callee.log"), 0),
    (fixture!("decor-variants/full-color/caller.console.log"), 0),
];

#[test]
fn recorded_fixtures() {
    for ((name, text), truncated) in FIXTURES {
        let log = check_fixture(name, text);
        assert_eq!(log.truncated, *truncated, "{name}");
    }
    let get = |name: &str| {
        FIXTURES
            .iter()
            .find(|f| f.0.0 == name)
            .map(|f| f.0.1)
            .unwrap()
    };
    let basic = parse(get("basic-call/caller.log"), 0, &PjsipOptions::default());
    assert!(kinds(&basic).contains(&LogKind::CallMediaInit { call: 0 }));
    // The caller listens on 5171 but talks from its outgoing connection's port.
    let tcp = parse(get("tcp-call/caller.log"), 0, &PjsipOptions::default());
    let local = |m: &&MessageEvent| {
        if m.direction == Some(Direction::Tx) {
            m.src.clone()
        } else {
            m.dst.clone()
        }
    };
    assert!(
        msgs(&tcp).iter().all(|m| m.transport == Transport::Tcp
            && local(m).is_some_and(|l| &l[..] != "127.0.0.1:5171"))
    );
    let v6 = parse(get("ipv6-call/caller.log"), 0, &PjsipOptions::default());
    assert!(
        msgs(&v6)
            .iter()
            .all(|m| local(m).is_some_and(|a| a.starts_with("[::1]:")))
    );
    let reg = parse(get("register-401/ua.log"), 0, &PjsipOptions::default());
    assert!(kinds(&reg).contains(&LogKind::Registration {
        ok: true,
        status: Some(200)
    }));
    let reg = parse(get("register-403/ua.log"), 0, &PjsipOptions::default());
    assert!(kinds(&reg).contains(&LogKind::Registration {
        ok: false,
        status: Some(403)
    }));
    let dated = parse(
        get("decor-variants/date-dayname/caller.log"),
        0,
        &PjsipOptions::default(),
    );
    assert!(dated.events.iter().all(|e| e.ts().dated));
    let thread = get("decor-variants/thread-level/callee.log");
    assert_eq!(
        Layout::learn(thread),
        Layout {
            sender: 22,
            thread: true
        }
    );
}

// ---- pieces ----

#[test]
fn wrapper_shape_generalises_digits_and_padding() {
    let shape = line::Shape::of(b"11-21 05:28:17.580  1234  1250 I pjsua   : ").unwrap();
    assert_eq!(
        shape.strip(b"11-21 05:28:17.6 12345 9 I pjsua : Via: x"),
        Some(&b"Via: x"[..])
    );
    assert_eq!(
        shape.strip(b"11-21 05:28:17.600  1234  1250 I pjsua   :"),
        Some(&b""[..])
    );
    assert_eq!(shape.strip(b"Via: x"), None);
    assert_eq!(
        shape.strip(b"11-21 05:28:17.600  1234  1250 W pjsua   : x"),
        None
    );
    assert!(line::Shape::of(b"").is_none());
}

#[test]
fn start_line_of_a_dump_is_parsed_by_the_sip_module() {
    let log = run(&pj(CALLER));
    let start = msgs(&log)[1].parsed().map(|p| p.start_line().clone());
    assert!(matches!(start, Some(StartLine::Request { method, .. }) if method == "ACK"));
}

/// Read piece by piece ([`Parser`], whole lines at a time), every recorded log gives exactly the
/// events of reading it whole: with one line per piece, and with pieces of about 1 KiB.
#[test]
fn pieces_give_the_events_of_the_whole_log() {
    for ((name, text), _) in FIXTURES {
        let whole = format!("{:?}", parse(text, 2, &PjsipOptions::default()).events);
        for piece in [1, 1024] {
            let mut events = Vec::new();
            let mut emit = |e| events.push(e);
            let mut parser = Parser::new(text, 2, &PjsipOptions::default(), &mut emit);
            let mut rest: &[u8] = text;
            while !rest.is_empty() {
                // Whole lines of at least `piece` bytes (or what is left).
                let end = rest
                    .iter()
                    .skip(piece.min(rest.len()) - 1)
                    .position(|&b| b == b'\n')
                    .map_or(rest.len(), |p| p + piece.min(rest.len()));
                parser.feed(&rest[..end]);
                rest = &rest[end..];
            }
            let log = parser.finish();
            assert_eq!(format!("{events:?}"), whole, "{name}, pieces of {piece}");
            assert!(log.dumps > 0, "{name}");
        }
    }
}

/// The quick paths of [`Layout::parse`] (the colon prefilter and the hand-read leading time)
/// give what the regex search gives, on every line of every recorded log (decor variants and
/// wrapped logs included), for every column layout.
#[test]
fn the_quick_prefix_paths_agree_with_the_regex_search() {
    let mut prefixed = 0;
    for ((name, text), _) in FIXTURES {
        for line in Lines::new(text) {
            let clean = clean_head(line.bytes);
            for sender in [22, 14, 0] {
                for thread in [false, true] {
                    let layout = Layout { sender, thread };
                    let quick = layout.parse(&clean);
                    assert_eq!(quick, layout.search(&clean), "{name}: {:?}", line.bytes);
                    prefixed += usize::from(quick.is_some());
                }
            }
        }
    }
    assert!(prefixed > 1000, "{prefixed}");
}

// ---- logs as people paste them (issue 13) ----

/// A real excerpt of `tests/real-world/logs/` (not held out), without its `# Source:` line.
macro_rules! excerpt {
    ($name:literal) => {{
        let text: &[u8] = include_bytes!(concat!("../../../tests/real-world/logs/", $name));
        let at = text.iter().position(|&b| b == b'\n').map_or(0, |p| p + 1);
        &text[at..]
    }};
}

/// A real excerpt of `fixtures/pjsip-decors/`, without its `# Source:` line.
macro_rules! decor {
    ($name:literal) => {{
        let text: &[u8] = include_bytes!(concat!("../../../fixtures/pjsip-decors/", $name));
        let at = text.iter().position(|&b| b == b'\n').map_or(0, |p| p + 1);
        &text[at..]
    }};
}

fn read(text: &[u8]) -> PjsipLog {
    assert!(sniff(text), "sniffed as a pjsip log");
    parse(text, 0, &PjsipOptions::default())
}

fn time_of(e: &MessageEvent) -> String {
    e.ts.to_string()
}

#[test]
fn crlf_original_and_lf_copy_give_the_same_messages() {
    // The derived "same bytes" property on whole recordings: a paste that lost every CR gives
    // the recording's messages, byte for byte, and none of them is cut.
    for ((name, text), _) in FIXTURES {
        let lf: Vec<u8> = text.iter().copied().filter(|&b| b != b'\r').collect();
        let (a, b) = (read(text), read(&lf));
        let raws =
            |l: &PjsipLog| -> Vec<Vec<u8>> { msgs(l).iter().map(|m| m.raw().to_vec()).collect() };
        assert_eq!(raws(&a), raws(&b), "{name}");
        let cuts = |l: &PjsipLog| -> Vec<Option<Cut>> { msgs(l).iter().map(|m| m.cut).collect() };
        assert_eq!(cuts(&a), cuts(&b), "{name}");
    }
}

#[test]
fn doubled_line_ends_are_undone_and_the_blank_line_before_the_body_found() {
    // iOS NSLog: every message line followed by a blank line, the runs of blanks collapsed.
    let log = read(excerpt!(
        "pj-nat64-4-ipv6-tls-invite-nslog-doubled-newlines.log"
    ));
    let m = msgs(&log);
    assert_eq!((m.len(), m[0].cut), (1, None));
    let msg = m[0].parsed().expect("the INVITE parses");
    assert_eq!(msg.method(), Some("INVITE"));
    // The body is exactly its Content-Length; headers and body CRLF, no doubled line.
    let raw = m[0].raw();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("blank line")
        + 4;
    assert_eq!(raw.len() - split, 346);
    assert!(raw[split..].starts_with(b"v=0\r\no=- 3679243150"));
    assert!(!raw.windows(4).skip(split).any(|w| w == b"\r\n\r\n"));
    assert_eq!(m[0].transport, Transport::Tls);
    // pjsip before 2.8 printed an IPv6 peer without brackets.
    assert_eq!(m[0].dst.as_deref(), Some("[64:ff9b::c308:60ac]:5061"));
    assert_eq!(time_of(m[0]), "2016-08-03 15:59:10.365");
}

#[test]
fn a_lost_blank_line_at_the_end_of_a_bodyless_message_comes_back() {
    // The paste kept one of the two blank lines before `--end msg--`; the declared size shows
    // the header block's end was lost, nothing else.
    let log = read(excerpt!("voiceip-tinyphone-37-call-drops-on-answer-a.log"));
    let m = msgs(&log);
    let got: Vec<_> = m
        .iter()
        .map(|m| (m.declared_len, m.raw().len(), m.cut, m.msg.is_ok()))
        .collect();
    assert_eq!(
        got,
        [(Some(412), 412, None, true), (Some(455), 455, None, true)]
    );
    assert!(m[0].raw().ends_with(b"Content-Length:  0\r\n\r\n"));
    // Windows handles without `0x`.
    assert_eq!(m[0].handle.as_deref(), Some("tdta039500D4"));
    assert_eq!(m[1].handle.as_deref(), Some("rdata0388005C"));
}

#[test]
fn an_excerpt_that_starts_inside_a_dump_reads_no_tail() {
    // Tail lines and their end marker: the input's edge, no event; the next dumps are read.
    let log = read(excerpt!(
        "64characters-telephone-643-register-408-timeout.log"
    ));
    let m = msgs(&log);
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].origin.line(), Some(5));
    // Masked addresses make the text shorter than declared; its end marker shows it is whole.
    assert_eq!((m[0].cut, m[0].msg.is_ok()), (None, true));
    // The excerpt ends inside the second.
    // The excerpt ends inside the second, in a line that is not yet a header.
    assert_eq!(m[1].cut, Some(Cut::InputEdge));
    assert!(
        m[1].raw()
            .ends_with(b";tag=OxohPVt8vhw96rzHd.m8jL-Ldt0wwoE6")
    );
    // A log that is only a tail is still a pjsip log, with nothing to read.
    let tail = b"a=sendrecv\n\n--end msg--\n";
    assert!(sniff(tail));
    assert!(read(tail).events.is_empty());
}

#[test]
fn a_fragment_without_time_takes_the_next_time_and_is_cut_by_the_input() {
    // ` pjsua_core.c  ....TX 342 bytes …` quoted with a leading space and no time, then one line
    // of the message, then another record: the dump waits for its next line until the input
    // ends.
    let log = read(excerpt!("pjproject-2484-603-decline-tx.log"));
    let m = msgs(&log);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].cut, Some(Cut::InputEdge));
    assert_eq!(m[0].raw(), b"SIP/2.0 603 Decline");
    assert_eq!(m[0].parsed().and_then(|p| p.status()), Some(603));
    assert_eq!(m[0].direction, Some(Direction::Tx));
    assert_eq!(time_of(m[0]), "10:53:07.261");
    // In file order: the TX before the line quoted after it.
    assert!(matches!(log.events[0], Event::Message(_)));
    assert_eq!(kinds(&log), [LogKind::HangingUp { call: 0, code: 0 }]);
}

#[test]
fn a_header_without_its_message_is_cut_by_the_input_not_by_pjsip() {
    let log = read(excerpt!("pjproject-2950-answer-vs-ack-race.log"));
    let m = msgs(&log);
    assert_eq!(
        (m.len(), m[0].cut, m[0].raw()),
        (1, Some(Cut::InputEdge), &b""[..])
    );
    assert_eq!(log.truncated, 1);
    // It keeps its place among the lines quoted after it.
    let lines: Vec<_> = log.events.iter().map(|e| e.origin().line()).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
}

#[test]
fn a_collapsed_paste_is_read_back_at_well_known_header_names() {
    // The paste joined lines with spaces (and broke one mid-word, `SUBS`/`CRIBE`): the header
    // is found mid-line, the start line ends at ` SIP/2.0 `, each header starts at ` Name: ` of
    // a well-known name; the message is marked as rebuilt, and Damaged (its bytes may differ).
    let log = read(excerpt!("pjproject-3106-488-invite-collapsed-newlines.log"));
    let m = msgs(&log);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].direction, Some(Direction::Tx));
    assert_eq!(m[0].dst.as_deref(), Some("192.168.1.107:5060"));
    assert_eq!(time_of(m[0]), "00:00:07.167");
    assert_eq!(m[0].cut, Some(Cut::Damaged));
    let p = m[0].parsed().expect("recovered");
    assert_eq!(p.request_uri(), Some("sip:101@192.168.1.107:5060"));
    let names: Vec<String> = p
        .headers()
        .iter()
        .map(|h| p.header_name(h).into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "Via",
            "Max-Forwards",
            "From",
            "To",
            "Contact",
            "Call-ID",
            "CSeq",
            "Allow",
            "Supported",
            "Session-Expires",
            "Min-SE",
            "Content-Type",
            "Content-Length"
        ]
    );
    assert_eq!(
        p.call_id().as_deref(),
        Some("x0KxpFxEc0Nwo7ZXf7gOEBHbNGYngf4Q")
    );
    assert_eq!(
        p.first(crate::sip::HeaderName::Allow).as_deref(),
        Some("PRACK, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, SUBSCRIBE, NOTIFY, REFER, OPTIONS")
    );
    assert!(p.body().starts_with(b"v=0 o=- 2208988807"));
    assert!(
        p.issues()
            .iter()
            .any(|i| i.kind == crate::sip::IssueKind::Recovered && i.message.contains("collapsed"))
    );
    // The event still points at the log's own bytes.
    let text = excerpt!("pjproject-3106-488-invite-collapsed-newlines.log");
    let Locator::Text { span, .. } = &m[0].origin.locator else {
        panic!("text")
    };
    assert!(
        text[span.clone()]
            .windows(22)
            .any(|w| w == b"INVITE sip:101@192.168")
    );
}

#[test]
fn a_collapsed_paste_of_a_recording_gives_its_headers_back() {
    // basic-call/caller.log with its INVITE's header line, start line and headers collapsed into
    // one line (fixtures/derive/derive.py collapse): the same start line, headers and body.
    let (_, original) = fixture!("basic-call/caller.log");
    let (_, derived) = fixture!("derive/basic-call.caller.collapsed-invite.derived.log");
    let want = run(std::str::from_utf8(original).expect("UTF-8"));
    let got = read(derived);
    let invite = |l: &PjsipLog| -> SipMessage {
        msgs(l)
            .into_iter()
            .find_map(|m| m.parsed().filter(|p| p.method() == Some("INVITE")).cloned())
            .expect("an INVITE")
    };
    let (w, g) = (invite(&want), invite(&got));
    let headers = |p: &SipMessage| -> Vec<(String, String)> {
        p.headers()
            .iter()
            .map(|h| (p.header_name(h).into_owned(), p.value(h).into_owned()))
            .collect()
    };
    assert_eq!(g.start_line(), w.start_line());
    assert_eq!(headers(&g), headers(&w));
    assert_eq!(g.body(), w.body());
    assert_eq!(msgs(&got).len(), msgs(&want).len());
    // Every other message is the recording's, whole.
    let others = |l: &PjsipLog| -> Vec<Vec<u8>> {
        msgs(l)
            .iter()
            .filter(|m| m.cut.is_none())
            .map(|m| m.raw().to_vec())
            .collect()
    };
    assert_eq!(others(&got).len() + 1, others(&want).len());
}

#[test]
fn a_collapsed_paste_that_cannot_be_split_without_doubt_stays_unparsed() {
    // The first header's name is not in the grammar's table: nothing is split or made up.
    let text = "05:28:17.580           pjsua_core.c  ....TX 342 bytes Request msg OPTIONS/cseq=1 (tdta0x55a2d07eb028) to UDP 127.0.0.1:5070: OPTIONS sip:callee@127.0.0.1:5070 SIP/2.0 X-Trace: 1 Via: SIP/2.0/UDP 127.0.0.1:5080 CSeq: 1 OPTIONS\n";
    let log = read(text.as_bytes());
    let m = msgs(&log);
    let err = m[0].msg.as_ref().expect_err("not split");
    assert!(
        err.error.message.contains("line breaks"),
        "{}",
        err.error.message
    );
    assert_eq!(m[0].cut, Some(Cut::Damaged));
}

#[test]
fn interleaved_foreign_lines_do_not_join_a_dump() {
    // ESP-IDF lines (`W (5581) tag: …`) around pjsip's output; a record wrapped onto a second
    // line.
    let log = read(excerpt!(
        "pjproject-3106-488-register-ok-esp32-interleaved.log"
    ));
    let m = msgs(&log);
    assert_eq!((m.len(), m[0].cut, m[0].declared_len), (1, None, Some(539)));
    let allow = b"REGISTER,SUBSCRIBE        \r\nContact: ";
    assert!(
        m[0].raw().windows(allow.len()).any(|w| w == allow),
        "trailing spaces of a header are the message's"
    );
    assert!(kinds(&log).contains(&LogKind::Registration {
        ok: true,
        status: Some(200)
    }));
}

#[test]
fn a_dump_interrupted_by_other_lines_goes_on_after_them() {
    // One dump printed line by line, another program's lines in between (an ESP-IDF task, a
    // record of another thread): the messages are those of the log without them, and keep
    // their place.
    let same = |log: &PjsipLog| {
        let want = run(&pj(CALLER));
        let raws = |l: &PjsipLog| -> Vec<(Vec<u8>, Option<Cut>)> {
            msgs(l).iter().map(|m| (m.raw().to_vec(), m.cut)).collect()
        };
        assert_eq!(raws(log), raws(&want));
        let lines: Vec<_> = log.events.iter().map(|e| e.origin().line()).collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
    };
    let mut out = String::new();
    for l in pj(CALLER).split_inclusive('\n') {
        out.push_str(l);
        if l.starts_with("Call-ID: tsov") {
            out.push_str("W (5581) pjsua_acc.c: 1pjsua_acc_get_info acc_id = 0\n");
            out.push_str(
                "05:28:17.581            pjsua_acc.c  ....Call 0 state changed to EARLY\n",
            );
        }
    }
    let log = read(out.as_bytes());
    same(&log);
    assert!(
        kinds(&log)
            .iter()
            .any(|k| matches!(k, LogKind::CallState { .. }))
    );
    // logcat: every line wrapped, a line of another tag between two lines of the dump.
    let wrapped = wrap(
        &pj(CALLER),
        |_| true,
        |i| format!("11-21 05:28:17.{:03}  1234  1250 I pjsua   : ", i),
    );
    let mut out = String::new();
    for l in wrapped.split_inclusive('\n') {
        out.push_str(l);
        if l.contains(": Via: SIP/2.0/UDP 127.0.0.1:5080;rport=5080") {
            out.push_str("11-21 05:28:17.581  1234  1260 D CallControl: ringing\n");
        }
    }
    same(&read(out.as_bytes()));
}

#[test]
fn record_limit_only_when_the_record_reaches_4000_bytes() {
    // The recorded cut (a 3958-byte INVITE): the record reaches pjsip's limit.
    let big = FIXTURES
        .iter()
        .find(|f| f.0.0 == "big-invite-cut/caller.log")
        .unwrap();
    let log = read(big.0.1);
    let cut: Vec<_> = msgs(&log).iter().filter_map(|m| m.cut).collect();
    assert_eq!(cut, [Cut::RecordLimit]);
    // Its CR-stripped copy too: the CRs it lost count.
    let lf: Vec<u8> = big.0.1.iter().copied().filter(|&b| b != b'\r').collect();
    let cut: Vec<_> = msgs(&read(&lf)).iter().filter_map(|m| m.cut).collect();
    assert_eq!(cut, [Cut::RecordLimit]);
    // A small dump stopped by another dump for no visible reason is damaged, not cut by pjsip.
    let text = pj(r"
05:28:17.582           pjsua_core.c  .TX 353 bytes Request msg ACK/cseq=320 (tdta0x55a2d08068c8) to UDP 127.0.0.1:5070:
|ACK sip:callee@127.0.0.1:5070 SIP/2.0
|Via: SIP/2.0/UDP 127.0.0.1:5080;rport;branch=z9hG4bKPjN1IOriBq45mPWK2YsxPik8FlWH5HPtlK
05:28:17.583           pjsua_core.c  .RX 310 bytes Response msg 100/INVITE/cseq=320 (rdata0x55a2d07dbe28) from UDP 127.0.0.1:5070:
|SIP/2.0 100 Trying
");
    let m: Vec<_> = msgs(&run(&text)).iter().map(|m| m.cut).collect();
    assert_eq!(m, [Some(Cut::Damaged), Some(Cut::InputEdge)]);
    // A dump whose end marker is missing but whose text holds the declared bytes is whole.
    let whole = pj(CALLER).replacen("--end msg--\n", "", 1);
    let log = run(&whole);
    assert_eq!(msgs(&log)[0].cut, None);
    assert_eq!(msgs(&log)[0].raw().len(), 310);
}

#[test]
fn learnt_wrappers_of_real_excerpts() {
    // spdlog with pjsip's decor off: no pjsip time, no sender; the record prefix is learnt from
    // the dump headers, the excerpt starts with an end marker.
    let log = read(decor!("tg2sip-17-spdlog-no-sender.log"));
    let m = msgs(&log);
    assert_eq!(m.len(), 2);
    assert_eq!((m[0].cut, m[1].cut), (None, Some(Cut::InputEdge)));
    assert!(
        m[0].raw()
            .starts_with(b"REGISTER sip:IP_PBX:5060 SIP/2.0\r\nVia: ")
    );
    assert!(m[0].raw().ends_with(b"Content-Length: 0\r\n\r\n"));
    assert_eq!(
        (time_of(m[0]), time_of(m[1])),
        ("19:40:36.913".into(), "19:40:40.914".into())
    );
    // Android Studio: continuation lines indented to the message column.
    let log = read(decor!(
        "twilio-voice-quickstart-android-131-logcat-indented.log"
    ));
    let m = msgs(&log);
    assert_eq!((m.len(), m[0].cut), (1, Some(Cut::InputEdge)));
    assert!(m[0].raw().starts_with(
        b"INVITE sip:None@chunderm.gll.twilio.com;transport=TLS SIP/2.0\r\nVia: SIP/2.0/TLS"
    ));
    assert!(m[0].raw().ends_with(b"\r\nAllow: PRACK, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, SUBSCRIBE, NOTIFY, REFER, MESSAGE, OPTIONS"));
    // Android Studio, every line prefixed; the excerpt starts inside a 401's dump (its tail is
    // a message without a start line) and ends inside the next line's prefix.
    let log = read(decor!("pjproject-3710-android-studio-logcat.log"));
    let m = msgs(&log);
    assert_eq!(
        (m.len(), m[1].cut, m[1].raw()),
        (2, Some(Cut::InputEdge), &b""[..])
    );
    assert_eq!(time_of(m[1]), "2023-09-20 09:58:08.477");
    assert_eq!((m[0].cut, m[0].direction), (Some(Cut::InputEdge), None));
    assert!(m[0].raw().starts_with(b"Allow: INVITE,ACK,CANCEL,"));
    assert!(m[0].raw().ends_with(b"Content-Length: 0\r\n\r\n"));
    // XcodeColors (ESC lost), `> ` quotes, doubled lines, an application time with `:mmm`.
    let log = read(decor!("vialersiplib-11-xcodecolors-quoted-doubled.log"));
    let m = msgs(&log);
    assert_eq!((m.len(), m[0].cut), (1, Some(Cut::InputEdge)));
    assert_eq!(
        m[0].raw(),
        b"INVITE sip:260@XXXXXXXX.com.au SIP/2.0\r\nVia: SIP/2.0/UDP 115.118.242.252:49675;rport;branch=z9hG4bKPjD9u9mvY4yohNE73"
    );
    assert_eq!(time_of(m[0]), "2016-12-29 12:06:45.485");
    assert_eq!(
        kinds(&log),
        [
            LogKind::MakingCall {
                account: 0,
                target: "sip:260@XXXXXXXX.com.au".into()
            },
            LogKind::CallMediaInit { call: 0 },
            LogKind::RtpSocket {
                addr: "172.16.2.25:4000".into()
            }
        ]
    );
    // NSLog with `PJSIP(level): ` and pjsip's decor without time; doubled lines.
    let log = read(decor!(
        "twilio-voice-quickstart-objc-6-nslog-pjsip-level.log"
    ));
    let m = msgs(&log);
    assert_eq!((m.len(), m[0].cut), (1, Some(Cut::InputEdge)));
    assert!(
        m[0].raw()
            .starts_with(b"INVITE sip:54.154.182.131:10194;transport=tls SIP/2.0\r\nVia: ")
    );
    assert!(
        m[0].raw()
            .ends_with(b"\r\nMin-SE: 90\r\nX-Twilio-Client: {\"p\":")
    );
    assert_eq!(time_of(m[0]), "2016-10-06 15:00:48.845");
}

#[test]
fn continuation_prefixes() {
    use line::{Carry, Cont};
    assert_eq!(Cont::of(b"", None), Cont::Plain);
    assert_eq!(Cont::of(b"    ", None), Cont::Indent(4));
    let indent = Cont::Indent(4);
    assert_eq!(indent.carry(b"    Via: x"), Carry::Yes(b"Via: x"));
    assert_eq!(indent.carry(b"      folded"), Carry::Yes(b"  folded"));
    assert_eq!(indent.carry(b""), Carry::Yes(b""));
    assert_eq!(indent.carry(b"  "), Carry::Yes(b""));
    assert_eq!(indent.carry(b"W (5) x"), Carry::No);
    let wrap = Cont::of(b"11-21 05:28:17.580  1234  1250 I pjsua   : ", None);
    assert_eq!(
        wrap.carry(b"11-21 05:28:17.6 1234 1250 I pjsua : Via: x"),
        Carry::Yes(b"Via: x")
    );
    assert_eq!(
        wrap.carry(b"11-21 05:28:17.6 1234 1260 D Other: x"),
        Carry::No
    );
    assert_eq!(wrap.carry(b"11-21 05:28"), Carry::Cut);
}

#[test]
fn colour_codes_of_every_kind_are_removed() {
    use line::strip_ansi;
    assert_eq!(&*strip_ansi(b"\x1b[01;37m05:28\x1b[0m"), b"05:28");
    assert_eq!(&*strip_ansi(b"\x1b[fg85,85,85;05:28\x1b[;"), b"05:28");
    assert_eq!(&*strip_ansi(b"[;[fg85,85,85;05:28"), b"05:28");
    assert_eq!(
        &*strip_ansi(b"Contact: <sip:[::1]:5060>"),
        b"Contact: <sip:[::1]:5060>"
    );
}

#[test]
fn derived_wrappings_give_the_recording_s_messages() {
    // Loggers no public excerpt shows, derived from a recording by fixtures/derive/derive.py
    // in each logger's format: the messages are the recording's, byte for byte, none cut, and
    // its evidence lines are read.
    let (name, original) = fixture!("basic-call/callee.log");
    let want = read(original);
    let raws = |l: &PjsipLog| -> Vec<(Vec<u8>, Option<Cut>)> {
        msgs(l).iter().map(|m| (m.raw().to_vec(), m.cut)).collect()
    };
    let derived: [(&str, &[u8]); 5] = [
        fixture!("derive/basic-call.callee.logcat-brief.derived.log"),
        fixture!("derive/basic-call.callee.logcat-time.derived.log"),
        fixture!("derive/basic-call.callee.journal.derived.log"),
        fixture!("derive/basic-call.callee.log4j.derived.log"),
        fixture!("derive/basic-call.callee.pj-level.derived.log"),
    ];
    for (d, text) in derived {
        let log = read(text);
        assert_eq!(raws(&log), raws(&want), "{d} vs {name}");
        assert_eq!(kinds(&log), kinds(&want), "{d}");
        // `PJ| level |` shows no time: its events are all at the day's start.
        if !d.contains("pj-level") {
            let times = |l: &PjsipLog| -> Vec<String> {
                msgs(l)
                    .iter()
                    .map(|m| time_of(m)[time_of(m).len() - 12..].to_string())
                    .collect()
            };
            assert_eq!(times(&log), times(&want), "{d}");
        }
    }
}

/// A wrapped log (fixtures/derive/derive.py `wrap --style …`) reads as its recording: the same
/// messages byte for byte, none cut, at the same times of day, and the same evidence lines at
/// the same times.
fn reads_as_recording(derived: (&str, &[u8]), original: (&str, &[u8])) {
    let (want, log) = (read(original.1), read(derived.1));
    let tod = |t: String| t[t.len() - 12..].to_string();
    let messages = |l: &PjsipLog| -> Vec<(Vec<u8>, Option<Cut>, String)> {
        msgs(l)
            .iter()
            .map(|m| (m.raw().to_vec(), m.cut, tod(time_of(m))))
            .collect()
    };
    let evidence = |l: &PjsipLog| -> Vec<(LogKind, String)> {
        logs(l)
            .iter()
            .map(|e| (e.kind.clone(), tod(time_of_log(e))))
            .collect()
    };
    assert!(!msgs(&want).is_empty());
    assert_eq!(
        messages(&log),
        messages(&want),
        "{} vs {}",
        derived.0,
        original.0
    );
    assert_eq!(
        evidence(&log),
        evidence(&want),
        "{} vs {}",
        derived.0,
        original.0
    );
}

#[test]
fn spdlog_default_pattern() {
    // `[2026-11-21 05:42:13.688] [pjsua2] [info] ` before pjsip's decor without its time.
    reads_as_recording(
        fixture!("derive/basic-call.callee.spdlog.derived.log"),
        fixture!("basic-call/callee.log"),
    );
}

#[test]
fn spdlog_with_thread_id_and_blank_line_after_each_record() {
    reads_as_recording(
        fixture!("derive/basic-call.callee.spdlog-thread.derived.log"),
        fixture!("basic-call/callee.log"),
    );
}

#[test]
fn logcat_threadtime_with_indented_continuation_lines() {
    // The dumps' lines indented by 60 and by 4 spaces: any indent, learnt from each dump.
    reads_as_recording(
        fixture!("derive/basic-call.callee.logcat-threadtime.derived.log"),
        fixture!("basic-call/callee.log"),
    );
    reads_as_recording(
        fixture!("derive/call-freed-early.callee.logcat-threadtime.derived.log"),
        fixture!("call-freed-early/callee.log"),
    );
}

#[test]
fn python_logging_formats() {
    // `2026-11-21 05:42:13,688 - pjsua2 - DEBUG - ` with a blank line after each record, and
    // the default `DEBUG:root:`.
    for derived in [
        fixture!("derive/basic-call.callee.python-logging.derived.log"),
        fixture!("derive/basic-call.callee.python-basic.derived.log"),
    ] {
        reads_as_recording(derived, fixture!("basic-call/callee.log"));
    }
}

#[test]
fn apple_unified_log_and_console() {
    // `log show`'s columns and Console.app's tab-separated copy, both with microseconds and a
    // zone offset, before pjsip's decor without its time.
    for derived in [
        fixture!("derive/basic-call.callee.os-log.derived.log"),
        fixture!("derive/basic-call.callee.os-console.derived.log"),
    ] {
        reads_as_recording(derived, fixture!("basic-call/callee.log"));
    }
}

#[test]
fn ansi_colour_around_the_level_and_the_record() {
    let derived = fixture!("derive/basic-call.callee.ansi.derived.log");
    assert!(derived.1.contains(&0x1b));
    reads_as_recording(derived, fixture!("basic-call/callee.log"));
}

#[test]
fn windows_pointers_thread_column_and_text_mode_line_ends() {
    // Upper-case `%p` pointers without `0x`, a 12-byte thread column, `\r\r\n` dump lines.
    reads_as_recording(
        fixture!("derive/basic-call.callee.windows.derived.log"),
        fixture!("basic-call/callee.log"),
    );
    // One of its records quoted alone is still a pjsip log, read by pjsip's columns.
    let (_, quote) = fixture!("derive/basic-call.callee.windows.quote.derived.log");
    let log = read(quote);
    assert_eq!(logs(&log)[0].sender, "inv000055B9D690EE98");
    assert!(matches!(
        kinds(&log)[..],
        [LogKind::SdpNegotiation { ok: true, .. }]
    ));
}

#[test]
fn start_up_with_pjsip_s_decor_off_is_a_pjsip_log() {
    // tg2sip's spdlog pattern, no pjsip decor, no dump: pjsip's start-up texts anchor it.
    let (_, startup) = fixture!("derive/basic-call.callee.spdlog-bare.startup.derived.log");
    assert!(sniff(startup));
    // Without its start-up texts (only app-specific lines left), it is not.
    let text = String::from_utf8_lossy(startup);
    let rest: String = text
        .lines()
        .filter(|l| l.contains("Account sip:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!rest.is_empty());
    assert!(!sniff(rest.as_bytes()), "{rest}");
}

#[test]
fn pjsip_columns_are_found_after_any_wrapper() {
    use prefix::in_pjsip_columns as cols;
    for line in [
        // pjsip's decor: 22- and 14-byte sender columns, objects with `0x` or Windows' hex.
        "05:42:13.993                  rtp.c  .....pjmedia_rtp_session_init: ses=0x55b9d692d060",
        "05:42:13.992    inv000055B9D690EE98 thr000002000  ..SDP negotiation done: Success",
        "10:53:07.261    tsx039500D4  .Retransmit timer event",
        "14:45:55.338   pjsua_pres.c  Using account 1 for buddy 0 subscription",
        // After a wrapper, pjsip's time off: the column follows the wrapper's space.
        "[2026-11-21 05:42:13.993] [pjsua2] [info]     strm0x55b9d692b508  .....Jitter buffer reset",
        "default\t05:42:13.688711+0200\tpjsua\t          pjsua_core.c  .RX 1202 bytes",
    ] {
        assert!(cols(line.as_bytes()), "{line}");
    }
    for line in [
        // No time; a sender not right-aligned in a column; not a pjsip sender.
        "                 rtp.c  .....pjmedia_rtp_session_init: ses=0x55b9d692d060",
        "05:42:13.993 rtp.c  .....pjmedia_rtp_session_init",
        "05:42:13.993            Master/sound  ..Using delay buffer with WSOLA.",
        "12:00:01 [App] tsx0x17394a64  Some state",
        "2024-05-01 10:31:47 status installed libc6:amd64 2.36-9 ABCDEF1234",
    ] {
        assert!(!cols(line.as_bytes()), "{line}");
    }
}

// ---- records inside other loggers' lines (issue 13, round 2) ----

#[test]
fn records_inside_other_loggers_lines_are_found_by_their_senders_and_texts() {
    // Real excerpts whose every pjsip line sits inside another logger's line, with no dump
    // header to learn the wrapper from.
    for text in [
        excerpt!("pjproject-3940-sound-device-day-decor.log"),
        excerpt!("twilio-client-quickstart-android-32-logcat-masked-uac-invite.log"),
        excerpt!("vialersiplib-11-xcodecolors-options-parse-error.log"),
        excerpt!("vialersiplib-35-tcp-connect-refused-backticks.log"),
        excerpt!("vialersiplib-51-cocoalumberjack-error-processing.log"),
    ] {
        assert!(sniff(text), "{}", String::from_utf8_lossy(&text[..80]));
    }
    // `[15:54:21]Sat ` before the text, no sender: the texts anchor the records, and their
    // shape reads the others (the first line also has a Markdown list number before it).
    let log = read(excerpt!("pjproject-3940-sound-device-day-decor.log"));
    let k = kinds(&log);
    assert!(
        matches!(
            &k[..],
            [LogKind::MakingCall { account: 0, .. }, LogKind::SoundDevice]
        ),
        "{k:?}"
    );
    assert_eq!(time_of_log(logs(&log)[1]), "15:54:21.000");
    // CocoaLumberjack around pjsip's log callback, each line in Markdown backticks.
    let log = read(excerpt!(
        "vialersiplib-35-tcp-connect-refused-backticks.log"
    ));
    let l = logs(&log);
    assert_eq!(
        kinds(&log),
        [
            LogKind::SendFailure,
            LogKind::Registration {
                ok: false,
                status: Some(503)
            }
        ]
    );
    assert_eq!(l[0].sender, "tsx0x17394a64");
    assert!(l[1].text.ends_with("(Connection refused)"), "{}", l[1].text);
    assert_eq!(time_of_log(l[1]), "10:35:37.183");
}

fn time_of_log(l: &LogEvent) -> String {
    l.ts.to_string()
}

#[test]
fn prose_and_source_about_pjsip_are_not_pjsip_logs() {
    // An issue's prose that names pjsip's files and quotes a line's text without its decor,
    // and a C source file quoting pjsip's texts as format strings.
    let prose = b"I use pjsua_core.c and sip_transport.c from 2.13.1 on iOS 16.5.1.\n\
Since 15:54 the call fails: Making call with acc #0 to the PBX never returns.\n\
The error is in pjsua_call.c  I think, or sip_transport.  Any idea?\n\
Unable to open sound device: that is all I see.\n";
    assert!(!sniff(prose));
    let source = b"#define THIS_FILE \"pjsua_call.c\"\n\
/* 2024-01-01 10:00:00 */\n\
    PJ_LOG(4,(THIS_FILE, \"Making call with acc #%d to %.*s\", acc_id,\n\
              (int)dest_uri->slen, dest_uri->ptr));\n\
    PJ_LOG(1,(THIS_FILE, \"Error processing %d bytes packet from %s %s:%d %.*s:\\n\"\n\
    status = pjsua_call_make_call(acct_id, &dest_uri, &call_opt, NULL, &msg_data, &call_id);\n";
    assert!(!sniff(source));
    // One record line alone is not enough, unless a sender and one of pjsip's texts both
    // anchor it.
    assert!(!sniff(
        b"12:00:01 [App] tsx0x17394a64  Some state\nplain text\n"
    ));
    assert!(sniff(
        b"12:00:01 [App] sip_transport. Error processing 559 bytes packet\n"
    ));
}

#[test]
fn derived_app_decorations_give_the_recording_s_messages_and_evidence() {
    // basic-call/callee.log in an app's decoration (fixtures/derive/derive.py wrap --style
    // lumberjack|daytime), with its dumps and without them (message logging off): the same
    // messages, and the same evidence lines at the same times, read by the learnt record
    // prefix or, without dumps, by the anchors.
    let (_, original) = fixture!("basic-call/callee.log");
    let want = read(original);
    let raws =
        |l: &PjsipLog| -> Vec<Vec<u8>> { msgs(l).iter().map(|m| m.raw().to_vec()).collect() };
    let evidence = |l: &PjsipLog| -> Vec<(LogKind, String)> {
        logs(l)
            .iter()
            .map(|e| (e.kind.clone(), time_of_log(e)[..8].to_string()))
            .collect()
    };
    let derived: [(&str, &[u8]); 4] = [
        fixture!("derive/basic-call.callee.lumberjack.derived.log"),
        fixture!("derive/basic-call.callee.daytime.derived.log"),
        fixture!("derive/basic-call.callee.lumberjack.no-dumps.derived.log"),
        fixture!("derive/basic-call.callee.daytime.no-dumps.derived.log"),
    ];
    for (d, text) in derived {
        let log = read(text);
        assert_eq!(evidence(&log), evidence(&want), "{d}");
        if d.contains("no-dumps") {
            assert!(msgs(&log).is_empty(), "{d}");
        } else {
            assert_eq!(raws(&log), raws(&want), "{d}");
        }
    }
}

// ---- pjsip's own parse errors ----

#[test]
fn a_packet_pjsip_dropped_is_an_rx_message_with_pjsip_s_reason() {
    // `Error processing 557 bytes packet from UDP …: PJSIP syntax error …:` then the packet and
    // `-- end of packet.`, twice (the retransmission is cut by the excerpt).
    let log = read(excerpt!(
        "vialersiplib-11-xcodecolors-options-parse-error.log"
    ));
    let m = msgs(&log);
    assert_eq!(m.len(), 2);
    for m in &m {
        assert_eq!(m.direction, Some(Direction::Rx));
        assert_eq!(m.transport, Transport::Udp);
        assert_eq!(m.src.as_deref(), Some("27.111.250.164:5060"));
        assert_eq!(m.declared_len, Some(557));
        assert_eq!(
            m.stack_error.as_deref(),
            Some("PJSIP syntax error exception when parsing '' header on line 5 col 35")
        );
        let p = m.parsed().expect("sipflow's grammar reads it");
        assert_eq!(p.method(), Some("OPTIONS"));
        assert!(
            p.raw()
                .starts_with(b"OPTIONS sip:269@115.118.242.252:49675;ob SIP/2.0\r\n")
        );
    }
    assert_eq!((m[0].cut, m[1].cut), (None, Some(Cut::InputEdge)));
    assert_eq!(m[0].raw().len(), 557);
    assert_eq!(time_of(m[1]), "2016-12-29 12:07:17.118");
    // The record cut by the input right after `Error processing 559 bytes packet`: an RX message
    // with no text, cut by the input, still telling that pjsip dropped a packet.
    let log = read(excerpt!(
        "vialersiplib-51-cocoalumberjack-error-processing.log"
    ));
    let m = msgs(&log);
    assert_eq!(m.len(), 1);
    assert_eq!(
        (m[0].direction, m[0].declared_len, m[0].cut, m[0].raw()),
        (
            Some(Direction::Rx),
            Some(559),
            Some(Cut::InputEdge),
            &b""[..]
        )
    );
    assert!(m[0].stack_error.is_some());
    // Only the header sets it.
    assert!(
        msgs(&run(&pj(CALLER)))
            .iter()
            .all(|m| m.stack_error.is_none())
    );
}

#[test]
fn the_endpoint_s_record_of_a_dropped_packet_is_read_too() {
    // sip_endpoint.c's form (no byte count): `Error processing packet from IP:PORT: reason
    // [code N]:`. The lines are a real OPTIONS of the excerpt above, in this form.
    let text = pj(r"
12:07:16.117         sip_endpoint.c  Error processing packet from 27.111.250.164:5060: Missing required header(s)  (missing Call-ID) [code 171141]:
|OPTIONS sip:269@115.118.242.252:49675;ob SIP/2.0
|Via: SIP/2.0/UDP 27.111.250.164:5060;branch=z9hG4bK3e5b915b
|CSeq: 102 OPTIONS
|Content-Length: 0
|

-- end of packet.
12:07:16.118           pjsua_core.c  .Next line
");
    let log = read(text.as_bytes());
    let m = msgs(&log);
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0].stack_error.as_deref(),
        Some("Missing required header(s)  (missing Call-ID)")
    );
    assert_eq!((m[0].declared_len, m[0].cut), (None, None));
    assert!(m[0].raw().ends_with(b"Content-Length: 0\r\n\r\n"));
}

#[test]
fn a_dump_header_the_input_ends_inside_is_a_message_cut_by_the_input() {
    // pjproject-3887 ends with `RX 647 bytes Response msg 407/REGISTER/cseq=20`: the header
    // line itself is cut.
    let log = read(excerpt!("pjproject-3887-tcp-register-two-contacts-407.log"));
    let m = msgs(&log);
    assert_eq!((log.dumps, m.len()), (2, 2));
    assert_eq!(
        (m[1].direction, m[1].declared_len, m[1].cut, m[1].raw()),
        (
            Some(Direction::Rx),
            Some(647),
            Some(Cut::InputEdge),
            &b""[..]
        )
    );
    assert_eq!(time_of(m[1]), "05:42:36.210");
    assert!(m[1].stack_error.is_none());
    // The same header followed by another line is not at the input's edge.
    let mut text = excerpt!("pjproject-3887-tcp-register-two-contacts-407.log").to_vec();
    text.extend_from_slice(b"05:42:36.211    pjsua_acc.c  .Next line\n");
    let m = read(&text);
    assert_eq!(msgs(&m)[1].cut, Some(Cut::Damaged));
}

// ---- an excerpt that starts inside a dump ----

#[test]
fn a_leading_tail_with_header_lines_is_a_message_without_a_start_line() {
    // pjproject-2342 starts inside a 200/INVITE dump (its Call-ID and CSeq in the tail), then
    // pjsip's line for the 200's retransmission and its TX, cut by the excerpt.
    let log = read(excerpt!("pjproject-2342-tcp-200ok-retransmit-no-ack.log"));
    let m = msgs(&log);
    assert_eq!(m.len(), 2);
    let tail = m[0];
    assert_eq!(
        (
            tail.cut,
            tail.direction,
            tail.declared_len,
            tail.handle.as_deref()
        ),
        (Some(Cut::InputEdge), None, None, None)
    );
    assert!(
        tail.parsed().is_none(),
        "no start line: no message of any kind"
    );
    assert!(
        tail.raw()
            .starts_with(b"Via: SIP/2.0/UDP 216.115.69.132;branch=")
    );
    assert!(
        tail.raw()
            .windows(39)
            .any(|w| w == b"Call-ID: 157290149_83336707@207.223.78.")
    );
    assert!(tail.raw().ends_with(b"a=fmtp:101 0-16\r\n"));
    assert_eq!(tail.origin.line(), Some(1));
    // It takes the first time the input shows.
    assert_eq!(time_of(tail), "16:35:48.296");
    assert_eq!(
        kinds(&log),
        [LogKind::Retransmit {
            request: false,
            method: "INVITE".into(),
            status: Some(200),
            cseq: 189913,
            count: 3,
        }]
    );
    assert_eq!(m[1].cut, Some(Cut::InputEdge));
    // The same tail from our recording (fixtures/derive/run.sh, `retx`): header lines only
    // from the Via line on, the prefix-less records after the end marker are not part of it.
    let (_, text) = fixture!("derive/missing-ack.callee.retransmit-3.derived.log");
    let log = read(text);
    let m = msgs(&log);
    assert_eq!(m.len(), 2);
    assert!(m[0].raw().starts_with(b"Via: SIP/2.0/UDP 127.0.0.1:5601;"));
    assert!(m[0].raw().ends_with(b"\r\n"));
    assert_eq!(m[0].cut, Some(Cut::InputEdge));
    // Prose before the tail is not part of it, and a tail of prose alone is no message.
    let mut text = b"Here is my log:\n".to_vec();
    text.extend_from_slice(excerpt!("pjproject-2342-tcp-200ok-retransmit-no-ack.log"));
    assert_eq!(msgs(&read(&text))[0].raw(), tail.raw());
    assert!(msgs(&read(b"I see this:\nno idea why\n\n--end msg--\n")).is_empty());
}
