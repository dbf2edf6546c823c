#!/usr/bin/env bash
# How big the HTML report gets, and how long it takes to write, for large inputs:
# N calls derived from the recorded fixtures/basic-call/caller.log by
# `fixtures/derive/derive.py many` (unique Call-IDs, tags and branches per copy).
#
#   bench/report-scale.sh [N...]        (default: 1000 10000 50000)
#
# Prints, per N: the input size, the report size, bytes per call, and the wall time of
# `sipflow report` (release build). Inputs and reports go to target/bench/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 10000 50000)
cargo build --release --quiet
mkdir -p target/bench
printf '%8s %12s %12s %10s %8s\n' calls input_bytes report_bytes bytes/call seconds
for n in "${counts[@]}"; do
  log=target/bench/calls-$n.log
  html=target/bench/calls-$n.html
  [ -s "$log" ] || python3 fixtures/derive/derive.py many fixtures/basic-call/caller.log "$log" --copies "$n"
  start=$(date +%s.%N)
  ./target/release/sipflow report -o "$html" "$log"
  end=$(date +%s.%N)
  in_bytes=$(stat -c %s "$log")
  out_bytes=$(stat -c %s "$html")
  printf '%8d %12d %12d %10d %8.2f\n' "$n" "$in_bytes" "$out_bytes" $((out_bytes / n)) \
    "$(echo "$end - $start" | bc)"
done
