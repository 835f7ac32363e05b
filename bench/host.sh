#!/bin/sh
# Speed and memory of `dockvet host` on this machine with 20 running
# containers of the benchmark's own (half of them with unsafe settings,
# removed afterwards), plus whatever else runs on the Engine:
#   BenchmarkHostAudit    snapshot + checks in one process (allocations too)
#   BenchmarkHostCommand  the dockvet binary, `host --format json`, wall
#                         clock per run and peak resident memory
# Needs the local Engine. Modest run times: the machine is shared.
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/dockvet-bench-host.XXXXXX)
trap 'rm -rf "$work"' EXIT
go build -o "$work/dockvet" ./cmd/dockvet
DOCKVET_BENCH_BIN="$work/dockvet" go test -run '^$' -bench 'BenchmarkHost(Audit|Command)$' \
  -benchtime "${BENCHTIME:-10x}" -count "${COUNT:-1}" ./internal/host
