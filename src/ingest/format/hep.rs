//! HEPv3 packets back to back: what a HEP collector received, kept as it came.

use super::{Format, Parser, Spec, level};

pub const FORMAT: Format = Format(&Spec {
    name: "hep",
    summary: "HEPv3 packets back to back (what heplify, Kamailio or sngrep -H sent a collector)",
    looks: "a file of HEPv3 packets",
    recognises: "HEPv3 packets (`HEP3` …)",
    sniff,
    parser: Parser::Hep,
    packets: true,
    docs: include_str!("hep.md"),
    fixtures: &["hep/sngrep-call.hep"],
});

fn sniff(head: &[u8]) -> Option<u8> {
    // The magic, and a total length that covers at least a chunk header.
    let len = head.get(4..6).map(|b| u16::from_be_bytes([b[0], b[1]]));
    (head.starts_with(b"HEP3") && len.is_some_and(|l| l >= 12)).then_some(level::MAGIC)
}
