#!/bin/sh
# Vulnerability database benchmarks (issue 5): import 300,000 generated OSV
# records (time, database size), then match 2,000 packages against them
# with the database open. The generated export and databases are kept in
# DOCKVET_BENCH_DIR (default /tmp/dockvet-bench); delete it to start over.
set -eu
cd "$(dirname "$0")/.."
go test ./internal/vulndb -run '^$' -bench 'Import300k' -benchtime 1x "$@"
go test ./internal/vulndb -run '^$' -bench 'Match2000' -benchtime 20x -count 3 "$@"
