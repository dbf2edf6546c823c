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
