"""Training and evaluation reports for the home and metrics pages: loading them, table rows.

No Streamlit here: everything returns plain rows, so it is testable and the pages only lay them
out (their charts come from evaluation.figures). Every file is optional; a missing one gives
None and the page says so.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config
from ..config import (
    CONDITIONS_NAME,
    LABELS,
    METRICS_NAME,
    RUNS_DIR_NAME,
    SCENES_NAME,
    SEEDS_DIR_NAME,
    TFLITE_MODEL_NAME,
    display_name,
)
from ..evaluation.by_size import recall_text, two_labels_text, with_totals
from ..evaluation.conditions import COLUMNS, condition_cells, measured_for
from ..evaluation.figures import pct
from ..evaluation.metrics import macro
from ..training.spread import shipped_spread, spread_rows

log = logging.getLogger(__name__)


def load_json(path: Path) -> dict[str, Any] | None:
    """The file's object, or None when it is missing or not valid JSON (logged)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


@dataclass
class Reports:
    """Everything training and evaluation wrote under models/."""

    summary: dict[str, Any] | None = None
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    scenes: dict[str, Any] | None = None
    #: The shipped recipe trained under other seeds (`train --seed`).
    seeds: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: benchmarks/conditions.py's record (photos made grey, dark...), and whether it was
    #: measured with the model file now shipped.
    conditions: dict[str, Any] | None = None
    conditions_current: bool = False

    @property
    def shipped(self) -> str | None:
        return self.summary.get("shipped_scenario") if self.summary else None


def _runs(folder: Path) -> dict[str, dict[str, Any]]:
    """Name -> metrics of the trained runs in a folder (those with test figures)."""
    runs = {}
    for path in sorted(folder.glob(f"*/{METRICS_NAME}")):
        data = load_json(path)
        if data and "test" in data:
            runs[path.parent.name] = data
    return runs


def condition_rows(record: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """A table per photo set of the conditions record: a row per condition."""
    return {
        name: [dict(zip(COLUMNS, condition_cells(c, r), strict=True)) for c, r in reports.items()]
        for name, reports in record["sets"].items()
    }


def load_reports(models_dir: Path | None = None) -> Reports:
    """models/metrics.json, models/{scenarios,seeds}/*/metrics.json, models/scenes.json and
    models/conditions.json.

    Read on every page run (a few small files), so a newly shipped model shows without a restart.
    """
    models_dir = models_dir or config.MODELS_DIR
    conditions = load_json(models_dir / CONDITIONS_NAME)
    return Reports(
        load_json(models_dir / METRICS_NAME),
        _runs(models_dir / RUNS_DIR_NAME),
        load_json(models_dir / SCENES_NAME),
        _runs(models_dir / SEEDS_DIR_NAME),
        conditions,
        conditions is not None and measured_for(conditions, models_dir / TFLITE_MODEL_NAME),
    )


def seed_spread_rows(reports: Reports) -> list[dict[str, Any]]:
    """The shipped run and the same recipe's other seeds (for a soup, the runs it averages),
    then mean, sd and range (percent)."""
    if not reports.shipped or not reports.summary:
        return []
    runs, apart = shipped_spread(reports.shipped, reports.summary, reports.scenarios, reports.seeds)
    if not runs:
        return []
    return [
        {k: v if k == "run" else pct(v, 2) for k, v in row.items()}
        for row in spread_rows(runs, apart=apart)
    ]


def headline_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-class precision / recall / F1 / support of one classification report."""
    return [
        {
            "class": display_name(name),
            "precision": pct(c["precision"]),
            "recall": pct(c["recall"]),
            "F1": pct(c["f1"]),
            "images": c["support"],
        }
        for name, c in report["per_class"].items()
    ]


def comparison_rows(reports: Reports) -> list[dict[str, Any]]:
    """One row per scenario: the close-up test set (macro averages over the classes it has),
    validation and training."""
    summary = {r["scenario"]: r for r in (reports.summary or {}).get("comparison", [])}
    rows = []
    for name, m in reports.scenarios.items():
        test = m["test"]
        rows.append(
            {
                "scenario": name + (" (shipped)" if name == reports.shipped else ""),
                "accuracy": pct(test["accuracy"]),
                "precision": pct(macro(test, "precision")),
                "recall": pct(macro(test, "recall")),
                "F1": pct(macro(test, "f1")),
                "AUC": "n/a" if test.get("roc_auc") is None else f"{test['roc_auc']:.3f}",
                "val: close-up accuracy": pct(m["val"]["accuracy"]) if "val" in m else "n/a",
                "val: scene >= 32 px, two labels": pct(
                    summary.get(name, {}).get("val_scene_32up_two_label_accuracy")
                ),
                "val: scene >= 32 px, no-mask recall": pct(
                    summary.get(name, {}).get("val_scene_32up_without_mask_recall")
                ),
                "val: mean recall, all faces": pct(summary.get(name, {}).get("val_macro_recall")),
                "epochs": sum(len(h.get("loss", [])) for h in m.get("history", {}).values()),
                "train time (s)": m.get("train_seconds"),
            }
        )
    return rows


#: The scene-face data sets, as the pages name them: the test photos of the split's scene set,
#: and scenes-dev, another collection never trained on.
SCENE_TEST = "scenes-ilc test"
SCENES_DEV = "scenes-dev"
#: The class whose recall the goals are stated in.
NO_MASK = "without_mask"


def scene_comparison_rows(reports: Reports) -> list[dict[str, Any]]:
    """One row per scenario that `ship` compared, on faces in real photos (its comparison rows
    in models/metrics.json): scene test accuracy and recall of each class, the same under and
    from 32 px, scenes-dev, and the expected calibration error before and after scaling."""
    rows = []
    for r in (reports.summary or {}).get("comparison", []):
        row: dict[str, Any] = {
            "scenario": r["scenario"] + (" (shipped)" if r["scenario"] == reports.shipped else ""),
            "input px": r.get("image_size"),
            f"{SCENE_TEST}: accuracy": pct(r.get("scenes_test_accuracy")),
            **{
                f"{SCENE_TEST}: {display_name(c)} recall": pct(r.get(f"scenes_test_{c}_recall"))
                for c in LABELS
            },
        }
        for tag, words in (("under32", "< 32 px"), ("32up", ">= 32 px")):
            row[f"{SCENE_TEST} {words}: accuracy"] = pct(r.get(f"scenes_test_{tag}_accuracy"))
            row[f"{SCENE_TEST} {words}: {display_name(NO_MASK)} recall"] = pct(
                r.get(f"scenes_test_{tag}_{NO_MASK}_recall")
            )
        # scenes-dev figures keep the key names of earlier metrics files: scene_crop_*.
        row[f"{SCENES_DEV}: accuracy"] = pct(r.get("scene_crop_accuracy"))
        row[f"{SCENES_DEV}: {display_name(NO_MASK)} recall"] = pct(
            r.get(f"scene_crop_{NO_MASK}_recall")
        )
        row[f"{SCENES_DEV} < 32 px: accuracy"] = pct(r.get("scene_crop_under32_accuracy"))
        row["ECE before -> after"] = f"{pct(r.get('ece_before'))} -> {pct(r.get('ece_after'))}"
        temperature = r.get("temperature")
        row["T"] = "n/a" if temperature is None else f"{temperature:.3f}"
        rows.append(row)
    return rows


def by_size_series(reports: Reports, scenario: str) -> dict[str, list[dict[str, Any]]]:
    """A scenario's `by_size` rows on each scene data set measured: its own scene test faces
    (models/scenarios/<name>/metrics.json) and scenes-dev (measured by `ship`)."""
    series = {}
    test = (reports.scenarios.get(scenario) or {}).get("test_scenes") or {}
    if test.get("by_size"):
        series[SCENE_TEST] = test["by_size"]
    dev = ((reports.summary or {}).get("scenes_dev_crops_by_scenario") or {}).get(scenario) or {}
    if dev.get("by_size"):
        series[SCENES_DEV] = dev["by_size"]
    return series


def by_size_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A `by_size` table for the page: each bucket, then all faces under and from 32 px; the
    goals' figures with their 95% intervals."""
    return [
        {
            "face px": r["bucket"],
            "faces": r["n"],
            "accuracy": pct(r["accuracy"]),
            "Mask / No mask faces only (95% interval)": two_labels_text(r),
            **{f"{display_name(c)} recall (95% interval)": recall_text(r, c) for c in LABELS},
        }
        for r in with_totals(rows)
    ]


def shipped_reports(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The shipped model's classification reports by data set (the ones measured)."""
    named = {
        "close-up test images": summary.get("test"),
        f"faces of the {SCENE_TEST} photos": summary.get("test_scenes"),
        f"faces of the {SCENES_DEV} photos": summary.get("scenes_dev_crops"),
    }
    return {name: report for name, report in named.items() if report}


def trained_on(reports: Reports) -> str:
    """What the shipped model learned from, in words, read from its scenario's recipe."""
    recipe = (reports.scenarios.get(reports.shipped or "") or {}).get("scenario") or {}
    if recipe.get("scene_faces") or recipe.get("yunet_faces"):
        return (
            "close-up face images and faces cut from real photos the way the face detector "
            "cuts them (small, blurred and crowded faces included)"
        )
    return "close-up face images"


#: The data sets of a calibration report (training.train), as the pages name them.
CALIBRATION_SETS = {
    "val_scenes": "validation scene faces",
    "val_closeups": "validation close-ups",
    "test_scenes": "scene test faces",
    "test_closeups": "close-up test images",
}


def calibration_set(name: str) -> str:
    return CALIBRATION_SETS.get(name, name.replace("_", " "))


def calibration_rows(calibration: dict[str, Any]) -> list[dict[str, Any]]:
    """Expected calibration error, log-likelihood and Brier score before and after temperature
    scaling, one row per data set of the calibration report."""

    def score(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    rows = []
    for name, part in calibration.items():
        if not (isinstance(part, dict) and "before" in part):
            continue
        before, after = part["before"], part["after"]
        rows.append(
            {
                "faces": calibration_set(name),
                "n": before["n"],
                "ECE before": pct(before["ece"]),
                "ECE after": pct(after["ece"]),
                "NLL before": score(before["nll"]),
                "NLL after": score(after["nll"]),
                "Brier before": score(before["brier"]),
                "Brier after": score(after["brier"]),
            }
        )
    return rows


def split_rows(split_sizes: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Images per part (train / val / test) and class."""
    return [
        {
            "part": part,
            **{display_name(c): sizes.get(c, 0) for c in LABELS},
            "total": sum(sizes.values()),
        }
        for part, sizes in split_sizes.items()
    ]


def scenes_rows(scenes: dict[str, Any]) -> list[dict[str, Any]]:
    """Face-detector results on scene photos, one row per detector setting."""
    rows = []
    for name, r in scenes.items():
        if not isinstance(r, dict):
            continue
        per_class = r.get("recall_per_class") or {}
        rows.append(
            {
                "detector": name,
                "recall": pct(r.get("recall")),
                **{
                    f"recall {display_name(c)}": pct(per_class.get(c))
                    for c in LABELS
                    if c in per_class
                },
                "precision": pct(r.get("precision")),
                "label accuracy": pct(r.get("label_accuracy")),
                "found and labelled right": pct(r.get("found_and_right")),
                "faces": r.get("faces"),
            }
        )
    return rows
