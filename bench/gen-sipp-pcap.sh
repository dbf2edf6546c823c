#!/usr/bin/env bash
# Generates the benchmark capture: N SIPp calls on loopback, recorded by tcpdump.
#
#   bench/gen-sipp-pcap.sh N [OUT]
#
# OUT defaults to target/bench/sipp-N.pcap (never committed). Also writes the cut that tshark
# gets, the first CUT calls (default 5000) of the same capture, next to it:
# target/bench/sipp-N.first5000.pcap (not when N <= CUT).
#
# SIPp's built-in `uas` (127.0.0.1:UAS_PORT) and `uac` (127.0.0.1:UAC_PORT) scenarios: INVITE,
# 180, 200, ACK, BYE, 200, so 6 UDP packets per call (50,000 calls = 300,000 packets, about
# 138 MB). tcpdump records `udp and (port UAS_PORT or port UAC_PORT)` on lo with the full
# snaplen and a 128 MiB buffer. A run is accepted only if
#   - SIPp's final statistics say SuccessfulCall == N, FailedCall == 0, Retransmissions == 0,
#   - tcpdump reports 0 packets dropped (by the kernel and by the interface),
#   - the capture holds exactly 6 N packets;
# otherwise it is retried at half the rate (3 attempts). Needs root (tcpdump; sudo is used
# when not root); installs sip-tester and tcpdump with apt-get when missing.
#
# Environment: RATE (calls/s, default 2000), LIMIT (simultaneous calls, default 2000),
# UAS_PORT (default 5560), UAC_PORT (default 5561), CUT (default 5000).
#
# Time: 50,000 calls take about 30 s at 2000 calls/s (see docs/performance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

N=${1:?usage: bench/gen-sipp-pcap.sh N [OUT]}
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive integer" >&2; exit 2; }
OUT=${2:-target/bench/sipp-$N.pcap}
RATE=${RATE:-2000}
LIMIT=${LIMIT:-2000}
UAS_PORT=${UAS_PORT:-5560}
UAC_PORT=${UAC_PORT:-5561}
CUT=${CUT:-5000}

need_cmd sipp sip-tester
need_cmd tcpdump tcpdump
need_cmd python3 python3

mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sipflow-gen.XXXXXX")
chmod 755 "$TMP"
PIDS=""
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

cleanup() {
    local p
    for p in $PIDS; do
        kill -0 "$p" 2>/dev/null || continue
        as_root kill -INT "$p" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$p" 2>/dev/null && as_root kill -KILL "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in "$UAS_PORT" "$UAC_PORT"; do
    if ss -Hlun "sport = :$port" | grep -q .; then
        echo "UDP port $port is in use; set UAS_PORT/UAC_PORT" >&2
        exit 1
    fi
done

# sipp_stat <csv> <column>: the last value of a column of SIPp's -trace_stat file (';' separated)
sipp_stat() {
    awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
                           c { v = $c } END { print (v == "" ? "?" : v) }' "$1"
}

# attempt <rate>: one recording; returns 0 when it is complete and clean.
attempt() {
    local rate=$1 budget
    budget=$(( N / rate * 3 + 60 ))
    rm -f "$OUT.part" "$TMP"/*
    local user
    user=$(id -un)
    $SUDO timeout -s INT $(( budget + 30 )) tcpdump -i lo -s 0 -B 131072 -n -Z "$user" \
        -w "$OUT.part" "udp and (port $UAS_PORT or port $UAC_PORT)" 2>"$TMP/tcpdump.err" &
    local cap=$!
    PIDS="$PIDS $cap"
    for _ in $(seq 1 50); do grep -q "listening on" "$TMP/tcpdump.err" && break; sleep 0.1; done
    grep -q "listening on" "$TMP/tcpdump.err" || { cat "$TMP/tcpdump.err" >&2; exit 1; }
    sleep 0.5

    ( cd "$TMP" && exec timeout $(( budget + 10 )) sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" \
        -m "$N" -nostdin -timeout "${budget}s" -trace_stat -stf uas.csv -fd 3600 \
        >uas.screen 2>&1 ) &
    local uas=$!
    PIDS="$PIDS $uas"
    sleep 0.5
    local rc_uac=0 rc_uas=0
    ( cd "$TMP" && exec timeout $(( budget + 10 )) sipp 127.0.0.1:"$UAS_PORT" -sn uac \
        -i 127.0.0.1 -p "$UAC_PORT" -m "$N" -r "$rate" -rp 1000 -l "$LIMIT" -nostdin \
        -timeout "${budget}s" -trace_stat -stf uac.csv -fd 3600 >uac.screen 2>&1 ) || rc_uac=$?
    wait "$uas" || rc_uas=$?
    sleep 0.5
    as_root kill -INT "$cap" 2>/dev/null || true
    wait "$cap" || true

    local ok=1 ok_calls failed retrans captured dropped ifdropped
    ok_calls=$(sipp_stat "$TMP/uac.csv" 'SuccessfulCall(C)')
    failed=$(sipp_stat "$TMP/uac.csv" 'FailedCall(C)')
    retrans=$(sipp_stat "$TMP/uac.csv" 'Retransmissions(C)')
    captured=$(awk '/packets captured/ { print $1 }' "$TMP/tcpdump.err")
    dropped=$(awk '/packets dropped by kernel/ { print $1 }' "$TMP/tcpdump.err")
    ifdropped=$(awk '/packets dropped by interface/ { print $1 }' "$TMP/tcpdump.err")
    echo "rate $rate/s: sipp uac rc=$rc_uac uas rc=$rc_uas, successful $ok_calls, failed $failed," \
        "retransmissions $retrans; tcpdump captured ${captured:-?}, dropped by kernel" \
        "${dropped:-?}, by interface ${ifdropped:-0}" >&2
    [ "$rc_uac" = 0 ] && [ "$rc_uas" = 0 ] || ok=0
    [ "$ok_calls" = "$N" ] && [ "$failed" = 0 ] && [ "$retrans" = 0 ] || ok=0
    [ "${dropped:-x}" = 0 ] && [ "${ifdropped:-0}" = 0 ] || ok=0
    [ "${captured:-x}" = $(( 6 * N )) ] || { echo "expected $(( 6 * N )) packets" >&2; ok=0; }
    if [ "$ok" = 0 ]; then
        tail -n 3 "$TMP"/uac.screen "$TMP"/uas.screen >&2 2>/dev/null || true
        return 1
    fi
    return 0
}

start=$(now)
rate=$RATE
for try in 1 2 3; do
    if attempt "$rate"; then
        mv -f "$OUT.part" "$OUT"
        echo "wrote $OUT: $N calls, $(( 6 * N )) packets, $(stat -c %s "$OUT") bytes," \
            "recorded in $(elapsed "$start") s" >&2
        if [ "$N" -gt "$CUT" ]; then
            cut=${OUT%.pcap}.first$CUT.pcap
            python3 bench/cut-calls.py "$OUT" "$cut" "$CUT"
            echo "wrote $cut ($(stat -c %s "$cut") bytes)" >&2
        fi
        echo "total $(elapsed "$start") s" >&2
        exit 0
    fi
    rm -f "$OUT.part"
    [ "$try" = 3 ] && break
    rate=$(( rate / 2 > 0 ? rate / 2 : 1 ))
    echo "retrying at $rate calls/s" >&2
done
echo "gen-sipp-pcap: no complete capture of $N calls after 3 attempts" >&2
exit 1
