#!/bin/sh
# Vulnerability database benchmarks (issue 5): import 300,000 generated OSV
# records (time, database size), then match 2,000 packages against them
# with the database open; then the vulnerability step of an image scan: the
# inventory of a generated image holding 2,000 packages (dpkg, npm, PyPI
# files) taken on the layer walk and matched, and the peak RSS of `dockvet
# image` on it. The generated export, databases and image are kept in
# DOCKVET_BENCH_DIR (default /tmp/dockvet-bench); delete it to start over.
set -eu
cd "$(dirname "$0")/.."
go test ./internal/vulndb -run '^$' -bench 'Import300k' -benchtime 1x "$@"
go test ./internal/vulndb -run '^$' -bench 'Match2000' -benchtime 20x -count 3 "$@"
go test ./internal/vulndb -run '^$' -bench 'Image2000' -benchtime 5x "$@"
