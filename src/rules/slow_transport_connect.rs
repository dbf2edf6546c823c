//! SF042 `slow-transport-connect`: an outgoing TCP or TLS connection of pjsip took seconds to
//! come up, and the messages sent to that peer waited for it.
//!
//! Reads pjsip's `… transport L is connecting to R...` / `… is connected to R` lines
//! ([`LogKind::TransportConnect`]) and the TX/RX dumps of the same input. Owns only slow
//! connections that came up; a connection that failed is `transport-error`'s (or
//! `tls-failure`'s).

use std::collections::HashMap;

use super::timers::TIMER_64T1_MS;
use crate::event::{Direction, Event, LogEvent, LogKind, MessageEvent, Timestamp, Transport};
use crate::rules::{Context, Finding, Rule, Scope, Severity, secs};

pub(super) const RULE: Rule = Rule {
    code: "SF042",
    name: "slow-transport-connect",
    severity: Severity::Warning,
    scope: Scope::Log,
    judges_time: true,
    summary: "a TCP/TLS connection to the peer took seconds to come up; the requests sent to it \
              waited (lost SYNs, a firewall dropping them)",
    docs: DOCS,
    check,
};

const DOCS: &str = r#"## What it detects
An outgoing TCP or TLS connection of pjsip that came up, but only 3 s or more after it was
started, and the messages that waited for it. pjsip opens a connection when it first sends to
a peer over TCP/TLS: it logs `TCP transport L is connecting to R...` (`sip_transport_tcp.c`;
`TLS transport …` in `sip_transport_tls.c`), dumps the message as `TX … to TCP R` at once, and
holds it in the transport until `TCP transport L is connected to R`, when it is really sent.

- The connect's start is the `is connecting to R` line (the one written by the same transport
  object as the `is connected` line, when the log has a sender column); when the log has none
  for that peer, the first `TX` dump to `TCP R` (or `TLS R`) since the last time a connection to
  R was seen up (an `is connected to R` line, or a message received from R). pjsip's lines may
  name the peer differently (an excerpt of pjproject issue #3887 has `is connecting to …60.2`
  but `TX … to TCP …60.0` and `is connected to …60.0`), so the TX dump is a start of its own.
- Its end is the `is connected to R` line. For TLS it is written once the handshake is done,
  so a slow handshake counts too.
- **3 s** is the threshold (`thresholds.slow-connect-ms`, default 3000): a connection on a working network comes up within one round trip
  (milliseconds; under a second on the worst mobile or satellite link). Taking 3 s means the
  SYN (or the SYN-ACK) was lost and sent again: Linux sends it again after 1 s, then 3 s, 7 s,
  15 s … after the first (since Linux 6.5, the first four times 1 s apart), Windows after 3 s
  and 9 s. So 3 s is at least two lost SYNs on a classic Linux kernel, three on a recent one,
  one on Windows.

Not reported: a connection whose start is not in the log (the log begins after the connect
began: the edge of the input is not a fault); a connect that has not completed when the log
ends (neither slow nor failed as far as the trace shows); a wait over 130 s (more than Linux's
default connect timeout, 127 s: not one connect, the log must have missed a line); failed
connects (`TCP connect() error`, `Failed to send`), which `transport-error` reports.

## Why it matters
Everything pjsip sends to that peer waits for the connection: the log shows the request as sent
(`TX`) seconds before it left the machine, so the delay looks like a slow or unanswering server.
Users see "registration is slow", "calls take 15 s to start", "sometimes registration times
out". A transaction's timer runs while its request waits: Timer B/F (64×T1 = 32 s) fires, and
pjsip drops a request that waited longer than that in the transport (`PJSIP_TD_TIMEOUT`).

## Severity
Default **warning**: the connection came up and the requests went out, late. **Error** when a
request waited 32 s (64×T1, its transaction's Timer B/F) or longer: its transaction timed out
before the request could leave (pjsip drops it or sends it too late for the answer to count).
pjsua's `SIP registration failed, status=408` for that REGISTER is then this finding's evidence,
and `registration-failed`'s error on it becomes info (one problem, one error). Recorded in
`fixtures/rules-net/slow-connect-timeout` (six SYNs dropped: connected after 63.8 s, the
registration timed out at 32 s, the REGISTER never reached the registrar).

## Typical causes
- A firewall or security group that drops (rather than rejects) SYNs to the server's SIP port,
  or drops them for a while (rate limits, SYN flood protection).
- Packet loss on the path (Wi-Fi, mobile data coming back from sleep).
- A DNS answer or SRV target that points at an address where nothing answers, while another
  address works (the first SYNs go nowhere).
- For TLS: a slow handshake (a server that answers the ClientHello late, OCSP/CRL fetches).

## How to fix
- Check the path to the server's TCP/TLS port: `tcpdump 'tcp[tcpflags] & tcp-syn != 0 and
  host R'` shows the SYNs sent again; `nc -vz R port` times the connect.
- Fix the firewall rule or security group that drops the SYNs; allow the SIP signalling port.
- Keep the connection up (TCP keep-alive, `AccountConfig.natConfig.sipOutboundUse`/flows), so
  that requests do not wait for a new one; or register over UDP where TCP is filtered.
- For a server with several addresses, remove the dead ones from DNS.

## Example
From `fixtures/rules-net/slow-connect/ua.log` (pjsua2 registering over TCP; nftables drops the
first three SYNs to the registrar):
```
18:10:16.623  tcpc0x…       ..TCP transport 10.63.11.1:55097 is connecting to 10.63.11.2:6392...
18:10:16.623  pjsua_core.c  ...TX 616 bytes Request msg REGISTER/cseq=29521 (tdta0x…) to TCP 10.63.11.2:6392:
18:10:23.890  tcpc0x…       TCP transport 10.63.11.1:55097 is connected to 10.63.11.2:6392
18:10:23.890  pjsua_core.c  .RX 510 bytes Response msg 200/REGISTER/cseq=29521 (rdata0x…) from TCP 10.63.11.2:6392:
```
The connection took 7.3 s; the REGISTER waited for it (the capture shows the SYN sent at 0 s,
1 s, 3 s and 7 s).

## References
- RFC 3261 §17.1.1.2, §17.1.2.2 (Timers B and F), §18 (transport)
- RFC 6298 §2 (initial RTO 1 s), RFC 9293 §3.8.1 (retransmission timeout)
- pjsip `sip_transport_tcp.c` (`lis_create_transport`, `on_connect_complete`, the delayed
  transmit list), `sip_transport_tls.c`
"#;

const HELP: &str = "check the path to the peer's TCP/TLS port (a firewall or security group \
                    dropping SYNs, packet loss: tcpdump shows the SYN sent again); keep the \
                    connection up (keep-alive, outbound flows) so that requests do not wait \
                    for a new one";

/// Longer than Linux's default connect timeout (127 s): not one connect (ms).
const MAX_CONNECT_MS: i64 = 130_000;
/// Messages named in a finding.
const NAMED: usize = 3;

/// A peer over a stream transport, as one input sees it.
type Key = (usize, Transport, String);

#[derive(Default)]
struct Peer {
    /// `is connecting to` lines not yet matched by an `is connected` line.
    connecting: Vec<usize>,
    /// TX dumps to the peer since a connection to it was last seen up.
    waiting: Vec<usize>,
}

fn stream(t: Transport) -> bool {
    matches!(t, Transport::Tcp | Transport::Tls)
}

fn key(input: usize, t: Transport, peer: &str) -> Key {
    (input, t, peer.to_ascii_lowercase())
}

/// `REGISTER (CSeq 2053)`, `200 response to INVITE (CSeq 1)`.
fn describe(m: &MessageEvent) -> String {
    let Some(p) = m.parsed() else {
        return "a message".to_string();
    };
    let cseq = p
        .cseq_seq()
        .map(|n| format!(" (CSeq {n})"))
        .unwrap_or_default();
    match p.status() {
        Some(code) => format!(
            "{code} response to {}{cseq}",
            p.cseq_method().unwrap_or("a request")
        ),
        None => format!("{}{cseq}", p.method().unwrap_or("a request")),
    }
}

fn check(ctx: &Context<'_>, out: &mut Vec<Finding>) {
    let model = ctx.model;
    let mut peers: HashMap<Key, Peer> = HashMap::new();
    for (i, ev) in model.events.iter().enumerate() {
        match ev {
            Event::Message(m) if stream(m.transport) => {
                let input = m.origin.input;
                match m.direction {
                    Some(Direction::Tx) => {
                        if let Some(dst) = m.dst.as_deref() {
                            peers
                                .entry(key(input, m.transport, dst))
                                .or_default()
                                .waiting
                                .push(i);
                        }
                    }
                    // Something came from the peer: a connection to it was up, and what was
                    // sent to it before did not wait for a new one.
                    Some(Direction::Rx) => {
                        if let Some(p) = m
                            .src
                            .as_deref()
                            .and_then(|s| peers.get_mut(&key(input, m.transport, s)))
                        {
                            p.waiting.clear();
                        }
                    }
                    None => {}
                }
            }
            Event::Log(l) => {
                let LogKind::TransportConnect {
                    transport,
                    local,
                    peer,
                    connected,
                } = &l.kind
                else {
                    continue;
                };
                if !stream(*transport) {
                    continue;
                }
                let p = peers
                    .entry(key(l.origin.input, *transport, peer))
                    .or_default();
                if !connected {
                    p.connecting.push(i);
                    continue;
                }
                let start = matching_start(model, l, &mut p.connecting);
                let mut waited = std::mem::take(&mut p.waiting);
                if let Some(s) = start {
                    waited.retain(|&w| w > s);
                }
                let Some(from) = start.or_else(|| waited.first().copied()) else {
                    // The log began after this connect did.
                    continue;
                };
                report(
                    ctx,
                    out,
                    Connect {
                        transport: *transport,
                        local,
                        peer,
                        line: l,
                        end: i,
                        start: from,
                        from_line: start.is_some(),
                        waited: &waited,
                    },
                );
            }
            Event::Message(_) => {}
        }
    }
}

/// The `is connecting` line the `is connected` line `l` ends, taken out of `pending`: the one
/// the same transport object wrote; without sender columns, the latest.
fn matching_start(
    model: &crate::dialog::Model,
    l: &LogEvent,
    pending: &mut Vec<usize>,
) -> Option<usize> {
    let sender = |e: usize| match &model.events[e] {
        Event::Log(s) => s.sender.as_str(),
        Event::Message(_) => "",
    };
    let at = if l.sender.is_empty() {
        // No sender column: only lines without one can be this connect's.
        pending.iter().rposition(|&e| sender(e).is_empty())
    } else {
        pending.iter().rposition(|&e| sender(e) == l.sender)
    }?;
    Some(pending.remove(at))
}

struct Connect<'a> {
    transport: Transport,
    local: &'a str,
    peer: &'a str,
    /// The `is connected` line, and its event index.
    line: &'a LogEvent,
    end: usize,
    /// The connect's start: an `is connecting` line (`from_line`) or the first TX dump.
    start: usize,
    from_line: bool,
    /// The TX dumps that waited for the connection.
    waited: &'a [usize],
}

fn report(ctx: &Context<'_>, out: &mut Vec<Finding>, c: Connect<'_>) {
    let model = ctx.model;
    let t0: Timestamp = model.events[c.start].ts();
    let Some(took) = t0.known_ms_until(c.line.ts) else {
        return;
    };
    if !(ctx.settings.thresholds.slow_connect_ms..=MAX_CONNECT_MS).contains(&took) {
        return;
    }
    let messages: Vec<(usize, &MessageEvent)> = c
        .waited
        .iter()
        .filter_map(|&e| match &model.events[e] {
            Event::Message(m) => Some((e, m)),
            Event::Log(_) => None,
        })
        .collect();
    // A request that waited as long as its transaction's timer: the transaction timed out.
    let timed_out: Vec<&(usize, &MessageEvent)> = messages
        .iter()
        .filter(|(_, m)| {
            m.parsed().is_some_and(|p| p.is_request()) && m.ts.ms_until(c.line.ts) >= TIMER_64T1_MS
        })
        .collect();
    let t = c.transport.as_str();
    let mut message = format!(
        "the {t} connection to {} took {} to come up (from {} to {}, local {}) in {}",
        c.peer,
        secs(took),
        t0,
        c.line.ts,
        c.local,
        ctx.input_name(c.line.origin.input),
    );
    if messages.is_empty() {
        message.push_str("; no message sent to it in the log waited for it");
    } else {
        let mut names: Vec<String> = messages.iter().map(|(_, m)| describe(m)).collect();
        names.dedup();
        let more = names.len().saturating_sub(NAMED);
        names.truncate(NAMED);
        let mut list = names.join(", ");
        if more > 0 {
            list.push_str(&format!(" and {more} more"));
        }
        let verb = if messages.len() == 1 { "was" } else { "were" };
        message.push_str(&format!("; {list} {verb} logged as sent but waited for it"));
    }
    if !c.from_line {
        message.push_str(
            " (the log shows no `is connecting` line for this peer: timed from the first TX dump)",
        );
    }
    if !timed_out.is_empty() {
        message.push_str(&format!(
            "; a request waited {} or more, its transaction's timeout (64×T1): it timed out \
             before it could leave",
            secs(TIMER_64T1_MS)
        ));
    }
    let owner = messages
        .iter()
        .find_map(|&(e, _)| model.event_owner[e])
        .or_else(|| model.event_owner[c.start]);
    let mut f = Finding::new(&RULE, owner, message, HELP.to_string()).with(
        c.end,
        format!("the connection came up after {}", secs(took)),
    );
    if c.from_line {
        f = f.with(c.start, "the connect started");
    }
    for &(e, m) in messages.iter().take(NAMED) {
        let waited = secs(m.ts.ms_until(c.line.ts));
        f = f.with(
            e,
            format!("logged as sent, waited {waited} for the connection"),
        );
    }
    if let Some(&&(first, _)) = timed_out.first() {
        f.severity = Severity::Error;
        // The timeout it caused, as pjsua reported it: `registration-failed`'s evidence too,
        // which this finding explains (one problem, one error).
        let owners: Vec<_> = timed_out
            .iter()
            .map(|(e, _)| model.event_owner[*e])
            .collect();
        let input = c.line.origin.input;
        let gave_up = (first..c.end).find(|&e| match &model.events[e] {
            Event::Log(l) => {
                l.origin.input == input
                    && matches!(
                        l.kind,
                        LogKind::Registration {
                            ok: false,
                            status: Some(408)
                        }
                    )
                    && owners.contains(&model.event_owner[e])
            }
            Event::Message(_) => false,
        });
        if let Some(e) = gave_up {
            f = f.with(e, "its transaction timed out meanwhile");
        }
    }
    out.push(f);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialog::{CorrelateOptions, correlate};
    use crate::ingest::{Format, IngestOptions, ingest_bytes};
    use crate::rules::RuleSettings;

    fn findings(log: &str) -> Vec<Finding> {
        let opts = IngestOptions {
            format: Some(Format::PJSIP),
            ..IngestOptions::default()
        };
        let (info, _, events) =
            ingest_bytes("ua.log", log.as_bytes().to_vec(), &opts).expect("read");
        let model = correlate(events, &CorrelateOptions::default());
        let settings = RuleSettings::default();
        let inputs = [info];
        let ctx = Context::new(&model, &settings, &inputs);
        let mut out = Vec::new();
        check(&ctx, &mut out);
        out
    }

    fn register(ts: &str, cseq: u32, proto: &str, peer: &str) -> String {
        format!(
            "{ts} {:>14}  ..TX 420 bytes Request msg REGISTER/cseq={cseq} (tdta0x1{cseq}) to {proto} {peer}:\n\
             REGISTER sip:{peer};transport={proto} SIP/2.0\n\
             Via: SIP/2.0/{proto} 10.0.0.1:40000;rport;branch=z9hG4bKPj{cseq}\n\
             Max-Forwards: 70\n\
             From: <sip:alice@example.com>;tag=a{cseq}\n\
             To: <sip:alice@example.com>\n\
             Call-ID: reg-{cseq}\n\
             CSeq: {cseq} REGISTER\n\
             Contact: <sip:alice@10.0.0.1:40000;transport={proto}>\n\
             Expires: 300\n\
             Content-Length:  0\n\
             \n\
             \n\
             --end msg--\n",
            "pjsua_core.c"
        )
    }

    fn ok(ts: &str, cseq: u32, proto: &str, peer: &str) -> String {
        format!(
            "{ts} {:>14}  .RX 300 bytes Response msg 200/REGISTER/cseq={cseq} (rdata0x2{cseq}) from {proto} {peer}:\n\
             SIP/2.0 200 OK\n\
             Via: SIP/2.0/{proto} 10.0.0.1:40000;rport=40000;branch=z9hG4bKPj{cseq}\n\
             From: <sip:alice@example.com>;tag=a{cseq}\n\
             To: <sip:alice@example.com>;tag=r{cseq}\n\
             Call-ID: reg-{cseq}\n\
             CSeq: {cseq} REGISTER\n\
             Content-Length:  0\n\
             \n\
             \n\
             --end msg--\n",
            "pjsua_core.c"
        )
    }

    /// pjsip's own wording (sip_transport_tcp.c, `lis_create_transport` and
    /// `on_connect_complete`), as PJSIP 2.15.1 wrote it in `fixtures/rules-net/slow-connect`.
    fn connecting(ts: &str, obj: &str, proto: &str, local: &str, peer: &str) -> String {
        format!("{ts} {obj:>14}  ..{proto} transport {local} is connecting to {peer}...\n")
    }

    fn connected(ts: &str, obj: &str, proto: &str, local: &str, peer: &str) -> String {
        format!("{ts} {obj:>14}  {proto} transport {local} is connected to {peer}\n")
    }

    const R: &str = "10.0.0.2:5060";
    const L: &str = "10.0.0.1:40000";

    #[test]
    fn a_slow_connect_and_the_register_that_waited() {
        let log = [
            connecting("10:00:00.000", "tcpc0xa1", "TCP", L, R),
            register("10:00:00.001", 7, "TCP", R),
            connected("10:00:07.250", "tcpc0xa1", "TCP", L, R),
            ok("10:00:07.260", 7, "TCP", R),
        ]
        .concat();
        let found = findings(&log);
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            f.message
                .contains("TCP connection to 10.0.0.2:5060 took 7.2 s"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("REGISTER (CSeq 7) was logged as sent"),
            "{}",
            f.message
        );
        assert!(f.owner.is_some(), "the REGISTER's flow");
        assert_eq!(f.evidence.len(), 3, "connected, connecting, the REGISTER");
    }

    #[test]
    fn a_fast_connect_is_not_reported() {
        let log = [
            connecting("10:00:00.000", "tcpc0xa1", "TCP", L, R),
            register("10:00:00.001", 7, "TCP", R),
            connected("10:00:02.900", "tcpc0xa1", "TCP", L, R),
            ok("10:00:02.910", 7, "TCP", R),
        ]
        .concat();
        assert!(findings(&log).is_empty());
    }

    /// The shape of pjproject issue #3887: the `connecting` line names another object and
    /// address than the `connected` one; the TX dump to the connected peer is the start.
    #[test]
    fn timed_from_the_tx_dump_when_no_connecting_line_names_the_peer() {
        let log = [
            connecting("05:42:20.654", "tcpc0xb595bc1c", "TCP", L, "10.0.0.3:5060"),
            register("05:42:20.698", 2053, "TCP", R),
            connected("05:42:35.924", "tcpc0xb5959bcc", "TCP", "10.0.0.1:39836", R),
        ]
        .concat();
        let found = findings(&log);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].message.contains("took 15.2 s"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("first TX dump"),
            "{}",
            found[0].message
        );
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn the_edges_of_the_log_are_not_faults() {
        // The log starts after the connect began: nothing marks its start.
        let started_before = [
            connected("10:00:07.250", "tcpc0xa1", "TCP", L, R),
            ok("10:00:07.260", 7, "TCP", R),
        ]
        .concat();
        assert!(findings(&started_before).is_empty());
        // The log ends before the connect completes.
        let ends_before = [
            connecting("10:00:00.000", "tcpc0xa1", "TCP", L, R),
            register("10:00:00.001", 7, "TCP", R),
        ]
        .concat();
        assert!(findings(&ends_before).is_empty());
    }

    #[test]
    fn a_request_sent_over_a_connection_that_was_up_did_not_wait() {
        // A REGISTER answered over the old connection, then a new connection comes up later
        // without a `connecting` line: nothing waited for it.
        let log = [
            register("10:00:00.000", 7, "TCP", R),
            ok("10:00:00.020", 7, "TCP", R),
            connected("10:00:20.000", "tcpc0xa2", "TCP", L, R),
        ]
        .concat();
        assert!(findings(&log).is_empty());
        // The same `connected` line after a second, slow connect of another object.
        let other_object = [
            connecting("10:00:00.000", "tcpc0xa1", "TCP", L, R),
            connected("10:00:00.010", "tcpc0xa1", "TCP", L, R),
            connecting("10:00:05.000", "tcpc0xa2", "TCP", "10.0.0.1:40002", R),
            connected("10:00:05.100", "tcpc0xa2", "TCP", "10.0.0.1:40002", R),
        ]
        .concat();
        assert!(findings(&other_object).is_empty());
    }

    #[test]
    fn tls_and_a_request_that_outwaited_its_transaction_is_an_error() {
        let log = [
            connecting("10:00:00.000", "tlsc0xb1", "TLS", L, "10.0.0.2:5061"),
            register("10:00:00.001", 9, "TLS", "10.0.0.2:5061"),
            connected("10:00:33.000", "tlsc0xb1", "TLS", L, "10.0.0.2:5061"),
        ]
        .concat();
        let found = findings(&log);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].message.contains("TLS connection"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("timed out"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn udp_and_waits_longer_than_a_connect_can_take_are_not_judged() {
        let udp = [
            register("10:00:00.000", 7, "UDP", R),
            ok("10:00:09.000", 7, "UDP", R),
        ]
        .concat();
        assert!(findings(&udp).is_empty());
        let too_long = [
            register("10:00:00.000", 7, "TCP", R),
            connected("10:05:00.000", "tcpc0xa1", "TCP", L, R),
        ]
        .concat();
        assert!(findings(&too_long).is_empty());
    }
}
