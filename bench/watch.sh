#!/bin/sh
# Burst benchmark of `dockvet watch` against the local Engine: builds
# dockvet, runs `dockvet watch --format json` as its own process, measures
# its CPU and RSS idle, starts 100 containers from eight goroutines as fast
# as the Engine takes them, and waits until every container's findings
# have been read from watch's standard output. Reports, per container, the
# time from the Engine's start event (and create event) to its first and
# to its last finding on the sink (median and 99th percentile), and
# watch's CPU and peak RSS over the burst. Everything it starts is removed.
#   bench/watch.sh            COUNT=3 bench/watch.sh
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/dockvet-bench-watch.XXXXXX)
trap 'rm -rf "$work"' EXIT
go build -o "$work/dockvet" ./cmd/dockvet
DOCKVET_WATCH_BIN="$work/dockvet" go test ./internal/watch -run '^$' -bench '^BenchmarkBurst$' -benchtime 1x -count "${COUNT:-1}" -timeout 20m -v
