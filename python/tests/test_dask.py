"""jndenc.dask on a real two-worker LocalCluster: the outputs are the command's bytes, the report its
format and totals."""

import json
import shutil

import pytest

distributed = pytest.importorskip("distributed")

import jndenc  # noqa: E402
import jndenc.dask  # noqa: E402
from conftest import FIXTURES  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def test_folder_on_two_workers_matches_the_command(client, tmp_path, jndenc_cli):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("photo.png", "gray.pgm", "graphic.png", "photo16.tif"):
        shutil.copy(FIXTURES / name, inputs / name.replace("graphic", "zgraphic"))
    (inputs / "notes.txt").write_text("not an image")
    (inputs / "broken.png").write_bytes((FIXTURES / "photo.png").read_bytes()[:500])
    out = tmp_path / "out"
    report = jndenc.dask.encode_paths(
        inputs, out, client=client, report=tmp_path / "report.html", target="strict"
    )
    # The tasks ran on both workers.
    assert len(client.scheduler_info()["workers"]) == 2
    names = sorted(p.name for p in out.iterdir())
    assert names == ["gray.jpg", "photo.jpg", "photo16.jpg", "zgraphic.jpg"]
    for name in names:
        source = next(p for p in inputs.iterdir() if p.stem == name[:-4])
        cli_out = tmp_path / f"cli-{name}"
        status, _, stderr = jndenc_cli("--target", "strict", "-outfile", cli_out, source)
        assert status == 0, stderr
        assert (out / name).read_bytes() == cli_out.read_bytes(), name
    totals = report["totals"]
    assert totals["images"] == 4 and totals["failed"] == 1
    assert [f[0] for f in report["failures"]] == [str(inputs / "broken.png")]
    assert "truncated" in report["failures"][0][1]
    assert totals["bytes"] == sum(i["bytes"] for i in report["images"])
    assert totals["bytes"] == sum((out / n).stat().st_size for n in names)
    assert all(i["target"] == "visually-lossless" for i in report["images"]), "strict is its old name"
    html = (tmp_path / "report.html").read_text()
    assert html.startswith("<!doctype html>") and "4 images (1 failed)" in html
    # The HTML report's pictures were cut on the workers: every region, before and after, 1:1 and 2x.
    regions = sum(len(i["visual"]["regions"]) for i in report["images"])
    assert regions >= 7
    for alt in ("before 1:1", "after 1:1", "before 2x", "after 2x"):
        assert html.count(f'alt="{alt}"') == regions
    assert html.count('alt="JND map"') == 4
    # The JSON report is the command's --report format.
    again = jndenc.dask.encode_paths([inputs / "photo.png"], None, client=client, report=tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text()) == again
    assert set(again) == {"images", "failures", "totals"}


def test_outputs_that_would_collide_are_refused(client, tmp_path):
    with pytest.raises(jndenc.ParameterError, match="same output"):
        jndenc.dask.encode_paths([FIXTURES / "photo.png", FIXTURES / "photo.bmp"], tmp_path, client=client)
