//! pjsip records found by what is constant in them, wherever they sit on a line: a well-known
//! sender (a pjsip source file such as `pjsua_core.c`, cut to the column as `sip_transport.`,
//! or an object such as `tsx0x7f89dc00b038`, `tcpc0x17393614`, `tdta039500D4`) followed by
//! pjsip's separator, or one of pjsip's own message texts (`Making call with acc #0 to …`,
//! `Unable to open sound device…`). They read logs whose every line is inside another logger's
//! line (CocoaLumberjack's `[VSLEndpoint void logCallBack(…):448] `, Markdown backticks, an
//! app's `[HH:MM:SS]Sat `), where neither pjsip's decor nor a learnt record prefix reads them.
//!
//! A record found this way must also show a time before it on its line ([`super::prefix`]
//! finds it): prose that names a pjsip file, or a C source file quoting pjsip's texts (with
//! `%d` where a log has a number), does not.

use std::ops::Range;
use std::sync::LazyLock;

use regex::bytes::Regex;

/// A sender and pjsip's separator after it: one space, the thread-switch marker (`!` or a
/// space) and the indent dots, then the text or the line's end. File senders are pjsip's own modules (full, or
/// cut at 14 bytes with their dot); objects are a short name and a pointer (`0x…`, or Windows'
/// upper-case hex without `0x`).
static SENDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?-u)(?:^|[ \t\]\)>|:`'])",
        r"(?P<s>",
        r"(?:pjsua|pjsip|pjmedia|pjlib|pjnath|sip|os|ioq|sock|ssl|ice|stun|turn|conference|sound",
        r"|audiodev|coreaudio|alsa|wmme|pa_|android|opensl|oboe|jbuf|evsub|pres|publish|resolver",
        r"|srv_|dns|timer|transport|activesock|vid|endpoint|account|call|media)[a-z0-9_]*",
        r"(?:\.cpp|\.c|\.)",
        r"|[a-z]{2,8}(?:0x[0-9a-fA-F]{6,16}|[0-9A-F]{8,16})",
        r")",
        r" [ !]?\.*(?:(?P<t>[^ \t\r\n.])|[ \t]*$)",
    ))
    .expect("static regex")
});

/// pjsip's own message texts that start a record's text, for decors without a sender column.
static TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?-u)(?:^|[ \t\]\)>|:`'!.])",
        r"(?P<t>",
        r"Making call with acc #[0-9]+ to ",
        r"|(?:Unable to open|Error opening) sound device",
        r"|Opening sound device \(",
        r"|Set sound device: capture=-?[0-9]",
        r"|Call [0-9]+(?: state changed to [A-Z]|: initializing media| hanging up: code=[0-9])",
        r"|Answering call [0-9]+: code=[0-9]",
        r"|SIP registration (?:failed|error)",
        r"|[a-z]*registration success, status=[0-9]",
        r"|Error processing [0-9]+ bytes packet",
        r"|(?:Sending|Retransmit+ing) (?:Request|Response) msg [A-Z0-9]+/",
        r"|Transaction created for (?:Request|Response) msg ",
        r"|State changed from [A-Za-z]+ to [A-Za-z]+, event=",
        r"|PJSUA destroyed",
        r"|SIP (?:UDP|TCP|TLS)[A-Za-z0-9 ]* transport started",
        r"|Starting async DNS [A-Z]+ query",
        // pjsip's description of a message (`pjsip_rx_data_get_info`), at a record's start.
        r"|(?:Incoming |Processing incoming message: )?(?:Request|Response) msg [A-Z0-9]+",
        r"(?:/[A-Z]+)?/cseq=[0-9]+ \([a-z]+(?:0x)?[0-9A-Fa-f]+\)",
        // Start-up: a log of start-up alone, or with pjsip's decor off, shows no other anchor.
        r#"|Module "mod-[A-Za-z0-9_-]+" registered"#,
        r#"|Event pkg "[A-Za-z0-9._-]+" registered by "#,
        r"|pjlib [0-9][^ ]* for [A-Za-z0-9]+ initialized",
        r"|pjsua version [0-9][^ ]* for [^ ]+ initialized",
        r"|[0-9]+ SIP worker threads? created",
        r"|(?:select\(\)|epoll) I/O Queue created",
        r"|Creating conference bridge with [0-9]+ ports",
        r")",
    ))
    .expect("static regex")
});

/// A record found on a line by an anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Anchor {
    /// The sender, when a sender anchored it (empty range at `text` otherwise).
    pub sender: Range<usize>,
    /// Where the record's text starts (after the separator, marker and indent).
    pub text: usize,
    /// The text is one of pjsip's own (a sender and a message text both anchor it).
    pub known_text: bool,
}

/// The first pjsip record anchor on `line`, if any.
pub(super) fn find(line: &[u8]) -> Option<Anchor> {
    let by_sender = SENDER.captures_iter(line).find_map(|c| {
        let s = c.name("s")?;
        let name = s.as_bytes();
        // A name cut to the 32-bit column ends in its dot at 14 bytes; a whole word ending in
        // a dot is prose.
        if name.ends_with(b".") && (name.len() != 14 || !name.contains(&b'_')) {
            return None;
        }
        // A record whose text is on the next lines (pjsua's call dumps) has none here.
        let text = c.name("t").map_or(line.len(), |t| t.start());
        Some(Anchor {
            sender: s.range(),
            text,
            known_text: TEXT
                .captures_at(line, text.saturating_sub(1))
                .and_then(|t| t.name("t"))
                .is_some_and(|t| t.start() == text),
        })
    });
    let by_text = || {
        TEXT.captures(line)
            .and_then(|c| c.name("t"))
            .map(|t| Anchor {
                sender: t.start()..t.start(),
                text: t.start(),
                known_text: true,
            })
    };
    match by_sender {
        Some(a) => Some(a),
        None => by_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(line: &str) -> Option<(&str, &str)> {
        let a = find(line.as_bytes())?;
        Some((&line[a.sender.clone()], &line[a.text..]))
    }

    #[test]
    fn senders_and_texts_anchor_records_anywhere() {
        for (line, sender, text) in [
            (
                "`INFO    10:35:37.182 [VSLEndpoint void logCallBack(int, const char *, int):448] tcpc0x17393614 !TCP connect() error`",
                "tcpc0x17393614",
                "TCP connect() error`",
            ),
            (
                "x):448]  tsx0x17394a64  Failed to send Request msg REGISTER",
                "tsx0x17394a64",
                "Failed to send Request msg REGISTER",
            ),
            (
                "x):445]    pjsua_acc.c  ..SIP registration failed, status=503",
                "pjsua_acc.c",
                "SIP registration failed, status=503",
            ),
            (
                "2017-01-19 12:06:30.891200 App[1:2] ERROR [VSLEndpoint x):442] sip_transport. Error processing 559 bytes packet",
                "sip_transport.",
                "Error processing 559 bytes packet",
            ),
            (
                "10:53:07.261 tsx039500D4  .Retransmit timer event",
                "tsx039500D4",
                "Retransmit timer event",
            ),
            (
                "1.[15:54:21]Sat Making call with acc #0 to sip:1@2",
                "",
                "Making call with acc #0 to sip:1@2",
            ),
            (
                "[14:47:10.762][t:25][p:25][pjsip][debug] Module \"mod-pjsua-log\" registered",
                "",
                "Module \"mod-pjsua-log\" registered",
            ),
            (
                "[05:42:12.873][t:4733][p:4711][pjsip][debug] pjlib 2.15.1 for POSIX initialized",
                "",
                "pjlib 2.15.1 for POSIX initialized",
            ),
            (
                "[05:42:13.688] Processing incoming message: Request msg INVITE/cseq=30760 (rdata0x55b9d6907828)",
                "",
                "Processing incoming message: Request msg INVITE/cseq=30760 (rdata0x55b9d6907828)",
            ),
            (
                "[15:54:21]Sat Unable to open sound device: Unknown error -5",
                "",
                "Unable to open sound device: Unknown error -5",
            ),
        ] {
            assert_eq!(text_of(line), Some((sender, text)), "{line}");
        }
    }

    #[test]
    fn prose_and_source_are_not_records() {
        for line in [
            "I think the bug is in main.c and in the transport.",
            "It failed.  Then it worked again.",
            "the call ends successfully.  Then",
            "    PJ_LOG(4,(THIS_FILE, \"Making call with acc #%d to %.*s\", acc_id,",
            "#define THIS_FILE \"pjsua_call.c\"",
            "status = pjsua_call_make_call(acct_id, &dest_uri, &call_opt, NULL, &msg_data, &call_id);",
        ] {
            assert_eq!(find(line.as_bytes()), None, "{line}");
        }
    }
}
