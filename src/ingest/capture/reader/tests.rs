//! Reader tests: hand-built pcap and pcapng byte streams, damaged files, slow and failing
//! readers, and the public captures (when present).

use std::io::{self, Read};

use super::*;
use crate::testutil::{Lcg, shared_public};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Got {
    frame: u64,
    micros: i64,
    linktype: i32,
    data: Vec<u8>,
    orig_len: u32,
}

fn collect_from(r: &mut dyn Read) -> Result<(Vec<Got>, ReadSummary), ReadError> {
    let mut got = Vec::new();
    let summary = read(r, &mut |p| {
        assert!(p.ts.dated);
        got.push(Got {
            frame: p.frame,
            micros: p.ts.micros,
            linktype: p.linktype,
            data: p.data.to_vec(),
            orig_len: p.orig_len,
        })
    })?;
    Ok((got, summary))
}

fn collect(bytes: &[u8]) -> (Vec<Got>, ReadSummary) {
    let (got, summary) = collect_from(&mut &bytes[..]).expect("readable");
    // The same bytes through a reader that returns one byte at a time, and through one that is
    // interrupted before every read, give the same result.
    let (slow, slow_summary) = collect_from(&mut Trickle {
        data: bytes,
        pos: 0,
        interrupt: false,
        flip: false,
    })
    .expect("readable");
    assert_eq!(slow, got);
    assert_eq!(slow_summary.warnings, summary.warnings);
    let (intr, _) = collect_from(&mut Trickle {
        data: bytes,
        pos: 0,
        interrupt: true,
        flip: false,
    })
    .expect("readable");
    assert_eq!(intr, got);
    (got, summary)
}

/// Returns one byte per read; with `interrupt`, an `Interrupted` error before each byte.
struct Trickle<'a> {
    data: &'a [u8],
    pos: usize,
    interrupt: bool,
    flip: bool,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.interrupt && !self.flip {
            self.flip = true;
            return Err(io::Error::new(io::ErrorKind::Interrupted, "again"));
        }
        self.flip = false;
        if buf.is_empty() || self.pos >= self.data.len() {
            return Ok(0);
        }
        buf[0] = self.data[self.pos];
        self.pos += 1;
        Ok(1)
    }
}

/// Yields `ok` bytes, then fails.
struct Failing<'a> {
    data: &'a [u8],
    ok: usize,
    pos: usize,
}

impl Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.ok {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf
            .len()
            .min(self.ok - self.pos)
            .min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

// ---- pcap builders ----

fn pcap_header(be: bool, ns: bool, snaplen: u32, linktype: u32) -> Vec<u8> {
    let magic: u32 = if ns { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
    let mut v = Vec::new();
    let put32 = |v: &mut Vec<u8>, x: u32| {
        v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() })
    };
    let put16 = |v: &mut Vec<u8>, x: u16| {
        v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() })
    };
    put32(&mut v, magic);
    put16(&mut v, 2);
    put16(&mut v, 4);
    put32(&mut v, 0);
    put32(&mut v, 0);
    put32(&mut v, snaplen);
    put32(&mut v, linktype);
    v
}

fn pcap_record(be: bool, sec: u32, frac: u32, data: &[u8], orig: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [sec, frac, data.len() as u32, orig] {
        v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
    }
    v.extend_from_slice(data);
    v
}

// ---- pcapng builders ----

struct Ng {
    be: bool,
    out: Vec<u8>,
}

impl Ng {
    fn new(be: bool) -> Self {
        let mut ng = Ng {
            be,
            out: Vec::new(),
        };
        ng.shb();
        ng
    }

    fn u16(&self, x: u16) -> [u8; 2] {
        if self.be {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    }

    fn u32(&self, x: u32) -> [u8; 4] {
        if self.be {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    }

    fn block(&mut self, ty: u32, body: &[u8]) -> &mut Self {
        let mut body = body.to_vec();
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        let len = 12 + body.len() as u32;
        let (t, l) = (self.u32(ty), self.u32(len));
        self.out.extend_from_slice(&t);
        self.out.extend_from_slice(&l);
        self.out.extend_from_slice(&body);
        self.out.extend_from_slice(&l);
        self
    }

    fn shb(&mut self) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32(0x1A2B_3C4D));
        body.extend_from_slice(&self.u16(1));
        body.extend_from_slice(&self.u16(0));
        body.extend_from_slice(&[0xff; 8]);
        self.block(0x0A0D_0D0A, &body)
    }

    fn options(&self, opts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut v = Vec::new();
        if opts.is_empty() {
            return v;
        }
        for (code, val) in opts {
            v.extend_from_slice(&self.u16(*code));
            v.extend_from_slice(&self.u16(val.len() as u16));
            v.extend_from_slice(val);
            while !v.len().is_multiple_of(4) {
                v.push(0);
            }
        }
        v.extend_from_slice(&[0, 0, 0, 0]);
        v
    }

    fn idb(&mut self, linktype: u16, snaplen: u32, opts: &[(u16, Vec<u8>)]) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u16(linktype));
        body.extend_from_slice(&self.u16(0));
        body.extend_from_slice(&self.u32(snaplen));
        body.extend_from_slice(&self.options(opts));
        self.block(1, &body)
    }

    fn epb(&mut self, if_id: u32, ts: u64, data: &[u8], orig: u32) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32(if_id));
        body.extend_from_slice(&self.u32((ts >> 32) as u32));
        body.extend_from_slice(&self.u32(ts as u32));
        body.extend_from_slice(&self.u32(data.len() as u32));
        body.extend_from_slice(&self.u32(orig));
        body.extend_from_slice(data);
        while !body.len().is_multiple_of(4) {
            body.push(0);
        }
        self.block(6, &body)
    }

    fn spb(&mut self, data: &[u8], orig: u32) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u32(orig));
        body.extend_from_slice(data);
        self.block(3, &body)
    }

    fn pb(&mut self, if_id: u16, ts: u64, data: &[u8], orig: u32) -> &mut Self {
        let mut body = Vec::new();
        body.extend_from_slice(&self.u16(if_id));
        body.extend_from_slice(&self.u16(0));
        body.extend_from_slice(&self.u32((ts >> 32) as u32));
        body.extend_from_slice(&self.u32(ts as u32));
        body.extend_from_slice(&self.u32(data.len() as u32));
        body.extend_from_slice(&self.u32(orig));
        body.extend_from_slice(data);
        self.block(2, &body)
    }
}

const T0: i64 = 1_700_000_000;

// ---- pcap ----

#[test]
fn pcap_microseconds_both_byte_orders() {
    for be in [false, true] {
        let mut f = pcap_header(be, false, 65535, 1);
        f.extend(pcap_record(be, T0 as u32, 123_456, &[1, 2, 3], 3));
        f.extend(pcap_record(be, T0 as u32 + 1, 1, &[9; 10], 20));
        let (got, s) = collect(&f);
        assert_eq!(s.frames, 2);
        assert_eq!(s.format, Some(CaptureFormat::Pcap));
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        assert_eq!(
            got,
            vec![
                Got {
                    frame: 1,
                    micros: T0 * 1_000_000 + 123_456,
                    linktype: 1,
                    data: vec![1, 2, 3],
                    orig_len: 3
                },
                Got {
                    frame: 2,
                    micros: (T0 + 1) * 1_000_000 + 1,
                    linktype: 1,
                    data: vec![9; 10],
                    orig_len: 20
                },
            ]
        );
    }
}

#[test]
fn pcap_nanoseconds_both_byte_orders() {
    for be in [false, true] {
        let mut f = pcap_header(be, true, 262_144, 113);
        f.extend(pcap_record(be, T0 as u32, 123_456_789, &[7; 16], 16));
        f.extend(pcap_record(be, T0 as u32, 999_999_999, &[8; 16], 16));
        let (got, s) = collect(&f);
        assert_eq!(s.frames, 2);
        assert!(s.warnings.is_empty());
        assert_eq!(got[0].micros, T0 * 1_000_000 + 123_456);
        assert_eq!(got[1].micros, T0 * 1_000_000 + 999_999);
        assert_eq!(got[0].linktype, 113);
    }
}

#[test]
fn pcap_timestamp_after_2038() {
    // Seconds are unsigned: 2092 (as in heplify's sip_ipv6_udp.pcap) is not negative.
    let sec = 3_862_000_000u32;
    let mut f = pcap_header(false, false, 65535, 1);
    f.extend(pcap_record(false, sec, 5, &[1], 1));
    let (got, _) = collect(&f);
    assert_eq!(got[0].micros, i64::from(sec) * 1_000_000 + 5);
}

#[test]
fn pcap_linktype_fcs_bits_are_masked() {
    let mut f = pcap_header(false, false, 65535, 0x1000_0000 | 1);
    f.extend(pcap_record(false, 1, 0, &[1], 1));
    let (got, _) = collect(&f);
    assert_eq!(got[0].linktype, 1);
}

#[test]
fn pcap_header_only_is_an_empty_capture() {
    let f = pcap_header(false, false, 65535, 1);
    let (got, s) = collect(&f);
    assert!(got.is_empty());
    assert_eq!(s.frames, 0);
    assert!(s.warnings.is_empty());
}

#[test]
fn pcap_truncated_last_packet() {
    let mut f = pcap_header(false, false, 65535, 1);
    f.extend(pcap_record(false, 10, 0, &[1; 40], 40));
    let second = pcap_record(false, 11, 0, &[2; 40], 40);
    // Cut inside the data, and cut inside the record header.
    for cut in [30usize, 7] {
        let mut g = f.clone();
        g.extend_from_slice(&second[..cut]);
        let (got, s) = collect(&g);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].frame, 1);
        assert_eq!(s.frames, 1);
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert_eq!(s.warnings[0].kind, WarningKind::TruncatedFile);
        assert_eq!(s.warnings[0].frame, Some(2));
    }
}

#[test]
fn pcap_garbage_after_header() {
    let mut f = pcap_header(false, false, 65535, 1);
    f.extend_from_slice(b"this is not a packet record at all, just some text in the file");
    let (got, s) = collect(&f);
    assert!(got.is_empty());
    assert_eq!(s.frames, 0);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].kind, WarningKind::Corrupt);
    assert_eq!(s.warnings[0].frame, Some(1));

    // Garbage after two good records: both kept.
    let mut f = pcap_header(true, false, 65535, 1);
    f.extend(pcap_record(true, 1, 0, &[1; 20], 20));
    f.extend(pcap_record(true, 2, 0, &[2; 20], 20));
    f.extend_from_slice(&[0xff; 100]);
    let (got, s) = collect(&f);
    assert_eq!(got.len(), 2);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].kind, WarningKind::Corrupt);
    assert_eq!(s.warnings[0].frame, Some(3));
}

#[test]
fn pcap_caplen_beyond_snaplen() {
    // Slightly beyond a small snaplen: plausible, kept, reported once.
    let mut f = pcap_header(false, false, 64, 1);
    f.extend(pcap_record(false, 1, 0, &[1; 100], 100));
    f.extend(pcap_record(false, 2, 0, &[2; 100], 100));
    let (got, s) = collect(&f);
    assert_eq!(got.len(), 2);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].kind, WarningKind::Corrupt);
    assert_eq!(s.warnings[0].frame, Some(1));

    // Absurdly beyond: the read stops there, what came before is kept.
    let mut f = pcap_header(false, false, 65535, 1);
    f.extend(pcap_record(false, 1, 0, &[1; 10], 10));
    let mut bad = pcap_record(false, 2, 0, &[2; 10], 10);
    bad[8..12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    f.extend(bad);
    f.extend(pcap_record(false, 3, 0, &[3; 10], 10));
    let (got, s) = collect(&f);
    assert_eq!(got.len(), 1);
    assert_eq!(s.frames, 1);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].kind, WarningKind::Corrupt);
    assert_eq!(s.warnings[0].frame, Some(2));
}

#[test]
fn pcap_big_record_grows_the_buffer() {
    let big: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
    let mut f = pcap_header(false, false, 1_000_000, 1);
    f.extend(pcap_record(false, 1, 0, &[1; 10], 10));
    f.extend(pcap_record(false, 2, 0, &big, 300_000));
    f.extend(pcap_record(false, 3, 0, &[3; 10], 10));
    let (got, s) = collect_from(&mut &f[..]).unwrap();
    assert!(s.warnings.is_empty());
    assert_eq!(got.len(), 3);
    assert_eq!(got[1].data, big);
    assert_eq!(got[2].frame, 3);
}

#[test]
fn io_error_mid_stream_keeps_what_was_read() {
    let mut f = pcap_header(false, false, 65535, 1);
    f.extend(pcap_record(false, 1, 0, &[1; 10], 10));
    let ok = f.len();
    f.extend(pcap_record(false, 2, 0, &[2; 10], 10));
    let (got, s) = collect_from(&mut Failing {
        data: &f,
        ok: ok + 5,
        pos: 0,
    })
    .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].kind, WarningKind::Corrupt);
    assert!(s.warnings[0].message.contains("disk on fire"));
    assert_eq!(s.warnings[0].frame, Some(2));
}

#[test]
fn unreadable_headers_are_errors() {
    let r = |b: &[u8]| collect_from(&mut &b[..]).map(|_| ());
    assert!(matches!(r(b""), Err(ReadError::NotACapture)));
    assert!(matches!(
        r(b"hello world, not a capture"),
        Err(ReadError::NotACapture)
    ));
    let h = pcap_header(false, false, 65535, 1);
    assert!(matches!(r(&h[..10]), Err(ReadError::BadHeader(_))));
    let ng = Ng::new(false).out;
    assert!(matches!(r(&ng[..20]), Err(ReadError::BadHeader(_))));
    assert!(matches!(r(&ng[..8]), Err(ReadError::BadHeader(_))));
    let mut bad_bom = ng.clone();
    bad_bom[8] = 0;
    assert!(matches!(r(&bad_bom), Err(ReadError::BadHeader(_))));
    let mut e = Failing {
        data: &h,
        ok: 0,
        pos: 0,
    };
    assert!(matches!(collect_from(&mut e), Err(ReadError::Io(_))));
}

#[test]
fn magic_detection() {
    for m in [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
    ] {
        assert!(is_capture(&m));
        assert_eq!(detect(&m), Some(CaptureFormat::Pcap));
    }
    assert_eq!(
        detect(&[0x0a, 0x0d, 0x0d, 0x0a, 0, 0]),
        Some(CaptureFormat::Pcapng)
    );
    assert!(!is_capture(b"\x0a\x0d\x0d"));
    assert!(!is_capture(b"INVITE sip:a@b SIP/2.0"));
    assert!(!is_capture(&[0x1f, 0x8b, 0x08, 0x00]));
}

// ---- pcapng ----

fn sample_ng(be: bool) -> Vec<u8> {
    let mut ng = Ng::new(be);
    let tsoff = if be {
        100i64.to_be_bytes()
    } else {
        100i64.to_le_bytes()
    };
    ng.idb(1, 65535, &[])
        .idb(113, 65535, &[(9, vec![9])])
        .idb(101, 0, &[(9, vec![0x80 | 20]), (14, tsoff.to_vec())])
        .epb(1, (T0 as u64) * 1_000_000_000 + 123_456_789, &[0xaa; 5], 5)
        .block(4, &[0, 0, 0, 0]) // NRB, empty
        .epb(0, (T0 as u64) * 1_000_000 + 42, &[0xbb; 6], 60)
        .block(0x0000_0123, &[1, 2, 3, 4]) // unknown: warned once
        .block(0x0000_0123, &[1, 2, 3, 4])
        .epb(2, (3u64 << 20) + (1 << 19), &[0xcc; 7], 7)
        .spb(&[0xdd; 8], 8)
        .pb(1, (T0 as u64) * 1_000_000_000 + 5_000, &[0xee; 3], 3)
        .block(5, &[0; 12]); // ISB
    ng.out
}

#[test]
fn pcapng_interfaces_resolutions_and_block_kinds() {
    for be in [false, true] {
        let (got, s) = collect(&sample_ng(be));
        assert_eq!(s.format, Some(CaptureFormat::Pcapng));
        assert_eq!(s.frames, 5);
        assert_eq!(s.interfaces, 3);
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert_eq!(s.warnings[0].kind, WarningKind::Corrupt);
        assert!(s.warnings[0].message.contains("0x00000123"));
        let want = [
            (1, T0 * 1_000_000 + 123_456, 113, vec![0xaa; 5], 5),
            (2, T0 * 1_000_000 + 42, 1, vec![0xbb; 6], 60),
            // 3.5 s of 2^-20 units, plus the 100 s offset.
            (3, 103_500_000, 101, vec![0xcc; 7], 7),
            // The SPB has no time of its own: the previous packet's.
            (4, 103_500_000, 1, vec![0xdd; 8], 8),
            (5, T0 * 1_000_000 + 5, 113, vec![0xee; 3], 3),
        ];
        let want: Vec<Got> = want
            .into_iter()
            .map(|(frame, micros, linktype, data, orig_len)| Got {
                frame,
                micros,
                linktype,
                data,
                orig_len,
            })
            .collect();
        assert_eq!(got, want, "big endian: {be}");
    }
}

#[test]
fn pcapng_new_section_resets_interfaces_and_byte_order() {
    let mut f = Ng::new(false);
    f.idb(1, 0, &[]).epb(0, 1, &[1], 1);
    let mut g = Ng::new(true);
    g.idb(228, 0, &[]).epb(0, 2, &[2], 1);
    let mut bytes = f.out;
    bytes.extend(g.out);
    let (got, s) = collect(&bytes);
    assert!(s.warnings.is_empty());
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].linktype, got[0].micros), (1, 1));
    assert_eq!((got[1].frame, got[1].linktype, got[1].micros), (2, 228, 2));
}

#[test]
fn pcapng_truncated_last_packet() {
    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[]).epb(0, 1, &[1; 30], 30);
    let ok = ng.out.len();
    ng.epb(0, 2, &[2; 30], 30);
    let cut = &ng.out[..ok + 20];
    let (got, s) = collect(cut);
    assert_eq!(got.len(), 1);
    assert_eq!(s.frames, 1);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].kind, WarningKind::TruncatedFile);
    assert_eq!(s.warnings[0].frame, Some(2));
}

#[test]
fn pcapng_garbage_and_bad_lengths() {
    // Text after the section header.
    let mut f = Ng::new(false).out;
    f.extend_from_slice(b"garbage garbage garbage garbage garbage");
    let (got, s) = collect(&f);
    assert!(got.is_empty());
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].kind, WarningKind::Corrupt);

    // A block of length zero (would never advance), and one of 32 MiB.
    for len in [0u32, 8, 13, 32 << 20] {
        let mut ng = Ng::new(false);
        ng.idb(1, 0, &[]).epb(0, 1, &[1], 1);
        let mut f = ng.out;
        f.extend_from_slice(&6u32.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(&[0; 64]);
        let (got, s) = collect_from(&mut &f[..]).unwrap();
        assert_eq!(got.len(), 1, "len {len}");
        assert_eq!(s.warnings.len(), 1, "len {len}");
        assert_eq!(s.warnings[0].kind, WarningKind::Corrupt);
        assert_eq!(s.warnings[0].frame, Some(2));
    }

    // Trailing length differs from the leading one.
    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[]).epb(0, 1, &[1], 1);
    let n = ng.out.len();
    ng.out[n - 1] = 0x7f;
    let (got, s) = collect(&ng.out);
    assert!(got.is_empty());
    assert_eq!(s.warnings[0].kind, WarningKind::Corrupt);
}

#[test]
fn pcapng_malformed_packet_block_is_skipped_and_counted() {
    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[]).epb(0, 1, &[1; 8], 8);
    // An EPB whose caplen (200) is beyond its own block: framing is sound, content is not.
    let start = ng.out.len();
    ng.epb(0, 2, &[2; 8], 8);
    ng.out[start + 20..start + 24].copy_from_slice(&200u32.to_le_bytes());
    ng.epb(0, 3, &[3; 8], 8);
    let (got, s) = collect(&ng.out);
    assert_eq!(got.iter().map(|g| g.frame).collect::<Vec<_>>(), vec![1, 3]);
    assert_eq!(s.frames, 3);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].frame, Some(2));
}

#[test]
fn pcapng_packet_on_undescribed_interface() {
    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[])
        .epb(3, 1, &[1], 1)
        .epb(3, 2, &[2], 1)
        .epb(0, 3, &[3], 1);
    let (got, s) = collect(&ng.out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].frame, 3);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].frame, Some(1));
}

#[test]
fn pcapng_unreadable_interface_keeps_numbering() {
    let mut ng = Ng::new(false);
    // An IDB of 16 bytes (shorter than any IDB): framing sound, content not.
    ng.block(1, &[0, 0, 0, 0]).idb(101, 0, &[]);
    ng.epb(0, 1, &[1], 1).epb(1, 2, &[2], 1).epb(0, 3, &[3], 1);
    let (got, s) = collect(&ng.out);
    assert_eq!(s.interfaces, 2);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].frame, got[0].linktype), (2, 101));
    let kinds: Vec<_> = s.warnings.iter().map(|w| (w.kind, w.frame)).collect();
    assert_eq!(
        kinds,
        vec![
            (WarningKind::Corrupt, None),
            (WarningKind::Corrupt, Some(1))
        ]
    );
}

#[test]
fn pcapng_big_block_grows_the_buffer() {
    let big = vec![0x5a; 200_000];
    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[])
        .epb(0, 1, &big, 200_000)
        .epb(0, 2, &[1], 1);
    let (got, s) = collect_from(&mut &ng.out[..]).unwrap();
    assert!(s.warnings.is_empty());
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].data.len(), 200_000);
}

#[test]
fn pcapng_snaplen_exceeded_is_reported_once() {
    let mut ng = Ng::new(false);
    ng.idb(1, 4, &[])
        .epb(0, 1, &[1; 8], 8)
        .epb(0, 2, &[1; 8], 8);
    let (got, s) = collect(&ng.out);
    assert_eq!(got.len(), 2);
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].frame, Some(1));
}

#[test]
fn resolution_conversions() {
    assert_eq!(Resolution::from_tsresol(6), Some(Resolution::Pow10(6)));
    assert_eq!(Resolution::Pow10(3).micros(1_500, 0), 1_500_000);
    assert_eq!(Resolution::Pow10(9).micros(1_999, 0), 1);
    assert_eq!(Resolution::Pow2(10).micros(1024 * 7, -2), 5_000_000);
    assert_eq!(Resolution::from_tsresol(0xff), None);
    assert!(Resolution::from_tsresol(38).is_some());
    assert_eq!(Resolution::from_tsresol(39), None);
    // Nothing overflows.
    assert_eq!(Resolution::Pow10(0).micros(u64::MAX, i64::MAX), i64::MAX);
}

// ---- public captures (read in place, never copied) ----

#[test]
#[cfg_attr(not(shared_traces), ignore = "../shared/traces is absent (see README)")]
fn public_captures_frame_counts() {
    // (file, frames, link type of the first frame), from the README's capinfos column.
    let want = [
        ("zeek/wireshark.pcap", 81, 1),
        ("zeek/sip-long-request-response-paths.pcap", 2, 228),
        ("sngrep/aaa.pcap", 691, 1),
        ("sngrep/ipv6frag.pcap", 34, 113),
        ("ndpi/gre.pcapng", 1, 1),
        ("ndpi/sip_hello.pcapng", 30, 1),
        ("ndpi/http_on_sip_port.pcap", 4, 1),
        ("ndpi/fuzz-2006-06-26-2594.pcap", 691, 1),
        ("arkime/gtp-iphone.pcap", 106, 113),
        ("arkime/arkime_synthetic.pcap", 918, 1),
        ("heplify/erspan_sip_ipv4_udp.pcapng", 140, 1),
        ("heplify/ipip0.pcap", 8, 101),
        ("heplify/sip_sctp.pcap", 5, 113),
        ("heplify/sip_ipv4_tcp_fragmented.pcap", 1542, 1),
        ("suricata-verify/sip-body-large_sip-body-large.pcap", 16, 0),
        ("sip-rtp-pcap-analyzer/sip-session.pcap", 5284, 1),
    ];
    for (file, frames, linktype) in want {
        let path = shared_public().join(file);
        let mut f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut first = None;
        let mut last = 0;
        let s = read(&mut f, &mut |p| {
            assert_eq!(p.frame, last + 1);
            last = p.frame;
            first.get_or_insert(p.linktype);
        })
        .unwrap();
        assert_eq!(s.frames, frames, "{file}");
        assert_eq!(first, Some(linktype), "{file}");
        assert!(s.warnings.is_empty(), "{file}: {:?}", s.warnings);
    }
}

#[test]
fn never_panics_or_hangs_on_damaged_files() {
    let mut pcap = pcap_header(false, true, 65535, 1);
    for i in 0..20u32 {
        pcap.extend(pcap_record(false, i, i, &[i as u8; 37], 40));
    }
    let seeds = [sample_ng(false), sample_ng(true), pcap];
    let mut rng = Lcg(7);
    for seed in &seeds {
        for n in 0..=seed.len() {
            let _ = collect_from(&mut &seed[..n]);
        }
        for _ in 0..1000 {
            let mut f = seed.clone();
            for _ in 0..(1 + rng.next() % 6) {
                let i = rng.next() as usize % f.len();
                f[i] = rng.next() as u8;
            }
            if let Ok((got, s)) = collect_from(&mut &f[..]) {
                assert!(got.len() as u64 <= s.frames);
                assert!(s.warnings.len() < 64);
            }
        }
    }
}

#[test]
fn frames_are_slices_of_their_chunk_and_kept_slices_survive_refills() {
    // 3,000 records of 100 bytes: several chunks. Every 7th frame is kept as a slice of its
    // chunk while the read goes on; the chunks that nothing keeps are read into again, and
    // that must never touch the bytes of a kept one.
    let mut file = pcap_header(false, false, 65535, 1);
    let frame = |i: u32| -> Vec<u8> { (0..100u32).map(|k| (i * 31 + k) as u8).collect() };
    for i in 0..3000 {
        file.extend(pcap_record(false, i, 0, &frame(i), 100));
    }
    let (mut kept, mut chunks) = (Vec::new(), std::collections::BTreeSet::new());
    let summary = read_chunks(&mut &file[..], &mut |chunk, p| {
        let (c, d) = (chunk.as_ptr() as usize, p.data.as_ptr() as usize);
        assert!(
            d >= c && d + p.data.len() <= c + chunk.len(),
            "frame {}",
            p.frame
        );
        chunks.insert(c);
        if p.frame % 7 == 0 {
            kept.push((p.frame, chunk.slice_ref(p.data)));
        }
    })
    .expect("readable");
    assert_eq!(summary.frames, 3000);
    assert!(chunks.len() > 3, "{} chunks", chunks.len());
    assert_eq!(kept.len(), 3000 / 7);
    for (n, bytes) in kept {
        assert_eq!(bytes, frame(n as u32 - 1), "frame {n}");
    }
}

#[test]
fn a_chunk_nothing_keeps_is_read_into_again() {
    // What a capture of media costs: no new chunk (and no zeroed memory) per refill.
    let mut file = pcap_header(false, false, 65535, 1);
    for i in 0..3000u32 {
        file.extend(pcap_record(false, i, 0, &[0x80; 100], 100));
    }
    let mut chunks = std::collections::BTreeSet::new();
    let summary = read_chunks(&mut &file[..], &mut |chunk, _| {
        chunks.insert(chunk.as_ptr() as usize);
    })
    .expect("readable");
    assert_eq!(summary.frames, 3000);
    assert_eq!(chunks.len(), 1);
}
