"""The live page without a browser: stats, frame dropping, the page render (ICE: test_ice.py).

The real-browser run is in test_live_browser.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from fractions import Fraction

import av
import numpy as np
import pytest

from helpers import MODEL, needs_model
from mask_detector import config, draw
from mask_detector.app import ice
from mask_detector.app.live import CAVEAT_EVERY, LiveProcessor
from mask_detector.app.stats import LiveSnapshot, LiveStats
from mask_detector.caveats import CAVEATS
from mask_detector.detection import Detection, count_labels
from mask_detector.evaluation.conditions import dark

PAGE = str(config.REPO_ROOT / "app_pages" / "live.py")

MASK = Detection((0, 0, 10, 10), "with_mask", 0.9)
NO_MASK = Detection((20, 0, 10, 10), "without_mask", 0.8)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakePipeline:
    """Stands in for MaskDetector under the tracker: its detector finds fixed boxes, its
    classifier gives each a fixed label; records what it saw; optionally slow, like a real
    pipeline on a busy CPU."""

    def __init__(self, detections: list[Detection] | None = None, delay: float = 0.0) -> None:
        self.detections = detections if detections is not None else [NO_MASK]
        self.delay = delay
        self.min_confidence = 0.0
        self.seen: list[int] = []  # the first pixel of each frame: the frame's index
        self.detector = self  # detect() below is the face detector

    def detect(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        self.seen.append(int(image[0, 0, 0]))
        if self.delay:
            time.sleep(self.delay)
        return [d.box for d in self.detections]

    def judges(self, box) -> bool:
        return True

    def probabilities(self, bgr: np.ndarray, boxes) -> np.ndarray:
        rows = []
        for box in boxes:
            (found,) = [d for d in self.detections if d.box == box]
            row = np.full(len(config.LABELS), (1 - found.confidence) / (len(config.LABELS) - 1))
            row[config.LABELS.index(found.label)] = found.confidence
            rows.append(row)
        return np.array(rows).reshape(-1, len(config.LABELS))


def frame_of(value: int, size: tuple[int, int] = (48, 64)) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(np.full((*size, 3), value, np.uint8), format="bgr24")
    frame.pts, frame.time_base = value, Fraction(1, 90000)
    return frame


# --- LiveStats -----------------------------------------------------------------------------------


def counts(**by_label: int) -> dict[str, int]:
    """A count for every label of config.RESULT_LABELS (0 unless given)."""
    return {label: by_label.get(label, 0) for label in config.RESULT_LABELS}


def test_snapshot_text_is_the_one_line_status() -> None:
    snap = LiveSnapshot(12.46, 30, 2, 0, 0.1, 0.5, counts(with_mask=1), counts(with_mask=2))
    assert snap.text().startswith("12.5 FPS · 1 with mask · 0 without mask")
    assert snap.details().startswith("30 frames processed · 2 dropped")
    assert snap.active and not snap.alert
    assert snap.alert_text() == "No one without a mask in view"
    assert snap.people_text().startswith("In view: 1 person · 2 people seen since START (2 with")


def test_the_figures_line_names_every_label_and_alerts_on_the_third() -> None:
    """Three labels: "X FPS · N with mask · M without mask · K mask worn wrong"; a mask worn wrong
    raises the alert as no mask does."""
    assert "mask_worn_incorrectly" in config.LABELS
    now = counts(with_mask=2, mask_worn_incorrectly=1)
    seen = counts(with_mask=2, without_mask=1, mask_worn_incorrectly=1)
    snap = LiveSnapshot(14.96, 75, 0, 0, 0.1, 0.5, now, seen)
    assert snap.text() == "15.0 FPS · 2 with mask · 0 without mask · 1 mask worn wrong"
    assert snap.alert and snap.alert_text() == "Alert: 1 mask worn wrong"
    assert snap.seen_text() == (
        "4 people seen since START (2 with mask, 1 without mask, 1 mask worn wrong)"
    )
    no_mask = LiveSnapshot(9.0, 9, 0, 0, 0.1, 0.5, counts(without_mask=2), seen)
    assert no_mask.alert_text() == "Alert: 2 without mask"


def test_stats_start_empty() -> None:
    snap = LiveStats().snapshot()
    assert (snap.fps, snap.frames, snap.in_view, snap.people) == (0.0, 0, counts(), counts())
    assert snap.idle_s is None and snap.first_frame_s is None and not snap.active


def test_fps_over_a_sliding_window_then_zero_when_frames_stop() -> None:
    clock = FakeClock()
    stats = LiveStats(window_s=2.0, clock=clock)
    clock.now += 0.75  # connection set-up before the first frame
    for _ in range(40):  # 4 s at 10 fps
        stats.update([MASK, NO_MASK, NO_MASK], counts(with_mask=1, without_mask=3))
        clock.now += 0.1
    snap = stats.snapshot()
    assert snap.fps == pytest.approx(10.0)
    assert snap.in_view == counts(with_mask=1, without_mask=2) and snap.frames == 40
    assert snap.people == counts(with_mask=1, without_mask=3)
    assert snap.first_frame_s == pytest.approx(0.75)
    assert snap.active and snap.alert
    for _ in range(10):  # slows down to 2 fps: the window forgets the fast part
        stats.update([])
        clock.now += 0.5
    snap = stats.snapshot()
    assert snap.fps == pytest.approx(2.0)
    assert snap.in_view == counts() and not snap.alert
    assert snap.people == counts(with_mask=1, without_mask=3)  # kept when not given
    clock.now += 2.5  # no frame for longer than the window: stopped
    snap = stats.snapshot()
    assert snap.fps == 0.0 and not snap.active and snap.frames == 50


def test_reset_starts_a_new_stream() -> None:
    clock = FakeClock()
    stats = LiveStats(clock=clock)
    stats.update([MASK], counts(with_mask=1), dropped=3)
    stats.add_error()
    clock.now += 5
    stats.reset()
    clock.now += 0.25
    stats.update([])
    snap = stats.snapshot()
    assert (snap.frames, snap.dropped, snap.errors) == (1, 0, 0)
    assert snap.people == counts()
    assert snap.first_frame_s == pytest.approx(0.25)


def test_stats_are_consistent_under_concurrent_writers_and_readers() -> None:
    stats = LiveStats()
    stop = threading.Event()
    seen: list[LiveSnapshot] = []

    def reader() -> None:
        while not stop.is_set():
            seen.append(stats.snapshot())

    def writer() -> None:
        for _ in range(2000):
            stats.update([MASK, NO_MASK], dropped=1)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    r = threading.Thread(target=reader)
    r.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    r.join()
    snap = stats.snapshot()
    assert snap.frames == snap.dropped == 6000
    assert all(s.frames == s.dropped for s in seen)  # never a half-applied update


# --- LiveProcessor -------------------------------------------------------------------------------


def test_recv_tracks_draws_and_counts(astronaut_bgr) -> None:
    third = Detection((100, 100, 60, 60), "mask_worn_incorrectly", 0.95)
    proc = LiveProcessor(FakePipeline([MASK, NO_MASK, third]))
    for _ in range(3):
        out = proc.recv(av.VideoFrame.from_ndarray(astronaut_bgr, format="bgr24"))
    assert isinstance(out, av.VideoFrame)
    assert (out.width, out.height) == (512, 512)
    drawn = out.to_ndarray(format="bgr24")
    assert tuple(drawn[100, 100]) == draw.colour("mask_worn_incorrectly")  # the amber box
    snap = proc.stats.snapshot()
    assert snap.frames == 3
    assert snap.in_view == counts(with_mask=1, without_mask=1, mask_worn_incorrectly=1)
    assert snap.people == snap.in_view  # three tracks, one person each
    assert snap.text().endswith("1 with mask · 1 without mask · 1 mask worn wrong")


def test_a_dark_or_grey_camera_is_flagged_once_a_second(astronaut_bgr) -> None:
    proc = LiveProcessor(FakePipeline([MASK]))
    dim = av.VideoFrame.from_ndarray(dark(astronaut_bgr), format="bgr24")
    lit = av.VideoFrame.from_ndarray(astronaut_bgr, format="bgr24")
    proc.recv(dim)
    assert proc.stats.snapshot().caveats == ["dark"]
    for _ in range(CAVEAT_EVERY - 1):  # the light is not checked again before a second
        proc.recv(lit)
    assert proc.stats.snapshot().caveats == ["dark"]
    proc.recv(lit)
    assert proc.stats.snapshot().caveats == []
    proc.stats.reset()
    assert proc.stats.snapshot().caveats == []


def test_blur_can_be_switched_on_while_streaming(astronaut_bgr, astronaut_face_box) -> None:
    face = Detection(astronaut_face_box, "without_mask", 0.9)
    proc = LiveProcessor(FakePipeline([face]))
    x, y, w, h = astronaut_face_box
    inner = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
    for _ in range(3):  # the face becomes a track (the detector runs on every other frame)
        plain = proc.process_bgr(astronaut_bgr)
    assert np.array_equal(plain[inner], astronaut_bgr[inner])
    proc.blur = True
    for _ in range(2):
        blurred = proc.process_bgr(astronaut_bgr)
        assert np.abs(blurred[inner].astype(int) - astronaut_bgr[inner]).mean() > 10
    assert proc.stats.snapshot().in_view == counts(without_mask=1)  # counts stay


def test_recv_queued_processes_only_the_newest_frame() -> None:
    pipeline = FakePipeline()
    proc = LiveProcessor(pipeline)
    out = asyncio.run(proc.recv_queued([frame_of(v) for v in (1, 2, 3, 4, 5)]))
    assert pipeline.seen == [5]
    assert len(out) == 1 and out[0].to_ndarray(format="bgr24")[45, 5, 0] == 5  # off the box
    snap = proc.stats.snapshot()
    assert (snap.frames, snap.dropped) == (1, 4)


def test_a_failing_frame_passes_through_and_is_counted() -> None:
    class Broken(FakePipeline):
        def detect(self, image):
            raise RuntimeError("boom")

    proc = LiveProcessor(Broken())
    for value in (7, 8, 9, 10):  # the detector runs on every other frame: 7 and 9
        out = proc.recv(frame_of(value))
        assert out.to_ndarray(format="bgr24")[0, 0, 0] == value
    snap = proc.stats.snapshot()
    assert (snap.errors, snap.frames) == (2, 2)


def test_slow_processing_drops_frames_instead_of_lagging() -> None:
    """Through streamlit-webrtc's own async track: 100 fps in, ~20 fps of processing.

    If queued frames were all processed, the frame being processed would fall further behind
    the camera with every frame; with dropping, it stays within a few frames of the newest.
    """
    from aiortc import MediaStreamTrack
    from streamlit_webrtc.process import AsyncVideoProcessTrack

    produced = 0

    class Camera(MediaStreamTrack):
        kind = "video"

        async def recv(self) -> av.VideoFrame:
            nonlocal produced
            await asyncio.sleep(0.01)
            produced += 1
            return frame_of(produced % 256, size=(8, 8))

    lags: list[int] = []

    class Slow(FakePipeline):
        def detect(self, image):
            lags.append(produced - int(image[0, 0, 0]))
            return super().detect(image)

    proc = LiveProcessor(Slow(delay=0.05))

    async def stream() -> None:
        track = AsyncVideoProcessTrack(Camera(), proc)
        for _ in range(150):
            await track.recv()
        track.stop()

    asyncio.run(stream())
    snap = proc.stats.snapshot()
    assert produced == 150
    assert 3 <= snap.frames < 100 and snap.dropped > 0
    assert snap.frames + snap.dropped <= produced
    # Lag stays bounded: the frames waiting during one processing step, not a growing queue.
    assert max(lags[len(lags) // 2 :]) <= 15, lags


@needs_model
def test_recv_with_the_real_pipeline(astronaut_bgr, masked_astronaut_bgr) -> None:
    """The processor reports what the pipeline finds (accuracy is test_classifier's business)."""
    from mask_detector.pipeline import MaskDetector

    pipeline = MaskDetector.load(MODEL)
    for image in (astronaut_bgr, masked_astronaut_bgr):
        proc = LiveProcessor(pipeline)
        expected = pipeline.detect(image)
        for _ in range(3):
            out = proc.recv(av.VideoFrame.from_ndarray(image, format="bgr24"))
        out_bgr = out.to_ndarray(format="bgr24")
        assert out_bgr.shape == image.shape
        assert not np.array_equal(out_bgr, image)  # boxes were drawn
        snap = proc.stats.snapshot()
        assert snap.frames == 3 and sum(snap.in_view.values()) == len(expected) >= 1
        assert snap.in_view == count_labels(expected)
        assert sum(snap.people.values()) == len(expected)


# --- The page under AppTest ----------------------------------------------------------------------


@pytest.fixture
def page_env(monkeypatch):
    """AppTest has no browser session, which streamlit-webrtc looks up; ICE stays offline."""
    import streamlit_webrtc.component

    monkeypatch.setattr(streamlit_webrtc.component, "get_this_session_info", lambda: None)
    monkeypatch.setenv(ice.ENV_ICE_SERVERS, "[]")
    monkeypatch.delenv(ice.ENV_TEST_LOOPBACK_ICE, raising=False)


@pytest.fixture
def fake_pipeline(monkeypatch) -> FakePipeline:
    """The page with a stand-in pipeline, so it renders without a trained model."""
    from mask_detector.app import state

    pipeline = FakePipeline()
    monkeypatch.setattr(state, "load_pipeline", lambda *args: pipeline)
    return pipeline


def _run_page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _component_args(at) -> dict:
    """The JSON arguments the page passed to the streamlit-webrtc component."""
    comps = [
        e.proto
        for e in at.get("component_instance")
        if "webrtc" in e.proto.component_name or "webrtc" in e.proto.id
    ]
    assert len(comps) == 1
    return json.loads(comps[0].json_args)


def test_live_page_renders_idle(page_env, fake_pipeline) -> None:
    at = _run_page()
    assert at.title[0].value == "Live camera"
    assert [t.value for t in at.text] == ["Not streaming · press START"]
    assert isinstance(at.session_state["live_stats"], LiveStats)
    args = _component_args(at)
    assert args["rtc_configuration"] == {"iceServers": []}
    assert args["media_stream_constraints"] == {"video": True, "audio": False}
    assert at.sidebar.header[0].value == "Detection settings"


def test_live_page_shows_the_live_figures(page_env, fake_pipeline) -> None:
    at = _run_page()
    stats: LiveStats = at.session_state["live_stats"]
    stats.update([MASK, NO_MASK], counts(with_mask=1, without_mask=2))
    stats.update([MASK, NO_MASK], counts(with_mask=1, without_mask=2), dropped=2)
    at.run()
    assert "FPS · 1 with mask · 1 without mask · 0 mask worn wrong" in at.text[0].value
    assert "Alert: 1 without mask" in at.markdown[-1].value
    assert at.text[1].value == (
        "In view: 2 people · 3 people seen since START "
        "(1 with mask, 2 without mask, 0 mask worn wrong)"
    )
    assert any(c.value.startswith("2 frames processed · 2 dropped") for c in at.main.caption)
    stats.update([MASK], counts(with_mask=1, without_mask=2))
    at.run()
    assert "No one without a mask in view" in at.markdown[-1].value
    assert not at.warning
    stats.set_caveats(["grey"])
    at.run()
    assert [w.value for w in at.warning] == [CAVEATS["grey"]]


def test_live_page_reports_bad_ice_setting(page_env, fake_pipeline, monkeypatch) -> None:
    monkeypatch.setenv(ice.ENV_ICE_SERVERS, "{oops")
    at = _run_page()
    assert "ICE server setting is invalid" in at.error[0].value


@needs_model
def test_live_page_loads_the_real_pipeline(page_env) -> None:
    at = _run_page()
    assert not at.error
    assert [t.value for t in at.text] == ["Not streaming · press START"]


def test_live_page_takes_turn_servers_from_secrets(page_env, fake_pipeline, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv(ice.ENV_ICE_SERVERS)
    turn = {"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "p"}
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.secrets["ice_servers"] = [turn]
    at.run()
    assert not at.exception, at.exception
    assert _component_args(at)["rtc_configuration"] == {"iceServers": [turn]}


def test_live_page_defaults_to_public_stun(page_env, fake_pipeline, monkeypatch) -> None:
    monkeypatch.delenv(ice.ENV_ICE_SERVERS)
    at = _run_page()
    assert _component_args(at)["rtc_configuration"] == {"iceServers": ice.DEFAULT_ICE_SERVERS}


def test_live_page_keeps_haar_on_its_live_path(page_env, monkeypatch) -> None:
    """The camera's defaults (config.LIVE): Haar for speed, never the small-face path."""
    from mask_detector.app import state

    asked = []
    monkeypatch.setattr(state, "load_pipeline", lambda s: asked.append(s) or FakePipeline())
    _run_page()
    (settings,) = asked
    assert (settings.detector_name, settings.min_face, settings.small_faces) == ("haar", 24, False)
