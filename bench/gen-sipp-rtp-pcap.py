#!/usr/bin/env python3
"""Writes a pcap of SIPp calls with RTP, made from one recorded call: the RTP benchmark's input
(issue 17: "benchmark it on a SIPp capture with RTP (rtp_stream)").

    python3 bench/gen-sipp-rtp-pcap.py N OUT [TEMPLATE] [CALLS]

TEMPLATE (default fixtures/media/sipp-rtp-stream/call.pcap, a 3 s SIPp call on 127.0.0.1 whose
UAC streams PCMU with `rtp_stream` and whose UAS echoes it: INVITE, 180, 200, ACK, 300 RTP
packets, BYE, 200) becomes CALLS concurrent calls (default 100: 200 streams, as
bench/gen-rtp-pcap.py), 1 ms apart, whose RTP is the template's played again and again
(sequence numbers, timestamps and times carried on, so every stream stays one continuous
stream) until the file holds about N packets, then each call's BYE and 200. Each call is its
own: the template's address 127.0.0.1 becomes 127.1.D.D (D a digit, in the IP headers and in
the SIP text: the same length, so that Content-Length holds), its Call-ID's local part a number
of the same length, its SSRC the call's number. Payloads are the template's (a real µ-law
tone); UDP checksums are left out (0), IP header checksums recomputed. Never committed: the
file is made where it is needed (target/bench/).
"""

import heapq
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOOPBACK = b"127.0.0.1"


def packets(path):
    """(µs, frame) of each packet of a classic little-endian Ethernet pcap."""
    data = open(path, "rb").read()
    magic, _, _, _, _, _, link = struct.unpack("<IHHiIII", data[:24])
    if magic != 0xA1B2C3D4 or link != 1:
        sys.exit(f"{path}: not a little-endian microsecond Ethernet pcap")
    out, at = [], 24
    while at + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack("<IIII", data[at : at + 16])
        out.append((sec * 1_000_000 + usec, data[at + 16 : at + 16 + incl]))
        at += 16 + incl
    return out


def ip_checksum(header):
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def copy(frame, number, addr, call_id, rep):
    """The template frame as call `number`'s, at address `addr` (9 bytes of text), its RTP in
    repetition `rep` (sequence numbers and timestamps moved on by `rep` times `RTP_REP`)."""
    eth, ip = frame[:14], bytearray(frame[14:])
    ihl = (ip[0] & 0x0F) * 4
    if len(ip) < ihl + 8 or ip[9] != 17:
        return None
    raw = bytes(int(x) for x in addr.split(b"."))
    for at in (12, 16):
        if ip[at : at + 4] == b"\x7f\x00\x00\x01":
            ip[at : at + 4] = raw
    payload = bytearray(ip[ihl + 8 :])
    if is_rtp(payload):
        seq, ts = struct.unpack("!HI", payload[2:8])
        seq = (seq + rep * RTP_REP[0]) & 0xFFFF
        ts = (ts + rep * RTP_REP[1]) & 0xFFFFFFFF
        payload[2:12] = struct.pack("!HII", seq, ts, number)
    else:
        payload = bytearray(bytes(payload).replace(LOOPBACK, addr))
        payload = bytearray(bytes(payload).replace(call_id, b"%0*d" % (len(call_id), number)))
    ip[ihl + 6 : ihl + 8] = b"\x00\x00"  # UDP checksum: none
    ip[ihl + 8 :] = payload
    ip[10:12] = b"\x00\x00"
    ip[10:12] = struct.pack("!H", ip_checksum(bytes(ip[:ihl])))
    return eth + bytes(ip)


def is_rtp(payload):
    return len(payload) >= 12 and payload[0] >> 6 == 2 and b"SIP/2.0" not in payload[:64]


def udp_payload(frame):
    ihl = (frame[14] & 0x0F) * 4
    return frame[14 + ihl + 8 :]


# (sequence numbers, timestamp units) one playing of the template's RTP moves a stream on.
RTP_REP = [0, 0]


def one_call(call, number, addr, call_id, start, reps):
    """The packets of call `number` as (µs, frame), in time order."""
    rtp = [i for i, (_, f) in enumerate(call) if is_rtp(udp_payload(f))]
    first, last = rtp[0], rtp[-1]
    t0 = call[0][0]
    span = call[last][0] - call[first][0] + 20_000
    for i in range(first):
        us, f = call[i]
        yield start + us - t0, copy(f, number, addr, call_id, 0)
    for rep in range(reps):
        for i in range(first, last + 1):
            us, f = call[i]
            yield start + us - t0 + rep * span, copy(f, number, addr, call_id, rep)
    for i in range(last + 1, len(call)):
        us, f = call[i]
        yield start + us - t0 + (reps - 1) * span, copy(f, number, addr, call_id, 0)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    n, out = int(sys.argv[1]), sys.argv[2]
    template = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
        ROOT, "fixtures/media/sipp-rtp-stream/call.pcap")
    calls = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    if not 1 <= calls <= 100:
        sys.exit("CALLS: 1 to 100 (127.1.D.D)")
    call = [(us, f) for us, f in packets(template) if copy(f, 0, LOOPBACK, b"", 0)]
    rtp = [udp_payload(f) for _, f in call if is_rtp(udp_payload(f))]
    if not rtp:
        sys.exit(f"{template}: no RTP")
    # One playing moves a stream on by its packets (a direction's) and 160 samples each.
    per_stream = len(rtp) // 2
    RTP_REP[0], RTP_REP[1] = per_stream, per_stream * 160
    found = re.search(rb"Call-ID: ([^@\r\n]+)@", b"".join(f for _, f in call))
    if not found or 10 ** len(found.group(1)) <= calls:
        sys.exit(f"{template}: no Call-ID long enough to number the calls")
    call_id = found.group(1)
    reps = max(1, round((n - calls * (len(call) - len(rtp))) / (calls * len(rtp))))
    streams = [
        one_call(call, j + 1, b"127.1.%d.%d" % divmod(j, 10), call_id, j * 1000, reps)
        for j in range(calls)
    ]
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for us, frame in heapq.merge(*streams, key=lambda p: p[0]):
            us += 1_700_000_000_000_000
            f.write(struct.pack("<IIII", us // 1_000_000, us % 1_000_000, len(frame), len(frame)))
            f.write(frame)


if __name__ == "__main__":
    main()
