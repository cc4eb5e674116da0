"""Photos made to look as a camera in use might take them: a night camera's grey, low light,
a low-bitrate stream, a camera too far away, a passer-by's motion blur.

The scene sets are mostly daylight colour photos; these conditions ask how far the figures
measured on them carry to CCTV. Each keeps the photo's size and geometry, so the annotated
boxes still fit, and each is deterministic (the noise has a fixed seed), so a figure can be
measured again. They are for measuring, not for training (training.views draws its own rough
views); a rule that chooses between recipes measures them on validation photos only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..degrade import grey, jpeg, sensor_noise, underexpose
from .audits import file_sha256
from .by_size import rate_with_interval, split_at, two_labels_text
from .crops import Transform
from .figures import pct
from .metrics import macro


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


COLUMNS = (
    "condition",
    "found",
    "found: labelled right",
    "< 32 px: two labels",
    "< 32 px: no-mask R",
    ">= 32 px: two labels",
    ">= 32 px: no-mask R",
    "mean recall",
)


def _no_mask(row: Mapping[str, Any]) -> str:
    return rate_with_interval(row["right"]["without_mask"], row["support"]["without_mask"])


def condition_cells(name: str, report: Mapping[str, Any]) -> list[str]:
    """One row: what the pipeline finds and labels (`pipeline`, an evaluate_scenes report, or
    None), then the classifier alone on the annotated boxes (`crops`) by size, with the
    intervals of the goals' figures, and the mean per-class recall (the third label weighs as
    much as the others)."""
    scenes, crops = report["pipeline"], report["crops"]
    small, large = split_at(crops["by_size"], 32)
    return [
        name,
        f"{scenes['found']} of {scenes['faces']}" if scenes else "-",
        pct(scenes["label_accuracy"]) if scenes else "-",
        two_labels_text(small),
        _no_mask(small),
        two_labels_text(large),
        _no_mask(large),
        pct(macro(crops, "recall")),
    ]


def conditions_table(reports: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """A markdown table, a row per condition (name -> report), in the order given."""
    return [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
        *("| " + " | ".join(condition_cells(n, r)) + " |" for n, r in reports.items()),
    ]


def measured_for(record: Mapping[str, Any], model: Path) -> bool:
    """Whether a saved record (benchmarks/conditions.py --save) was measured with this model."""
    return model.is_file() and record.get("model_sha256") == file_sha256(model)
