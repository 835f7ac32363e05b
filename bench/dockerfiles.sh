#!/usr/bin/env bash
# Dockerfile-audit throughput: generate N typical Dockerfiles, then time one
# dockvet process auditing all of them on one core (GOMAXPROCS=1, and pinned
# to CPU 0 when taskset exists). Prints files per second.
#   bench/dockerfiles.sh [N]      (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
work=$(mktemp -d /tmp/dockvet-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

go build -o "$work/dockvet" ./cmd/dockvet
go run ./bench/gendockerfiles -n "$n" -o "$work/corpus"

pin=()
command -v taskset >/dev/null && pin=(taskset -c 0)
best=""
for run in 1 2 3 4 5; do
  start=$(date +%s.%N)
  GOMAXPROCS=1 "${pin[@]}" "$work/dockvet" dockerfile "$work/corpus" --format json --output "$work/report.json" --fail-on none --quiet
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc -l)
  if [ -z "$best" ] || [ "$(echo "$secs < $best" | bc -l)" = 1 ]; then best=$secs; fi
done
findings=$(grep -c '"ruleId"' "$work/report.json")
printf 'audited %d Dockerfiles (%d findings) in %.3f s (best of 5, 1 core): %.0f files/s\n' \
  "$n" "$findings" "$best" "$(echo "$n / $best" | bc -l)"
