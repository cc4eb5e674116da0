"""The one preprocessing path from a BGR face crop to MobileNetV2 input.

Training, evaluation, the command line, the app and the notebook all call `preprocess_faces`,
so a model never sees pixels prepared differently from those it was trained on. It uses only
NumPy and OpenCV, so inference does not need TensorFlow; its scaling is exactly
`keras.applications.mobilenet_v2.preprocess_input` (checked by a test).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .config import FACE_PADDING, IMAGE_SIZE
from .detection import Box
from .detectors.base import clip_box
from .errors import InvalidBoxError


def scale_to_unit_range(rgb: np.ndarray) -> np.ndarray:
    """0..255 -> -1..1, in place on a float32 array: mobilenet_v2.preprocess_input."""
    rgb /= 127.5
    rgb -= 1.0
    return rgb


def preprocess_faces(
    faces: Sequence[np.ndarray], out: np.ndarray | None = None, size: int = IMAGE_SIZE
) -> np.ndarray:
    """BGR uint8 crops -> float32 (N, size, size, 3) RGB batch in [-1, 1].

    Pass `out` (a float32 array of at least N rows) to reuse one buffer frame after frame.
    """
    n = len(faces)
    if out is None or out.shape[0] < n or out.shape[1:] != (size, size, 3):
        out = np.empty((n, size, size, 3), np.float32)
    batch = out[:n]
    for i, face in enumerate(faces):
        h, w = face.shape[:2]
        shrink = h > size or w > size
        resized = cv2.resize(
            face, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        )
        cv2.cvtColor(resized, cv2.COLOR_BGR2RGB, dst=resized)
        batch[i] = resized
    return scale_to_unit_range(batch)


def to_images(batch: np.ndarray) -> list[np.ndarray]:
    """Classifier input (RGB in [-1, 1], e.g. augmented views) back to BGR uint8 images, to
    look at what the model sees."""
    rgb = np.clip((np.asarray(batch, np.float32) + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    return [np.ascontiguousarray(image[:, :, ::-1]) for image in rgb]


def pad_box(box: Box, image_shape: tuple[int, ...], padding: float = FACE_PADDING) -> Box:
    """Grow a face box by `padding` of its size on every side, clipped to the image."""
    x, y, w, h = box
    dx, dy = round(w * padding), round(h * padding)
    height, width = image_shape[:2]
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(width, x + w + dx), min(height, y + h + dy)
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def crop_faces(image: np.ndarray, boxes: Sequence[Box]) -> list[np.ndarray]:
    """The padded crop of each box, as views into `image` (no copy).

    InvalidBoxError for a box with no pixel in the image (detectors clip theirs; a caller's
    own boxes may not be).
    """
    height, width = image.shape[:2]
    crops = []
    for box in boxes:
        if clip_box(box, width, height) is None:
            raise InvalidBoxError(f"face box {tuple(box)} lies outside the {width}x{height} image")
        x, y, w, h = pad_box(box, image.shape)
        crops.append(image[y : y + h, x : x + w])
    return crops
