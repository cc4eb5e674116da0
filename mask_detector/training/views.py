"""Training faces and the views made of them: crops cut the way the pipeline cuts them.

A training face is a whole close-up image, or a box on a scene photo (annotated, or found by
YuNet and matched to an annotation). View 0 is the plain crop: the box padded by
config.FACE_PADDING through `preprocess.crop_faces`, exactly what the pipeline classifies.
Other views move and scale the box as a detector would (jitter), and may be made small and
rough like a face in a crowd photo (resolution-matched augmentation: shrunk to 12-64 px, JPEG
artefacts, blur, light). They stay small: `preprocess_faces` enlarges them to the model's input
exactly as it enlarges a small face in use. NumPy and OpenCV only, run before feature caching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..config import FACE_PADDING
from ..degrade import grey, jpeg, relight, shrink, underexpose
from ..detection import Box
from ..detectors.base import clip_box
from ..preprocess import crop_faces, pad_box


@dataclass(frozen=True)
class FaceItem:
    """One training or evaluation face."""

    image: Path
    label: int  # index into config.LABELS
    box: Box | None = None  # None: the whole image is the face (a close-up)
    source: str = "closeup"  # "closeup", "scene" (annotated box) or "yunet" (detector box)


@dataclass(frozen=True)
class ViewRecipe:
    """How the augmented views of a face are made (view 0 is always the plain crop)."""

    #: Box jitter, as fractions of the box size: centre shift (each axis) and scale change.
    shift: float = 0.0
    scale: float = 0.0
    #: Share of views shrunk to a longer side drawn log-uniformly from `sizes` (pixels).
    lowres: float = 0.0
    sizes: tuple[int, int] = (12, 64)
    #: Share of views JPEG-compressed (quality drawn from `jpeg_quality`, both ends included),
    #: blurred, or relit (brightness, contrast, gamma); each drawn on its own.
    jpeg: float = 0.0
    blur: float = 0.0
    light: float = 0.0
    #: Share of views made monochrome, as an infrared night camera records, and share of views
    #: under-exposed (20-60% of the light) with the sensor noise that then shows.
    grey: float = 0.0
    dark: float = 0.0
    jpeg_quality: tuple[int, int] = (30, 90)

    def key(self) -> str:
        """What the feature cache needs to tell recipes apart."""
        return repr(self)


def jitter_box(box: Box, rng: np.random.Generator, shift: float, scale: float) -> Box:
    """The box moved by up to `shift` of its size on each axis and scaled by 1 +- `scale`.

    Integer pixels, at least 1 px a side; it may leave the image (padding clips it later).
    """
    x, y, w, h = box
    cx = x + w / 2 + rng.uniform(-shift, shift) * w
    cy = y + h / 2 + rng.uniform(-shift, shift) * h
    factor = 1 + rng.uniform(-scale, scale)
    aspect = 1 + rng.uniform(-scale, scale) / 2
    nw, nh = max(1.0, w * factor * aspect), max(1.0, h * factor / aspect)
    return (round(cx - nw / 2), round(cy - nh / 2), max(1, round(nw)), max(1, round(nh)))


def augment_face(face: np.ndarray, recipe: ViewRecipe, rng: np.random.Generator) -> np.ndarray:
    """One rough view of a face crop, as small as the recipe draws it."""
    # Grey and dark are drawn only when asked for, so recipes without them keep their random
    # stream (and so their views).
    if recipe.grey and rng.random() < recipe.grey:
        face = grey(face)
    if rng.random() < recipe.lowres:
        lo, hi = recipe.sizes
        face = shrink(face, round(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
    if rng.random() < recipe.blur:
        sigma = rng.uniform(0.3, 1.0) * max(1.0, max(face.shape[:2]) / 48)
        face = cv2.GaussianBlur(face, (0, 0), sigma)
    if recipe.dark and rng.random() < recipe.dark:
        face = underexpose(face, rng.uniform(0.2, 0.6), rng.uniform(1.0, 4.0), rng)
    if rng.random() < recipe.light:
        face = relight(
            face, rng.uniform(-40, 40), rng.uniform(0.7, 1.3), float(np.exp(rng.uniform(-0.3, 0.3)))
        )
    if rng.random() < recipe.jpeg:
        lo, hi = recipe.jpeg_quality
        face = jpeg(face, int(rng.integers(lo, hi + 1)))
    return np.ascontiguousarray(face)


def face_views(
    image: np.ndarray,
    item: FaceItem,
    views: int,
    recipe: ViewRecipe,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    """`views` crops of one face: the plain crop, then jittered and roughened ones.

    A close-up's box is the whole image: jitter (when the recipe has any) cuts windows out of
    it, such as eyes and mask with the top of the head cut off, without padding.
    """
    if item.box is None:
        plain = image
        jittered: Sequence[np.ndarray] = [image] * (views - 1)
        if recipe.shift or recipe.scale:
            whole = (0, 0, image.shape[1], image.shape[0])
            boxes = [jitter_box(whole, rng, recipe.shift, recipe.scale) for _ in range(views - 1)]
            jittered = [_crop_outside(image, b, padding=0.0) for b in boxes]
    else:
        plain = crop_faces(image, [item.box])[0]
        boxes = [jitter_box(item.box, rng, recipe.shift, recipe.scale) for _ in range(views - 1)]
        jittered = [_crop_outside(image, b) for b in boxes]
    return [plain, *(augment_face(face, recipe, rng) for face in jittered)]


def _crop_outside(image: np.ndarray, box: Box, padding: float = FACE_PADDING) -> np.ndarray:
    """The padded crop of a box that may stick out of the image: clipped first, as detectors
    clip theirs (the original box when nothing of the moved one is left)."""
    clipped = clip_box(box, image.shape[1], image.shape[0]) or box
    x, y, w, h = pad_box(clipped, image.shape, padding)
    return image[y : y + h, x : x + w]
