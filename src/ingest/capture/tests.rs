//! Tests of the capture path as a whole: what the zero-copy reading promises, on every
//! recorded capture of the fixtures.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::*;

/// Every pcap and pcapng file under `fixtures/`.
fn recorded_captures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut out,
    );
    out
}

#[test]
fn datagram_messages_point_into_the_capture_and_read_as_a_parse_would() {
    // On the UDP path a message is a slice of the reader's chunk (no copy of its bytes), framed
    // by the grammar's one pass over its header block; finishing it from that pass gives the
    // message a parse of its bytes gives.
    let (mut files, mut shared, mut finished) = (0, 0, 0);
    for path in recorded_captures() {
        let bytes = std::fs::read(&path).expect("fixture");
        let mut decoder = decode::Decoder::new();
        let mut payloads = payload::Payloads::new(payload::PayloadOptions::default());
        let (mut datagrams, mut chunks, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
        let Ok(_) = reader::read_chunks(&mut &bytes[..], &mut |chunk, pkt| {
            decoder.decode_in(chunk, &pkt, &mut datagrams, &mut warnings);
            for d in &datagrams {
                payloads.push_ref(d, &mut chunks, &mut warnings);
                for c in chunks.drain(..) {
                    if c.transport == Transport::Udp && d.frames.len() == 1 {
                        assert!(within(chunk, &c.bytes), "{}: a copy", path.display());
                        shared += 1;
                    }
                    if let Some(head) = c.head {
                        let parsed = SipMessage::parse_shared(c.bytes.clone()).expect("parses");
                        let from_head = SipMessage::from_head(c.bytes, head);
                        assert_eq!(format!("{from_head:?}"), format!("{parsed:?}"));
                        finished += 1;
                    }
                }
            }
            datagrams.clear();
        }) else {
            continue;
        };
        files += 1;
    }
    assert!(files > 50, "{files} captures");
    assert!(
        shared > 500 && finished > 500,
        "{shared} shared, {finished} finished"
    );
}

#[test]
fn messages_are_copied_out_of_chunks_that_media_fills() {
    let mut pins = Pins::default();
    // SIP only: every message may stay a slice of its chunk.
    for _ in 0..1000 {
        pins.read(600);
        assert!(pins.keep(560));
    }
    // Then a call's media: 50 RTP packets per SIP message. Once media has filled the last
    // few chunks' worth of packets (a megabyte here), every message is copied.
    let (mut early, mut late) = (0, 0);
    for i in 0..20_000 {
        pins.read(214);
        if i % 50 == 0 {
            let kept = usize::from(pins.keep(560));
            if i < 5000 {
                early += kept
            } else {
                late += kept
            }
        }
    }
    assert!(early < 50, "{early} of the first 100 kept as slices");
    assert_eq!(late, 0);
    // And back to SIP only: slices again.
    for _ in 0..1000 {
        pins.read(600);
        pins.keep(560);
    }
    assert!(pins.keep(560));
}

#[test]
fn share_slices_only_what_lies_in_the_buffer() {
    let whole = Bytes::from(b"INVITE sip:a@b SIP/2.0\r\n".to_vec());
    let part = share(&whole, &whole[7..14]);
    assert_eq!(part, &b"sip:a@b"[..]);
    assert_eq!(part.as_ptr(), whole[7..].as_ptr());
    let elsewhere = b"sip:a@b".to_vec();
    let copy = share(&whole, &elsewhere);
    assert_eq!(copy, &b"sip:a@b"[..]);
    assert_ne!(copy.as_ptr(), elsewhere.as_ptr());
}
