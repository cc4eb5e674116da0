"""Boxes and "Mask 97%" labels drawn on a copy of the frame: green for a mask, red for none, amber
for a mask worn wrong, a grey "?" for a face too small to judge (config.TOO_SMALL); a tracked
face's label starts with its person's id ("#2 Mask 97%"). Optionally the faces are blurred
first, for privacy: boxes, labels and counts stay."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from .config import TOO_SMALL, TOO_SMALL_COLOUR, TOO_SMALL_MARK, display_name
from .detection import Box, Detection, TrackedFace
from .preprocess import pad_box

#: BGR colours per label; charts (evaluation.figures) use the same ones.
COLOURS: dict[str, tuple[int, int, int]] = {
    "with_mask": (40, 180, 40),
    "without_mask": (40, 40, 220),
    "mask_worn_incorrectly": (0, 176, 255),  # amber
    TOO_SMALL: TOO_SMALL_COLOUR,
}
#: How the pages name those colours.
COLOUR_NAMES: dict[str, str] = {
    "with_mask": "green",
    "without_mask": "red",
    "mask_worn_incorrectly": "amber",
    TOO_SMALL: "grey",
}
#: For a label without a colour of its own.
OTHER_COLOUR = (200, 200, 200)
#: A blurred face keeps this many cells across its shorter side: its place and rough colours
#: remain, eyes, nose and mouth do not.
BLUR_CELLS = 5
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def colour(label: str) -> tuple[int, int, int]:
    """The BGR colour of a label's boxes."""
    return COLOURS.get(label, OTHER_COLOUR)


def text_colour(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black on light label backgrounds (amber), white on dark ones (green, red)."""
    b, g, r = background
    return (0, 0, 0) if 0.114 * b + 0.587 * g + 0.299 * r > 150 else (255, 255, 255)


def label_text(detection: Detection) -> str:
    """A box's tag: "Mask 97%", or the mark alone for a face not judged (no confidence); a
    tracked face's starts with its person's id."""
    if detection.confidence is None:
        text = TOO_SMALL_MARK
    else:
        text = f"{display_name(detection.label)} {detection.confidence:.0%}"
    if isinstance(detection, TrackedFace) and detection.track_id is not None:
        return f"#{detection.track_id} {text}"
    return text


def blur_faces(image: np.ndarray, boxes: Iterable[Box]) -> np.ndarray:
    """`image` (HxWx3) with each face made unrecognisable, in place; returned for chaining.

    The box is grown as the classifier's crop is (hair, chin, ears), shrunk to BLUR_CELLS cells
    across and stretched back smoothly.
    """
    for box in boxes:
        bx, by, bw, bh = (round(float(v)) for v in box)
        x, y, w, h = pad_box((bx, by, bw, bh), image.shape)
        roi = image[y : y + h, x : x + w]
        if roi.size == 0:
            continue
        scale = BLUR_CELLS / min(w, h)
        cells = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(roi, cells, interpolation=cv2.INTER_AREA)
        roi[:] = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return image


def annotate(
    image: np.ndarray, detections: Sequence[Detection], *, blur: bool = False
) -> np.ndarray:
    """A copy of `image` (HxWx3 BGR) with every detection drawn; sizes follow the image size.

    `blur=True` blurs every face (`blur_faces`) before drawing. Box values may be any real
    numbers (e.g. floats from another detector): they are rounded.
    """
    out = image.copy()
    if blur:
        blur_faces(out, (d.box for d in detections))
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
        left = max(0, min(x, out.shape[1] - tw - 2))  # the whole label inside the frame
        cv2.rectangle(out, (left, top), (left + tw + 2, top + th + base + 2), box_colour, -1)
        cv2.putText(
            out,
            text,
            (left + 1, top + th + 1),
            _FONT,
            scale,
            text_colour(box_colour),
            thickness,
            cv2.LINE_AA,
        )
    return out
