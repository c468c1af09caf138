"""The Python package against the command: same bytes, same errors, every kind of input."""

import io
import threading

import numpy as np
import pytest
from PIL import Image

import jndenc
from conftest import FIXTURES


def decoded(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def photo_array():
    return np.asarray(Image.open(FIXTURES / "photo.png").convert("RGB"))


# (Python keyword arguments, the command's switches): the same request both ways.
SETTINGS = [
    ({}, []),
    ({"quality": 80}, ["-quality", "80"]),
    ({"target": "strict"}, ["--target", "strict"]),
    ({"distance": 3.0}, ["--distance", "3.0"]),
    ({"quality": 60, "strip": "all"}, ["-quality", "60", "--strip", "all"]),
    ({"target": "machine"}, ["--target", "machine"]),
    ({"target": "machine", "rd_lambda": 0}, ["--target", "machine", "--rd-lambda", "0"]),
    ({"format": "heif", "quality": 50}, ["--format", "heif", "-quality", "50"]),
]


@pytest.mark.parametrize("kwargs,switches", SETTINGS, ids=[" ".join(s) or "auto" for _, s in SETTINGS])
def test_bytes_equal_the_commands(kwargs, switches, photo_path, photo_bytes, jndenc_cli, tmp_path):
    out = tmp_path / "cli.out"
    status, _, stderr = jndenc_cli(*switches, "-outfile", out, photo_path)
    assert status == 0, stderr
    data, report = jndenc.encode(photo_bytes, **kwargs)
    assert data == out.read_bytes()
    assert report["bytes"] == len(data)
    # Pixels handed over as an array (the PNG carries no metadata) give the same bytes too.
    from_array, _ = jndenc.encode(photo_array(), **kwargs)
    assert from_array == data


def test_pillow_and_numpy_inputs_encode_the_picture(photo_bytes):
    pillow = Image.open(FIXTURES / "photo.png")
    data, report = jndenc.encode(pillow, quality=90)
    assert data[:3] == b"\xff\xd8\xff"
    assert report["quality"] == 90 and report["format"] == "jpeg" and report["input"] == "<pixels>"
    pixels = decoded(data)
    assert pixels.shape == (128, 192, 3)
    mse = np.mean((pixels.astype(float) - photo_array().astype(float)) ** 2)
    assert 10 * np.log10(255**2 / mse) > 32.0, mse
    assert jndenc.encode(photo_array(), quality=90)[0] == data
    # Gray arrays code one component; RGBA drops alpha as the command does.
    gray = np.asarray(Image.open(FIXTURES / "photo.png").convert("L"))
    gray_jpeg, _ = jndenc.encode(gray, quality=90)
    assert Image.open(io.BytesIO(gray_jpeg)).mode == "L"
    rgba = np.dstack([photo_array(), np.full((128, 192), 7, np.uint8)])
    assert jndenc.encode(rgba, quality=90)[0] == data
    # A path, a memoryview and bytes are the same file.
    assert jndenc.encode(FIXTURES / "photo.png", quality=90)[0] == jndenc.encode(memoryview(photo_bytes), quality=90)[0]


def test_auto_report_says_what_was_judged(photo_bytes):
    data, report = jndenc.encode(photo_bytes)
    assert report["target"] == "visually-lossless"
    assert (report["target_distance"], report["target_ssimulacra2"]) == (1.0, 79.0)
    assert report["sampling"] == "4:2:0" and report["sampling_reason"]
    assert report["candidates"], report
    for candidate in report["candidates"]:
        assert set(candidate) == {"quality", "bytes", "visible", "distance", "ssimulacra2", "sampling", "checked"}
        # The teacher measures every candidate it judges.
        assert candidate["checked"] is True
        # Within the ceiling the SSIMULACRA 2 was measured and decides; beyond it, it was not needed.
        if candidate["distance"] <= 1.0:
            assert candidate["ssimulacra2"] is not None
            assert candidate["visible"] == (candidate["ssimulacra2"] < 79.0)
        else:
            assert candidate["ssimulacra2"] is None and candidate["visible"]
    assert 0 < report["bytes"] < report["top_bytes"]
    assert report["saving_percent"] > 0


def test_pillow_metadata_is_carried():
    icc_png = Image.open(FIXTURES / "icc.png")
    data, _ = jndenc.encode(icc_png, quality=85)
    assert Image.open(io.BytesIO(data)).info.get("icc_profile") == icc_png.info["icc_profile"]
    stripped, _ = jndenc.encode(icc_png, quality=85, strip="icc")
    assert "icc_profile" not in Image.open(io.BytesIO(stripped)).info


def test_a_slice_is_accepted():
    full = photo_array()
    view = full[10:110:2, 5:185:3]
    assert not view.flags["C_CONTIGUOUS"]
    data, _ = jndenc.encode(view, quality=90)
    assert data == jndenc.encode(np.ascontiguousarray(view), quality=90)[0]
    assert decoded(data).shape == view.shape


def test_four_threads_give_the_bytes_of_one(photo_bytes):
    expected, _ = jndenc.encode(photo_bytes)
    results = [None] * 4

    def work(i):
        results[i] = jndenc.encode(photo_bytes)[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def test_truncated_file_raises_the_commands_message(photo_bytes, jndenc_cli):
    truncated = photo_bytes[: len(photo_bytes) // 2]
    with pytest.raises(jndenc.DecodeError) as caught:
        jndenc.encode(truncated)
    status, out, stderr = jndenc_cli("-quality", "80", stdin=truncated)
    assert status == 1 and out == b""
    assert str(caught.value) in stderr, (str(caught.value), stderr)
    assert "truncated" in str(caught.value)


@pytest.mark.parametrize(
    "array,words",
    [
        (np.zeros((8, 8, 3), np.float64), "uint8"),
        (np.zeros((8, 8, 3), np.uint16), "uint8"),
        (np.zeros((0, 0, 3), np.uint8), "empty picture"),
        (np.zeros((8, 8, 5), np.uint8), "5 samples per pixel"),
        (np.zeros((2, 8, 8, 3), np.uint8), "shape"),
    ],
    ids=["float64", "uint16", "0x0", "5-channel", "4-d"],
)
def test_bad_arrays_raise_image_errors(array, words):
    with pytest.raises(jndenc.ImageError, match=words):
        jndenc.encode(array)


@pytest.mark.parametrize(
    "kwargs,error,words",
    [
        ({"target": "loose"}, jndenc.ParameterError, "target: unknown value"),
        ({"distance": 9.0}, jndenc.ParameterError, "outside"),
        ({"distance": 1.5, "target": "strict"}, jndenc.ParameterError, "distance and target: name two"),
        ({"quality": 101}, jndenc.ParameterError, "outside 0..100"),
        ({"min_quality": 80, "max_quality": 40}, jndenc.ParameterError, "min_quality and max_quality: 80"),
        ({"format": "png"}, jndenc.ParameterError, "format: unknown value"),
        ({"strip": "most"}, jndenc.ParameterError, "strip: unknown value"),
        ({"block": "three"}, jndenc.ParameterError, "block: .three. is not a whole number"),
        ({"sampling": 422}, jndenc.ParameterError, "sampling: unknown value"),
        ({"device": "tpu"}, jndenc.ParameterError, "device: unknown value"),
        ({"quality": 80.5}, jndenc.ParameterError, "quality: expected a whole number"),
    ],
)
def test_bad_arguments_raise_parameter_errors(kwargs, error, words, photo_bytes):
    with pytest.raises(error, match=words):
        jndenc.encode(photo_bytes, **kwargs)


def test_an_option_without_effect_warns_and_encodes(photo_bytes):
    with pytest.warns(jndenc.JndencWarning, match="target has no effect: the quality is fixed"):
        data, report = jndenc.encode(photo_bytes, quality=80, target="strict")
    assert report["quality"] == 80 and data[:2] == b"\xff\xd8"


def test_every_error_is_a_jndenc_error():
    for kind in (jndenc.DecodeError, jndenc.LimitsError, jndenc.ParameterError, jndenc.ImageError,
                 jndenc.UnsupportedError, jndenc.EncodeError, jndenc.ModelError):
        assert issubclass(kind, jndenc.JndencError)
    with pytest.raises(jndenc.DecodeError, match="unrecognised input format"):
        jndenc.encode(b"hello, world")
    with pytest.raises(jndenc.DecodeError, match="empty"):
        jndenc.encode(b"")
    with pytest.raises(jndenc.ImageError, match="cannot encode a dict"):
        jndenc.encode({})
    with pytest.raises(jndenc.LimitsError):
        jndenc.encode(b"P6\n100000 100000\n255\n")


def test_jnd_map_matches_the_commands_png(photo_path, photo_bytes, jndenc_cli, tmp_path):
    values = jndenc.jnd_map(photo_bytes)
    assert values.shape == (128, 192) and values.dtype == np.float32
    assert float(values.min()) > 0
    assert np.array_equal(values, jndenc.jnd_map(photo_array()))
    out = tmp_path / "map.png"
    status, _, stderr = jndenc_cli("--jnd-map", out, photo_path)
    assert status == 0, stderr
    png = np.asarray(Image.open(out)).astype(float)
    assert np.abs(np.clip(values * 8.0, 0, 255) - png).max() <= 1.0


def test_tiff_and_webp_inputs():
    reference = np.asarray(Image.open(FIXTURES / "icc.png").convert("RGB")).astype(int)
    icc = (FIXTURES / "srgb.icc").read_bytes()
    for name in ("photo16.tif", "photo.webp"):
        data, report = jndenc.encode(FIXTURES / name, quality=95)
        out = Image.open(io.BytesIO(data))
        assert out.info.get("icc_profile") == icc, name
        mse = np.mean((np.asarray(out.convert("RGB")).astype(float) - reference) ** 2)
        assert 10 * np.log10(255**2 / mse) > 34.0, name
        assert report["input"].endswith(name)
