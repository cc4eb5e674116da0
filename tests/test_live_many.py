"""End to end: three users stream their cameras to /live at once, against one app server.

Three browser contexts in one headless Chromium (separate Streamlit sessions and WebRTC
connections), each with the fake camera clip, stream over loopback for about 20 s: every page's
frame counter keeps growing, no page shows an exception, error or warning, the server log stays
free of tracebacks and exceptions (the models are shared by the three video threads), and STOP on
one session freezes its counter while the other two keep growing theirs.

Same set-up as tests/test_live_browser.py (Debian's Chromium, loopback-only ICE, re-run inside
`unshare -n` where permitted). benchmarks/soak.py is the long version: 60 s of three sessions,
or ten minutes of one with the server's memory traced.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from benchmarks import harness
from helpers import browser_test

SESSIONS = 3
#: Lines a healthy server log never has: Python tracebacks, asyncio's "Exception in callback",
#: "Task exception was never retrieved", LiveProcessor's "live frame processing failed".
LOG_PROBLEM = re.compile(r"Traceback|Exception in |exception was never|processing failed")

pytestmark = browser_test


def test_three_sessions_stream_at_once_and_stop_independently(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    harness.run_isolated(request.node.nodeid, three_sessions, tmp_path)


def frames(pages: list, texts: list[list[harness.LiveText]]) -> None:
    """Read every page's live text once, appending to its history."""
    for page, history in zip(pages, texts, strict=True):
        history.append(harness.read_live_text(page))


def three_sessions(workdir: Path) -> None:
    clip = harness.write_y4m(workdir / "face.y4m", harness.clip_frames(seconds=4.0))
    with harness.app_server(workdir) as server, harness.browser_pages(clip, SESSIONS) as pages:
        for page in pages:
            harness.open_live_page(page, server)
        for page in pages:
            harness.click(page, "START")
        texts = [[harness.wait_for_first_frame(page, timeout_ms=90_000)] for page in pages]

        # All three keep receiving processed frames: every counter grows between readings.
        for _ in range(3):
            pages[0].wait_for_timeout(3000)
            frames(pages, texts)
        for i, history in enumerate(texts, 1):
            counts = [t.frames or 0 for t in history]
            assert all(b > a for a, b in itertools.pairwise(counts)), (i, history)
            assert counts[-1] >= counts[0] + 10, (i, history)
            assert any(t.with_mask + t.without_mask for t in history), (i, history)
        assert [harness.page_problems(page) for page in pages] == [[]] * SESSIONS

        # STOP on session 1: its counter freezes, sessions 2 and 3 stream on.
        harness.click(pages[0], "STOP")
        pages[0].get_by_text(harness.STOPPED_RE).wait_for(timeout=30_000)
        pages[0].wait_for_timeout(1500)  # a frame in flight at STOP may still be counted
        frames(pages, texts)
        stopped = [h[-1] for h in texts]
        pages[0].wait_for_timeout(4000)
        frames(pages, texts)
        after = [h[-1] for h in texts]
        assert stopped[0].stopped_frames is not None, stopped[0]
        assert after[0].stopped_frames == stopped[0].stopped_frames and after[0].fps is None
        for i in (1, 2):
            assert after[i].fps is not None, (i + 1, after[i])
            assert (after[i].frames or 0) > (stopped[i].frames or 0), (i + 1, stopped[i], after[i])
        harness.component(pages[0]).get_by_role("button", name="START").wait_for(timeout=10_000)
        assert [harness.page_problems(page) for page in pages] == [[]] * SESSIONS

        for page in pages[1:]:
            harness.click(page, "STOP")
        for page in pages[1:]:
            harness.component(page).get_by_role("button", name="START").wait_for(timeout=10_000)
        pages[0].wait_for_timeout(1000)  # the server closes both connections
        log = server.log.read_text(errors="replace")
    problems = [line for line in log.splitlines() if LOG_PROBLEM.search(line)]
    assert not problems, log[-6000:]
