"""Archive-scale batches on a Dask ``distributed`` cluster.

One task per input file: a worker reads the file (a local path, or any URL fsspec opens: ``s3://``,
``gs://``, ...), encodes it with :func:`jndenc.encode` and writes the output atomically next to the
others; the client gathers each file's report and builds the batch report with the command's totals
(the ``--report`` format). The output bytes are those of ``jndenc FILE`` with the same switches.

>>> from distributed import Client
>>> import jndenc.dask
>>> client = Client("tcp://scheduler:8786")   # or LocalCluster() for one machine
>>> report = jndenc.dask.encode_paths(["photos/"], "out/", client=client, report="out/report.html")
>>> report["totals"]["saving_percent"]

Each worker needs the ``jndenc`` wheel installed (``pip install jndenc-*.whl`` in the workers'
environment).
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _jndenc, batch_report, encode
from ._jndenc import ParameterError

__all__ = ["list_inputs", "encode_one", "encode_paths"]

#: File extensions taken from a folder (those of the command's batch mode).
IMAGE_EXTENSIONS: Tuple[str, ...] = tuple(_jndenc.IMAGE_EXTENSIONS)

PathLike = Union[str, "os.PathLike[str]"]


def _is_url(path: str) -> bool:
    return "://" in path


def _is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower().lstrip(".") in IMAGE_EXTENSIONS


def list_inputs(inputs: Iterable[PathLike], *, recursive: bool = False) -> List[Tuple[str, str]]:
    """The files to encode, as ``(input, relative output name without extension)``: folders give their
    image files (sorted, by extension, subfolders with ``recursive``, their relative paths kept),
    files and URLs are taken as they are."""
    jobs: List[Tuple[str, str]] = []
    for item in inputs:
        path = os.fspath(item)
        if not _is_url(path) and os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                if not recursive:
                    dirs.clear()
                for name in sorted(files):
                    if _is_image(name):
                        full = os.path.join(root, name)
                        relative = os.path.relpath(full, path)
                        jobs.append((full, os.path.splitext(relative)[0]))
        else:
            base = posixpath.basename(path.rstrip("/")) if _is_url(path) else os.path.basename(path)
            jobs.append((path, os.path.splitext(base)[0]))
    names = [name for _, name in jobs]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ParameterError(f"two inputs would write the same output: {', '.join(twice)}")
    return jobs


def _read(path: str) -> bytes:
    if _is_url(path):
        import fsspec

        with fsspec.open(path, "rb") as f:
            return f.read()
    with open(path, "rb") as f:
        return f.read()


def _write_atomic(path: str, data: bytes) -> None:
    """Writes ``data`` to ``path`` whole or not at all: a temporary file beside it, then a rename (for
    URLs, the object store's own single put)."""
    if _is_url(path):
        import fsspec

        with fsspec.open(path, "wb") as f:
            f.write(data)
        return
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".jndenc-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def encode_one(path: str, output: Optional[str], options: Dict[str, Any]) -> Dict[str, Any]:
    """One task: reads ``path``, encodes it, writes ``output`` (when given). Returns
    ``{"input", "output", "report"}`` or ``{"input", "error"}``; never raises for a bad input, as the
    command's batch mode goes on past a file it cannot encode."""
    try:
        if output is not None and not _is_url(path) and os.path.abspath(output) == os.path.abspath(path):
            raise ParameterError(f"{path}: the output would overwrite the input")
        data, report = encode(_read(path), name=path, **options)
        if output is not None:
            _write_atomic(output, data)
        report["output"] = output or "-"
        return {"input": path, "output": output, "report": report}
    except Exception as error:  # noqa: BLE001 - reported per file, like the CLI's batch
        return {"input": path, "error": str(error)}


def encode_paths(
    inputs: Union[PathLike, Sequence[PathLike]],
    outdir: Optional[PathLike] = None,
    *,
    client: Any = None,
    report: Optional[PathLike] = None,
    recursive: bool = False,
    **options: Any,
) -> Dict[str, Any]:
    """Encodes files and folders across a Dask cluster; returns the batch report (``images``,
    ``failures``, ``totals``, as ``jndenc --report out.json`` writes it).

    ``outdir`` receives one ``.jpg`` (``.heic`` with ``format="heif"``) per input, folder structure
    kept; without it nothing is written (only the report). ``client`` is a ``distributed.Client``
    (the current one when ``None``); ``report`` also writes the report, as JSON, CSV or HTML by its
    extension. ``options`` are :func:`jndenc.encode`'s (``format``, ``target``, ``distance``,
    ``quality``, ``strip``, ``decider``)."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    extension = "heic" if options.get("format", "jpeg") in ("heif", "heic") else "jpg"
    if report is not None and os.fspath(report).lower().endswith((".html", ".htm")):
        # The HTML report shows crops and JND thumbnails: cut on the workers, beside each encode.
        options = {**options, "visuals": True}
    jobs = list_inputs(inputs, recursive=recursive)
    out = os.fspath(outdir) if outdir is not None else None
    outputs = [
        None if out is None else (posixpath if _is_url(out) else os.path).join(out, f"{name}.{extension}")
        for _, name in jobs
    ]
    if client is None:
        from distributed import get_client

        client = get_client()
    futures = client.map(
        encode_one,
        [path for path, _ in jobs],
        outputs,
        [options] * len(jobs),
        pure=False,
    )
    results = client.gather(futures)
    images = [r["report"] for r in results if "report" in r]
    failures = [(r["input"], r["error"]) for r in results if "error" in r]
    text = batch_report(images, failures, kind="json")
    if report is not None:
        path = os.fspath(report)
        kind = os.path.splitext(path)[1].lower().lstrip(".")
        kind = "html" if kind == "htm" else kind
        if kind not in ("json", "csv", "html"):
            raise ParameterError(f"{path}: a report is .json, .csv or .html")
        body = text if kind == "json" else batch_report(images, failures, kind=kind)
        _write_atomic(path, body.encode())
    return json.loads(text)
