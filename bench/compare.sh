#!/usr/bin/env bash
# sipflow against sngrep, tshark and ripgrep on the same inputs, and the performance issue's
# targets, in one run. Prints a plain table, then a ready-to-paste Markdown section for
# docs/performance.md (also written to target/bench/compare/compare.md).
#
#   bench/compare.sh
#
# The floor (bench/floor, built here with cargo) is the minimal streaming scanner of the
# performance issue: sipflow's times are also printed as a ratio to it, in the same run.
# Inputs (generated when missing, under target/bench/, never committed):
#   - target/bench/sipp-50000.pcap: 50,000 SIPp calls, 300,000 packets (bench/gen-sipp-pcap.sh)
#   - target/bench/sipp-50000.first5000.pcap: its first 5,000 calls (for tshark, whose SIP
#     analysis is quadratic, and for the linear-scaling check)
#   - target/bench/calls-50000.log: fixtures/basic-call/caller.log's call repeated 50,000 times
#     (fixtures/derive/derive.py many), about 267 MB
# Every command runs RUNS times (default 3): wall time is the best run (measured around
# /usr/bin/time -v), peak RSS the largest "Maximum resident set size" of the runs.
#
# Needs 2+ cores; installs with apt-get (sudo when not root) what is missing: sip-tester,
# tcpdump, sngrep, tshark (debconf preseeded: no setuid dumpcap), ripgrep, time, python3.
# sipflow under test: by default the working tree (cargo build --release; the figures are
# labelled with HEAD, plus a note when src/ has uncommitted changes); REV=<commit> builds that
# commit from `git archive` in target/bench/rev-<commit>/ instead; SIPFLOW=<binary> uses a
# given binary (label it with SIPFLOW_COMMIT=...).
# Environment: CALLS (50000), CUT (5000), COPIES (50000), RUNS (3), REV, SIPFLOW, SIPFLOW_COMMIT.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

CALLS=${CALLS:-50000}
CUT=${CUT:-5000}
COPIES=${COPIES:-50000}
RUNS=${RUNS:-3}
B=target/bench
OUT=$B/compare
PCAP=$B/sipp-$CALLS.pcap
SMALL=$B/sipp-$CALLS.first$CUT.pcap
LOG=$B/calls-$COPIES.log
mkdir -p "$OUT"

cores=$(nproc)
if [ "$cores" -lt 2 ]; then
    echo "compare.sh: needs at least 2 cores (this machine has $cores)" >&2
    exit 1
fi

need_cmd python3 python3
need_cmd sipp sip-tester
need_cmd tcpdump tcpdump
need_cmd sngrep sngrep
need_cmd tshark tshark
need_cmd rg ripgrep
need_cmd /usr/bin/time time

# ---- the sipflow under test ----------------------------------------------------------------
dirty=""
if [ -n "${SIPFLOW:-}" ]; then
    SF=$SIPFLOW
    commit=${SIPFLOW_COMMIT:-"unknown ($SIPFLOW)"}
elif [ -n "${REV:-}" ]; then
    # a clean build of that commit, in its own directory (the working tree is not used)
    commit=$(git rev-parse --short "$REV^{commit}")
    rev_dir=$B/rev-$commit
    if [ ! -x "$rev_dir/target/release/sipflow" ]; then
        echo "building sipflow at $commit in $rev_dir" >&2
        rm -rf "$rev_dir/tree"
        mkdir -p "$rev_dir/tree"
        git archive "$commit" | tar -x -C "$rev_dir/tree"
        (cd "$rev_dir/tree" && CARGO_TARGET_DIR=../target cargo build --release --locked --quiet)
    fi
    SF=$rev_dir/target/release/sipflow
else
    cargo build --release --locked --quiet
    SF=target/release/sipflow
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git status --porcelain -- src 2>/dev/null)" ]; then
        dirty=" + uncommitted changes in src/"
    fi
fi

# ---- the floor: the minimal streaming scanner (bench/floor), built like sipflow ------------------
(cd bench/floor && CARGO_TARGET_DIR=../../target/floor cargo build --release --locked --quiet)
FLOOR=target/floor/release/sipflow-floor

# ---- inputs -------------------------------------------------------------------------------
if [ ! -s "$PCAP" ]; then
    echo "generating $PCAP (bench/gen-sipp-pcap.sh $CALLS)" >&2
    CUT=$CUT bench/gen-sipp-pcap.sh "$CALLS" "$PCAP"
fi
if [ ! -s "$SMALL" ]; then
    python3 bench/cut-calls.py "$PCAP" "$SMALL" "$CUT"
fi
if [ ! -s "$LOG" ]; then
    echo "generating $LOG (derive.py many, $COPIES copies)" >&2
    python3 fixtures/derive/derive.py many fixtures/basic-call/caller.log "$LOG" --copies "$COPIES"
fi
read -r PK_BIG CALLS_BIG < <(python3 bench/cut-calls.py --count "$PCAP")
read -r PK_SMALL CALLS_SMALL < <(python3 bench/cut-calls.py --count "$SMALL")
PCAP_BYTES=$(stat -c %s "$PCAP")
SMALL_BYTES=$(stat -c %s "$SMALL")
LOG_BYTES=$(stat -c %s "$LOG")

# ---- the machine and what else runs on it ---------------------------------------------------
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
ram=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(. /etc/os-release && echo "$PRETTY_NAME")
kernel=$(uname -r)
day=$(date +%Y-%m-%d)
# processes using the CPU right now (other than this script), e.g. a fuzzer
load() {
    ps -eo pid=,ni=,pcpu=,comm= --sort=-pcpu | awk -v me=$$ '$3 >= 20 && $1 != me {
        printf "%s%s (pid %s, nice %s, %s%% CPU)", sep, $4, $1, $2, $3; sep = ", " }'
}
busy=$(load)
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
version() { "$@" 2>/dev/null | head -n 1 || true; }
versions="$(version sngrep -V); $(version tshark -v | sed 's/ (Git.*//'); $(version rg --version)"
versions="$versions; $(sipp -v 2>&1 | grep -o 'SIPp v[0-9.]*' || true)"

# ---- measuring ----------------------------------------------------------------------------
declare -A WALL RSS RC
# measure KEY OK-EXIT-CODES CMD...: RUNS runs; stdout of the last run in $OUT/KEY.out
measure() {
    local key=$1 okrc=$2 i s w m rc
    shift 2
    WALL[$key]="" RSS[$key]=0 RC[$key]=0
    for i in $(seq 1 "$RUNS"); do
        rc=0
        s=$(now)
        /usr/bin/time -v -o "$OUT/$key.time" "$@" >"$OUT/$key.out" 2>"$OUT/$key.err" || rc=$?
        w=$(elapsed3 "$s")
        m=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$OUT/$key.time")
        [[ ",$okrc," == *",$rc,"* ]] || RC[$key]=$rc
        if [ -z "${WALL[$key]}" ] || awk -v a="$w" -v b="${WALL[$key]}" 'BEGIN { exit !(a < b) }'; then
            WALL[$key]=$w
        fi
        [ "${m:-0}" -gt "${RSS[$key]}" ] && RSS[$key]=$m
    done
    printf '  %-14s best %7.3f s  peak RSS %8.1f MiB%s\n' "$key" "${WALL[$key]}" \
        "$(awk -v k="${RSS[$key]}" 'BEGIN { print k / 1024 }')" \
        "$([ "${RC[$key]}" = 0 ] || echo "  EXIT ${RC[$key]}: $(tail -n 2 "$OUT/$key.err" | tr '\n' ' ')")" >&2
}
elapsed3() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.3f", e - s }'; }

echo "measuring, best of $RUNS (load now: $loadavg${busy:+; busy: $busy})" >&2
measure check     0,1 "$SF" check "$PCAP"
measure report    0   "$SF" report -o "$OUT/report.html" "$PCAP"
measure calls     0   "$SF" calls "$PCAP"
measure sngrep    0   sngrep -I "$PCAP" -N -q -l $(( CALLS_BIG * 2 ))
measure check5k   0,1 "$SF" check "$SMALL"
measure tshark5k  0   tshark -r "$SMALL" -Y sip -T fields -e sip.Call-ID
measure rg        0   rg -c 'end msg' "$LOG"
measure checklog  0,1 "$SF" check "$LOG"
measure floor     0   "$FLOOR" "$PCAP"
measure concise   0,1 "$SF" check --format concise "$PCAP"
measure floorlog  0   "$FLOOR" "$LOG"
measure conclog   0,1 "$SF" check --format concise "$LOG"
busy_after=$(load)

# what each command found (a sanity check that they all read the whole input)
summary_check() { tail -n 1 "$OUT/$1.out" | sed 's/.*; //'; }
found_check=$(summary_check check)
found_check5k=$(summary_check check5k)
found_checklog=$(summary_check checklog)
found_report="$(stat -c %s "$OUT/report.html" 2>/dev/null || echo 0) bytes of HTML"
found_calls="$(grep -cE '^[0-9]+ {2,}' "$OUT/calls.out" || true) call rows"
# sngrep -q prints nothing: one more (untimed) run without -q shows its dialog count
found_sngrep="$(sngrep -I "$PCAP" -N -l $(( CALLS_BIG * 2 )) 2>/dev/null | tr '\r' '\n' |
    grep -o 'Dialog count: [0-9]*' | tail -n 1 | sed 's/Dialog count: //') dialogs"
found_tshark="$(grep -c . "$OUT/tshark5k.out" || true) SIP rows"
found_rg="$(cat "$OUT/rg.out") matching lines"
# the floor's counts: messages and calls
floor_found() { sed -E 's/.*bytes, ([0-9]+) SIP messages.*, ([0-9]+) calls .*/\1 messages, \2 calls/' "$OUT/$1.out"; }
found_floor=$(floor_found floor)
found_floorlog=$(floor_found floorlog)
found_concise="$(wc -l <"$OUT/concise.out") finding lines"
found_conclog="$(wc -l <"$OUT/conclog.out") finding lines"

# ---- figures ------------------------------------------------------------------------------
f() { awk "BEGIN { printf \"$1\", $2 }"; }
mib() { f '%.0f MiB' "${RSS[$1]} / 1024"; }
secs() { f '%.3f s' "${WALL[$1]}"; }
us_per_pkt() { f '%.1f µs/packet' "${WALL[$1]} * 1e6 / $2"; }
mbps() { f '%.0f MB/s' "$LOG_BYTES / 1e6 / ${WALL[$1]}"; }
ratio() { f '%.2f' "$1"; }
status() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "not met"; fi; }

mb() { f '%.0f MB' "$1 / 1e6"; }
pcap_desc="SIPp pcap, $CALLS_BIG calls, $PK_BIG packets, $(mb "$PCAP_BYTES")"
small_desc="its first $CALLS_SMALL calls, $PK_SMALL packets, $(mb "$SMALL_BYTES")"
log_desc="pjsip log, $COPIES copies of basic-call, $(mb "$LOG_BYTES")"

r_sngrep=$(ratio "${WALL[check]} / ${WALL[sngrep]}")
r_sngrep_calls=$(ratio "${WALL[calls]} / ${WALL[sngrep]}")
r_sngrep_rss=$(ratio "${RSS[check]} / ${RSS[sngrep]}")
pp_check=$(f '%.3f' "${WALL[check]} * 1e6 / $PK_BIG")
pp_check5k=$(f '%.3f' "${WALL[check5k]} * 1e6 / $PK_SMALL")
pp_tshark=$(f '%.3f' "${WALL[tshark5k]} * 1e6 / $PK_SMALL")
r_tshark=$(ratio "$pp_check / $pp_tshark")
r_tshark_same=$(ratio "$pp_check5k / $pp_tshark")
r_rg=$(f '%.4f (1/%.0f)' "${WALL[rg]} / ${WALL[checklog]}, ${WALL[checklog]} / ${WALL[rg]}")
r_scale=$(ratio "${WALL[check]} / ${WALL[check5k]}")
r_floor=$(f '%.1f' "${WALL[check]} / ${WALL[floor]}")
r_floor_concise=$(f '%.1f' "${WALL[concise]} / ${WALL[floor]}")
r_floor_log=$(f '%.1f' "${WALL[checklog]} / ${WALL[floorlog]}")
r_floor_conclog=$(f '%.1f' "${WALL[conclog]} / ${WALL[floorlog]}")
calls_ratio=$(ratio "$CALLS_BIG / $CALLS_SMALL")

t_wall=$(status "${WALL[check]} <= 0.3")
t_rss=$(status "${RSS[check]} <= 64 * 1024")
t_rss_log=$(status "${RSS[checklog]} <= 64 * 1024")
t_report=$(status "${WALL[report]} <= 1")
t_scale=$(status "${WALL[check]} / ${WALL[check5k]} <= 11")

failed=""
for k in "${!RC[@]}"; do [ "${RC[$k]}" = 0 ] || failed="$failed $k(exit ${RC[$k]})"; done

md=$OUT/compare.md
{
echo "### Measured $day on commit \`$commit\`$dirty"
echo
echo "Machine: $cores cores, $cpu, $ram RAM, $os (Linux $kernel). Best of $RUNS runs;"
echo "peak RSS is the largest of the runs. Load average before the runs: $loadavg."
if [ -n "$busy$busy_after" ]; then
    echo "**Other processes were using the CPU:** ${busy:-none at the start}${busy_after:+; at the end: $busy_after}."
else
    echo "No other process was using the CPU."
fi
echo "Versions: $versions."
[ -z "$failed" ] || echo "**Commands that failed:**$failed (see target/bench/compare/*.err)."
echo
echo "| command | input | wall (best) | peak RSS | per unit | output |"
echo "|---|---|---:|---:|---:|---|"
echo "| \`sipflow check\` | $pcap_desc | $(secs check) | $(mib check) | $(us_per_pkt check "$PK_BIG") | $found_check |"
echo "| \`sipflow report -o FILE\` | the same | $(secs report) | $(mib report) | $(us_per_pkt report "$PK_BIG") | $found_report |"
echo "| \`sipflow calls\` | the same | $(secs calls) | $(mib calls) | $(us_per_pkt calls "$PK_BIG") | $found_calls |"
echo "| \`sngrep -I FILE -N -q -l $(( CALLS_BIG * 2 ))\` | the same | $(secs sngrep) | $(mib sngrep) | $(us_per_pkt sngrep "$PK_BIG") | $found_sngrep |"
echo "| \`sipflow check\` | $small_desc | $(secs check5k) | $(mib check5k) | $(us_per_pkt check5k "$PK_SMALL") | $found_check5k |"
echo "| \`tshark -r FILE -Y sip -T fields -e sip.Call-ID\` | the same | $(secs tshark5k) | $(mib tshark5k) | $(us_per_pkt tshark5k "$PK_SMALL") | $found_tshark |"
echo "| \`rg -c 'end msg'\` | $log_desc | $(secs rg) | $(mib rg) | $(mbps rg) | $found_rg |"
echo "| \`sipflow check\` | the same | $(secs checklog) | $(mib checklog) | $(mbps checklog) | $found_checklog |"
echo "| floor (\`bench/floor\`) | $pcap_desc | $(secs floor) | $(mib floor) | $(us_per_pkt floor "$PK_BIG") | $found_floor |"
echo "| \`sipflow check --format concise\` | the same | $(secs concise) | $(mib concise) | $(us_per_pkt concise "$PK_BIG") | $found_concise |"
echo "| floor (\`bench/floor\`) | $log_desc | $(secs floorlog) | $(mib floorlog) | $(mbps floorlog) | $found_floorlog |"
echo "| \`sipflow check --format concise\` | the same | $(secs conclog) | $(mib conclog) | $(mbps conclog) | $found_conclog |"
echo
echo "Ratios of times: below 1 sipflow is faster. The throughput ratio: above 1 sipflow is faster."
echo
echo "| ratio | value |"
echo "|---|---:|"
echo "| sipflow check / sngrep, wall, $CALLS_BIG-call pcap | ${r_sngrep}× |"
echo "| sipflow calls / sngrep, wall, $CALLS_BIG-call pcap | ${r_sngrep_calls}× |"
echo "| sipflow check / sngrep, peak RSS | ${r_sngrep_rss}× |"
echo "| sipflow check ($CALLS_BIG calls) / tshark ($CALLS_SMALL calls), time per packet | ${r_tshark}× |"
echo "| sipflow check / tshark, time per packet, both on the $CALLS_SMALL-call cut | ${r_tshark_same}× |"
echo "| sipflow check throughput / rg throughput, pjsip log | ${r_rg} |"
echo "| sipflow check time, $CALLS_BIG calls / $CALLS_SMALL calls (${calls_ratio}× the calls) | ${r_scale}× |"
echo "| sipflow check / floor, wall, $CALLS_BIG-call pcap | ${r_floor}× |"
echo "| sipflow check --format concise / floor, wall, $CALLS_BIG-call pcap | ${r_floor_concise}× |"
echo "| sipflow check / floor, wall, pjsip log | ${r_floor_log}× |"
echo "| sipflow check --format concise / floor, wall, pjsip log | ${r_floor_conclog}× |"
echo
echo "| target (issue 15) | measured | |"
echo "|---|---:|---|"
echo "| \`sipflow check\` on the $CALLS_BIG-call pcap ≤ 0.3 s wall | $(secs check) | $t_wall |"
echo "| \`sipflow check\` on the $CALLS_BIG-call pcap ≤ 64 MiB peak RSS | $(mib check) | $t_rss |"
echo "| \`sipflow check\` on the pjsip log ≤ 64 MiB peak RSS | $(mib checklog) | $t_rss_log |"
echo "| \`sipflow report\` on the $CALLS_BIG-call pcap ≤ 1 s | $(secs report) | $t_report |"
echo "| linear scaling: ${calls_ratio}× the calls ≤ 11× the time | ${r_scale}× | $t_scale |"
echo "| \`sipflow check\` on the $CALLS_BIG-call pcap ≤ 4× the floor | ${r_floor}× | $(status "${WALL[check]} <= 4 * ${WALL[floor]}") |"
echo "| \`sipflow check\` on the pjsip log ≤ 5× the floor | ${r_floor_log}× | $(status "${WALL[checklog]} <= 5 * ${WALL[floorlog]}") |"
} >"$md"

if command -v column >/dev/null; then
    echo >&2
    grep '^| ' "$md" | grep -v '^|---' | sed 's/^| //; s/ |$//; s/ | /|/g' | column -t -s '|' >&2
    echo >&2
fi
echo "----- Markdown for docs/performance.md (also in $md) -----"
cat "$md"
[ -z "$failed" ]
