"""Fixtures made in code, and the switch that skips tests needing ../shared."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from mask_detector import config

# TensorFlow's bundled BoringSSL and pylibsrtp's OpenSSL clash: importing pylibsrtp (via
# aiortc) after TensorFlow segfaults. The app never imports TensorFlow, but this one test
# process does (training and Keras-agreement tests), so load the WebRTC stack first.
with contextlib.suppress(ImportError):
    import pylibsrtp  # noqa: F401

SHARED = config.shared_dir()
needs_shared = pytest.mark.skipif(
    not (SHARED / "datasets").is_dir(),
    reason=f"shared data not found at {SHARED} (set {config.ENV_SHARED})",
)
#: The shipped classifier; tests that need it name it explicitly (conftest clears the env var).
MODEL = config.MODELS_DIR / config.TFLITE_MODEL_NAME
needs_model = pytest.mark.skipif(not MODEL.is_file(), reason=f"{MODEL} not trained yet")
#: Debian's Chromium, driven by Playwright in the browser tests (no browser download).
CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install -y chromium"
)
YUNET = config.yunet_model_path()
needs_yunet = pytest.mark.skipif(
    YUNET is None or not YUNET.is_file(), reason="YuNet ONNX file not found"
)


@pytest.fixture(scope="session")
def astronaut_bgr() -> np.ndarray:
    """A real photo with one frontal face (scikit-image's astronaut), 512x512 BGR."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


@pytest.fixture(scope="session")
def astronaut_face_box() -> tuple[int, int, int, int]:
    """Where the astronaut's face is, as Haar finds it: (x, y, w, h)."""
    return (177, 66, 95, 95)


def draw_mask(face_bgr: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A surgical-mask-like light-blue shape over the lower half of the face in `box`."""
    out = face_bgr.copy()
    x, y, w, h = box
    pts = np.array(
        [
            [x + w * 0.05, y + h * 0.5],
            [x + w * 0.95, y + h * 0.5],
            [x + w * 0.85, y + h * 0.95],
            [x + w * 0.15, y + h * 0.95],
        ],
        np.int32,
    )
    cv2.fillPoly(out, [pts], (235, 206, 135))
    for k in range(3):
        yy = int(y + h * (0.6 + 0.1 * k))
        cv2.line(out, (int(x + w * 0.15), yy), (int(x + w * 0.85), yy), (200, 170, 110), 2)
    return out


@pytest.fixture(scope="session")
def masked_astronaut_bgr(astronaut_bgr, astronaut_face_box) -> np.ndarray:
    return draw_mask(astronaut_bgr, astronaut_face_box)


@pytest.fixture(autouse=True)
def _no_user_env(monkeypatch):
    """Tests see the repository's defaults, not a developer's overrides."""
    for name in (config.ENV_MODEL, config.ENV_YUNET, config.ENV_BACKBONE):
        if name in os.environ:
            monkeypatch.delenv(name)


def repo_root() -> Path:
    return config.REPO_ROOT


def small_video(image: np.ndarray, frames: int = 3) -> bytes:
    """An MPEG-4 clip of `frames` copies of `image` (5 fps), made in memory."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()
