#!/usr/bin/env bash
# Installs the Debian packages jndenc builds and tests against; does nothing when they are present.
#   libheif-dev       libheif 1.15 headers (HEIF via libheif-rs 0.20 / libheif-sys 1.14)
#   libheif-examples  heif-info, used by the HEIF tests
#   nasm              mozjpeg's SIMD (without it mozjpeg-sys silently builds ~6x slower code)
#   libjpeg-turbo-progs  cjpeg/djpeg, the reference the compatibility tests compare against
#   pkg-config        how libheif-sys finds libheif
#   cmake, g++        jpegli-sys builds libjxl's jpegli (C++) from its bundled sources
#   chromium          headless browser of the HTML report's test (tests/auto.rs)
set -euo pipefail
packages=(libheif-dev libheif-examples nasm libjpeg-turbo-progs pkg-config cmake g++ chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}" >&2
