//! Meta-tests of the registry: names, docs, and every format's fixtures sniffed as it and as
//! no other.

use super::*;

fn fixture(rel: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut head = Vec::new();
    let mut r: Box<dyn std::io::Read> = if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(&bytes[..]))
    } else {
        Box::new(&bytes[..])
    };
    std::io::Read::read_to_end(
        &mut std::io::Read::take(&mut r, crate::ingest::HEAD_BYTES as u64),
        &mut head,
    )
    .expect("read");
    head
}

#[test]
fn names_are_unique_lowercase_and_found() {
    let mut seen = std::collections::BTreeSet::new();
    for f in FORMATS {
        assert!(seen.insert(f.name), "{} twice", f.name);
        assert!(
            f.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{}",
            f.name
        );
        assert_eq!(Format::named(&f.name.to_uppercase()), Some(*f));
        assert!(
            f.looks.starts_with("a ") || f.looks.starts_with("an "),
            "{}",
            f.looks
        );
        assert!(!f.summary.ends_with('.'), "{}: summary", f.name);
    }
}

#[test]
fn docs_have_every_section_in_order() {
    for f in FORMATS {
        let mut at = 0;
        for section in DOC_SECTIONS {
            let found = f.docs[at..]
                .find(&format!("{section}\n"))
                .unwrap_or_else(|| panic!("{}: no `{section}` (or out of order)", f.name));
            at += found + section.len();
        }
    }
}

/// Each format's fixtures sniff as that format, and the most specific other format that also
/// matches is less specific (so no other format is picked, whatever the list order).
#[test]
fn every_fixture_sniffs_as_its_format_and_no_other() {
    for f in FORMATS {
        for rel in f.fixtures {
            let head = fixture(rel);
            let all = sniff_all(&head);
            assert_eq!(sniff(&head), Some(*f), "{rel}: {all:?}");
            if let [(_, top), (other, second), ..] = all[..] {
                assert!(top > second, "{rel}: {} ties with {other}", f.name);
            }
        }
    }
}

/// No input is left without a format by the registry: every text format's fixtures are read
/// with messages.
#[test]
fn every_text_fixture_gives_messages() {
    for f in FORMATS.iter().filter(|f| !f.is_capture()) {
        for rel in f.fixtures {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures")
                .join(rel);
            let bytes = std::fs::read(&path).expect("fixture");
            let (info, _, _) = crate::ingest::ingest_bytes(rel, bytes, &Default::default())
                .unwrap_or_else(|e| panic!("{rel}: {e}"));
            assert_eq!(info.format, *f, "{rel}");
            assert!(info.messages > 0, "{rel}: no messages");
        }
    }
}

/// Every text format's parser, fed its fixtures line by line (as a text read piece by piece
/// is cut: at line ends), gives the events and counts it gives fed the whole text at once.
#[test]
fn every_text_format_gives_the_same_events_in_pieces() {
    let mut compared = 0;
    for f in FORMATS {
        let Parser::Text(new) = f.parser else {
            continue;
        };
        for rel in f.fixtures {
            let text = crate::testutil::fixture(rel);
            let run = |pieces: bool| {
                let mut out = Vec::new();
                let mut emit = |e: Event| out.push(format!("{e:?}"));
                let start = TextStart {
                    head: &text,
                    input: 0,
                    date: None,
                    capture: &Default::default(),
                };
                let mut p = new(&start, &mut emit);
                let counts = if pieces {
                    for line in text.split_inclusive(|&b| b == b'\n') {
                        p.feed(line);
                    }
                    p.finish(b"")
                } else {
                    p.finish(&text)
                };
                (counts, out)
            };
            assert_eq!(run(true), run(false), "{rel}");
            compared += 1;
        }
    }
    assert!(compared >= 15, "{compared} fixtures compared");
}

#[test]
fn lists_name_every_format() {
    let looks = looks_list();
    assert!(looks.starts_with("a capture, pjsip log, "), "{looks}");
    let reads = recognised_list();
    for f in FORMATS {
        assert!(reads.contains(f.recognises), "{reads}");
    }
}

/// No other fixture is taken for an ngrep trace, and ngrep's are taken for nothing else:
/// every text file under `fixtures/` (logs, SIPp traces, READMEs, scripts) is sniffed, and
/// ngrep's level is reached only by `derived-text/ngrep/` and `derived-text/sipgrep/` (ngrep's
/// layout).
#[test]
fn only_ngrep_texts_sniff_as_ngrep() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut seen = 0;
    for path in crate::testutil::fixture_files(&[]) {
        let rel = path
            .strip_prefix(&root)
            .expect("under fixtures")
            .to_string_lossy()
            .into_owned();
        if rel.ends_with(".gz") || rel.ends_with(".pcap") || rel.ends_with(".pcapng") {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let head = &bytes[..bytes.len().min(crate::ingest::HEAD_BYTES)];
        let ngrep = (ngrep::FORMAT.sniff)(head).is_some();
        let is_ngrep = (rel.starts_with("derived-text/ngrep/") && !rel.contains(".single."))
            || rel.starts_with("derived-text/sipgrep/")
            || rel.starts_with("stacks/public/ngrep-");
        assert_eq!(ngrep, is_ngrep, "{rel}: {:?}", sniff_all(head));
        seen += 1;
    }
    assert!(seen > 100, "{seen} fixtures");
}

/// What a text format's parser gives for `text` fed line by line, told of a pause (a live
/// input's writer idle) after each line when `pauses`: the events, the counts, and how many
/// events were out at each pause (`(bytes fed, events out)`).
fn read_paused(
    new: NewTextParser,
    text: &[u8],
    pauses: bool,
) -> (Vec<Event>, TextCounts, Vec<(usize, usize)>) {
    let events = std::cell::RefCell::new(Vec::new());
    let mut out = Vec::new();
    let mut emit = |e: Event| events.borrow_mut().push(e);
    let start = TextStart {
        head: text,
        input: 0,
        date: None,
        capture: &Default::default(),
    };
    let mut p = new(&start, &mut emit);
    let mut at = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        p.feed(line);
        at += line.len();
        if pauses {
            p.pause();
            out.push((at, events.borrow().len()));
        }
    }
    let counts = p.finish(b"");
    (events.into_inner(), counts, out)
}

/// A message event's span in the text, and whether it is not whole (cut, or short of its
/// Content-Length); `None` for a log event.
fn span_of(e: &Event) -> Option<(std::ops::Range<usize>, bool)> {
    match e {
        Event::Message(m) => match &m.origin.locator {
            crate::event::Locator::Text { span, .. } => {
                let whole =
                    m.cut.is_none() && crate::sip::message_len(m.raw()) == Some(m.raw().len());
                Some((span.clone(), !whole))
            }
            crate::event::Locator::Frames(_) => None,
        },
        Event::Log(_) => None,
    }
}

/// Every text format's parser, told of a pause after every line of every fixture (a live
/// input whose writer stops anywhere, as often as it likes), gives exactly the events and
/// counts it gives without pauses: nothing twice, nothing lost, nothing changed. And a pause
/// hands on what is whole: a message that is not cut and has its Content-Length is out once the input paused before the
/// next record after it began (or at the input's end, for the last one), not held for lines
/// that are not its.
#[test]
fn a_pause_anywhere_changes_no_event_and_hands_on_what_is_whole() {
    let debug =
        |events: &[Event]| -> Vec<String> { events.iter().map(|e| format!("{e:?}")).collect() };
    let (mut compared, mut live) = (0, 0);
    for f in FORMATS {
        let Parser::Text(new) = f.parser else {
            continue;
        };
        for rel in f.fixtures {
            let text = crate::testutil::fixture(rel);
            let (whole, whole_counts, _) = read_paused(new, &text, false);
            let (events, counts, out) = read_paused(new, &text, true);
            assert_eq!(debug(&events), debug(&whole), "{rel}: {f}");
            assert_eq!(counts, whole_counts, "{rel}: {f}");
            compared += 1;
            let spans: Vec<_> = whole.iter().map(span_of).collect();
            for (k, span) in spans.iter().enumerate() {
                let Some((span, false)) = span else {
                    continue;
                };
                // ngrep's and tcpdump -A's TCP segments wait for the next header (their end is
                // not sure at a pause: see `ngrep.rs`, `tcpdump.rs`).
                let tcp = matches!(&whole[k], Event::Message(m)
                    if m.transport == crate::event::Transport::Tcp);
                if (f.name == "ngrep" || f.name == "tcpdump") && tcp {
                    continue;
                }
                // The next record after this message: the first later message that begins at
                // or after its end, or the end of the input.
                let next = spans[k + 1..]
                    .iter()
                    .flatten()
                    .map(|(s, _)| s.start)
                    .find(|&s| s >= span.end)
                    .unwrap_or(text.len());
                // tshark's dissection ends a frame with a blank line: a paste that stops
                // before it (a public excerpt) leaves its last frame open at a pause, since more
                // of its header lines may follow.
                let open_frame = f.name == "tshark-text"
                    && next == text.len()
                    && !text.ends_with(b"\n\n")
                    && !text.ends_with(b"\n\r\n");
                if open_frame {
                    continue;
                }
                let (at, n) = out
                    .iter()
                    .rev()
                    .find(|(at, _)| *at <= next)
                    .copied()
                    .unwrap_or((0, 0));
                assert!(
                    n > k,
                    "{rel}: event {k} (bytes {span:?}) not out at a pause at byte {at}, before \
                     the next record at {next}"
                );
                live += 1;
            }
        }
    }
    assert!(compared >= 15, "{compared} fixtures compared");
    assert!(live >= 100, "{live} messages out at a pause");
}

/// The messages of a public excerpt (`fixtures/stacks/public/`), read as `format`.
fn public(format: Format, name: &str) -> Vec<crate::event::MessageEvent> {
    crate::testutil::messages_as(
        format,
        &crate::testutil::fixture(&format!("stacks/public/{name}")),
    )
}

fn start_line(m: &crate::event::MessageEvent) -> String {
    let raw = m.raw();
    let end = raw
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

/// Wireshark's "Export Packet Dissections → As Plain Text" that a student posted in a course
/// repository (summary lines, then each frame's layers collapsed but SIP's, whose `Message
/// Body` is collapsed too): one call, INVITE, 200, BYE, 200, with the summary lines' times
/// (seconds since the first frame). The bodies are not in the text, so the INVITE and its 200
/// are cut by the text (not short datagrams: `content-length-mismatch` says nothing). The same
/// post's export with every SIP layer collapsed gives no message (no start line to rebuild).
#[test]
fn public_wireshark_export_is_read() {
    let file = "wireshark-export-nathanlys-m4205c-call.txt";
    assert_eq!(
        sniff(&fixture(&format!("stacks/public/{file}"))),
        Some(tshark_text::FORMAT)
    );
    let m = public(tshark_text::FORMAT, file);
    let lines: Vec<String> = m.iter().map(start_line).collect();
    assert_eq!(
        lines,
        [
            "INVITE sip:nlys@10.213.0.154:52210;transport=UDP SIP/2.0",
            "SIP/2.0 200 OK",
            "BYE sip:62@10.255.150.110:5060 SIP/2.0",
            "SIP/2.0 200 OK",
        ]
    );
    let call_ids: std::collections::BTreeSet<_> =
        m.iter().filter_map(|m| m.parsed()?.call_id()).collect();
    assert_eq!(call_ids.len(), 1, "one call");
    let cuts: Vec<_> = m.iter().map(|m| m.cut).collect();
    use crate::event::Cut;
    assert_eq!(
        cuts,
        [Some(Cut::InputEdge), Some(Cut::InputEdge), None, None]
    );
    assert_eq!(m[0].ts.micros, 12_808_812);
    assert!(!m[0].ts.dated && !m[0].ts.unknown);
    assert_eq!(m[3].ts.micros, 17_578_468);
    assert_eq!(m[0].src.as_deref(), Some("10.255.150.110:5060"));
    assert_eq!(m[0].transport, crate::event::Transport::Udp);

    let collapsed = "wireshark-export-nathanlys-m4205c-collapsed.txt";
    assert_eq!(
        sniff(&fixture(&format!("stacks/public/{collapsed}"))),
        Some(tshark_text::FORMAT)
    );
    assert!(public(tshark_text::FORMAT, collapsed).is_empty());
}

/// The layouts the public export showed, in small: a summary line's time in each of tshark's
/// forms (Epoch Time, where shown, wins), and a collapsed `Message Header` or `Message Body`
/// making the message cut by the text, not short.
#[test]
fn tshark_text_summary_times_and_collapsed_headings() {
    let frame = |summary: &str, epoch: &str, sip: &str| {
        format!(
            "{summary}\nFrame 1: 300 bytes on wire (2400 bits), 300 bytes captured (2400 bits)\n\
             {epoch}Internet Protocol Version 4, Src: 10.0.0.1, Dst: 10.0.0.2\n\
             User Datagram Protocol, Src Port: 5060, Dst Port: 5062\n\
             Session Initiation Protocol (INVITE)\n    Request-Line: INVITE sip:b@h SIP/2.0\n{sip}\n"
        )
    };
    let headers = "    Message Header\n        Call-ID: c1\n        CSeq: 1 INVITE\n        \
                   Content-Length: 4\n";
    let body = "    Message Body\n        Line-based text data: text/plain (1 lines)\n            \
                abc\\r\\n\n";
    let read = |text: String| crate::testutil::messages_as(tshark_text::FORMAT, text.as_bytes());
    let ts = |summary: &str, epoch: &str| {
        let m = read(frame(summary, epoch, &format!("{headers}{body}")));
        assert_eq!(m.len(), 1, "{summary}");
        assert_eq!(m[0].cut, None);
        m[0].ts
    };
    let t = ts(
        "      1 2026-11-21 06:11:05.124863 10.0.0.1 → 10.0.0.2 SIP 300 Request",
        "",
    );
    assert!(t.dated);
    assert_eq!(t.to_string(), "2026-11-21 06:11:05.124");
    assert_eq!(t.micros % 1_000_000, 124_863);
    let t = ts(
        "      1 06:11:05.124863 10.0.0.1 → 10.0.0.2 SIP 300 Request",
        "",
    );
    assert_eq!((t.to_string().as_str(), t.dated), ("06:11:05.124", false));
    let t = ts(
        "      1 1795241465.124863 10.0.0.1 → 10.0.0.2 SIP 300 Request",
        "",
    );
    assert_eq!((t.micros, t.dated), (1_795_241_465_124_863, true));
    let t = ts("  12345 0.5 10.0.0.1 → 10.0.0.2 SIP 300 Request", "");
    assert_eq!((t.micros, t.dated), (500_000, false));
    let t = ts(
        "      1 0.000000 10.0.0.1 → 10.0.0.2 SIP 300 Request",
        "    Epoch Time: 1795241465.124863000 seconds\n",
    );
    assert!(t.dated, "Epoch Time wins");
    // No summary line: unknown, as before.
    assert!(ts("", "").unknown);

    // The body collapsed: the text lost it, the sender did not.
    let m = read(frame("", "", &format!("{headers}    Message Body\n")));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].cut, Some(crate::event::Cut::InputEdge));
    // The header block collapsed: cut too.
    let m = read(frame("", "", &format!("    Message Header\n{body}")));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].cut, Some(crate::event::Cut::InputEdge));

    // An SDP body whose lines tshark gives as fields is rebuilt whole; one with a line it
    // shows only as `Invalid line [truncated]: …` (no `=`: fixtures/rules-message-extra/
    // invalid-sdp) is not: the text lost bytes of it.
    let sdp = |line: &str| {
        format!(
            "    Message Body\n        Session Description Protocol\n            \
             Session Description Protocol Version (v): 0\n            {line}\n"
        )
    };
    let m = read(frame(
        "",
        "",
        &format!(
            "{headers}{}",
            sdp("Session Name (s): -\n            [Generated Call-ID: c1]")
        ),
    ));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].cut, None);
    assert!(m[0].raw().ends_with(b"\r\n\r\nv=0\r\ns=-\r\n"));
    let m = read(frame(
        "",
        "",
        &format!("{headers}{}", sdp("Invalid line [truncated]: XXXX")),
    ));
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].cut, Some(crate::event::Cut::Damaged));
}

/// `tcpdump -A -s 0 -n -nn -i any port 5060` as a blog post shows it (tcpdump's one-line SIP
/// summary, no length): INVITE, 100, 200 and ACK of one call, the excerpt ending right after
/// the ACK's last header (cut by the input's edge). Each packet's text ends with a line of 16
/// dots after the message: bytes past the IP datagram (its 100 Trying's IP and UDP lengths,
/// printable there, say 280 bytes of SIP) that `-A` prints as `.`: a frame trailer, dropped
/// (the docs page says how it is told).
#[test]
fn public_tcpdump_excerpt_is_read() {
    let file = "tcpdump-p8952-blog-A-invite-ack.txt";
    assert_eq!(
        sniff(&fixture(&format!("stacks/public/{file}"))),
        Some(tcpdump::FORMAT)
    );
    let m = public(tcpdump::FORMAT, file);
    let lines: Vec<String> = m.iter().map(start_line).collect();
    assert_eq!(
        lines,
        [
            "INVITE sip:12345@192.168.47.122 SIP/2.0",
            "SIP/2.0 100 Trying",
            "SIP/2.0 200 OK",
            "ACK sip:12345@192.168.47.122:5060;transport=udp SIP/2.0",
        ]
    );
    assert!(
        m.iter()
            .all(|m| m.parsed().and_then(|p| p.call_id()).as_deref() == Some("2105648811"))
    );
    assert_eq!(m[0].ts.to_string(), "14:41:44.404");
    assert_eq!(m[0].src.as_deref(), Some("192.168.47.176:5060"));
    assert_eq!(m[2].dst.as_deref(), Some("192.168.47.176:5060"));
    let cuts: Vec<_> = m.iter().map(|m| m.cut).collect();
    assert_eq!(cuts, [None, None, None, Some(crate::event::Cut::InputEdge)]);
    // The trailer's 16 bytes are not the 100 Trying's (280 bytes of SIP), nor the INVITE's
    // (its body is whole by its Content-Length without them).
    assert!(m[1].raw().ends_with(b"Content-Length: 0\r\n\r\n"));
    assert_eq!(m[1].raw().len(), 280);
    assert!(m[..3].iter().all(|m| !m.raw().ends_with(b"...")));
    assert!(
        m[..3]
            .iter()
            .all(|m| m.parsed().is_some_and(|p| p.issues().is_empty())),
        "no Content-Length issue"
    );
}

/// Kamailio 5 on stderr, as a user posted it in Kamailio's issues: the script's `xlog` record
/// (`New message:`), then `$mb` after a space the script's format put there (` INVITE …`),
/// the excerpt ending inside the header block: one INVITE, cut by the input's edge.
#[test]
fn public_kamailio_excerpt_is_read() {
    let file = "kamailio-1257-xlog-mb-invite.log";
    assert_eq!(
        sniff(&fixture(&format!("stacks/public/{file}"))),
        Some(kamailio::FORMAT)
    );
    let m = public(kamailio::FORMAT, file);
    assert_eq!(m.len(), 1);
    assert_eq!(
        start_line(&m[0]),
        "INVITE sip:edi-2001@time-reversal.com SIP/2.0"
    );
    let p = m[0].parsed().expect("parsed");
    assert_eq!(p.call_id().as_deref(), Some("JRsgN1qwek"));
    // The record says nothing of where the message came from (its Via is the sender's word).
    assert_eq!((m[0].direction, m[0].src.as_deref()), (None, None));
    assert_eq!(m[0].cut, Some(crate::event::Cut::InputEdge));
    assert!(m[0].ts.unknown, "stderr's records have no time");
}

/// The script's text may put spaces or a tab between the record's line end and `$mb`: they
/// are not the message's; a line after a record that is not a start line, indented or not,
/// starts nothing.
#[test]
fn kamailio_message_after_an_indent() {
    let text = b" 3(12) INFO: <script>: in from udp:10.0.0.1:5060\n\tOPTIONS sip:p SIP/2.0\r\n\
        Call-ID: a\r\nContent-Length: 0\r\n\r\n\n 3(12) INFO: <script>: note\n  not a message\n";
    assert_eq!(sniff(text), Some(kamailio::FORMAT));
    let m = crate::testutil::messages_as(kamailio::FORMAT, text);
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0].raw(),
        b"OPTIONS sip:p SIP/2.0\r\nCall-ID: a\r\nContent-Length: 0\r\n\r\n"
    );
    assert_eq!(m[0].src.as_deref(), Some("10.0.0.1:5060"));
    assert_eq!(m[0].cut, None);
}

/// OPAL's PTLib trace from sipcmd, as a user posted it in sipcmd's issues (each line indented
/// by the poster with a tab): trace lines, then `Sending PDU (2271 bytes) to: rem=udp$…` and
/// an INVITE in compact form, the excerpt ending inside its header block: one INVITE sent,
/// cut by the input's edge.
#[test]
fn public_opal_excerpt_is_read() {
    let file = "opal-sipcmd-59-sending-pdu-invite.log";
    assert_eq!(
        sniff(&fixture(&format!("stacks/public/{file}"))),
        Some(opal::FORMAT)
    );
    let m = public(opal::FORMAT, file);
    assert_eq!(m.len(), 1);
    assert_eq!(
        start_line(&m[0]),
        "INVITE sip:0033661940377@sip3.ovh.fr SIP/2.0"
    );
    let p = m[0].parsed().expect("parsed");
    // Compact forms: `i:` is the Call-ID.
    assert_eq!(
        p.call_id().as_deref(),
        Some("9ec196d7-c4f0-e811-98ba-080027276d01@aco-VirtualBox")
    );
    assert_eq!(m[0].direction, Some(crate::event::Direction::Tx));
    assert_eq!(m[0].dst.as_deref(), Some("91.121.129.159:5060"));
    assert_eq!(m[0].src.as_deref(), Some("192.168.105.37:5060"));
    assert_eq!(m[0].transport, crate::event::Transport::Udp);
    assert_eq!(m[0].declared_len, Some(2271));
    assert_eq!(m[0].cut, Some(crate::event::Cut::InputEdge));
    // The poster's tab is not the message's.
    assert!(
        m[0].raw()
            .starts_with(b"INVITE sip:0033661940377@sip3.ovh.fr SIP/2.0\r\nCSeq: 1 INVITE\r\nv: ")
    );
    // PTLib's elapsed time: 10.144 s since the process started, undated.
    assert_eq!((m[0].ts.micros, m[0].ts.dated), (10_144_000, false));
}
