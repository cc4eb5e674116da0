"""What in a photo makes its labels less sure than the daylight figures say: no colour (a night
camera), or too little light. The model reads masks partly by their colour, and dark faces are
where it errs most (README, "Cameras in use"), so a user should be told.

Measured on a 128 px copy: well under a millisecond a photo. The thresholds flag few of the
scene photos as they are, and nearly all of them made grey or dark by evaluation.conditions
(`benchmarks/conditions.py --caveats` counts them; the README gives the counts).
"""

from __future__ import annotations

import cv2
import numpy as np

from .imageio import as_bgr

#: Mean spread between a pixel's strongest and weakest channel (0-255) below which a photo
#: holds no colour to speak of.
GREY_CHROMA = 3.0
#: Mean grey level (0-255) below which a photo is dark.
DARK_LEVEL = 50.0

#: What each caveat means for the labels, as the app says it.
CAVEATS = {
    "grey": "No colour (a night camera?): the model reads masks partly by their colour, and "
    "labels fewer faces right in grey photos.",
    "dark": "Dark: the model labels fewer faces right in dark photos, small faces most.",
}


def photo_caveats(image: object) -> list[str]:
    """The caveats (keys of CAVEATS) that apply to a photo: a BGR, BGRA or grey array."""
    small = cv2.resize(as_bgr(image), (128, 128), interpolation=cv2.INTER_AREA)
    channels = small.astype(np.int16)
    chroma = float((channels.max(axis=2) - channels.min(axis=2)).mean())
    level = float(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).mean())
    return [
        key
        for key, applies in (("grey", chroma < GREY_CHROMA), ("dark", level < DARK_LEVEL))
        if applies
    ]
