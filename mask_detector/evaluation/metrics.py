"""Classification metrics in one JSON-ready shape, shared by training, the CLI and the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)

from ..config import LABELS

#: Points kept from the ROC curve: enough to draw it, few enough for a small JSON file.
ROC_POINTS = 101


def classification_report(y_true: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1, ROC AUC, confusion matrix (rows true).

    `probs` is (N, len(LABELS)); the predicted class is its argmax.
    """
    y_true = np.asarray(y_true, int)
    probs = np.asarray(probs, float)
    y_pred = probs.argmax(axis=1)
    labels = list(range(len(LABELS)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    report: dict[str, Any] = {
        "n": len(y_true),
        "accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else 0.0,
        "labels": list(LABELS),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "per_class": {
            name: {
                "precision": float(precision[k]),
                "recall": float(recall[k]),
                "f1": float(f1[k]),
                "support": int(support[k]),
            }
            for k, name in enumerate(LABELS)
        },
        "roc_auc": None,
        "roc_curve": None,
    }
    if len(set(y_true.tolist())) == 2:
        # Score: probability of "with_mask", the positive class.
        positive = (y_true == 0).astype(int)
        report["roc_auc"] = float(roc_auc_score(positive, probs[:, 0]))
        fpr, tpr, _ = roc_curve(positive, probs[:, 0])
        grid = np.linspace(0, 1, ROC_POINTS)
        report["roc_curve"] = {
            "fpr": grid.round(4).tolist(),
            "tpr": np.interp(grid, fpr, tpr).round(4).tolist(),
        }
    return report


def summary_line(report: dict[str, Any]) -> str:
    recalls = ", ".join(f"{k} recall {v['recall']:.2%}" for k, v in report["per_class"].items())
    return f"n={report['n']} accuracy {report['accuracy']:.2%} ({recalls})"


def plot_confusion_matrix(report: dict[str, Any], path: str | Path, title: str = "") -> Path:
    """Counts and row-normalised rates side by side, as a PNG."""
    # A bare Figure, not pyplot: drawing a file must not change a notebook's plotting backend.
    from matplotlib.figure import Figure

    cm = np.asarray(report["confusion_matrix"], float)
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(9, 4))
    axes = fig.subplots(1, 2)
    for ax, values, fmt, name in (
        (axes[0], cm, "{:.0f}", "counts"),
        (axes[1], rates, "{:.1%}", "normalised by true class"),
    ):
        ax.imshow(values, cmap="Blues")
        ax.set(
            xticks=range(len(LABELS)),
            yticks=range(len(LABELS)),
            xticklabels=LABELS,
            yticklabels=LABELS,
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
