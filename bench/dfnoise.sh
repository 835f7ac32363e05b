#!/usr/bin/env bash
# Noise of the Dockerfile rules on real files: audit every Dockerfile under
# the given directories with one dockvet binary, then print findings per
# file (all, and at medium or above), per severity and per rule, and with
# SAMPLE=N a rule-stratified sample of N findings with their lines, for
# classifying them by reading.
#
#   bench/dfnoise.sh DIR…                     # builds ./cmd/dockvet
#   DOCKVET=/tmp/dockvet-old bench/dfnoise.sh DIR…   # another binary, same files
#   SAMPLE=120 SEED=1 bench/dfnoise.sh DIR…
#
# The directories are public repositories checked out at measurement time
# (docker-library images, nginx, jenkins, …; docs/agreement.md lists the set
# and the figures); nothing of them is committed. A file BuildKit refuses
# (a template) is reported on stderr and left out, as dockvet leaves it out.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: bench/dfnoise.sh DIR…" >&2; exit 2; }
dirs=()
for d in "$@"; do dirs+=("$(realpath "$d")"); done
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/dockvet-dfnoise.XXXXXX)
trap 'rm -rf "$work"' EXIT
bin=${DOCKVET:-}
if [ -z "$bin" ]; then
  go build -o "$work/dockvet" ./cmd/dockvet
  bin=$work/dockvet
fi
# The defaults, not this repository's .dockvet.yaml (its trusted
# registries would judge other people's files by our policy).
printf '# defaults\n' > "$work/dockvet.yaml"
# Exit code 2 means some file could not be read; the report still holds
# every file that could.
"$bin" dockerfile "${dirs[@]}" --format json --fail-on none --quiet --offline --no-progress \
  --config "$work/dockvet.yaml" \
  --output "$work/report.json" || [ $? -eq 2 ]
go run ./bench/dfstats -sample "${SAMPLE:-0}" -seed "${SEED:-1}" "$work/report.json"
