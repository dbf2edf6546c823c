//! Who sent a wire message to whom, as `ip:port` labels.
//!
//! pjsip dumps and captures say it directly; raw dumps and SIPp traces do not, so the sender of
//! a request is inferred from its top Via and the receiver from the Request-URI, and a response
//! runs opposite to its request. Owns this inference, and grouping endpoints into a ladder's
//! lanes ([`group`]): one per host, or per SIP service of a host that runs several.

use std::collections::HashMap;

use crate::dialog::Model;
use crate::sip::SipMessage;

/// (from, to) for each given wire message.
pub fn resolve(model: &Model, wires: &[usize]) -> Vec<(String, String)> {
    let mut by_tsx: HashMap<usize, (String, String)> = HashMap::new();
    wires
        .iter()
        .map(|&w| {
            let wire = &model.messages[w];
            let msg = model.message(w).parsed();
            let is_request = msg.is_some_and(SipMessage::is_request);
            let known = (
                wire.src.as_deref().map(str::to_string),
                wire.dst.as_deref().map(str::to_string),
            );
            let from_tsx = wire.tsx.and_then(|t| by_tsx.get(&t)).map(|(s, d)| {
                if is_request {
                    (s.clone(), d.clone())
                } else {
                    (d.clone(), s.clone())
                }
            });
            let guess = msg.map(guess_endpoints);
            let pick = |k: Option<String>, t: Option<&String>, g: Option<&String>| {
                k.or_else(|| t.cloned())
                    .or_else(|| g.cloned())
                    .unwrap_or_else(|| "?".to_string())
            };
            let src = pick(
                known.0,
                from_tsx.as_ref().map(|p| &p.0),
                guess.as_ref().map(|p| &p.0),
            );
            let dst = pick(
                known.1,
                from_tsx.as_ref().map(|p| &p.1),
                guess.as_ref().map(|p| &p.1),
            );
            if let (Some(t), true) = (wire.tsx, is_request) {
                by_tsx
                    .entry(t)
                    .or_insert_with(|| (src.clone(), dst.clone()));
            }
            (src, dst)
        })
        .collect()
}

/// A request goes from its top Via to its Request-URI host; a response the other way.
fn guess_endpoints(msg: &SipMessage) -> (String, String) {
    let via = msg
        .top_via()
        .map(|v| v.sent_by())
        .unwrap_or_else(|| "?".into());
    let target = match msg.start_line() {
        crate::sip::StartLine::Request { uri, .. } => crate::sip::Uri::parse(uri)
            .map(|u| match u.port {
                Some(p) => format!("{}:{p}", u.host),
                None => u.host,
            })
            .unwrap_or_else(|| "?".into()),
        crate::sip::StartLine::Response { .. } => "?".into(),
    };
    if msg.is_request() {
        (via, target)
    } else {
        (target, via)
    }
}

/// What lane grouping needs to know of one wire message.
#[derive(Debug, Clone, Default)]
pub struct Hop {
    pub src: String,
    pub dst: String,
    /// Sent over a connection (TCP, TLS, WebSocket, SCTP), whose client end is usually an
    /// ephemeral port.
    pub stream: bool,
    pub request: bool,
    /// `host:port` of every SIP service the message names: its Via sent-bys and Contacts.
    pub named: Vec<String>,
    /// `host:port` of a request's top Via: the service its sender answers at.
    pub via: Option<String>,
}

impl Hop {
    pub fn new(src: &str, dst: &str, ev: &crate::event::MessageEvent) -> Hop {
        let msg = ev.parsed();
        let mut named = Vec::new();
        let mut via = None;
        if let Some(m) = msg {
            for (k, v) in m.vias().into_iter().enumerate() {
                let at = v.transport.endpoint(&v.host, v.port).to_ascii_lowercase();
                if k == 0 && m.is_request() {
                    via = Some(at.clone());
                }
                named.push(at);
            }
            for c in m.contacts() {
                if let crate::sip::Contact::Addr { addr, .. } = c
                    && let Some(uri) = addr.uri
                {
                    let tls = uri.scheme.eq_ignore_ascii_case("sips")
                        || uri.params.iter().any(|(k, v)| {
                            k.eq_ignore_ascii_case("transport")
                                && v.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("tls"))
                        });
                    let transport = if tls {
                        crate::event::Transport::Tls
                    } else {
                        ev.transport
                    };
                    named.push(transport.endpoint(&uri.host, uri.port).to_ascii_lowercase());
                }
            }
        }
        Hop {
            src: src.to_string(),
            dst: dst.to_string(),
            stream: ev.transport.is_stream(),
            request: msg.is_some_and(SipMessage::is_request),
            named,
            via,
        }
    }
}

/// `host:port` split into the host (IPv6 in brackets) and the port, when there is one.
pub fn split_host(endpoint: &str) -> (&str, Option<u16>) {
    if endpoint.starts_with('[') {
        return match endpoint.find(']') {
            Some(close) => (
                &endpoint[..=close],
                endpoint[close + 1..]
                    .strip_prefix(':')
                    .and_then(|p| p.parse().ok()),
            ),
            None => (endpoint, None),
        };
    }
    match endpoint.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(p) => (host, Some(p)),
            Err(_) => (endpoint, None),
        },
        _ => (endpoint, None),
    }
}

/// One lane: a host, or one SIP service of a host that runs several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneGroup {
    /// `host:port` of the service, or the host alone when no single service port is known.
    pub name: String,
    /// Every `host:port` the lane stands for, in order of appearance.
    pub endpoints: Vec<String>,
}

/// The endpoints of `hops` grouped into lanes, and each endpoint's lane.
///
/// One lane per host, so that the ephemeral ports a host opens TCP connections from do not
/// each get a lane; one lane per service port when a host runs several SIP services (a proxy
/// and a user agent on one address, or several user agents on loopback). A port is a service
/// (listening) port when the trace shows it: it is named in a Via sent-by or a Contact, or its
/// first message is a request sent to it, or it carries datagrams (a UDP port is where its
/// user agent listens). Any other port is a connection's ephemeral port: it joins the lane of
/// the service its requests' top Via names, or of the host's only service, or gets a lane of
/// its own when the host runs several services and nothing says which one it belongs to.
pub fn group(hops: &[Hop]) -> (Vec<LaneGroup>, HashMap<String, usize>) {
    // Every endpoint in order of appearance, with what the trace shows of it.
    struct Seen {
        stream: bool,
        first_receives_request: bool,
    }
    let mut seen: HashMap<&str, Seen> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut named: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for hop in hops {
        named.extend(hop.named.iter().map(String::as_str));
        for (e, receives_request) in [(&hop.src, false), (&hop.dst, hop.request)] {
            let s = seen.entry(e).or_insert_with(|| {
                order.push(e);
                Seen {
                    stream: false,
                    first_receives_request: receives_request,
                }
            });
            s.stream |= hop.stream;
        }
    }
    let is_service = |e: &str| {
        let (_, port) = split_host(e);
        port.is_none()
            || seen
                .get(e)
                .is_none_or(|s| !s.stream || s.first_receives_request)
            || named.contains(e.to_ascii_lowercase().as_str())
    };
    // Each host's service ports, in order of appearance.
    let mut services: HashMap<&str, Vec<&str>> = HashMap::new();
    for &e in &order {
        let list = services.entry(split_host(e).0).or_default();
        if is_service(e) {
            list.push(e);
        }
    }
    let key_of = |e: &str| -> String {
        let (host, _) = split_host(e);
        let mine = services.get(host).map_or(&[][..], Vec::as_slice);
        if mine.len() <= 1 {
            return host.to_string();
        }
        if is_service(e) {
            return e.to_string();
        }
        // An ephemeral port: the service its requests' top Via names, if that is one of the
        // host's.
        hops.iter()
            .filter(|h| h.src == e)
            .find_map(|h| {
                let via = h.via.as_deref()?;
                mine.iter().find(|s| s.eq_ignore_ascii_case(via))
            })
            .map_or_else(|| e.to_string(), |s| s.to_string())
    };
    let mut lanes: Vec<LaneGroup> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let mut lane_of: HashMap<String, usize> = HashMap::new();
    for &e in &order {
        let key = key_of(e);
        let lane = match keys.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                keys.push(key);
                lanes.push(LaneGroup {
                    name: String::new(),
                    endpoints: Vec::new(),
                });
                lanes.len() - 1
            }
        };
        lanes[lane].endpoints.push(e.to_string());
        lane_of.insert(e.to_string(), lane);
    }
    // A lane is named after its host's one service when there is one, even when the service's
    // own port is only named in this conversation (an ACK sent from an ephemeral port, with
    // the service in its Via), so that the host's lane has the same name in every ladder.
    for (lane, key) in lanes.iter_mut().zip(&keys) {
        let host = split_host(key).0;
        let mut host_services: Vec<&str> = services.get(host).cloned().unwrap_or_default();
        for n in &named {
            if split_host(n).0.eq_ignore_ascii_case(host)
                && !host_services.iter().any(|s| s.eq_ignore_ascii_case(n))
            {
                host_services.push(n);
            }
        }
        lane.name = match (host_services.as_slice(), lane.endpoints.as_slice()) {
            ([service], _) => service.to_string(),
            (_, [only]) => only.clone(),
            _ => key.clone(),
        };
    }
    (lanes, lane_of)
}

#[cfg(test)]
mod tests {
    use super::{Hop, group, split_host};

    fn hop(src: &str, dst: &str, stream: bool, request: bool, named: &[&str]) -> Hop {
        Hop {
            src: src.into(),
            dst: dst.into(),
            stream,
            request,
            named: named.iter().map(|s| s.to_string()).collect(),
            via: request.then(|| named[0].to_string()),
        }
    }

    #[test]
    fn hosts_split_from_ports() {
        assert_eq!(split_host("10.0.0.1:5060"), ("10.0.0.1", Some(5060)));
        assert_eq!(split_host("[::1]:5451"), ("[::1]", Some(5451)));
        assert_eq!(split_host("[::1]"), ("[::1]", None));
        assert_eq!(split_host("::1"), ("::1", None));
        assert_eq!(split_host("?"), ("?", None));
    }

    /// `heplify/sip_ipv4_tcp_fragmented.pcap` (public capture, frames 2, 5, 30, 32): an SBC
    /// and an Avaya CM each listen at port 6060 and open their TCP connections from ephemeral
    /// ports (37398 and 16933) that no Via or Contact names. Two hosts, two lanes (it was four).
    #[test]
    fn ephemeral_tcp_ports_join_their_hosts_lane() {
        let (sbc, sbc_eph) = ("10.186.207.1:6060", "10.186.207.1:37398");
        let (cm, cm_eph) = ("10.186.205.131:6060", "10.186.205.131:16933");
        let hops = [
            hop(sbc_eph, cm, true, true, &[sbc, sbc]), // INVITE: Via and Contact 6060
            hop(cm, sbc_eph, true, false, &[sbc]),     // 100 Trying
            hop(cm_eph, sbc, true, true, &[cm, cm]),   // UPDATE
            hop(sbc, cm_eph, true, false, &[cm, sbc]), // 200 OK
        ];
        let (lanes, lane_of) = group(&hops);
        let names: Vec<&str> = lanes.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, [sbc, cm]);
        assert_eq!(lanes[0].endpoints, [sbc_eph, sbc]);
        assert_eq!(lanes[1].endpoints, [cm, cm_eph]);
        assert_eq!(lane_of[sbc_eph], lane_of[sbc]);
        assert_eq!(lane_of[cm_eph], lane_of[cm]);
    }

    /// Several user agents on one address (`fixtures/b2bua`: caller, B2BUA and callee on
    /// 127.0.0.1, UDP) keep a lane each: a UDP port is where its agent listens.
    #[test]
    fn services_of_one_host_keep_their_lanes() {
        let (a, b, c) = ("127.0.0.1:5260", "127.0.0.1:5262", "127.0.0.1:5264");
        let hops = [
            hop(a, b, false, true, &[a, a]),
            hop(b, c, false, true, &[b, b]),
            hop(c, b, false, false, &[b, c]),
        ];
        let (lanes, _) = group(&hops);
        let names: Vec<&str> = lanes.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, [a, b, c]);
        assert!(lanes.iter().all(|l| l.endpoints.len() == 1));
    }

    /// A host running a proxy (5060) and a user agent (5070) over TCP: each keeps its lane, and
    /// a connection's ephemeral port joins the service its requests' top Via names. A port
    /// nothing attributes (no request of its own) keeps a lane of its own.
    #[test]
    fn an_ephemeral_port_joins_the_service_its_via_names() {
        let (proxy, ua, eph, lost) = (
            "10.0.0.1:5060",
            "10.0.0.1:5070",
            "10.0.0.1:41000",
            "10.0.0.1:41001",
        );
        let peer = "10.0.0.2:5060";
        let hops = [
            hop(peer, proxy, true, true, &[peer]),
            hop(peer, ua, true, true, &[peer]),
            hop(eph, peer, true, true, &[ua]),
            hop(peer, eph, true, false, &[ua]),
            hop(peer, lost, true, false, &[]),
        ];
        let (lanes, lane_of) = group(&hops);
        let names: Vec<&str> = lanes.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, [peer, proxy, ua, lost]);
        assert_eq!(lane_of[eph], lane_of[ua]);
    }
}
