#!/usr/bin/env bash
# Runs the fuzz targets on the stable toolchain. See docs/security.md, "Fuzzing".
#
#   fuzz/run.sh run TARGET [SECONDS]   fuzz one target (default 600 s), niced, one job
#   fuzz/run.sh merge TARGET           minimise corpus/TARGET + work/TARGET (what runs found)
#                                      into corpus/TARGET
#   fuzz/run.sh smoke [SECONDS]        every target briefly (at most SECONDS/4 each, default 60 s
#                                      in all) from the committed corpus; fails on a crash (CI)
#
# `-s none` (no sanitizer) builds on the stable toolchain as it is: only cargo-fuzz's
# sanitizer builds pass nightly-only flags (-Zsanitizer=…; they work on stable with
# RUSTC_BOOTSTRAP=1). sipflow forbids unsafe code, so AddressSanitizer would mostly slow the
# search down; panics, overflow checks, debug assertions, timeouts and the memory limit are
# what fail. New inputs go to fuzz/work/TARGET (ignored by git); the committed corpus is read.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked

targets=(sip_parser pjsip_ingest pcap_ingest html_report)
flags=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

build() { nice -n 10 cargo fuzz build -s none "$@"; }

case "${1:-}" in
  run)
    t="$2"
    secs="${3:-600}"
    build "$t"
    mkdir -p "work/$t"
    # -jobs=1: one worker process, which writes its output to fuzz-0.log.
    rm -f fuzz-0.log
    status=0
    nice -n 10 cargo fuzz run -s none "$t" "work/$t" "corpus/$t" -- \
      "${flags[@]}" -max_total_time="$secs" -jobs=1 || status=$?
    mv fuzz-0.log "work/$t.log"
    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::|^==[0-9]+== ERROR|panicked|SUMMARY' "work/$t.log" || true
    exit "$status"
    ;;
  merge)
    t="$2"
    build "$t"
    rm -rf "work/$t.merged"
    mkdir -p "work/$t.merged" "work/$t"
    # The smallest set of inputs that covers the same edges (hit counts ignored). pjsip logs
    # are cut to 4 KiB: whole logs would make a 5 MB corpus for 10% more features.
    extra=()
    [ "$t" = pjsip_ingest ] && extra=(-max_len=4096)
    nice -n 10 cargo fuzz run -s none "$t" "work/$t.merged" "corpus/$t" "work/$t" -- \
      -set_cover_merge=1 -use_counters=0 "${extra[@]}" "${flags[@]}" 2>&1 |
      grep -E 'MERGE-OUTER: [0-9]+ new files' || true
    rm -rf "corpus/$t"
    mv "work/$t.merged" "corpus/$t"
    echo "corpus/$t: $(find "corpus/$t" -type f | wc -l) files, $(du -sh "corpus/$t" | cut -f1)"
    ;;
  smoke)
    # For CI: from the committed corpus, with a fixed seed and a fixed number of runs (so the
    # same code gives the same run), each target capped at SECONDS/4.
    secs="${2:-60}"
    each=$((secs / ${#targets[@]}))
    build
    for t in "${targets[@]}"; do
      runs=1500
      [ "$t" = sip_parser ] && runs=100000
      echo "== fuzz smoke: $t, $runs runs or ${each}s"
      rm -rf "work/smoke/$t"
      mkdir -p "work/smoke/$t"
      if ! cargo fuzz run -s none "$t" "work/smoke/$t" "corpus/$t" -- \
        "${flags[@]}" -seed=1 -runs="$runs" -max_total_time="$each" >"work/smoke/$t.log" 2>&1; then
        tail -n 60 "work/smoke/$t.log" >&2
        echo "fuzz smoke: $t failed; the input is in fuzz/artifacts/$t/" >&2
        exit 1
      fi
      grep -E '^#[0-9]+[[:space:]]+DONE' "work/smoke/$t.log" || true
    done
    echo "fuzz-smoke: ${#targets[@]} passed, 0 failed"
    ;;
  *)
    sed -n '2,9p' "$0"
    exit 2
    ;;
esac
