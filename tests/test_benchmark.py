"""The benchmark's premises and output shape (its timings are figures, not assertions)."""

import argparse

import pytest

from helpers import needs_model
from mask_detector.benchmark import collect, format_table, make_frame
from mask_detector.detectors import make_detector

pytest.importorskip("skimage")


@pytest.mark.parametrize("faces", [0, 1, 3])
def test_frames_hold_the_faces_they_claim(faces):
    frame = make_frame(faces)
    assert frame.shape == (480, 640, 3)
    assert len(make_detector("haar").detect(frame)) == faces
    assert len(make_detector("yunet", min_face=10, small_faces=True).detect(frame)) == faces


@needs_model
def test_benchmark_runs_and_reports_every_figure():
    args = argparse.Namespace(runs=2, yunet_model=None, keras_model=None, no_baseline=True)
    result = collect(args)
    haar = result["fast"]["haar"]
    assert set(haar) == {"0", "1", "3"}
    assert haar["3"]["faces_found"] == 3
    assert haar["3"]["pipeline"]["median_ms"] > 0
    small = result["fast"]["yunet, small-face path"]  # what photos take: the 150 ms budget
    assert [small[n]["faces_found"] for n in ("0", "1", "3")] == [0, 1, 3]
    assert "| yunet, small-face path | 3 (3) |" in format_table(result)
    cold = result["cold_start"]
    assert cold["faces"] == 1 and cold["tensorflow_imported"] is False
    assert "Cold start" in format_table(result)
