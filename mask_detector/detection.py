"""The result type every part of the pipeline speaks: one labelled face box."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from .config import LABELS

#: A face box in pixels: left, top, width, height.
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Detection:
    box: Box
    label: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "box": list(self.box)}


def count_labels(detections: Iterable[Detection]) -> dict[str, int]:
    """Faces per label, every label of config.LABELS present (0 when none)."""
    found = Counter(d.label for d in detections)
    return {label: found[label] for label in LABELS}
