"""One pipeline for photos, video files and camera frames: find faces, label each one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .classifier import MaskClassifier
from .config import LABELS
from .detection import Detection
from .detectors import FaceDetector, make_detector
from .draw import annotate
from .imageio import as_bgr
from .preprocess import crop_faces


class MaskDetector:
    """Face detector + mask classifier.

    Safe to share between threads: the face detector and the classifier each hold a lock around
    their model, and this class keeps no per-call state.
    """

    def __init__(
        self, detector: FaceDetector, classifier: MaskClassifier, min_confidence: float = 0.0
    ) -> None:
        self.detector = detector
        self.classifier = classifier
        #: Faces whose label confidence is below this are left out of the results.
        self.min_confidence = min_confidence

    @classmethod
    def load(
        cls,
        model: str | Path | None = None,
        detector: str = "haar",
        yunet_model: str | Path | None = None,
        min_confidence: float = 0.0,
        download: bool = False,
    ) -> MaskDetector:
        """The shipped model (or `model`) with the Haar (default) or YuNet face detector.

        `download=True` lets a missing YuNet file be fetched (sha256-checked) into the cache.
        """
        return cls(
            make_detector(detector, yunet_model=yunet_model, download=download),
            MaskClassifier(model),
            min_confidence,
        )

    def classify_faces(self, faces: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """(label, confidence) for each BGR face crop, in one classifier call."""
        probs = self.classifier.classify(faces)
        best = probs.argmax(axis=1)
        return [(LABELS[k], float(probs[i, k])) for i, k in enumerate(best)]

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Every face in an HxWx3 uint8 BGR image (HxW / HxWx1 grey and BGRA accepted), labelled.

        Boxes are ints inside the image (w, h >= 1); InvalidImageError for any other array.
        """
        return self._detect_bgr(as_bgr(image))

    def _detect_bgr(self, bgr: np.ndarray) -> list[Detection]:
        boxes = self.detector.detect(bgr)
        if not boxes:
            return []
        labelled = self.classify_faces(crop_faces(bgr, boxes))
        return [
            Detection(tuple(int(v) for v in box), label, conf)  # type: ignore[arg-type]
            for box, (label, conf) in zip(boxes, labelled, strict=True)
            if conf >= self.min_confidence
        ]

    def annotate(self, image: np.ndarray, detections: Sequence[Detection]) -> np.ndarray:
        """A copy of the image with boxes and labels drawn: always HxWx3 uint8 BGR, whatever
        the input's channels (grey is repeated, a BGRA alpha channel dropped)."""
        return annotate(as_bgr(image), detections)

    def process(self, image: np.ndarray) -> tuple[np.ndarray, list[Detection]]:
        """Detect and draw in one step: what a video frame needs (the image is checked and
        converted to BGR once, for both)."""
        bgr = as_bgr(image)
        detections = self._detect_bgr(bgr)
        return annotate(bgr, detections), detections
