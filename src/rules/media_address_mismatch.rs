//! SF040 `media-address-mismatch`: a call's RTP comes from, or goes to, an address other than
//! the one its SDP named (a NAT not fixed up, the far end latching onto where RTP comes from).

use std::net::SocketAddr;

use crate::dialog::Owner;
use crate::rules::media::{sdp_media, streams_by_call};
use crate::rules::private_address_in_sdp::private_block;
use crate::rules::{Context, Finding, Rule, Scope, Severity};

pub(super) const RULE: Rule = Rule {
    code: "SF040",
    name: "media-address-mismatch",
    severity: Severity::Warning,
    scope: Scope::Call,
    judges_time: false,
    summary: "a call's RTP comes from, or is sent to, an address other than the SDP's",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
A call, in a capture that has both parties' SDP, whose RTP does not use the addresses the SDP
named:

- RTP arrives at the address one party's SDP named, **from** an address (IP and port) that
  none of the call's SDP named: the sender is behind a NAT (or an SBC relays without
  rewriting the SDP), and the packets carry the NAT's public address;
- RTP is **sent to** an address that none of the call's SDP named, from an address one
  party's SDP named: the sender latched onto where the other side's RTP came from (symmetric
  RTP, "comedia"), or sends to a stale address.

One finding per call, listing each stream. When the SDP names a private address (RFC 1918,
RFC 6598, IPv6 ULA), the finding says so: that is the usual cause, and `private-address-in-sdp`
reports it on the SIP side.

## Why it matters
Media that does not go where the SDP says works only as long as something on the way fixes
it: a receiver that latches onto the source address, a NAT binding that stays open. Without
that, audio is one-way or absent (the RTP to the private address never arrives); with it,
audio breaks when the NAT binding expires, on a re-INVITE, or when the latching side is
replaced by one that does not latch (a new PBX, a carrier's SBC).

## Severity
Always **warning**: the capture shows RTP flowing, so no failure is in the trace; the risk is
that the NAT traversal works by luck. Audio that does not arrive at all is
`no-media-received`.

## Typical causes
- A client behind NAT that puts its private address in the SDP (no STUN, ICE or public
  address configured) and a far end that latches (symmetric RTP).
- A SIP ALG in a router that rewrites the SDP wrongly, or an SBC/media relay that forwards
  RTP from its own address without rewriting the SDP.
- A NAT that maps the RTP port to another port (port-restricted or symmetric NAT) while the
  SDP carries the public address learnt by STUN for another port.

## How to fix
Make the SDP name the address RTP really uses: enable ICE and STUN on the client behind NAT
(pjsua2 `AccountNatConfig.iceEnabled`, `UaConfig.stunServer`, `sdpNatRewriteUse`), or
configure its public address; on the server side anchor media in an RTP proxy (rtpengine,
rtpproxy with `fix_nated_sdp`) instead of relying on latching; turn off a mangling SIP ALG.

## Example
A pjsua2 caller in a namespace behind a masquerading router puts its private address in the
SDP (`c=IN IP4 10.x.y.z`); the callee on the public side latches, so the capture on the public
side shows RTP to the callee from the router's address, and the callee's RTP going to the
router's address, neither of which any SDP named.

## References
- RFC 3264 §5 (the address in `c=`/`m=` is where the party wants to receive)
- RFC 4961 (symmetric RTP), RFC 7362 (latching: the SBC practice and its risks)
- RFC 8445 (ICE), RFC 5389 (STUN)
"#;

const HELP: &str = "make the SDP name the address RTP really uses: ICE/STUN or a configured \
                    public address on the client behind NAT (pjsua2 natConfig.iceEnabled, \
                    uaConfig.stunServer, sdpNatRewriteUse), or anchor the media in an RTP \
                    proxy; disable a mangling SIP ALG";

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let streams = streams_by_call(ctx);
    for (ci, call) in ctx.model.calls.iter().enumerate() {
        let Some(list) = streams.get(&ci) else {
            continue;
        };
        let sdp = sdp_media(ctx, call);
        let named: Vec<SocketAddr> = sdp.iter().filter_map(|m| m.addr).collect();
        // Both parties' SDP: else an address not named may just be outside the excerpt.
        let parties = |p| sdp.iter().any(|m| m.sender == Some(p));
        if !(parties(crate::dialog::Party::Caller) && parties(crate::dialog::Party::Callee)) {
            continue;
        }
        let mut parts = Vec::new();
        let mut first = None;
        for s in list {
            let st = s.stream;
            let (src_named, dst_named) = (named.contains(&st.src), named.contains(&st.dst));
            let what = if dst_named && !src_named && s.link.source_not_in_sdp {
                format!(
                    "{} comes from {}, which no SDP of the call named",
                    s.describe(),
                    st.src
                )
            } else if src_named && !dst_named {
                format!(
                    "{} goes to {}, which no SDP of the call named",
                    s.describe(),
                    st.dst
                )
            } else {
                continue;
            };
            parts.push(what);
            first.get_or_insert((s, if dst_named { st.dst } else { st.src }));
        }
        let Some((s, at)) = first else { continue };
        let private: Vec<String> = sdp
            .iter()
            .filter_map(|m| m.addr)
            .filter_map(|a| private_block(a.ip()).map(|b| format!("{} ({b})", a.ip())))
            .fold(Vec::new(), |mut v, p| {
                if !v.contains(&p) {
                    v.push(p);
                }
                v
            });
        let mut message = format!("RTP does not use the SDP's addresses: {}", parts.join("; "));
        if !private.is_empty() {
            message.push_str(&format!(
                "; the SDP names the private address {}: see `private-address-in-sdp`",
                private.join(", ")
            ));
        }
        let event = sdp
            .iter()
            .find(|m| m.addr == Some(at))
            .map_or(ctx.model.messages[call.first].event, |m| m.event);
        out.push(
            Finding::new(&RULE, Some(Owner::Call(ci)), message, HELP.to_string())
                .with(event, "the SDP naming the stream's other end")
                .on_stream(s.input, s.index),
        );
    }
}
