#!/usr/bin/env bash
# Noise of the Compose rules on real files: audit every Compose file under
# the given directories on its own (as `docker compose -f FILE` reads it),
# with one dockvet binary, then print findings per file and per service,
# the share that say a hardening setting is not set, and per rule.
#
#   bench/composenoise.sh DIR…                          # builds ./cmd/dockvet
#   DOCKVET=/tmp/dockvet-old bench/composenoise.sh DIR… # another binary, same files
#
# The directories are public repositories checked out at measurement time
# (docker/awesome-compose and others; docs/agreement.md lists the set and
# the figures); nothing of them is committed. A file compose-go refuses (an
# include of a missing file, a variable required without a value) is
# counted on stderr and left out.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: bench/composenoise.sh DIR…" >&2; exit 2; }
dirs=()
for d in "$@"; do dirs+=("$(realpath "$d")"); done
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/dockvet-composenoise.XXXXXX)
trap 'rm -rf "$work"' EXIT
bin=${DOCKVET:-}
if [ -z "$bin" ]; then
  go build -o "$work/dockvet" ./cmd/dockvet
  bin=$work/dockvet
fi
printf '# defaults\n' > "$work/dockvet.yaml"
refused=0
while IFS= read -r -d '' f; do
  if ! "$bin" compose "$f" --format json --fail-on none --quiet --offline --no-progress \
      --config "$work/dockvet.yaml" >> "$work/reports.json" 2>/dev/null; then
    refused=$((refused + 1))
  fi
done < <(find "${dirs[@]}" -type f \( -name 'docker-compose*.yml' -o -name 'docker-compose*.yaml' -o -name 'compose*.yml' -o -name 'compose*.yaml' \) -print0 | sort -z)
echo "files refused: $refused" >&2
go run ./bench/dfstats "$work/reports.json"
