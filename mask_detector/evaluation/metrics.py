"""Classification metrics in one JSON-ready shape, shared by training, the CLI and the app."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

from ..config import DISPLAY_NAMES, LABELS
from .by_size import by_size

#: Points kept from the ROC curve: enough to draw it, few enough for a small JSON file.
ROC_POINTS = 101


def classification_report(
    y_true: np.ndarray, probs: np.ndarray, sizes: Sequence[float] | np.ndarray | None = None
) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1, ROC AUC, confusion matrix (rows true).

    `probs` is (N, len(LABELS)); the predicted class is its argmax, so on a data set without
    some class, a face given that class counts as wrong. A class with no true face has recall
    None; one never predicted has precision None. With `sizes` (each face's longer side in
    pixels) the report also has `by_size`.
    """
    y_true = np.asarray(y_true, int)
    probs = np.asarray(probs, float).reshape(len(y_true), len(LABELS))
    y_pred = probs.argmax(axis=1)
    labels = list(range(len(LABELS)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    predicted = np.bincount(y_pred, minlength=len(LABELS))
    report: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else 0.0,
        "labels": list(LABELS),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "per_class": {
            name: {
                "precision": float(precision[k]) if predicted[k] else None,
                "recall": float(recall[k]) if support[k] else None,
                "f1": float(f1[k]) if support[k] and predicted[k] else None,
                "support": int(support[k]),
            }
            for k, name in enumerate(LABELS)
        },
        "roc_auc": None,
        "roc_curve": None,
    }
    positive = (y_true == 0).astype(int)
    if 0 < positive.sum() < len(positive):
        # Score: probability of "with_mask", the positive class, against every other class.
        report["roc_auc"] = float(roc_auc_score(positive, probs[:, 0]))
        fpr, tpr, _ = roc_curve(positive, probs[:, 0])
        grid = np.linspace(0, 1, ROC_POINTS)
        report["roc_curve"] = {
            "fpr": grid.round(4).tolist(),
            "tpr": np.interp(grid, fpr, tpr).round(4).tolist(),
        }
    if sizes is not None:
        report["by_size"] = by_size(y_true, y_pred, sizes)
    return report


def summary_line(report: dict[str, Any]) -> str:
    recalls = ", ".join(
        f"{k} recall {v['recall']:.2%}"
        for k, v in report["per_class"].items()
        if v["recall"] is not None
    )
    return f"n={report['n']} accuracy {report['accuracy']:.2%} ({recalls})"


def confusion_rates(matrix: Sequence[Sequence[int]]) -> list[list[float]]:
    """A confusion matrix normalised by true class (each row sums to 1; an empty row is 0s)."""
    cm = np.asarray(matrix, float)
    return (cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)).tolist()


def plot_confusion_matrix(report: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Counts and row-normalised rates side by side, as a PNG."""
    # A bare Figure, not pyplot: drawing a file must not change a notebook's plotting backend.
    from matplotlib.figure import Figure

    cm = np.asarray(report["confusion_matrix"], float)
    rates = np.asarray(confusion_rates(report["confusion_matrix"]), float)
    names = [DISPLAY_NAMES.get(c, c) for c in report["labels"]]
    fig = Figure(figsize=(4 + 2.2 * len(names), 1.5 + 1.2 * len(names)))
    axes = fig.subplots(1, 2)
    for ax, values, fmt, name in (
        (axes[0], cm, "{:.0f}", "counts"),
        (axes[1], rates, "{:.1%}", "normalised by true class"),
    ):
        ax.imshow(values, cmap="Blues")
        ax.set(
            xticks=range(len(names)),
            yticks=range(len(names)),
            xticklabels=names,
            yticklabels=names,
            xlabel="predicted",
            ylabel="true",
            title=name,
        )
        for (i, j), v in np.ndenumerate(values):
            ax.text(
                j,
                i,
                fmt.format(v),
                ha="center",
                va="center",
                color="white" if values[i, j] > values.max() / 2 else "black",
            )
    fig.suptitle(title or f"accuracy {report['accuracy']:.2%} on {report['n']} images")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    return path
