#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into fuzz/seeds/<target>/ (not committed: the
committed corpora in fuzz/corpus/ are these seeds plus what fuzzing found, minimised with
`-merge=1`; see docs/security.md, "Fuzzing").

Seeds come only from the committed fixtures (fixtures/), cut small, plus a few captures built
here byte by byte for encapsulations no fixture has (HEP, WebSocket, SCTP, VLAN, GRE, VXLAN,
Linux cooked). Run from the repository root: python3 fuzz/seed.py
"""

import re
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures"
OUT = ROOT / "fuzz" / "seeds"


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


# --- SIP messages out of SIPp -trace_msg records -------------------------------------------

RECORD = re.compile(
    rb"^-{10,} [^\n]*\n[^\n]*message (?:sent|received) [^\n]*\n\n", re.M
)


def sipp_messages(path):
    text = path.read_bytes()
    starts = [m.end() for m in RECORD.finditer(text)]
    ends = [m.start() for m in RECORD.finditer(text)][1:] + [len(text)]
    for s, e in zip(starts, ends):
        msg = text[s:e].rstrip(b"\n")
        if msg:
            yield msg


def start_line_key(msg):
    line = msg.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return parts[1] if line.startswith(b"SIP/") else parts[0]


def sip_seeds():
    seen = {}
    for path in sorted(FIX.rglob("*.msg")):
        for msg in sipp_messages(path):
            key = (start_line_key(msg), b"v=0" in msg)
            if key not in seen and len(msg) < 3000:
                seen[key] = msg
    for i, (key, msg) in enumerate(sorted(seen.items())):
        write("sip_parser", f"msg-{i:02}", msg)
    hand = {
        "folded": b"MESSAGE sip:a@b SIP/2.0\r\nSubject: a\r\n more\r\n\tand more\r\nCall-ID: f\r\nCSeq: 1 MESSAGE\r\nContent-Length: 2\r\n\r\nhi",
        "compact": b"INVITE sip:b@h SIP/2.0\nv: SIP/2.0/TCP h:5060;branch=z9hG4bK1;rport\ni: c1\nf: <sip:a@h>;tag=1\nt: <sip:b@h>\nm: *\nl: 0\n\n",
        "bad-lines": b"SIP/2.0 200\r\n: empty\r\nno colon\r\n continuation\r\nContent-Length: xyz\r\n\r\n",
        "cl-extra": b"OPTIONS sips:[2001:db8::1]:5061 SIP/2.0\r\nContent-Length: 3\r\n\r\nabcdef\r\n",
        "auth": b"SIP/2.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"x\", nonce=\"\", stale=true\r\nAuthorization: Digest response=\"\"\r\nContact: *\r\nExpires: 0\r\nSession-Expires: 90;refresher=uac\r\nReason: Q.850;cause=16;text=\"x\"\r\n\r\n",
        "tel": b"REGISTER tel:+1234;phone-context=x SIP/2.0\r\nContact: \"A\" <sip:u@[::1]:5060;transport=tcp>;expires=60;q=0.5, <sip:v@h>\r\n\r\n",
    }
    for name, msg in hand.items():
        write("sip_parser", f"hand-{name}", msg)
    # Raw SIP streams for the HTML report: whole calls, and markup in every field.
    for path in [
        "rules/session-timer/uas.msg",
        "rules/cancel-answer-race/uas.msg",
        "rules/no-common-codec/uas-488/uas.msg",
        "rules/auth-failed/registrar.msg",
        "rules-message-extra/content-length-mismatch/uac.msg",
    ]:
        msgs = list(sipp_messages(FIX / path))
        name = path.replace("/", "_").removesuffix(".msg")
        write("html_report", name, b"".join(m + b"\r\n" for m in msgs))
    evil = "<script>x</script>\"'&<img src=x onerror=y>"
    sdp = f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns={evil}\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n"
    invite = (
        f"INVITE sip:b@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK{evil}\r\n"
        f"From: \"{evil}\" <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: {evil}\r\n"
        f"CSeq: 1 INVITE\r\nUser-Agent: {evil}\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    )
    reply = (
        f"SIP/2.0 488 {evil}\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK{evil}\r\n"
        f"From: \"{evil}\" <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\n"
        f"Call-ID: {evil}\r\nCSeq: 1 INVITE\r\nServer: {evil}\r\nContent-Length: 0\r\n\r\n"
    )
    write("html_report", "markup-everywhere", (invite + reply).encode())


# --- pjsip logs ------------------------------------------------------------------------------


def pjsip_seeds():
    for path in [
        "no-dumps/caller.log",
        "call-freed-early/callee.log",
        "register-401/ua.log",
        "big-invite-cut/caller.log",
        "rules/thread-not-registered/app.log",
        "rules-message-extra/transport-error/caller.log",
        "rules/no-sound-device/make-call/caller.log",
        "rules/cancel-answer-race/caller.log",
    ]:
        write("pjsip_ingest", path.replace("/", "_"), (FIX / path).read_bytes())
    # Other decors: the first 8 KiB of each (cut at a line end).
    for path in [
        "decor-variants/full-color/caller.console.log",
        "decor-variants/date-dayname/caller.log",
        "decor-variants/thread-level/callee.log",
        "derive/call-freed-early.callee.logcat.derived.log",
        "python-logging/caller.log",
    ]:
        text = (FIX / path).read_bytes()[:8192]
        text = text[: text.rfind(b"\n") + 1]
        write("pjsip_ingest", path.replace("/", "_"), text)


# --- captures --------------------------------------------------------------------------------


def pcap_records(path):
    data = path.read_bytes()
    hdr, rest, out = data[:24], data[24:], []
    endian = "<" if hdr[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    while len(rest) >= 16:
        incl = struct.unpack(endian + "I", rest[8:12])[0]
        out.append(rest[: 16 + incl])
        rest = rest[16 + incl :]
    return hdr, out


def pcap(linktype, frames):
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1_700_000_000 + i, 1000 * i, len(f), len(f)) + f
    return out


def ipv4(proto, payload, src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02"):
    return struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0) + src + dst + payload


def ipv6(nh, payload):
    return struct.pack(">IHBB", 0x60000000, len(payload), nh, 64) + b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x01" + b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x02" + payload


def udp(sport, dport, payload):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport, dport, seq, flags, payload):
    return struct.pack(">HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload


def eth(ethertype, payload, vlan=None):
    head = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
    if vlan is not None:
        head += struct.pack(">HH", 0x8100, vlan)
    return head + struct.pack(">H", ethertype) + payload


OPTIONS = (
    b"OPTIONS sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK77\r\n"
    b"From: <sip:a@10.0.0.1>;tag=9\r\nTo: <sip:b@10.0.0.2>\r\nCall-ID: seed-1\r\n"
    b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)
OK = (
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK77\r\n"
    b"From: <sip:a@10.0.0.1>;tag=9\r\nTo: <sip:b@10.0.0.2>;tag=3\r\nCall-ID: seed-1\r\n"
    b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
)


def hep3(payload):
    def chunk(t, data):
        return struct.pack(">HHH", 0, t, 6 + len(data)) + data

    body = (
        chunk(1, b"\x02") + chunk(2, b"\x11") + chunk(3, b"\x0a\0\0\x01") + chunk(4, b"\x0a\0\0\x02")
        + chunk(7, struct.pack(">H", 5060)) + chunk(8, struct.pack(">H", 5060))
        + chunk(9, struct.pack(">I", 1_700_000_000)) + chunk(10, struct.pack(">I", 5))
        + chunk(11, b"\x01") + chunk(12, struct.pack(">I", 1)) + chunk(15, payload)
    )
    return b"HEP3" + struct.pack(">H", 6 + len(body)) + body


def ws_frame(payload, key=b"\x01\x02\x03\x04"):
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    head = b"\x81" + (bytes([0x80 | n]) if n < 126 else b"\xfe" + struct.pack(">H", n))
    return head + key + masked


def sctp_data(payload):
    common = struct.pack(">HHII", 5060, 5060, 1, 0)
    length = 16 + len(payload)
    chunk = struct.pack(">BBHIHHI", 0, 3, length, 1, 0, 0, 0) + payload
    return common + chunk + b"\0" * (-length % 4)


def capture_seeds():
    for path in [
        "captures/pjsua-udp/call.pcap",
        "captures/pcapng/call.pcapng",
        "captures/pcapng/nano.pcap",
        "captures/ipv6/call.pcap",
        "malformed/options.pcap",
        "rules/session-timer/call.pcap",
        "rules-message-extra/content-length-mismatch/message.pcap",
        "rules/reinvite-glare/call.pcap",
    ]:
        write("pcap_ingest", path.replace("/", "_"), (FIX / path).read_bytes())
    # TCP reassembly and fragments: the first records of the big captures.
    for path, keep in [("captures/sipp-tcp-big/tcp.pcap", 12), ("captures/udp-fragments/frag.pcap", 8)]:
        hdr, recs = pcap_records(FIX / path)
        write("pcap_ingest", path.replace("/", "_") + f"-first{keep}", hdr + b"".join(recs[:keep]))
    # Encapsulations no fixture has.
    split = len(OPTIONS) // 2
    upgrade = (
        b"GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Key: x\r\n\r\n"
    )
    switching = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
    crafted = {
        "vlan-udp": pcap(1, [eth(0x0800, ipv4(17, udp(5060, 5060, OPTIONS)), vlan=42), eth(0x0800, ipv4(17, udp(5060, 5060, OK), src=b"\x0a\0\0\x02", dst=b"\x0a\0\0\x01"))]),
        "hep3": pcap(1, [eth(0x0800, ipv4(17, udp(9060, 9060, hep3(OPTIONS))))]),
        "tcp-split": pcap(1, [
            eth(0x0800, ipv4(6, tcp(40000, 5060, 100, 0x02, b""))),
            eth(0x0800, ipv4(6, tcp(40000, 5060, 101, 0x18, OPTIONS[:split]))),
            eth(0x0800, ipv4(6, tcp(40000, 5060, 101 + split, 0x18, OPTIONS[split:] + OK[:40]))),
        ]),
        "websocket": pcap(1, [
            eth(0x0800, ipv4(6, tcp(40001, 8080, 1, 0x18, upgrade))),
            eth(0x0800, ipv4(6, tcp(8080, 40001, 1, 0x18, switching), src=b"\x0a\0\0\x02", dst=b"\x0a\0\0\x01")),
            eth(0x0800, ipv4(6, tcp(40001, 8080, 1 + len(upgrade), 0x18, ws_frame(OPTIONS)))),
        ]),
        "sctp": pcap(1, [eth(0x0800, ipv4(132, sctp_data(OPTIONS)))]),
        "sll-ipv6": pcap(113, [struct.pack(">HHH8sH", 4, 772, 6, b"\0" * 8, 0x86DD) + ipv6(17, udp(5060, 5060, OPTIONS))]),
        "gre": pcap(1, [eth(0x0800, ipv4(47, struct.pack(">HH", 0, 0x0800) + ipv4(17, udp(5060, 5060, OPTIONS))))]),
        "vxlan": pcap(1, [eth(0x0800, ipv4(17, udp(4789, 4789, struct.pack(">II", 0x08000000, 0x100) + eth(0x0800, ipv4(17, udp(5060, 5060, OPTIONS))))))]),
        "raw-ip": pcap(101, [ipv4(17, udp(5060, 5060, OPTIONS))]),
    }
    for name, data in crafted.items():
        write("pcap_ingest", f"crafted-{name}", data)


def main():
    sip_seeds()
    pjsip_seeds()
    capture_seeds()
    total = sum(f.stat().st_size for f in OUT.rglob("*") if f.is_file())
    print(f"seeds in {OUT}: {sum(1 for f in OUT.rglob('*') if f.is_file())} files, {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
