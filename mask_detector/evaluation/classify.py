"""Evaluate the classifier on a folder-per-class set, each image taken as one face crop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..classifier import MaskClassifier
from ..config import LABELS
from ..data.dataset import LoadReport, Sample, iter_images, list_samples
from ..data.split import Split
from ..progress import Progress
from .metrics import classification_report

BATCH = 32


def evaluate_samples(
    classifier: MaskClassifier, samples: list[Sample], progress: Progress | None = None
) -> dict[str, Any]:
    """The metrics report (with `by_size`: each image's longer side is the face size) plus
    `skipped` (unreadable files) and `files` (per-image results, with the image's size)."""
    report = LoadReport()
    labels: list[int] = []
    sizes: list[int] = []
    probs: list[np.ndarray] = []
    names: list[str] = []
    batch: list[np.ndarray] = []

    def flush() -> None:
        probs.append(classifier.classify(batch))
        batch.clear()

    for sample, image in iter_images(samples, report, progress):
        batch.append(image)
        labels.append(sample.label)
        sizes.append(max(image.shape[:2]))  # a close-up image is the face
        names.append(str(sample.path))
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()
    all_probs = np.concatenate(probs) if probs else np.empty((0, len(LABELS)))
    result = classification_report(np.array(labels, int), all_probs, sizes)
    result["skipped"] = [{"file": str(p), "error": e} for p, e in report.skipped]
    result["files"] = [
        {"file": n, "true": int(t), "size": s, "probs": [round(float(v), 5) for v in p]}
        for n, t, s, p in zip(names, labels, sizes, all_probs, strict=True)
    ]
    return result


def evaluate_folder(
    classifier: MaskClassifier,
    data_dir: str | Path,
    split: Split | None = None,
    part: str = "test",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """All images under `data_dir`, or only the `part` of a saved split."""
    samples = split.samples(part, data_dir) if split else list_samples(data_dir)
    return evaluate_samples(classifier, samples, progress)
