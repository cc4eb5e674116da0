"""What every face detector offers, and the box arithmetic they share.

Detectors are thin wrappers (one class per model, as in opencv_zoo) so the pipeline, the CLI
and the app can swap Haar for YuNet without caring which one runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from ..detection import Box, face_size

#: Default smallest face reported (the box's longer side, in pixels of the original image).
#: Faces in crowd photos are often 10-30 px.
DEFAULT_MIN_FACE = 12


@runtime_checkable
class FaceDetector(Protocol):
    """Finds faces in one HxWx3 uint8 BGR image.

    `detect` returns integer (x, y, w, h) boxes clipped to the image, each with w, h >= 1.
    `min_face` is the smallest face reported (longer side, original-image pixels). One detector
    may be shared by several threads (a server's sessions): each implementation guards its
    OpenCV model, which keeps per-call state, with its own lock, and a shallow copy with
    another `min_face` shares model and lock (`pipeline.load_face_detector`).
    """

    name: str
    min_face: int
    #: The small-face path of photos and video files (SmallFacePath), or the live path.
    small_faces: bool

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


#: One search of an image at one scale: boxes (x, y, w, h) in that image's pixels, and their
#: scores (None: no scores, larger boxes win when passes are merged).
Search = Callable[[np.ndarray], tuple[list[tuple[float, ...]], list[float] | None]]


def resized(image: np.ndarray, scale: float) -> np.ndarray:
    """`image` scaled by `scale`: area averaging down, bilinear up; itself at 1.0."""
    if scale == 1.0:
        return image
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


@dataclass(frozen=True)
class SmallFacePath:
    """How photos and video files are searched so that small faces are found.

    A detector finds faces of about `findable` pixels and up, so an image is searched at the
    scale that brings the smallest face worth finding (`min_face`) to that size: small photos are
    enlarged (at most `max_upscale`), and any image is searched at no more than `max_pixels`
    (time and memory; a larger photo is searched smaller, and its smallest findable face grows).
    A CNN detector also has a largest face it keeps whole (`largest`): when the enlarged image
    could hold a larger one, it is searched again `step` times smaller, for the large faces only,
    and so on; each pass keeps the faces of its own size range (overlapping, so that a face at
    a range's edge is not lost), and duplicates are merged by non-maximum suppression.
    Tiling a large image instead would cost the same pixels plus the overlaps: the detectors
    take an image of any size in one call.
    """

    findable: float
    max_upscale: float
    max_pixels: int
    largest: float = math.inf
    step: float = 4.0
    #: A coarser pass keeps faces from this share of the finer pass's largest face up.
    overlap: float = 0.5

    def scales(self, height: int, width: int, min_face: int) -> list[float]:
        """The scales an image of this size is searched at, finest first."""
        first = min(
            self.max_upscale,
            self.findable / max(1, min_face),
            math.sqrt(self.max_pixels / max(1, height * width)),
        )
        scales = [first]
        while min(height, width) * scales[-1] > self.largest:
            scales.append(scales[-1] / self.step)
        return scales

    def search(
        self, image: np.ndarray, min_face: int, search: Search
    ) -> tuple[list[tuple[float, ...]], list[float] | None]:
        """Every pass over `image`, merged: boxes in `image`'s pixels, best first, and scores."""
        height, width = image.shape[:2]
        scales = self.scales(height, width, min_face)
        boxes: list[tuple[float, ...]] = []
        scores: list[float] = []
        scored = True
        for k, scale in enumerate(scales):
            low = self.overlap * self.largest / scales[k - 1] if k else 0.0
            high = self.largest / scale if k + 1 < len(scales) else math.inf
            found, found_scores = search(resized(image, scale))
            scored = scored and found_scores is not None
            for i, box in enumerate(found):
                original = tuple(v / scale for v in box)
                if low <= face_size(original) <= high:
                    boxes.append(original)
                    scores.append(found_scores[i] if found_scores is not None else 0.0)
        if len(scales) == 1:
            return boxes, scores if scored else None
        keep = non_max_suppression(boxes, scores if scored else None)
        return [boxes[i] for i in keep], [scores[i] for i in keep] if scored else None
