"""What several test files share: skip markers, stand-ins, files made in code, a thread runner.

Fixtures live in conftest.py, where pytest finds them; everything else is imported from here.
"""

from __future__ import annotations

import contextlib
import io
import threading
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import pytest
from PIL import Image

from benchmarks.harness import CHROMIUM
from benchmarks.people_clip import ASTRONAUT_FACE
from benchmarks.people_clip import draw_mask as draw_mask  # the tests' masked faces too
from mask_detector import config

SHARED = config.shared_dir()
needs_shared = pytest.mark.skipif(
    not (SHARED / "datasets").is_dir(),
    reason=f"shared data not found at {SHARED} (set {config.ENV_SHARED})",
)
#: The shipped classifier; tests that need it name it explicitly (conftest clears the env var).
MODEL = config.MODELS_DIR / config.TFLITE_MODEL_NAME
needs_model = pytest.mark.skipif(not MODEL.is_file(), reason=f"{MODEL} not trained yet")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install -y chromium"
)
#: A real browser streaming to a real app server: slow, and needs the model and Chromium.
browser_test = [pytest.mark.browser, pytest.mark.slow, needs_chromium, needs_model]
YUNET = config.yunet_model_path()
needs_yunet = pytest.mark.skipif(
    YUNET is None or not YUNET.is_file(), reason="YuNet ONNX file not found"
)

T = TypeVar("T")
U = TypeVar("U")

#: Where the astronaut's face is in `benchmark.astronaut()`, as Haar finds it: (x, y, w, h).
ASTRONAUT_FACE_BOX = ASTRONAUT_FACE


class FixedClassifier:
    """Every face is the first label at 90%: app and archive logic tested without a model."""

    def classify(self, faces: list[np.ndarray]) -> np.ndarray:
        row = np.full(len(config.LABELS), 0.1 / (len(config.LABELS) - 1), np.float32)
        row[0] = 0.9
        return np.tile(row, (len(faces), 1))


def crowd_of_small_faces(
    astronaut_bgr: np.ndarray, sizes: Sequence[int] = (8, 9, 10, 11, 12, 13)
) -> tuple[np.ndarray, list[tuple[float, float, float, float]]]:
    """A 640x480 grey photo holding the astronaut's head at each of `sizes` px (its face box; at
    most 40 px, six at most), side by side, and where each face is."""
    photo = np.full((480, 640, 3), 120, np.uint8)
    truths = []
    fx, fy, fw, fh = ASTRONAUT_FACE_BOX
    head = astronaut_bgr[fy - fh // 2 : fy + fh * 3 // 2, fx - fw // 2 : fx + fw * 3 // 2]
    for i, size in enumerate(sizes):
        scale = size / fw
        small = cv2.resize(head, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        x, y = 40 + i * 100, 200 + (i % 2) * 100
        photo[y : y + small.shape[0], x : x + small.shape[1]] = small
        truths.append((x + fw // 2 * scale, y + fh // 2 * scale, float(size), float(size)))
    return photo, truths


def encode(image: np.ndarray, ext: str = ".png") -> bytes:
    """A BGR array as the bytes of an image file (OpenCV's encoder for `ext`)."""
    return cv2.imencode(ext, image)[1].tobytes()


def pil_bytes(im: Image.Image, fmt: str, **kw: object) -> bytes:
    """A Pillow image saved as `fmt` (Pillow's options, e.g. exif=...), in memory."""
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def make_zip(entries: dict[str, bytes]) -> bytes:
    """A zip archive holding `entries` (member name -> bytes), in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def small_video(image: np.ndarray, frames: int = 3, fps: int = 5) -> bytes:
    """An MPEG-4 clip of `frames` copies of `image` (`fps` frames a second), made in memory."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


def from_threads(call: Callable[[T], U], items: Sequence[T], threads: int = 4) -> list[U]:
    """`call(item)` for every item on `threads` threads, in order of `items`.

    The threads meet at a barrier before each call, so the calls overlap as much as they can
    (what a race needs to show itself); a last round with fewer items than threads waits 1 s.
    """
    together = threading.Barrier(threads)

    def overlapping(item: T) -> U:
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait(timeout=1)
        return call(item)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(overlapping, items))


def conditions_record(model: Path) -> dict:
    """A benchmarks/conditions.py record for the model file: one set, one condition, four faces
    (two under 32 px, both right; two unmasked from 32 px, one right)."""
    from mask_detector.evaluation.audits import file_sha256
    from mask_detector.evaluation.metrics import classification_report

    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.7, 0.3, 0.0], [0.1, 0.9, 0.0]])
    crops = classification_report(np.array([0, 1, 1, 1]), probs, [20, 20, 40, 40])
    return {
        "model": model.name,
        "model_sha256": file_sha256(model),
        "sets": {"scenes-dev": {"grey": {"pipeline": None, "crops": crops}}},
    }
