//! Unit tests of the payload stage, driven by hand-made datagrams.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use super::{Limits, PayloadOptions, Payloads};
use crate::event::{Timestamp, Transport};
use crate::ingest::capture::{Datagram, L4, SipChunk, Warning, WarningKind};
use crate::sip::message_len;
use crate::testutil::Lcg;

// ---------------------------------------------------------------------------------------------
// Helpers

fn addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), port)
}

fn ts(frame: u64) -> Timestamp {
    Timestamp {
        micros: 1_700_000_000_000_000 + frame as i64 * 1000,
        dated: true,
        micro: true,
        unknown: false,
    }
}

fn dgram(frame: u64, src: SocketAddr, dst: SocketAddr, l4: L4, payload: &[u8]) -> Datagram {
    Datagram {
        frames: vec![frame].into(),
        ts: ts(frame),
        src,
        dst,
        l4,
        payload: payload.to_vec().into(),
        snapped: false,
    }
}

fn udp(frame: u64, src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Datagram {
    dgram(frame, src, dst, L4::Udp, payload)
}

fn tcp_l4(seq: u32, syn: bool, fin: bool, rst: bool) -> L4 {
    L4::Tcp { seq, syn, fin, rst }
}

fn tcp(frame: u64, src: SocketAddr, dst: SocketAddr, seq: u32, payload: &[u8]) -> Datagram {
    dgram(frame, src, dst, tcp_l4(seq, false, false, false), payload)
}

fn syn(frame: u64, src: SocketAddr, dst: SocketAddr, seq: u32) -> Datagram {
    dgram(frame, src, dst, tcp_l4(seq, true, false, false), b"")
}

fn fin(frame: u64, src: SocketAddr, dst: SocketAddr, seq: u32) -> Datagram {
    dgram(frame, src, dst, tcp_l4(seq, false, true, false), b"")
}

fn run_with(
    opts: PayloadOptions,
    limits: Limits,
    ds: Vec<Datagram>,
) -> (Vec<SipChunk>, Vec<Warning>) {
    let mut p = Payloads::with_limits(opts, limits);
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for d in ds {
        p.push(d, &mut out, &mut warnings);
    }
    p.finish(&mut out, &mut warnings);
    (out, warnings)
}

fn run(ds: Vec<Datagram>) -> (Vec<SipChunk>, Vec<Warning>) {
    run_with(PayloadOptions::default(), Limits::default(), ds)
}

fn req(method: &str, call_id: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} sip:bob@example.com SIP/2.0\r\n\
         Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-{call_id}\r\n\
         From: <sip:alice@example.com>;tag=1\r\n\
         To: <sip:bob@example.com>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 {method}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn resp(code: u16, reason: &str, call_id: &str) -> Vec<u8> {
    format!(
        "SIP/2.0 {code} {reason}\r\n\
         Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-{call_id}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn sdp(n: usize) -> String {
    let mut s = String::from("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n");
    while s.len() + 2 < n {
        s.push_str("a=x-filler:0123456789abcdef\r\n");
    }
    s.truncate(n.saturating_sub(2));
    s.push_str("\r\n");
    s
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn kinds(w: &[Warning]) -> Vec<WarningKind> {
    w.iter().map(|w| w.kind).collect()
}

// ---------------------------------------------------------------------------------------------
// UDP

#[test]
fn udp_single_message() {
    let (a, b) = (addr(1, 5060), addr(2, 5060));
    let m = req("INVITE", "c1", &sdp(120));
    let (out, w) = run(vec![udp(3, a, b, &m)]);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 1);
    let c = &out[0];
    assert_eq!(c.bytes, m);
    assert_eq!(c.frames[..], [3]);
    assert_eq!((c.src, c.dst, c.transport), (a, b, Transport::Udp));
    assert_eq!(c.ts, ts(3));
    assert!(!c.truncated);
}

#[test]
fn udp_messages_back_to_back() {
    let (a, b) = (addr(1, 5060), addr(2, 5060));
    let (m1, m2) = (req("MESSAGE", "c1", "hi"), resp(200, "OK", "c1"));
    let (out, w) = run(vec![udp(1, a, b, &cat(&[b"\r\n", &m1, b"\r\n", &m2]))]);
    assert!(w.is_empty(), "{w:?}");
    let bytes: Vec<_> = out.iter().map(|c| c.bytes.to_vec()).collect();
    assert_eq!(bytes, vec![m1, m2]);
    assert!(out.iter().all(|c| c.frames[..] == [1] && !c.truncated));
}

#[test]
fn udp_keepalives_and_stun_are_skipped_silently() {
    let (a, b) = (addr(1, 5060), addr(2, 5060));
    let mut stun = vec![0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42];
    stun.extend_from_slice(&[7; 12]);
    stun.extend_from_slice(&[0x80, 0x22, 0x00, 0x04, b'a', b'b', b'c', b'd']);
    let ds = vec![
        udp(1, a, b, b"\r\n\r\n"),
        udp(2, b, a, b"\r\n"),
        udp(3, a, b, &stun),
        udp(4, a, b, &[0, 0, 0, 0]),
        udp(5, a, b, b""),
    ];
    let (out, w) = run(ds);
    assert!(out.is_empty());
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn udp_non_sip_on_sip_port_is_reported_once_per_flow() {
    let (a, b) = (addr(1, 5060), addr(2, 5060));
    let (c, d) = (addr(3, 40000), addr(4, 40002));
    let http = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let ds = vec![
        udp(1, a, b, b"hello"),
        udp(2, a, b, b"hello"),
        udp(3, b, a, b"hello"),
        udp(4, a, b, http),
        udp(5, c, d, b"hello"),
    ];
    let (out, w) = run(ds);
    assert!(out.is_empty());
    assert_eq!(kinds(&w), vec![WarningKind::Malformed; 2]);
    assert_eq!((w[0].frame, w[1].frame), (Some(1), Some(3)));
}

#[test]
fn udp_junk_before_the_start_line() {
    let (a, b) = (addr(1, 31000), addr(2, 5060));
    // As in zeek's sip-junk-before-request.pcap (GH-1507).
    let zeek = b"DBREGISTER sip:1.1.1.1:5060 SIP/2.0\r\nExpires: 3600\r\n\r\n";
    let m = req("OPTIONS", "c2", "");
    let binary = cat(&[&[0x00, 0x01, 0xff], &m]);
    let (out, w) = run(vec![udp(2, a, b, zeek), udp(3, a, b, &binary)]);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].bytes, zeek[2..].to_vec());
    assert_eq!(out[1].bytes, m);
    assert_eq!(kinds(&w), vec![WarningKind::Malformed; 2]);
    assert!(w[0].message.contains("2 bytes before"), "{}", w[0].message);
}

#[test]
fn rtp_with_sip_text_is_not_sip() {
    let (a, b) = (addr(1, 5060), addr(2, 5060));
    let (c, d) = (addr(1, 16384), addr(2, 16386));
    let mut rtp = vec![0x80, 0x00, 0x12, 0x34, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef];
    rtp.extend_from_slice(b"INVITE sip:a@b SIP/2.0\r\n\r\n");
    let mut rng = Lcg(7);
    let noise: Vec<u8> = (0..160).map(|_| rng.next() as u8).collect();
    let mut rtp2 = rtp[..12].to_vec();
    rtp2.extend_from_slice(&noise);
    let (out, w) = run(vec![
        udp(1, c, d, &rtp),
        udp(2, c, d, &rtp2),
        udp(3, a, b, &rtp2),
    ]);
    assert!(out.is_empty());
    assert_eq!(kinds(&w), vec![WarningKind::Malformed]);
}

#[test]
fn udp_truncation() {
    let (a, b) = (addr(1, 5060), addr(2, 5060));
    let full = req("INVITE", "c3", &sdp(200));
    let short = &full[..full.len() - 50];
    let mut snapped = udp(2, a, b, &full);
    snapped.snapped = true;
    let (out, w) = run(vec![udp(1, a, b, short), snapped]);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].bytes, short.to_vec());
    assert!(out[0].truncated);
    assert!(out[1].truncated);
}

#[test]
fn udp_without_content_length_runs_to_the_end() {
    let (a, b) = (addr(1, 5060), addr(2, 5060));
    let m = b"MESSAGE sip:b@x SIP/2.0\r\nCall-ID: 1\r\n\r\nhello\r\nworld";
    let bad = b"INVITE sip:b@x SIP/2.0\r\nContent-Length: bad\r\n\r\nv=0\r\n";
    let (out, w) = run(vec![udp(1, a, b, m), udp(2, a, b, bad)]);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out[0].bytes, m.to_vec());
    assert_eq!(out[1].bytes, bad.to_vec());
    assert!(!out[0].truncated && !out[1].truncated);
}

#[test]
fn udp_bytes_beyond_content_length_stay_with_the_message() {
    let (a, b) = (addr(1, 5060), addr(2, 5060));
    let m = req("MESSAGE", "c4", "hi");
    // What the datagram carried after the declared body is the message's (the rules judge
    // it), up to the padding that ends the datagram.
    let carried = cat(&[&m, b"extra!\r\nmore"]);
    let (out, w) = run(vec![udp(1, a, b, &cat(&[&carried, b"\r\n\0\0"]))]);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].bytes, carried);
    assert!(!out[0].truncated);
    let parsed = crate::sip::SipMessage::parse(&out[0].bytes).expect("parses");
    assert_eq!(
        parsed.body(),
        b"hi",
        "the body a receiver reads: Content-Length's"
    );
    assert_eq!(
        parsed.issues()[0].kind,
        crate::sip::IssueKind::ContentLengthMismatch
    );
    // Padding alone is not carried content: the message ends at its Content-Length.
    let (out, w) = run(vec![udp(1, a, b, &cat(&[&m, &[0; 6]]))]);
    assert_eq!((out.len(), w.len()), (1, 0));
    assert_eq!(out[0].bytes, m);
    // A second message packed after the first: read as a message of its own.
    let m2 = resp(200, "OK", "c4");
    let (out, _) = run(vec![udp(1, a, b, &cat(&[&m, &m2, b"junk"]))]);
    let bytes: Vec<_> = out.iter().map(|c| c.bytes.to_vec()).collect();
    assert_eq!(bytes, vec![m, cat(&[&m2, b"junk"])]);
}

#[test]
fn sip_on_any_port_and_the_sip_ports_filter() {
    let m = req("OPTIONS", "c5", "");
    let odd = (addr(1, 53309), addr(2, 57586));
    let std = (addr(1, 5060), addr(2, 5060));
    let ds = || {
        vec![
            udp(1, odd.0, odd.1, &m),
            udp(2, std.0, std.1, &m),
            udp(3, addr(3, 5080), addr(4, 1234), &m),
        ]
    };
    let (out, _) = run(ds());
    assert_eq!(out.len(), 3);
    let only = PayloadOptions {
        sip_ports: vec![5080],
    };
    let (out, w) = run_with(only, Limits::default(), ds());
    assert!(w.is_empty());
    assert_eq!(out.iter().map(|c| c.frames[0]).collect::<Vec<_>>(), vec![3]);
}

#[test]
fn sctp_data_chunks() {
    let (a, b) = (addr(1, 5060), addr(2, 5060));
    let m = req("INVITE", "c6", &sdp(100));
    let l4 = L4::Sctp { stream: 0, ppid: 0 };
    let (out, w) = run(vec![
        dgram(4, a, b, l4, &m),
        dgram(5, a, b, l4, b"\r\n\r\n"),
    ]);
    assert!(w.is_empty());
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].transport, out[0].src, out[0].dst),
        (Transport::Sctp, a, b)
    );
    assert_eq!(
        (out[0].bytes.to_vec(), out[0].frames.to_vec()),
        (m, vec![4])
    );
}

// ---------------------------------------------------------------------------------------------
// TCP

#[test]
fn tcp_several_messages_in_one_segment() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let (m1, m2, m3) = (
        req("INVITE", "t1", &sdp(80)),
        req("ACK", "t1", ""),
        req("BYE", "t1", ""),
    );
    let seg = cat(&[&m1, &m2, b"\r\n\r\n", &m3]);
    let (out, w) = run(vec![syn(1, a, b, 1000), tcp(2, a, b, 1001, &seg)]);
    assert!(w.is_empty(), "{w:?}");
    let bytes: Vec<_> = out.iter().map(|c| c.bytes.to_vec()).collect();
    assert_eq!(bytes, vec![m1, m2, m3]);
    for c in &out {
        assert_eq!(
            (c.frames.to_vec(), c.ts, c.transport),
            (vec![2], ts(2), Transport::Tcp)
        );
        assert_eq!((c.src, c.dst, c.truncated), (a, b, false));
    }
}

#[test]
fn tcp_one_message_over_five_segments() {
    let (a, b) = (addr(1, 40000), addr(2, 6060));
    let m = req("INVITE", "t2", &sdp(900));
    let step = m.len().div_ceil(5);
    let mut ds = vec![syn(1, a, b, 7)];
    for (i, part) in m.chunks(step).enumerate() {
        ds.push(tcp(2 + i as u64, a, b, 8 + (i * step) as u32, part));
    }
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].bytes, m);
    assert_eq!(out[0].frames[..], [2, 3, 4, 5, 6]);
    assert_eq!(out[0].ts, ts(6));
}

#[test]
fn tcp_out_of_order_segments() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let (m1, m2) = (req("INVITE", "t3", &sdp(300)), resp(180, "Ringing", "t3"));
    let all = cat(&[&m1, &m2]);
    let (p1, p2, p3) = (&all[..200], &all[200..400], &all[400..]);
    let ds = vec![
        syn(1, a, b, 0),
        tcp(2, a, b, 401, p3),
        tcp(3, a, b, 1, p1),
        tcp(4, a, b, 201, p2),
    ];
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].bytes.to_vec(), out[1].bytes.to_vec()), (m1, m2));
    assert_eq!(out[0].frames[..], [2, 3, 4]);
    assert_eq!(out[1].frames[..], [2]);
    // The time of the last frame that carried the message's bytes.
    assert_eq!((out[0].ts, out[1].ts), (ts(4), ts(2)));
}

#[test]
fn tcp_retransmissions_do_not_duplicate() {
    let (a, b) = (addr(1, 5060), addr(2, 40000));
    let (m1, m2) = (resp(200, "OK", "t4"), req("BYE", "t4", ""));
    let two = cat(&[&m1, &m2]);
    let s = 5000u32;
    let ds = vec![
        syn(1, a, b, s - 1),
        tcp(2, a, b, s, &m1),
        // The 200 OK again (as frame 38 of sip_ipv4_tcp_retrans.pcap).
        tcp(3, a, b, s, &m1),
        // A retransmission that overlaps and carries new bytes.
        tcp(4, a, b, s + 10, &two[10..m1.len() + 20]),
        tcp(5, a, b, s + m1.len() as u32 + 20, &m2[20..]),
        tcp(6, a, b, s, &two),
    ];
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 2);
    assert_eq!(
        (out[0].bytes.to_vec(), out[0].frames.to_vec()),
        (m1, vec![2])
    );
    assert_eq!(
        (out[1].bytes.to_vec(), out[1].frames.to_vec()),
        (m2, vec![4, 5])
    );
}

#[test]
fn tcp_capture_starting_mid_stream() {
    let (a, b) = (addr(1, 40000), addr(2, 6060));
    let (m1, m2) = (req("UPDATE", "t5", &sdp(400)), req("BYE", "t5", ""));
    // The first segment seen is the middle of m1 (its SDP), then m1's end and m2.
    let tail = &m1[150..];
    let (out, w) = run(vec![
        tcp(1, a, b, 90_000, &tail[..100]),
        tcp(2, a, b, 90_100, &cat(&[&tail[100..], &m2])),
    ]);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].bytes.to_vec(), out[0].frames.to_vec()),
        (m2, vec![2])
    );
    assert_eq!(kinds(&w), vec![WarningKind::StreamGap]);
    assert!(
        w[0].message.contains(&format!("{} bytes", tail.len())),
        "{}",
        w[0].message
    );
}

#[test]
fn tcp_capture_starting_at_a_message() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let m = req("NOTIFY", "t6", "x");
    let (out, w) = run(vec![tcp(1, a, b, 12345, &m)]);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].bytes, m);
    // Mid-stream, the tail of a start line with an unknown "method" is not taken for one.
    let cut = b"VITE sip:bob@example.com SIP/2.0\r\nCall-ID: x\r\n\r\n";
    let (out, w) = run(vec![tcp(1, a, b, 1, cut)]);
    assert!(out.is_empty());
    assert_eq!(kinds(&w), vec![WarningKind::StreamGap]);
}

#[test]
fn tcp_garbage_then_resync() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let (m1, m2) = (req("INVITE", "t7", ""), req("CANCEL", "t7", ""));
    let garbage = b"xxxx\r\nyyyy\r\n";
    let ds = vec![
        syn(1, a, b, 0),
        tcp(2, a, b, 1, &cat(&[&m1, garbage])),
        tcp(3, a, b, 1 + (m1.len() + garbage.len()) as u32, &m2),
    ];
    let (out, w) = run(ds);
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].bytes.to_vec(), out[1].bytes.to_vec()), (m1, m2));
    assert_eq!(kinds(&w), vec![WarningKind::StreamGap]);
    assert!(w[0].message.contains("12 bytes"), "{}", w[0].message);
}

#[test]
fn tcp_gap_flushes_a_truncated_message() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let (m1, m2) = (req("INVITE", "t8", &sdp(500)), req("BYE", "t8", ""));
    let lost = 300..400;
    let after = m1.len() as u32 + 1;
    let ds = || {
        vec![
            syn(1, a, b, 0),
            tcp(2, a, b, 1, &m1[..lost.start]),
            // m1[lost] never captured.
            tcp(3, a, b, 1 + lost.end as u32, &m1[lost.end..]),
            tcp(4, a, b, after, &m2),
        ]
    };
    for limits in [
        Limits::default(),
        Limits {
            max_out_of_order: 1,
            ..Limits::default()
        },
    ] {
        let (out, w) = run_with(PayloadOptions::default(), limits, ds());
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].bytes, m1[..lost.start].to_vec());
        assert!(out[0].truncated);
        assert_eq!(out[0].frames[..], [2]);
        assert_eq!(
            (out[1].bytes.to_vec(), out[1].truncated),
            (m2.clone(), false)
        );
        assert_eq!(
            kinds(&w),
            vec![WarningKind::StreamGap, WarningKind::StreamGap]
        );
        assert!(
            w[0].message.contains("100 bytes missing"),
            "{}",
            w[0].message
        );
    }
}

#[test]
fn tcp_large_body_65k() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let m = req("INVITE", "t9", &sdp(65_536));
    let mut ds = vec![syn(1, a, b, 0)];
    for (i, part) in m.chunks(1460).enumerate() {
        ds.push(tcp(2 + i as u64, a, b, 1 + (i * 1460) as u32, part));
    }
    let n = ds.len() as u64;
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].bytes, m);
    assert_eq!(out[0].frames.to_vec(), (2..=n).collect::<Vec<_>>());
    assert!(!out[0].truncated);
}

#[test]
fn tcp_sequence_wrap_around() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let (m1, m2) = (req("INVITE", "t10", &sdp(100)), resp(100, "Trying", "t10"));
    let all = cat(&[&m1, &m2]);
    let isn = u32::MAX - 50;
    let start = isn.wrapping_add(1);
    let ds = vec![
        syn(1, a, b, isn),
        tcp(2, a, b, start, &all[..40]),
        tcp(4, a, b, start.wrapping_add(120), &all[120..]),
        tcp(3, a, b, start.wrapping_add(40), &all[40..120]),
    ];
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].bytes.to_vec(), out[1].bytes.to_vec()), (m1, m2));
    assert_eq!(out[0].frames[..], [2, 3, 4]);
}

#[test]
fn tcp_crlf_keepalives() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let m = req("OPTIONS", "t11", "");
    let r = resp(200, "OK", "t11");
    let ds = vec![
        syn(1, a, b, 0),
        syn(2, b, a, 100),
        tcp(3, a, b, 1, b"\r\n\r\n"),
        tcp(4, b, a, 101, b"\r\n"),
        tcp(5, a, b, 5, &m),
        tcp(6, b, a, 103, &r),
        tcp(7, a, b, 5 + m.len() as u32, b"\r\n\r\n"),
        tcp(8, b, a, 103 + r.len() as u32, b"\r\n"),
    ];
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 2);
    assert_eq!(
        (out[0].bytes.to_vec(), out[0].frames.to_vec()),
        (m, vec![5])
    );
    assert_eq!((out[1].bytes.to_vec(), out[1].src, out[1].dst), (r, b, a));
}

#[test]
fn tcp_fin_then_retransmission() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let m = req("BYE", "t12", "");
    let end = 1 + m.len() as u32;
    let ds = vec![
        syn(1, a, b, 0),
        tcp(2, a, b, 1, &m),
        fin(3, a, b, end),
        tcp(4, a, b, 1, &m),
        fin(5, a, b, end),
    ];
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].frames[..], [2]);
}

#[test]
fn tcp_stream_ending_before_content_length() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let m = req("INVITE", "t13", &sdp(300));
    let cut = &m[..m.len() - 100];
    let with_fin = vec![
        syn(1, a, b, 0),
        tcp(2, a, b, 1, cut),
        fin(3, a, b, 1 + cut.len() as u32),
    ];
    let at_end = vec![syn(1, a, b, 0), tcp(2, a, b, 1, cut)];
    for ds in [with_fin, at_end] {
        let (out, w) = run(ds);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bytes, cut.to_vec());
        assert!(out[0].truncated);
    }
}

#[test]
fn tcp_new_connection_on_the_same_addresses() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let (m1, m2) = (req("INVITE", "t14", &sdp(200)), req("REGISTER", "t15", ""));
    let ds = vec![
        syn(1, a, b, 0),
        tcp(2, a, b, 1, &m1[..100]),
        syn(3, a, b, 777_777),
        tcp(4, a, b, 777_778, &m2),
    ];
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 2);
    assert_eq!(
        (out[0].bytes.to_vec(), out[0].truncated),
        (m1[..100].to_vec(), true)
    );
    assert_eq!((out[1].bytes.to_vec(), out[1].truncated), (m2, false));
}

#[test]
fn tcp_rst_ends_the_stream() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let m = req("INVITE", "t16", &sdp(200));
    let ds = vec![
        syn(1, a, b, 0),
        tcp(2, a, b, 1, &m[..150]),
        dgram(3, a, b, tcp_l4(151, false, false, true), b""),
        tcp(4, a, b, 151, &m[150..]),
    ];
    let (out, _) = run(ds);
    assert_eq!(out.len(), 1);
    assert!(out[0].truncated);
    assert_eq!(out[0].bytes, m[..150].to_vec());
}

#[test]
fn tcp_non_sip_on_sip_ports() {
    let (a, b) = (addr(1, 5060), addr(2, 40000));
    let http = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    let get = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    let tls = [
        0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03,
    ];
    let (c, d) = (addr(3, 40001), addr(4, 5061));
    let ds = vec![
        syn(1, a, b, 0),
        tcp(2, a, b, 1, http),
        syn(3, b, a, 50),
        tcp(4, b, a, 51, get),
        tcp(5, b, a, 51 + get.len() as u32, &req("INVITE", "t17", "")),
        syn(6, c, d, 0),
        tcp(7, c, d, 1, &tls),
        tcp(8, c, d, 1 + tls.len() as u32, &req("INVITE", "t18", "")),
    ];
    let (out, w) = run(ds);
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(kinds(&w), vec![WarningKind::Malformed; 3]);
    assert!(w[2].message.contains("TLS"), "{}", w[2].message);
    // The same HTTP on ports that are not SIP ports: silently skipped.
    let (out, w) = run(vec![
        syn(1, addr(1, 80), b, 0),
        tcp(2, addr(1, 80), b, 1, http),
    ]);
    assert!(out.is_empty() && w.is_empty());
}

#[test]
fn tcp_snapped_segment() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let (m1, m2) = (req("INVITE", "t19", &sdp(1000)), req("ACK", "t19", ""));
    let mut cut = tcp(2, a, b, 1, &m1[..600]);
    cut.snapped = true;
    let ds = vec![syn(1, a, b, 0), cut, tcp(3, a, b, 1 + m1.len() as u32, &m2)];
    let (out, w) = run(ds);
    assert_eq!(out.len(), 2);
    assert_eq!(
        (out[0].bytes.to_vec(), out[0].truncated),
        (m1[..600].to_vec(), true)
    );
    assert_eq!((out[1].bytes.to_vec(), out[1].truncated), (m2, false));
    assert_eq!(kinds(&w), vec![WarningKind::StreamGap]);
}

#[test]
fn tcp_ip_reassembled_segment_lists_all_frames() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let m = req("INVITE", "t20", &sdp(3000));
    let mut d = tcp(9, a, b, 1, &m);
    d.frames = vec![7, 8, 9].into();
    let (out, _) = run(vec![syn(1, a, b, 0), d]);
    assert_eq!(out[0].frames[..], [7, 8, 9]);
}

// ---------------------------------------------------------------------------------------------
// WebSocket

fn ws_frame(fin: bool, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n <= 0xffff => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, c)| c ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

const UPGRADE: &[u8] = b"GET /ws HTTP/1.1\r\nHost: 10.0.0.2:8080\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n";

const SWITCHING: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: sip\r\n\r\n";

#[test]
fn websocket_masked_client_and_unmasked_server_frames() {
    let (c, s) = (addr(1, 51000), addr(2, 8080));
    let m = req("INVITE", "w1", &sdp(300));
    let r = resp(100, "Trying", "w1");
    let cf = ws_frame(true, 1, Some([0x11, 0x22, 0x33, 0x44]), &m);
    let sf = ws_frame(true, 1, None, &r);
    let ping = ws_frame(true, 9, Some([1, 2, 3, 4]), b"");
    let ds = vec![
        syn(1, c, s, 0),
        syn(2, s, c, 500),
        tcp(3, c, s, 1, UPGRADE),
        tcp(4, s, c, 501, SWITCHING),
        tcp(
            5,
            c,
            s,
            1 + UPGRADE.len() as u32,
            &cat(&[&ping, &cf[..100]]),
        ),
        tcp(
            6,
            c,
            s,
            1 + (UPGRADE.len() + ping.len() + 100) as u32,
            &cf[100..],
        ),
        tcp(7, s, c, 501 + SWITCHING.len() as u32, &sf),
    ];
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 2);
    assert_eq!(
        (out[0].bytes.to_vec(), out[0].transport),
        (m, Transport::Ws)
    );
    assert_eq!(
        (out[0].src, out[0].dst, out[0].frames.to_vec()),
        (c, s, vec![5, 6])
    );
    assert_eq!(out[0].ts, ts(6));
    assert_eq!(
        (out[1].bytes.to_vec(), out[1].transport),
        (r, Transport::Ws)
    );
    assert_eq!(
        (out[1].src, out[1].dst, out[1].frames.to_vec()),
        (s, c, vec![7])
    );
}

#[test]
fn websocket_fragmented_message_with_interleaved_ping() {
    let (c, s) = (addr(1, 51000), addr(2, 8080));
    let m = req("MESSAGE", "w2", &sdp(400));
    let k = Some([9, 8, 7, 6]);
    let data = cat(&[
        &ws_frame(false, 1, k, &m[..100]),
        &ws_frame(true, 9, k, b"ping"),
        &ws_frame(false, 0, k, &m[100..300]),
        &ws_frame(true, 0, k, &m[300..]),
    ]);
    let stream = cat(&[UPGRADE, &data, &ws_frame(true, 8, k, &[0x03, 0xe8])]);
    let mut ds = vec![syn(1, c, s, 0)];
    for (i, part) in stream.chunks(97).enumerate() {
        ds.push(tcp(2 + i as u64, c, s, 1 + (i * 97) as u32, part));
    }
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].bytes, m);
    assert_eq!(out[0].transport, Transport::Ws);
    // From the segment with the first frame's header to the one with the last frame's end.
    let first = 2 + (UPGRADE.len() / 97) as u64;
    let last = 2 + ((UPGRADE.len() + data.len() - 1) / 97) as u64;
    assert_eq!(out[0].frames.to_vec(), (first..=last).collect::<Vec<_>>());
}

#[test]
fn websocket_16_and_64_bit_lengths() {
    let (c, s) = (addr(1, 51000), addr(2, 443));
    let m16 = req("INVITE", "w3", &sdp(1000));
    let m64 = req("INVITE", "w4", &sdp(70_000));
    let stream = cat(&[
        SWITCHING,
        &ws_frame(true, 2, None, &m16),
        &ws_frame(true, 1, None, &m64),
    ]);
    let mut ds = vec![syn(1, s, c, 0)];
    for (i, part) in stream.chunks(1448).enumerate() {
        ds.push(tcp(2 + i as u64, s, c, 1 + (i * 1448) as u32, part));
    }
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].bytes, m16);
    assert_eq!(out[1].bytes, m64);
}

#[test]
fn websocket_seen_mid_session() {
    let (c, s) = (addr(1, 51000), addr(2, 8080));
    let m = req("BYE", "w5", "");
    let f = ws_frame(true, 1, Some([1, 2, 3, 4]), &m);
    let (out, w) = run(vec![tcp(1, c, s, 4242, &cat(&[&f, &f]))]);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 2);
    assert!(
        out.iter()
            .all(|o| o.bytes == m && o.transport == Transport::Ws)
    );
}

#[test]
fn websocket_without_upgrade_is_not_sip() {
    let (c, s) = (addr(1, 51000), addr(2, 5060));
    let get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let f = ws_frame(true, 1, Some([1, 2, 3, 4]), &req("BYE", "w6", ""));
    let (out, w) = run(vec![syn(1, c, s, 0), tcp(2, c, s, 1, &cat(&[get, &f]))]);
    assert!(out.is_empty());
    assert_eq!(kinds(&w), vec![WarningKind::Malformed]);
}

// ---------------------------------------------------------------------------------------------
// HEP

fn hep_chunk(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut c = vec![0, 0];
    c.extend_from_slice(&kind.to_be_bytes());
    c.extend_from_slice(&(data.len() as u16 + 6).to_be_bytes());
    c.extend_from_slice(data);
    c
}

fn hep3(src: SocketAddr, dst: SocketAddr, proto: u8, time: (u32, u32), payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    let (fam, s, d) = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => (2u8, (3, s.octets().to_vec()), (4, d.octets().to_vec())),
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            (10u8, (5, s.octets().to_vec()), (6, d.octets().to_vec()))
        }
        _ => panic!("mixed families"),
    };
    body.extend(hep_chunk(1, &[fam]));
    body.extend(hep_chunk(2, &[proto]));
    body.extend(hep_chunk(s.0, &s.1));
    body.extend(hep_chunk(d.0, &d.1));
    body.extend(hep_chunk(7, &src.port().to_be_bytes()));
    body.extend(hep_chunk(8, &dst.port().to_be_bytes()));
    body.extend(hep_chunk(9, &time.0.to_be_bytes()));
    body.extend(hep_chunk(10, &time.1.to_be_bytes()));
    body.extend(hep_chunk(11, &[1]));
    body.extend(hep_chunk(12, &[0, 0, 0, 7]));
    body.extend(hep_chunk(15, payload));
    let mut p = b"HEP3".to_vec();
    p.extend_from_slice(&(body.len() as u16 + 6).to_be_bytes());
    p.extend(body);
    p
}

#[test]
fn hep3_inner_addresses_time_and_transport() {
    let (agent, collector) = (addr(9, 40000), addr(10, 9060));
    let inner_src = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 1)), 5060);
    let inner_dst = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 2)), 5062);
    let m = req("INVITE", "h1", &sdp(200));
    let p = hep3(inner_src, inner_dst, 6, (1_600_000_000, 123_456), &m);
    let (out, w) = run(vec![udp(7, agent, collector, &p)]);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 1);
    let c = &out[0];
    assert_eq!(
        (c.src, c.dst, c.transport),
        (inner_src, inner_dst, Transport::Tcp)
    );
    assert_eq!(c.ts.micros, 1_600_000_000_123_456);
    assert_eq!((c.frames.to_vec(), c.bytes.to_vec()), (vec![7], m));
}

#[test]
fn hep3_ipv6_vendor_chunks_and_filters() {
    let (agent, collector) = (addr(9, 40000), addr(10, 9060));
    let s6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)), 5060);
    let d6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)), 5060);
    let m = resp(200, "OK", "h2");
    let mut p = hep3(s6, d6, 17, (1, 2), &m);
    // A vendor chunk (vendor 0x0123) is skipped.
    let mut vendor = vec![0x01, 0x23, 0x00, 0x20, 0x00, 0x08, 0xaa, 0xbb];
    p.append(&mut vendor);
    let total = p.len() as u16;
    p[4..6].copy_from_slice(&total.to_be_bytes());
    let opts = PayloadOptions {
        sip_ports: vec![5060],
    };
    let (out, w) = run_with(opts, Limits::default(), vec![udp(1, agent, collector, &p)]);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].src, out[0].dst, out[0].transport),
        (s6, d6, Transport::Udp)
    );
    // RTCP (type 5) carried by HEP is not SIP: skipped silently.
    let mut rtcp = hep3(s6, d6, 17, (1, 2), b"\x80\xc8\x00\x06");
    let at = rtcp.len() - 4 - 6 - 10 - 7;
    assert_eq!(&rtcp[at..at + 7], &[0, 0, 0, 11, 0, 7, 1]);
    rtcp[at + 6] = 5;
    let (out, w) = run(vec![udp(1, agent, collector, &rtcp)]);
    assert!(out.is_empty() && w.is_empty(), "{out:?} {w:?}");
}

#[test]
fn hep3_malformed() {
    let (agent, collector) = (addr(9, 40000), addr(10, 9060));
    let m = req("INVITE", "h3", "");
    let inner = (addr(1, 5060), addr(2, 5060));
    let good = hep3(inner.0, inner.1, 17, (1, 2), &m);
    // Total length beyond the datagram.
    let mut long = good.clone();
    long[4..6].copy_from_slice(&(good.len() as u16 + 1).to_be_bytes());
    // A chunk length that runs past the packet.
    let mut bad_chunk = good.clone();
    bad_chunk[10..12].copy_from_slice(&[0xff, 0xff]);
    // A port chunk of the wrong size.
    let mut body = hep_chunk(7, &[1, 2, 3]);
    let mut wrong = b"HEP3".to_vec();
    wrong.extend_from_slice(&(body.len() as u16 + 6).to_be_bytes());
    wrong.append(&mut body);
    let ds = vec![
        udp(1, agent, collector, &long),
        udp(2, agent, collector, &bad_chunk),
        udp(3, agent, collector, &wrong),
        udp(4, agent, collector, b"HEP3"),
    ];
    let (out, w) = run(ds);
    assert!(out.is_empty());
    assert_eq!(kinds(&w), vec![WarningKind::Malformed; 4]);
    assert_eq!(
        w.iter().map(|w| w.frame).collect::<Vec<_>>(),
        vec![Some(1), Some(2), Some(3), Some(4)]
    );
}

fn hep2(version: u8, src: SocketAddrV4Pair, time: (u32, u32), payload: &[u8]) -> Vec<u8> {
    let (s, d) = src;
    let mut p = vec![version, 16, 2, 17];
    p.extend_from_slice(&s.1.to_be_bytes());
    p.extend_from_slice(&d.1.to_be_bytes());
    p.extend_from_slice(&s.0);
    p.extend_from_slice(&d.0);
    if version == 2 {
        p.extend_from_slice(&time.0.to_le_bytes());
        p.extend_from_slice(&time.1.to_le_bytes());
        p.extend_from_slice(&[0x2a, 0x00, 0x00, 0x00]);
    }
    p.extend_from_slice(payload);
    p
}

type SocketAddrV4Pair = (([u8; 4], u16), ([u8; 4], u16));

#[test]
fn hep2_and_hep1() {
    let (agent, collector) = (addr(9, 40000), addr(10, 9060));
    let m = req("REGISTER", "h4", "");
    let pair = (([172, 16, 0, 1], 5070), ([172, 16, 0, 2], 5060));
    let v2 = hep2(2, pair, (1_500_000_000, 999_999), &m);
    let v1 = hep2(1, pair, (0, 0), &m);
    let (out, w) = run(vec![
        udp(5, agent, collector, &v2),
        udp(6, agent, collector, &v1),
    ]);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 2);
    let src: SocketAddr = "172.16.0.1:5070".parse().unwrap();
    let dst: SocketAddr = "172.16.0.2:5060".parse().unwrap();
    for c in &out {
        assert_eq!((c.src, c.dst, c.transport), (src, dst, Transport::Udp));
        assert_eq!(c.bytes, m);
    }
    assert_eq!(out[0].ts.micros, 1_500_000_000_999_999);
    // HEPv1 has no time: the frame's.
    assert_eq!(out[1].ts, ts(6));
    // A HEPv2 header with too few bytes.
    let (out, w) = run(vec![udp(7, agent, collector, &v2[..20])]);
    assert!(out.is_empty());
    assert_eq!(kinds(&w), vec![WarningKind::Malformed]);
}

#[test]
fn hep3_over_tcp() {
    let (agent, collector) = (addr(9, 40000), addr(10, 9060));
    let inner = (addr(1, 5060), addr(2, 5060));
    let (m1, m2) = (req("INVITE", "h5", ""), resp(180, "Ringing", "h5"));
    let stream = cat(&[
        &hep3(inner.0, inner.1, 17, (10, 0), &m1),
        &hep3(inner.1, inner.0, 17, (11, 0), &m2),
    ]);
    let ds = vec![
        syn(1, agent, collector, 0),
        tcp(2, agent, collector, 1, &stream[..50]),
        tcp(3, agent, collector, 51, &stream[50..]),
    ];
    let (out, w) = run(ds);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(out.len(), 2);
    assert_eq!(
        (out[0].bytes.to_vec(), out[0].frames.to_vec()),
        (m1, vec![2, 3])
    );
    assert_eq!((out[1].src, out[1].ts.micros), (inner.1, 11_000_000));
}

// ---------------------------------------------------------------------------------------------
// Limits, robustness, cost

#[test]
fn flow_table_limit_evicts_the_idle() {
    let limits = Limits {
        max_flows: 8,
        ..Limits::default()
    };
    let m = req("INVITE", "l1", &sdp(300));
    let mut ds = Vec::new();
    for i in 0..12u8 {
        let (a, b) = (addr(i, 40000 + u16::from(i)), addr(100, 5060));
        ds.push(syn(u64::from(i) * 2 + 1, a, b, 0));
        ds.push(tcp(u64::from(i) * 2 + 2, a, b, 1, &m[..200]));
    }
    let mut p = Payloads::with_limits(PayloadOptions::default(), limits);
    let (mut out, mut w) = (Vec::new(), Vec::new());
    for d in ds {
        p.push(d, &mut out, &mut w);
        assert!(p.flows.len() <= 8);
    }
    let evicted = out.len();
    assert!(evicted >= 4, "{evicted}");
    assert!(w.iter().all(|w| w.kind == WarningKind::Limit));
    assert!(!w.is_empty());
    p.finish(&mut out, &mut w);
    // Every flow's partial message comes out once, truncated.
    assert_eq!(out.len(), 12);
    assert!(out.iter().all(|c| c.truncated && c.bytes == m[..200]));
}

#[test]
fn message_larger_than_the_flow_limit() {
    let limits = Limits {
        max_flow_bytes: 4096,
        ..Limits::default()
    };
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let (big, next) = (req("MESSAGE", "l2", &sdp(10_000)), req("BYE", "l2", ""));
    let stream = cat(&[&big, &next]);
    let mut ds = vec![syn(1, a, b, 0)];
    for (i, part) in stream.chunks(1000).enumerate() {
        ds.push(tcp(2 + i as u64, a, b, 1 + (i * 1000) as u32, part));
    }
    let (out, w) = run_with(PayloadOptions::default(), limits, ds);
    assert_eq!(out.len(), 2);
    assert!(out[0].truncated);
    assert!(out[0].bytes.len() >= 4096 && out[0].bytes.len() < 5096);
    assert_eq!(out[0].bytes, big[..out[0].bytes.len()].to_vec());
    assert_eq!((out[1].bytes.to_vec(), out[1].truncated), (next, false));
    assert_eq!(kinds(&w), vec![WarningKind::Limit]);
}

#[test]
fn endless_header_block_and_garbage_stay_bounded() {
    let limits = Limits {
        max_flow_bytes: 8192,
        resync_budget: 16_384,
        ..Limits::default()
    };
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let (c, d) = (addr(3, 40000), addr(4, 7000));
    let mut p = Payloads::with_limits(PayloadOptions::default(), limits);
    let (mut out, mut w) = (Vec::new(), Vec::new());
    p.push(syn(1, a, b, 0), &mut out, &mut w);
    p.push(
        tcp(2, a, b, 1, b"INVITE sip:x@y SIP/2.0\r\n"),
        &mut out,
        &mut w,
    );
    let mut seq = 25u32;
    let mut seq2 = 1u32;
    for i in 0..2000u64 {
        let h = format!("X-H{i}: {}\r\n", "v".repeat(40));
        p.push(tcp(3 + i, a, b, seq, h.as_bytes()), &mut out, &mut w);
        seq += h.len() as u32;
        // A text stream without newlines, seen mid-stream on a port that is not SIP's.
        p.push(tcp(3 + i, c, d, seq2, &[b'z'; 100]), &mut out, &mut w);
        seq2 += 100;
        assert!(p.buffered() <= 2 * 8192 + 200, "{}", p.buffered());
    }
    p.finish(&mut out, &mut w);
    assert_eq!(out.len(), 1);
    assert!(out[0].truncated && out[0].bytes.starts_with(b"INVITE"));
    assert!(out[0].bytes.len() > 8192 && out[0].bytes.len() < 8192 + 100);
    // The header block over the limit, then the flow given up (a SIP port).
    assert_eq!(kinds(&w), vec![WarningKind::Limit, WarningKind::Malformed]);
}

#[test]
fn long_streams_are_linear() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let m = req("INVITE", "perf", &sdp(700));
    let parts = 5;
    let step = m.len().div_ceil(parts);
    let messages = 20_000;
    let mut p = Payloads::new(PayloadOptions::default());
    let (mut out, mut w) = (Vec::new(), Vec::new());
    let started = Instant::now();
    p.push(syn(0, a, b, 0), &mut out, &mut w);
    let mut seq = 1u32;
    let mut frame = 1;
    for _ in 0..messages {
        for part in m.chunks(step) {
            p.push(tcp(frame, a, b, seq, part), &mut out, &mut w);
            seq = seq.wrapping_add(part.len() as u32);
            frame += 1;
        }
    }
    // And one message split into 1-byte segments... of a 100 KB stream without a header end.
    let (c, d) = (addr(3, 40000), addr(4, 5060));
    p.push(syn(frame, c, d, 0), &mut out, &mut w);
    p.push(
        tcp(frame, c, d, 1, b"OPTIONS sip:x SIP/2.0\r\n"),
        &mut out,
        &mut w,
    );
    for i in 0..100_000u32 {
        let byte = if i % 50 == 49 { b'\n' } else { b'h' };
        p.push(tcp(frame + 1, c, d, 24 + i, &[byte]), &mut out, &mut w);
    }
    p.finish(&mut out, &mut w);
    let elapsed = started.elapsed();
    assert_eq!(out.iter().filter(|c| c.bytes == m).count(), messages);
    assert!(frame > 100_000);
    assert!(elapsed.as_secs() < 60, "{elapsed:?}");
}

#[test]
fn framing_agrees_with_message_len() {
    // The stream framer's own header scan and the grammar must agree.
    let samples: Vec<Vec<u8>> = vec![
        req("INVITE", "g1", &sdp(123)),
        b"SIP/2.0 200 OK\nl: 3\n\nabc".to_vec(),
        b"INVITE sip:a@b SIP/2.0\r\nContent-Length : 4\r\n\r\nabcd".to_vec(),
        b"BYE sip:a@b SIP/2.0\r\n\r\n".to_vec(),
    ];
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    for s in samples {
        let n = message_len(&s).unwrap();
        assert_eq!(n, s.len());
        let mut ds = vec![syn(1, a, b, 0)];
        for (i, c) in s.chunks(3).enumerate() {
            ds.push(tcp(2 + i as u64, a, b, 1 + 3 * i as u32, c));
        }
        let (out, w) = run(ds);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bytes, s);
        assert!(!out[0].truncated);
    }
}

#[test]
fn hostile_inputs_never_panic() {
    let mut rng = Lcg(0x5eed);
    let seeds: Vec<Vec<u8>> = vec![
        req("INVITE", "f1", &sdp(300)),
        resp(200, "OK", "f1"),
        UPGRADE.to_vec(),
        SWITCHING.to_vec(),
        ws_frame(true, 1, Some([1, 2, 3, 4]), &req("BYE", "f2", "")),
        hep3(
            addr(1, 5060),
            addr(2, 5060),
            17,
            (1, 2),
            &req("ACK", "f3", ""),
        ),
        hep2(
            2,
            (([1, 1, 1, 1], 5060), ([2, 2, 2, 2], 5060)),
            (1, 2),
            b"SIP/2.0 100 Trying\r\n\r\n",
        ),
        b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\n".to_vec(),
        b"\r\n\r\n".to_vec(),
    ];
    for round in 0..400u64 {
        let limits = Limits {
            max_flow_bytes: 1 + rng.below(5000) as usize,
            max_flows: 1 + rng.below(6) as usize,
            max_out_of_order: rng.below(4) as usize,
            resync_budget: rng.below(3000) as usize,
        };
        let ports = if rng.below(4) == 0 {
            vec![5060]
        } else {
            Vec::new()
        };
        let mut p = Payloads::with_limits(PayloadOptions { sip_ports: ports }, limits);
        let (mut out, mut w) = (Vec::new(), Vec::new());
        let mut seq = [rng.next() as u32; 4];
        for i in 0..60u64 {
            let mut data = seeds[rng.below(seeds.len() as u64) as usize].clone();
            for _ in 0..rng.below(4) {
                if !data.is_empty() {
                    let at = rng.below(data.len() as u64) as usize;
                    data[at] = rng.next() as u8;
                }
            }
            let cut = rng.below(data.len() as u64 + 1) as usize;
            let data = if rng.below(2) == 0 {
                data[..cut].to_vec()
            } else {
                data
            };
            let f = rng.below(4) as usize;
            let (src, dst) = (addr(f as u8, 5060 + f as u16), addr(9, 5060));
            let l4 = match rng.below(5) {
                0 => L4::Udp,
                1 => L4::Sctp { stream: 0, ppid: 0 },
                _ => {
                    let s = if rng.below(8) == 0 {
                        rng.next() as u32
                    } else {
                        seq[f].wrapping_sub(rng.below(3) as u32 * 50)
                    };
                    seq[f] = s.wrapping_add(data.len() as u32);
                    tcp_l4(
                        s,
                        rng.below(10) == 0,
                        rng.below(15) == 0,
                        rng.below(20) == 0,
                    )
                }
            };
            let mut d = dgram(round * 100 + i, src, dst, l4, &data);
            d.snapped = rng.below(10) == 0;
            p.push(d, &mut out, &mut w);
        }
        p.finish(&mut out, &mut w);
        for c in &out {
            assert!(!c.frames.is_empty());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// More framing cases

#[test]
fn tcp_junk_glued_to_the_next_start_line() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    // Content-Length one byte short: the body's last byte sticks to the next request line.
    let m1 = b"MESSAGE sip:b@x SIP/2.0\r\nCall-ID: j1\r\nContent-Length: 2\r\n\r\nabc";
    let m2 = req("BYE", "j1", "");
    let (out, w) = run(vec![syn(1, a, b, 0), tcp(2, a, b, 1, &cat(&[m1, &m2]))]);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].bytes, m1[..m1.len() - 1].to_vec());
    assert_eq!(out[1].bytes, m2);
    assert_eq!(kinds(&w), vec![WarningKind::StreamGap]);
    assert!(w[0].message.contains("1 bytes"), "{}", w[0].message);
}

#[test]
fn tcp_sip_ports_filter() {
    let (a, b) = (addr(1, 40000), addr(2, 6060));
    let m = req("INVITE", "p1", "");
    let ds = || vec![syn(1, a, b, 0), tcp(2, a, b, 1, &m)];
    let opts = |p: u16| PayloadOptions { sip_ports: vec![p] };
    let (out, _) = run_with(opts(5060), Limits::default(), ds());
    assert!(out.is_empty());
    let (out, _) = run_with(opts(6060), Limits::default(), ds());
    assert_eq!(out.len(), 1);
}

#[test]
fn tcp_out_of_order_bytes_beyond_the_limit_declare_a_gap() {
    let limits = Limits {
        max_flow_bytes: 2000,
        ..Limits::default()
    };
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let msgs: Vec<Vec<u8>> = (0..6)
        .map(|i| req("INFO", &format!("o{i}"), &sdp(400)))
        .collect();
    let all = msgs.concat();
    let first = msgs[0].len();
    // The first message's second half never comes; the others arrive out of order.
    let mut ds = vec![syn(1, a, b, 0), tcp(2, a, b, 1, &all[..first / 2])];
    let mut off = first;
    for (i, m) in msgs.iter().enumerate().skip(1) {
        ds.push(tcp(3 + i as u64, a, b, 1 + off as u32, m));
        off += m.len();
    }
    let mut p = Payloads::with_limits(PayloadOptions::default(), limits);
    let (mut out, mut w) = (Vec::new(), Vec::new());
    for d in ds {
        p.push(d, &mut out, &mut w);
    }
    // The gap was declared before the end of the capture.
    assert_eq!(kinds(&w), vec![WarningKind::StreamGap]);
    assert!(out.len() >= 5, "{}", out.len());
    p.finish(&mut out, &mut w);
    assert_eq!(out.len(), 6);
    assert!(out[0].truncated);
    let rest: Vec<_> = out[1..].iter().map(|c| c.bytes.to_vec()).collect();
    assert_eq!(rest, msgs[1..].to_vec());
}

#[test]
fn websocket_after_a_gap_resumes_at_a_frame() {
    let (c, s) = (addr(1, 51000), addr(2, 8080));
    let k = Some([5, 6, 7, 8]);
    let (m1, m2, m3) = (
        req("INVITE", "w7", &sdp(300)),
        req("ACK", "w7", ""),
        req("BYE", "w7", ""),
    );
    let (f1, f2, f3) = (
        ws_frame(true, 1, k, &m1),
        ws_frame(true, 1, k, &m2),
        ws_frame(true, 1, k, &m3),
    );
    let base = 1 + UPGRADE.len() as u32;
    let ds = vec![
        syn(1, c, s, 0),
        tcp(2, c, s, 1, UPGRADE),
        tcp(3, c, s, base, &f1[..150]),
        // f1's end and f2 are lost; f3 arrives at a frame boundary.
        tcp(5, c, s, base + (f1.len() + f2.len()) as u32, &f3),
    ];
    let (out, w) = run(ds);
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out[0].truncated && out[0].bytes == m1[..150 - 8]);
    assert_eq!((out[1].bytes.to_vec(), out[1].truncated), (m3, false));
    assert!(out.iter().all(|o| o.transport == Transport::Ws));
    assert_eq!(kinds(&w), vec![WarningKind::StreamGap]);
}

#[test]
fn websocket_compressed_messages_are_reported() {
    let (c, s) = (addr(1, 51000), addr(2, 8080));
    let mut f = ws_frame(true, 1, None, b"\xf2\x48\xcd\xc9\xc9\x07\x00");
    f[0] |= 0x40;
    let m = req("OPTIONS", "w8", "");
    let stream = cat(&[SWITCHING, &f, &f, &ws_frame(true, 1, None, &m)]);
    let (out, w) = run(vec![syn(1, s, c, 0), tcp(2, s, c, 1, &stream)]);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].bytes, m);
    assert_eq!(kinds(&w), vec![WarningKind::Malformed]);
    assert!(w[0].message.contains("permessage-deflate"));
}

#[test]
fn hep3_several_packets_in_one_datagram() {
    let (agent, collector) = (addr(9, 40000), addr(10, 9060));
    let inner = (addr(1, 5060), addr(2, 5060));
    let (m1, m2) = (req("INVITE", "h6", ""), resp(100, "Trying", "h6"));
    let d = cat(&[
        &hep3(inner.0, inner.1, 17, (1, 0), &m1),
        &hep3(inner.1, inner.0, 17, (2, 0), &m2),
        b"junk",
    ]);
    let (out, w) = run(vec![udp(1, agent, collector, &d)]);
    assert_eq!(out.len(), 2);
    assert_eq!((out[0].bytes.to_vec(), out[1].bytes.to_vec()), (m1, m2));
    assert_eq!(kinds(&w), vec![WarningKind::Malformed]);
}

#[test]
fn tiny_segments_are_bounded_too() {
    let (a, b) = (addr(1, 40000), addr(2, 5060));
    let (m, next) = (req("MESSAGE", "s1", &sdp(40_000)), req("BYE", "s1", ""));
    let stream = cat(&[&m, &next]);
    let mut ds = vec![syn(1, a, b, 0)];
    for (i, byte) in stream.chunks(2).enumerate() {
        ds.push(tcp(2 + i as u64, a, b, 1 + 2 * i as u32, byte));
    }
    let (out, w) = run(ds);
    assert_eq!(out.len(), 2);
    assert!(out[0].truncated);
    assert_eq!(out[0].frames.len(), 16 * 1024 + 1);
    assert_eq!(out[0].bytes, m[..out[0].bytes.len()].to_vec());
    assert_eq!((out[1].bytes.to_vec(), out[1].truncated), (next, false));
    assert_eq!(kinds(&w), vec![WarningKind::Limit]);
}
