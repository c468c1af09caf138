#!/usr/bin/env bash
# The Python package's check, as CI runs it: builds the abi3 wheel with maturin (dev profile, the
# profile of the `jndenc` binary the bytes are compared with), installs it in a fresh virtual
# environment with the test dependencies only, and runs python/tests against target/debug/jndenc
# (build it first: `cargo build -p encoder`, or `cargo test`).
set -euo pipefail
cd "$(dirname "$0")/.."
build=target/python/build-venv
test=target/python/test-venv
wheels=target/python/wheels
[ -x "$build/bin/maturin" ] || { python3 -m venv "$build" && "$build/bin/pip" install -q "maturin>=1.9,<2"; }
rm -rf "$wheels" "$test"
"$build/bin/maturin" build --quiet --locked --profile dev --auditwheel skip --features heif -m python/Cargo.toml --out "$wheels"
python3 -m venv "$test"
"$test/bin/pip" install -q "$wheels"/jndenc-*.whl "pytest>=7" "pillow>=9" "dask[distributed]>=2023.1"
export JNDENC_BIN="${JNDENC_BIN:-$PWD/target/debug/jndenc}"
python="$PWD/$test/bin/python"
# Run from the tests' folder, so `import jndenc` is the installed wheel, not python/jndenc.
cd python/tests
"$python" -m pytest -q -p no:cacheprovider .
