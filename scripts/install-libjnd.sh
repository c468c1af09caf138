#!/bin/sh
# Builds libjnd (release) and installs the shared and static libraries, the header and jnd.pc.
#
#   scripts/install-libjnd.sh [PREFIX]        # default PREFIX: /usr/local
#   cc app.c $(PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs jnd)
#
# DESTDIR is honoured for staging (DESTDIR=/tmp/stage scripts/install-libjnd.sh /usr).
set -eu
prefix=${1:-/usr/local}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release --locked -p ffi
target=${CARGO_TARGET_DIR:-$root/target}/release
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
dest=${DESTDIR:-}$prefix
install -d "$dest/lib" "$dest/include" "$dest/lib/pkgconfig"
install -m 0755 "$target/libjnd.so" "$dest/lib/libjnd.so"
install -m 0644 "$target/libjnd.a" "$dest/lib/libjnd.a"
install -m 0644 ffi/include/jnd.h "$dest/include/jnd.h"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" ffi/jnd.pc.in > "$dest/lib/pkgconfig/jnd.pc"
echo "installed libjnd $version under $dest"
