"""Boxes and "Mask 97%" labels drawn on a copy of the frame: green for a mask, red for none, and
a grey "?" for a face too small to judge (config.TOO_SMALL)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .config import TOO_SMALL, TOO_SMALL_COLOUR, TOO_SMALL_MARK, display_name
from .detection import Detection

#: BGR colours per label; charts (evaluation.figures) use the same ones.
COLOURS: dict[str, tuple[int, int, int]] = {
    "with_mask": (40, 180, 40),
    "without_mask": (40, 40, 220),
    TOO_SMALL: TOO_SMALL_COLOUR,
}
#: For a label without a colour of its own.
OTHER_COLOUR = (200, 200, 200)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def colour(label: str) -> tuple[int, int, int]:
    """The BGR colour of a label's boxes."""
    return COLOURS.get(label, OTHER_COLOUR)


def label_text(detection: Detection) -> str:
    """A box's tag: "Mask 97%", or the mark alone for a face not judged (no confidence)."""
    if detection.confidence is None:
        return TOO_SMALL_MARK
    return f"{display_name(detection.label)} {detection.confidence:.0%}"


def annotate(image: np.ndarray, detections: Sequence[Detection]) -> np.ndarray:
    """A copy of `image` (HxWx3 BGR) with every detection drawn; sizes follow the image size.

    Box values may be any real numbers (e.g. floats from another detector): they are rounded.
    """
    out = image.copy()
    side = max(1, min(out.shape[:2]))
    thickness = max(1, side // 240)
    scale = max(0.35, side / 900)
    for det in detections:
        x, y, w, h = (round(float(v)) for v in det.box)
        box_colour = colour(det.label)
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), box_colour, thickness)
        text = label_text(det)
        (tw, th), base = cv2.getTextSize(text, _FONT, scale, thickness)
        top = y - th - base - 2 if y - th - base - 2 >= 0 else min(y + h, out.shape[0] - th - base)
        cv2.rectangle(out, (x, top), (x + tw + 2, top + th + base + 2), box_colour, cv2.FILLED)
        cv2.putText(
            out, text, (x + 1, top + th + 1), _FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA
        )
    return out
