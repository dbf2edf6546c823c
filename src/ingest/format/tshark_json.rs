//! tshark's `-T json` (pretty-printed, one field a line, duplicate keys or `--no-duplicate-keys`
//! arrays) and `-T ek` (one packet a line, for Elasticsearch): the SIP messages rebuilt from the
//! fields.
//!
//! Owns: recognising either layout and reading it a line at a time (never the whole document:
//! a `-T json` line holds one field, an `-T ek` line one packet, and every line is already cut
//! at `super::super::linecap::MAX_LINE`), the packet's time, addresses and transport, and each
//! message from `sip.Request-Line`/`sip.Status-Line` and `sip.msg_hdr` (which holds the
//! message's header lines and body as sent). Does not own: the event made of a message
//! (`super::dissect`).

use std::net::IpAddr;

use serde_json::Value;

use super::dissect::{self, MAX_MESSAGE, Packet};
use super::{Format, Parser, Spec, TextCounts, TextParser, TextStart, level};
use crate::event::{Event, Transport};

pub const FORMAT: Format = Format(&Spec {
    name: "tshark-json",
    summary: "tshark -T json and -T ek output (the SIP fields of each packet)",
    looks: "a tshark JSON export",
    recognises: "`tshark -T json` / `-T ek` packets (`\"_index\": \"packets-…\"`)",
    sniff,
    parser: Parser::Text(new),
    // `sip.msg_hdr` holds the message's bytes after its start line, as sent.
    packets: true,
    docs: include_str!("tshark_json.md"),
    fixtures: &[
        "derived-text/tshark-json/pjsua-udp.json",
        "derived-text/tshark-json/oversized-tcp.ek.json",
    ],
});

fn sniff(head: &[u8]) -> Option<u8> {
    let lines = head.split(|&b| b == b'\n').take(64);
    for line in lines {
        let t = line.trim_ascii();
        // `-T json`: `"_index": "packets-2026-11-21",`; `-T ek`: its index line.
        if t.starts_with(b"\"_index\": \"packets-")
            || t.starts_with(b"{\"index\":{\"_index\":\"packets-")
        {
            return Some(level::TOOL_TEXT);
        }
    }
    None
}

fn new<'a>(start: &TextStart<'_>, emit: &'a mut dyn FnMut(Event)) -> Box<dyn TextParser + 'a> {
    Box::new(TsharkJson {
        emit,
        input: start.input,
        offset: 0,
        line: 0,
        packet: Packet::default(),
        pending: None,
        counts: TextCounts::default(),
    })
}

struct TsharkJson<'a> {
    emit: &'a mut dyn FnMut(Event),
    input: usize,
    offset: usize,
    line: u32,
    packet: Packet,
    /// A start line whose `sip.msg_hdr` has not come yet: (line, where it is, the start line).
    pending: Option<(u32, usize, String)>,
    counts: TextCounts,
}

/// `"key": value,` of a `-T json` line, the value still JSON.
fn field(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim().strip_prefix('"')?;
    let (key, value) = rest.split_once("\": ")?;
    Some((key, value.trim_end_matches(',')))
}

/// A JSON string value (escapes undone); `None` for anything else.
fn string(value: &str) -> Option<String> {
    serde_json::from_str::<String>(value).ok()
}

impl TsharkJson<'_> {
    fn line(&mut self, raw: &[u8], at: usize) {
        self.line = self.line.saturating_add(1);
        let Ok(line) = std::str::from_utf8(raw) else {
            return;
        };
        let t = line.trim();
        if t.starts_with("{\"") && t.ends_with('}') {
            self.ek(t, at, raw.len());
            return;
        }
        let Some((key, value)) = field(t) else {
            return;
        };
        match key {
            "_index" => self.new_packet(),
            "frame.time_epoch" => self.packet.ts = string(value).and_then(|v| dissect::epoch(&v)),
            "ip.src" | "ipv6.src" => self.packet.src_ip = ip(string(value)),
            "ip.dst" | "ipv6.dst" => self.packet.dst_ip = ip(string(value)),
            "udp.srcport" | "tcp.srcport" | "sctp.srcport" => {
                let port = string(value).and_then(|p| p.parse().ok());
                self.packet.ports = port.map(|p| (p, self.packet.ports.map_or(0, |x| x.1)));
                self.packet.transport = transport(key);
            }
            "udp.dstport" | "tcp.dstport" | "sctp.dstport" => {
                let port = string(value).and_then(|p| p.parse().ok());
                self.packet.ports = self.packet.ports.zip(port).map(|((s, _), d)| (s, d));
            }
            "sip.Request-Line" | "sip.Status-Line" => {
                self.end_message(None, at + raw.len());
                if let Some(s) = string(value) {
                    self.pending = Some((self.line, at, s));
                }
            }
            "sip.msg_hdr" => self.end_message(string(value).as_deref(), at + raw.len()),
            _ => {}
        }
    }

    fn new_packet(&mut self) {
        self.end_message(None, self.offset);
        self.packet = Packet::default();
    }

    /// One `-T ek` line: an index line, or a packet.
    fn ek(&mut self, line: &str, at: usize, len: usize) {
        let Ok(doc) = serde_json::from_str::<Value>(line) else {
            return;
        };
        let Some(layers) = doc.get("layers") else {
            return;
        };
        self.new_packet();
        let one = |layer: &str, name: &str| -> Option<String> {
            let v = layers.get(layer)?.get(name)?;
            let v = match v {
                Value::Array(a) => a.first()?,
                v => v,
            };
            v.as_str().map(str::to_string)
        };
        self.packet.ts = one("frame", "frame_frame_time_epoch").and_then(|v| dissect::epoch(&v));
        self.packet.src_ip = ip(one("ip", "ip_ip_src").or_else(|| one("ipv6", "ipv6_ipv6_src")));
        self.packet.dst_ip = ip(one("ip", "ip_ip_dst").or_else(|| one("ipv6", "ipv6_ipv6_dst")));
        for l4 in ["udp", "tcp", "sctp"] {
            let port = |end: &str| one(l4, &format!("{l4}_{l4}_{end}port"))?.parse().ok();
            if let (Some(s), Some(d)) = (port("src"), port("dst")) {
                self.packet.ports = Some((s, d));
                self.packet.transport = transport(l4);
                break;
            }
        }
        // One `sip` object per message (several in one TCP segment: an array of them).
        let sips = match layers.get("sip") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v) => vec![v],
            None => Vec::new(),
        };
        for sip in sips {
            let text = |name: &str| sip.get(name).and_then(Value::as_str).map(str::to_string);
            if let Some(start) =
                text("sip_sip_Request-Line").or_else(|| text("sip_sip_Status-Line"))
            {
                self.pending = Some((self.line, at, start));
                self.end_message(text("sip_sip_msg_hdr").as_deref(), at + len);
            }
        }
    }

    /// The pending message, with `rest` (its headers and body) when it came.
    fn end_message(&mut self, rest: Option<&str>, end: usize) {
        let Some((line, start, first)) = self.pending.take() else {
            return;
        };
        let rest = rest.unwrap_or("\r\n");
        if first.len() + rest.len() + 2 > MAX_MESSAGE {
            return;
        }
        let mut bytes = Vec::with_capacity(first.len() + rest.len() + 2);
        bytes.extend_from_slice(first.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(rest.as_bytes());
        // With several messages in one TCP segment, tshark gives the first one's `msg_hdr` up to
        // the end of the segment's data: its Content-Length ends it.
        if self.packet.transport == Transport::Tcp
            && let Some(n) = crate::sip::message_len(&bytes)
        {
            bytes.truncate(n);
        }
        let event = dissect::message(bytes, &self.packet, self.input, line, start..end, false);
        if let Event::Message(m) = &event {
            self.counts.messages += 1;
            self.counts.truncated += usize::from(m.cut.is_some());
        }
        (self.emit)(event);
    }
}

fn ip(text: Option<String>) -> Option<IpAddr> {
    text?.parse().ok()
}

fn transport(key: &str) -> Transport {
    match key.split('.').next().unwrap_or(key) {
        "udp" => Transport::Udp,
        "tcp" => Transport::Tcp,
        _ => Transport::Sctp,
    }
}

impl TextParser for TsharkJson<'_> {
    fn feed(&mut self, piece: &[u8]) {
        for (line, at) in super::lines_at(piece, &mut self.offset) {
            self.line(line, at);
        }
    }

    fn finish(mut self: Box<Self>, rest: &[u8]) -> TextCounts {
        self.feed(rest);
        self.end_message(None, self.offset);
        self.counts
    }
}
