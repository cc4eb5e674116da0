"""The caveats the upload page shows: grey and dark photos are flagged, ordinary ones not."""

import numpy as np

from mask_detector.caveats import CAVEATS, photo_caveats
from mask_detector.evaluation.conditions import cctv, dark, grey


def test_an_ordinary_colour_photo_has_no_caveat(astronaut_bgr):
    assert photo_caveats(astronaut_bgr) == []


def test_grey_and_dark_photos_are_flagged(astronaut_bgr):
    assert photo_caveats(grey(astronaut_bgr)) == ["grey"]
    assert photo_caveats(cctv(astronaut_bgr)) == ["grey"]
    assert photo_caveats(dark(astronaut_bgr)) == ["dark"]
    assert photo_caveats(dark(grey(astronaut_bgr))) == ["grey", "dark"]
    single = grey(astronaut_bgr)[:, :, 0]  # a one-channel array, as the API accepts
    assert photo_caveats(single) == ["grey"]
    assert photo_caveats(np.zeros((1, 1, 3), np.uint8)) == ["grey", "dark"]
    assert set(CAVEATS) == {"grey", "dark"} and all(t.endswith(".") for t in CAVEATS.values())
