//! pcapng captures.

use super::{Format, Parser, Spec, level};

pub const FORMAT: Format = Format(&Spec {
    name: "pcapng",
    summary: "A pcapng capture (Wireshark, dumpcap, tshark): every interface, optionally gzip",
    looks: "a pcapng capture",
    recognises: "pcapng captures",
    sniff,
    parser: Parser::Capture,
    packets: true,
    docs: include_str!("pcapng.md"),
    fixtures: &[
        "captures/pcapng/call.pcapng",
        "captures/gz/pcapng-named.pcap",
    ],
});

fn sniff(head: &[u8]) -> Option<u8> {
    let pcapng = crate::ingest::capture::reader::detect(head)
        == Some(crate::ingest::capture::reader::CaptureFormat::Pcapng);
    pcapng.then_some(level::MAGIC)
}
