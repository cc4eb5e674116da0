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
from mask_detector import config
from mask_detector.app import ice
from mask_detector.app.live import LiveProcessor
from mask_detector.app.stats import LiveSnapshot, LiveStats
from mask_detector.detection import Detection

PAGE = str(config.REPO_ROOT / "app_pages" / "live.py")

MASK = Detection((0, 0, 10, 10), "with_mask", 0.9)
NO_MASK = Detection((20, 0, 10, 10), "without_mask", 0.8)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakePipeline:
    """Records what it saw; optionally slow, like a real pipeline on a busy CPU."""

    def __init__(self, detections: list[Detection] | None = None, delay: float = 0.0) -> None:
        self.detections = detections if detections is not None else [NO_MASK]
        self.delay = delay
        self.seen: list[int] = []  # the first pixel of each frame: the frame's index

    def process(self, image: np.ndarray) -> tuple[np.ndarray, list[Detection]]:
        self.seen.append(int(image[0, 0, 0]))
        if self.delay:
            time.sleep(self.delay)
        out = image.copy()
        out[:4, :4] = (0, 255, 0)
        return out, list(self.detections)


def frame_of(value: int, size: tuple[int, int] = (48, 64)) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(np.full((*size, 3), value, np.uint8), format="bgr24")
    frame.pts, frame.time_base = value, Fraction(1, 90000)
    return frame


# --- LiveStats -----------------------------------------------------------------------------------


def test_snapshot_text_is_the_one_line_status() -> None:
    snap = LiveSnapshot(12.46, 1, 0, 30, 2, 0, 0.1, 0.5)
    assert snap.text() == "12.5 FPS · 1 with mask · 0 without mask"
    assert snap.details().startswith("30 frames processed · 2 dropped")
    assert snap.active


def test_stats_start_empty() -> None:
    snap = LiveStats().snapshot()
    assert (snap.fps, snap.frames, snap.with_mask, snap.without_mask) == (0.0, 0, 0, 0)
    assert snap.idle_s is None and snap.first_frame_s is None and not snap.active


def test_fps_over_a_sliding_window_then_zero_when_frames_stop() -> None:
    clock = FakeClock()
    stats = LiveStats(window_s=2.0, clock=clock)
    clock.now += 0.75  # connection set-up before the first frame
    for _ in range(40):  # 4 s at 10 fps
        stats.update([MASK, NO_MASK, NO_MASK])
        clock.now += 0.1
    snap = stats.snapshot()
    assert snap.fps == pytest.approx(10.0)
    assert (snap.with_mask, snap.without_mask, snap.frames) == (1, 2, 40)
    assert snap.first_frame_s == pytest.approx(0.75)
    assert snap.active
    for _ in range(10):  # slows down to 2 fps: the window forgets the fast part
        stats.update([])
        clock.now += 0.5
    snap = stats.snapshot()
    assert snap.fps == pytest.approx(2.0)
    assert (snap.with_mask, snap.without_mask) == (0, 0)
    clock.now += 2.5  # no frame for longer than the window: stopped
    snap = stats.snapshot()
    assert snap.fps == 0.0 and not snap.active and snap.frames == 50


def test_reset_starts_a_new_stream() -> None:
    clock = FakeClock()
    stats = LiveStats(clock=clock)
    stats.update([MASK], dropped=3)
    stats.add_error()
    clock.now += 5
    stats.reset()
    clock.now += 0.25
    stats.update([])
    snap = stats.snapshot()
    assert (snap.frames, snap.dropped, snap.errors) == (1, 0, 0)
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


def test_recv_draws_on_the_frame_and_counts(astronaut_bgr) -> None:
    proc = LiveProcessor(FakePipeline([MASK, NO_MASK, NO_MASK]))
    frame = av.VideoFrame.from_ndarray(astronaut_bgr, format="bgr24")
    out = proc.recv(frame)
    assert isinstance(out, av.VideoFrame)
    assert (out.width, out.height) == (512, 512)
    assert tuple(out.to_ndarray(format="bgr24")[0, 0]) == (0, 255, 0)
    snap = proc.stats.snapshot()
    assert (snap.frames, snap.with_mask, snap.without_mask) == (1, 1, 2)


def test_recv_queued_processes_only_the_newest_frame() -> None:
    pipeline = FakePipeline()
    proc = LiveProcessor(pipeline)
    out = asyncio.run(proc.recv_queued([frame_of(v) for v in (1, 2, 3, 4, 5)]))
    assert pipeline.seen == [5]
    assert len(out) == 1 and out[0].to_ndarray(format="bgr24")[10, 10, 0] == 5
    snap = proc.stats.snapshot()
    assert (snap.frames, snap.dropped) == (1, 4)


def test_a_failing_frame_passes_through_and_is_counted() -> None:
    class Broken:
        def process(self, image):
            raise RuntimeError("boom")

    proc = LiveProcessor(Broken())
    out = proc.recv(frame_of(7))
    assert out.to_ndarray(format="bgr24")[0, 0, 0] == 7
    proc.recv(frame_of(8))
    snap = proc.stats.snapshot()
    assert (snap.errors, snap.frames) == (2, 0)


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
        def process(self, image):
            lags.append(produced - int(image[0, 0, 0]))
            return super().process(image)

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
    proc = LiveProcessor(pipeline)
    for n, image in enumerate((astronaut_bgr, masked_astronaut_bgr), 1):
        expected = pipeline.detect(image)
        out = proc.recv(av.VideoFrame.from_ndarray(image, format="bgr24")).to_ndarray(
            format="bgr24"
        )
        assert out.shape == image.shape
        assert not np.array_equal(out, image)  # boxes were drawn
        snap = proc.stats.snapshot()
        assert snap.frames == n and snap.with_mask + snap.without_mask == len(expected) >= 1
        assert snap.with_mask == sum(d.label == "with_mask" for d in expected)


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
    stats.update([MASK, NO_MASK])
    stats.update([MASK, NO_MASK], dropped=2)
    at.run()
    assert at.text[0].value.endswith("FPS · 1 with mask · 1 without mask")
    assert any(c.value.startswith("2 frames processed · 2 dropped") for c in at.main.caption)


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
