"""Type stubs of the extension module (python/src/lib.rs). Use the functions of ``jndenc``."""

from typing import Any, List, Optional, Tuple

__version__: str

class JndencError(Exception): ...
class DecodeError(JndencError): ...
class LimitsError(JndencError): ...
class ParameterError(JndencError): ...
class UnsupportedError(JndencError): ...
class EncodeError(JndencError): ...
class ModelError(JndencError): ...
class ImageError(JndencError): ...

def encode_file(
    data: bytes,
    *,
    name: str,
    format: str,
    target: Optional[str],
    distance: Optional[float],
    quality: Optional[int],
    strip: str,
    decider: Optional[str],
    visuals: bool,
) -> Tuple[bytes, str]: ...
def encode_pixels(
    pixels: Any,
    width: int,
    height: int,
    channels: int,
    *,
    icc: Optional[bytes],
    exif: Optional[bytes],
    name: str,
    format: str,
    target: Optional[str],
    distance: Optional[float],
    quality: Optional[int],
    strip: str,
    decider: Optional[str],
    visuals: bool,
) -> Tuple[bytes, str]: ...
def jnd_map_file(data: bytes, *, model: str) -> Tuple[int, int, bytes]: ...
def jnd_map_pixels(pixels: Any, width: int, height: int, channels: int, *, model: str) -> Tuple[int, int, bytes]: ...
IMAGE_EXTENSIONS: List[str]

def batch_report(images: List[str], failures: List[Tuple[str, str]], *, kind: str) -> str: ...
