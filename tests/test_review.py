"""Label review: folds by photo, the doubt rule, the list's round trip, and leaving faces out."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from mask_detector import config
from mask_detector.data.split import Split
from mask_detector.errors import MaskDetectorError
from mask_detector.training import review
from mask_detector.training.scenario import Scenario, load_scenario
from mask_detector.training.views import FaceItem

WITH, WITHOUT, WRONG = range(3)


def test_folds_are_fixed_by_the_photo_name_and_all_used():
    names = [f"images/p{i:03d}.jpg" for i in range(200)]
    folds = [review.fold_of(n) for n in names]
    assert folds == [review.fold_of(f"elsewhere/{Path(n).name}") for n in names]
    assert set(folds) == set(range(review.FOLDS))
    assert min(folds.count(f) for f in range(review.FOLDS)) > 200 / review.FOLDS / 2


def test_only_a_confident_other_main_label_raises_a_doubt():
    labels = [WITH, WITH, WITHOUT, WITHOUT, WRONG, WITH]
    probs = np.array(
        [
            [0.05, 0.95, 0.0],  # masked face the model calls bare: doubted
            [0.15, 0.85, 0.0],  # not sure enough
            [0.92, 0.03, 0.05],  # bare face the model calls masked: doubted
            [0.02, 0.08, 0.90],  # worn wrong is a convention, never a doubt
            [0.00, 0.99, 0.01],  # worn-wrong faces are left alone
            [0.05, 0.05, 0.90],
        ]
    )
    assert review.doubted(labels, probs) == [0, 2]


def test_the_list_round_trips_and_leaves_out_only_its_faces(tmp_path):
    doubts = [
        review.Doubt("a.jpg", (10, 20, 30, 40), "with_mask", "without_mask", 0.97),
        review.Doubt("b.jpg", (1, 2, 3, 4), "without_mask", "with_mask", 0.9),
    ]
    path = tmp_path / "doubted.csv"
    review.write_doubted(doubts, path)
    assert "a.jpg,10,20,40,60,with_mask,without_mask,0.970" in path.read_text()
    keys = review.read_doubted(path)
    assert keys == {d.key() for d in doubts}
    items = [
        FaceItem(Path("/x/a.jpg"), WITH, (10, 20, 30, 40), "scene"),
        FaceItem(Path("/x/a.jpg"), WITHOUT, (50, 20, 30, 40), "scene"),
        FaceItem(Path("/y/b.jpg"), WITHOUT, (1, 2, 3, 4), "scene"),
        FaceItem(Path("/y/b.jpg"), WITH, None),  # a close-up of the same name stays
    ]
    assert review.without_doubted(items, keys) == [items[1], items[3]]


def test_a_missing_list_says_how_to_write_it(tmp_path):
    with pytest.raises(MaskDetectorError, match="review-labels"):
        review.read_doubted(tmp_path / "none.csv")


def test_dropping_doubted_faces_needs_scene_faces(tmp_path):
    path = tmp_path / "d.json"
    closeups = load_scenario("closeups").to_dict()
    path.write_text(json.dumps({**closeups, "drop_doubted": True}))
    with pytest.raises(MaskDetectorError, match="drop_doubted"):
        load_scenario(path)


def _scene_split(root: Path, n: int) -> Split:
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    rows = []
    for i in range(n):
        image = np.random.default_rng(i).integers(0, 255, (80, 80, 3), np.uint8)
        cv2.imwrite(str(root / "images" / f"p{i:02d}.png"), image)
        (root / "annotations" / f"p{i:02d}.xml").write_text(
            "<annotation><object><name>with_mask</name><bndbox><xmin>5</xmin><ymin>5</ymin>"
            "<xmax>35</xmax><ymax>35</ymax></bndbox></object><object><name>without_mask</name>"
            "<bndbox><xmin>40</xmin><ymin>40</ymin><xmax>70</xmax><ymax>75</ymax></bndbox>"
            "</object></annotation>"
        )
        rows.append((f"images/p{i:02d}.png", f"annotations/p{i:02d}.xml"))
    empty: dict[str, list] = {part: [] for part in ("train", "val", "test")}
    return Split(empty, 0, (0.7, 0.15, 0.15), 0, 0, {**empty, "train": rows})


class _CallsEveryFaceBare:
    def __init__(self, model: Path) -> None:
        assert model.name.endswith(".tflite")

    def classify(self, faces: list[np.ndarray]) -> np.ndarray:
        return np.tile(np.array([0.04, 0.95, 0.01], np.float32), (len(faces), 1))


def test_each_fold_is_judged_by_a_model_trained_without_it(tmp_path, monkeypatch):
    split = _scene_split(tmp_path / "scenes", 12)
    trained: list[tuple[str, set[str]]] = []

    def train(part: Split, scenario: Scenario, runs_dir: Path) -> Path:
        trained.append((scenario.name, {image for image, _ in part.photos["train"]}))
        return runs_dir / f"{scenario.name}.tflite"

    monkeypatch.setattr(review, "MaskClassifier", _CallsEveryFaceBare)
    monkeypatch.setenv(config.ENV_CACHE, str(tmp_path / "cache"))
    doubts = review.review_scene_labels(
        split, load_scenario("scenes_lowres_ls"), train, lambda m: None, tmp_path / "scenes"
    )
    assert [name for name, _ in trained] == ["scenes_lowres_ls_fold0", "scenes_lowres_ls_fold1"]
    everything = {image for image, _ in split.photos["train"]}
    for fold, (_, seen) in enumerate(trained):
        assert seen == {i for i in everything if review.fold_of(i) != fold}
    # The stub calls every face bare: each photo's masked face, and only it, is doubted.
    assert sorted(d.photo for d in doubts) == sorted(Path(i).name for i in everything)
    assert {(d.box, d.annotated, d.out_of_fold) for d in doubts} == {
        ((5, 5, 30, 30), "with_mask", "without_mask")
    }
