#!/usr/bin/env python3
"""Writes a pcap of RTP-only UDP: what the capture path must let go at >= 5 M packets/s.

    python3 bench/gen-rtp-pcap.py N OUT [STREAMS]

N packets (Ethernet, IPv4, UDP, a 12-byte RTP header and a 160-byte G.711 payload: 20 ms of
PCMU), spread round-robin over STREAMS streams (default 200: 100 calls, both directions) on
10.0.0.0/16, ports 46000-46999 (the RTP range of this benchmark), 20 ms apart per stream. The
payload bytes are pseudo-random (a fixed seed): like real audio, they hold no line ends, and any
byte value may appear where SIP detection looks for a start line. Never committed: the file is
made where it is needed (target/bench/).
"""

import random
import struct
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    n, out = int(sys.argv[1]), sys.argv[2]
    streams = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    rng = random.Random(15)
    audio = bytes(rng.randrange(256) for _ in range(160 * 64))
    heads = []
    for s in range(streams):
        call, side = divmod(s, 2)
        a, b = (10, 0, call >> 8, call & 0xFF), (10, 1, call >> 8, call & 0xFF)
        src, dst = (a, b) if side == 0 else (b, a)
        sport, dport = 46000 + 2 * (call % 500), 46000 + 2 * ((call + 250) % 500)
        if side:
            sport, dport = dport, sport
        heads.append((bytes(src), bytes(dst), sport, dport, rng.getrandbits(32)))
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            s, k = i % streams, i // streams
            src, dst, sport, dport, ssrc = heads[s]
            rtp = struct.pack("!BBHII", 0x80, 0, k & 0xFFFF, (k * 160) & 0xFFFFFFFF, ssrc)
            at = (k * 160 + s * 7) % (len(audio) - 160)
            payload = rtp + audio[at : at + 160]
            udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xB8, 20 + len(udp), k & 0xFFFF, 0, 64, 17, 0, src, dst)
            frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + udp
            us = k * 20_000 + s * 50
            f.write(struct.pack("<IIII", 1_700_000_000 + us // 1_000_000, us % 1_000_000, len(frame), len(frame)))
            f.write(frame)


if __name__ == "__main__":
    main()
