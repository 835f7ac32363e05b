#!/bin/sh
# Fleet benchmark of `dockvet server` (issue 16): 1,000 images built from 20
# shared base layers (Debian 12, 120 packages and 300 files each) and one
# small application layer each, pushed to go-containerregistry's registry on
# loopback and indexed by 4 workers; then 10,000 advisories imported and
# every stored inventory re-matched (no image read). Prints images/s,
# layers read from the registry vs reused from the store, how often each
# base layer was read, the database's size, and the re-matching time.
# Runs on SQLite, and on PostgreSQL too when DOCKVET_POSTGRES_URL is set
# (a role that may create databases).
#   bench/fleet.sh            FLEET_IMAGES=200 FLEET_ADVISORIES=2000 bench/fleet.sh
#
# This machine (2 shared vCPUs, load average 2-5), one run each:
#   SQLite:     1,000 images indexed in 7.7 s (129 images/s); layers read
#               1,020, reused 980, each base read once; database 9.6 MiB;
#               10,000 advisories imported in 0.3 s, 1,000 inventories
#               re-matched in 6.8 s (75,000 new vulnerabilities); 93 MiB.
#   PostgreSQL: 15.6 s (64 images/s); the same layers; 16 MiB; re-match
#               6.4 s; 104 MiB.
set -eu
cd "$(dirname "$0")/.."
go test ./internal/fleet -run '^$' -bench '^BenchmarkFleet$' -benchtime 1x -timeout 30m -v "$@"
if [ -n "${DOCKVET_POSTGRES_URL:-}" ]; then
  FLEET_DB=postgres go test ./internal/fleet -run '^$' -bench '^BenchmarkFleet$' -benchtime 1x -timeout 30m -v "$@"
fi
