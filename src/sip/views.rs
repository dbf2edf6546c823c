//! Typed views of single header values (RFC 3261 §20, RFC 3326, RFC 4028).
//!
//! Owns: parsing one (already list-split, already unfolded) header value into [`Via`], [`CSeq`],
//! [`Contact`], [`ReasonValue`] and [`SessionExpires`], and the small numeric/media-type
//! helpers behind `SipMessage::max_forwards`, `content_type` and friends. Views are parsed on
//! demand and never fail loudly: a value that does not match its grammar gives `None`. Does
//! not own: URIs and name-addrs (see `uri`), finding the header (see `mod`), or SDP (see `sdp`).

use nom::IResult;
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::{char, multispace0, multispace1};
use nom::sequence::{delimited, tuple};

use super::uri::{
    HostPort, find_param, host_port_str, param_in, parse_params, parse_u16, parse_u32,
    parse_u32_saturating, unquote,
};
use super::{Contact, NameAddr, ReasonValue, SessionExpires, Via, ViaKey};
use crate::event::Transport;

fn is_token(c: char) -> bool {
    c.is_ascii() && super::grammar::is_token_char(c as u8)
}

fn token(i: &str) -> IResult<&str, &str> {
    take_while1(is_token)(i)
}

/// `sent-protocol LWS sent-by`, e.g. `SIP / 2.0 / UDP  host:port`; returns the transport and
/// sent-by text.
pub(crate) fn via_head(i: &str) -> IResult<&str, (&str, &str)> {
    let slash = |i| delimited(multispace0, char('/'), multispace0)(i);
    let (rest, (_, _, _, _, transport, _, sent_by)) = tuple((
        token,
        slash,
        token,
        slash,
        token,
        multispace1,
        take_while1(|c: char| !c.is_whitespace() && c != ';' && c != ','),
    ))(i)?;
    Ok((rest, (transport, sent_by)))
}

impl Via {
    pub(crate) fn parse_impl(s: &str) -> Option<Via> {
        let (transport, (host, port), rest) = via_parts(s)?;
        let host = host.to_string();
        let params = parse_params(rest);
        let rport = params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("rport"))
            .map(|(_, v)| v.as_deref().and_then(parse_u16));
        Some(Via {
            transport: Transport::from_name(transport),
            host,
            port,
            branch: find_param(&params, "branch").map(str::to_string),
            received: find_param(&params, "received").map(str::to_string),
            rport,
            params,
        })
    }

    /// A Via parameter by name (case-insensitive); a parameter without value gives `Some("")`.
    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name)
    }
}

/// A Via value cut in its parts, borrowed: the transport name, the sent-by host and port, and
/// the parameters (from their first `;`).
fn via_parts(s: &str) -> Option<(&str, HostPort<'_>, &str)> {
    let (rest, (transport, sent_by)) = via_head(s.trim()).ok()?;
    let rest = rest.trim_start();
    if !rest.is_empty() && !rest.starts_with(';') {
        return None;
    }
    Some((transport, host_port_str(sent_by)?, rest))
}

/// What keys a transaction in a Via value, borrowed from it: the sent-by host and port, and the
/// branch. [`Via::parse`] gives the same, owned, with everything else.
pub(crate) fn via_key(s: &str) -> Option<ViaKey<'_>> {
    let (_, (host, port), rest) = via_parts(s)?;
    Some(ViaKey {
        host,
        port,
        branch: param_in(rest, "branch"),
    })
}

/// `1*DIGIT LWS Method`: the number and the method (a slice of `s`, nothing copied).
pub(crate) fn cseq_parts(s: &str) -> Option<(u32, &str)> {
    let (rest, (seq, _, method)) = tuple((
        take_while1(|c: char| c.is_ascii_digit()),
        multispace1,
        token,
    ))(s.trim())
    .ok()?;
    if !rest.trim().is_empty() {
        return None;
    }
    Some((parse_u32(seq)?, method))
}

/// One Contact element: `*` or a name-addr with an optional `expires` parameter (saturating).
pub(crate) fn contact(s: &str) -> Option<Contact> {
    if s.trim() == "*" {
        return Some(Contact::Star);
    }
    let addr = NameAddr::parse_impl(s)?;
    let expires = addr.param("expires").and_then(parse_u32_saturating);
    Some(Contact::Addr { addr, expires })
}

/// `protocol *(SEMI reason-params)`, e.g. `Q.850;cause=16;text="Normal call clearing"`.
pub(crate) fn reason(s: &str) -> Option<ReasonValue> {
    let s = s.trim();
    let (protocol, params) = match s.find(';') {
        Some(i) => (s.get(..i)?, s.get(i..)?),
        None => (s, ""),
    };
    let protocol = protocol.trim();
    if protocol.is_empty() {
        return None;
    }
    let params = parse_params(params);
    Some(ReasonValue {
        protocol: protocol.to_string(),
        cause: find_param(&params, "cause").and_then(parse_u16),
        text: find_param(&params, "text").map(unquote),
    })
}

/// `delta-seconds *(SEMI se-params)` (RFC 4028 §4).
pub(crate) fn session_expires(s: &str) -> Option<SessionExpires> {
    let (delta, params) = match s.find(';') {
        Some(i) => (s.get(..i)?, s.get(i..)?),
        None => (s, ""),
    };
    let params = parse_params(params);
    Some(SessionExpires {
        delta: parse_u32_saturating(delta)?,
        refresher: find_param(&params, "refresher").map(str::to_string),
    })
}

/// The delta-seconds before any `;params` (Min-SE, Expires, Min-Expires).
pub(crate) fn delta_seconds(s: &str) -> Option<u32> {
    parse_u32_saturating(s.split(';').next().unwrap_or(""))
}

/// `type/subtype` lowercased, parameters dropped.
pub(crate) fn media_type(s: &str) -> Option<String> {
    let (rest, (ty, _, sub)) =
        tuple((token, delimited(multispace0, char('/'), multispace0), token))(s.trim()).ok()?;
    let (rest, _) = take_while::<_, _, nom::error::Error<&str>>(char::is_whitespace)(rest).ok()?;
    if !rest.is_empty() && !rest.starts_with(';') {
        return None;
    }
    Some(format!("{ty}/{sub}").to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_variants() {
        let v = Via::parse_impl(
            "SIP/2.0/UDP 127.0.0.1:5080;rport;branch=z9hG4bKPjhZeEsLnH5.sEhxKD5eoJSswpe94yNif7",
        )
        .unwrap();
        assert_eq!(v.transport, Transport::Udp);
        assert_eq!(v.host, "127.0.0.1");
        assert_eq!(v.port, Some(5080));
        assert_eq!(v.sent_by(), "127.0.0.1:5080");
        assert_eq!(v.rport, Some(None));
        assert_eq!(
            v.branch.as_deref(),
            Some("z9hG4bKPjhZeEsLnH5.sEhxKD5eoJSswpe94yNif7")
        );
        assert_eq!(v.received, None);

        let v = Via::parse_impl(
            "SIP / 2.0 / tcp  [2001:db8::9]:5061 ;received=192.0.2.7;rport=40123 ;branch=z9hG4bK1",
        )
        .unwrap();
        assert_eq!(v.transport, Transport::Tcp);
        assert_eq!(v.host, "[2001:db8::9]");
        assert_eq!(v.port, Some(5061));
        assert_eq!(v.sent_by(), "[2001:db8::9]:5061");
        assert_eq!(v.received.as_deref(), Some("192.0.2.7"));
        assert_eq!(v.rport, Some(Some(40123)));
        assert_eq!(v.param("BRANCH"), Some("z9hG4bK1"));

        let v = Via::parse_impl("SIP/2.0/WSS example.com").unwrap();
        assert_eq!(v.transport, Transport::Wss);
        assert_eq!((v.port, v.rport, v.branch.as_deref()), (None, None, None));
        assert_eq!(v.sent_by(), "example.com");

        let v = Via::parse_impl("SIP/2.0/XYZ h;rport=notaport").unwrap();
        assert_eq!(v.transport, Transport::Unknown);
        assert_eq!(v.rport, Some(None));

        for s in [
            "",
            "SIP/2.0/UDP",
            "SIP/2.0 host",
            "SIP/2.0/UDP host garbage",
            "SIP/2.0/UDP h:x",
        ] {
            assert_eq!(Via::parse_impl(s), None, "{s}");
        }
    }

    #[test]
    fn small_views() {
        assert_eq!(cseq_parts(" 320  INVITE "), Some((320, "INVITE")));
        assert_eq!(cseq_parts("99999999999 INVITE"), None);
        assert_eq!(cseq_parts("INVITE 1"), None);
        assert_eq!(
            reason(r#"Q.850 ;cause=16 ;text="Normal call clearing""#),
            Some(ReasonValue {
                protocol: "Q.850".into(),
                cause: Some(16),
                text: Some("Normal call clearing".into())
            })
        );
        assert_eq!(
            session_expires("1800;refresher=uac"),
            Some(SessionExpires {
                delta: 1800,
                refresher: Some("uac".into())
            })
        );
        assert_eq!(session_expires("abc"), None);
        assert_eq!(delta_seconds(" 90 "), Some(90));
        assert_eq!(
            media_type("Application/SDP ; charset=x").as_deref(),
            Some("application/sdp")
        );
        assert_eq!(media_type("text"), None);
        assert_eq!(contact(" * "), Some(Contact::Star));
        match contact("<sip:a@b>;expires=99999999999") {
            Some(Contact::Addr { expires, .. }) => assert_eq!(expires, Some(u32::MAX)),
            other => panic!("{other:?}"),
        }
    }
}
