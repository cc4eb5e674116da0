"""The result type every part of the pipeline speaks: one labelled face box."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .config import RESULT_LABELS

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


def count_labels(detections: Iterable[Detection]) -> dict[str, int]:
    """Faces per label, every label of config.RESULT_LABELS present (0 when none)."""
    found = Counter(d.label for d in detections)
    return {label: found[label] for label in RESULT_LABELS}
