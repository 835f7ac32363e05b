#!/bin/sh
# Regenerates the rpm databases of this directory with real rpm tools
# (Debian: apt-get install rpm db5.3-util sqlite3 python3).
#
# rpmbuild builds three tiny packages (openssl-libs is a subpackage, so its
# source RPM is openssl's), rpm installs them with --justdb into a scratch
# root, and the resulting rpmdb.sqlite is kept. Debian's rpm 4.18 writes
# only sqlite databases, so the Berkeley DB file is made by db5.3_load from
# the very header blobs rpm stored in sqlite (the BDB backend stores the
# same blobs, keyed by header number).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/SPECS"
cat > "$work/SPECS/openssl.spec" <<'SPEC'
Name: openssl
Version: 3.0.7
Release: 24.el9
Epoch: 1
Summary: Utilities from the general purpose cryptography library with TLS implementation
License: ASL 2.0
BuildArch: x86_64
%description
Test package built by dockvet's testdata generator.
%package libs
Summary: A general purpose cryptography library with TLS implementation
License: Apache-2.0
%description libs
Test subpackage: its source RPM is openssl.
%files
%files libs
SPEC
cat > "$work/SPECS/bash.spec" <<'SPEC'
Name: bash
Version: 5.1.8
Release: 6.el9_1
Summary: The GNU Bourne Again shell
License: GPLv3+
BuildArch: x86_64
%description
Test package built by dockvet's testdata generator.
%files
SPEC
for s in "$work"/SPECS/*.spec; do
	rpmbuild --quiet --define "_topdir $work" -bb "$s"
done
rpm --define "_db_backend sqlite" --root "$work/root" --dbpath /var/lib/rpm --initdb
rpm --define "_db_backend sqlite" --root "$work/root" --dbpath /var/lib/rpm \
	--justdb --nodeps --noscripts --ignorearch -i "$work"/RPMS/*/*.rpm 2>/dev/null
db="$work/root/var/lib/rpm/rpmdb.sqlite"
sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
gzip -9 -n -c "$db" > "$here/rpmdb.sqlite.gz"
python3 - "$db" > "$work/packages.txt" <<'PY'
import sqlite3, struct, sys
con = sqlite3.connect(sys.argv[1])
for hnum, blob in con.execute("select hnum, blob from Packages order by hnum"):
    for b in (struct.pack("<I", hnum), blob):
        sys.stdout.write("".join("\\%02x" % c for c in b) + "\n")
PY
db5.3_load -T -t hash -c db_pagesize=4096 -f "$work/packages.txt" "$work/Packages"
gzip -9 -n -c "$work/Packages" > "$here/Packages.bdb.gz"
