#!/usr/bin/env bash
# Here (the build machine), before a GPU check: builds jnd-train and jndenc with every backend
# (`--features cuda,wgpu`, release, stripped, xz), packs the shared libraries the GPU machine lacks, and
# fetches the Vulkan loader for wgpu. Everything lands in the git-ignored carry/ and .gl/ folders,
# which the device tool's `carry` takes along. Then, on the GPU machine: scripts/gpu-check.sh.
# See docs/gpu.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p trainer --features cuda,wgpu --bin jnd-train
cargo build --release --locked -p encoder --features cuda,wgpu --bin jndenc
rm -rf carry && mkdir -p carry/lib
for bin in jnd-train jndenc; do
  strip -o "carry/$bin" "target/release/$bin" && xz -9 -T0 "carry/$bin"
done
# Linked libraries outside the base system (libheif, x265, de265, aom, dav1d, numa...).
for bin in jnd-train jndenc; do ldd "target/release/$bin"; done | awk '/=>/ {print $3}' | sort -u \
  | grep -v -E '/(libc|libm|libgcc_s|libstdc\+\+|ld-linux|libpthread|libdl|librt)[.-]' \
  | xargs -r -I{} cp -L {} carry/lib/
tar -C carry -cJf carry/libs.tar.xz lib && rm -r carry/lib
if ! ls .gl/*.deb >/dev/null 2>&1; then
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >> .git/info/exclude
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq && (cd .gl && apt-get $o download libvulkan1 >/dev/null)
fi
du -sh carry .gl
