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
from ..config import LABELS, METRICS_NAME, SCENES_NAME, display_name
from ..evaluation.figures import pct
from ..evaluation.metrics import macro

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

    @property
    def shipped(self) -> str | None:
        return self.summary.get("shipped_scenario") if self.summary else None


def load_reports(models_dir: Path | None = None) -> Reports:
    """models/metrics.json, models/scenarios/*/metrics.json and models/scenes.json.

    Read on every page run (a few small files), so a newly shipped model shows without a restart.
    """
    models_dir = models_dir or config.MODELS_DIR
    scenarios = {}
    for path in sorted((models_dir / "scenarios").glob(f"*/{METRICS_NAME}")):
        data = load_json(path)
        if data and "test" in data:
            scenarios[path.parent.name] = data
    return Reports(
        load_json(models_dir / METRICS_NAME), scenarios, load_json(models_dir / SCENES_NAME)
    )


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
    """One row per scenario, test-set figures (macro averages over the two classes)."""
    # Scene-crop figures are measured at ship time and kept in the summary's comparison rows.
    scene = {r["scenario"]: r for r in (reports.summary or {}).get("comparison", [])}
    rows = []
    for name, m in reports.scenarios.items():
        test = m["test"]
        crops = scene.get(name, {})
        rows.append(
            {
                "scenario": name + (" (shipped)" if name == reports.shipped else ""),
                "accuracy": pct(test["accuracy"]),
                "precision": pct(macro(test, "precision")),
                "recall": pct(macro(test, "recall")),
                "F1": pct(macro(test, "f1")),
                "AUC": "n/a" if test.get("roc_auc") is None else f"{test['roc_auc']:.3f}",
                "val accuracy": pct(m["val"]["accuracy"]) if "val" in m else "n/a",
                "scene faces: accuracy": pct(crops.get("scene_crop_accuracy")),
                "scene faces: No-mask recall": pct(crops.get("scene_crop_without_mask_recall")),
                "epochs": sum(len(h.get("loss", [])) for h in m.get("history", {}).values()),
                "train time (s)": m.get("train_seconds"),
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
    """Face-detector results on scene photos, one row per detector."""
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
                "faces": r.get("faces"),
            }
        )
    return rows
