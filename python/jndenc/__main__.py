"""``python -m jndenc ARGS``: the ``jndenc`` command line (a drop-in ``cjpeg``), the same program as the
binary, run inside the installed extension. ``jndenc --help`` lists the switches."""

import sys

from ._jndenc import main as _main


def run() -> None:
    """The ``jndenc`` console script of the wheel."""
    sys.stdout.flush()
    sys.exit(_main(["jndenc", *sys.argv[1:]]))


if __name__ == "__main__":
    run()
