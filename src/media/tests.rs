//! The stream counters on known packet sequences (hand-made headers: these test the arithmetic;
//! `tests/integration/media_tshark.rs` compares real captures with tshark).

use std::net::SocketAddr;

use super::rtp::{Header, Stats};
use super::{Media, quality, rtcp, rtp};

fn header(seq: u16, ts: u32) -> Header {
    Header {
        marker: false,
        pt: 0,
        seq,
        ts,
        ssrc: 0x1234_5678,
        payload_len: 160,
        payload_at: 12,
    }
}

/// `seqs` at 20 ms, each with the timestamp its sequence number implies (8 kHz).
fn run(seqs: &[u16]) -> Stats {
    let mut s = Stats::default();
    for (i, &q) in seqs.iter().enumerate() {
        let ts = u32::from(q.wrapping_sub(seqs[0])) * 160;
        s.push(&header(q, ts), i as i64 * 20_000, Some(8000), false);
    }
    s
}

#[test]
fn sequence_wrap_around_is_not_loss() {
    let s = run(&[65533, 65534, 65535, 0, 1, 2]);
    assert_eq!((s.packets, s.expected(), s.lost()), (6, 6, 0));
    assert_eq!((s.duplicates, s.out_of_order, s.restarts), (0, 0, 0));
}

#[test]
fn gaps_are_lost_across_the_wrap() {
    // 65535 and 1 missing.
    let s = run(&[65533, 65534, 0, 2, 3]);
    assert_eq!((s.expected(), s.lost()), (7, 2));
}

#[test]
fn reordering_and_duplicates() {
    // 3 arrives after 4 (late, not lost); 4 and 2 again (duplicates).
    let s = run(&[1, 2, 4, 3, 4, 2, 5]);
    assert_eq!(s.out_of_order, 1);
    assert_eq!(s.duplicates, 2);
    // expected 5 (1..=5), received 7: as RFC 3550 A.3 and tshark count, lost goes negative.
    assert_eq!((s.expected(), s.lost()), (5, -2));
}

#[test]
fn a_sequence_restart_starts_a_new_run() {
    let s = run(&[10, 11, 12, 40000, 40001]);
    assert_eq!(s.restarts, 1);
    assert_eq!((s.expected(), s.lost()), (5, 0));
}

#[test]
fn jitter_of_a_perfect_stream_is_zero_and_of_a_known_one_is_rfc3550s() {
    let s = run(&[1, 2, 3, 4, 5]);
    assert_eq!(s.max_jitter_s, 0.0);
    assert_eq!(s.max_delta_us, 20_000);
    // Arrivals 0, 20, 50, 60 ms for timestamps every 20 ms: D = 0, 10, 10 ms;
    // J1 = 0, J2 = 10/16, J3 = J2 + (10 - J2)/16.
    let mut s = Stats::default();
    for (i, arrival) in [0, 20_000, 50_000, 60_000].into_iter().enumerate() {
        s.push(
            &header(i as u16, i as u32 * 160),
            arrival,
            Some(8000),
            false,
        );
    }
    let j2 = 0.010 / 16.0;
    let j3 = j2 + (0.010 - j2) / 16.0;
    assert!((s.jitter_s() - j3).abs() < 1e-12);
    assert!((s.max_jitter_s - j3).abs() < 1e-12);
    assert!((s.mean_jitter_s() - (0.0 + j2 + j3) / 3.0).abs() < 1e-12);
    assert_eq!(s.max_delta_us, 30_000);
}

#[test]
fn marked_packets_and_comfort_noise_are_left_out_of_the_statistics() {
    let mut s = Stats::default();
    s.push(&header(1, 0), 0, Some(8000), false);
    s.push(&header(2, 160), 20_000, Some(8000), false);
    // A talkspurt after 2 s of silence: marked, its gap is no network delay.
    let mut h = header(3, 16_160);
    h.marker = true;
    s.push(&h, 2_020_000, Some(8000), false);
    assert_eq!(s.max_delta_us, 20_000);
    assert_eq!(s.max_jitter_s, 0.0);
}

#[test]
fn the_header_parse_refuses_what_is_not_rtp() {
    let mut b = vec![0x80, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4];
    b.extend([0xff; 160]);
    assert_eq!(
        rtp::parse(&b).map(|h| (h.seq, h.payload_len)),
        Some((1, 160))
    );
    // RTCP's packet types (200 = SR: marker bit + 72) and RTP payload types 35–95.
    b[1] = 200;
    assert!(rtp::parse(&b).is_none());
    b[1] = 50;
    assert!(rtp::parse(&b).is_none());
    // Version 1 (ASCII text: SIP), too short, CSRCs past the end, padding larger than the rest.
    assert!(rtp::parse(b"INVITE sip:a@b SIP/2.0\r\n").is_none());
    assert!(rtp::parse(&[0x80, 0, 0, 1]).is_none());
    assert!(rtp::parse(&[0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]).is_none());
    assert!(rtp::parse(&[0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 200]).is_none());
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

fn packet(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0x80, pt];
    b.extend(seq.to_be_bytes());
    b.extend(ts.to_be_bytes());
    b.extend(ssrc.to_be_bytes());
    b.extend(payload);
    b
}

#[test]
fn random_udp_never_becomes_a_stream() {
    let mut m = Media::new();
    let (a, b) = (addr("10.0.0.1:4000"), addr("10.0.0.2:5000"));
    // Version-2-looking bytes whose SSRC and sequence jump around.
    let mut x: u32 = 12345;
    for i in 0..1000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let p = packet(
            (x % 35) as u8,
            (x >> 8) as u16,
            x,
            x.rotate_left(7),
            &[0; 20],
        );
        m.push_udp(a, b, &p, i * 20_000);
    }
    assert!(m.finish().streams.is_empty());
}

#[test]
fn a_stream_counts_from_its_first_packet_once_confirmed() {
    let mut m = Media::new();
    let (a, b) = (addr("10.0.0.1:4000"), addr("10.0.0.2:5000"));
    for i in 0..2u16 {
        m.push_udp(
            a,
            b,
            &packet(8, i, u32::from(i) * 160, 7, &[0; 160]),
            i64::from(i) * 20_000,
        );
    }
    assert!(Media::finish(std::mem::take(&mut m)).streams.is_empty());
    for i in 0..50u16 {
        m.push_udp(
            a,
            b,
            &packet(8, i, u32::from(i) * 160, 7, &[0; 160]),
            i64::from(i) * 20_000,
        );
    }
    let s = &m.finish().streams[0];
    assert_eq!((s.packets, s.bytes, s.lost), (50, 8000, 0));
    assert_eq!(s.payloads[0].name.as_deref(), Some("PCMA"));
    assert_eq!(s.ssrc, "0x00000007");
}

#[test]
fn telephone_events_are_counted_once_each_with_their_digits() {
    let mut m = Media::new();
    m.learn_sdp(b"v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio 5000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", 0);
    let (a, b) = (addr("10.0.0.1:4000"), addr("10.0.0.2:5000"));
    let mut seq = 0u16;
    let mut send = |m: &mut Media, pt: u8, ts: u32, payload: &[u8]| {
        seq += 1;
        m.push_udp(
            a,
            b,
            &packet(pt, seq, ts, 9, payload),
            i64::from(seq) * 20_000,
        );
    };
    for i in 0..5 {
        send(&mut m, 0, i * 160, &[0xff; 160]);
    }
    // Digit 5: three packets of one event (one timestamp), the last with the end bit.
    for _ in 0..3 {
        send(&mut m, 101, 800, &[5, 0x0a, 0, 160]);
    }
    // Digit #: a second event.
    for _ in 0..2 {
        send(&mut m, 101, 1600, &[11, 0x8a, 0, 160]);
    }
    let s = &m.finish().streams[0];
    assert_eq!((s.dtmf_events, s.dtmf_digits.as_str()), (2, "5#"));
}

#[test]
fn rtcp_receiver_reports_give_loss_jitter_and_the_round_trip() {
    let (a, b) = (addr("10.0.0.1:4001"), addr("10.0.0.2:5001"));
    // An SR from SSRC 7 at t = 1 s (NTP middle 32 bits 0x0001_8000).
    let mut sr = vec![0x80, 200, 0, 6, 0, 0, 0, 7, 0, 0, 0, 1, 0x80, 0, 0, 0];
    sr.extend([0; 12]);
    // An RR about SSRC 7 at t = 1.5 s: fraction 64/256, 19 lost, jitter 40 units,
    // LSR = that SR, DLSR = 0.25 s (16384/65536): RTT = 0.5 − 0.25 = 0.25 s.
    let mut rr = vec![0x81, 201, 0, 7, 0, 0, 0, 9];
    rr.extend([0, 0, 0, 7, 64, 0, 0, 19, 0, 0, 0, 100, 0, 0, 0, 40]);
    rr.extend([0, 1, 0x80, 0, 0, 0, 0x40, 0]);
    assert!(rtcp::is_rtcp(&sr) && rtcp::is_rtcp(&rr));
    let mut m = Media::new();
    assert!(m.push_udp(b, a, &sr, 1_000_000));
    assert!(m.push_udp(a, b, &rr, 1_500_000));
    let r = &m.finish().rtcp[0];
    assert_eq!((r.ssrc.as_str(), r.cumulative_lost), ("0x00000007", 19));
    assert_eq!(r.fraction_lost, 0.25);
    assert_eq!(r.jitter_ms, 5.0);
    assert_eq!(r.rtt_ms, Some(250.0));
    // A length that runs past the datagram is no RTCP.
    assert!(!rtcp::is_rtcp(&rr[..20]));
    // Up to 3 zero bytes after the last packet are the datagram's padding; anything else after
    // it is not RTCP.
    let padded = |tail: &[u8]| [&sr[..], tail].concat();
    assert!(rtcp::is_rtcp(&padded(&[0, 0])) && rtcp::is_rtcp(&padded(&[0, 0, 0])));
    assert!(!rtcp::is_rtcp(&padded(&[0, 0, 0, 0])) && !rtcp::is_rtcp(&padded(&[0, 1])));
    assert!(!rtcp::is_rtcp(&[0, 0]));
}

#[test]
fn the_e_model_gives_the_usual_scores() {
    let clean = quality::mos(quality::r_factor(0.0, 0.0));
    assert!((4.3..=4.5).contains(&clean), "{clean}");
    let lossy = quality::mos(quality::r_factor(0.10, 0.001));
    assert!((3.0..3.8).contains(&lossy), "{lossy}");
    assert!(quality::mos(quality::r_factor(1.0, 1.0)) >= 1.0);
}

/// A SIP message `first` (request or status line) with an SDP naming `ip`:`port`.
fn sip_with_sdp(
    first: &str,
    call_id: &str,
    from_tag: &str,
    to_tag: &str,
    ip: &str,
    port: u16,
) -> Vec<u8> {
    let to = match to_tag {
        "" => String::new(),
        t => format!(";tag={t}"),
    };
    format!(
        "{first}\r\nVia: SIP/2.0/UDP {ip};branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag={from_tag}\r\n\
         To: <sip:b@y>{to}\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
         Content-Type: application/sdp\r\n\r\nv=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\n\
         c=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n"
    )
    .into_bytes()
}

/// Five PCMU packets from `src` to `dst` from `t0_us` on, 20 ms apart.
fn flow(m: &mut Media, src: &str, dst: &str, ssrc: u32, t0_us: i64) {
    for i in 0..5u16 {
        m.push_udp(
            addr(src),
            addr(dst),
            &packet(0, i, u32::from(i) * 160, ssrc, &[0xff; 160]),
            t0_us + i64::from(i) * 20_000,
        );
    }
}

/// An offer from the caller (10.0.0.1:4000) and the callee's answer (10.0.0.2:5000), at 0 s.
fn offer_answer(m: &mut Media, call_id: &str, at_us: i64) {
    let invite = sip_with_sdp("INVITE sip:b@y SIP/2.0", call_id, "a", "", "10.0.0.1", 4000);
    let ok = sip_with_sdp("SIP/2.0 200 OK", call_id, "a", "b", "10.0.0.2", 5000);
    m.learn_sdp(&invite, at_us);
    m.learn_sdp(&ok, at_us + 1000);
}

fn calls_of(s: &super::StreamSummary) -> Vec<(&str, Option<super::Direction>, bool)> {
    s.calls
        .iter()
        .map(|c| (c.call_id.as_str(), c.direction, c.source_not_in_sdp))
        .collect()
}

#[test]
fn streams_belong_to_the_call_whose_sdp_named_them_with_their_direction() {
    use super::Direction::{CalleeToCaller, CallerToCallee};
    let mut m = Media::new();
    offer_answer(&mut m, "c1", 0);
    flow(&mut m, "10.0.0.1:4000", "10.0.0.2:5000", 1, 100_000);
    flow(&mut m, "10.0.0.2:5000", "10.0.0.1:4000", 2, 100_000);
    // Behind a NAT: to the callee's SDP address, from an address no SDP named.
    flow(&mut m, "192.0.2.7:30000", "10.0.0.2:5000", 3, 100_000);
    // Symmetric RTP from the callee to that NAT address: named by its source only.
    flow(&mut m, "10.0.0.2:5000", "192.0.2.7:30000", 4, 100_000);
    // No SDP named either end.
    flow(&mut m, "10.0.0.9:7000", "10.0.0.8:7002", 5, 100_000);
    let s = m.finish().streams;
    assert_eq!(calls_of(&s[0]), [("c1", Some(CallerToCallee), false)]);
    assert_eq!(calls_of(&s[1]), [("c1", Some(CalleeToCaller), false)]);
    assert_eq!(calls_of(&s[2]), [("c1", Some(CallerToCallee), true)]);
    assert_eq!(calls_of(&s[3]), [("c1", Some(CalleeToCaller), false)]);
    assert_eq!(s[3].calls[0].named, super::SdpEnd::Source);
    assert_eq!(s[0].calls[0].named, super::SdpEnd::Both);
    assert!(s[4].calls.is_empty());
}

#[test]
fn a_port_reused_by_a_later_call_goes_to_the_call_named_last_before_the_stream() {
    let mut m = Media::new();
    offer_answer(&mut m, "c1", 0);
    flow(&mut m, "10.0.0.1:4000", "10.0.0.2:5000", 1, 100_000);
    offer_answer(&mut m, "c2", 10_000_000);
    flow(&mut m, "10.0.0.1:4000", "10.0.0.2:5000", 2, 10_100_000);
    let s = m.finish().streams;
    assert_eq!(s[0].calls[0].call_id, "c1");
    assert_eq!(s[1].calls[0].call_id, "c2");
    assert_eq!((s[0].calls.len(), s[1].calls.len()), (1, 1));
}

#[test]
fn without_the_initial_invite_the_direction_is_unknown() {
    let mut m = Media::new();
    // A re-INVITE from the callee (its From is the callee) and its answer: who called is not
    // in the capture.
    let reinvite = sip_with_sdp("INVITE sip:a@x SIP/2.0", "c1", "b", "a", "10.0.0.2", 5000);
    m.learn_sdp(&reinvite, 0);
    flow(&mut m, "10.0.0.1:4000", "10.0.0.2:5000", 1, 100_000);
    let s = m.finish().streams;
    assert_eq!(calls_of(&s[0]), [("c1", None, false)]);
}

#[test]
fn a_reinvite_from_the_callee_keeps_the_directions() {
    use super::Direction::CalleeToCaller;
    let mut m = Media::new();
    offer_answer(&mut m, "c1", 0);
    // The callee moves its media: a re-INVITE whose From is the callee.
    let reinvite = sip_with_sdp("INVITE sip:a@x SIP/2.0", "c1", "b", "a", "10.0.0.3", 6000);
    m.learn_sdp(&reinvite, 5_000_000);
    flow(&mut m, "10.0.0.3:6000", "10.0.0.1:4000", 1, 5_100_000);
    let s = m.finish().streams;
    assert_eq!(calls_of(&s[0]), [("c1", Some(CalleeToCaller), false)]);
}
