#!/bin/sh
# Benchmarks of `dockvet authz`'s decisions: the median and 99th percentile
# of a container create (a typical `docker run` body, no signature checks)
# and of a GET, as the Engine sees them (one plugin request over a Unix
# socket: HTTP, JSON, the decision and its log line), and of the decision
# alone in process. The Engine waits for every answer; a create must stay
# well under 5 ms at the median.
#
# This machine (2 shared vCPUs, Go 1.26, other builds running), COUNT=3:
#   over the socket  create p50 110-114 µs, p99 1.2-1.3 ms; GET p50 25-27 µs, p99 0.22-0.25 ms
#   in process       create p50 64-68 µs,  p99 0.44-0.54 ms; GET p50 1.7 µs,  p99 9 µs
set -eu
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'BenchmarkAuthz|BenchmarkDecide' -benchtime "${BENCHTIME:-2s}" -count "${COUNT:-1}" ./internal/authz
