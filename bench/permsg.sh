#!/usr/bin/env bash
# Allocations and instructions per message: what issue 15's targets count, independent of how
# busy the machine is (wall time is compare.sh's business).
#
#   bench/permsg.sh [INPUT...]        default: 1,000 calls of each benchmark input
#
# For each input: messages read (sipflow's own count), heap allocations per message (heaptrack),
# instructions per message (valgrind --tool=callgrind; SIPFLOW_NO_CALLGRIND=1 skips it), and the
# allocation sites that cost one or more per message. Needs heaptrack and valgrind (Debian
# packages of those names). The sipflow under test: SIPFLOW=<binary> (and SIPFLOW_SYSTEM=<the same
# built with --features system-alloc>, for heaptrack), else the working tree's release builds
# with line tables (built here in target/permsg/).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_cmd heaptrack heaptrack
need_cmd valgrind valgrind
need_cmd python3 python3

B=target/bench
OUT=target/permsg
mkdir -p "$OUT" "$B"
if [ -n "${SIPFLOW:-}" ]; then
    SF=$SIPFLOW
    SF_SYSTEM=${SIPFLOW_SYSTEM:-$SIPFLOW}
else
    # Two builds: heaptrack hooks malloc, so it counts a build with the system allocator
    # (feature system-alloc); callgrind runs the binary as shipped (mimalloc).
    for alloc in system mimalloc; do
        features=()
        [ $alloc = system ] && features=(--features system-alloc)
        CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --locked --quiet \
            "${features[@]}" --target-dir "$OUT/target-$alloc"
    done
    SF=$OUT/target-mimalloc/release/sipflow
    SF_SYSTEM=$OUT/target-system/release/sipflow
fi

if [ $# -eq 0 ]; then
    PCAP=$B/sipp-1000.pcap
    LOG=$B/calls-1000.log
    if [ ! -s "$PCAP" ]; then
        [ -s "$B/sipp-50000.pcap" ] || bench/gen-sipp-pcap.sh
        python3 bench/cut-calls.py "$B/sipp-50000.pcap" "$PCAP" 1000
    fi
    [ -s "$LOG" ] || python3 fixtures/derive/derive.py many fixtures/basic-call/caller.log "$LOG" --copies 1000
    set -- "$PCAP" "$LOG"
fi

printf '%-40s %10s %12s %14s\n' input messages allocs/msg instr/msg
for input in "$@"; do
    name=$(basename "$input")
    msgs=$("$SF" calls --format json "$input" 2>/dev/null |
        python3 -c 'import json,sys; print(sum(i["messages"] for i in json.load(sys.stdin)["inputs"]))')
    rm -f "$OUT/$name.heaptrack"*
    heaptrack -o "$OUT/$name.heaptrack" "$SF_SYSTEM" check --format concise "$input" >/dev/null 2>&1 || true
    heaptrack_print -n 400 -s 400 --print-peaks 0 --print-temporary 0 --print-leaks 0 \
        "$OUT/$name.heaptrack.zst" >"$OUT/$name.allocs.txt" 2>/dev/null
    python3 bench/alloc-sites.py "$OUT/$name.allocs.txt" "$msgs" 40 >"$OUT/$name.sites.txt"
    allocs=$(awk 'NR == 1 { print $3 }' "$OUT/$name.sites.txt")
    instr=-
    if [ -z "${SIPFLOW_NO_CALLGRIND:-}" ]; then
        valgrind --tool=callgrind --callgrind-out-file="$OUT/$name.callgrind" \
            "$SF" check --format concise "$input" >/dev/null 2>"$OUT/$name.valgrind.txt" || true
        ir=$(grep -m1 '^summary:' "$OUT/$name.callgrind" | awk '{ print $2 }')
        instr=$(awk -v i="$ir" -v m="$msgs" 'BEGIN { printf "%.0f", i / m }')
    fi
    printf '%-40s %10s %12s %14s\n' "$name" "$msgs" "$allocs" "$instr"
done
echo
echo "allocation sites (per message): $OUT/*.sites.txt; instructions by function:"
echo "  callgrind_annotate --inclusive=yes $OUT/<input>.callgrind | head -60"
