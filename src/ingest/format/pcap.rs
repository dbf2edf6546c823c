//! pcap captures.

use super::{Format, Parser, Spec, level};

pub const FORMAT: Format = Format(&Spec {
    name: "pcap",
    summary: "A pcap capture (tcpdump -w, Wireshark): any byte order, µs or ns, optionally gzip",
    looks: "a pcap capture",
    recognises: "pcap captures",
    sniff,
    parser: Parser::Capture,
    docs: DOCS,
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

const DOCS: &str = "## What it is

The classic libpcap file: a 24-byte header, then one record per frame. Written by
`tcpdump -w`, `tshark -F pcap`, `dumpcap -P` and most capture tools.

## How to make one

```
tcpdump -i any -s 0 -w call.pcap 'port 5060 or portrange 10000-20000'
```

Use `-s 0` (the whole frame): a short snapshot length cuts messages.

## How sipflow recognises it

By its magic number at offset 0 (`a1b2c3d4` or `a1b2cd34`, µs; `a1b23c4d`, ns; either byte
order), never by the file name. A gzip-compressed capture is undone first.

## What sipflow takes from it

Every SIP message on UDP, TCP (reassembled, several messages per segment or one message over
several), SCTP, WebSocket and HEP, on any port (`--sip-port` restricts it), over Ethernet,
Linux cooked (SLL, SLL2), raw IP, loopback, VLAN and common tunnels; IP fragments are
reassembled. Each message gets the frame's time (to the microsecond, dated), its source and
destination `ip:port`, its transport and its frame numbers. DNS lookups and TLS handshakes
that failed are read as facts for the rules.

## Limits

Bytes the capture lost (snapshot length, a TCP gap, a reassembly limit) make a message
`damaged`; a capture that stops inside a message cuts it at the input's edge. TLS is not
decrypted. See `docs/security.md` for the memory bounds (`--limit`).
";
