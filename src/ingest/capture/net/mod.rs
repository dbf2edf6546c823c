//! Network facts beside SIP: DNS lookups and TLS handshakes seen in a capture.
//!
//! A SIP request that never leaves because its domain did not resolve, or that waits for a
//! TLS connection whose handshake fails, leaves no SIP in the capture: the DNS and TLS
//! packets are all that shows it. This stage reads them from the same [`Datagram`]s as the
//! SIP payload stage and yields [`Fact`]s, which `capture` turns into log events (sender
//! `dns` or `tls`, located by frames), so that they show as evidence and notes like pjsip's
//! own resolver and TLS lines. Only what matters is surfaced: failed lookups and SIP-name
//! answers ([`dns`]), failed handshakes ([`tls`]). Memory is bounded: pending queries and
//! connections in their handshake are tables of a fixed size.
//!
//! Owns: [`Net`] and the two readers. Does not own: link/IP decoding, SIP, what the facts mean
//! (the `dns-failure` and `tls-failure` rules).

pub mod dns;
pub mod tls;

#[cfg(test)]
mod tests;

use super::{Datagram, L4, Warning, WarningKind};
use crate::event::{FrameList, LogKind, Timestamp};

/// The DNS port.
const DNS_PORT: u16 = 53;

/// A DNS or TLS fact, as `capture` turns it into a log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub ts: Timestamp,
    pub frames: FrameList,
    /// `dns` or `tls`.
    pub sender: String,
    pub text: String,
    pub kind: LogKind,
}

/// The DNS and TLS readers of one capture.
#[derive(Debug, Default)]
pub struct Net {
    dns: dns::Dns,
    tls: tls::Tls,
    sip_ports: Vec<u16>,
    /// The time of the latest datagram: how long the capture ran.
    last: Option<Timestamp>,
}

impl Net {
    /// `sip_ports`: `--sip-port`, which makes TLS on those ports worth reading even when the
    /// port is one of another protocol's.
    pub fn new(sip_ports: Vec<u16>) -> Self {
        Net {
            sip_ports,
            ..Net::default()
        }
    }

    pub fn push(&mut self, d: &Datagram, out: &mut Vec<Fact>) {
        self.last = Some(self.last.map_or(d.ts, |t| t.max(d.ts)));
        let frame = d.frames.first().copied().unwrap_or(0);
        self.dns.expire(d.ts, out);
        let dns_port = d.src.port() == DNS_PORT || d.dst.port() == DNS_PORT;
        match d.l4 {
            L4::Udp if dns_port => {
                if let Some(m) = dns::parse(&d.payload) {
                    self.dns.push(m, d.src, d.dst, frame, d.ts, out);
                }
            }
            L4::Tcp { seq, fin, rst, .. } => {
                if dns_port {
                    // DNS over TCP: each message is preceded by its length; read the
                    // segments that hold whole messages.
                    let mut rest = &d.payload[..];
                    while let [hi, lo, tail @ ..] = rest {
                        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
                        let Some(msg) = tail.get(..len) else {
                            break;
                        };
                        if let Some(m) = dns::parse(msg) {
                            self.dns.push(m, d.src, d.dst, frame, d.ts, out);
                        }
                        rest = &tail[len..];
                    }
                    return;
                }
                let seg = tls::Segment {
                    src: d.src,
                    dst: d.dst,
                    seq,
                    fin,
                    rst,
                    payload: &d.payload,
                    frame,
                    ts: d.ts,
                };
                self.tls.push(&seg, &self.sip_ports, out);
            }
            _ => {}
        }
    }

    /// Queries and connections held (for the tests of the memory bounds).
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        (self.dns.pending(), self.tls.tracked())
    }

    /// The end of the capture.
    pub fn finish(&mut self, out: &mut Vec<Fact>, warnings: &mut Vec<Warning>) {
        self.dns.finish(self.last, out);
        self.tls.finish();
        for (n, what) in [
            (self.dns.dropped, "DNS queries waiting for an answer"),
            (self.tls.dropped, "TLS connections in their handshake"),
        ] {
            if n > 0 {
                warnings.push(Warning {
                    frame: None,
                    kind: WarningKind::Limit,
                    message: format!(
                        "too many {what} at once: {n} were forgotten (their outcome is not reported)"
                    ),
                });
            }
        }
    }
}
