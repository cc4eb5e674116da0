"""Issue #6, property-based: any uint8 image of any size and channel layout goes through
detect/annotate without error, and every box lies inside the image.

Images come from a seed (noise, flat, gradients) or from the astronaut photo cropped, masked and
resized to random shapes, so faces, and therefore boxes, actually occur. Sizes run from 1x1 to
1200x1200; example counts are bounded so each test takes seconds on two shared cores.
"""

from __future__ import annotations

import io
import math

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from helpers import ASTRONAUT_FACE_BOX, MODEL, YUNET, draw_mask, needs_model, needs_yunet
from mask_detector.benchmark import astronaut
from mask_detector.config import LABELS
from mask_detector.detection import Detection
from mask_detector.detectors import HaarDetector, YuNetDetector, clip_box
from mask_detector.errors import MaskDetectorError
from mask_detector.imageio import read_image
from mask_detector.pipeline import MaskDetector

MAX_SIDE = 1200
#: No example database: nothing is written into the repository.
FAST = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class RandomClassifier:
    """Stands in for the LiteRT model so the detector properties run without a trained model:
    probabilities from the crop's pixels, so labels and confidences vary."""

    def classify(self, faces):
        p = np.array([float(f.mean()) / 255.0 if f.size else 0.5 for f in faces], np.float32)
        rest = [(1.0 - p) * w for w in np.linspace(1, 2, len(LABELS) - 1)]
        probs = np.stack([p, *rest], axis=1).reshape(-1, len(LABELS))
        return probs / probs.sum(axis=1, keepdims=True)


ASTRONAUT = astronaut()
MASKED = draw_mask(ASTRONAUT, ASTRONAUT_FACE_BOX)


def face_image(width: int, height: int, margin: float, masked: bool, shift: float) -> np.ndarray:
    """The astronaut's head with `margin` x face size around it, resized to width x height."""
    x, y, w, h = ASTRONAUT_FACE_BOX
    pad = round(margin * w)
    dx = round(shift * pad)
    x0, y0 = max(0, x - pad + dx), max(0, y - pad)
    x1, y1 = min(512, x + w + pad + dx), min(512, y + h + pad)
    source = MASKED if masked else ASTRONAUT
    crop = source[y0:y1, x0:x1]
    area = width * height < crop.shape[0] * crop.shape[1]
    return cv2.resize(
        crop, (width, height), interpolation=cv2.INTER_AREA if area else cv2.INTER_LINEAR
    )


def with_channels(bgr: np.ndarray, channels: int | None, seed: int) -> np.ndarray:
    """None: HxW grey; 1: HxWx1 grey; 3: BGR; 4: BGRA with random alpha."""
    if channels is None:
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    if channels == 1:
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)[:, :, None]
    if channels == 4:
        alpha = np.random.default_rng(seed).integers(0, 256, bgr.shape[:2], dtype=np.uint8)
        return np.dstack([bgr, alpha])
    return bgr


sides = st.one_of(st.integers(1, 48), st.integers(1, MAX_SIDE))


@st.composite
def images(draw) -> np.ndarray:
    kind = draw(st.sampled_from(["face", "face", "face", "noise", "flat", "gradient"]))
    width, height = draw(sides), draw(sides)
    seed = draw(st.integers(0, 2**32 - 1))
    channels = draw(st.sampled_from([None, 1, 3, 4]))
    rng = np.random.default_rng(seed)
    if kind == "face":
        # Mostly plausible photo sizes, sometimes squashed or tiny.
        if draw(st.integers(0, 3)) > 0:
            side = draw(st.integers(80, MAX_SIDE))
            width, height = side, max(1, round(side * draw(st.floats(0.6, 1.6))))
            height = min(height, MAX_SIDE)
        margin = draw(st.floats(0.3, 1.5))
        bgr = face_image(width, height, margin, draw(st.booleans()), draw(st.floats(-1, 1)))
    elif kind == "noise":
        bgr = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    elif kind == "flat":
        bgr = np.full((height, width, 3), rng.integers(0, 256, 3), np.uint8)
    else:
        ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
        bgr = np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8)
    event(f"kind={kind}")
    return with_channels(bgr, channels, seed)


def check_detections(detections, image: np.ndarray) -> None:
    height, width = image.shape[:2]
    assert isinstance(detections, list)
    for det in detections:
        assert isinstance(det, Detection)
        x, y, w, h = det.box
        assert all(type(v) is int for v in det.box), det.box
        assert min(x, y) >= 0 and min(w, h) >= 1, det.box
        assert x + w <= width and y + h <= height, (det.box, image.shape)
        assert 0.0 <= det.confidence <= 1.0 and math.isfinite(det.confidence)
        assert det.label in LABELS


def check_annotated(out: np.ndarray, image: np.ndarray) -> None:
    assert out.shape == (*image.shape[:2], 3) and out.dtype == np.uint8


@pytest.fixture(scope="module")
def haar_pipeline() -> MaskDetector:
    return MaskDetector(HaarDetector(), RandomClassifier())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def yunet_pipeline() -> MaskDetector:
    return MaskDetector(YuNetDetector(YUNET), RandomClassifier())  # type: ignore[arg-type]


@FAST
@given(image=images())
def test_haar_detect_any_image(haar_pipeline, image):
    before = image.copy()
    detections = haar_pipeline.detect(image)
    check_detections(detections, image)
    event(f"faces={min(len(detections), 3)}")
    check_annotated(haar_pipeline.annotate(image, detections), image)
    assert np.array_equal(image, before)  # the caller's array is never written to


@needs_yunet
@FAST
@given(image=images())
def test_yunet_detect_any_image(yunet_pipeline, image):
    check_detections(yunet_pipeline.detect(image), image)
    # Compared from the second run on: once, in CI, the first run at a new input size gave
    # other boxes than the runs after it (a 26x612 grey ramp, no face, scores at the
    # threshold); 1500 further examples did not reproduce it.
    detections = yunet_pipeline.detect(image)
    check_detections(detections, image)
    event(f"faces={min(len(detections), 3)}")
    out, again = yunet_pipeline.process(image)
    check_annotated(out, image)
    assert [d.box for d in again] == [d.box for d in detections]


@needs_model
@settings(FAST, max_examples=30)
@given(image=images(), detector_name=st.sampled_from(["haar", "yunet"]))
def test_real_model_detect_any_image(image, detector_name):
    if detector_name == "yunet" and (YUNET is None or not YUNET.is_file()):
        detector_name = "haar"
    pipeline = MaskDetector.load(MODEL, detector_name, shared=True)
    detections = pipeline.detect(image)
    check_detections(detections, image)
    for det in detections:
        # The argmax of one probability per label: never below an even split.
        assert det.confidence >= 1 / len(LABELS) - 1e-6


@pytest.mark.parametrize(
    "width, height, masked",
    [(512, 512, False), (240, 300, False), (1200, 1000, False), (700, 700, True)],
)
def test_face_strategy_produces_boxes(haar_pipeline, width, height, masked):
    """The face images the properties draw from really contain detectable faces."""
    image = face_image(width, height, 0.8, masked, 0.0)
    pipeline = haar_pipeline
    if masked and YUNET is not None and YUNET.is_file():
        pipeline = MaskDetector(YuNetDetector(YUNET), RandomClassifier())  # type: ignore[arg-type]
    detections = pipeline.detect(image)
    assert detections
    check_detections(detections, image)


@st.composite
def images_with_detections(draw):
    """Any image and any list of boxes inside it, many touching its borders and corners."""
    height, width = draw(sides), draw(sides)
    channels = draw(st.sampled_from([None, 1, 3, 4]))
    bgr = np.full((height, width, 3), draw(st.integers(0, 255)), np.uint8)
    detections = []
    for _ in range(draw(st.integers(0, 6))):
        w = draw(st.integers(1, width))
        h = draw(st.integers(1, height))
        x = draw(st.sampled_from([0, width - w]) | st.integers(0, width - w))
        y = draw(st.sampled_from([0, height - h]) | st.integers(0, height - h))
        label = draw(st.sampled_from([*LABELS, "unknown"]))
        confidence = draw(st.floats(0.0, 1.0))
        box = (x, y, w, h)
        if draw(st.integers(0, 4)) == 0:  # float boxes, as another detector might give
            box = tuple(v + draw(st.floats(-0.49, 0.49)) for v in box)  # type: ignore[assignment]
        detections.append(Detection(box, label, confidence))
    return with_channels(bgr, channels, 0), detections


@settings(FAST, max_examples=120)
@given(case=images_with_detections())
def test_annotate_any_detections(haar_pipeline, case):
    """annotate always returns an HxWx3 uint8 BGR copy, whatever the input's channels."""
    image, detections = case
    before = image.copy()
    out = haar_pipeline.annotate(image, detections)
    check_annotated(out, image)
    assert np.array_equal(image, before)
    if detections and image.ndim == 3 and image.shape[2] == 3:
        assert not np.shares_memory(out, image)


@settings(FAST, max_examples=300)
@given(
    box=st.tuples(*[st.floats(allow_nan=True, allow_infinity=True, width=32)] * 4),
    width=st.integers(1, 5000),
    height=st.integers(1, 5000),
)
def test_clip_box_any_floats(box, width, height):
    clipped = clip_box(box, width, height)
    if clipped is not None:
        x, y, w, h = clipped
        assert min(x, y) >= 0 and min(w, h) >= 1 and x + w <= width and y + h <= height


def _encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(ASTRONAUT[100:164, 100:180, ::-1]).save(buf, fmt)
    return buf.getvalue()


SEEDS = {fmt: _encoded(fmt) for fmt in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP")}


@st.composite
def damaged_files(draw) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(0, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(0, len(data)))])


@settings(FAST, max_examples=300)
@given(data=st.one_of(damaged_files(), st.binary(max_size=256)))
def test_read_image_any_bytes(data):
    """Any bytes: a HxWx3 uint8 image or a MaskDetectorError, never another exception."""
    try:
        image = read_image(data)
    except MaskDetectorError as exc:
        assert str(exc).startswith("image: ")
        return
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
