"""The result type every part of the pipeline speaks: one labelled face box."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: A face box in pixels: left, top, width, height.
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Detection:
    box: Box
    label: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "box": list(self.box)}
