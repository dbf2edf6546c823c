#!/usr/bin/env python3
"""Cut a pcap (classic libpcap format, any link type) down to its first K calls.

  cut-calls.py IN.pcap OUT.pcap K
  cut-calls.py --count IN.pcap        prints "PACKETS CALLS" on stdout

A packet belongs to the call named by the first Call-ID header (`Call-ID:` or the compact `i:`)
in its bytes; the first K distinct Call-IDs, in order of first appearance, are kept, with all
their packets, so every kept call is complete. Packets without a Call-ID are dropped. Prints
`kept P packets of K calls (read R packets, C calls)` on stderr.

Used by bench/gen-sipp-pcap.sh for the small capture that tshark gets (tshark's SIP analysis
grows faster than linearly with the number of calls).
"""
import re
import struct
import sys

CALL_ID = re.compile(rb"\r?\n(?:call-id|i)[ \t]*:[ \t]*([^\r\n]+)", re.IGNORECASE)
MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",  # microseconds, little endian
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",  # nanoseconds
    b"\xa1\xb2\x3c\x4d": ">",
}


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--count":
        src, dst, limit = sys.argv[2], None, None
    elif len(sys.argv) == 4:
        src, dst, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    else:
        sys.exit(__doc__)
    kept_calls, seen = set(), set()
    read = kept = 0
    with open(src, "rb") as f, open(dst or "/dev/null", "wb") as out:
        header = f.read(24)
        endian = MAGICS.get(header[:4])
        if len(header) < 24 or endian is None:
            sys.exit(f"{src}: not a classic pcap file (pcapng is not supported here)")
        out.write(header)
        rec = struct.Struct(endian + "IIII")
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            incl = rec.unpack(h)[2]
            data = f.read(incl)
            if len(data) < incl:
                break
            read += 1
            m = CALL_ID.search(data)
            if not m:
                continue
            cid = m.group(1).strip()
            seen.add(cid)
            if cid not in kept_calls:
                if limit is not None and len(kept_calls) >= limit:
                    continue
                kept_calls.add(cid)
            out.write(h)
            out.write(data)
            kept += 1
    if dst is None:
        print(read, len(seen))
        return
    print(f"kept {kept} packets of {len(kept_calls)} calls "
          f"(read {read} packets, {len(seen)} calls)", file=sys.stderr)
    if len(kept_calls) < limit:
        sys.exit(f"{src}: only {len(kept_calls)} calls, {limit} wanted")


if __name__ == "__main__":
    main()
