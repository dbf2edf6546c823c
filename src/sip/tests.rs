//! Message-level tests of the SIP model: whole messages through [`SipMessage::parse`],
//! [`message_len`] and the accessors. Unit tests of single grammars live next to them
//! (`grammar`, `header`, `uri`, `views`, `sdp`).

use super::*;

/// `\n` → `\r\n`, as on the wire.
fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

fn at(m: &SipMessage, r: Range<usize>) -> &str {
    std::str::from_utf8(&m.raw()[r]).unwrap()
}

fn parse(raw: &[u8]) -> SipMessage {
    match SipMessage::parse(raw) {
        Ok(m) => m,
        Err(u) => panic!("did not parse: {:?}", u.error),
    }
}

/// A header's name and its name, value and whole spans.
type Spans = (HeaderName, Range<usize>, Range<usize>, Range<usize>);

const PJSUA_SDP: &str = "v=0
o=- 4004227697 4004227697 IN IP4 192.0.2.2
s=pjmedia
b=AS:84
t=0 0
a=X-nat:0
m=audio 4000 RTP/AVP 96 97 98 99 3 0 8 9 120 121 122
c=IN IP4 192.0.2.2
b=TIAS:64000
a=rtcp:4001 IN IP4 192.0.2.2
a=sendrecv
a=rtpmap:96 speex/16000
a=rtpmap:97 speex/8000
a=rtpmap:98 speex/32000
a=rtpmap:99 iLBC/8000
a=fmtp:99 mode=30
a=rtpmap:3 GSM/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:9 G722/8000
a=rtpmap:120 telephone-event/16000
a=fmtp:120 0-16
a=rtpmap:121 telephone-event/8000
a=fmtp:121 0-16
a=rtpmap:122 telephone-event/32000
a=fmtp:122 0-16
a=ssrc:122965811 cname:2d5c3d0e6b4f1ea1
";

const PJSUA_HEAD: &str = "INVITE sip:callee@127.0.0.1:5070 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5080;rport;branch=z9hG4bKPjhZeEsLnH5.sEhxKD5eoJSswpe94yNif7
Max-Forwards: 70
From: sip:caller@127.0.0.1;tag=gQB9eJof2JjtH3Uw0y3JyWw4buq1.SRt
To: sip:callee@127.0.0.1
Contact: <sip:caller@127.0.0.1:5080;ob>
Call-ID: tsovfMIH4BJiebJAbSXM9yCX1ozsVyTI
CSeq: 320 INVITE
Allow: PRACK, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, SUBSCRIBE, NOTIFY, REFER, MESSAGE, OPTIONS
Supported: replaces, 100rel, timer, norefersub
Session-Expires: 1800
Min-SE: 90
Content-Type: application/sdp
Content-Length:   619

";

fn pjsua_invite() -> Vec<u8> {
    crlf(&format!("{PJSUA_HEAD}{PJSUA_SDP}"))
}

#[test]
fn pjsua_invite_with_sdp() {
    let raw = pjsua_invite();
    assert_eq!(raw.len(), 1197);
    let m = parse(&raw);
    assert!(m.is_request());
    assert_eq!(m.method(), Some("INVITE"));
    assert_eq!(m.request_uri(), Some("sip:callee@127.0.0.1:5070"));
    assert_eq!(m.status(), None);
    assert_eq!(m.reason_phrase(), None);
    assert_eq!(
        m.start_line(),
        &StartLine::Request {
            method: "INVITE".into(),
            uri: "sip:callee@127.0.0.1:5070".into(),
            version: "SIP/2.0".into()
        }
    );
    assert_eq!(m.start_span(), 0..40);
    assert_eq!(m.issues(), &[]);

    let spans: Vec<Spans> = m
        .headers()
        .iter()
        .map(|h| {
            (
                h.name,
                h.name_span.clone(),
                h.value_span.clone(),
                h.span.clone(),
            )
        })
        .collect();
    use HeaderName as H;
    assert_eq!(
        spans,
        vec![
            (H::Via, 42..45, 47..128, 42..128),
            (H::MaxForwards, 130..142, 144..146, 130..146),
            (H::From, 148..152, 154..211, 148..211),
            (H::To, 213..215, 217..237, 213..237),
            (H::Contact, 239..246, 248..278, 239..278),
            (H::CallId, 280..287, 289..321, 280..321),
            (H::CSeq, 323..327, 329..339, 323..339),
            (H::Allow, 341..346, 348..437, 341..437),
            (H::Supported, 439..448, 450..485, 439..485),
            (H::SessionExpires, 487..502, 504..508, 487..508),
            (H::MinSe, 510..516, 518..520, 510..520),
            (H::ContentType, 522..534, 536..551, 522..551),
            (H::ContentLength, 553..567, 571..574, 553..574),
        ]
    );
    assert_eq!(at(&m, 553..574), "Content-Length:   619");
    assert_eq!(m.header_name(&m.headers()[5]), "Call-ID");

    assert_eq!(
        m.call_id().as_deref(),
        Some("tsovfMIH4BJiebJAbSXM9yCX1ozsVyTI")
    );
    assert_eq!(
        m.cseq(),
        Some(&CSeq {
            seq: 320,
            method: "INVITE".into()
        })
    );
    let from = m.from().unwrap();
    assert_eq!(from.uri_text, "sip:caller@127.0.0.1");
    assert_eq!(from.tag(), Some("gQB9eJof2JjtH3Uw0y3JyWw4buq1.SRt"));
    assert_eq!(from.uri.as_ref().unwrap().params, vec![]);
    assert_eq!(from.uri.as_ref().unwrap().user.as_deref(), Some("caller"));
    let to = m.to().unwrap();
    assert_eq!(to.uri_text, "sip:callee@127.0.0.1");
    assert_eq!(to.tag(), None);

    let via = m.top_via().unwrap();
    assert_eq!(via.transport, Transport::Udp);
    assert_eq!(via.sent_by(), "127.0.0.1:5080");
    assert_eq!(
        via.branch.as_deref(),
        Some("z9hG4bKPjhZeEsLnH5.sEhxKD5eoJSswpe94yNif7")
    );
    assert_eq!(via.rport, Some(None));
    assert_eq!(m.vias(), vec![via.clone()]);

    match m.contacts().as_slice() {
        [Contact::Addr { addr, expires }] => {
            assert_eq!(addr.uri_text, "sip:caller@127.0.0.1:5080;ob");
            assert_eq!(addr.uri.as_ref().unwrap().port, Some(5080));
            assert_eq!(addr.uri.as_ref().unwrap().param("ob"), Some(""));
            assert_eq!(*expires, None);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.max_forwards(), Some(70));
    assert_eq!(m.content_type().as_deref(), Some("application/sdp"));
    assert_eq!(m.content_length(), Some(619));
    assert_eq!(
        m.all(HeaderName::Allow),
        vec![
            "PRACK",
            "INVITE",
            "ACK",
            "BYE",
            "CANCEL",
            "UPDATE",
            "INFO",
            "SUBSCRIBE",
            "NOTIFY",
            "REFER",
            "MESSAGE",
            "OPTIONS"
        ]
    );
    assert_eq!(
        m.supported(),
        vec!["replaces", "100rel", "timer", "norefersub"]
    );
    assert_eq!(m.require(), Vec::<String>::new());
    assert_eq!(
        m.session_expires(),
        Some(SessionExpires {
            delta: 1800,
            refresher: None
        })
    );
    assert_eq!(m.min_se(), Some(90));
    assert_eq!(m.expires(), None);
    assert!(!m.has_authorization());

    assert_eq!(m.body_span(), 578..1197);
    assert_eq!(m.body(), crlf(PJSUA_SDP).as_slice());
    let sdp = m.sdp().unwrap();
    assert_eq!(sdp.connection, None);
    assert_eq!(sdp.direction, MediaDirection::SendRecv);
    assert_eq!(sdp.media.len(), 1);
    let a = &sdp.media[0];
    assert_eq!(
        (a.kind.as_str(), a.port, a.proto.as_str()),
        ("audio", 4000, "RTP/AVP")
    );
    assert_eq!(
        a.formats,
        vec![
            "96", "97", "98", "99", "3", "0", "8", "9", "120", "121", "122"
        ]
    );
    assert_eq!(a.connection.as_deref(), Some("192.0.2.2"));
    assert_eq!(a.direction, MediaDirection::SendRecv);
    assert_eq!(a.rtpmaps.len(), 11);
    assert_eq!(
        a.rtpmaps[0],
        RtpMap {
            payload: 96,
            encoding: "speex".into(),
            clock: 16000,
            channels: None
        }
    );
    assert_eq!(
        a.rtpmaps[10],
        RtpMap {
            payload: 122,
            encoding: "telephone-event".into(),
            clock: 32000,
            channels: None
        }
    );

    assert_eq!(message_len(&raw), Some(1197));
}

#[test]
fn response_with_route_set() {
    let raw = crlf(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK77;received=192.0.2.9
Via: SIP/2.0/UDP 127.0.0.1:5080;rport=5080;received=10.0.0.1;branch=z9hG4bKPj1
Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>
Record-Route: <sip:p0.example.com;lr>
From: \"Alice\" <sip:alice@example.com>;tag=1928301774
To: Bob <sip:bob@example.com>;tag=a6c85cf
Call-ID: a84b4c76e66710@pc33.atlanta.com
CSeq: 314159 INVITE
Contact: <sip:bob@192.0.2.4>;expires=3600
Server: pjsip-test/2.14
Content-Length: 0

",
    );
    let m = parse(&raw);
    assert!(!m.is_request());
    assert_eq!(m.method(), None);
    assert_eq!(m.status(), Some(200));
    assert_eq!(m.reason_phrase(), Some("OK"));
    assert_eq!(m.start_span(), 0..14);
    assert_eq!(m.issues(), &[]);
    assert_eq!(m.body_span(), raw.len()..raw.len());
    assert_eq!(m.body(), b"");
    let vias = m.vias();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].sent_by(), "proxy.example.com");
    assert_eq!(vias[0].rport, None);
    assert_eq!(vias[0].received.as_deref(), Some("192.0.2.9"));
    assert_eq!(vias[1].rport, Some(Some(5080)));
    assert_eq!(vias[1].branch.as_deref(), Some("z9hG4bKPj1"));
    assert_eq!(m.top_via(), Some(&vias[0]));
    let rr: Vec<String> = m.record_routes().into_iter().map(|a| a.uri_text).collect();
    assert_eq!(
        rr,
        vec![
            "sip:p2.example.com;lr",
            "sip:p1.example.com;lr",
            "sip:p0.example.com;lr"
        ]
    );
    assert_eq!(m.routes(), vec![]);
    let from = m.from().unwrap();
    assert_eq!(from.display.as_deref(), Some("Alice"));
    assert_eq!(from.tag(), Some("1928301774"));
    let to = m.to().unwrap();
    assert_eq!(to.display.as_deref(), Some("Bob"));
    assert_eq!(to.tag(), Some("a6c85cf"));
    match m.contacts().as_slice() {
        [Contact::Addr { addr, expires }] => {
            assert_eq!(addr.uri_text, "sip:bob@192.0.2.4");
            assert_eq!(*expires, Some(3600));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.server().as_deref(), Some("pjsip-test/2.14"));
    assert_eq!(m.user_agent(), None);
    assert_eq!(m.content_length(), Some(0));
    assert_eq!(m.sdp(), None);
    assert_eq!(message_len(&raw), Some(raw.len()));
}

#[test]
fn empty_reason_phrase() {
    let m = parse(b"SIP/2.0 100 \r\nContent-Length: 0\r\n\r\n");
    assert_eq!(m.status(), Some(100));
    assert_eq!(m.reason_phrase(), Some(""));
    assert_eq!(m.start_span(), 0..11);
    let m = parse(b"SIP/2.0 183\r\n\r\n");
    assert_eq!(m.status(), Some(183));
    assert_eq!(m.reason_phrase(), Some(""));
    let m = parse(b"SIP/2.0 503 Service Unavailable\r\n\r\n");
    assert_eq!(m.reason_phrase(), Some("Service Unavailable"));
}

#[test]
fn compact_forms() {
    let raw = crlf(
        "BYE sip:bob@192.0.2.4 SIP/2.0
v: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKc
f: <sip:a@x>;tag=1
t: <sip:b@y>;tag=2
i: abc@x
CSeq: 2 BYE
m: <sip:a@192.0.2.1>
k: timer
x: 90;refresher=uas
o: refer
u: presence, dialog
r: <sip:c@z>
b: <sip:a@x>
s: hello
y: sig
a: *;audio
j: *;video
d: proxy, recurse
e: gzip
c: text/plain
l: 5

hello",
    );
    let m = parse(&raw);
    assert_eq!(m.issues(), &[]);
    let names: Vec<HeaderName> = m.headers().iter().map(|h| h.name).collect();
    use HeaderName as H;
    assert_eq!(
        names,
        vec![
            H::Via,
            H::From,
            H::To,
            H::CallId,
            H::CSeq,
            H::Contact,
            H::Supported,
            H::SessionExpires,
            H::Event,
            H::AllowEvents,
            H::ReferTo,
            H::ReferredBy,
            H::Subject,
            H::Identity,
            H::AcceptContact,
            H::RejectContact,
            H::RequestDisposition,
            H::ContentEncoding,
            H::ContentType,
            H::ContentLength,
        ]
    );
    assert_eq!(m.top_via().unwrap().transport, Transport::Tcp);
    assert_eq!(m.from().unwrap().tag(), Some("1"));
    assert_eq!(m.to().unwrap().tag(), Some("2"));
    assert_eq!(m.call_id().as_deref(), Some("abc@x"));
    assert_eq!(m.first_named("Call-ID").as_deref(), Some("abc@x"));
    assert_eq!(m.first_named("i").as_deref(), Some("abc@x"));
    assert_eq!(m.supported(), vec!["timer"]);
    assert_eq!(
        m.session_expires(),
        Some(SessionExpires {
            delta: 90,
            refresher: Some("uas".into())
        })
    );
    assert_eq!(m.all(H::AllowEvents), vec!["presence", "dialog"]);
    assert_eq!(m.all(H::RequestDisposition), vec!["proxy", "recurse"]);
    assert_eq!(m.first(H::ReferTo).as_deref(), Some("<sip:c@z>"));
    assert_eq!(m.content_type().as_deref(), Some("text/plain"));
    assert_eq!(m.body(), b"hello");
    assert_eq!(m.sdp(), None);
    let v = &m.headers()[0];
    assert_eq!(m.header_name(v), "v");
    assert_eq!(v.name_span, 31..32);
    assert_eq!(v.value_span, 34..76);
    assert_eq!(
        at(&m, v.span.clone()),
        "v: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bKc"
    );
}

#[test]
fn folded_lines() {
    let raw = crlf(
        "OPTIONS sip:x@y SIP/2.0
Subject: I know you're there,
   pick up the phone
\tand talk to me!
Via: SIP/2.0/UDP h1;branch=z9hG4bKa,
 SIP/2.0/UDP h2;branch=z9hG4bKb
Empty:
X-Late:
  later value

",
    );
    let m = parse(&raw);
    assert_eq!(m.issues(), &[]);
    let h = &m.headers()[0];
    assert_eq!(h.name, HeaderName::Subject);
    assert_eq!(h.name_span, 25..32);
    assert_eq!(h.value_span, 34..94);
    assert_eq!(h.span, 25..94);
    assert_eq!(
        at(&m, h.value_span.clone()),
        "I know you're there,\r\n   pick up the phone\r\n\tand talk to me!"
    );
    assert_eq!(
        m.value(h),
        "I know you're there, pick up the phone and talk to me!"
    );
    let branches: Vec<Option<String>> = m.vias().into_iter().map(|v| v.branch).collect();
    assert_eq!(
        branches,
        vec![Some("z9hG4bKa".to_string()), Some("z9hG4bKb".to_string())]
    );
    let e = &m.headers()[2];
    assert_eq!(m.header_name(e), "Empty");
    assert_eq!(e.value_span, 173..173);
    assert_eq!(e.span, 167..173);
    assert_eq!(m.first_named("empty").as_deref(), Some(""));
    let late = &m.headers()[3];
    assert_eq!(at(&m, late.value_span.clone()), "later value");
    assert_eq!(late.span, 175..197);
    assert_eq!(m.first_named("X-LATE").as_deref(), Some("later value"));
    assert_eq!(m.body(), b"");
}

#[test]
fn bare_lf_and_colon_spacing() {
    let raw =
        b"MESSAGE sip:b@y SIP/2.0\nVia  : SIP/2.0/UDP h;branch=z9hG4bK1\nContent-Length:2\n\nhi";
    let m = parse(raw);
    assert_eq!(m.issues(), &[]);
    assert_eq!(m.start_span(), 0..23);
    let via = &m.headers()[0];
    assert_eq!(via.name_span, 24..27);
    assert_eq!(via.value_span, 31..60);
    assert_eq!(via.span, 24..60);
    assert_eq!(m.header_name(via), "Via");
    assert_eq!(m.top_via().unwrap().branch.as_deref(), Some("z9hG4bK1"));
    assert_eq!(m.headers()[1].value_span, 76..77);
    assert_eq!(m.body_span(), 79..81);
    assert_eq!(m.body(), b"hi");
    assert_eq!(message_len(raw), Some(81));
}

#[test]
fn repeated_via_exact_spans() {
    let raw = crlf(
        "ACK sip:b@y SIP/2.0
Via: SIP/2.0/UDP a.example;branch=z9hG4bK1
VIA: SIP/2.0/TCP b.example:5070;branch=z9hG4bK2, SIP/2.0/UDP c.example;branch=z9hG4bK3
Route: <sip:r1;lr>
Via: SIP/2.0/TLS d.example;branch=z9hG4bK4

",
    );
    let m = parse(&raw);
    let vias: Vec<(Range<usize>, Range<usize>, Range<usize>)> = m
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::Via)
        .map(|h| (h.name_span.clone(), h.value_span.clone(), h.span.clone()))
        .collect();
    assert_eq!(
        vias,
        vec![
            (21..24, 26..63, 21..63),
            (65..68, 70..151, 65..151),
            (173..176, 178..215, 173..215)
        ]
    );
    assert_eq!(at(&m, 178..215), "SIP/2.0/TLS d.example;branch=z9hG4bK4");
    assert_eq!(
        m.all(HeaderName::Via),
        vec![
            "SIP/2.0/UDP a.example;branch=z9hG4bK1",
            "SIP/2.0/TCP b.example:5070;branch=z9hG4bK2",
            "SIP/2.0/UDP c.example;branch=z9hG4bK3",
            "SIP/2.0/TLS d.example;branch=z9hG4bK4",
        ]
    );
    let v: Vec<(Transport, String)> = m
        .vias()
        .into_iter()
        .map(|v| (v.transport, v.sent_by()))
        .collect();
    assert_eq!(
        v,
        vec![
            (Transport::Udp, "a.example".to_string()),
            (Transport::Tcp, "b.example:5070".to_string()),
            (Transport::Udp, "c.example".to_string()),
            (Transport::Tls, "d.example".to_string()),
        ]
    );
    assert_eq!(m.top_via().unwrap().branch.as_deref(), Some("z9hG4bK1"));
    assert_eq!(m.routes()[0].uri_text, "sip:r1;lr");
}

#[test]
fn rport_variants() {
    let raw = crlf(
        "SIP/2.0 180 Ringing
Via: SIP/2.0/UDP h1;branch=z9hG4bK1
Via: SIP/2.0/UDP h2;rport;branch=z9hG4bK2
Via: SIP/2.0/UDP h3;branch=z9hG4bK3;rport=5099;received=198.51.100.1
Via: SIP/2.0/UDP h4;rport=

",
    );
    let m = parse(&raw);
    let r: Vec<Option<Option<u16>>> = m.vias().into_iter().map(|v| v.rport).collect();
    assert_eq!(r, vec![None, Some(None), Some(Some(5099)), Some(None)]);
    assert_eq!(m.vias()[2].received.as_deref(), Some("198.51.100.1"));
}

#[test]
fn ipv6_via_and_uris() {
    let raw = crlf(
        "REGISTER sip:[2001:db8::1] SIP/2.0
Via: SIP/2.0/UDP [2001:db8::2]:5060;rport;branch=z9hG4bKv6;received=2001:db8::99
From: <sip:alice@[2001:db8::1]>;tag=t6
To: <sip:alice@[2001:db8::1]>
Contact: <sip:alice@[2001:db8::2]:5060;transport=udp>;expires=300
Expires: 300

",
    );
    let m = parse(&raw);
    assert_eq!(m.request_uri(), Some("sip:[2001:db8::1]"));
    let v = m.top_via().unwrap();
    assert_eq!(v.host, "[2001:db8::2]");
    assert_eq!(v.port, Some(5060));
    assert_eq!(v.sent_by(), "[2001:db8::2]:5060");
    assert_eq!(v.received.as_deref(), Some("2001:db8::99"));
    let from = m.from().unwrap();
    let u = from.uri.unwrap();
    assert_eq!(
        (u.user.as_deref(), u.host.as_str(), u.port),
        (Some("alice"), "[2001:db8::1]", None)
    );
    match m.contacts().as_slice() {
        [Contact::Addr { addr, expires }] => {
            let u = addr.uri.as_ref().unwrap();
            assert_eq!(u.host, "[2001:db8::2]");
            assert_eq!(u.port, Some(5060));
            assert_eq!(u.param("transport"), Some("udp"));
            assert_eq!(*expires, Some(300));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.expires(), Some(300));
    assert_eq!(
        Uri::parse("sip:[2001:db8::1]").unwrap().host,
        "[2001:db8::1]"
    );
}

#[test]
fn quoted_display_names_with_commas() {
    let raw = crlf(
        "SIP/2.0 300 Multiple Choices
Contact: \"Doe, John\" <sip:john@a.example>;q=0.7, \"Smith, \\\"Jane\\\"\" <sip:jane@b.example;x=1,2>, sip:c@c.example;expires=10
From: \"Doe, John\" <sip:john@a.example>;tag=x

",
    );
    let m = parse(&raw);
    assert_eq!(
        m.all(HeaderName::Contact),
        vec![
            "\"Doe, John\" <sip:john@a.example>;q=0.7",
            "\"Smith, \\\"Jane\\\"\" <sip:jane@b.example;x=1,2>",
            "sip:c@c.example;expires=10",
        ]
    );
    let c = m.contacts();
    assert_eq!(c.len(), 3);
    match &c[1] {
        Contact::Addr { addr, .. } => {
            assert_eq!(addr.display.as_deref(), Some("Smith, \"Jane\""));
            assert_eq!(addr.uri_text, "sip:jane@b.example;x=1,2");
        }
        other => panic!("{other:?}"),
    }
    match &c[2] {
        Contact::Addr { addr, expires } => {
            assert_eq!(addr.uri_text, "sip:c@c.example");
            assert_eq!(*expires, Some(10));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.from().unwrap().display.as_deref(), Some("Doe, John"));
    // From is not a list header: the comma is not split even outside quotes.
    assert_eq!(m.all(HeaderName::From).len(), 1);
}

#[test]
fn contact_star_and_auth_headers() {
    let raw = crlf(
        "REGISTER sip:example.com SIP/2.0
Contact: *
Expires: 0
Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"abc\", uri=\"sip:example.com\", response=\"0123\"
Date: Sat, 13 Nov 2010 23:29:00 GMT
Require: 100rel, timer
Min-Expires: 60

",
    );
    let m = parse(&raw);
    assert_eq!(m.contacts(), vec![Contact::Star]);
    assert_eq!(m.expires(), Some(0));
    assert_eq!(m.min_expires(), Some(60));
    assert!(m.has_authorization());
    assert!(!m.has_www_authenticate());
    assert!(!m.has_proxy_authenticate());
    assert_eq!(m.all(HeaderName::Authorization).len(), 1);
    assert_eq!(
        m.first_named("date").as_deref(),
        Some("Sat, 13 Nov 2010 23:29:00 GMT")
    );
    assert_eq!(
        m.all(HeaderName::Other),
        vec!["Sat, 13 Nov 2010 23:29:00 GMT"]
    );
    assert_eq!(m.require(), vec!["100rel", "timer"]);

    let m = parse(&crlf(
        "SIP/2.0 407 Proxy Authentication Required
Proxy-Authenticate: Digest realm=\"a\", nonce=\"b\", algorithm=MD5
WWW-Authenticate: Digest realm=\"a\", nonce=\"c\"

",
    ));
    assert!(m.has_proxy_authenticate());
    assert!(m.has_www_authenticate());
    assert!(!m.has_authorization());
    assert_eq!(
        m.all(HeaderName::WwwAuthenticate),
        vec!["Digest realm=\"a\", nonce=\"c\""]
    );
}

#[test]
fn reason_headers() {
    let raw = crlf(
        "CANCEL sip:b@y SIP/2.0
Reason: SIP ;cause=200 ;text=\"Call completed elsewhere\"
Reason: Q.850;cause=16;text=\"Normal call clearing, really\", SIP;cause=487

",
    );
    let m = parse(&raw);
    assert_eq!(
        m.reasons(),
        vec![
            ReasonValue {
                protocol: "SIP".into(),
                cause: Some(200),
                text: Some("Call completed elsewhere".into())
            },
            ReasonValue {
                protocol: "Q.850".into(),
                cause: Some(16),
                text: Some("Normal call clearing, really".into())
            },
            ReasonValue {
                protocol: "SIP".into(),
                cause: Some(487),
                text: None
            },
        ]
    );
}

#[test]
fn content_length_shorter_body() {
    // Content-Length says 10, only 4 bytes present.
    let raw = b"MESSAGE sip:b@y SIP/2.0\r\nContent-Length: 10\r\n\r\nabcd";
    let m = parse(raw);
    assert_eq!(m.body(), b"abcd");
    assert_eq!(m.body_span(), 47..51);
    assert_eq!(
        m.issues(),
        &[ParseIssue {
            kind: IssueKind::ContentLengthMismatch,
            message: "Content-Length declares 10 bytes but only 4 are present".into(),
            span: 41..43,
        }]
    );
    assert_eq!(message_len(raw), None);
}

#[test]
fn content_length_longer_body() {
    let raw = b"MESSAGE sip:b@y SIP/2.0\r\nContent-Length: 2\r\n\r\nabcd\r\n";
    let m = parse(raw);
    assert_eq!(m.body(), b"ab");
    assert_eq!(m.body_span(), 46..48);
    assert_eq!(m.issues().len(), 1);
    assert_eq!(m.issues()[0].kind, IssueKind::ContentLengthMismatch);
    assert_eq!(m.issues()[0].span, 48..50);
    assert_eq!(&raw[48..50], b"cd");
    assert_eq!(message_len(raw), Some(48));

    // Only CR/LF after the body (pjsip dumps add a newline): silently ignored.
    let raw = b"MESSAGE sip:b@y SIP/2.0\r\nContent-Length: 2\r\n\r\nab\r\n\n";
    let m = parse(raw);
    assert_eq!(m.body(), b"ab");
    assert_eq!(m.issues(), &[]);
}

#[test]
fn bad_and_huge_content_length() {
    let raw = b"MESSAGE sip:b@y SIP/2.0\r\nContent-Length: xyz\r\n\r\nabcd";
    let m = parse(raw);
    assert_eq!(m.body(), b"abcd");
    assert_eq!(m.content_length(), None);
    assert_eq!(
        m.issues(),
        &[ParseIssue {
            kind: IssueKind::BadHeaderValue,
            message: "Content-Length is not a number".into(),
            span: 41..44,
        }]
    );
    assert_eq!(message_len(raw), Some(raw.len() - 4));

    for cl in ["4294967295", "99999999999999999999", "18446744073709551616"] {
        let raw = format!("MESSAGE sip:b@y SIP/2.0\r\nl: {cl}\r\n\r\nabcd");
        let m = parse(raw.as_bytes());
        assert_eq!(m.body(), b"abcd");
        assert_eq!(m.issues().len(), 1, "{cl}");
        assert_eq!(m.issues()[0].kind, IssueKind::ContentLengthMismatch);
        assert_eq!(m.issues()[0].span, 28..28 + cl.len());
        assert_eq!(message_len(raw.as_bytes()), None);
    }
    let m = parse(b"MESSAGE sip:b@y SIP/2.0\r\nl: 4294967295\r\n\r\n");
    assert_eq!(m.content_length(), Some(4_294_967_295));
    let m = parse(b"MESSAGE sip:b@y SIP/2.0\r\nl: 99999999999999999999\r\n\r\n");
    assert_eq!(m.content_length(), None);

    // No Content-Length: the body is the rest.
    let m = parse(b"MESSAGE sip:b@y SIP/2.0\r\n\r\nrest\r\n");
    assert_eq!(m.body(), b"rest\r\n");
    assert_eq!(m.issues(), &[]);
}

#[test]
fn missing_or_bad_start_line() {
    let raw = b"Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\n\r\n";
    let u = SipMessage::parse(raw).unwrap_err();
    assert_eq!(u.raw, raw.to_vec());
    assert_eq!(u.error.span, 0..34);

    // The span points at where the line stops matching.
    let u = SipMessage::parse(b"INVITE bob SIP/2.0\r\n\r\n").unwrap_err();
    assert_eq!(u.error.span, 7..18);
    let u = SipMessage::parse(b"\r\n\r\nSIP/2.0 20x OK\r\n\r\n").unwrap_err();
    assert_eq!(u.error.span, 12..18);
    let u = SipMessage::parse(b"INVITE sip:a@b SIP/2.0 junk\r\n").unwrap_err();
    assert_eq!(u.error.span, 23..27);

    for raw in [&b""[..], b"\r\n\r\n", b"\n"] {
        let u = SipMessage::parse(raw).unwrap_err();
        assert_eq!(u.error.span, raw.len()..raw.len());
    }
}

#[test]
fn keepalives_before_start_line() {
    let raw = b"\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nCall-ID: k\r\n\r\n";
    let m = parse(raw);
    assert_eq!(m.start_span(), 4..27);
    assert_eq!(m.headers()[0].span, 29..39);
    assert_eq!(m.call_id().as_deref(), Some("k"));
    assert_eq!(message_len(raw), Some(raw.len()));
}

#[test]
fn bad_header_lines_are_skipped() {
    let raw = b"OPTIONS sip:a@b SIP/2.0\r\nthis is not a header\r\n  continuation of nothing\r\n: empty name\r\nCall-ID: k\r\n\r\n";
    let m = parse(raw);
    assert_eq!(m.headers().len(), 1);
    assert_eq!(m.call_id().as_deref(), Some("k"));
    let issues: Vec<(IssueKind, Range<usize>)> = m
        .issues()
        .iter()
        .map(|i| (i.kind, i.span.clone()))
        .collect();
    assert_eq!(
        issues,
        vec![
            (IssueKind::BadHeaderLine, 25..45),
            (IssueKind::BadHeaderLine, 47..72),
            (IssueKind::BadHeaderLine, 74..86),
        ]
    );
    assert_eq!(&raw[74..86], b": empty name");
}

#[test]
fn nul_bytes_and_invalid_utf8() {
    let raw = b"MESSAGE sip:\xff\xfe@y SIP/2.0\r\nX-\x00Bad: v\r\nSubject: caf\xe9\r\nFrom: \"\xff\" <sip:a@b>;tag=\x80\r\nVia: SIP/2.0/UDP \xc3\x28;branch=\x00\r\nContent-Length: 3\r\n\r\n\x00\xff\x01";
    let m = parse(raw);
    assert_eq!(m.request_uri(), Some("sip:\u{fffd}\u{fffd}@y"));
    assert_eq!(m.first(HeaderName::Subject).as_deref(), Some("caf\u{fffd}"));
    assert_eq!(m.from().unwrap().tag(), Some("\u{fffd}"));
    assert_eq!(m.body(), b"\x00\xff\x01");
    assert_eq!(m.issues().len(), 1);
    assert_eq!(m.issues()[0].kind, IssueKind::BadHeaderLine);
    let _ = (m.vias(), m.sdp(), m.contacts(), m.reasons(), m.cseq());

    let _ = SipMessage::parse(b"\x00\x00\x00");
    let _ = SipMessage::parse(b"SIP/2.0 200 \xff\xff\r\n\r\n").unwrap();
    assert!(!is_start_line(b"\x00INVITE sip:a@b SIP/2.0"));
}

#[test]
fn no_panics_on_prefixes_and_mutations() {
    let raw = pjsua_invite();
    for n in 0..=raw.len() {
        let prefix = &raw[..n];
        if let Ok(m) = SipMessage::parse(prefix) {
            for h in m.headers() {
                assert!(h.span.end <= n && h.value_span.end <= n && h.name_span.end <= n);
                let _ = m.value(h);
            }
            assert!(m.body_span().end <= n);
            let _ = (m.vias(), m.from(), m.to(), m.cseq(), m.sdp(), m.contacts());
        }
        let expect = if n == raw.len() { Some(n) } else { None };
        assert_eq!(message_len(prefix), expect, "prefix {n}");
    }
    let mut state = 0x2545_f491_u32;
    for _ in 0..2000 {
        let mut m = raw.clone();
        for _ in 0..8 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let i = state as usize % m.len();
            m[i] = (state >> 8) as u8;
        }
        if let Ok(msg) = SipMessage::parse(&m) {
            let _ = (
                msg.vias(),
                msg.from(),
                msg.sdp(),
                msg.session_expires(),
                msg.all(HeaderName::Allow),
            );
        }
        let _ = message_len(&m);
    }
}

#[test]
fn message_len_back_to_back() {
    let a =
        b"SIP/2.0 100 Trying\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n";
    let b = b"\r\n\r\nMESSAGE sip:b@y SIP/2.0\r\nl: 5\r\n\r\nhello";
    let c = b"BYE sip:b@y SIP/2.0\nCall-ID: z\n\n";
    let mut buf = Vec::new();
    buf.extend_from_slice(a);
    buf.extend_from_slice(b);
    buf.extend_from_slice(c);
    let n1 = message_len(&buf).unwrap();
    assert_eq!(n1, a.len());
    let n2 = message_len(&buf[n1..]).unwrap();
    assert_eq!(n2, b.len());
    let second = parse(&buf[n1..n1 + n2]);
    assert_eq!(second.body(), b"hello");
    assert_eq!(second.start_span(), 4..27);
    let n3 = message_len(&buf[n1 + n2..]).unwrap();
    assert_eq!(n3, c.len());
    assert_eq!(message_len(&buf[n1 + n2 + n3..]), None);

    // Partial input: header block incomplete, or body not all there.
    assert_eq!(
        message_len(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n"),
        None
    );
    assert_eq!(message_len(b"SIP/2.0 200 OK"), None);
    assert_eq!(
        message_len(b"MESSAGE sip:b@y SIP/2.0\r\nl: 5\r\n\r\nhel"),
        None
    );
    assert_eq!(message_len(b"\r\n\r\n"), None);
    assert_eq!(message_len(b""), None);
}

#[test]
fn sdp_media_level_direction() {
    let body = "v=0\r\no=- 1 2 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\na=sendonly\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=recvonly\r\nm=video 0 RTP/AVP 31\r\n";
    let raw = format!(
        "SIP/2.0 200 OK\r\nContent-Type: Application/SDP; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let m = parse(raw.as_bytes());
    assert_eq!(m.content_type().as_deref(), Some("application/sdp"));
    let sdp = m.sdp().unwrap();
    assert_eq!(sdp.connection.as_deref(), Some("198.51.100.1"));
    assert_eq!(sdp.direction, MediaDirection::SendOnly);
    let dirs: Vec<(String, u16, MediaDirection)> = sdp
        .media
        .iter()
        .map(|m| (m.kind.clone(), m.port, m.direction))
        .collect();
    assert_eq!(
        dirs,
        vec![
            ("audio".to_string(), 49170, MediaDirection::RecvOnly),
            ("video".to_string(), 0, MediaDirection::SendOnly),
        ]
    );

    // No Content-Type, body starting `v=`: still SDP.
    let raw = format!("SIP/2.0 200 OK\r\n\r\n{body}");
    assert_eq!(parse(raw.as_bytes()).sdp().unwrap().media.len(), 2);
    // Another Content-Type: not SDP.
    let raw = format!("SIP/2.0 200 OK\r\nc: text/plain\r\n\r\n{body}");
    assert_eq!(parse(raw.as_bytes()).sdp(), None);
}

fn register(headers: &str) -> SipMessage {
    let raw = format!(
        "REGISTER sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
         From: <sip:a@r>;tag=1\r\nTo: <sip:a@r>\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n\
         Max-Forwards: 70\r\n{headers}Content-Length: 0\r\n\r\n"
    );
    SipMessage::parse(raw.as_bytes()).expect("parses")
}

#[test]
fn requested_expires_tells_unregistrations() {
    let unreg = |h: &str| register(h).requested_expires() == Some(0);
    assert!(unreg("Contact: <sip:a@h;ob>\r\nExpires: 0\r\n"));
    assert!(unreg("Contact: <sip:a@h>;expires=0\r\n"));
    assert!(unreg("Contact: *\r\nExpires: 0\r\n"));
    assert!(unreg("Expires: 0\r\n"));
    assert!(!unreg("Contact: <sip:a@h;ob>\r\nExpires: 300\r\n"));
    assert!(!unreg("Contact: <sip:a@h>;expires=300\r\nExpires: 0\r\n"));
    assert_eq!(register("").requested_expires(), None);
}

#[test]
fn auth_params_and_stale_challenges() {
    let v = r#"Digest realm="sip.test", nonce="abc", stale=TRUE, algorithm=MD5"#;
    assert_eq!(auth_param(v, "realm").as_deref(), Some("sip.test"));
    assert_eq!(auth_param(v, "stale").as_deref(), Some("TRUE"));
    assert_eq!(auth_param(v, "qop"), None);
    let raw = format!(
        "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: c\r\n\
         CSeq: 2 REGISTER\r\nWWW-Authenticate: {v}\r\n\r\n"
    );
    assert!(
        SipMessage::parse(raw.as_bytes())
            .expect("parses")
            .is_stale_challenge()
    );
    assert!(!register("").is_stale_challenge());
}

#[test]
fn header_spans_for_evidence() {
    let raw = pjsua_invite();
    let m = parse(&raw);
    let text = |r: Option<Range<usize>>| r.map(|r| at(&m, r).to_string());
    assert_eq!(
        text(m.header_span(HeaderName::CSeq)).as_deref(),
        Some("CSeq: 320 INVITE")
    );
    assert_eq!(
        text(m.header_span(HeaderName::SessionExpires)).as_deref(),
        Some("Session-Expires: 1800")
    );
    assert_eq!(
        text(m.header_span(HeaderName::ContentLength)).as_deref(),
        Some("Content-Length:   619")
    );
    assert_eq!(m.header_span(HeaderName::Expires), None);
    assert_eq!(m.requested_expires_span(), None);
    // Repeated headers: the first one.
    let m = parse(&crlf(
        "SIP/2.0 200 OK\nVia: SIP/2.0/UDP a\nv: SIP/2.0/UDP b\n\n",
    ));
    assert_eq!(
        m.header_span(HeaderName::Via).map(|r| at(&m, r)),
        Some("Via: SIP/2.0/UDP a")
    );
}

#[test]
fn requested_expires_span_points_at_the_header_read() {
    let span = |h: &str| {
        let m = register(h);
        m.requested_expires_span()
            .map(|r| String::from_utf8_lossy(&m.raw()[r]).into_owned())
    };
    assert_eq!(
        span("Contact: <sip:a@h;ob>\r\nExpires: 0\r\n").as_deref(),
        Some("Expires: 0")
    );
    assert_eq!(
        span("Contact: <sip:a@h;ob>\r\nContact: <sip:b@h>;expires=0\r\nExpires: 60\r\n").as_deref(),
        Some("Contact: <sip:b@h>;expires=0")
    );
    assert_eq!(
        span("Contact: <sip:a@h>, <sip:b@h>;expires=0\r\n").as_deref(),
        Some("Contact: <sip:a@h>, <sip:b@h>;expires=0")
    );
    assert_eq!(
        span("Contact: *\r\nExpires: 0\r\n").as_deref(),
        Some("Contact: *")
    );
    assert_eq!(span("Expires: soon\r\n"), None);
    assert_eq!(span(""), None);
}

#[test]
fn sdp_line_spans_index_the_raw_message() {
    let raw = pjsua_invite();
    let m = parse(&raw);
    let lines = |m: &SipMessage, spans: Vec<Range<usize>>| -> Vec<String> {
        spans
            .into_iter()
            .map(|r| String::from_utf8_lossy(&m.raw()[r]).into_owned())
            .collect()
    };
    assert_eq!(lines(&m, m.sdp_line_spans('c')), vec!["c=IN IP4 192.0.2.2"]);
    assert_eq!(
        lines(&m, m.sdp_media_spans()),
        vec!["m=audio 4000 RTP/AVP 96 97 98 99 3 0 8 9 120 121 122"]
    );
    assert_eq!(m.sdp_line_spans('m'), m.sdp_media_spans());
    assert!(
        m.sdp_line_spans('c')
            .iter()
            .all(|r| r.start >= m.body_span().start)
    );

    // Bare LF, leading blanks, a broken m= line (left out of the media spans, as it is of
    // `Sdp::media`), invalid UTF-8 before a line, no trailing line end.
    let body = b"v=0\nc=IN IP4 10.0.0.1\n  c=IN IP4 10.0.0.2\r\r\nm=broken\n\xff\xfe\nm=audio 4000 RTP/AVP 0\nm=video 0 RTP/AVP 31";
    let mut raw = format!(
        "SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(body);
    let m = parse(&raw);
    assert_eq!(
        lines(&m, m.sdp_line_spans('c')),
        vec!["c=IN IP4 10.0.0.1", "c=IN IP4 10.0.0.2"]
    );
    assert_eq!(
        lines(&m, m.sdp_line_spans('m')),
        vec!["m=broken", "m=audio 4000 RTP/AVP 0", "m=video 0 RTP/AVP 31"]
    );
    let media = lines(&m, m.sdp_media_spans());
    assert_eq!(
        media,
        vec!["m=audio 4000 RTP/AVP 0", "m=video 0 RTP/AVP 31"]
    );
    assert_eq!(m.sdp().map(|s| s.media.len()), Some(media.len()));
    assert_eq!(lines(&m, m.sdp_line_spans('v')), vec!["v=0"]);

    // Not SDP: another Content-Type, or no v= line.
    let other = |ct: &str, body: &str| {
        let raw = format!("SIP/2.0 200 OK\r\nContent-Type: {ct}\r\n\r\n{body}");
        let m = parse(raw.as_bytes());
        (m.sdp_line_spans('c'), m.sdp_media_spans())
    };
    assert_eq!(
        other("text/plain", "v=0\r\nc=IN IP4 10.0.0.1\r\n"),
        (vec![], vec![])
    );
    assert_eq!(
        other(
            "application/sdp",
            "c=IN IP4 10.0.0.1\r\nm=audio 1 RTP/AVP 0\r\n"
        ),
        (vec![], vec![])
    );
}

#[test]
fn credentials_skip_the_empty_ims_answer() {
    let creds = |h: &str| {
        let m = register(h);
        m.credentials()
            .map(|h| String::from_utf8_lossy(&m.raw()[h.span.clone()]).into_owned())
    };
    assert_eq!(creds("Contact: <sip:a@h>\r\n"), None);
    assert_eq!(
        creds("Authorization: Digest username=\"a\", nonce=\"\", response=\"\"\r\n"),
        None
    );
    assert_eq!(
        creds(
            "Authorization: Digest username=\"a\", nonce=\"\", response=\"\"\r\n\
             Proxy-Authorization: Digest username=\"a\", nonce=\"n\", response=\"r\"\r\n"
        )
        .as_deref(),
        Some("Proxy-Authorization: Digest username=\"a\", nonce=\"n\", response=\"r\"")
    );
}

#[test]
fn tag_lookup_agrees_with_the_full_name_addr_parse() {
    for v in [
        "<sip:a@b>;tag=1",
        "\"A ; <b>\" <sip:a@b;tag=uri>;tag=2;x",
        "sip:a@b;tag=3",
        "A <sip:a@b>;TAG = 4",
        "\"unterminated <sip:a@b>;tag=5",
        "<sip:a@b;tag=6",
        "\"q\\\"uote\" <sip:a@b>;tag",
        "",
        ";tag=7",
        "<sip:a@b>;tag=\"8;9\"",
    ] {
        assert_eq!(
            super::uri::name_addr_param(v, "tag"),
            NameAddr::parse(v).as_ref().and_then(NameAddr::tag),
            "{v:?}"
        );
    }
}

/// Every message of every fixture (captures, pjsip logs, SIPp traces, raw SIP; the malformed
/// ones included), parsed as ingest parses them.
pub(super) fn fixture_messages() -> Vec<SipMessage> {
    let names: Vec<String> =
        crate::testutil::fixture_files(&["pcap", "pcapng", "log", "txt", "sip", "gz"])
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
    assert!(names.len() > 100, "fixtures not found");
    let mut out = Vec::new();
    for name in names {
        let opts = crate::ingest::IngestOptions::default();
        for e in crate::ingest::ingest(&[name], &opts).events {
            if let crate::event::Event::Message(m) = e
                && let Some(msg) = m.parsed()
            {
                out.push(msg.clone());
            }
        }
    }
    assert!(out.len() > 1000, "only {} fixture messages", out.len());
    out
}

/// The views found at parse time as spans (start line, CSeq, tags, top Via) say what the full
/// parse of the same header says, on every fixture message.
#[test]
fn span_views_agree_with_the_full_parse_on_every_fixture() {
    for m in fixture_messages() {
        let raw = String::from_utf8_lossy(m.raw()).into_owned();
        match m.start_line().clone() {
            StartLine::Request {
                method,
                uri,
                version: _,
            } => {
                assert_eq!(m.method(), Some(method.as_str()), "{raw}");
                assert_eq!(m.request_uri(), Some(uri.as_str()), "{raw}");
                assert_eq!((m.status(), m.reason_phrase()), (None, None), "{raw}");
            }
            StartLine::Response { code, reason, .. } => {
                assert_eq!(m.status(), Some(code), "{raw}");
                assert_eq!(m.reason_phrase(), Some(reason.as_str()), "{raw}");
                assert_eq!((m.method(), m.request_uri()), (None, None), "{raw}");
            }
        }
        let cseq = m
            .first(HeaderName::CSeq)
            .and_then(|v| views::cseq_parts(&v).map(|(s, m)| (s, m.to_string())));
        assert_eq!(m.cseq().map(|c| (c.seq, c.method.clone())), cseq, "{raw}");
        assert_eq!(m.cseq_seq(), cseq.as_ref().map(|c| c.0), "{raw}");
        assert_eq!(
            m.cseq_method(),
            cseq.as_ref().map(|c| c.1.as_str()),
            "{raw}"
        );
        assert_eq!(
            m.from_tag(),
            m.from().as_ref().and_then(NameAddr::tag),
            "{raw}"
        );
        assert_eq!(m.to_tag(), m.to().as_ref().and_then(NameAddr::tag), "{raw}");
        assert_eq!(
            m.top_via(),
            m.all(HeaderName::Via)
                .first()
                .and_then(|v| Via::parse(v))
                .as_ref(),
            "{raw}"
        );
    }
}

/// The fast proofs of header validation ([`validate`]'s `plain_*`) never accept what the full
/// grammar rejects: on every From, To, Contact, Route and Record-Route element of every
/// fixture, and on each of them broken one byte at a time (every position, every byte that
/// matters to the grammar). The fast path also has to carry the common case, or it is dead
/// weight: it must prove most fixture values by itself.
#[test]
fn fast_address_check_agrees_with_the_full_grammar() {
    use HeaderName as H;
    let mut values = Vec::new();
    for m in fixture_messages() {
        for h in [H::From, H::To, H::Contact, H::Route, H::RecordRoute] {
            values.extend(m.all(h).into_iter().map(|v| v.into_owned()));
        }
    }
    values.sort();
    values.dedup();
    assert!(values.len() > 200, "{}", values.len());
    fast_path_agrees(
        &values,
        |v| validate::plain_address(&String::from_utf8_lossy(v)),
        |v| validate::full_address(v, false),
    );
}

/// A fast proof agrees with the full grammar: it proves more than 80 % of `values` (the common
/// case, or it is dead weight), and whatever it accepts, among `values` and each of them broken
/// one byte at a time (inserted or replaced, at every position, with every byte that matters
/// to the grammar), the full grammar accepts too.
pub(super) fn fast_path_agrees<E: std::fmt::Debug + PartialEq>(
    values: &[String],
    fast: impl Fn(&[u8]) -> bool,
    full: impl Fn(&str) -> Result<(), E>,
) {
    let proved = values.iter().filter(|v| fast(v.as_bytes())).count();
    assert!(
        proved * 10 > values.len() * 8,
        "{proved} of {} proved",
        values.len()
    );
    let special = b" \t\"\\<>;:=@?,[]%/&$()x9\x80".to_vec();
    for v in values {
        for i in 0..=v.len() {
            for &c in &special {
                let mut inserted = v.as_bytes().to_vec();
                inserted.insert(i, c);
                let mut replaced = v.as_bytes().to_vec();
                if i < replaced.len() {
                    replaced[i] = c;
                }
                for mutated in [v.as_bytes().to_vec(), inserted, replaced] {
                    if fast(&mutated) {
                        let text = String::from_utf8_lossy(&mutated);
                        assert_eq!(full(&text), Ok(()), "{text}");
                    }
                }
            }
        }
    }
}

/// The memchr-driven split gives the pieces of the byte-by-byte reading it replaced.
#[test]
fn split_outside_agrees_with_a_byte_by_byte_reading() {
    fn reference(s: &str, sep: u8) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut in_angle = false;
        let push = |r: Range<usize>, out: &mut Vec<Range<usize>>| {
            let piece = &s[r.clone()];
            let lead = piece.len() - piece.trim_start().len();
            let len = piece.trim().len();
            if len > 0 {
                out.push(r.start + lead..r.start + lead + len);
            }
        };
        for (i, c) in header::unquoted_bytes(s) {
            match c {
                b'<' => in_angle = true,
                b'>' => in_angle = false,
                _ if c == sep && !in_angle => {
                    push(start..i, &mut out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        push(start..s.len(), &mut out);
        out
    }
    let mut values: Vec<String> = vec![
        r#""a,b\",c" <sip:x,y>, d ;e="f;g" , ,"#.into(),
        r#""unclosed, <x>"#.into(),
        "<a,b;c> , > , < ,".into(),
        r#"x"\"#.into(),
        "".into(),
    ];
    for m in fixture_messages().iter().take(3000) {
        values.extend(m.headers().iter().map(|h| m.value(h).into_owned()));
    }
    for v in &values {
        for sep in [b',', b';'] {
            assert_eq!(
                header::split_outside(v, sep).collect::<Vec<_>>(),
                reference(v, sep),
                "{v:?}"
            );
        }
    }
}

/// A message parsed from a slice of a shared chunk copies nothing (its bytes are the chunk's)
/// and reads as the same message parsed from its own vector.
#[test]
fn parse_shared_reads_a_slice_of_a_chunk_without_a_copy() {
    let one = pjsua_invite();
    let mut chunk = b"garbage before\r\n".to_vec();
    let at = chunk.len();
    chunk.extend_from_slice(&one);
    chunk.extend_from_slice(b"and after");
    let chunk = bytes::Bytes::from(chunk);
    let slice = chunk.slice(at..at + one.len());
    let shared = SipMessage::parse_shared(slice.clone()).expect("parses");
    let owned = SipMessage::parse_owned(one.clone()).expect("parses");
    assert_eq!(shared.raw_shared().as_ptr(), slice.as_ptr());
    assert_eq!(shared.raw(), &one[..]);
    assert_eq!(shared.headers(), owned.headers());
    assert_eq!(shared.start_line(), owned.start_line());
    assert_eq!(shared.cseq(), owned.cseq());
    assert_eq!(shared.top_via(), owned.top_via());
    assert_eq!(shared.from_tag(), owned.from_tag());
    assert_eq!(shared.body(), owned.body());
    let bad = SipMessage::parse_shared(chunk.slice(..at)).expect_err("no start line");
    assert_eq!(bad.raw, b"garbage before\r\n");
}
