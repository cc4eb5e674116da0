"""Fixtures made in code, and the test process's environment.

Plain helpers (skip markers, stand-ins, file makers) are in helpers.py, imported by name.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
import pytest

from helpers import ASTRONAUT_FACE_BOX, draw_mask
from mask_detector import config

# TensorFlow's bundled BoringSSL and pylibsrtp's OpenSSL clash: importing pylibsrtp (via
# aiortc) after TensorFlow segfaults. The app never imports TensorFlow, but this one test
# process does (training and Keras-agreement tests), so load the WebRTC stack first.
with contextlib.suppress(ImportError):
    import pylibsrtp  # noqa: F401


@pytest.fixture(scope="session")
def astronaut_bgr() -> np.ndarray:
    """A real photo with one frontal face (scikit-image's astronaut), 512x512 BGR."""
    from mask_detector.benchmark import astronaut

    return astronaut()


@pytest.fixture(scope="session")
def astronaut_face_box() -> tuple[int, int, int, int]:
    """Where the astronaut's face is, as Haar finds it: (x, y, w, h)."""
    return ASTRONAUT_FACE_BOX


@pytest.fixture(scope="session")
def masked_astronaut_bgr(astronaut_bgr, astronaut_face_box) -> np.ndarray:
    return draw_mask(astronaut_bgr, astronaut_face_box)


@pytest.fixture(autouse=True)
def _no_user_env(monkeypatch):
    """Tests see the repository's defaults, not a developer's overrides."""
    for name in (config.ENV_MODEL, config.ENV_YUNET, config.ENV_BACKBONE):
        if name in os.environ:
            monkeypatch.delenv(name)
