"""Drawing: a colour and a name per label (amber "Mask worn wrong"), track ids, blurred faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from helpers import needs_model
from mask_detector import config, draw
from mask_detector.detection import Detection, TrackedFace


def test_every_label_has_its_own_colour_and_name() -> None:
    colours = {draw.colour(label) for label in config.LABELS}
    assert len(colours) == len(config.LABELS) and draw.OTHER_COLOUR not in colours
    assert draw.colour("mask_worn_incorrectly") == (0, 176, 255)  # amber, BGR
    assert set(config.LABELS) <= set(config.DISPLAY_NAMES) <= set(config.COUNT_PHRASES)


def test_label_text_names_the_label_and_the_person() -> None:
    wrong = Detection((0, 0, 5, 5), "mask_worn_incorrectly", 0.874)
    assert draw.label_text(wrong) == "Mask worn wrong 87%"
    assert draw.label_text(TrackedFace((0, 0, 5, 5), "with_mask", 0.97, 3)) == "#3 Mask 97%"
    assert draw.label_text(TrackedFace((0, 0, 5, 5), "with_mask", 0.97, None)) == "Mask 97%"


@pytest.mark.parametrize("label", ["with_mask", "without_mask", "mask_worn_incorrectly"])
def test_box_and_label_are_drawn_in_the_labels_colour_readably(label: str) -> None:
    image = np.full((900, 900, 3), 128, np.uint8)
    out = draw.annotate(image, [TrackedFace((300, 300, 200, 200), label, 0.9, 1)])
    assert np.array_equal(image, np.full((900, 900, 3), 128, np.uint8))  # drawn on a copy
    colour = draw.colour(label)
    assert tuple(out[400, 300]) == colour  # the box's left edge
    text = draw.text_colour(colour)
    label_strip = out[250:300, 300:500].reshape(-1, 3)
    assert (label_strip == text).all(axis=1).any()  # the text, in its contrasting colour
    assert text == ((0, 0, 0) if label == "mask_worn_incorrectly" else (255, 255, 255))


def test_a_label_at_the_frames_right_edge_stays_inside_it() -> None:
    image = np.full((100, 120, 3), 128, np.uint8)
    out = draw.annotate(image, [Detection((90, 40, 30, 30), "without_mask", 0.9)])
    strip = out[20:40]
    assert (strip == draw.colour("without_mask")).all(axis=2).any(axis=0)[:60].any()


def test_blur_keeps_the_rest_of_the_image_and_labels(astronaut_bgr, astronaut_face_box) -> None:
    face = Detection(astronaut_face_box, "without_mask", 0.9)
    plain = draw.annotate(astronaut_bgr, [face])
    blurred = draw.annotate(astronaut_bgr, [face], blur=True)
    x, y, w, h = astronaut_face_box
    assert np.array_equal(plain[400:, :], blurred[400:, :])  # far from the face: untouched
    assert tuple(blurred[y + h // 2, x]) == draw.colour("without_mask")  # the box stays
    inner = blurred[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4].astype(float)
    original = astronaut_bgr[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
    assert inner.std(axis=(0, 1)).mean() < original.astype(float).std(axis=(0, 1)).mean() / 2


def test_a_blurred_face_keeps_no_detail(astronaut_bgr, astronaut_face_box) -> None:
    """Eyes, nose and mouth are gone: next to no edge is left inside the face (the Laplacian's
    variance, a sharpness measure, falls below 0.5% of the photo's; a Gaussian blur of sigma 3
    px, which leaves a face one can still know, keeps 1%)."""
    x, y, w, h = astronaut_face_box
    blurred = draw.blur_faces(astronaut_bgr.copy(), [astronaut_face_box])
    before, after = (
        cv2.Laplacian(cv2.cvtColor(im[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
        for im in (astronaut_bgr, blurred)
    )
    assert after < 0.005 * before


@needs_model
def test_the_pipeline_blurs_on_request(astronaut_bgr) -> None:
    from mask_detector.pipeline import MaskDetector

    pipeline = MaskDetector.load()
    plain, faces = pipeline.process(astronaut_bgr)
    blurred, same = pipeline.process(astronaut_bgr, blur=True)
    assert faces == same and faces  # labels and counts stay
    assert not np.array_equal(plain, blurred)
    assert np.array_equal(pipeline.annotate(astronaut_bgr, faces, blur=True), blurred)
