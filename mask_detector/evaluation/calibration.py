"""Confidence that means what it says: temperature scaling and the expected calibration error.

A network trained with cross-entropy is often over-confident. Temperature scaling (Guo et al.,
2017) divides the logits by one number T, fitted on validation data; the predicted class never
changes, only how sure the model says it is. T is fitted here by the Brier score (the squared
error of the probabilities), a proper scoring rule like the usual log-likelihood but bounded:
a few confidently mislabelled validation faces (the scene photos have some, e.g. a photo of
masked children annotated without_mask) cannot drag T up, as they drag the log-likelihood's T.
The expected calibration error (ECE) is the gap between confidence and accuracy, averaged over
confidence bins weighted by their size; the per-bin figures draw a reliability diagram.

Only probabilities are needed: log(softmax(z)) equals z up to a constant per row, and
softmax is blind to such constants, so softmax(log(p) / T) = softmax(z / T).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

#: Equal-width confidence bins of the reliability diagram and the ECE.
BINS = 10
#: Temperatures searched (the optimum lies well inside in practice).
T_RANGE = (0.05, 20.0)


def scale_probs(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log(p) / T), row by row: the probabilities of a model whose logits are / T."""
    logits = np.log(np.clip(np.asarray(probs, float), 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def nll(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of the true labels."""
    p = np.asarray(probs, float)[np.arange(len(labels)), np.asarray(labels, int)]
    return float(-np.mean(np.log(np.clip(p, 1e-12, 1.0))))


def brier(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean squared distance between the probabilities and the one-hot true label."""
    p = np.asarray(probs, float)
    onehot = np.eye(p.shape[1])[np.asarray(labels, int)]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The T that minimises the Brier score of softmax(log(p) / T) on these (validation)
    faces."""
    result = minimize_scalar(
        lambda log_t: brier(scale_probs(probs, float(np.exp(log_t))), labels),
        bounds=tuple(np.log(T_RANGE)),
        method="bounded",
        options={"xatol": 1e-4},
    )
    return float(np.exp(result.x))


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> dict[str, Any]:
    """ECE and the reliability diagram's bins (confidence = the top probability)."""
    probs = np.asarray(probs, float)
    labels = np.asarray(labels, int)
    confidence = probs.max(axis=1)
    right = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    ece = 0.0
    for k in range(bins):
        inside = index == k
        n = int(inside.sum())
        conf = float(confidence[inside].mean()) if n else None
        acc = float(right[inside].mean()) if n else None
        if n:
            ece += n / len(labels) * abs(acc - conf)  # type: ignore[operator]
        rows.append(
            {
                "lo": float(edges[k]),
                "hi": float(edges[k + 1]),
                "n": n,
                "confidence": conf,
                "accuracy": acc,
            }
        )
    return {
        "n": len(labels),
        "ece": float(ece) if len(labels) else None,
        "nll": nll(probs, labels) if len(labels) else None,
        "brier": brier(probs, labels) if len(labels) else None,
        "bins": rows,
    }


def calibration_report(
    temperature: float, probs: np.ndarray, labels: np.ndarray, bins: int = BINS
) -> dict[str, Any]:
    """Before and after: `probs` are the uncalibrated model's, T is applied here."""
    return {
        "temperature": temperature,
        "before": reliability(probs, labels, bins),
        "after": reliability(scale_probs(probs, temperature), labels, bins),
    }
