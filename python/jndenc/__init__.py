"""jndenc for Python: encode at the picture-wise just-noticeable difference.

The encoder is the Rust library the ``jndenc`` command runs, loaded as an extension module: for the
same settings the bytes are the command's, byte for byte. Encoding releases the GIL, so threads encode
in parallel.

>>> import jndenc
>>> data, report = jndenc.encode(open("photo.png", "rb").read())
>>> report["quality"], report["bytes"]

``image`` may be the bytes of any file jndenc reads (PNG, JPEG, PPM/PGM, BMP, Targa, GIF, TIFF, WebP,
HEIF), a path, a Pillow image, or a numpy ``uint8`` array of shape H x W (gray), H x W x 3 (RGB) or
H x W x 4 (RGBA; alpha is dropped, as on the command line). Strided arrays (slices) are accepted.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from typing import Any, Dict, Iterable, Optional, Tuple, Union

from . import _jndenc
from ._jndenc import (
    DecodeError,
    DeviceError,
    EncodeError,
    ImageError,
    JndencError,
    JndencWarning,
    LimitsError,
    ModelError,
    ParameterError,
    UnsupportedError,
)

__version__: str = _jndenc.__version__

__all__ = [
    "encode",
    "jnd_map",
    "batch_report",
    "JndencError",
    "DecodeError",
    "LimitsError",
    "ParameterError",
    "UnsupportedError",
    "EncodeError",
    "ModelError",
    "DeviceError",
    "ImageError",
    "JndencWarning",
    "OPTIONS",
    "__version__",
]

#: The keywords of :func:`encode` that set options, as the library's vocabulary names them
#: (``docs/options.md``: the same options as the command's switches and libjnd's setters).
OPTIONS: Tuple[str, ...] = tuple(_jndenc.OPTIONS)


def _is_pillow(image: Any) -> bool:
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(image, pil.Image)


def _exif_payload(exif: Optional[bytes]) -> Optional[bytes]:
    """The TIFF structure of an EXIF block, without JPEG's ``Exif\\0\\0`` prefix (as the CLI keeps it)."""
    if not exif:
        return None
    return exif[6:] if exif.startswith(b"Exif\0\0") else exif


def _pillow_array(image: Any) -> Tuple[Any, Optional[bytes], Optional[bytes]]:
    """A Pillow image as an 8-bit array, with its ICC profile and EXIF."""
    import numpy as np

    icc = image.info.get("icc_profile") or None
    exif = _exif_payload(image.info.get("exif"))
    mode = image.mode
    if mode.startswith("I;16"):
        # 16-bit gray: rounded to 8 bits as the CLI rounds 16-bit inputs, round(v * 255 / 65535).
        wide = np.asarray(image).astype(np.uint32)
        array = ((wide + 128) // 257).astype(np.uint8)
    elif mode in ("1", "L", "LA", "I", "F"):
        array = np.asarray(image.convert("L"))
    else:
        array = np.asarray(image.convert("RGB"))
    return array, icc, exif


def _pixels(image: Any) -> Tuple[Any, int, int, int]:
    """Checks an array-like of pixels: returns it with its width, height and channels."""
    import numpy as np

    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ImageError(f"the array's dtype is {array.dtype}: jndenc reads 8-bit samples (uint8)")
    if array.ndim == 2:
        height, width = array.shape
        channels = 1
    elif array.ndim == 3:
        height, width, channels = array.shape
    else:
        raise ImageError(
            f"the array has shape {array.shape}: jndenc reads H x W (gray), H x W x 3 (RGB) or H x W x 4 (RGBA)"
        )
    return array, width, height, channels


def _source(image: Any) -> Tuple[str, Any]:
    """Classifies ``image``: ("file", bytes, name) or ("pixels", array, icc, exif)."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return "file", (bytes(image), "<bytes>")
    if isinstance(image, (str, os.PathLike)):
        path = os.fspath(image)
        with open(path, "rb") as f:
            return "file", (f.read(), path)
    if _is_pillow(image):
        array, icc, exif = _pillow_array(image)
        return "pixels", (array, icc, exif)
    if hasattr(image, "__array_interface__") or hasattr(image, "__array__"):
        return "pixels", (image, None, None)
    raise ImageError(
        f"cannot encode a {type(image).__name__}: give bytes of an image file, a path, a Pillow image or a uint8 array"
    )


def encode(
    image: Any,
    *,
    format: Optional[str] = None,
    target: Optional[str] = None,
    distance: Optional[float] = None,
    ssimulacra2: Optional[float] = None,
    quality: Optional[int] = None,
    min_quality: Optional[int] = None,
    max_quality: Optional[int] = None,
    codec: Optional[str] = None,
    sampling: Union[str, int, None] = None,
    strip: Optional[str] = None,
    decider: Optional[str] = None,
    device: Optional[str] = None,
    search: Optional[str] = None,
    block: Optional[int] = None,
    adaptive: Optional[str] = None,
    map_strength: Optional[float] = None,
    rd_lambda: Optional[float] = None,
    pixel_model: Optional[str] = None,
    heif_preset: Optional[str] = None,
    verify: Optional[bool] = None,
    name: Optional[str] = None,
    visuals: bool = False,
) -> Tuple[bytes, Dict[str, Any]]:
    """Encodes ``image``; returns the output bytes and the report as a dict.

    The options are the command's switches of the same names (``docs/options.md`` lists them with
    their values and defaults; ``None`` leaves one at its default). Without ``quality`` the quality
    is chosen as the lowest that meets ``target`` (``"visually-lossless"`` by default, ``"web-high"``,
    ``"web"``, and the paper's ``"human-first-jnd"`` and ``"sur75"``), or the bounds given: a
    butteraugli 3-norm ``distance`` (0.5 to 4.0) and/or a SSIMULACRA 2 floor ``ssimulacra2`` (0 to
    100), between ``min_quality`` and ``max_quality``; the chroma subsampling is chosen too unless
    ``sampling`` is given; ``target="machine"`` codes for machine consumers on the
    machine quantisation tables (at ``quality``, 75 by default), each block chosen by rate and the
    classifiers' sensitivity (``rd_lambda``; ``map_strength`` adds the DMV-JND map as the bound).
    ``format`` is ``"jpeg"`` or
    ``"heif"``; ``codec`` ``"mozjpeg"``, ``"jpegli"`` or ``"rust"``; ``sampling`` ``"420"`` or
    ``"444"``; ``strip`` drops metadata (``"icc"``, ``"exif"``, ``"all"``); ``decider`` is
    ``"teacher"`` (butteraugli, the default) or ``"model"`` (the VP-JND network), run on ``device``
    (``"cpu"``, ``"cuda"``, ``"wgpu"``). ``name`` names the input in the report; ``visuals`` adds what
    the HTML report shows (the regions butteraugli rates most different, before and after, and a JND
    map thumbnail, as base64 PNGs under ``report["visual"]``), as ``--report x.html`` does.

    An option that has no effect in the mode asked for (``decider`` with a fixed ``quality``) is a
    :class:`JndencWarning`, as the command's warnings (exit status 2). Raises a :class:`JndencError`
    subclass with the command's message for bad input or arguments.
    """
    options = dict(
        format=format,
        target=target,
        distance=distance,
        ssimulacra2=ssimulacra2,
        quality=quality,
        min_quality=min_quality,
        max_quality=max_quality,
        codec=codec,
        sampling=sampling,
        strip=strip,
        decider=decider,
        device=device,
        search=search,
        block=block,
        adaptive=adaptive,
        map_strength=map_strength,
        rd_lambda=rd_lambda,
        pixel_model=pixel_model,
        heif_preset=heif_preset,
        verify=verify,
    )
    kind, payload = _source(image)
    if kind == "file":
        data, default_name = payload
        out, report, notes = _jndenc.encode_file(
            data, name=name or default_name, options=options, visuals=bool(visuals)
        )
    else:
        pixels, icc, exif = payload
        array, width, height, channels = _pixels(pixels)
        out, report, notes = _jndenc.encode_pixels(
            array,
            width,
            height,
            channels,
            icc=icc,
            exif=exif,
            name=name or "<pixels>",
            options=options,
            visuals=bool(visuals),
        )
    for note in notes:
        warnings.warn(note, JndencWarning, stacklevel=2)
    return out, json.loads(report)


def jnd_map(image: Any, *, model: str = "wu2017") -> Any:
    """The pixel-wise JND map of ``image`` as a float32 numpy array (H x W), in luma code values:
    how much each pixel may change before the change is visible (``jndenc --jnd-map``'s values;
    ``model`` is ``"wu2017"`` or ``"yang2005"``)."""
    import numpy as np

    kind, payload = _source(image)
    if kind == "file":
        width, height, values = _jndenc.jnd_map_file(payload[0], model=model)
    else:
        array, width, height, channels = _pixels(payload[0])
        width, height, values = _jndenc.jnd_map_pixels(array, width, height, channels, model=model)
    return np.frombuffer(values, dtype="<f4").reshape(height, width)


def batch_report(
    reports: Iterable[Dict[str, Any]],
    failures: Iterable[Tuple[str, str]] = (),
    *,
    kind: str = "json",
) -> str:
    """A batch report (the command's ``--report`` format: images, failures, totals) from per-image
    reports as :func:`encode` returns them, as ``"json"``, ``"csv"`` or ``"html"`` text."""
    return _jndenc.batch_report(
        [json.dumps(r) for r in reports], [(str(i), str(e)) for i, e in failures], kind=kind
    )
