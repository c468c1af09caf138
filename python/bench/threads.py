"""Threads against one: does encoding release the GIL? Encodes the same pictures with 1, 2 and 4
Python threads side by side in one run and prints a table (wall seconds, pictures per second, the
ratio to one thread). Not a test: these machines are noisy, so read the ratios.

    python python/bench/threads.py [PICTURE ...]   # default: the shared photos, else the fixtures
"""

import pathlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import jndenc

ROOT = pathlib.Path(__file__).resolve().parents[2]


def pictures():
    if len(sys.argv) > 1:
        return [pathlib.Path(p).read_bytes() for p in sys.argv[1:]]
    shared = ROOT.parent / "shared" / "data" / "photos" / "wikipedia"
    if shared.is_dir():
        return [p.read_bytes() for p in sorted(shared.glob("*.png"))[:8]]
    return [(ROOT / "fixtures" / n).read_bytes() for n in ("photo.png", "gray.pgm", "graphic.png", "icc.png")]


def run(threads, work):
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        outputs = list(pool.map(lambda data: jndenc.encode(data, quality=80)[0], work))
    return time.perf_counter() - started, outputs


def main():
    work = pictures() * 2
    run(1, work[:1])  # warm-up: models and codecs loaded
    rows, reference = [], None
    for threads in (1, 2, 4):
        seconds, outputs = run(threads, work)
        reference = reference or outputs
        assert outputs == reference, "threads changed the bytes"
        rows.append((threads, len(work), seconds, len(work) / seconds))
    base = rows[0][3]
    print(f"{'threads':>7} {'pictures':>8} {'seconds':>8} {'pictures/s':>10} {'vs 1 thread':>11}")
    for threads, n, seconds, rate in rows:
        print(f"{threads:>7} {n:>8} {seconds:>8.2f} {rate:>10.2f} {rate / base:>10.2f}x")


if __name__ == "__main__":
    main()
