"""One vocabulary, three front ends: for each option set the command (`jndenc`), the Python package
and libjnd (loaded here with ctypes, as a C program links it) write the same bytes, and the same
conflicting request is the same kind of warning or error in all three."""

import ctypes
import json
import os
import pathlib
import re
import warnings

import numpy as np
import pytest

import jndenc

from conftest import FIXTURES, ROOT

HEADER = ROOT / "ffi" / "include" / "jnd.h"


def _constants():
    """`#define JND_*` integers of the generated header, so the test uses the values C sees."""
    values = {}
    for name, value in re.findall(r"#define (JND_[A-Z0-9_]+) \(?(-?\d+)", HEADER.read_text()):
        values[name] = int(value)
    return values


C = _constants()


def _library_path() -> pathlib.Path:
    """`JNDENC_LIBJND`, else the `libjnd.so` `cargo test` built (target/debug or its deps)."""
    if "JNDENC_LIBJND" in os.environ:
        return pathlib.Path(os.environ["JNDENC_LIBJND"])
    for folder in (ROOT / "target" / "debug", ROOT / "target" / "debug" / "deps"):
        if (folder / "libjnd.so").exists():
            return folder / "libjnd.so"
    pytest.fail("libjnd.so not built: run cargo test --workspace (or cargo build -p ffi) first")


@pytest.fixture(scope="module")
def libjnd():
    lib = ctypes.CDLL(str(_library_path()))
    lib.jnd_encoder_new.restype = ctypes.c_void_p
    lib.jnd_encoder_free.argtypes = [ctypes.c_void_p]
    lib.jnd_last_error.restype = ctypes.c_char_p
    lib.jnd_last_error.argtypes = [ctypes.c_void_p]
    lib.jnd_last_report.restype = ctypes.c_char_p
    lib.jnd_last_report.argtypes = [ctypes.c_void_p]
    for setter in ("format", "codec", "target", "quality", "sampling", "strip", "decider", "search"):
        getattr(lib, f"jnd_encoder_set_{setter}").argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.jnd_encoder_set_distance.argtypes = [ctypes.c_void_p, ctypes.c_double]
    lib.jnd_encoder_set_ssimulacra2.argtypes = [ctypes.c_void_p, ctypes.c_double]
    lib.jnd_encoder_set_quality_bounds.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.jnd_encoder_set_option.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.jnd_encode.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_uint32,
        ctypes.c_uint32,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)),
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.POINTER(ctypes.c_int),
    ]
    lib.jnd_free_buffer.argtypes = [ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t]
    return lib


def _read_pnm(path):
    """A binary PPM/PGM (what the C example reads), or a PNG through Pillow, as a numpy array."""
    if path.suffix == ".png":
        from PIL import Image

        return np.asarray(Image.open(path).convert("RGB"))
    data = path.read_bytes()
    fields = data.split(maxsplit=4)
    magic, width, height = fields[0], int(fields[1]), int(fields[2])
    pixels = np.frombuffer(fields[4], dtype=np.uint8)
    channels = 3 if magic == b"P6" else 1
    shape = (height, width, 3) if channels == 3 else (height, width)
    return pixels[: width * height * channels].reshape(shape)


def c_encode(lib, array, calls, report=None):
    """Encodes `array` through libjnd after the setter `calls`; returns (status, bytes, message). With
    a `report` list, the encode's report (parsed JSON) is appended to it."""
    encoder = lib.jnd_encoder_new()
    try:
        for name, *args in calls:
            status = getattr(lib, name)(encoder, *args)
            if status < 0:
                return status, b"", lib.jnd_last_error(encoder).decode()
        gray = array.ndim == 2
        height, width = array.shape[:2]
        out = ctypes.POINTER(ctypes.c_uint8)()
        length = ctypes.c_size_t(0)
        quality = ctypes.c_int(0)
        status = lib.jnd_encode(
            encoder,
            np.ascontiguousarray(array).tobytes(),
            width,
            height,
            width * (1 if gray else 3),
            C["JND_PIXEL_GRAY8"] if gray else C["JND_PIXEL_RGB8"],
            ctypes.byref(out),
            ctypes.byref(length),
            ctypes.byref(quality),
        )
        data = ctypes.string_at(out, length.value) if status >= 0 else b""
        if status >= 0:
            lib.jnd_free_buffer(out, length.value)
            if report is not None:
                report.append(json.loads(lib.jnd_last_report(encoder).decode()))
        return status, data, lib.jnd_last_error(encoder).decode()
    finally:
        lib.jnd_encoder_free(encoder)


# (name, command switches, Python keywords, libjnd calls, input fixture)
CASES = [
    ("fixed", ["-quality", "80"], {"quality": 80}, [("jnd_encoder_set_quality", 80)], "photo.ppm"),
    (
        "auto human-first-jnd",
        ["--target", "human-first-jnd"],
        {"target": "human-first-jnd"},
        [("jnd_encoder_set_target", C["JND_TARGET_HUMAN_FIRST_JND"])],
        "photo.ppm",
    ),
    (
        "auto sur75",
        ["--target", "sur75"],
        {"target": "sur75"},
        [("jnd_encoder_set_target", C["JND_TARGET_SUR75"])],
        "photo.ppm",
    ),
    (
        "auto strict",
        ["--target", "strict"],
        {"target": "strict"},
        [("jnd_encoder_set_target", C["JND_TARGET_STRICT"])],
        "photo.ppm",
    ),
    ("distance", ["--distance", "1.5"], {"distance": 1.5}, [("jnd_encoder_set_distance", 1.5)], "photo.ppm"),
    (
        "strip all",
        ["--strip", "all"],
        {"strip": "all"},
        [("jnd_encoder_set_strip", C["JND_STRIP_ALL"])],
        "photo.ppm",
    ),
    ("grayscale", [], {}, [], "gray.pgm"),
    (
        "heif fixed",
        ["--format", "heif", "-quality", "50"],
        {"format": "heif", "quality": 50},
        [("jnd_encoder_set_format", C["JND_FORMAT_HEIF"]), ("jnd_encoder_set_quality", 50)],
        "photo.ppm",
    ),
    (
        "heif auto strict",
        ["--format", "heif", "--target", "strict"],
        {"format": "heif", "target": "strict"},
        [("jnd_encoder_set_format", C["JND_FORMAT_HEIF"]), ("jnd_encoder_set_target", C["JND_TARGET_STRICT"])],
        "photo.ppm",
    ),
    (
        "machine",
        ["--target", "machine"],
        {"target": "machine"},
        [("jnd_encoder_set_target", C["JND_TARGET_MACHINE"])],
        "photo.ppm",
    ),
    (
        "machine rd-lambda",
        ["--target", "machine", "--rd-lambda", "0.01"],
        {"target": "machine", "rd_lambda": 0.01},
        [("jnd_encoder_set_target", C["JND_TARGET_MACHINE"]), ("jnd_encoder_set_option", b"rd-lambda", b"0.01")],
        "photo.ppm",
    ),
    (
        "bounds",
        ["--min-quality", "60", "--max-quality", "90"],
        {"min_quality": 60, "max_quality": 90},
        [("jnd_encoder_set_quality_bounds", 60, 90)],
        "photo.ppm",
    ),
    (
        "codec mozjpeg",
        ["--codec", "mozjpeg"],
        {"codec": "mozjpeg"},
        [("jnd_encoder_set_codec", C["JND_CODEC_MOZJPEG"])],
        "photo.ppm",
    ),
    (
        "sampling 444",
        ["--sampling", "444", "-quality", "85"],
        {"sampling": "444", "quality": 85},
        [("jnd_encoder_set_sampling", C["JND_SAMPLING_444"]), ("jnd_encoder_set_quality", 85)],
        "photo.ppm",
    ),
    (
        "distance and ssimulacra2",
        ["--distance", "1.5", "--ssimulacra2", "75"],
        {"distance": 1.5, "ssimulacra2": 75},
        [("jnd_encoder_set_distance", 1.5), ("jnd_encoder_set_ssimulacra2", 75.0)],
        "photo.ppm",
    ),
    (
        "web",
        ["--target", "web"],
        {"target": "web"},
        [("jnd_encoder_set_target", C["JND_TARGET_WEB"])],
        "photo.ppm",
    ),
    (
        "4:4:4 chosen (fine saturated chroma)",
        [],
        {},
        [],
        "graphic.png",
    ),
    (
        "decider vp-jnd",
        ["--decider", "vp-jnd"],
        {"decider": "vp-jnd"},
        [("jnd_encoder_set_decider", C["JND_DECIDER_VPJND"])],
        "photo.ppm",
    ),
    (
        "block search",
        ["--search", "block", "--block", "4"],
        {"search": "block", "block": 4},
        [("jnd_encoder_set_search", C["JND_SEARCH_BLOCK"]), ("jnd_encoder_set_option", b"block", b"4")],
        "photo.ppm",
    ),
]


@pytest.mark.parametrize("name,switches,keywords,calls,fixture", CASES, ids=[c[0] for c in CASES])
def test_the_three_front_ends_write_the_same_bytes(
    name, switches, keywords, calls, fixture, jndenc_cli, libjnd, tmp_path
):
    path = FIXTURES / fixture
    out = tmp_path / "out"
    status, _, err = jndenc_cli(*switches, "-outfile", out, path)
    assert status == 0, err
    from_cli = out.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_file, _ = jndenc.encode(path, **keywords)
        array = _read_pnm(path)
        from_pixels, report = jndenc.encode(array, **keywords)
    c_reports = []
    status, from_c, message = c_encode(libjnd, array, calls, c_reports)
    assert status == C["JND_OK"], message
    assert from_file == from_cli, f"{name}: Python (file) vs CLI"
    assert from_pixels == from_cli, f"{name}: Python (pixels) vs CLI"
    assert from_c == from_cli, f"{name}: libjnd vs CLI"
    assert len(from_cli) > 100 and report["bytes"] == len(from_cli)
    # The report C reads is the one Python gets: the pair, the sampling, every probe's two scores.
    (c_report,) = c_reports
    for key in ("target", "target_distance", "target_ssimulacra2", "quality", "bytes", "sampling", "candidates"):
        assert c_report[key] == report[key], (name, key, c_report[key], report[key])


def test_an_option_without_effect_is_a_warning_everywhere(jndenc_cli, libjnd, tmp_path):
    path = FIXTURES / "photo.ppm"
    status, _, err = jndenc_cli("-quality", "80", "--decider", "model", "-outfile", tmp_path / "o", path)
    assert status == 2 and "--decider has no effect" in err, err
    with pytest.warns(jndenc.JndencWarning, match="decider has no effect"):
        jndenc.encode(path, quality=80, decider="model")
    calls = [("jnd_encoder_set_quality", 80), ("jnd_encoder_set_decider", C["JND_DECIDER_MODEL"])]
    status, data, message = c_encode(libjnd, _read_pnm(path), calls)
    assert status == C["JND_WARNING"] and data and "decider has no effect" in message, (status, message)


@pytest.mark.parametrize(
    "switches,keywords,calls,error,status,words",
    [
        (
            ["--min-quality", "90", "--max-quality", "50"],
            {"min_quality": 90, "max_quality": 50},
            [("jnd_encoder_set_quality_bounds", 90, 50)],
            jndenc.ParameterError,
            "JND_ERROR_INVALID_ARGUMENT",
            "90 is above 50",
        ),
        (
            ["--distance", "9"],
            {"distance": 9.0},
            [("jnd_encoder_set_distance", 9.0)],
            jndenc.ParameterError,
            "JND_ERROR_INVALID_ARGUMENT",
            "is outside 0.5..4",
        ),
        (
            ["--format", "heif", "--codec", "mozjpeg"],
            {"format": "heif", "codec": "mozjpeg"},
            [("jnd_encoder_set_format", C["JND_FORMAT_HEIF"]), ("jnd_encoder_set_codec", C["JND_CODEC_MOZJPEG"])],
            jndenc.UnsupportedError,
            "JND_ERROR_UNSUPPORTED",
            "writes JPEG, not HEIF",
        ),
        (
            ["--device", "cuda", "--decider", "model"],
            {"device": "cuda", "decider": "model"},
            [("jnd_encoder_set_decider", C["JND_DECIDER_MODEL"]), ("jnd_encoder_set_option", b"device", b"cuda")],
            jndenc.DeviceError,
            "JND_ERROR_DEVICE_UNAVAILABLE",
            "`cuda` cargo feature",
        ),
    ],
)
def test_a_refused_request_is_the_same_kind_everywhere(
    switches, keywords, calls, error, status, words, jndenc_cli, libjnd, tmp_path
):
    path = FIXTURES / "photo.ppm"
    out = tmp_path / "o"
    code, _, err = jndenc_cli(*switches, "-outfile", out, path)
    assert code == 1 and words in err and not out.exists(), err
    assert len(err.strip().splitlines()) == 1, err
    with pytest.raises(error, match=re.escape(words)):
        jndenc.encode(path, **keywords)
    got, data, message = c_encode(libjnd, _read_pnm(path), calls)
    assert got == C[status] and not data and words in message, (got, message)


def test_every_option_python_offers_is_a_keyword_of_encode():
    import inspect

    keywords = set(inspect.signature(jndenc.encode).parameters)
    assert set(jndenc.OPTIONS) <= keywords, set(jndenc.OPTIONS) - keywords
    assert {"format", "target", "distance", "quality", "min_quality", "max_quality", "codec", "sampling",
            "strip", "decider", "device", "search"} <= set(jndenc.OPTIONS)
