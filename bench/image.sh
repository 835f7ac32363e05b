#!/usr/bin/env bash
# Image walk benchmark: generates (once) a synthetic image of about 1.1 GiB
# in 10 layers under $DOCKVET_BENCH_DIR (default: the temporary directory),
# then measures
#   floor      time to merely inflate and read every layer
#   dockvet    time of the walk with every image rule on
#   ratio      dockvet / floor, by wall time and by CPU time (best of N runs,
#              alternated, so that other load on the machine distorts least)
#   secrets    the same walk with the secret scan on, and its ratio to the
#              walk without it
#   reads      how often each layer was read (must be 1)
#   peak RSS   of `dockvet image` on the same image, as a separate process,
#              with the secret scan on and off (--no-secrets)
# Usage: bench/image.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
out=$(go test -run '^$' -bench '^BenchmarkImage$' -benchtime "${runs}x" -timeout 60m ./internal/image)
echo "$out" | grep -E '^(Benchmark|goos|goarch|cpu)' || { echo "$out"; exit 1; }
metric() { echo "$out" | grep -oE "[0-9.]+ $1" | head -1 | cut -d' ' -f1; }
cat <<REPORT

image:     $(metric image-MiB) MiB of files, ${runs} alternated runs each
floor:     $(metric floor-s) s
dockvet:   $(metric dockvet-s) s   (all image rules)
ratio:     $(metric ratio-wall) wall, $(metric ratio-cpu) CPU   (target <= 1.5)
secrets:   $(metric secrets-s) s   (all image rules and the secret scan)
  on/off:  $(metric secrets-ratio-wall) wall, $(metric secrets-ratio-cpu) CPU   (target <= 1.25)
reads:     $(metric reads/layer) per layer
peak RSS:  $(metric peak-RSS-MiB) MiB with secrets, $(metric no-secrets-peak-RSS-MiB) MiB without   (target <= 150)
REPORT
