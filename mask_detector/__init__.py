"""Face-mask detection: find faces (Haar or YuNet), label each with_mask / without_mask.

from mask_detector import MaskDetector
pipeline = MaskDetector.load()
faces = pipeline.detect(image_bgr)
"""

import logging
from typing import Any

from .config import LABELS
from .detection import Box, Detection
from .errors import (
    DatasetError,
    DetectorUnavailableError,
    ImageTooLargeError,
    InvalidBoxError,
    InvalidImageError,
    MaskDetectorError,
    ModelLoadError,
)

__all__ = [
    "LABELS",
    "Box",
    "DatasetError",
    "Detection",
    "DetectorUnavailableError",
    "ImageTooLargeError",
    "InvalidBoxError",
    "InvalidImageError",
    "MaskDetector",
    "MaskDetectorError",
    "ModelLoadError",
]
__version__ = "0.1.0"

# A library stays quiet unless its user configures logging (the CLI prints its own warnings).
logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    # Loaded on first use, so `import mask_detector.config` stays free of OpenCV and LiteRT.
    if name == "MaskDetector":
        from .pipeline import MaskDetector

        return MaskDetector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
