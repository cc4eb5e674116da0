from pathlib import Path

import numpy as np
import pytest
from PIL import Image, features

from helpers import pil_bytes, small_video
from mask_detector.errors import ImageTooLargeError, InvalidImageError
from mask_detector.imageio import PHOTO_TYPES, as_bgr, read_image

DATA = Path(__file__).parent / "data"


@pytest.fixture
def rgb() -> Image.Image:
    arr = np.zeros((40, 60, 3), np.uint8)
    arr[:, :30] = (255, 0, 0)  # left half red
    return Image.fromarray(arr)


def test_reads_as_bgr(rgb):
    out = read_image(pil_bytes(rgb, "PNG"))
    assert out.shape == (40, 60, 3) and out.dtype == np.uint8
    assert tuple(out[0, 0]) == (0, 0, 255)  # red in BGR


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "CMYK", "1", "LA"])
def test_every_mode_becomes_three_channels(rgb, mode):
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    out = read_image(pil_bytes(rgb.convert(mode), fmt))
    assert out.shape == (40, 60, 3)


def test_transparent_pixels_become_white():
    im = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    assert read_image(pil_bytes(im, "PNG"))[0, 0].tolist() == [255, 255, 255]


def test_sixteen_bit_png_is_scaled_not_clipped():
    arr = np.full((10, 10), 65535, np.uint16)
    out = read_image(pil_bytes(Image.fromarray(arr), "PNG"))
    assert out.max() == 255 and out.min() == 255


def test_exif_orientation_is_applied(rgb):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    out = read_image(pil_bytes(rgb, "JPEG", exif=exif.tobytes()))
    assert out.shape == (60, 40, 3)


def test_heic_photos_are_read():
    out = read_image(DATA / "half_red.heic")
    assert out.shape == (40, 60, 3)
    assert out[20, 5].tolist() == pytest.approx([0, 0, 255], abs=8)  # red (lossy) in BGR
    assert out[20, 55].tolist() == pytest.approx([0, 0, 0], abs=8)


def test_heic_rotation_is_applied_once():
    # Saved with orientation 6: the turn is in the file, and the EXIF left says 1.
    out = read_image((DATA / "half_red_rotated.heic").read_bytes())
    assert out.shape == (60, 40, 3)
    assert out[5, 20].tolist() == pytest.approx([0, 0, 255], abs=8)  # the red half on top
    assert out[55, 20].tolist() == pytest.approx([0, 0, 0], abs=8)


@pytest.mark.parametrize("ext", PHOTO_TYPES)
def test_every_type_the_photos_page_accepts_is_read(rgb, tmp_path, ext):
    if ext in ("heic", "heif"):  # decoded here, not encoded: the committed file
        data = (DATA / "half_red.heic").read_bytes()
    else:
        path = tmp_path / f"photo.{ext}"
        rgb.save(path)  # Pillow picks the format from the extension
        data = path.read_bytes()
    assert read_image(data).shape == (40, 60, 3)


def test_damaged_heic_is_named():
    data = (DATA / "half_red.heic").read_bytes()
    with pytest.raises(InvalidImageError, match="damaged HEIC file"):
        read_image(data[:40])


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow has no AVIF support")
def test_avif_photos_are_read(rgb):
    out = read_image(pil_bytes(rgb, "AVIF", quality=90))
    assert out.shape == (40, 60, 3)
    assert out[20, 5].tolist() == pytest.approx([0, 0, 255], abs=12)


def test_a_video_given_as_a_photo_says_so():
    mp4 = small_video(np.zeros((48, 64, 3), np.uint8))
    avi = b"RIFF\x00\x10\x00\x00AVI LIST" + bytes(64)
    webm = b"\x1a\x45\xdf\xa3" + bytes(64)
    for data in (mp4, avi, webm):
        with pytest.raises(InvalidImageError, match="a video file, not a photo"):
            read_image(data)
    # An ISO media file of an unknown brand is not called a video.
    with pytest.raises(InvalidImageError, match="not an image format"):
        read_image(mp4[:8] + b"zzzz" + mp4[12:])


def test_animated_gif_gives_first_frame(rgb):
    frames = [rgb, rgb.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    data = pil_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert read_image(data).shape == (40, 60, 3)


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"<html><body>not a picture</body></html>", "not an image"),
    ],
)
def test_bad_bytes(data, words):
    with pytest.raises(InvalidImageError, match=words):
        read_image(data)


def test_truncated_jpeg(rgb):
    data = pil_bytes(rgb.resize((400, 400)), "JPEG")
    with pytest.raises(InvalidImageError, match="damaged or truncated"):
        read_image(data[: len(data) // 2])


def test_png_with_bad_crc(rgb):
    data = bytearray(pil_bytes(rgb, "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # corrupt the compressed data, leaving the CRC stale
    with pytest.raises(InvalidImageError):
        read_image(bytes(data))


def test_decompression_bomb_refused_from_header():
    # A 20000x20000 PNG compresses to a few hundred kB; refusing it must not decode it.
    data = pil_bytes(Image.new("L", (20000, 20000)), "PNG")
    with pytest.raises(ImageTooLargeError, match="megapixels"):
        read_image(data)


def test_missing_file(tmp_path):
    with pytest.raises(InvalidImageError, match="no such file"):
        read_image(tmp_path / "nope.jpg")


def test_tiny_image():
    assert read_image(pil_bytes(Image.new("RGB", (1, 1)), "PNG")).shape == (1, 1, 3)


@pytest.mark.parametrize(
    "array, shape",
    [
        (np.zeros((5, 6), np.uint8), (5, 6, 3)),
        (np.zeros((5, 6, 1), np.uint8), (5, 6, 3)),
        (np.zeros((5, 6, 4), np.uint8), (5, 6, 3)),
        (np.zeros((5, 6, 3), np.uint8), (5, 6, 3)),
    ],
)
def test_as_bgr_accepts(array, shape):
    assert as_bgr(array).shape == shape


@pytest.mark.parametrize(
    "array, words",
    [
        (np.zeros((5, 6, 3), np.float32), "dtype uint8"),
        (np.zeros((5, 6, 2), np.uint8), "shape"),
        (np.zeros((5,), np.uint8), "shape"),
        (np.zeros((0, 6, 3), np.uint8), "empty"),
        ([[0, 1]], "numpy array"),
    ],
)
def test_as_bgr_rejects(array, words):
    with pytest.raises(InvalidImageError, match=words):
        as_bgr(array)
