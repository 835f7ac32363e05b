#!/usr/bin/env bash
# Layer result cache: the performance image (1.1 GiB of files in 10
# layers, generated once under $DOCKVET_BENCH_DIR, default the temporary
# directory) scanned by `dockvet image` as its own process, in one run:
#   floor      time to merely inflate and read every layer
#   cold       a scan with an empty cache (best of RUNS; the cache is emptied before each)
#   warm       the same scan again: no layer is read (target: <= 5 % of cold)
#   same       the cold and warm JSON reports compared byte for byte
#   new build  a dockvet built with another version string scans cold again
#   config     a configuration that changes what the walk records (the secret
#              scan disabled) reads the layers again; a warm run of it does not
#   two        two processes scanning at once with one empty cache directory:
#              both must succeed with identical reports
#   bench/cache.sh [RUNS]     (default 3)
# Measured (2 shared vCPUs, load average 10-15): floor 9.99 s, cold 12.01 s,
# warm 0.32 s (2.7 % of cold), reports identical, another build 8.96 s and a
# configuration without the secret scan 7.67 s (both recomputed), two
# processes at once: both succeeded, identical reports.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
base=${DOCKVET_BENCH_DIR:-${TMPDIR:-/tmp}}
img="$base/dockvet-bench-perf-v2"
work=$(mktemp -d "${TMPDIR:-/tmp}/dockvet-cache.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/dockvet" ./cmd/dockvet
go build -ldflags "-X github.com/dockvet/dockvet/internal/cli.Version=0.0.0-bench" -o "$work/dockvet-other" ./cmd/dockvet
go build -o "$work/genimage" ./bench/genimage
[ -f "$img/index.json" ] || "$work/genimage" perf "$img"

scan() { # BINARY CACHE OUT [CONFIG]
  "$1" image "oci:$img" --cache-dir "$2" --format json --output "$3" --config "${4:-/dev/null}" --fail-on none --quiet
}
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
min() { awk -v a="$1" -v b="$2" 'BEGIN{print (a==""||b<a)?b:a}'; }

floor="" cold="" warm=""
for _ in $(seq "$runs"); do
  floor=$(min "$floor" "$(secs "$work/genimage" floor "$img")")
  rm -rf "$work/cache"
  cold=$(min "$cold" "$(secs scan "$work/dockvet" "$work/cache" "$work/cold.json")")
  warm=$(min "$warm" "$(secs scan "$work/dockvet" "$work/cache" "$work/warm.json")")
done
# Reports are compared apart from the time they were made.
untimed() { grep -v '"time":' "$1"; }
same=no; cmp -s <(untimed "$work/cold.json") <(untimed "$work/warm.json") && same=yes
other=$(secs scan "$work/dockvet-other" "$work/cache" "$work/other.json")
printf 'rules:\n  disable: ["practice:secrets"]\n' > "$work/nosecrets.yaml"
config=$(secs scan "$work/dockvet" "$work/cache" "$work/config.json" "$work/nosecrets.yaml")
configwarm=$(secs scan "$work/dockvet" "$work/cache" "$work/config.json" "$work/nosecrets.yaml")

rm -rf "$work/shared"
scan "$work/dockvet" "$work/shared" "$work/a.json" & a=$!
scan "$work/dockvet" "$work/shared" "$work/b.json" & b=$!
ok=yes
wait $a || ok=no
wait $b || ok=no
two="both succeeded: $ok; identical reports: $(cmp -s <(untimed "$work/a.json") <(untimed "$work/b.json") && echo yes || echo no)"

awk -v f="$floor" -v c="$cold" -v w="$warm" -v o="$other" -v k="$config" -v kw="$configwarm" -v same="$same" -v two="$two" 'BEGIN{
  printf "floor:      %.2f s\n", f
  printf "cold:       %.2f s  (%.2f x the floor)\n", c, c/f
  printf "warm:       %.2f s  (%.1f %% of cold; target <= 5 %%)\n", w, 100*w/c
  printf "same:       %s (cold and warm JSON reports byte for byte, apart from the scan time)\n", same
  printf "new build:  %.2f s  (another version recomputes: %.0f %% of cold)\n", o, 100*o/c
  printf "config:     %.2f s, then %.2f s warm  (secret scan disabled: recomputed, then cached)\n", k, kw
  printf "two:        %s\n", two
}'
