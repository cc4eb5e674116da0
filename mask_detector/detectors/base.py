"""What every face detector offers, and the box arithmetic they share.

Detectors are thin wrappers (one class per model, as in opencv_zoo) so the pipeline, the CLI
and the app can swap Haar for YuNet without caring which one runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ..detection import Box

#: Default smallest face reported, in pixels of the original image. Faces in crowd photos are
#: often 10-30 px; smaller than this the mask classifier has too few pixels to be useful.
DEFAULT_MIN_FACE = 12


@runtime_checkable
class FaceDetector(Protocol):
    """Finds faces in one HxWx3 uint8 BGR image.

    `detect` returns integer (x, y, w, h) boxes clipped to the image, each with w, h >= 1.
    `min_face` is the smallest face side reported, in original-image pixels; callers may set it
    between frames. One detector may be shared by several threads (a server's sessions): each
    implementation guards its OpenCV model, which keeps per-call state, with its own lock.
    """

    name: str
    min_face: int

    def detect(self, image: np.ndarray) -> list[Box]: ...


def clip_box(box: Sequence[float], width: int, height: int) -> Box | None:
    """Round a box to ints and clip it to a width x height image; None if nothing is left.

    Non-finite values (YuNet returns inf/NaN on frames of a pixel or two) also give None.
    """
    x, y, w, h = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        return None
    x0 = max(0, min(width, round(x)))
    y0 = max(0, min(height, round(y)))
    x1 = max(0, min(width, round(x + w)))
    y1 = max(0, min(height, round(y + h)))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return (int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def clip_boxes(boxes: Iterable[Sequence[float]], shape: Sequence[int]) -> list[Box]:
    """Clip every box to an image of `shape` (H, W, ...), dropping boxes entirely outside."""
    height, width = int(shape[0]), int(shape[1])
    out = []
    for box in boxes:
        clipped = clip_box(box, width, height)
        if clipped is not None:
            out.append(clipped)
    return out


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x, y, w, h) boxes; 0.0 when either is empty."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return float(inter / union) if union > 0 else 0.0


def non_max_suppression(
    boxes: Sequence[Sequence[float]],
    scores: Sequence[float] | None = None,
    iou_threshold: float = 0.3,
) -> list[int]:
    """Indices of the boxes kept by greedy NMS, best score first (larger box first if no scores).

    Also drops a box mostly inside a kept one (overlap >= 0.6 of the smaller box), which plain IoU
    misses when one cascade fires on a whole face and another on its upper half.
    """
    if len(boxes) == 0:
        return []
    arr = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    key = np.asarray(scores, dtype=np.float64) if scores is not None else arr[:, 2] * arr[:, 3]
    order = list(np.argsort(-key, kind="stable"))
    keep: list[int] = []
    areas = arr[:, 2] * arr[:, 3]
    for i in order:
        xi, yi, wi, hi = arr[i]
        suppressed = False
        for j in keep:
            xj, yj, wj, hj = arr[j]
            iw = min(xi + wi, xj + wj) - max(xi, xj)
            ih = min(yi + hi, yj + hj) - max(yi, yj)
            if iw <= 0 or ih <= 0:
                continue
            inter = iw * ih
            union = areas[i] + areas[j] - inter
            if inter / union >= iou_threshold or inter / min(areas[i], areas[j]) >= 0.6:
                suppressed = True
                break
        if not suppressed:
            keep.append(int(i))
    return keep
