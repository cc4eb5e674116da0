"""What a camera does to a picture: colour lost, too few pixels, poor light, sensor noise, JPEG.

Training draws these at random to make rough views of a face (training.views); the camera
conditions measured apply them fixed (evaluation.conditions). All take and give BGR uint8.
"""

from __future__ import annotations

import cv2
import numpy as np


def grey(image: np.ndarray) -> np.ndarray:
    """Monochrome, still three channels (all equal)."""
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def shrink(face: np.ndarray, longer_side: int) -> np.ndarray:
    """Downscale (area interpolation) so the longer side is `longer_side`; never enlarge."""
    h, w = face.shape[:2]
    if max(h, w) <= longer_side:
        return face
    f = longer_side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(face, size, interpolation=cv2.INTER_AREA)


def relight(face: np.ndarray, brightness: float, contrast: float, gamma: float) -> np.ndarray:
    """Contrast about mid-grey, then brightness (added, 0-255 scale), then gamma."""
    x = face.astype(np.float32)
    x = (x - 127.5) * contrast + 127.5 + brightness
    x = 255.0 * (np.clip(x, 0, 255) / 255.0) ** gamma
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)


def sensor_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise of `sigma` grey levels on every pixel and channel."""
    noisy = image.astype(np.float32) + rng.normal(0.0, sigma, image.shape)
    return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)


def underexpose(
    image: np.ndarray, exposure: float, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """`exposure` of the light, then the sensor's noise, which the light no longer drowns."""
    return sensor_noise((image.astype(np.float32) * exposure).astype(np.uint8), sigma, rng)


def jpeg(face: np.ndarray, quality: int) -> np.ndarray:
    """Encoded as JPEG at `quality` (1-100) and decoded: its blocks and smeared colour."""
    ok, data = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else None
    return face if decoded is None else decoded
