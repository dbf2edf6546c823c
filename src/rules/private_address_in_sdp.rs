//! SF011 `private-address-in-sdp`: an SDP `c=` address (or Contact host) in private address
//! space, in a message that came from another address: the sender is behind NAT.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;

use crate::rules::{Context, Finding, Rule, Scope, Severity};
use crate::sip::{Contact, HeaderName, SipMessage};

pub(super) const RULE: Rule = Rule {
    code: "SF011",
    name: "private-address-in-sdp",
    severity: Severity::Warning,
    scope: Scope::Message,
    judges_time: false,
    summary: "SDP c= (or Contact) has a private address but the packet came from elsewhere: NAT, one-way audio",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A message whose SDP connection address (`c=`, session or media level) or Contact host is in
private address space — RFC 1918 (`10/8`, `172.16/12`, `192.168/16`), RFC 6598 carrier-grade
NAT (`100.64/10`) or IPv6 unique local (`fc00::/7`) — while the packet itself came from a
different address (its source in a capture, or the peer address of a pjsip `RX` dump).

Not reported: a sender whose own address is that private address, a source on loopback, a
source in the same private block as the advertised address (a LAN where the phone and the
media server are neighbours), retransmissions, and the Contacts of a REGISTER response (the
client's bindings) or of a 3xx (redirect targets). One finding per source and advertised
address (SDP or Contact), counting the messages that repeat it.

## Why it matters
The other side sends RTP to the `c=` address and in-dialog requests (ACK, BYE, re-INVITE) to the
Contact. A private address is not reachable from outside the sender's network, so the result
is the classic NAT failure: **one-way or no audio**, calls that drop after ~32 s because the
ACK never arrives, or BYEs that go nowhere.

## Severity
Default **warning**: the failure it predicts (no audio, a lost ACK or BYE) is in the media or
in later requests, not in this message. **Info** when only the SDP is private and the same SDP
offers ICE candidates with a public address (server-reflexive, relayed, or a public host
candidate): ICE will find a path, and the `c=` line is only its default. A lost ACK that
follows is `missing-ack`'s error.

## Typical causes
- A phone or softphone behind a NAT router without STUN/ICE, writing its LAN address.
- A PBX or SBC behind NAT without its public address configured (Asterisk `external_media_address`
  / `external_signaling_address`, FreeSWITCH `ext-rtp-ip`).
- A router's SIP ALG that rewrites Via but not the SDP (or rewrites it wrongly).
- pjsua2 accounts without NAT settings on a machine with a private address.

## How to fix
- In pjsua2, let the account learn and publish its public address:
  `acc_cfg.natConfig.iceEnabled = True`, a STUN server in `ep_cfg.uaConfig.stunServer`
  (`natConfig.sipStunUse` / `mediaStunUse`); keep `natConfig.contactRewriteUse` and
  `viaRewriteUse` on (the default) and turn on `sdpNatRewriteUse` (off by default), which puts
  the address the registrar saw into the SDP when STUN and ICE are not used.
- On the server, enable NAT handling for such clients (`rport`, symmetric RTP/"comedia",
  an RTP proxy such as rtpengine, Asterisk `direct_media=no`).
- Disable the router's SIP ALG when it mangles the messages.

## Example
From `fixtures/rules-message-extra/private-sdp-nat` (captured at the callee, 10.99.7.2):
```
10.99.7.1:5857 → 10.99.7.2:5856  INVITE sip:callee@10.99.7.2:5856
Contact: <sip:phone@192.168.1.50:5857>
c=IN IP4 192.168.1.50
m=audio 4000 RTP/AVP 0 101
```
The callee would send its RTP to 192.168.1.50:4000, an address of another network.

## References
- RFC 1918 (private IPv4 space), RFC 6598 (100.64.0.0/10), RFC 4193 (IPv6 unique local)
- RFC 3581 (`rport`), RFC 8445 (ICE), RFC 5389 (STUN), RFC 6314 (NAT traversal practices for SIP)
- pjsua2 `AccountNatConfig` (https://docs.pjsip.org/en/latest/api/generated/pjsip/group/group__PJSUA2__ACC.html)
"#;

const HELP: &str = "the sender is behind NAT: enable ICE/STUN on it (pjsua2 \
                    natConfig.iceEnabled, uaConfig.stunServer; natConfig.sdpNatRewriteUse = \
                    True) or configure its public address; on the server, use \
                    rport and symmetric RTP or an RTP proxy; disable a mangling SIP ALG";

/// The private block an address is in, if any.
pub(super) fn private_block(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            match (a, b) {
                (10, _) => Some("10.0.0.0/8 (RFC 1918)"),
                (172, 16..=31) => Some("172.16.0.0/12 (RFC 1918)"),
                (192, 168) => Some("192.168.0.0/16 (RFC 1918)"),
                (100, 64..=127) => Some("100.64.0.0/10 (RFC 6598 carrier-grade NAT)"),
                _ => None,
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return private_block(IpAddr::V4(v4));
            }
            (v6.segments()[0] & 0xfe00 == 0xfc00).then_some("fc00::/7 (IPv6 unique local)")
        }
    }
}

/// The IP address of `ip:port`, `[v6]:port` or a bare address.
fn ip_of(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse::<SocketAddr>()
        .map(|a| a.ip())
        .ok()
        .or_else(|| s.trim_start_matches('[').trim_end_matches(']').parse().ok())
}

/// The addresses a message advertises: (where, address text).
fn advertised(m: &SipMessage) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(sdp) = m.sdp() {
        if let Some(c) = &sdp.connection {
            out.push(("SDP c=", c.clone()));
        }
        for media in sdp.media.iter().filter(|m| m.port != 0) {
            if let Some(c) = &media.connection {
                out.push(("SDP c=", c.clone()));
            }
        }
    }
    // A REGISTER response lists the bindings of the client, and a 3xx the targets to try:
    // neither is the sender's own address.
    let own_contact = match m.status() {
        None => true,
        Some(300..=399) => false,
        Some(_) => m.cseq().is_none_or(|c| c.method != "REGISTER"),
    };
    if !own_contact {
        return out;
    }
    for c in m.contacts() {
        if let Contact::Addr { addr, .. } = c
            && let Some(uri) = &addr.uri
        {
            out.push(("Contact", uri.host.clone()));
        }
    }
    out
}

/// Whether the message's SDP offers an ICE candidate with a public address (`a=candidate:…
/// <ip> <port> typ …`): then ICE, not the `c=` line, decides where media goes.
fn public_ice_candidate(m: &SipMessage) -> bool {
    m.sdp_line_spans('a').into_iter().any(|r| {
        let line = String::from_utf8_lossy(m.raw().get(r).unwrap_or(&[]));
        let Some(rest) = line.strip_prefix("a=candidate:") else {
            return false;
        };
        // foundation component transport priority address port typ type …
        rest.split_ascii_whitespace()
            .nth(4)
            .and_then(ip_of)
            .is_some_and(|ip| {
                private_block(ip).is_none() && !ip.is_loopback() && !ip.is_unspecified()
            })
    })
}

/// Where in the message an advertised address is written: the `c=` line or the Contact header
/// that carries `ip` (the first such).
fn place_span(m: &SipMessage, place: &str, ip: IpAddr) -> Option<Range<usize>> {
    let text = |r: &Range<usize>| String::from_utf8_lossy(m.raw().get(r.clone()).unwrap_or(&[]));
    if place.starts_with("SDP") {
        return m.sdp_line_spans('c').into_iter().find(|r| {
            let line = text(r);
            let addr = line.split_ascii_whitespace().nth(2).unwrap_or("");
            ip_of(addr.split('/').next().unwrap_or("")) == Some(ip)
        });
    }
    m.headers_named(HeaderName::Contact)
        .find(|h| {
            m.contacts_in(h).iter().any(|c| {
                matches!(c, Contact::Addr { addr, .. }
                    if addr.uri.as_ref().and_then(|u| ip_of(&u.host)) == Some(ip))
            })
        })
        .map(|h| h.span.clone())
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    // (source, advertised address) → the finding that reports it (index into `out`'s tail)
    // and how many more messages repeat it.
    let mut seen: HashMap<(IpAddr, IpAddr, &'static str), usize> = HashMap::new();
    let mut found: Vec<(Finding, usize)> = Vec::new();
    for (w, wire) in model.messages.iter().enumerate() {
        if wire.retransmission {
            continue;
        }
        let Some(src) = wire.src.as_deref().and_then(ip_of) else {
            continue;
        };
        if src.is_loopback() || src.is_unspecified() {
            continue;
        }
        let Some(m) = model.message(w).parsed() else {
            continue;
        };
        let src_block = private_block(src);
        let mut hits: Vec<(&'static str, IpAddr, &'static str)> = Vec::new();
        for (place, text) in advertised(m) {
            let Some(ip) = ip_of(&text) else { continue };
            let Some(block) = private_block(ip) else {
                continue;
            };
            if ip == src || src_block == Some(block) {
                continue;
            }
            if !hits.iter().any(|(p, a, _)| *p == place && *a == ip) {
                hits.push((place, ip, block));
            }
        }
        if hits.is_empty() {
            continue;
        }
        // Already reported, each address in the same place: count it there.
        let known: Vec<Option<usize>> = hits
            .iter()
            .map(|&(place, ip, _)| seen.get(&(src, ip, place)).copied())
            .collect();
        if let Some(Some(i)) = known.first()
            && known.iter().all(|k| k.is_some())
        {
            found[*i].1 += 1;
            continue;
        }
        for &(place, ip, _) in &hits {
            seen.entry((src, ip, place)).or_insert(found.len());
        }
        let what = match (m.method(), m.status()) {
            (Some(method), _) => method.to_string(),
            (None, Some(code)) => format!("{code} response"),
            _ => "message".into(),
        };
        let listed: Vec<String> = hits
            .iter()
            .map(|(place, ip, block)| format!("{place} {ip} (in {block})"))
            .collect();
        let media = hits.iter().any(|(p, _, _)| p.starts_with("SDP"));
        let effect = if media {
            "the other side will send its RTP to an address it cannot reach: one-way or no audio"
        } else if m.method() == Some("REGISTER") {
            "calls the registrar routes to that Contact will not arrive"
        } else {
            "requests sent to that Contact (ACK, BYE, NOTIFY, re-INVITE) will not arrive"
        };
        let source = wire.src.clone().unwrap_or_default();
        // The first address listed, where the message writes it.
        let span = hits
            .first()
            .and_then(|&(place, ip, _)| place_span(m, place, ip));
        let mut f = Finding::new(
            &RULE,
            model.message_owner[w],
            format!(
                "the {what} from {source} advertises private addresses that are not its \
                 source: {}; the sender is behind NAT, and {effect}",
                listed.join(", ")
            ),
            HELP.to_string(),
        )
        .with_span(
            wire.event,
            span,
            format!("sent from {source}, advertises {}", listed.join(", ")),
        );
        let media_only = hits.iter().all(|(p, _, _)| p.starts_with("SDP"));
        if media_only && public_ice_candidate(m) {
            f.severity = Severity::Info;
            f.message.push_str(
                "; but its SDP offers ICE candidates with a public address, so ICE can find a \
                 path the c= line does not show",
            );
        }
        found.push((f, 0));
    }
    for (mut f, more) in found {
        if more > 0 {
            f.message.push_str(&format!(
                " ({more} more message(s) from that source advertise it)"
            ));
        }
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_blocks() {
        let block = |s: &str| ip_of(s).and_then(private_block);
        assert!(block("10.99.7.1:5857").is_some_and(|b| b.starts_with("10.")));
        assert!(block("172.31.255.1").is_some_and(|b| b.starts_with("172.16")));
        assert_eq!(block("172.32.0.1"), None);
        assert!(block("192.168.1.50").is_some_and(|b| b.starts_with("192.168")));
        assert!(block("100.64.0.1").is_some_and(|b| b.contains("6598")));
        assert_eq!(block("100.128.0.1"), None);
        assert!(block("[fd17:625c::1]:5060").is_some_and(|b| b.starts_with("fc00")));
        assert!(block("::ffff:10.0.0.1").is_some_and(|b| b.starts_with("10.")));
        assert_eq!(block("2001:db8::1"), None);
        assert_eq!(block("127.0.0.1"), None);
        assert_eq!(block("example.com"), None);
    }

    #[test]
    fn ice_candidates_with_a_public_address() {
        let invite = |candidates: &str| {
            let body =
                format!("v=0\r\nc=IN IP4 192.168.1.2\r\nm=audio 4000 RTP/AVP 0\r\n{candidates}");
            let raw = format!(
                "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.2;branch=z9hG4bK1\r\n\
                 From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\
                 Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            SipMessage::parse(raw.as_bytes()).expect("parses")
        };
        let host = "a=candidate:H1 1 UDP 2130706431 192.168.1.2 4000 typ host\r\n";
        let srflx = "a=candidate:S1 1 UDP 1694498815 203.0.113.7 41000 typ srflx raddr \
                     192.168.1.2 rport 4000\r\n";
        assert!(!public_ice_candidate(&invite("")));
        assert!(!public_ice_candidate(&invite(host)));
        assert!(public_ice_candidate(&invite(&format!("{host}{srflx}"))));
    }

    #[test]
    fn register_response_contacts_are_not_the_senders() {
        let raw = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.168.1.2;branch=z9hG4bK1\r\n\
                    From: <sip:a@x>;tag=1\r\nTo: <sip:a@x>;tag=2\r\nCall-ID: c\r\n\
                    CSeq: 2 REGISTER\r\nContact: <sip:a@192.168.1.2>;expires=300\r\n\
                    Content-Length: 0\r\n\r\n";
        let m = SipMessage::parse(raw).expect("parses");
        assert!(advertised(&m).is_empty());
        let raw = b"INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.2;branch=z9hG4bK1\r\n\
                    From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\
                    Contact: <sip:a@192.168.1.2>\r\nContent-Type: application/sdp\r\n\
                    Content-Length: 52\r\n\r\nv=0\r\nc=IN IP4 192.168.1.2\r\nm=audio 4000 RTP/AVP 0\r\n";
        let m = SipMessage::parse(raw).expect("parses");
        let places: Vec<_> = advertised(&m).into_iter().map(|(p, _)| p).collect();
        assert_eq!(places, ["SDP c=", "Contact"]);
    }
}
