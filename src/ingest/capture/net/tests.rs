//! Tests of the DNS and TLS readers: on the recordings of `fixtures/rules-net/` (real
//! dnsmasq, pjsua2 and OpenSSL bytes), and on hostile and hand-broken records.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::dns::{self, MAX_PENDING};
use super::tls::MAX_CONNS;
use super::{Fact, Net};
use crate::event::{DnsError, LogKind, Timestamp, TlsError};
use crate::ingest::capture::{Datagram, L4, decode, reader};
use crate::testutil::Lcg;

/// The datagrams of a recorded capture, as the decoder hands them on.
fn datagrams(rel: &str) -> Vec<Datagram> {
    let path = format!("{}/fixtures/rules-net/{rel}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).expect("fixture");
    let mut decoder = decode::Decoder::new();
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    reader::read(&mut bytes.as_slice(), &mut |pkt| {
        decoder.decode(&pkt, &mut out, &mut warnings);
    })
    .expect("a capture");
    out
}

fn run(datagrams: &[Datagram]) -> Vec<Fact> {
    let mut net = Net::default();
    let mut out = Vec::new();
    for d in datagrams {
        net.push(d, &mut out);
    }
    net.finish(&mut out, &mut Vec::new());
    out
}

fn kinds(facts: &[Fact]) -> Vec<&LogKind> {
    facts.iter().map(|f| &f.kind).collect()
}

fn addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), port)
}

fn at(ms: i64) -> Timestamp {
    Timestamp {
        micros: 1_700_000_000_000_000 + ms * 1000,
        dated: true,
        micro: true,
        unknown: false,
    }
}

fn dgram(ms: i64, src: SocketAddr, dst: SocketAddr, l4: L4, payload: Vec<u8>) -> Datagram {
    Datagram {
        frames: vec![ms as u64 + 1].into(),
        ts: at(ms),
        src,
        dst,
        l4,
        payload: payload.into(),
        snapped: false,
    }
}

fn tcp(seq: u32, fin: bool, rst: bool) -> L4 {
    L4::Tcp {
        seq,
        syn: false,
        fin,
        rst,
    }
}

/// A DNS message: header, one question, and raw answer bytes.
fn dns_msg(
    id: u16,
    response: bool,
    rcode: u8,
    name: &str,
    qtype: u16,
    answers: &[&[u8]],
) -> Vec<u8> {
    let flags: u16 = if response {
        0x8180 | u16::from(rcode)
    } else {
        0x0100
    };
    let mut m = Vec::new();
    for v in [id, flags, 1, answers.len() as u16, 0, 0] {
        m.extend_from_slice(&v.to_be_bytes());
    }
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    for a in answers {
        m.extend_from_slice(a);
    }
    m
}

/// An A record pointing back at the question's name (offset 12).
fn a_record(ip: [u8; 4]) -> Vec<u8> {
    let mut r = vec![0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4];
    r.extend_from_slice(&ip);
    r
}

fn query(ms: i64, id: u16, name: &str, qtype: u16) -> Datagram {
    let m = dns_msg(id, false, 0, name, qtype, &[]);
    dgram(ms, addr(1, 40000), addr(2, 53), L4::Udp, m)
}

fn answer(ms: i64, id: u16, name: &str, qtype: u16, rcode: u8, answers: &[&[u8]]) -> Datagram {
    let m = dns_msg(id, true, rcode, name, qtype, answers);
    dgram(ms, addr(2, 53), addr(1, 40000), L4::Udp, m)
}

// ---------------------------------------------------------------------------------------------
// DNS, on the recordings

#[test]
fn recorded_nxdomain_gives_both_failed_lookups() {
    let facts = run(&datagrams("dns-nxdomain-call/call.pcap"));
    let got: Vec<_> = facts
        .iter()
        .map(|f| (f.frames.to_vec(), f.kind.clone()))
        .collect();
    let failure = |name: &str, qtype: &str| LogKind::DnsFailure {
        name: Some(name.into()),
        qtype: Some(qtype.into()),
        error: DnsError::NxDomain,
    };
    assert_eq!(
        got,
        vec![
            (vec![1, 2], failure("_sip._udp.nx.sipflow.test", "SRV")),
            (vec![3, 4], failure("nx.sipflow.test", "A")),
        ]
    );
    assert!(facts.iter().all(|f| f.sender == "dns"));
}

#[test]
fn recorded_timeout_reports_only_what_the_capture_covers() {
    // The SRV query is sent 5 times over 8 s and the capture goes on 4 s more: not answered.
    // The A query's last attempt is the capture's last packet: the end of the input says
    // nothing about it.
    let facts = run(&datagrams("dns-timeout-register/reg.pcap"));
    assert_eq!(
        kinds(&facts),
        vec![&LogKind::DnsFailure {
            name: Some("_sip._udp.slow.sipflow.test".into()),
            qtype: Some("SRV".into()),
            error: DnsError::NoAnswer {
                attempts: 5,
                // 3 s after the last attempt (8.001 s after the first).
                waited_ms: 11_001,
            },
        }]
    );
    assert_eq!(facts[0].frames[..], [1, 2, 3, 4, 5]);
    assert!(
        facts[0].text.contains("5 attempts in 8.0 s"),
        "{}",
        facts[0].text
    );
}

#[test]
fn recorded_refused_is_an_rcode() {
    let facts = run(&datagrams("dns-refused-register/reg.pcap"));
    assert!(matches!(
        kinds(&facts)[..],
        [LogKind::DnsFailure {
            error: DnsError::Rcode { code: 5 },
            ..
        }]
    ));
    assert!(facts[0].text.contains("REFUSED"), "{}", facts[0].text);
}

#[test]
fn recorded_fallback_surfaces_the_a_answer_of_the_failed_srv_domain() {
    let facts = run(&datagrams("dns-srv-fallback/call.pcap"));
    assert_eq!(facts.len(), 2, "{facts:?}");
    assert!(matches!(
        &facts[0].kind,
        LogKind::DnsFailure {
            error: DnsError::NxDomain,
            ..
        }
    ));
    assert_eq!(
        facts[1].kind,
        LogKind::DnsAnswer {
            name: "pbx.sipflow.test".into(),
            qtype: "A".into(),
            records: vec!["10.63.4.2".into()],
        }
    );
}

#[test]
fn recorded_srv_answer_is_surfaced_and_nothing_fails() {
    let facts = run(&datagrams("dns-srv-ok/call.pcap"));
    assert_eq!(
        kinds(&facts),
        vec![&LogKind::DnsAnswer {
            name: "_sip._udp.sipflow.test".into(),
            qtype: "SRV".into(),
            records: vec!["0 0 6341 pbx.sipflow.test".into()],
        }]
    );
}

// ---------------------------------------------------------------------------------------------
// DNS, the table and its rules

#[test]
fn an_unanswered_query_needs_the_capture_to_go_on() {
    let q = query(0, 7, "_sip._udp.example.com", dns::TYPE_SRV);
    // The capture ends 1 s after the query: nothing.
    let other = |ms| dgram(ms, addr(3, 1), addr(4, 2), L4::Udp, b"x".to_vec());
    assert!(run(&[q.clone(), other(1_000)]).is_empty());
    // 6 s after: not answered, dated when it counted as such (5 s after the query).
    let facts = run(&[q, other(6_000)]);
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].ts, at(5_000));
    assert!(matches!(
        facts[0].kind,
        LogKind::DnsFailure {
            error: DnsError::NoAnswer {
                attempts: 1,
                waited_ms: 5_000
            },
            ..
        }
    ));
}

#[test]
fn a_query_answered_after_retries_is_not_a_failure() {
    let name = "example.com";
    let facts = run(&[
        query(0, 9, name, dns::TYPE_A),
        query(2_000, 9, name, dns::TYPE_A),
        query(4_000, 9, name, dns::TYPE_A),
        answer(4_500, 9, name, dns::TYPE_A, 0, &[&a_record([10, 0, 0, 9])]),
        query(20_000, 10, "other.example.com", dns::TYPE_A),
        answer(
            20_001,
            10,
            "other.example.com",
            dns::TYPE_A,
            0,
            &[&a_record([10, 0, 0, 8])],
        ),
    ]);
    // Answered, and not a SIP name: nothing to say.
    assert!(facts.is_empty(), "{facts:?}");
}

#[test]
fn an_empty_aaaa_answer_is_not_a_failure_but_an_empty_a_is() {
    let name = "pbx.example.com";
    let facts = run(&[
        query(0, 1, name, dns::TYPE_AAAA),
        answer(1, 1, name, dns::TYPE_AAAA, 0, &[]),
        query(2, 2, name, dns::TYPE_A),
        answer(3, 2, name, dns::TYPE_A, 0, &[]),
    ]);
    assert_eq!(
        kinds(&facts),
        vec![&LogKind::DnsFailure {
            name: Some(name.into()),
            qtype: Some("A".into()),
            error: DnsError::NoRecords,
        }]
    );
}

#[test]
fn servfail_and_a_truncated_answer() {
    let name = "_sips._tcp.example.com";
    let mut tc = answer(1, 4, name, dns::TYPE_SRV, 0, &[]);
    let mut payload = tc.payload.to_vec();
    payload[2] |= 0x02; // TC: the client asks again over TCP
    tc.payload = payload.into();
    let facts = run(&[
        query(0, 4, name, dns::TYPE_SRV),
        tc,
        query(2, 5, name, dns::TYPE_SRV),
        answer(3, 5, name, dns::TYPE_SRV, 2, &[]),
    ]);
    assert_eq!(facts.len(), 1, "{facts:?}");
    assert!(facts[0].text.contains("SERVFAIL"), "{}", facts[0].text);
}

#[test]
fn dns_over_tcp_whole_messages_are_read() {
    let name = "_sip._tcp.example.com";
    let framed = |m: Vec<u8>| {
        let mut v = (m.len() as u16).to_be_bytes().to_vec();
        v.extend(m);
        v
    };
    let q = framed(dns_msg(3, false, 0, name, dns::TYPE_SRV, &[]));
    let a = framed(dns_msg(3, true, 3, name, dns::TYPE_SRV, &[]));
    let facts = run(&[
        dgram(0, addr(1, 41000), addr(2, 53), tcp(1, false, false), q),
        dgram(1, addr(2, 53), addr(1, 41000), tcp(1, false, false), a),
    ]);
    assert!(matches!(
        kinds(&facts)[..],
        [LogKind::DnsFailure {
            error: DnsError::NxDomain,
            ..
        }]
    ));
}

#[test]
fn the_pending_table_is_bounded() {
    let mut net = Net::default();
    let mut out = Vec::new();
    for i in 0..(MAX_PENDING as u32 + 1000) {
        let name = format!("n{i}.example.com");
        // All within a second: none is old enough to count as unanswered.
        net.push(
            &query(
                i64::from(i) / 10_000,
                (i % 65_536) as u16,
                &name,
                dns::TYPE_A,
            ),
            &mut out,
        );
    }
    assert_eq!(net.held().0, MAX_PENDING);
    let mut warnings = Vec::new();
    net.finish(&mut out, &mut warnings);
    assert!(out.is_empty(), "the capture ended right after the queries");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].message.contains("1000 were forgotten"),
        "{warnings:?}"
    );
}

#[test]
fn answered_queries_leave_nothing_behind() {
    // Many answered queries, then one that is not: it is still judged (the bookkeeping of the
    // answered ones was dropped, not the new query's).
    let mut frames = Vec::new();
    for i in 0..(3 * MAX_PENDING as u32) {
        let name = format!("n{i}.example.com");
        let id = (i % 65_536) as u16;
        frames.push(query(0, id, &name, dns::TYPE_A));
        frames.push(answer(
            0,
            id,
            &name,
            dns::TYPE_A,
            0,
            &[&a_record([10, 0, 0, 1])],
        ));
    }
    frames.push(query(1, 1, "_sip._udp.late.example.com", dns::TYPE_SRV));
    frames.push(dgram(7_000, addr(3, 1), addr(4, 2), L4::Udp, b"x".to_vec()));
    let facts = run(&frames);
    assert_eq!(facts.len(), 1, "{facts:?}");
    assert!(
        facts[0].text.contains("late.example.com: no answer"),
        "{facts:?}"
    );
}

#[test]
fn every_truncation_of_a_response_is_safe() {
    let srv = {
        // priority, weight, port, target pbx.example.com (compressed: "example.com" at 16)
        let mut r = vec![
            0xc0, 12, 0, 33, 0, 1, 0, 0, 0, 60, 0, 12, 0, 1, 0, 2, 0x13, 0xc4,
        ];
        r.extend_from_slice(&[3, b'p', b'b', b'x', 0xc0, 22]);
        r
    };
    let full = dns_msg(1, true, 0, "_sip._udp.example.com", dns::TYPE_SRV, &[&srv]);
    let parsed = dns::parse(&full).expect("the whole message");
    assert_eq!(parsed.answers.len(), 1);
    assert!(
        matches!(&parsed.answers[0].data, dns::RData::Srv { port: 5060, target, .. } if target == "pbx.example.com"),
        "{parsed:?}"
    );
    for n in 0..full.len() {
        // Cut before the end of the question: not a message; after: the records read so far.
        if let Some(m) = dns::parse(&full[..n]) {
            assert!(m.answers.is_empty(), "{n}: {m:?}");
        }
    }
}

#[test]
fn compression_loops_and_forward_pointers_are_refused() {
    // The question's name is a pointer to itself.
    let mut m = dns_msg(1, true, 0, "a", dns::TYPE_A, &[]);
    m[12] = 0xc0;
    m[13] = 12;
    assert!(dns::parse(&m).is_none());
    // A pointer forward (to the qtype).
    m[13] = 14;
    assert!(dns::parse(&m).is_none());
    // A name longer than 255 bytes.
    let long: Vec<String> = (0..10).map(|_| "a".repeat(60)).collect();
    assert!(dns::parse(&dns_msg(1, false, 0, &long.join("."), dns::TYPE_A, &[])).is_none());
}

// ---------------------------------------------------------------------------------------------
// TLS, on the recordings

fn tls_failures(facts: &[Fact]) -> Vec<TlsError> {
    facts
        .iter()
        .filter_map(|f| match &f.kind {
            LogKind::TlsFailure { error, .. } => Some(error.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn recorded_certificate_rejection_is_a_close_right_after_the_handshake() {
    for rel in ["tls-untrusted-cert/call.pcap", "tls-wrong-name/call.pcap"] {
        let facts = run(&datagrams(rel));
        assert_eq!(
            tls_failures(&facts),
            vec![TlsError::ClosedAfterHandshake { by_client: true }],
            "{rel}"
        );
        // ClientHello, ServerHello, the client's encrypted alert, the FIN.
        assert_eq!(facts[0].frames[..], [4, 6, 10, 11], "{rel}");
    }
}

#[test]
fn recorded_protocol_mismatch_is_a_close_after_the_client_hello() {
    let facts = run(&datagrams("tls-protocol-version/call.pcap"));
    assert_eq!(
        tls_failures(&facts),
        vec![TlsError::Closed {
            reset: false,
            by_client: false,
            after_hello: true,
        }]
    );
    assert!(
        matches!(&facts[0].kind, LogKind::TlsFailure { peer: Some(p), .. } if p == "10.63.8.2:6371")
    );
}

#[test]
fn recorded_good_tls_call_gives_nothing() {
    assert!(run(&datagrams("tls-ok/call.pcap")).is_empty());
}

#[test]
fn records_split_at_every_byte_give_the_same_verdict() {
    // Each TCP payload of the recording cut into 1-byte segments (and every segment sent
    // twice: a retransmission), as a network may deliver it; only the connection's first
    // segment keeps the 6 bytes that show a ClientHello.
    let whole = datagrams("tls-untrusted-cert/call.pcap");
    let mut split = Vec::new();
    let mut first = true;
    for d in &whole {
        let L4::Tcp { seq, fin, rst, syn } = d.l4 else {
            split.push(d.clone());
            continue;
        };
        if d.payload.is_empty() {
            split.push(d.clone());
            continue;
        }
        let mut at = 0;
        while at < d.payload.len() {
            let len = if std::mem::take(&mut first) { 6 } else { 1 };
            let end = (at + len).min(d.payload.len());
            let mut piece = d.clone();
            piece.l4 = L4::Tcp {
                seq: seq.wrapping_add(at as u32),
                syn,
                fin: fin && end == d.payload.len(),
                rst,
            };
            piece.payload = d.payload.slice(at..end);
            split.push(piece.clone());
            split.push(piece);
            at = end;
        }
    }
    assert_eq!(tls_failures(&run(&split)), tls_failures(&run(&whole)),);
}

// ---------------------------------------------------------------------------------------------
// TLS, hand-made records

/// A TLS record.
fn record(content: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// A ClientHello (handshake record) with the given ALPN protocols.
fn client_hello(alpn: &[&str]) -> Vec<u8> {
    let mut exts = Vec::new();
    if !alpn.is_empty() {
        let mut list = Vec::new();
        for p in alpn {
            list.push(p.len() as u8);
            list.extend_from_slice(p.as_bytes());
        }
        exts.extend_from_slice(&16u16.to_be_bytes());
        exts.extend_from_slice(&((list.len() + 2) as u16).to_be_bytes());
        exts.extend_from_slice(&(list.len() as u16).to_be_bytes());
        exts.extend(list);
    }
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher suite
    body.extend_from_slice(&[1, 0]); // null compression
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend(exts);
    let mut hs = vec![1, 0];
    hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
    hs.extend(body);
    record(22, &hs)
}

#[test]
fn a_fatal_alert_in_clear_is_reported_with_its_code() {
    let (c, s) = (addr(1, 50000), addr(2, 5061));
    let facts = run(&[
        dgram(0, c, s, tcp(100, false, false), client_hello(&[])),
        dgram(1, s, c, tcp(900, false, false), record(21, &[2, 48])),
        dgram(2, s, c, tcp(907, true, false), Vec::new()),
    ]);
    assert_eq!(
        tls_failures(&facts),
        vec![TlsError::Alert {
            code: 48,
            by_client: false
        }]
    );
    assert!(
        facts[0].text.contains("unknown_ca (48)"),
        "{}",
        facts[0].text
    );
}

#[test]
fn a_reset_after_the_client_hello() {
    let (c, s) = (addr(1, 50001), addr(2, 5061));
    let facts = run(&[
        dgram(0, c, s, tcp(1, false, false), client_hello(&["sip"])),
        dgram(1, s, c, tcp(1, false, true), Vec::new()),
    ]);
    assert_eq!(
        tls_failures(&facts),
        vec![TlsError::Closed {
            reset: true,
            by_client: false,
            after_hello: true
        }]
    );
}

#[test]
fn web_clients_and_web_ports_are_not_looked_at() {
    let (c, s) = (addr(1, 50002), addr(2, 5061));
    let rst = |src, dst| dgram(1, src, dst, tcp(1, false, true), Vec::new());
    let facts = run(&[
        dgram(
            0,
            c,
            s,
            tcp(1, false, false),
            client_hello(&["h2", "http/1.1"]),
        ),
        rst(s, c),
    ]);
    assert!(facts.is_empty(), "{facts:?}");
    let web = addr(2, 443);
    let facts = run(&[
        dgram(0, c, web, tcp(1, false, false), client_hello(&[])),
        rst(web, c),
    ]);
    assert!(facts.is_empty(), "{facts:?}");
    // … unless that port is a SIP port (--sip-port 443).
    let mut net = Net::new(vec![443]);
    let mut out = Vec::new();
    net.push(
        &dgram(0, c, web, tcp(1, false, false), client_hello(&[])),
        &mut out,
    );
    net.push(&rst(web, c), &mut out);
    assert_eq!(out.len(), 1);
}

#[test]
fn a_gap_stops_the_reading_but_not_the_verdict() {
    let (c, s) = (addr(1, 50003), addr(2, 5061));
    let hello = client_hello(&[]);
    let facts = run(&[
        dgram(0, c, s, tcp(1, false, false), hello.clone()),
        // Bytes missing before this segment: what follows cannot be read as records.
        dgram(
            1,
            c,
            s,
            tcp(1 + hello.len() as u32 + 100, false, false),
            record(21, &[2, 40]),
        ),
        dgram(2, s, c, tcp(1, true, false), Vec::new()),
    ]);
    assert_eq!(
        tls_failures(&facts),
        vec![TlsError::Closed {
            reset: false,
            by_client: false,
            after_hello: true
        }]
    );
}

#[test]
fn connections_that_carried_data_leave_nothing_behind() {
    // Many good connections (ClientHello, then application data), then more handshakes under
    // way than the table holds: the oldest of those are still the ones forgotten.
    let mut net = Net::default();
    let mut out = Vec::new();
    let hello = client_hello(&[]);
    let data = record(23, &[0; 64]);
    for i in 0..(3 * MAX_CONNS as u32) {
        let c = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + i)), 40000);
        let s = addr(2, 5061);
        net.push(
            &dgram(0, c, s, tcp(1, false, false), hello.clone()),
            &mut out,
        );
        net.push(
            &dgram(0, s, c, tcp(1, false, false), data.clone()),
            &mut out,
        );
    }
    assert_eq!(net.held().1, 0);
    for i in 0..(MAX_CONNS as u32 + 10) {
        let c = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0c00_0000 + i)), 40000);
        net.push(
            &dgram(0, c, addr(2, 5061), tcp(1, false, false), hello.clone()),
            &mut out,
        );
    }
    assert_eq!(net.held().1, MAX_CONNS);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn the_connection_table_is_bounded() {
    let mut net = Net::default();
    let mut out = Vec::new();
    let hello = client_hello(&[]);
    for i in 0..(MAX_CONNS as u32 + 500) {
        let c = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), 40000);
        net.push(
            &dgram(0, c, addr(2, 5061), tcp(1, false, false), hello.clone()),
            &mut out,
        );
    }
    assert_eq!(net.held().1, MAX_CONNS);
    let mut warnings = Vec::new();
    net.finish(&mut out, &mut warnings);
    assert!(
        out.is_empty(),
        "handshakes under way at the end are not failures"
    );
    assert!(
        warnings[0].message.contains("500 were forgotten"),
        "{warnings:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile bytes

#[test]
fn hostile_dns_and_tls_payloads_never_panic() {
    let mut rng = Lcg(0x5eed_0053);
    let mut seeds: Vec<Vec<u8>> = datagrams("dns-srv-fallback/call.pcap")
        .into_iter()
        .chain(datagrams("tls-untrusted-cert/call.pcap"))
        .map(|d| d.payload.to_vec())
        .filter(|p| !p.is_empty())
        .collect();
    seeds.push(client_hello(&["sip", "h2"]));
    let mut net = Net::default();
    let mut out = Vec::new();
    for round in 0..20_000u32 {
        let mut p = seeds[rng.below(seeds.len() as u64) as usize].clone();
        // Flip, cut or extend: random bytes inside structures that claim lengths.
        for _ in 0..=rng.below(8) {
            match rng.below(3) {
                0 if !p.is_empty() => {
                    let i = rng.below(p.len() as u64) as usize;
                    p[i] = rng.next() as u8;
                }
                1 => p.truncate(rng.below(p.len() as u64 + 1) as usize),
                _ => p.extend((0..rng.below(64)).map(|_| rng.next() as u8)),
            }
        }
        let _ = dns::parse(&p);
        let (a, b) = (addr((round % 7) as u8, 53), addr(9, 5061));
        let l4 = if rng.below(2) == 0 {
            L4::Udp
        } else {
            tcp(rng.next() as u32, rng.below(8) == 0, rng.below(8) == 0)
        };
        let (src, dst) = if rng.below(2) == 0 { (a, b) } else { (b, a) };
        net.push(&dgram(i64::from(round), src, dst, l4, p), &mut out);
    }
    net.finish(&mut out, &mut Vec::new());
    let (dns, tls) = net.held();
    assert!(dns <= MAX_PENDING && tls <= MAX_CONNS);
}
