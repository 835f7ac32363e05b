#!/bin/sh
# Speed of the secret detection engine alone, on one core, over a generated
# corpus of mixed text (Go source, configuration, minified JavaScript,
# lockfiles, logs) with planted secrets.
#
#   bench/secrets.sh            # 512 MiB corpus under $TMPDIR/dockvet-bench-secrets
#   DOCKVET_BENCH_MIB=1024 bench/secrets.sh
#
# The corpus is generated on the first run (about a minute) and reused; it
# is never committed. BenchmarkEngine scans it from memory (the engine's
# own speed); BenchmarkEngineReader reads each file through ScanReader, as
# an image walker calls it. Besides ns/op and MB/s (wall clock), each
# reports cpu-MiB/s: bytes per second of CPU time, the figure to quote on a
# shared machine, where the wall clock also counts other processes' turns.
# %planted-found is the share of planted secrets the engine found.
set -eu
cd "$(dirname "$0")/.."
: "${DOCKVET_BENCH_MIB:=512}"
export DOCKVET_BENCH_MIB
exec go test ./bench/secrets/ -run '^$' -bench 'BenchmarkEngine' -benchtime "${BENCHTIME:-3x}" -cpu 1 -timeout 60m "$@"
