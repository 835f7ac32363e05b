#!/bin/sh
# Regenerates rust-app: a tiny static ELF program (gcc) carrying a
# cargo-auditable dependency list in its .dep-v0 section (objcopy), in the
# format cargo-auditable writes: zlib-compressed JSON
# (https://github.com/rust-secure-code/cargo-auditable/blob/master/PARSING.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/main.c" <<'C'
void _start(void) { __asm__ volatile("mov $60, %%eax\n\txor %%edi, %%edi\n\tsyscall" ::: "memory"); }
C
gcc -nostdlib -static -Os -s -o "$work/main" "$work/main.c"
cat > "$work/deps.json" <<'JSON'
{"packages":[{"name":"rust-app","version":"0.1.0","source":"local","dependencies":[1,2,3],"root":true},{"name":"cc","version":"1.0.83","source":"crates.io","kind":"build"},{"name":"smallvec","version":"1.6.0","source":"crates.io"},{"name":"time","version":"0.1.45","source":"crates.io","dependencies":[4]},{"name":"libc","version":"0.2.150","source":"crates.io"}]}
JSON
python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1], "rb").read().strip(), 9))' "$work/deps.json" > "$work/deps.z"
objcopy --add-section .dep-v0="$work/deps.z" --set-section-flags .dep-v0=noload,readonly "$work/main" "$here/rust-app"
chmod 755 "$here/rust-app"
