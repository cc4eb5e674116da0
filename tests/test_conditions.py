"""The camera conditions the benchmark measures under: each keeps the photo's size and geometry,
changes what it says it changes, and is the same every time."""

import numpy as np
import pytest

from mask_detector.evaluation import conditions
from mask_detector.evaluation.conditions import CONDITIONS, condition
from mask_detector.evaluation.crops import photo_face_crops


@pytest.mark.parametrize("cond", [c for c in CONDITIONS if c.transform], ids=lambda c: c.name)
def test_a_condition_keeps_the_size_and_is_repeatable(astronaut_bgr, cond):
    once = cond.transform(astronaut_bgr)
    assert once.shape == astronaut_bgr.shape and once.dtype == np.uint8
    assert np.array_equal(once, cond.transform(astronaut_bgr))
    assert not np.array_equal(once, astronaut_bgr)


def test_each_condition_changes_what_it_names(astronaut_bgr):
    for name in ("grey", "cctv"):
        out = condition(name).transform(astronaut_bgr)
        spread = np.abs(out.astype(int) - out[..., :1].astype(int)).max()
        assert spread <= (0 if name == "grey" else 6)  # JPEG leaves the channels nearly equal
    assert conditions.dark(astronaut_bgr).mean() < 0.35 * astronaut_bgr.mean()
    # One-pixel stripes: half the resolution cannot hold them; horizontal blur smears vertical
    # stripes and leaves horizontal ones.
    stripes = np.zeros((640, 640, 3), np.uint8)
    stripes[:, ::2] = 255
    assert conditions.low_resolution(stripes).std() < 0.1 * stripes.std()
    assert conditions.motion_blur(stripes).std() < 0.2 * stripes.std()
    rows = np.ascontiguousarray(stripes.transpose(1, 0, 2))
    assert np.array_equal(conditions.motion_blur(rows), rows)
    blocky = conditions.compressed(astronaut_bgr)
    assert np.abs(blocky.astype(int) - astronaut_bgr).mean() > 2


def test_an_unknown_condition_names_the_known_ones():
    assert condition("original").transform is None
    with pytest.raises(ValueError, match="known: original, grey"):
        condition("fog")


def test_face_crops_are_cut_from_the_changed_photo(tmp_path, astronaut_bgr):
    import cv2

    from mask_detector.data.voc import Photo

    path = tmp_path / "a.png"
    cv2.imwrite(str(path), astronaut_bgr)
    photo = Photo(path, tmp_path / "a.xml", (("with_mask", (10, 10, 40, 40)),))
    plain = photo_face_crops([photo]).crops[0]
    grey = photo_face_crops([photo], conditions.grey).crops[0]
    assert plain.shape == grey.shape
    assert np.array_equal(grey, conditions.grey(plain))
