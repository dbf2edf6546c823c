//! pcapng captures.

use super::{Format, Parser, Spec, level};

pub const FORMAT: Format = Format(&Spec {
    name: "pcapng",
    summary: "A pcapng capture (Wireshark, dumpcap, tshark): every interface, optionally gzip",
    looks: "a pcapng capture",
    recognises: "pcapng captures",
    sniff,
    parser: Parser::Capture,
    docs: DOCS,
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

const DOCS: &str = "## What it is

The pcap Next Generation file: blocks (section header, interface descriptions, packets).
Wireshark, `dumpcap` and `tshark` write it by default.

## How to make one

```
dumpcap -i any -w call.pcapng -f 'port 5060'
```

## How sipflow recognises it

By its section header block type (`0a0d0d0a`) at offset 0, never by the file name.

## What sipflow takes from it

What it takes from a pcap capture (see `pcap.md`), with each interface's link type and time
resolution.

## Limits

As for pcap. Several sections in one file are read one after the other.
";
