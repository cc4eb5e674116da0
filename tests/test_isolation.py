"""Two users at once: what one uploads never shows up in the other's session, and the files the
app writes while working (the video page's input and output, the metrics page's unpacked zip)
live in private temporary folders that are gone once the page has its result, success or error.

Each AppTest is its own Streamlit session (own session state), like two browser tabs; the models
are shared by both (MaskDetector.load(shared=True)), the results are not.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from helpers import encode, needs_model, small_video
from mask_detector import config

APP = str(config.REPO_ROOT / "app.py")

#: Session-state slots where the pages keep a user's results (app_pages/*.py, mask_detector/app).
RESULT_SLOTS = ("_upload_results", "_video_result", "_eval_result")

pytestmark = needs_model


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every tempfile.* folder the app makes goes under here, so leftovers can be seen."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def session(page: str) -> AppTest:
    """A new user: the home page first, then `page`."""
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def held_results(at: AppTest) -> list[str]:
    return [slot for slot in RESULT_SLOTS if slot in at.session_state]


def test_photos_of_one_session_are_not_seen_by_another(astronaut_bgr, private_tmp):
    alice = session("app_pages/upload.py")
    bob = session("app_pages/upload.py")
    alice.file_uploader(key="upload_files").set_value(
        [("alice.png", encode(astronaut_bgr), "image/png")]
    ).run()
    assert not alice.exception and [s.value for s in alice.subheader] == ["alice.png"]
    assert held_results(alice) == ["_upload_results"]

    bob.run()  # Bob's page reruns after Alice's upload: still nothing of hers
    assert not bob.exception
    assert [i.value for i in bob.info] == ["No image yet."]
    assert not bob.subheader and not bob.get("download_button")
    assert held_results(bob) == []

    flipped = np.ascontiguousarray(astronaut_bgr[:, ::-1])
    bob.file_uploader(key="upload_files").set_value(
        [("bob.png", encode(flipped), "image/png")]
    ).run()
    assert [s.value for s in bob.subheader] == ["bob.png"]
    results = bob.session_state["_upload_results"]
    assert [r.name for r in results.values()] == ["bob.png"]

    alice.run()
    assert [s.value for s in alice.subheader] == ["alice.png"]
    assert [r.name for r in alice.session_state["_upload_results"].values()] == ["alice.png"]
    assert list(private_tmp.iterdir()) == []  # photos are processed in memory


def test_video_of_one_session_is_not_seen_by_another_and_files_are_removed(
    astronaut_bgr, private_tmp
):
    alice = session("app_pages/video.py")
    bob = session("app_pages/video.py")
    clip = small_video(astronaut_bgr[:256, 128:384])
    alice.file_uploader(key="video_file").set_value(("alice.mp4", clip, "video/mp4")).run()
    assert not alice.exception and not alice.error
    assert alice.get("video") and held_results(alice) == ["_video_result"]
    assert list(private_tmp.iterdir()) == []  # input and annotated output are deleted

    bob.run()
    assert not bob.exception
    assert [i.value for i in bob.info] == ["No video yet."]
    assert not bob.get("video") and not bob.get("download_button")
    assert held_results(bob) == []

    # A file that fails half-way (not a video) leaves nothing behind either.
    bob.file_uploader(key="video_file").set_value(("bob.mp4", b"not a video", "video/mp4")).run()
    assert bob.error[0].value.startswith("bob.mp4: not a video file")
    assert list(private_tmp.iterdir()) == []
    alice.run()
    assert not alice.error and alice.get("video")  # Bob's failure is not on Alice's page


def test_archive_of_one_session_is_not_seen_by_another_and_files_are_removed(
    astronaut_bgr, masked_astronaut_bgr, private_tmp
):
    crop = np.s_[40:180, 150:300]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("with_mask/a.png", encode(masked_astronaut_bgr[crop]))
        zf.writestr("without_mask/b.png", encode(astronaut_bgr[crop]))
    alice = session("app_pages/metrics.py")
    bob = session("app_pages/metrics.py")
    alice.file_uploader(key="eval_zip").set_value(("alice.zip", buf.getvalue(), "application/zip"))
    alice.run()
    assert not alice.exception and not alice.error
    assert any(m.label == "Accuracy" for m in alice.metric)
    assert held_results(alice) == ["_eval_result"]
    assert list(private_tmp.iterdir()) == []  # the unpacked archive is deleted

    bob.run()
    assert not bob.exception
    assert not any(m.label == "Accuracy" for m in bob.metric)
    assert held_results(bob) == []
