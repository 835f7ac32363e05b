#!/bin/sh
# Benchmarks of the container surface: Compose loading with the position
# mapper, the rules, `docker run` parsing and finding. Modest run times:
# the machines that run them are shared.
set -eu
cd "$(dirname "$0")/.."
go test -run '^$' -bench . -benchtime "${BENCHTIME:-2s}" -count "${COUNT:-1}" ./internal/compose ./internal/runline
