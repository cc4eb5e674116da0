"""Photos made to look as a camera in use might take them: a night camera's grey, low light,
a low-bitrate stream, a camera too far away, a passer-by's motion blur.

The scene sets are mostly daylight colour photos; these conditions ask how far the figures
measured on them carry to CCTV. Each keeps the photo's size and geometry, so the annotated
boxes still fit, and each is deterministic (the noise has a fixed seed), so a figure can be
measured again. They are for measuring, never for choosing or training a model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ..degrade import grey, jpeg, sensor_noise, underexpose

#: A change made to a whole photo (BGR uint8) that keeps its size.
Transform = Callable[[np.ndarray], np.ndarray]


def _rng() -> np.random.Generator:
    """The noise of every photo drawn the same way, so a figure can be measured again."""
    return np.random.default_rng(0)


def dark(image: np.ndarray) -> np.ndarray:
    """A dim scene: 30% of the light, and sensor noise of 3 grey levels."""
    return underexpose(image, 0.3, 3.0, _rng())


def low_resolution(image: np.ndarray, factor: float = 0.5) -> np.ndarray:
    """The photo a camera with `factor` of the pixels on each side would take, enlarged back
    to the original size so the boxes fit: a 40 px face keeps the detail of a 20 px one."""
    h, w = image.shape[:2]
    small = (max(1, round(w * factor)), max(1, round(h * factor)))
    shrunk = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
    return cv2.resize(shrunk, (w, h), interpolation=cv2.INTER_LINEAR)


def motion_blur(image: np.ndarray, share: float = 0.015) -> np.ndarray:
    """Horizontal motion blur over `share` of the photo's longer side (9 px at 640 px)."""
    length = max(3, round(max(image.shape[:2]) * share) | 1)
    kernel = np.full((1, length), 1.0 / length, np.float32)
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REPLICATE)


def compressed(image: np.ndarray, quality: int = 15) -> np.ndarray:
    """JPEG at a low quality, as a stream at a low bitrate looks (blocks, smeared colour)."""
    return jpeg(image, quality)


def cctv(image: np.ndarray) -> np.ndarray:
    """A night CCTV frame: grey, half the resolution, noisy and compressed."""
    return compressed(sensor_noise(low_resolution(grey(image)), 4.0, _rng()), 30)


@dataclass(frozen=True)
class Condition:
    name: str
    description: str
    transform: Transform | None  # None: the photo as it is


CONDITIONS: tuple[Condition, ...] = (
    Condition("original", "the photo as it is", None),
    Condition("grey", "monochrome (an infrared night camera)", grey),
    Condition("dark", "30% of the light, sensor noise (sd 3 grey levels)", dark),
    Condition("jpeg", "JPEG quality 15 (a low-bitrate stream)", compressed),
    Condition("low_res", "half the pixels on each side (a camera further away)", low_resolution),
    Condition("motion_blur", "horizontal blur over 1.5% of the longer side", motion_blur),
    Condition("cctv", "grey, half resolution, noise (sd 4), JPEG quality 30", cctv),
)


def condition(name: str) -> Condition:
    """The condition of that name; a ValueError naming the known ones otherwise."""
    for known in CONDITIONS:
        if known.name == name:
            return known
    raise ValueError(f"unknown condition {name!r}; known: {', '.join(c.name for c in CONDITIONS)}")
