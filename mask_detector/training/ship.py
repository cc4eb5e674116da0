"""Choose the best scenario on validation data (never on test), and export it for inference."""

from __future__ import annotations

import json
import shutil
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
from ..evaluation.crops import scene_face_crops
from ..evaluation.metrics import classification_report
from ..preprocess import preprocess_faces
from .export import export_tflite


def load_runs(runs_dir: Path) -> dict[str, dict[str, Any]]:
    runs = {
        p.parent.name: json.loads(p.read_text()) for p in sorted(runs_dir.glob(f"*/{METRICS_NAME}"))
    }
    if not runs:
        raise MaskDetectorError(f"no trained scenarios under {runs_dir}: run `train` first")
    return runs


def selection_score(metrics: dict[str, Any]) -> tuple[float, float]:
    """How scenarios are ranked: validation accuracy, then the weaker class's recall (of the
    classes validation has faces of)."""
    val = metrics["val"]
    recalls = [c["recall"] for c in val["per_class"].values() if c["recall"] is not None]
    return val["accuracy"], min(recalls)


def scene_crop_reports(
    runs_dir: Path, names: list[str], scenes: Path | None = None
) -> dict[str, dict[str, Any]]:
    """Each scenario's model on the annotated faces of the scene photos, where they are present.

    Reported beside the test figures, never used to choose: small crowd faces are the question
    the strong-augmentation scenario asks.
    """
    scenes = scenes or scenes_dir()
    if not (scenes / "annotations").is_dir():
        return {}
    faces = scene_face_crops(scenes / "images", scenes / "annotations")
    batch = preprocess_faces(faces.crops)
    reports = {}
    for name in names:
        model = keras.models.load_model(runs_dir / name / SCENARIO_MODEL_NAME)
        probs = model.predict(batch, verbose=0)
        reports[name] = classification_report(np.array(faces.labels), probs)
    return reports


def comparison_table(
    runs: dict[str, dict[str, Any]], scene_crops: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """One row per scenario: the figures people compare."""
    rows = []
    for name, m in runs.items():
        test = m["test"]
        crops = (scene_crops or {}).get(name)
        rows.append(
            {
                "scenario": name,
                "val_accuracy": m["val"]["accuracy"],
                "test_accuracy": test["accuracy"],
                **{
                    f"{c}_{k}": test["per_class"][c][k]
                    for c in test["per_class"]
                    for k in ("precision", "recall", "f1")
                },
                "test_roc_auc": test["roc_auc"],
                "epochs": sum(len(h["loss"]) for h in m["history"].values()),
                "train_seconds": m["train_seconds"],
                "scene_crop_accuracy": crops["accuracy"] if crops else None,
                "scene_crop_without_mask_recall": (
                    crops["per_class"][LABELS[1]]["recall"] if crops else None
                ),
            }
        )
    return rows


def ship_best(runs_dir: Path, out_dir: Path) -> str:
    runs = load_runs(runs_dir)
    best = max(runs, key=lambda name: selection_score(runs[name]))
    source = runs_dir / best / SCENARIO_MODEL_NAME
    if not source.is_file():
        raise MaskDetectorError(f"{source} is missing: train scenario {best} again")
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, out_dir / KERAS_MODEL_NAME)
    export_tflite(source, out_dir / TFLITE_MODEL_NAME)
    summary = {
        "shipped_scenario": best,
        "selected_by": "validation accuracy, then the lower per-class validation recall",
        "split_sizes": runs[best]["split_sizes"],
        "comparison": comparison_table(runs, scene_crop_reports(runs_dir, list(runs))),
        "test": runs[best]["test"],
        "val": runs[best]["val"],
    }
    (out_dir / METRICS_NAME).write_text(json.dumps(summary, indent=1) + "\n")
    return best
