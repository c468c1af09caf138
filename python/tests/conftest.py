"""Shared fixtures: the repository's test images and the `jndenc` binary the bytes are compared with."""

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"


def cli_binary() -> pathlib.Path:
    """`JNDENC_BIN`, else the debug binary `cargo test` builds (the profile the wheel is built in)."""
    path = pathlib.Path(os.environ.get("JNDENC_BIN", ROOT / "target" / "debug" / "jndenc"))
    if not path.exists():
        pytest.fail(f"{path} does not exist: build it (cargo build -p encoder) or set JNDENC_BIN")
    return path


@pytest.fixture(scope="session")
def jndenc_cli():
    """Runs the command with `args`; returns (exit status, stdout bytes, stderr text)."""
    binary = cli_binary()

    def run(*args, stdin=None):
        done = subprocess.run([str(binary), *map(str, args)], input=stdin, capture_output=True, timeout=600)
        return done.returncode, done.stdout, done.stderr.decode()

    return run


@pytest.fixture(scope="session")
def photo_path():
    return FIXTURES / "photo.png"


@pytest.fixture(scope="session")
def photo_bytes(photo_path):
    return photo_path.read_bytes()
