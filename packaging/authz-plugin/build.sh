#!/bin/sh
# Builds the managed Engine plugin directory for `dockvet authz`:
#   OUT/config.json  (this directory's config.json)
#   OUT/rootfs/      (a static dockvet and the directories it needs)
# then:
#   docker plugin create dockvet/authz OUT && docker plugin enable dockvet/authz
# Usage: packaging/authz-plugin/build.sh [OUT]   (default: build/authz-plugin)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/authz-plugin}
rm -rf "$out"
mkdir -p "$out/rootfs/usr/local/bin" "$out/rootfs/run/docker/plugins" "$out/rootfs/etc/dockvet" \
  "$out/rootfs/var/log/dockvet" "$out/rootfs/etc/ssl/certs" "$out/rootfs/tmp"
chmod 1777 "$out/rootfs/tmp"
# A static binary, whatever GOFLAGS the caller has (-race needs cgo).
(cd "$root" && GOFLAGS= CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$out/rootfs/usr/local/bin/dockvet" ./cmd/dockvet)
# Registry TLS, for --verify and --webhook (network: host then).
for ca in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
  if [ -f "$ca" ]; then cp "$ca" "$out/rootfs/etc/ssl/certs/ca-certificates.crt"; break; fi
done
cp "$here/config.json" "$out/config.json"
echo "$out"
