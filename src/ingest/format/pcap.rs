//! pcap captures.

use super::{Format, Parser, Spec, level};

pub const FORMAT: Format = Format(&Spec {
    name: "pcap",
    summary: "A pcap capture (tcpdump -w, Wireshark): any byte order, µs or ns, optionally gzip",
    looks: "a pcap capture",
    recognises: "pcap captures",
    sniff,
    parser: Parser::Capture,
    packets: true,
    docs: include_str!("pcap.md"),
    fixtures: &[
        "captures/pjsua-udp/call.pcap",
        "captures/sipp-tcp-big/tcp.pcap",
    ],
});

fn sniff(head: &[u8]) -> Option<u8> {
    let pcap = crate::ingest::capture::reader::detect(head)
        == Some(crate::ingest::capture::reader::CaptureFormat::Pcap);
    pcap.then_some(level::MAGIC)
}
