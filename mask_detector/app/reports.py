"""Training and evaluation reports for the home and metrics pages: loading, tables, figures.

No Streamlit here: everything returns plain rows or matplotlib Figures (not pyplot, whose global
figure list would leak memory on a multi-user server), so it is testable and the pages only lay
them out. Every file is optional; a missing one gives None and the page says so.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .. import config
from ..config import DISPLAY_NAMES, LABELS, METRICS_NAME

log = logging.getLogger(__name__)

SCENES_NAME = "scenes.json"


def pct(value: float | None) -> str:
    """0.9734 -> "97.3%"; the one format used for rates on every page (and in the tests)."""
    return "n/a" if value is None else f"{100 * value:.1f}%"


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


def macro(report: dict[str, Any], key: str) -> float:
    """Mean over classes of a per-class figure (precision, recall or f1); a class the data set
    lacks (its figure is None) is left out."""
    values = [c[key] for c in report["per_class"].values() if c[key] is not None]
    return float(np.mean(values)) if values else float("nan")


def headline_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-class precision / recall / F1 / support of one classification report."""
    return [
        {
            "class": DISPLAY_NAMES.get(name, name),
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
            **{DISPLAY_NAMES.get(c, c): sizes.get(c, 0) for c in LABELS},
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
                    f"recall {DISPLAY_NAMES.get(c, c)}": pct(per_class.get(c))
                    for c in LABELS
                    if c in per_class
                },
                "precision": pct(r.get("precision")),
                "label accuracy": pct(r.get("label_accuracy")),
                "faces": r.get("faces"),
            }
        )
    return rows


def confusion_figure(report: dict[str, Any], title: str = "") -> Figure:
    """Counts and row-normalised rates side by side (rows: true class)."""
    cm = np.asarray(report["confusion_matrix"], float)
    rows = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    names = [DISPLAY_NAMES.get(c, c) for c in report.get("labels", LABELS)]
    fig = Figure(figsize=(7.5, 3.2), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, data, fmt, sub in (
        (axes[0], cm, "{:.0f}", "counts"),
        (axes[1], norm, "{:.1%}", "normalised"),
    ):
        ax.imshow(data / max(data.max(), 1e-9), cmap="Blues", vmin=0, vmax=1)
        for (i, j), v in np.ndenumerate(data):
            colour = "white" if data[i, j] > 0.6 * data.max() else "black"
            ax.text(j, i, fmt.format(v), ha="center", va="center", color=colour)
        ax.set_xticks(range(len(names)), names)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(sub)
    if title:
        fig.suptitle(title)
    return fig


def curves_figure(history: dict[str, dict[str, list[float]]], title: str = "") -> Figure:
    """Loss and accuracy per epoch, train and validation, the fine-tune phase after the head."""
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    axes = fig.subplots(1, 2)
    start = 0
    for phase, h in history.items():
        epochs = np.arange(start + 1, start + len(h.get("loss", [])) + 1)
        for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
            for prefix, style in (("", "-"), ("val_", "--")):
                values = h.get(prefix + key)
                if values:
                    label = f"{phase} {'validation' if prefix else 'train'}"
                    ax.plot(epochs, values, style, marker="o", markersize=3, label=label)
        if start:
            for ax in axes:
                ax.axvline(start + 0.5, color="grey", linewidth=0.8)
        start += len(epochs)
    for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(key)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def roc_figure(scenarios: dict[str, dict[str, Any]], title: str = "ROC, test set") -> Figure:
    """Test-set ROC curve of every scenario ("with mask" is the positive class)."""
    fig = Figure(figsize=(4.5, 4.2), layout="constrained")
    ax = fig.subplots()
    for name, m in scenarios.items():
        roc = m["test"].get("roc_curve")
        if roc:
            auc = m["test"].get("roc_auc")
            ax.plot(roc["fpr"], roc["tpr"], label=f"{name} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="lower right")
    return fig


#: The figures by name, all called as f(data, title).
FIGURES = {"confusion": confusion_figure, "curves": curves_figure, "roc": roc_figure}


def figure_png(kind: str, data: Any, title: str = "") -> bytes:
    """One of FIGURES rendered to PNG bytes (what the pages show and cache)."""
    buf = io.BytesIO()
    FIGURES[kind](data, title).savefig(buf, format="png", dpi=110)
    return buf.getvalue()
