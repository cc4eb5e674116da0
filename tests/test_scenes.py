"""Scene evaluation: VOC parsing, one-to-one matching and the report (IoU: test_detectors)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from helpers import needs_shared
from mask_detector import config
from mask_detector.detection import Detection
from mask_detector.detectors import HaarDetector
from mask_detector.errors import DatasetError
from mask_detector.evaluation.scenes import (
    boxes_only,
    evaluate_scenes,
    load_annotations,
    match_boxes,
)

VOC = """<annotation>
  <filename>{name}</filename>
  <size><width>100</width><height>80</height><depth>3</depth></size>
  <object><name>with_mask</name><bndbox>
    <xmin>10</xmin><ymin>10</ymin><xmax>30</xmax><ymax>30</ymax></bndbox></object>
  <object><name>without_mask</name><bndbox>
    <xmin>50.0</xmin><ymin>20</ymin><xmax>70</xmax><ymax>44</ymax></bndbox></object>
  <object><name>mask_weared_incorrect</name><bndbox>
    <xmin>75</xmin><ymin>50</ymin><xmax>95</xmax><ymax>70</ymax></bndbox></object>
</annotation>"""


def test_load_annotations(tmp_path):
    path = tmp_path / "a.xml"
    path.write_text(VOC.format(name="a.png"))
    assert load_annotations(path) == [
        ("with_mask", (10, 10, 20, 20)),
        ("without_mask", (50, 20, 20, 24)),
        ("mask_worn_incorrectly", (75, 50, 20, 20)),  # the VOC name maps to the label
    ]
    path.write_text(VOC.format(name="a.png").replace("with_mask", "face_shield"))
    assert load_annotations(path)[0] == ("face_shield", (10, 10, 20, 20))  # unknown: kept


@pytest.mark.parametrize(
    "text",
    ["<annotation>", "<a><object><name>x</name></object></a>", VOC.replace("<xmin>10", "<xmin>z")],
)
def test_load_annotations_rejects_bad_xml(tmp_path, text):
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(DatasetError):
        load_annotations(path)


def test_match_is_one_to_one_and_greedy():
    truths = [(0, 0, 10, 10), (12, 0, 10, 10)]
    dets = [(1, 0, 10, 10), (0, 0, 10, 10), (11, 0, 10, 10), (100, 100, 5, 5)]
    matches = match_boxes(dets, truths)
    assert sorted(matches) == [(1, 0), (2, 1)]
    assert match_boxes([], truths) == []
    assert match_boxes(dets, []) == []
    # a loose box below the threshold finds nothing
    assert match_boxes([(0, 0, 30, 30)], [(0, 0, 10, 10)]) == []
    assert match_boxes([(0, 0, 30, 30)], [(0, 0, 10, 10)], threshold=0.1) == [(0, 0)]


def _scene(tmp_path, n=2):
    images, notes = tmp_path / "images", tmp_path / "annotations"
    images.mkdir()
    notes.mkdir()
    import cv2

    for i in range(n):
        cv2.imwrite(str(images / f"s{i}.png"), np.zeros((80, 100, 3), np.uint8))
        (notes / f"s{i}.xml").write_text(VOC.format(name=f"s{i}.png"))
    return images, notes


def test_evaluate_scenes_with_synthetic_detections(tmp_path):
    images, notes = _scene(tmp_path)
    (notes / "broken.xml").write_text("<annotation")
    (notes / "orphan.xml").write_text(VOC.format(name="missing.png"))

    def detect(image):
        return [
            Detection((10, 10, 20, 20), "with_mask", 0.9),  # right
            Detection((50, 20, 20, 24), "mask_worn_incorrectly", 0.8),  # found, wrong label
            Detection((76, 50, 20, 20), "mask_worn_incorrectly", 0.7),  # right
            Detection((0, 60, 10, 10), "without_mask", 0.6),  # false positive
        ]

    calls = []
    with pytest.warns(UserWarning, match="skipped"):
        report = evaluate_scenes(images, notes, detect, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (4, 4)
    assert report["images"] == 2 and report["skipped"] == 2
    assert report["faces"] == 6 and report["found"] == 6 and report["recall"] == 1.0
    assert report["recall_per_class"] == dict.fromkeys(config.LABELS, 1.0)
    assert report["detections"] == 8 and report["precision"] == 0.75
    assert report["label_accuracy"] == pytest.approx(4 / 6)
    assert report["label_accuracy_per_class"] == {
        "with_mask": 1.0,
        "without_mask": 0.0,
        "mask_worn_incorrectly": 1.0,
    }
    # The third label does not buy its recall with the other two: without_mask counts wrong.
    assert report["label_accuracy_two_labels"] == 0.5
    assert report["label_confusion"] == [[2, 0, 0], [0, 0, 2], [0, 0, 2]]
    rows = {r["bucket"]: r for r in report["by_size"]}
    assert rows["16-24"]["n"] == 4 and rows["16-24"]["accuracy"] == 1.0  # 20 px boxes
    assert rows["24-32"]["n"] == 2 and rows["24-32"]["accuracy"] == 0.0  # 20x24: without_mask
    assert sum(r["n"] for r in report["by_size"]) == 6
    only = evaluate_scenes(images, notes, detect, only=["s1.xml"])
    assert only["images"] == 1 and only["faces"] == 3


def test_evaluate_scenes_boxes_only(tmp_path):
    images, notes = _scene(tmp_path, n=1)
    report = evaluate_scenes(images, notes, boxes_only(lambda im: [(10, 10, 20, 20)]))
    assert report["recall"] == pytest.approx(1 / 3)
    assert report["recall_per_class"]["without_mask"] == 0.0
    assert report["label_accuracy"] is None and report["by_size"] is None
    assert report["label_accuracy_per_class"] == dict.fromkeys(config.LABELS)
    empty = evaluate_scenes(images, notes, lambda im: [])
    assert empty["precision"] is None and empty["found"] == 0


def test_evaluate_scenes_missing_folder(tmp_path):
    with pytest.raises(DatasetError):
        evaluate_scenes(tmp_path / "i", tmp_path / "nope", lambda im: [])


@needs_shared
def test_evaluate_scenes_haar_on_a_few_real_photos(tmp_path):
    scenes = config.scenes_dir()
    detector = HaarDetector()
    names = sorted(p.stem for p in (scenes / "annotations").glob("*.xml"))[:8]
    (tmp_path / "annotations").mkdir()
    for name in names:  # a copy in tmp_path only, so the test sees a small folder
        shutil.copy(scenes / "annotations" / f"{name}.xml", tmp_path / "annotations")
    report = evaluate_scenes(
        scenes / "images",
        tmp_path / "annotations",
        boxes_only(detector.detect),
    )
    assert report["images"] == 8 and report["skipped"] == 0
    assert report["faces"] > 0 and 0 <= report["found"] <= report["faces"]
    assert 0.0 <= report["recall"] <= 1.0
    assert set(report["recall_per_class"]) >= {"with_mask", "without_mask"}
    assert report["precision"] is None or 0.0 <= report["precision"] <= 1.0
    assert report["label_accuracy"] is None
    assert set(report["faces_per_class"]) >= set(config.LABELS)
    limited = evaluate_scenes(scenes / "images", scenes / "annotations", lambda im: [], limit=3)
    assert limited["images"] == 3
