#!/usr/bin/env bash
# Image walk at scale: images of one layer of N small text files (10,000,
# 100,000, 500,000 and 1,000,000 entries, paths like a node_modules tree),
# generated once under $DOCKVET_BENCH_DIR (default: the temporary
# directory). For each, in the same run and alternated so that other load
# on the machine distorts least (best of RUNS):
#   floor     time to merely inflate and read the layer (go run ./bench/genimage floor)
#   dockvet   `dockvet image` with every rule and the secret scan, as its own process
#   ratio     dockvet / floor, wall clock and CPU time
#   RSS       dockvet's peak resident memory (targets: <= 150 MiB at 1,000,000 entries)
# The layer cache is off (--no-cache): this measures the walk.
#   bench/imagescale.sh [RUNS] [N...]      (default 3; 10000 100000 500000 1000000)
# Measured (2 shared vCPUs): 500,000 entries 1.06x the floor by the clock
# at load average ~4 (1.82x in CPU time), 128-132 MiB; 1,000,000 entries
# 137-142 MiB (before: 2.6x and 172 MiB at 500,000, 276 bytes per entry).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 500000 1000000)
base=${DOCKVET_BENCH_DIR:-${TMPDIR:-/tmp}}
work=$(mktemp -d "${TMPDIR:-/tmp}/dockvet-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT
go build -o "$work/dockvet" ./cmd/dockvet
go build -o "$work/genimage" ./bench/genimage

# measure CMD... prints "wall cpu maxrss_kib"
measure() {
  /usr/bin/time -o "$work/time" -f '%e %U %S %M' "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  awk '{printf "%s %.2f %s\n", $1, $2+$3, $4}' "$work/time"
}
min() { awk -v a="$1" -v b="$2" 'BEGIN{print (a==""||b<a)?b:a}'; }

printf '%-10s %9s %9s %9s %11s %9s\n' entries floor-s dockvet-s ratio ratio-cpu RSS-MiB
for n in "${sizes[@]}"; do
  img="$base/dockvet-bench-small-$n"
  [ -f "$img/index.json" ] || "$work/genimage" small "$n" "$img"
  fw="" fc="" dw="" dc="" rss=0
  for _ in $(seq "$runs"); do
    read -r w c _ < <(measure "$work/genimage" floor "$img")
    fw=$(min "$fw" "$w"); fc=$(min "$fc" "$c")
    read -r w c m < <(measure "$work/dockvet" image "oci:$img" --no-cache --format json --config /dev/null --fail-on none --quiet)
    dw=$(min "$dw" "$w"); dc=$(min "$dc" "$c")
    [ "$m" -gt "$rss" ] && rss=$m
  done
  awk -v n="$n" -v fw="$fw" -v fc="$fc" -v dw="$dw" -v dc="$dc" -v rss="$rss" \
    'BEGIN{printf "%-10s %9.2f %9.2f %9.2f %11.2f %9.1f\n", n, fw, dw, dw/fw, dc/fc, rss/1024}'
done
