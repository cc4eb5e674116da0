"""End to end: a real Chromium streams a fake webcam clip to /live over loopback WebRTC.

Needs Debian's Chromium (apt-get install -y chromium; Playwright drives it, no browser download)
and the trained model. ICE stays on 127.0.0.1 (no STUN; aioice limited to loopback by
MASK_DETECTOR_TEST_LOOPBACK_ICE), and where `unshare -n` is permitted the test re-runs itself in
a network namespace that has only `lo`, so nothing can leave the machine even by mistake.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import harness
from helpers import browser_test

pytestmark = browser_test


def test_live_page_streams_labels_and_stops(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    harness.run_isolated(request.node.nodeid, stream_and_stop, tmp_path)


def stream_and_stop(workdir: Path) -> None:
    clip = harness.write_y4m(workdir / "face.y4m", harness.clip_frames(seconds=4.0))
    with harness.app_server(workdir) as server, harness.browser_page(clip, workdir) as page:
        harness.open_live_page(page, server)
        harness.click(page, "START")
        first = harness.wait_for_first_frame(page, timeout_ms=60_000)
        samples = [first]
        for _ in range(8):
            page.wait_for_timeout(1000)
            samples.append(harness.read_live_text(page))
        playing = samples[-1]

        # Processed frames keep coming, at a real rate, and the page reports the face.
        assert playing.frames is not None and playing.frames > (first.frames or 0) + 10, samples
        assert max(s.fps or 0.0 for s in samples) >= 3.0, samples
        assert any(s.with_mask + s.without_mask >= 1 for s in samples), samples
        # The annotated video comes back to the browser at the camera's size.
        assert harness.output_video_size(page) == harness.CLIP_SIZE

        harness.click(page, "STOP")
        page.get_by_text(harness.STOPPED_RE).wait_for(timeout=30_000)
        page.wait_for_timeout(500)  # a frame in flight at STOP may still be counted
        stopped = harness.read_live_text(page).stopped_frames
        assert stopped is not None and stopped >= playing.frames
        # The status refreshes every second: a processor still running would raise the count.
        page.wait_for_timeout(3000)
        after = harness.read_live_text(page)
        assert after.stopped_frames == stopped, after
        assert after.fps is None
        harness.component(page).get_by_role("button", name="START").wait_for(timeout=10_000)
        log = server.log_tail(20_000)
    assert "Traceback" not in log, log
