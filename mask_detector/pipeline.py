"""One pipeline for photos, video files and camera frames: find faces, label each one."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import TypeVar, cast

import numpy as np

from .classifier import MaskClassifier
from .config import LABELS, MIN_JUDGED_FACE, TOO_SMALL, default_model_path
from .detection import Box, Detection, face_size, top_label
from .detectors import DEFAULT_MIN_FACE, FaceDetector, make_detector
from .draw import annotate
from .imageio import as_bgr
from .preprocess import crop_faces

T = TypeVar("T")

_loaded: dict[Hashable, object] = {}
_loading = threading.Lock()


def _load_once(key: Hashable, load: Callable[[], T]) -> T:
    """`load()` the first time `key` is asked for in this process, the same object after."""
    with _loading:
        if key not in _loaded:
            _loaded[key] = load()
        return cast(T, _loaded[key])


def load_classifier(
    model: str | Path | None = None, *, shared: bool = False, num_threads: int | None = None
) -> MaskClassifier:
    """The classifier in `model` (default: the shipped one, or $MASK_DETECTOR_MODEL).

    `shared=True` returns the one this process already loaded from the same file, if any.
    `num_threads` sets the interpreter's threads (default: MaskClassifier's); a batch worker
    given one CPU asks for 1, so that workers on one machine do not fight for its cores.
    """
    path = Path(model) if model else default_model_path()
    options = {} if num_threads is None else {"num_threads": num_threads}
    if not shared:
        return MaskClassifier(path, **options)
    return _load_once(
        ("classifier", str(path), num_threads), lambda: MaskClassifier(path, **options)
    )


def load_face_detector(
    name: str = "haar",
    *,
    min_face: int = DEFAULT_MIN_FACE,
    small_faces: bool = False,
    yunet_model: str | Path | None = None,
    download: bool = False,
    shared: bool = False,
) -> FaceDetector:
    """`detectors.make_detector`, or with `shared=True` one over the model this process already
    loaded with the same name, path and YuNet file, if any: detectors that differ only in
    `min_face` (a sidebar slider) share one model, its networks and its lock, so moving the
    slider loads nothing and keeps no model per value."""

    def make() -> FaceDetector:
        return make_detector(
            name,
            yunet_model=yunet_model,
            min_face=min_face,
            small_faces=small_faces,
            download=download,
        )

    if not shared:
        return make()
    key = ("face detector", name, small_faces, str(yunet_model or ""))
    loaded = _load_once(key, make)

    def narrowed() -> FaceDetector:
        detector = copy.copy(loaded)  # shares the model and the lock that guards it
        detector.min_face = min_face
        return detector

    return _load_once((*key, min_face), narrowed)


class MaskDetector:
    """Face detector + mask classifier.

    Safe to share between threads: the face detector and the classifier each hold a lock around
    their model, and this class keeps no per-call state.
    """

    def __init__(
        self,
        detector: FaceDetector,
        classifier: MaskClassifier,
        min_confidence: float = 0.0,
        min_judged_face: int = MIN_JUDGED_FACE,
    ) -> None:
        self.detector = detector
        self.classifier = classifier
        #: Faces whose label confidence is below this are left out of the results.
        self.min_confidence = min_confidence
        #: Faces smaller than this (longer side, px) are found but not judged (config.TOO_SMALL).
        self.min_judged_face = min_judged_face

    @classmethod
    def load(
        cls,
        model: str | Path | None = None,
        detector_name: str = "haar",
        yunet_model: str | Path | None = None,
        min_confidence: float = 0.0,
        download: bool = False,
        *,
        min_face: int = DEFAULT_MIN_FACE,
        small_faces: bool = False,
        min_judged_face: int = MIN_JUDGED_FACE,
        shared: bool = False,
        num_threads: int | None = None,
    ) -> MaskDetector:
        """The shipped model (or `model`) with the Haar (default) or YuNet face detector.

        `min_face`: the smallest face found (longer side, pixels of the original image);
        `small_faces=True`: the small-face path (what photos and video files take, see
        config.PHOTO); `min_judged_face`: smaller faces are found but not labelled.
        `download=True` lets a missing YuNet file be fetched (sha256-checked) into the cache.
        `shared=True` builds it over the classifier and face detector this process already
        loaded with the same files and settings, loading each only once: what a server with
        many sessions wants (safe, since each part holds its own lock). The pipeline itself is
        a cheap wrapper, so make one per use rather than keeping it. `num_threads`: the
        classifier's threads (see load_classifier).
        """
        return cls(
            load_face_detector(
                detector_name,
                min_face=min_face,
                small_faces=small_faces,
                yunet_model=yunet_model,
                download=download,
                shared=shared,
            ),
            load_classifier(model, shared=shared, num_threads=num_threads),
            min_confidence,
            min_judged_face,
        )

    def probabilities(self, bgr: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """Class probabilities (N, len(LABELS)) of the faces at `boxes` in a BGR image, in one
        classifier call: the one classification path of photos, videos and the camera (the
        tracker, tracking.py, calls it for the faces it has to classify)."""
        if not boxes:
            return np.empty((0, len(LABELS)), np.float32)
        return self.classifier.classify(crop_faces(bgr, boxes))

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Every face in an HxWx3 uint8 BGR image (HxW / HxWx1 grey and BGRA accepted), labelled.

        Boxes are ints inside the image (w, h >= 1); InvalidImageError for any other array.
        """
        return self._detect_bgr(as_bgr(image))

    def judges(self, box: Box) -> bool:
        """Whether the classifier is asked about the face in `box`: not when it is too small to
        judge (config.TOO_SMALL); the one rule for photos, videos and the camera."""
        return face_size(box) >= self.min_judged_face

    def _detect_bgr(self, bgr: np.ndarray) -> list[Detection]:
        boxes: list[Box] = [
            (int(x), int(y), int(w), int(h)) for x, y, w, h in self.detector.detect(bgr)
        ]
        judged = [box for box in boxes if self.judges(box)]
        labels = iter([top_label(p) for p in self.probabilities(bgr, judged)])
        detections = []
        for box in boxes:
            if not self.judges(box):
                detections.append(Detection(box, TOO_SMALL, None))
                continue
            label, confidence = next(labels)
            if confidence >= self.min_confidence:
                detections.append(Detection(box, label, confidence))
        return detections

    def annotate(
        self, image: np.ndarray, detections: Sequence[Detection], *, blur: bool = False
    ) -> np.ndarray:
        """A copy of the image with boxes and labels drawn (faces blurred first with
        `blur=True`): always HxWx3 uint8 BGR, whatever the input's channels (grey is repeated, a
        BGRA alpha channel dropped)."""
        return annotate(as_bgr(image), detections, blur=blur)

    def process(
        self, image: np.ndarray, *, blur: bool = False
    ) -> tuple[np.ndarray, list[Detection]]:
        """Detect and draw in one step (the image is checked and converted to BGR once, for
        both). A stream of frames wants tracking.FaceTracker.process instead."""
        bgr = as_bgr(image)
        detections = self._detect_bgr(bgr)
        return annotate(bgr, detections, blur=blur), detections
