#!/bin/sh
# Benchmarks of the live-container audit: inspect data through the rules
# (no Engine), and against the local Engine one container fetched (what
# `watch` does per event) and every running container listed, fetched and
# audited (what `host` does). Modest run times: the machines are shared.
set -eu
cd "$(dirname "$0")/.."
go test -run '^$' -bench . -benchtime "${BENCHTIME:-2s}" -count "${COUNT:-1}" ./internal/live
