"""OpenCV's Haar cascade face detector: no model file to fetch, fast, but blind to most masks.

A Haar cascade looks for the light/dark pattern of eyes, nose and mouth; a mask hides the lower
half of that pattern, so it misses most masked faces (measured on scenes-dev and on the training
photos; see benchmarks/detectors.py). It is kept as the zero-download default and for speed;
YuNet is the detector to use when recall on masked faces matters.
"""

from __future__ import annotations

import math
import threading

import cv2
import numpy as np

from ..detection import Box
from .base import DEFAULT_MIN_FACE, clip_boxes, non_max_suppression

#: The cascade used. frontalface_alt2 beat frontalface_default on scenes-dev at every setting
#: tried (recall 0.19 vs 0.14 at precision 0.86 vs 0.72, same speed budget) and on the masked
#: training photos; frontalface_alt was 2x slower, profileface and eye cascades 2-3x slower per
#: frame than the whole budget allows.
CASCADE = "haarcascade_frontalface_alt2.xml"
#: Side of the cascade's detection window, in pixels of the working image: nothing smaller is found.
WINDOW = 20


class HaarDetector:
    """Haar cascade on a downscaled, grey copy of the frame; boxes mapped back and clipped.

    Thread-safe: the cascade runs under a lock (the grey copy is made outside it).

    Defaults, chosen on scenes-dev and a 640x480 frame on a 2-core CPU:

    * ``max_side=360``: the working image's longest side. A 640x480 frame is searched at 360x270
      (faces >= ~36 px found) in ~18 ms; scene photos of 400 px keep 90% of their size, so their
      20-30 px faces survive. Frames smaller than this are never upscaled (cost grows with area).
    * ``scale_factor=1.2``: 1.1 found a few more faces but cost 1.7-2x the time.
    * ``min_neighbors=1``: alt2 is precise enough (0.85 of boxes are faces on scenes-dev) that
      the lowest grouping threshold gains recall, mostly masked faces, at a small cost in
      precision; duplicates that survive grouping are merged by non-maximum suppression.
    * No border: a replicated border around the frame lets the cascade see faces that fill or
      touch it (tight crops, e.g. the training photos: masked found-rate 0.18 -> 0.30) but made
      detection ~2x slower.
    * No histogram equalisation: it did not help alt2 on scenes-dev (recall 0.17 -> 0.15).
    * No small-face path: photos are searched as camera frames are. Enlarging them (1.5x, with
      two neighbours to keep precision) found 1-4 points more faces in crowds but lost close
      faces (found on 38% of the close-up photos instead of 45%) at 2.5x the time
      (benchmarks/small_faces.py; README, "Finding small faces").
    """

    name = "haar"
    small_faces = False

    def __init__(
        self,
        *,
        min_face: int = DEFAULT_MIN_FACE,
        max_side: int = 360,
        scale_factor: float = 1.2,
        min_neighbors: int = 1,
        cascade: str = CASCADE,
    ) -> None:
        path = cv2.data.haarcascades + cascade  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise FileNotFoundError(f"OpenCV Haar cascade not found or unreadable: {path}")
        self._lock = threading.Lock()
        self.min_face = min_face
        self.max_side = max_side
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors

    def working_scale(self, height: int, width: int) -> float:
        """Downscale factor for a frame: to `max_side`, further if `min_face` allows; never up."""
        return min(1.0, self.max_side / max(height, width), WINDOW / max(1, self.min_face))

    def detect(self, image: np.ndarray) -> list[Box]:
        """Face boxes (x, y, w, h) in `image` (HxWx3 uint8 BGR) coordinates, largest first."""
        height, width = image.shape[:2]
        scale = self.working_scale(height, width)
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        min_size = max(WINDOW, math.ceil(self.min_face * scale))
        if min(grey.shape) < min_size:
            return []
        with self._lock:  # a cascade is not safe to run from two threads at once
            found = self._cascade.detectMultiScale(
                grey,
                scaleFactor=self.scale_factor,
                minNeighbors=self.min_neighbors,
                minSize=(min_size, min_size),
            )
        if len(found) == 0:
            return []
        # Sorted before suppression: OpenCV lists its boxes in an order that depends on how its
        # threads shared the work, and the order decides between equal boxes; sorted, the boxes
        # kept and their order are the same with any number of threads.
        boxes = sorted(
            (x / scale, y / scale, w / scale, h / scale)
            for x, y, w, h in np.asarray(found, dtype=np.float64)
        )
        boxes = [boxes[i] for i in non_max_suppression(boxes)]
        return clip_boxes(boxes, image.shape)
