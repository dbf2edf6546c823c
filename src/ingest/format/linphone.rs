//! Linphone's, liblinphone's and belle-sip's logs: the messages belle-sip logs as it sends and
//! receives them (`channel [0x…]: message sent to [UDP://host:port], size: [N] bytes`,
//! `channel [0x…]: received [N] new bytes from [UDP://host:port]:`), in liblinphone's own log
//! file and wrapped line by line in Android's logcat or Apple's NSLog.
//!
//! Owns: finding those dumps, the wrapper each line of one carries (learnt from its header
//! line), and their times. Does not own: framing the message and its cuts (`super::stacklog`),
//! belle-sip's other log lines (not read as evidence).

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::stacklog::{
    Clock, Driver, DumpHeader, Dumps, End, LineReader, bare, endpoint, time_of_day, transport,
};
use super::{Format, Parser, Spec, TextParser, TextStart, level};
use crate::event::{Direction, Event, Timestamp, days_from_civil};

pub const FORMAT: Format = Format(&Spec {
    name: "linphone",
    summary: "Linphone / liblinphone / belle-sip logs: `channel [0x…]: message sent to \
              [UDP://addr:port], size: [N] bytes` and `received [N] new bytes from …`, bare or \
              in logcat or NSLog lines",
    looks: "a Linphone log",
    recognises: "belle-sip `message sent to [UDP://…], size: [N] bytes` / `received [N] new \
                 bytes from [UDP://…]` lines",
    sniff,
    parser: Parser::Text(new),
    packets: false,
    docs: include_str!("linphone.md"),
    fixtures: &[
        "stacks/public/linphone-android-1146-logcat-200-ok-sent.log",
        "stacks/public/linphone-android-1760-liblinphone-100-trying-received.log",
        "stacks/public/linphone-android-791-studio-options-received.log",
        "stacks/public/linphone-958-nslog-invite-sent.log",
    ],
});

/// belle-sip's line before a message it sent or received, after whatever prefix the log gave
/// it: the transport, the peer (`host:port`, as the poster left it) and the byte count.
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i-u)channel \[[^\]\n]{0,64}\]: (?:message sent to \[(\w{1,8})://(\[[0-9a-f:.]{2,45}\]:\d{1,5}|[^\]\n]{1,300})\], size: \[(\d{1,12})\] bytes|received \[(\d{1,12})\] new bytes from \[(\w{1,8})://(\[[0-9a-f:.]{2,45}\]:\d{1,5}|[^\]\n]{1,300})\])",
    )
    .expect("static regex")
});

/// The time at the start of a header line: logcat's `09-01 16:13:30.753`, Android Studio's and
/// NSLog's `2020-03-29 01:25:05.125522+0530`, liblinphone's `2022-09-07 19:51:58:136`.
static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(\d{4})-)?(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)[.:,](\d{1,6})")
        .expect("static regex")
});

/// A dated log record of any logger (what ends a dump whose lines carry no prefix).
static RECORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:\d{4}-)?\d\d-\d\d[ T]\d\d:\d\d:\d\d").expect("static regex"));

/// A header field line (`Name:`) or a folded one: what a message's header block holds after
/// its start line.
static FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[!#-'*+.0-9A-Z^-z|~-]{1,64}[ \t]*:|[ \t])").expect("static regex")
});

/// More specific than a stack log in general: liblinphone's own records look enough like
/// pjsip's log lines for pjsip's sniff to take them, but belle-sip's header is its own.
const SPECIFICITY: u8 = level::STACK_LOG + 5;

fn sniff(head: &[u8]) -> Option<u8> {
    head.split_inclusive(|&b| b == b'\n')
        .take(20_000)
        .any(|l| HEADER.is_match(l))
        .then_some(SPECIFICITY)
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    let reader = Linphone {
        clock: Clock::new(start.date),
        wrapper: None,
        prefixed: None,
    };
    Box::new(Driver::new(reader, start.input, emit))
}

struct Linphone {
    clock: Clock,
    /// The open dump's header line's prefix (the text before `channel [`) as a pattern, its
    /// digits and spaces free: the wrapper logcat or NSLog puts on each of its lines, or the
    /// start of liblinphone's next record.
    wrapper: Option<Regex>,
    /// Whether the open dump's lines carry the wrapper (`None` until its first line).
    prefixed: Option<bool>,
}

impl Linphone {
    fn time(&mut self, line: &[u8]) -> Option<Timestamp> {
        let c = TIME.captures(line)?;
        let get = |i: usize| c.get(i).map_or(&b""[..], |m| m.as_bytes());
        let num = |i: usize| std::str::from_utf8(get(i)).ok()?.parse::<u32>().ok();
        let date = c
            .get(1)
            .and_then(|_| Some(days_from_civil(i64::from(num(1)?), num(2)?, num(3)?)));
        let tod = time_of_day(get(4), get(5), get(6), get(7))?;
        Some(self.clock.stamp(date, tod))
    }

    /// The dump a header line opens, if it is one, with the line's prefix.
    fn header(&mut self, line: &[u8]) -> Option<(DumpHeader, usize)> {
        let c = HEADER.captures(line)?;
        let at = c.get(0)?.start();
        let sent = c.get(1).is_some();
        let (proto, peer, count) = if sent { (1, 2, 3) } else { (5, 6, 4) };
        let peer = c.get(peer).and_then(|p| {
            let p = p.as_bytes();
            let colon = p.iter().rposition(|&b| b == b':')?;
            let port = &p[colon + 1..];
            (!port.is_empty() && port.len() <= 5 && port.iter().all(u8::is_ascii_digit))
                .then(|| endpoint(&p[..colon], port))
        });
        let declared = c
            .get(count)
            .and_then(|n| std::str::from_utf8(n.as_bytes()).ok()?.parse().ok());
        let header = DumpHeader {
            ts: self.time(line),
            direction: Some(if sent { Direction::Tx } else { Direction::Rx }),
            transport: transport(c.get(proto).map_or(&b""[..], |m| m.as_bytes())),
            src: if sent { None } else { peer.clone() },
            dst: if sent { peer } else { None },
            declared_len: declared,
        };
        Some((header, at))
    }
}

/// The pattern of a wrapper: `prefix` with its trailing blanks left out, each run of digits
/// any digits and each run of blanks any blanks.
fn wrapper_of(prefix: &[u8]) -> Option<Regex> {
    let prefix = String::from_utf8_lossy(prefix);
    let prefix = prefix.trim_end();
    if prefix.is_empty() {
        return None;
    }
    let mut pattern = String::from("^");
    let mut chars = prefix.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == ' ' || c == '\t' {
            let digit = c.is_ascii_digit();
            while chars
                .peek()
                .is_some_and(|n| n.is_ascii_digit() == digit && (digit || *n == ' ' || *n == '\t'))
            {
                chars.next();
            }
            pattern.push_str(if digit { r"\d+" } else { r"[ \t]+" });
        } else {
            pattern.push_str(&regex::escape(&c.to_string()));
        }
    }
    Regex::new(&pattern).ok()
}

impl LineReader for Linphone {
    fn line(&mut self, dumps: &mut Dumps<'_>, line: &[u8], no: u32, start: usize) {
        let end = start + line.len();
        if let Some((header, at)) = self.header(line) {
            dumps.start(header, no, start..end);
            self.wrapper = wrapper_of(&line[..at]);
            self.prefixed = None;
            return;
        }
        if !dumps.is_open() {
            return;
        }
        let blank = bare(line).is_empty();
        let wrapped = self
            .wrapper
            .as_ref()
            .and_then(|w| w.find(line))
            .map(|m| m.end());
        let prefixed = match self.prefixed {
            // A paste that doubled every line end: the wrapped lines' blank lines are between.
            None if blank => return,
            None => *self.prefixed.insert(wrapped.is_some()),
            Some(p) => p,
        };
        let text = match (prefixed, wrapped) {
            (true, Some(at)) => {
                // NSLog's lines of a message are indented by a tab after the wrapper.
                let rest = &line[at..];
                let rest = rest.strip_prefix(b" ").unwrap_or(rest);
                rest.strip_prefix(b"\t").unwrap_or(rest)
            }
            (true, None) if blank => return,
            (false, None) if !RECORD.is_match(line) => line,
            _ => {
                dumps.end(End::Record);
                return;
            }
        };
        if dumps.in_header_block() && !bare(text).is_empty() && !FIELD.is_match(text) {
            // logcat prints no empty line: the blank line that ends a bodyless message's
            // headers is not there, and belle-sip's next line follows its last field.
            dumps.end(End::Marker);
            return;
        }
        dumps.push_or_end(text, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Cut, Transport};
    use crate::testutil::start_line as start;

    fn messages(text: &[u8]) -> Vec<crate::event::MessageEvent> {
        crate::testutil::messages_as(FORMAT, text)
    }

    fn fixture(rel: &str) -> Vec<u8> {
        crate::testutil::fixture(&format!("stacks/public/{rel}"))
    }

    /// The Call-ID and the CSeq (number, method) of the message.
    fn ids(m: &crate::event::MessageEvent) -> (String, Option<u32>, String) {
        let p = m.parsed().expect("parsed");
        (
            p.call_id().unwrap_or_default().into_owned(),
            p.cseq_seq(),
            p.cseq_method().unwrap_or_default().to_string(),
        )
    }

    /// Android's logcat (`threadtime`), pasted with every line end doubled: a 200 sent, the
    /// excerpt ending inside its Allow header.
    #[test]
    fn logcat_excerpt_is_read() {
        let m = messages(&fixture("linphone-android-1146-logcat-200-ok-sent.log"));
        assert_eq!(m.len(), 1);
        assert_eq!(start(&m[0]), "SIP/2.0 200 Ok");
        assert_eq!(m[0].direction, Some(Direction::Tx));
        assert_eq!(m[0].dst.as_deref(), Some("192.168.117.249:5060"));
        assert_eq!(m[0].transport, Transport::Udp);
        assert_eq!(m[0].declared_len, Some(1718));
        assert_eq!(ids(&m[0]), ("Q6ZhVynhLB".into(), Some(20), "INVITE".into()));
        assert_eq!(m[0].ts.to_string(), "16:13:30.753");
        assert_eq!(m[0].cut, Some(Cut::InputEdge));
    }

    /// liblinphone's own log (the Android app's file): the message's lines bare after the
    /// record, ended by the next record; the peer masked by the poster.
    #[test]
    fn liblinphone_excerpt_is_read() {
        let m = messages(&fixture(
            "linphone-android-1760-liblinphone-100-trying-received.log",
        ));
        assert_eq!(m.len(), 1);
        assert_eq!(start(&m[0]), "SIP/2.0 100 Trying");
        assert_eq!(m[0].direction, Some(Direction::Rx));
        assert_eq!(m[0].src, None);
        assert_eq!(
            ids(&m[0]),
            ("Y4bPSaVfXV".into(), Some(21), "MESSAGE".into())
        );
        assert_eq!(m[0].ts.to_string(), "2022-09-07 19:51:58.136");
        assert_eq!(m[0].cut, None);
        assert!(m[0].raw().ends_with(b"Content-Length: 0\r\n\r\n"));
    }

    /// Android Studio's logcat and Apple's NSLog (each line of the message after a tab): a
    /// request each, the excerpt ending inside it.
    #[test]
    fn studio_and_nslog_excerpts_are_read() {
        let m = messages(&fixture("linphone-android-791-studio-options-received.log"));
        assert_eq!(m.len(), 1);
        assert_eq!(
            start(&m[0]),
            "OPTIONS sip:0131@192.168.1.144:59754;transport=udp SIP/2.0"
        );
        assert_eq!(m[0].src.as_deref(), Some("192.168.1.181:5060"));
        assert_eq!(m[0].declared_len, Some(443));
        assert_eq!(ids(&m[0]).1, Some(29614));
        assert_eq!(m[0].cut, Some(Cut::InputEdge));

        let m = messages(&fixture("linphone-958-nslog-invite-sent.log"));
        assert_eq!(m.len(), 1);
        assert_eq!(start(&m[0]), "INVITE sip:114@pbx.test.com.au SIP/2.0");
        assert_eq!(m[0].dst.as_deref(), Some("pbx.test.com.au:5060"));
        assert_eq!(ids(&m[0]), ("mUkzT0L8-L".into(), Some(21), "INVITE".into()));
        assert_eq!(m[0].ts.to_string(), "2020-03-29 01:25:05.125");
        assert_eq!(m[0].cut, Some(Cut::InputEdge));
    }

    /// logcat prints no empty line: a bodyless message's headers end at belle-sip's next
    /// line, and the message is whole; a record of another process ends a dump.
    #[test]
    fn logcat_without_the_blank_line_and_other_records() {
        let text = b"04-02 16:00:10.108 27673 27673 I Linphone: channel [0x1]: received [99] new bytes from [TCP://[2001:db8::1]:5060]:\n\
            04-02 16:00:10.108 27673 27673 I Linphone: SIP/2.0 180 Ringing\n\
            04-02 16:00:10.108 27673 27673 I Linphone: Call-ID: a\n\
            04-02 16:00:10.108 27673 27673 I Linphone: CSeq: 21 INVITE\n\
            04-02 16:00:10.108 27673 27673 I Linphone: Content-Length: 0\n\
            04-02 16:00:10.109 27673 27673 I Linphone: channel [0x1] [99] bytes parsed\n\
            04-02 16:00:10.110 27673 27673 I Linphone: channel [0x1]: message sent to [udp://10.0.0.1:5060], size: [9] bytes\n\
            04-02 16:00:10.110 27673 27673 I Linphone: ACK sip:b SIP/2.0\n\
            04-02 16:00:10.110 27673 27673 I Linphone: Call-ID: a\n\
            04-02 16:00:10.111 1665 2386 V audio_hw_primary: out_set_parameters: routing=1\n";
        let m = messages(text);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].src.as_deref(), Some("[2001:db8::1]:5060"));
        assert_eq!(m[0].transport, Transport::Tcp);
        assert_eq!(m[0].cut, None);
        assert!(m[0].raw().ends_with(b"Content-Length: 0\r\n\r\n"));
        assert_eq!(start(&m[1]), "ACK sip:b SIP/2.0");
        assert_eq!(m[1].cut, Some(Cut::Damaged));
    }

    #[test]
    fn sniffing() {
        assert_eq!(
            sniff(b"2022-02-19 17:27:26:588 [/liblinphone] MESSAGE Linphone core notified\n"),
            None
        );
        assert_eq!(
            sniff(b"x channel [0x1]: message sent to [UDP://1.2.3.4:5060], size: [1] bytes\n"),
            Some(SPECIFICITY)
        );
    }

    #[test]
    fn hostile_inputs_are_bounded() {
        let mut text =
            b"channel [0x1]: received [1] new bytes from [UDP://1.2.3.4:5060]:\nINVITE sip:a@b SIP/2.0\nX: "
                .to_vec();
        text.extend(std::iter::repeat_n(b'a', 1 << 20));
        text.extend_from_slice(
            b"\nchannel [\xff]: message sent to [UDP://:], size: [999999999999] bytes\n\xff\n",
        );
        let m = messages(&text);
        assert_eq!(m.len(), 2);
        assert!(m[0].raw().len() <= super::super::stacklog::MAX_DUMP);
        assert_eq!(m[0].cut, Some(Cut::Damaged));
        assert_eq!(m[1].dst, None);
    }
}
