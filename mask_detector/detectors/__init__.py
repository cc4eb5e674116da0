"""Face detectors behind one interface, chosen by name: "haar" (built in) or "yunet" (ONNX file)."""

from __future__ import annotations

from pathlib import Path

from ..errors import DetectorUnavailableError
from . import yunet
from .base import DEFAULT_MIN_FACE, FaceDetector, SmallFacePath, clip_box, clip_boxes
from .haar import HaarDetector
from .yunet import YuNetDetector, ensure_yunet_model

DETECTORS: tuple[str, ...] = ("haar", "yunet")
#: The small-face path of each detector that has one (what photos and video files take); Haar
#: searches photos as it searches camera frames (see HaarDetector).
SMALL_FACE_PATHS: dict[str, SmallFacePath] = {"yunet": yunet.SMALL_FACES}

__all__ = [
    "DEFAULT_MIN_FACE",
    "DETECTORS",
    "SMALL_FACE_PATHS",
    "FaceDetector",
    "HaarDetector",
    "SmallFacePath",
    "YuNetDetector",
    "clip_box",
    "clip_boxes",
    "ensure_yunet_model",
    "make_detector",
    "yunet_available",
]


def make_detector(
    name: str = "haar",
    *,
    yunet_model: str | Path | None = None,
    min_face: int = DEFAULT_MIN_FACE,
    small_faces: bool = False,
    download: bool = False,
) -> FaceDetector:
    """A ready detector by name; DetectorUnavailableError if the name or YuNet file is wrong.

    `small_faces=True`: the small-face path of photos and video files (SMALL_FACE_PATHS), for a
    detector that has one; False: the live path, each detector's fixed working size.
    """
    key = (name or "").strip().lower()
    if key == "haar":
        return HaarDetector(min_face=min_face)
    if key == "yunet":
        path = ensure_yunet_model(yunet_model, download=download)
        return YuNetDetector(path, min_face=min_face, small_faces=small_faces)
    raise DetectorUnavailableError(
        f"unknown face detector {name!r}; choose one of: {', '.join(DETECTORS)}"
    )


def yunet_available(yunet_model: str | Path | None = None) -> tuple[bool, str]:
    """(True, path) if a YuNet file is found locally, else (False, why and what to do)."""
    try:
        path = ensure_yunet_model(yunet_model, download=False)
    except DetectorUnavailableError as exc:
        return False, str(exc)
    return True, str(path)
