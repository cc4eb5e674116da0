"""Reading untrusted images into the one array layout the library uses: HxWx3 uint8 BGR."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from pi_heif import register_heif_opener
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageTooLargeError, InvalidImageError

# HEIC / HEIF, the iPhone camera's default, opens like any other format (decoding only; the
# rotation stored in the file is applied on decoding). Pillow reads AVIF itself.
register_heif_opener()

#: File name extensions of the formats read (what the Photos page accepts).
PHOTO_TYPES = ("jpg", "jpeg", "png", "heic", "heif", "webp", "avif", "bmp", "gif", "tif", "tiff")

#: Largest image decoded, in pixels (e.g. 8000 x 5000). Checked from the header, before decoding,
#: so a decompression bomb costs nothing.
MAX_PIXELS = 40_000_000
#: Largest encoded file accepted, in bytes.
MAX_FILE_BYTES = 50 * 1024 * 1024

_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError)


def read_image(
    source: str | Path | bytes | BinaryIO, *, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """Decode a file, bytes or stream with Pillow: first frame, EXIF orientation applied."""
    name = str(source) if isinstance(source, (str, Path)) else "image"
    data = _read_bytes(source, name)
    if not data:
        raise InvalidImageError(f"{name}: the file is empty (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise ImageTooLargeError(
            f"{name}: {len(data) / 1e6:.0f} MB is over the {MAX_FILE_BYTES // 2**20} MB limit"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                _check_pixels(im, name, max_pixels)
                im.seek(0)
                return _to_bgr(ImageOps.exif_transpose(im))
    except UnidentifiedImageError:
        kind = _signature(data)
        if kind:
            raise InvalidImageError(
                f"{name}: damaged {kind} file (its header cannot be read); re-save or re-export it"
            ) from None
        if _is_video(data):
            raise InvalidImageError(
                f"{name}: a video file, not a photo; give it to `python -m mask_detector video` "
                "or the app's Video file page"
            ) from None
        raise InvalidImageError(
            f"{name}: not an image format that Pillow can read (use JPEG, PNG, HEIC, WebP, "
            "AVIF, BMP, GIF or TIFF)"
        ) from None
    except ImageTooLargeError:
        raise
    except Image.DecompressionBombError:
        raise ImageTooLargeError(
            f"{name}: over the limit of {max_pixels / 1e6:.0f} megapixels; scale it down first"
        ) from None
    except _DECODE_ERRORS as exc:
        raise InvalidImageError(f"{name}: damaged or truncated image ({exc})") from None


#: File signatures of common formats, to tell a damaged image from something that is not one.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


#: ISO media brands (bytes 8-12, after "ftyp") of still images: HEIC / HEIF and AVIF.
_IMAGE_BRANDS: dict[bytes, str] = {
    **dict.fromkeys((b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"), "HEIC"),
    **dict.fromkeys((b"avif", b"avis"), "AVIF"),
}


def _signature(data: bytes) -> str | None:
    """The image format whose signature `data` starts with, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[4:8] == b"ftyp":
        return _IMAGE_BRANDS.get(data[8:12])
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


#: ISO media brands of video files: MP4, MOV (QuickTime), M4V, 3GP.
_VIDEO_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"qt  "}
    | {b"M4V ", b"M4VH", b"3gp4", b"3gp5", b"3gp6", b"3g2a"}
)


def _is_video(data: bytes) -> bool:
    """MP4 / MOV and kin, AVI, or Matroska / WebM, by the file's first bytes."""
    return (
        (data[4:8] == b"ftyp" and data[8:12] in _VIDEO_BRANDS)
        or (data[:4] == b"RIFF" and data[8:12] == b"AVI ")
        or data.startswith(b"\x1a\x45\xdf\xa3")
    )


def _read_bytes(source: str | Path | bytes | BinaryIO, name: str) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            raise InvalidImageError(f"{name}: is a folder, not an image file")
        if not path.is_file():
            raise InvalidImageError(f"{name}: no such file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ImageTooLargeError(
                f"{name}: {path.stat().st_size / 1e6:.0f} MB is over the "
                f"{MAX_FILE_BYTES // 2**20} MB limit"
            )
        try:
            return path.read_bytes()
        except OSError as exc:
            raise InvalidImageError(f"{name}: cannot be read ({exc.strerror})") from None
    return source.read(MAX_FILE_BYTES + 1)


def _check_pixels(im: Image.Image, name: str, max_pixels: int) -> None:
    width, height = im.size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"{name}: {width}x{height} pixels is over the limit of {max_pixels / 1e6:.0f} "
            "megapixels; scale it down first"
        )


def _to_bgr(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        wide = np.asarray(im, dtype=np.float64)
        top = 65535.0 if im.mode.startswith("I;16") or wide.max(initial=0) > 255 else 255.0
        im = Image.fromarray(np.clip(wide * (255.0 / top), 0, 255).astype(np.uint8))
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    rgb = np.asarray(im.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def as_bgr(image: object) -> np.ndarray:
    """Check an API caller's array and return it as HxWx3 uint8 BGR (grey and BGRA converted)."""
    if not isinstance(image, np.ndarray):
        raise InvalidImageError(f"expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InvalidImageError(
            f"expected dtype uint8 (0-255), got {image.dtype}; "
            "convert with np.clip(img, 0, 255).astype(np.uint8)"
        )
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise InvalidImageError(
            f"expected shape HxW, HxWx1, HxWx3 (BGR) or HxWx4 (BGRA), got {image.shape}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise InvalidImageError(f"the image is empty: shape {image.shape}")
    if image.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(image, 3, axis=2))
    if image.shape[2] == 4:
        return np.ascontiguousarray(image[:, :, :3])
    return image
