"""Face detectors: box arithmetic, Haar on a real face, YuNet and its model-file handling."""

from __future__ import annotations

import hashlib
import io
import math
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest

from helpers import ASTRONAUT_FACE_BOX, crowd_of_small_faces, from_threads, needs_yunet
from mask_detector import config
from mask_detector.detectors import (
    DETECTORS,
    FaceDetector,
    HaarDetector,
    SmallFacePath,
    YuNetDetector,
    ensure_yunet_model,
    make_detector,
    yunet,
    yunet_available,
)
from mask_detector.detectors.base import box_iou, clip_box, clip_boxes, non_max_suppression
from mask_detector.errors import DetectorUnavailableError

SHIPPED_YUNET = config.MODELS_DIR / config.YUNET_FILE
ODD_SHAPES = [(1, 1), (7, 3000), (3000, 7), (5, 5), (479, 641)]


@pytest.fixture(scope="module")
def haar() -> HaarDetector:
    return HaarDetector()


def test_clip_box_rounds_and_clips():
    assert clip_box((-5.4, 2.6, 20, 10), 10, 8) == (0, 3, 10, 5)
    assert clip_box((3, 3, 2, 2), 10, 10) == (3, 3, 2, 2)
    assert clip_box((20, 20, 5, 5), 10, 10) is None
    assert clip_box((2, 2, 0.2, 5), 10, 10) is None


def test_clip_boxes_drops_outside_and_keeps_ints():
    boxes = clip_boxes([(0, 0, 5, 5), (50, 50, 5, 5), (8.7, 1, 10, 3)], (10, 10, 3))
    assert boxes == [(0, 0, 5, 5), (9, 1, 1, 3)]
    assert all(isinstance(v, int) for b in boxes for v in b)


def test_box_iou_and_nms():
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0
    assert box_iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (0, 5, 10, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert box_iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0
    keep = non_max_suppression([(0, 0, 10, 10), (1, 1, 10, 10), (2, 2, 4, 4), (50, 50, 8, 8)])
    assert sorted(keep) == [0, 3]
    assert non_max_suppression([]) == []


def test_detectors_satisfy_protocol(haar):
    assert isinstance(haar, FaceDetector)
    assert DETECTORS == ("haar", "yunet")


def test_haar_finds_astronaut(haar, astronaut_bgr, astronaut_face_box):
    boxes = haar.detect(astronaut_bgr)
    assert boxes, "no face found in the astronaut photo"
    assert max(box_iou(b, astronaut_face_box) for b in boxes) > 0.5


def test_haar_blank_image_has_no_faces(haar):
    assert haar.detect(np.full((480, 640, 3), 128, np.uint8)) == []
    assert haar.detect(np.zeros((240, 320, 3), np.uint8)) == []


@pytest.mark.parametrize("shape", ODD_SHAPES)
def test_haar_boxes_inside_odd_images(haar, shape):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    for x, y, w, h in haar.detect(image):
        assert w >= 1 and h >= 1 and x >= 0 and y >= 0
        assert x + w <= shape[1] and y + h <= shape[0]


def test_haar_min_face_is_respected(haar, astronaut_bgr):
    big = HaarDetector(min_face=200)
    assert big.detect(astronaut_bgr) == []
    big.min_face = 40
    assert big.detect(astronaut_bgr)


def test_make_detector_unknown_name():
    with pytest.raises(DetectorUnavailableError, match=r"unknown face detector.*haar, yunet"):
        make_detector("retinaface")


def test_make_detector_missing_yunet_file(tmp_path):
    missing = tmp_path / "nope.onnx"
    with pytest.raises(DetectorUnavailableError) as info:
        make_detector("yunet", yunet_model=missing)
    text = str(info.value)
    assert str(missing) in text and "--yunet-model" in text and config.ENV_YUNET in text


def test_yunet_ships_with_the_repository(tmp_path, monkeypatch):
    """A fresh clone finds YuNet in models/: no ../shared, no cache, no download."""
    monkeypatch.setenv(config.ENV_SHARED, str(tmp_path / "shared"))
    monkeypatch.setenv(config.ENV_CACHE, str(tmp_path / "cache"))
    _serve(monkeypatch, AssertionError("network used"))
    digest = hashlib.sha256(SHIPPED_YUNET.read_bytes()).hexdigest()
    recorded = (config.MODELS_DIR / f"{config.YUNET_FILE}.sha256").read_text().split()
    assert digest == config.YUNET_SHA256 == recorded[0] and recorded[1] == config.YUNET_FILE
    assert (config.MODELS_DIR / "LICENSE.yunet").is_file()
    assert yunet_available() == (True, str(SHIPPED_YUNET))
    assert make_detector("yunet").name == "yunet"


def test_yunet_unavailable_without_file_or_download(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "MODELS_DIR", tmp_path / "models")
    monkeypatch.setenv(config.ENV_CACHE, str(tmp_path / "cache"))
    ok, why = yunet_available()
    assert not ok and "--yunet-model" in why
    with pytest.raises(DetectorUnavailableError):
        make_detector("yunet")


def test_yunet_bad_file_is_unavailable(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(DetectorUnavailableError, match="could not be loaded"):
        YuNetDetector(junk)


class _FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture
def empty_places(tmp_path, monkeypatch):
    """No YuNet file anywhere: models/ and the cache point into tmp_path."""
    monkeypatch.setattr(config, "MODELS_DIR", tmp_path / "models")
    monkeypatch.setenv(config.ENV_CACHE, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _serve(monkeypatch, payload: bytes | Exception):
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append((url, timeout))
        if isinstance(payload, Exception):
            raise payload
        return _FakeResponse(payload)

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return calls


def test_download_verifies_and_saves(empty_places, monkeypatch):
    calls = _serve(monkeypatch, SHIPPED_YUNET.read_bytes())
    path = ensure_yunet_model()
    assert calls and calls[0][0] == config.YUNET_URL and calls[0][1]
    assert path == empty_places / config.YUNET_FILE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == config.YUNET_SHA256
    assert [p.name for p in empty_places.iterdir()] == [config.YUNET_FILE]
    assert ensure_yunet_model() == path  # now found in the cache, no second download
    assert len(calls) == 1


def test_download_checksum_mismatch_leaves_nothing(empty_places, monkeypatch):
    _serve(monkeypatch, b"evil bytes")
    with pytest.raises(DetectorUnavailableError, match="checksum") as info:
        ensure_yunet_model()
    assert "--yunet-model" in str(info.value)
    assert not empty_places.exists() or list(empty_places.iterdir()) == []


def test_download_without_network(empty_places, monkeypatch):
    _serve(monkeypatch, urllib.error.URLError("no route to host"))
    with pytest.raises(DetectorUnavailableError, match="could not be downloaded"):
        ensure_yunet_model()


def test_download_not_allowed_never_touches_network(empty_places, monkeypatch):
    _serve(monkeypatch, AssertionError("network used"))
    with pytest.raises(DetectorUnavailableError, match="not found"):
        ensure_yunet_model(download=False)


def test_yunet_finds_astronaut_and_masked_face(astronaut_bgr, masked_astronaut_bgr):
    detector = make_detector("yunet", yunet_model=SHIPPED_YUNET)
    assert isinstance(detector, YuNetDetector) and isinstance(detector, FaceDetector)
    for image in (astronaut_bgr, masked_astronaut_bgr):
        boxes = detector.detect(image)
        assert len(boxes) == 1
        assert box_iou(boxes[0], (177, 66, 95, 95)) > 0.5
    assert detector.detect(np.zeros((480, 640, 3), np.uint8)) == []


@pytest.mark.parametrize("shape", [*ODD_SHAPES, (1500, 2000)])
def test_yunet_boxes_inside_odd_images(shape, astronaut_bgr):
    detector = YuNetDetector(SHIPPED_YUNET)
    image = np.zeros((*shape, 3), np.uint8)
    h, w = min(shape[0], 512), min(shape[1], 512)
    image[:h, :w] = astronaut_bgr[:h, :w]
    for x, y, bw, bh in detector.detect(image):
        assert bw >= 1 and bh >= 1 and x >= 0 and y >= 0
        assert x + bw <= shape[1] and y + bh <= shape[0]


def test_yunet_keeps_one_network_per_recent_input_size(astronaut_bgr, monkeypatch):
    """Frames alternating between two sizes reuse two networks instead of resizing one."""
    detector = YuNetDetector(SHIPPED_YUNET)
    created: list[tuple[int, int]] = []
    make = detector._network
    monkeypatch.setattr(detector, "_network", lambda size: created.append(size) or make(size))
    a, b = (cv2.resize(astronaut_bgr, (s, s)) for s in (512, 400))
    for _ in range(3):
        assert detector.detect(a) and detector.detect(b)
    assert created == [(512, 512), (400, 400)]
    for side in (300, 320, 360):
        detector.detect(cv2.resize(astronaut_bgr, (side, side)))
    assert len(detector._nets) == yunet.MAX_NETWORKS and (512, 512) not in detector._nets
    assert detector.detect(a) and created[-1] == (512, 512)  # the oldest went, and comes back


def test_clip_box_rejects_non_finite():
    assert clip_box((float("inf"), 0, 5, 5), 10, 10) is None
    assert clip_box((0, float("nan"), 5, 5), 10, 10) is None


@pytest.mark.parametrize("name", ["haar", pytest.param("yunet", marks=needs_yunet)])
def test_one_detector_is_safe_to_share_between_threads(name, astronaut_bgr):
    """Frames of five sizes from four threads at once give the boxes each frame gives alone.

    Unguarded, OpenCV's cascade raises and YuNet crashes or runs at another frame's input size.
    """
    detector = make_detector(name)
    frames = [cv2.resize(astronaut_bgr, (s, s * 3 // 4)) for s in (512, 384, 640, 300, 800)]
    alone = [detector.detect(frame) for frame in frames]
    assert all(alone)  # the face is found at every size, so wrong boxes would show
    order = [k % len(frames) for k in range(120)]
    together = from_threads(lambda k: detector.detect(frames[k]), order)
    assert together == [alone[k] for k in order]


# --- The small-face path of photos and video files ----------------------------------------------


def test_small_face_path_scales_follow_image_size_and_min_face():
    path = SmallFacePath(findable=24, max_upscale=2.0, max_pixels=2_000_000, largest=320)
    assert path.scales(300, 400, min_face=12) == [2.0, 0.5]  # 600 px tall: a pass for big faces
    assert path.scales(100, 120, min_face=12) == [2.0]  # 200 px: no face can exceed 320
    assert path.scales(480, 640, min_face=24) == [1.0, 0.25]  # nothing to enlarge for
    assert path.scales(480, 640, min_face=48) == [0.5]  # 240 px: one pass
    big = path.scales(3000, 4000, min_face=12)  # 12 MP: searched at 2 MP, then 4x smaller
    assert big[0] == pytest.approx(math.sqrt(2_000_000 / 12_000_000))
    assert big[1:] == [pytest.approx(big[0] / 4)] and 3000 * big[-1] <= 320
    assert SmallFacePath(20, 1.5, 1_000_000).scales(3000, 4000, min_face=1) == [
        pytest.approx(math.sqrt(1 / 12))
    ]  # no `largest`: always one pass


def test_small_face_path_merges_passes_by_size():
    """Each pass keeps the faces of its own size; a face broken up at the fine scale is taken
    whole from the coarse one, and its fragments are suppressed."""
    path = SmallFacePath(findable=24, max_upscale=2.0, max_pixels=10**7, largest=320)
    image = np.zeros((300, 400, 3), np.uint8)  # searched at 2.0 (800x600) and 0.5 (200x150)
    seen = []

    def search(scaled):
        seen.append(scaled.shape[:2])
        if scaled.shape[0] == 600:  # fine: a small face, and two fragments of a big one
            return [(100, 100, 30, 30), (300, 150, 350, 350), (320, 300, 200, 200)], [0.9, 0.8, 0.7]
        # coarse: the big face whole (160 px in the photo), and the small face again (dropped)
        return [(70, 40, 80, 80), (25, 25, 8, 8)], [0.95, 0.9]

    boxes, scores = path.search(image, 12, search)
    assert seen == [(600, 800), (150, 200)]
    assert boxes == [(140.0, 80.0, 160.0, 160.0), (50.0, 50.0, 15.0, 15.0)]
    assert scores == [0.95, 0.9]


def test_yunet_small_face_path_finds_faces_the_live_path_misses(astronaut_bgr):
    """Six real faces of 10-24 px in a 640x480 photo: the live path finds the three of 16 px and
    more, the small-face path all six, each box where the face is, in the photo's own pixels."""
    from mask_detector.evaluation.scenes import match_boxes

    photo, truths = crowd_of_small_faces(astronaut_bgr, sizes=(10, 12, 14, 16, 20, 24))
    live = YuNetDetector(SHIPPED_YUNET, min_face=8).detect(photo)
    found = YuNetDetector(SHIPPED_YUNET, min_face=8, small_faces=True).detect(photo)
    assert sorted(j for _, j in match_boxes(live, truths, 0.5)) == [3, 4, 5]
    assert len(found) == 6 and sorted(j for _, j in match_boxes(found, truths, 0.5)) == [*range(6)]


def test_yunet_small_face_path_keeps_a_face_that_fills_the_photo(astronaut_bgr):
    """A close-up enlarged 2x holds a 760 px face, which YuNet breaks up or misses: the coarse
    pass finds it whole."""
    x, y, w, _ = ASTRONAUT_FACE_BOX
    x0, y0 = x + w // 2 - 60, y + w // 2 - 60
    photo = cv2.resize(astronaut_bgr[y0 : y0 + 120, x0 : x0 + 120], (480, 480))
    truth = tuple(v * 4 for v in (x - x0, y - y0, w, w))
    one_pass = SmallFacePath(findable=24, max_upscale=2.0, max_pixels=10**9)
    assert (
        YuNetDetector(SHIPPED_YUNET, small_faces=True, small_face_path=one_pass).detect(photo) == []
    )
    found = YuNetDetector(SHIPPED_YUNET, small_faces=True).detect(photo)
    assert len(found) == 1 and box_iou(found[0], truth) > 0.7


def test_min_face_is_the_longer_side_in_photo_pixels(astronaut_bgr):
    detector = YuNetDetector(SHIPPED_YUNET)
    (box,) = detector.detect(astronaut_bgr)
    assert box[3] > box[2]  # YuNet's boxes are taller than wide
    detector.min_face = box[3]
    assert detector.detect(astronaut_bgr) == [box]
    detector.min_face += 1
    assert detector.detect(astronaut_bgr) == []
    # The small-face path searches for faces of 60 px and up at 0.4x, and says where in the photo
    small = YuNetDetector(SHIPPED_YUNET, min_face=60, small_faces=True)
    assert small.small_face_path.scales(512, 512, 60) == [0.4]
    (found,) = small.detect(astronaut_bgr)
    assert box_iou(found, box) > 0.7


def test_haar_has_one_path(astronaut_bgr):
    """Enlarging photos cost Haar close faces (HaarDetector): photos take its live path."""
    haar = make_detector("haar", small_faces=True)
    assert isinstance(haar, HaarDetector) and haar.small_faces is False
    assert haar.working_scale(300, 400) == 0.9 and haar.working_scale(3000, 4000) == 0.09


@needs_yunet
def test_small_face_detector_is_safe_to_share_between_threads(astronaut_bgr):
    detector = make_detector("yunet", small_faces=True)
    frames = [cv2.resize(astronaut_bgr, (s, s * 3 // 4)) for s in (512, 300, 800)]
    alone = [detector.detect(frame) for frame in frames]
    assert all(alone)
    order = [k % len(frames) for k in range(30)]
    assert from_threads(lambda k: detector.detect(frames[k]), order) == [alone[k] for k in order]
