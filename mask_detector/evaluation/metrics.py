"""Classification metrics in one JSON-ready shape, shared by training, the CLI and the app."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..config import LABELS
from .by_size import by_size
from .figures import pct

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
    # Imported here: scikit-learn takes over a second to import, and formatting a report
    # (summary_line, the model card, the app's tables) needs none of it.
    from sklearn.metrics import (
        confusion_matrix,
        precision_recall_fscore_support,
        roc_auc_score,
        roc_curve,
    )

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


def macro(report: Mapping[str, Any], key: str) -> float:
    """Mean over classes of a per-class figure (precision, recall or f1), each class counting
    the same, over the classes the data set has (on close-ups without a third class, that
    class's precision only counts the faces wrongly given it); NaN if there are none."""
    values = [c[key] for c in report["per_class"].values() if c["support"] and c[key] is not None]
    return float(np.mean(values)) if values else float("nan")


def recalls_text(report: Mapping[str, Any], digits: int = 2) -> str:
    """The recall of every class with faces in the report, in its order: with_mask recall
    99.69%, without_mask ..."""
    return ", ".join(
        f"{k} recall {pct(v['recall'], digits)}"
        for k, v in report["per_class"].items()
        if v["recall"] is not None
    )


def summary_line(report: Mapping[str, Any]) -> str:
    """One report in one line: n=612 accuracy 99.51% (with_mask recall 99.69%, ...)."""
    return f"n={report['n']} accuracy {pct(report['accuracy'], 2)} ({recalls_text(report)})"
