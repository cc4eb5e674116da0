"""Issue #6, "nothing breaks": a catalogue of bad and unusual inputs for the API and the CLI.

Every fixture is made in code in tmp_path. Each case checks a documented exception type (API) or
exit code 1 with one "error:" line and no traceback (CLI), key words of the message, and that the
good files of the same batch are still processed.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from helpers import MODEL, needs_model, pil_bytes
from mask_detector import config
from mask_detector.cli import main
from mask_detector.config import LABELS
from mask_detector.detectors import HaarDetector, make_detector
from mask_detector.errors import (
    DatasetError,
    DetectorUnavailableError,
    ImageTooLargeError,
    InvalidBoxError,
    InvalidImageError,
    MaskDetectorError,
    ModelLoadError,
)
from mask_detector.imageio import MAX_PIXELS, read_image
from mask_detector.pipeline import MaskDetector


class StubClassifier:
    """Stands in for the LiteRT model where only the detector and input checks are under test."""

    def classify(self, faces):
        return np.tile(np.array([[0.25, 0.75]], np.float32), (len(faces), 1))


@pytest.fixture(scope="module")
def pipeline() -> MaskDetector:
    """The real pipeline when a model exists, else Haar with a stub classifier."""
    if MODEL.is_file():
        return MaskDetector.load(MODEL)
    return MaskDetector(HaarDetector(), StubClassifier())  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- fixture makers


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def blank_png(width: int, height: int) -> bytes:
    """An all-black 1-bit PNG of any size, written row block by row block: a 20000x20000 one
    is ~60 kB and is made without ever holding the 400 MB of pixels."""
    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    parts = []
    for start in range(0, height, 1000):
        parts.append(comp.compress(row * min(1000, height - start)))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims width x height pixels."""
    data = bytearray(pil_bytes(Image.new("RGB", (16, 16), (90, 90, 90)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def photo(astronaut_bgr: np.ndarray) -> Image.Image:
    """The astronaut as an RGB Pillow image, cropped to 512x400 so the frame is not square."""
    return Image.fromarray(astronaut_bgr[:400, :, ::-1])


def png_with_bad_header_crc(astronaut_bgr: np.ndarray) -> bytes:
    data = bytearray(pil_bytes(photo(astronaut_bgr), "PNG"))
    ihdr = data.index(b"IHDR")
    data[ihdr + 17] ^= 0xFF  # the IHDR chunk's CRC
    return bytes(data)


def png_with_bad_idat_crc(astronaut_bgr: np.ndarray) -> bytes:
    data = bytearray(pil_bytes(photo(astronaut_bgr), "PNG"))
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4 : idat], "big")
    data[idat + 4 + length] ^= 0xFF  # the first IDAT chunk's CRC; the zlib data is intact
    return bytes(data)


def exif_rotated_jpeg(astronaut_bgr: np.ndarray) -> bytes:
    """The photo stored on its side (90° anticlockwise) with EXIF orientation 6 (show rotated
    90° clockwise), as phones write portrait shots."""
    stored = photo(astronaut_bgr).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    return pil_bytes(stored, "JPEG", quality=95, exif=exif.tobytes())


def palette_with_transparency(astronaut_bgr: np.ndarray) -> bytes:
    im = photo(astronaut_bgr).quantize(64)
    return pil_bytes(im, "PNG", transparency=0)


def animated_gif(astronaut_bgr: np.ndarray) -> bytes:
    first = photo(astronaut_bgr)
    second = Image.new("RGB", first.size, (0, 0, 0))
    return pil_bytes(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)


def rgba_with_transparency(astronaut_bgr: np.ndarray) -> bytes:
    im = photo(astronaut_bgr).convert("RGBA")
    alpha = np.full(im.size[::-1], 255, np.uint8)
    alpha[:, :50] = 0  # a transparent left strip
    im.putalpha(Image.fromarray(alpha))
    return pil_bytes(im, "PNG")


def sixteen_bit_png(astronaut_bgr: np.ndarray) -> bytes:
    grey = np.asarray(photo(astronaut_bgr).convert("L"), np.uint16) * 257
    return pil_bytes(Image.fromarray(grey), "PNG")


# Good files: name -> (maker, expected (height, width)). Each must read and run through detect.
GOOD: dict[str, tuple[Callable[[np.ndarray], bytes], tuple[int, int]]] = {
    "sixteen_bit.png": (sixteen_bit_png, (400, 512)),
    "grey.jpg": (lambda a: pil_bytes(photo(a).convert("L"), "JPEG"), (400, 512)),
    "rgba.png": (rgba_with_transparency, (400, 512)),
    "palette.png": (palette_with_transparency, (400, 512)),
    "cmyk.jpg": (lambda a: pil_bytes(photo(a).convert("CMYK"), "JPEG"), (400, 512)),
    "animated.gif": (animated_gif, (400, 512)),
    "one_pixel.png": (lambda a: pil_bytes(Image.new("RGB", (1, 1), (9, 99, 199)), "PNG"), (1, 1)),
    "exif_rotated.jpg": (exif_rotated_jpeg, (400, 512)),
    "idat_crc.png": (png_with_bad_idat_crc, (400, 512)),
}

# Bad files: name -> (maker, exception type, words the message must contain).
BAD: dict[str, tuple[Callable[[np.ndarray], bytes], type[Exception], tuple[str, ...]]] = {
    "empty.jpg": (lambda a: b"", InvalidImageError, ("empty", "0 bytes")),
    "notes.jpg": (lambda a: b"shopping list: eggs, milk\n", InvalidImageError, ("not an image",)),
    "page.jpg": (
        lambda a: b"<!DOCTYPE html><html><body><img src=x.jpg></body></html>",
        InvalidImageError,
        ("not an image", "JPEG, PNG"),
    ),
    "truncated.jpg": (
        lambda a: pil_bytes(photo(a), "JPEG")[:5000],
        InvalidImageError,
        ("damaged or truncated",),
    ),
    "header_crc.png": (png_with_bad_header_crc, InvalidImageError, ("damaged PNG", "re-save")),
    "bomb.png": (lambda a: blank_png(20000, 20000), ImageTooLargeError, ("megapixels", "scale")),
    "bomb.jpg": (lambda a: jpeg_claiming(20000, 20000), ImageTooLargeError, ("megapixels",)),
    "just_over.png": (
        lambda a: blank_png(8000, 5001),
        ImageTooLargeError,
        ("8000x5001", "40 megapixels", "scale it down"),
    ),
}


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory, astronaut_bgr) -> Path:
    folder = tmp_path_factory.mktemp("catalogue")
    for name, (make, *_) in {**GOOD, **BAD}.items():
        (folder / name).write_bytes(make(astronaut_bgr))
    return folder


def assert_boxes_inside(detections, height: int, width: int) -> None:
    for det in detections:
        x, y, w, h = det.box
        assert all(isinstance(v, int) for v in det.box)
        assert min(x, y) >= 0 and min(w, h) >= 1 and x + w <= width and y + h <= height
        assert 0.0 <= det.confidence <= 1.0 and det.label in LABELS


# ---------------------------------------------------------------------------- API: files


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_files_read_and_detect(catalogue, pipeline, name):
    image = read_image(catalogue / name)
    assert image.dtype == np.uint8 and image.shape == (*GOOD[name][1], 3)
    assert image.flags.c_contiguous
    detections = pipeline.detect(image)
    assert_boxes_inside(detections, *image.shape[:2])
    assert pipeline.annotate(image, detections).shape == image.shape


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files_raise_documented_errors(catalogue, name):
    _, kind, words = BAD[name]
    with pytest.raises(kind) as caught:
        read_image(catalogue / name)
    assert isinstance(caught.value, MaskDetectorError)
    message = str(caught.value)
    assert message.startswith(str(catalogue / name))  # says which file
    for word in words:
        assert word in message
    assert "\n" not in message


def test_same_errors_from_bytes_and_streams(catalogue):
    data = (catalogue / "truncated.jpg").read_bytes()
    for source in (data, io.BytesIO(data)):
        with pytest.raises(InvalidImageError, match="damaged or truncated"):
            read_image(source)


def test_folder_given_as_image(tmp_path):
    with pytest.raises(InvalidImageError, match="is a folder"):
        read_image(tmp_path)


def test_exif_rotation_gives_boxes_in_the_display_frame(catalogue, astronaut_bgr):
    image = read_image(catalogue / "exif_rotated.jpg")
    upright = astronaut_bgr[:400]
    assert image.shape == upright.shape
    assert np.abs(image.astype(int) - upright).mean() < 8  # rotated back, not just reshaped
    boxes = HaarDetector().detect(image)
    centres = [(x + w / 2, y + h / 2) for x, y, w, h in boxes]
    # The astronaut's face is at about (225, 115) upright; on the stored, rotated pixels it
    # would be at about (115, 287).
    assert any(abs(cx - 225) < 40 and abs(cy - 115) < 40 for cx, cy in centres), boxes


def test_transparency_is_composited_on_white(catalogue):
    rgba = read_image(catalogue / "rgba.png")
    assert (rgba[:, :50] == 255).all() and not (rgba[:, 50:] == 255).all()


def test_animated_gif_gives_the_first_frame(catalogue):
    assert read_image(catalogue / "animated.gif").mean() > 20  # the second frame is black


def test_cmyk_colours_survive():
    red = pil_bytes(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG")
    assert np.abs(read_image(red)[4, 4].astype(int) - (0, 0, 255)).max() < 10


def test_idat_crc_alone_is_tolerated_because_the_pixels_are_intact(catalogue, astronaut_bgr):
    # Pillow checks zlib's own checksum of the pixel data, not the IDAT chunk's CRC.
    assert np.array_equal(read_image(catalogue / "idat_crc.png"), astronaut_bgr[:400])


def test_decompression_bomb_refused_fast_without_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    started = time.perf_counter()
    path.write_bytes(blank_png(20000, 20000))
    made = time.perf_counter() - started
    assert path.stat().st_size < 1_000_000 and made < 5
    tracemalloc.start()
    try:
        started = time.perf_counter()
        with pytest.raises(ImageTooLargeError):
            read_image(path)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 20_000_000  # decoded it would be 400 MB (L) or 1.2 GB (BGR)


def test_decompression_bomb_peak_rss_in_a_fresh_process(tmp_path):
    """tracemalloc does not see Pillow's C allocations: measure the process's peak RSS too."""
    path = tmp_path / "bomb.png"
    path.write_bytes(blank_png(20000, 20000))
    probe = (
        "import resource, sys\n"
        "from mask_detector.imageio import read_image\n"
        "from mask_detector.errors import ImageTooLargeError\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    read_image(sys.argv[1])\nexcept ImageTooLargeError:\n    print('refused')\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(path)],
        capture_output=True,
        text=True,
        cwd=config.REPO_ROOT,
        timeout=60,
    )
    refused, grown_kb = proc.stdout.split()
    assert refused == "refused", proc.stderr
    assert int(grown_kb) < 50_000  # under 50 MB of growth; decoding would take 400 MB


def test_limit_can_be_lowered_per_call(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(blank_png(1000, 1000))
    assert read_image(path).shape == (1000, 1000, 3)
    with pytest.raises(ImageTooLargeError, match="1000x1000"):
        read_image(path, max_pixels=999_999)
    assert MAX_PIXELS >= 1000 * 1000


# ---------------------------------------------------------------------------- API: arrays

BAD_ARRAYS = {
    "float32": (np.zeros((20, 20, 3), np.float32), ("dtype uint8", "float32", "astype")),
    "float64": (np.ones((20, 20, 3)), ("dtype uint8", "float64")),
    "uint16": (np.zeros((20, 20, 3), np.uint16), ("dtype uint8", "uint16")),
    "int64": (np.zeros((20, 20), np.int64), ("dtype uint8",)),
    "bool": (np.zeros((20, 20), bool), ("dtype uint8",)),
    "1-D": (np.zeros(60, np.uint8), ("shape", "(60,)")),
    "4-D batch": (np.zeros((2, 20, 20, 3), np.uint8), ("shape", "(2, 20, 20, 3)")),
    "2 channels": (np.zeros((20, 20, 2), np.uint8), ("shape", "HxWx3")),
    "5 channels": (np.zeros((20, 20, 5), np.uint8), ("shape", "HxWx4")),
    "channels first": (np.zeros((3, 20, 20), np.uint8), ("shape", "(3, 20, 20)")),
    "no rows": (np.zeros((0, 20, 3), np.uint8), ("empty",)),
    "no columns": (np.zeros((20, 0), np.uint8), ("empty",)),
    "list": ([[0, 1], [2, 3]], ("numpy array", "list")),
    "None": (None, ("numpy array", "NoneType")),
    "PIL image": (Image.new("RGB", (4, 4)), ("numpy array", "Image")),
}


@pytest.mark.parametrize("name", sorted(BAD_ARRAYS))
@pytest.mark.parametrize("method", ["detect", "annotate", "process"])
def test_bad_arrays_raise_invalid_image_error(pipeline, name, method):
    array, words = BAD_ARRAYS[name]
    call = {
        "detect": lambda: pipeline.detect(array),
        "annotate": lambda: pipeline.annotate(array, []),
        "process": lambda: pipeline.process(array),
    }[method]
    with pytest.raises(InvalidImageError) as caught:
        call()
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((1, 1), np.uint8),
        np.zeros((1, 1, 1), np.uint8),
        np.zeros((1, 1, 3), np.uint8),
        np.zeros((1, 1, 4), np.uint8),
        np.zeros((1, 3000, 3), np.uint8),
        np.zeros((3000, 2, 3), np.uint8),
    ],
    ids=["1x1", "1x1x1", "1x1x3", "1x1x4", "1x3000", "3000x2"],
)
def test_degenerate_but_valid_arrays(pipeline, array):
    assert pipeline.detect(array) == []
    assert pipeline.annotate(array, []).shape == (*array.shape[:2], 3)


def test_strided_readonly_and_fortran_arrays(pipeline, astronaut_bgr):
    readonly = astronaut_bgr.copy()
    readonly.setflags(write=False)
    for array in (
        astronaut_bgr[:, ::-1],
        astronaut_bgr[::2, ::2],
        astronaut_bgr[:, :, ::-1],
        np.asfortranarray(astronaut_bgr),
        readonly,
    ):
        detections = pipeline.detect(array)
        assert_boxes_inside(detections, *array.shape[:2])
        out = pipeline.annotate(array, detections)
        assert out.shape == array.shape and out.flags.c_contiguous


def test_boxes_outside_the_image_raise_invalid_box_error(pipeline, astronaut_bgr):
    h, w = astronaut_bgr.shape[:2]
    corner = pipeline.probabilities(astronaut_bgr, [(w - 1, h - 1, 40, 40)])  # one pixel inside
    assert len(corner) == 1
    for box in [(w, 10, 20, 20), (10, h + 5, 20, 20), (-100, -100, 30, 30), (5, 5, 0, 9)]:
        with pytest.raises(InvalidBoxError, match="outside"):
            pipeline.probabilities(astronaut_bgr, [box])


# ---------------------------------------------------------------------------- API: models


def test_missing_model():
    with pytest.raises(ModelLoadError, match=r"model file not found: /nope/m\.tflite.*train"):
        MaskDetector.load("/nope/m.tflite")


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not a model\n", b"TFL3" + bytes(range(256)) * 4],
    ids=["0-byte", "text", "junk"],
)
def test_corrupt_model(tmp_path, content):
    path = tmp_path / "bad.tflite"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match="not a valid LiteRT model"):
        MaskDetector.load(path)


@needs_model
def test_truncated_model(tmp_path):
    path = tmp_path / "half.tflite"
    path.write_bytes(MODEL.read_bytes()[:4096])  # type: ignore[union-attr]
    with pytest.raises(ModelLoadError, match=r"half\.tflite is not a valid LiteRT model"):
        MaskDetector.load(path)


def test_missing_yunet_file():
    with pytest.raises(DetectorUnavailableError) as caught:
        make_detector("yunet", yunet_model="/nope.onnx")
    message = str(caught.value)
    assert "YuNet model file not found: /nope.onnx" in message
    assert "--yunet-model" in message and "haar" in message  # what to do instead
    assert isinstance(caught.value, ModelLoadError)


def test_corrupt_yunet_file(tmp_path):
    path = tmp_path / "yunet.onnx"
    path.write_bytes(b"not onnx at all")
    with pytest.raises(DetectorUnavailableError, match="could not be loaded"):
        make_detector("yunet", yunet_model=path)


def test_unknown_detector_name():
    with pytest.raises(DetectorUnavailableError, match=r"unknown face detector 'hog'.*haar, yunet"):
        make_detector("hog")


# ---------------------------------------------------------------------------- CLI


def error_lines(err: str) -> list[str]:
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("error:")]


@needs_model
def test_cli_predict_folder_mixing_good_and_bad(catalogue, capsys):
    code = main(["predict", str(catalogue), "--model", str(MODEL), "--json"])
    captured = capsys.readouterr()
    assert code == 1  # some inputs failed
    errors = error_lines(captured.err)
    assert len(errors) == len(BAD)
    for name, (_, _, words) in BAD.items():
        (line,) = [e for e in errors if f"{catalogue / name}:" in e]
        assert all(word in line for word in words), line
    results = json.loads(captured.out)
    assert sorted(Path(r["file"]).name for r in results) == sorted(GOOD)
    for result in results:
        height, width = GOOD[Path(result["file"]).name][1]
        for face in result["faces"]:
            x, y, w, h = face["box"]
            assert min(x, y) >= 0 and x + w <= width and y + h <= height


@needs_model
def test_cli_predict_writes_annotations_for_good_files_only(catalogue, tmp_path, capsys):
    out = tmp_path / "annotated"
    code = main(["predict", str(catalogue), "--model", str(MODEL), "--out", str(out)])
    capsys.readouterr()
    assert code == 1
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"{Path(n).stem}_annotated.png" for n in GOOD)


@needs_model
def test_cli_predict_all_good_exits_0(catalogue, capsys):
    code = main(
        [
            "predict",
            str(catalogue / "grey.jpg"),
            str(catalogue / "one_pixel.png"),
            "--model",
            str(MODEL),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0 and error_lines(err) == []
    assert f"{catalogue / 'one_pixel.png'}: no face found" in out


@needs_model
def test_cli_predict_empty_folder_and_missing_file(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = main(
        ["predict", str(tmp_path / "empty"), str(tmp_path / "gone.jpg"), "--model", str(MODEL)]
    )
    errors = error_lines(capsys.readouterr().err)
    assert code == 1 and len(errors) == 2
    assert "holds no files" in errors[0] and "gone.jpg: no such file" in errors[1]


@needs_model
def test_cli_predict_out_is_a_file(catalogue, tmp_path, capsys):
    blocker = tmp_path / "out.txt"
    blocker.write_text("x")
    code = main(
        ["predict", str(catalogue / "grey.jpg"), "--model", str(MODEL), "--out", str(blocker)]
    )
    (line,) = error_lines(capsys.readouterr().err)
    assert code == 1 and "is a file" in line and "give a folder" in line


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize("content", [None, b"", b"garbage"], ids=["missing", "0-byte", "junk"])
def test_cli_bad_model_is_one_line(tmp_path, capsys, command, content):
    model = tmp_path / "m.tflite"
    if content is not None:
        model.write_bytes(content)
    data = tmp_path / "data"
    for label in LABELS:
        (data / label).mkdir(parents=True)
        cv2.imwrite(str(data / label / "a.png"), np.zeros((30, 30, 3), np.uint8))
    target = data / LABELS[0] / "a.png" if command == "predict" else data
    code = main([command, str(target), "--model", str(model)])
    err = capsys.readouterr().err
    (line,) = error_lines(err)
    assert code == 1
    assert ("model file not found" if content is None else "not a valid LiteRT model") in line


def test_cli_missing_yunet_is_one_line(catalogue, capsys):
    code = main(
        [
            "predict",
            str(catalogue / "grey.jpg"),
            "--detector",
            "yunet",
            "--yunet-model",
            "/nope.onnx",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: YuNet model file")
    assert "/nope.onnx" in err and "--yunet-model PATH" in err


@needs_model
def test_cli_haar_works_when_yunet_is_missing(catalogue, capsys):
    code = main(
        [
            "predict",
            str(catalogue / "exif_rotated.jpg"),
            "--model",
            str(MODEL),
            "--yunet-model",
            "/nope.onnx",
            "--detector",
            "haar",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0 and error_lines(err) == [] and "box=" in out


def make_dataset(root: Path, face: np.ndarray, layout: dict[str, dict[str, bytes | None]]):
    """layout: class folder -> file name -> bytes (None: a good PNG of `face`)."""
    for folder, files in layout.items():
        (root / folder).mkdir(parents=True)
        for name, data in files.items():
            if data is None:
                cv2.imwrite(str(root / folder / name), face)
            else:
                (root / folder / name).write_bytes(data)


def test_cli_evaluate_no_class_folders(tmp_path, capsys, astronaut_bgr):
    cv2.imwrite(str(tmp_path / "loose.png"), astronaut_bgr)  # images but no class folders
    make_dataset(tmp_path, astronaut_bgr, {"misc": {"a.png": None}})
    code = main(["evaluate", str(tmp_path)])
    (line,) = error_lines(capsys.readouterr().err)
    assert code == 1 and "expected folders like with_mask/ and without_mask/" in line


def test_cli_evaluate_not_a_folder(tmp_path, capsys):
    code = main(["evaluate", str(tmp_path / "nope")])
    (line,) = error_lines(capsys.readouterr().err)
    assert code == 1 and "is not a folder" in line


@needs_model
def test_cli_evaluate_empty_class(tmp_path, capsys, astronaut_bgr):
    make_dataset(tmp_path, astronaut_bgr, {"with_mask": {"a.png": None}, "without_mask": {}})
    code = main(["evaluate", str(tmp_path), "--model", str(MODEL)])
    (line,) = error_lines(capsys.readouterr().err)
    assert code == 1 and "without_mask folder is empty" in line


def test_dataset_errors_in_the_api(tmp_path, astronaut_bgr):
    from mask_detector.data.dataset import LoadReport, iter_images, list_samples

    make_dataset(tmp_path, astronaut_bgr, {"with_mask": {"a.png": None}, "without_mask": {}})
    with pytest.raises(DatasetError, match="empty"):
        list_samples(tmp_path)
    (tmp_path / "without_mask" / "b.jpg").write_bytes(b"junk")
    (tmp_path / "with_mask" / "a.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="none of the 2 files could be read"):
        list(iter_images(list_samples(tmp_path), LoadReport()))


@needs_model
def test_cli_evaluate_skips_unreadable_files_among_good_ones(tmp_path, capsys, astronaut_bgr):
    face = astronaut_bgr[40:200, 150:300]
    bad = {
        "empty.jpg": b"",
        "page.jpg": b"<html></html>",
        "cut.jpg": pil_bytes(Image.fromarray(face), "JPEG")[:300],
    }
    make_dataset(
        tmp_path,
        face,
        {"WithMask": {"a.png": None, **bad}, "without-mask": {"b.png": None, "c.png": None}},
    )
    code = main(["evaluate", str(tmp_path), "--model", str(MODEL), "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 0 and report["n"] == 3
    assert sorted(Path(s["file"]).name for s in report["skipped"]) == sorted(bad)
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning: skipped")]
    assert len(warnings) == 3 and "Traceback" not in captured.err


@needs_model
def test_cli_evaluate_nothing_readable(tmp_path, capsys, astronaut_bgr):
    make_dataset(
        tmp_path, astronaut_bgr, {"with_mask": {"a.jpg": b"x"}, "without_mask": {"b.jpg": b""}}
    )
    code = main(["evaluate", str(tmp_path), "--model", str(MODEL)])
    (line,) = error_lines(capsys.readouterr().err)
    assert code == 1 and "none of the 2 files could be read as an image" in line


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != config.ENV_MODEL}
    return subprocess.run(
        [sys.executable, "-m", "mask_detector", *argv],
        capture_output=True,
        text=True,
        cwd=config.REPO_ROOT,
        env=env,
        timeout=120,
    )


def test_subprocess_missing_yunet_exit_code():
    proc = run_cli("predict", "x.jpg", "--detector", "yunet", "--yunet-model", "/nope.onnx")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("error: YuNet model file not found: /nope.onnx")
    assert proc.stderr.count("\n") == 1


@needs_model
def test_subprocess_predict_mixed_folder_exit_code(catalogue):
    proc = run_cli("predict", str(catalogue), "--model", str(MODEL))
    assert proc.returncode == 1
    assert len(error_lines(proc.stderr)) == len(BAD)
    for name in GOOD:
        assert f"{catalogue / name}: " in proc.stdout
