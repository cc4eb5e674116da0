"""Choose the best scenario on validation data (never on test), and export it for inference."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ..config import (
    KERAS_MODEL_NAME,
    LABELS,
    METRICS_NAME,
    SCENARIO_MODEL_NAME,
    TFLITE_MODEL_NAME,
    scenes_dir,
)
from ..errors import MaskDetectorError
from ..evaluation.by_size import split_at
from ..evaluation.crops import scene_face_crops
from ..evaluation.metrics import classification_report, macro
from ..preprocess import preprocess_faces
from .export import export_tflite
from .runs import load_runs
from .spread import val_scene_goal_figures

#: The close-up goal, checked on validation: a scenario below it is chosen only if all are.
CLOSEUP_FLOOR = 0.99
SELECTED_BY = (
    f"close-up validation accuracy of at least {CLOSEUP_FLOOR:.0%}, then on the validation scene "
    "faces of 32 px and more the accuracy on the two main labels, then the without_mask recall"
)


def selection_score(metrics: dict[str, Any]) -> tuple[bool, float, float]:
    """How scenarios are ranked: see SELECTED_BY, the goals of the product read on validation.
    The two main labels are what the product flags; the third label has no goal, and a rule led
    by mean recall chose by it. The close-up floor keeps the close-up figure from being traded.
    A run without validation scene faces of that size (a smoke run) ranks as if it had 0."""
    two_labels, no_mask = val_scene_goal_figures(metrics)
    return metrics["val"]["accuracy"] >= CLOSEUP_FLOOR, two_labels or 0.0, no_mask or 0.0


def best_run(runs: dict[str, dict[str, Any]]) -> str:
    """The run `selection_score` ranks first. `ship` picks among scenarios with it; each scenario
    names the seed of its own best run among the seeds measured for it (models/seeds), since one
    run's close-up validation figure moves by more than a point's quarter from seed to seed."""
    return max(runs, key=lambda name: selection_score(runs[name]))


def model_crop_reports(
    models: Mapping[str, Path], scenes: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Each Keras model on the annotated faces of scenes-dev, where it is present.

    The cross-data-set check: photos of another collection, never trained on and never used to
    choose.
    """
    scenes = scenes or scenes_dir()
    if not (scenes / "annotations").is_dir():
        return {}
    missing = [str(path) for path in models.values() if not path.is_file()]
    if missing:
        raise MaskDetectorError(f"no trained model at {', '.join(missing)}: train it again")
    faces = scene_face_crops(scenes / "images", scenes / "annotations")
    reports = {}
    for name, path in models.items():
        model = keras.models.load_model(path)
        batch = preprocess_faces(faces.crops, size=int(model.input_shape[1]))
        probs = model.predict(batch, verbose=0)
        reports[name] = classification_report(np.array(faces.labels), probs, faces.sizes)
    return reports


def scene_crop_reports(
    runs_dir: Path, names: list[str], scenes: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Each named scenario's model in runs_dir on scenes-dev (see model_crop_reports)."""
    return model_crop_reports({n: runs_dir / n / SCENARIO_MODEL_NAME for n in names}, scenes)


def _scene_columns(prefix: str, report: dict[str, Any] | None) -> dict[str, Any]:
    """Accuracy and per-class recall, overall and for faces under / from 32 px."""
    if not report:
        return {}
    row = {f"{prefix}_accuracy": report["accuracy"], f"{prefix}_n": report["n"]}
    row |= {f"{prefix}_{c}_recall": report["per_class"][c]["recall"] for c in LABELS}
    for part in split_at(report["by_size"], 32):
        tag = "under32" if part["bucket"].startswith("<") else "32up"
        row[f"{prefix}_{tag}_accuracy"] = part["accuracy"]
        row[f"{prefix}_{tag}_n"] = part["n"]
        row[f"{prefix}_{tag}_without_mask_recall"] = part["recall"]["without_mask"]
    return row


def comparison_table(
    runs: dict[str, dict[str, Any]], scene_crops: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """One row per scenario: the figures people compare.

    `val_*` chose the model; `test_*` (close-up test split), `scenes_test_*` (scene faces of
    the scenes-ilc test photos) and `scene_crop_*` (the faces of scenes-dev, another
    collection) are only reported.
    """
    rows = []
    for name, m in runs.items():
        test = m["test"]
        val_all = m.get("val_all") or m["val"]
        calibration = m.get("calibration", {}).get("test_scenes", {})
        two_labels, no_mask = val_scene_goal_figures(m)
        rows.append(
            {
                "scenario": name,
                "image_size": m["scenario"].get("image_size"),
                "val_macro_recall": macro(val_all, "recall"),
                "val_accuracy": val_all["accuracy"],
                "val_closeup_accuracy": m["val"]["accuracy"],
                "val_scene_32up_two_label_accuracy": two_labels,
                "val_scene_32up_without_mask_recall": no_mask,
                "test_accuracy": test["accuracy"],
                **{
                    f"{c}_{k}": test["per_class"][c][k]
                    for c in test["per_class"]
                    for k in ("precision", "recall", "f1")
                },
                "test_roc_auc": test["roc_auc"],
                **_scene_columns("scenes_test", m.get("test_scenes")),
                # scenes-dev keeps the key names of earlier metrics files: scene_crop_*.
                **_scene_columns("scene_crop", (scene_crops or {}).get(name)),
                "temperature": m.get("calibration", {}).get("temperature"),
                "ece_before": calibration.get("before", {}).get("ece"),
                "ece_after": calibration.get("after", {}).get("ece"),
                "epochs": sum(len(h["loss"]) for h in m["history"].values()),
                "train_seconds": m["train_seconds"],
            }
        )
    return rows


def ship_best(runs_dir: Path, out_dir: Path, scenes: Path | None = None) -> str:
    runs = load_runs(runs_dir)
    best = best_run(runs)
    source = runs_dir / best / SCENARIO_MODEL_NAME
    if not source.is_file():
        raise MaskDetectorError(f"{source} is missing: train scenario {best} again")
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, out_dir / KERAS_MODEL_NAME)
    export_tflite(source, out_dir / TFLITE_MODEL_NAME)
    crops = scene_crop_reports(runs_dir, list(runs), scenes)
    m = runs[best]
    summary = {
        "shipped_scenario": best,
        "selected_by": SELECTED_BY,
        "image_size": m["scenario"].get("image_size"),
        "split_sizes": m["split_sizes"],
        "comparison": comparison_table(runs, crops),
        "test": m["test"],
        "val": m["val"],
        "test_scenes": m.get("test_scenes"),
        "val_scenes": m.get("val_scenes"),
        "val_all": m.get("val_all"),
        "scenes_dev_crops": crops.get(best),
        # Every scenario on scenes-dev (ROC points left out): by-size charts per scenario.
        "scenes_dev_crops_by_scenario": {
            name: {k: v for k, v in r.items() if k != "roc_curve"} for name, r in crops.items()
        },
        "calibration": m.get("calibration"),
    }
    (out_dir / METRICS_NAME).write_text(json.dumps(summary, indent=1) + "\n")
    return best
