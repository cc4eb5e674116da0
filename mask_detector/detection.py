"""The result types every part of the pipeline speaks: one labelled face box, and the same box
when it belongs to a person followed across frames."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .config import LABELS, RESULT_LABELS

#: A face box in pixels: left, top, width, height.
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Detection:
    """A face: its box, its label (of config.RESULT_LABELS) and the classifier's confidence in
    that label, None for a face too small to judge (config.TOO_SMALL)."""

    box: Box
    label: str
    confidence: float | None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "box": list(self.box)}


def face_size(box: Sequence[float]) -> int:
    """The size of a face: the longer side of its (x, y, w, h) box, in pixels. What the minimum
    face sizes and the by-size figures measure."""
    return round(max(float(box[2]), float(box[3])))


@dataclass(frozen=True)
class TrackedFace(Detection):
    """A face in one frame of a stream, with the id of the person it belongs to (tracking.py).

    `track_id` is None on the first frame a face is seen, before it is confirmed as a track; the
    label and confidence are the track's, smoothed over its recent frames.
    """

    track_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.track_id,
            "box": list(self.box),
            "label": self.label,
            "confidence": self.confidence,
        }


def top_label(probabilities: np.ndarray) -> tuple[str, float]:
    """The most probable label of one face's class probabilities (in the order of LABELS), and
    its probability."""
    best = int(np.argmax(probabilities))
    return LABELS[best], float(probabilities[best])


def count_labels(detections: Iterable[Detection]) -> dict[str, int]:
    """Faces per label, every label of config.RESULT_LABELS present (0 when none)."""
    found = Counter(d.label for d in detections)
    return {label: found[label] for label in RESULT_LABELS}
