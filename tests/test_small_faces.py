"""Faces too small to judge (one representation everywhere) and detector recall by face size."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from helpers import FixedClassifier
from mask_detector import config
from mask_detector.app.reports import scenes_rows
from mask_detector.app.results import ImageResult, results_csv, results_json
from mask_detector.detection import Detection, count_labels, face_size
from mask_detector.draw import annotate, label_text
from mask_detector.evaluation.by_size import recall_by_size, recall_table
from mask_detector.evaluation.figures import detector_recall_figure
from mask_detector.pipeline import MaskDetector

#: Boxes of 10, 15, 16 and 40 px (longer side) in a 100x100 image.
BOXES = [(5, 5, 8, 10), (30, 5, 15, 12), (60, 5, 16, 16), (5, 50, 40, 30)]


class FixedBoxes:
    """A face detector that always finds BOXES."""

    name = "fixed"
    min_face = 1
    small_faces = False

    def detect(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        return list(BOXES)


class CountingClassifier(FixedClassifier):
    """FixedClassifier that remembers the size of every crop it was asked about."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, ...]] = []

    def classify(self, faces: list[np.ndarray]) -> np.ndarray:
        self.asked += [face.shape[:2] for face in faces]
        return super().classify(faces)


def _pipeline(**kwargs: object) -> tuple[MaskDetector, CountingClassifier]:
    classifier = CountingClassifier()
    return MaskDetector(FixedBoxes(), classifier, **kwargs), classifier  # type: ignore[arg-type]


def test_faces_under_the_threshold_are_found_not_judged():
    pipeline, classifier = _pipeline(min_judged_face=16)
    faces = pipeline.detect(np.zeros((100, 100, 3), np.uint8))
    assert [f.box for f in faces] == BOXES  # every face kept, in the detector's order
    assert [f.label for f in faces] == ["too_small", "too_small", "with_mask", "with_mask"]
    assert [f.confidence for f in faces] == [None, None, pytest.approx(0.9), pytest.approx(0.9)]
    assert len(classifier.asked) == 2  # the classifier never sees the small ones
    assert [face_size(f.box) for f in faces] == [10, 15, 16, 40]


def test_the_threshold_is_a_setting_and_confidence_never_hides_a_small_face():
    pipeline, classifier = _pipeline()  # the default judges every face (config.MIN_JUDGED_FACE)
    assert config.MIN_JUDGED_FACE == pipeline.min_judged_face == 0
    faces = pipeline.detect(np.zeros((100, 100, 3), np.uint8))
    assert [f.label for f in faces] == ["with_mask"] * 4 and len(classifier.asked) == 4
    strict, _ = _pipeline(min_confidence=0.95, min_judged_face=41)
    faces = strict.detect(np.zeros((100, 100, 3), np.uint8))
    assert [f.label for f in faces] == ["too_small"] * 4
    strict.min_judged_face = 16
    assert [f.label for f in strict.detect(np.zeros((100, 100, 3), np.uint8))] == ["too_small"] * 2


def test_counts_and_exports_carry_too_small_faces():
    faces = [Detection((0, 0, 10, 10), config.TOO_SMALL, None)]
    faces.append(Detection((20, 20, 30, 30), "without_mask", 0.8))
    assert count_labels(faces) == {
        "with_mask": 0,
        "without_mask": 1,
        "mask_worn_incorrectly": 0,
        "too_small": 1,
    }
    result = ImageResult("a.png", faces, np.zeros((60, 60, 3), np.uint8))
    rows = list(csv.DictReader(io.StringIO(results_csv([result]).decode())))
    assert [(r["label"], r["confidence"]) for r in rows] == [
        ("Too small to judge", ""),
        ("No mask", "0.8"),
    ]
    exported = json.loads(results_json([result]))[0]
    assert (
        exported["faces"][0]["label"] == "too_small" and exported["faces"][0]["confidence"] is None
    )
    assert exported["counts"]["too_small"] == 1


def test_too_small_faces_are_drawn_grey_with_a_mark():
    small = Detection((10, 10, 12, 12), config.TOO_SMALL, None)
    assert label_text(small) == config.TOO_SMALL_MARK == "?"
    assert label_text(Detection((0, 0, 5, 5), "with_mask", 0.97)) == "Mask 97%"
    image = annotate(np.zeros((100, 100, 3), np.uint8), [small])
    assert tuple(image[21, 10]) == config.TOO_SMALL_COLOUR  # the box's lower edge
    assert config.display_name(config.TOO_SMALL) == "Too small to judge"


def test_recall_by_size_buckets():
    rows = recall_by_size([10, 15, 20, 100, 300], [True, False, True, True, False])
    by = {r["bucket"]: r for r in rows}
    assert [r["bucket"] for r in rows] == ["<16", "16-24", "24-32", "32-48", "48-96", ">=96"]
    assert by["<16"] == {
        "bucket": "<16",
        "min_px": None,
        "max_px": 16,
        "faces": 2,
        "found": 1,
        "recall": 0.5,
    }
    assert by["16-24"]["recall"] == 1.0 and by["24-32"]["recall"] is None
    assert by[">=96"]["faces"] == 2 and by[">=96"]["found"] == 1
    text = recall_table(rows)
    assert "   <16      2      1   50.0%" in text and "n/a" in text


def test_scene_reports_show_recall_by_size_per_detector_setting():
    buckets = recall_by_size([10, 20, 40], [False, True, True])
    scenes = {
        "yunet": {"recall": 0.8, "recall_by_size": buckets, "found_and_right": 0.7},
        "haar (live path)": {"recall": 0.2, "recall_by_size": recall_by_size([10], [False])},
        "old": {"recall": 0.5},  # written before recall by size: no line
    }
    (ax, counts) = detector_recall_figure(scenes).axes
    lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
    assert set(lines) == {"yunet", "haar (live path)"}
    np.testing.assert_equal(lines["yunet"], [0.0, 1.0, np.nan, 1.0, np.nan, np.nan])
    assert [p.get_height() for p in counts.patches] == [1, 1, 0, 1, 0, 0]
    rows = {r["detector"]: r for r in scenes_rows(scenes)}
    assert rows["yunet"]["found and labelled right"] == "70.0%"
    assert rows["old"]["found and labelled right"] == "n/a"


def test_count_lines_name_too_small_faces_only_when_there_are_some():
    from mask_detector.app.people import people_line

    assert config.counted_labels({"with_mask": 2, config.TOO_SMALL: 0}) == config.LABELS
    assert config.counted_labels({config.TOO_SMALL: 1}) == config.RESULT_LABELS
    summary = {"people": 2, "people_per_label": {"with_mask": 1, config.TOO_SMALL: 1}}
    assert people_line(summary) == (
        "2 people: 1 with mask, 0 without mask, 0 mask worn wrong, 1 too small to judge"
    )
    assert "too small" not in people_line({"people": 1, "people_per_label": {"with_mask": 1}})
