"""Figures by face size: the classifier is judged on the sizes faces really have in photos.

One helper for every evaluation (close-up images, where the image is the face; annotated scene
crops; the faces the pipeline found), so the buckets and the fields are the same everywhere.
A face's size is the longer side of its box, in pixels of the original photo.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import LABELS

# One definition of a face's size for the detectors and the figures; named here too, where the
# evaluation and training code take it from.
from ..detection import face_size as face_size
from .figures import pct
from .intervals import interval_text, wilson

#: Bucket edges in pixels (longer side of the box): < 16, 16-24, 24-32, 32-48, 48-96, >= 96.
SIZE_EDGES: tuple[int, ...] = (16, 24, 32, 48, 96)


def bucket_names(edges: Sequence[int] = SIZE_EDGES) -> list[str]:
    inner = [f"{lo}-{hi}" for lo, hi in itertools.pairwise(edges)]
    return [f"<{edges[0]}", *inner, f">={edges[-1]}"]


def bucket_of(sizes: Sequence[float] | np.ndarray, edges: Sequence[int] = SIZE_EDGES) -> np.ndarray:
    """Each face's bucket, an index into `bucket_names(edges)` (a size on an edge goes up)."""
    return np.searchsorted(np.asarray(edges, float), np.asarray(sizes, float), side="right")


def _row(
    name: str,
    lo: int | None,
    hi: int | None,
    correct: int,
    support: dict[str, int],
    right: dict[str, int],
) -> dict[str, Any]:
    """A bucket's row from its counts (the same fields whether counted or merged)."""
    n = sum(support.values())
    return {
        "bucket": name,
        "min_px": lo,
        "max_px": hi,
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else None,
        "support": support,
        "right": right,
        "recall": {c: right[c] / support[c] if support[c] else None for c in LABELS},
        "accuracy_two_labels": _two_labels(support, right),
        "interval95": _intervals(n, correct, support, right),
    }


def _two_label_counts(support: dict[str, int], right: dict[str, int]) -> tuple[int, int]:
    """(right, faces) over the with_mask and without_mask faces only (the two-label goals): a
    face of either called mask_worn_incorrectly counts wrong."""
    return right[LABELS[0]] + right[LABELS[1]], support[LABELS[0]] + support[LABELS[1]]


def _two_labels(support: dict[str, int], right: dict[str, int]) -> float | None:
    k, n = _two_label_counts(support, right)
    return k / n if n else None


def _intervals(
    n: int, correct: int, support: dict[str, int], right: dict[str, int]
) -> dict[str, Any]:
    """The 95% intervals (intervals.wilson) of the row's rates, as [low, high] or None."""

    def bounds(k: int, m: int) -> list[float] | None:
        b = wilson(k, m)
        return None if b is None else [round(b[0], 5), round(b[1], 5)]

    return {
        "accuracy": bounds(correct, n),
        "accuracy_two_labels": bounds(*_two_label_counts(support, right)),
        "recall": {c: bounds(right[c], support[c]) for c in LABELS},
    }


def rate_with_interval(successes: int, n: int, digits: int = 1) -> str:
    """17 of 20 -> "85.0% (64.0-94.8%)"; "n/a" without faces."""
    if n <= 0:
        return "n/a"
    return f"{pct(successes / n, digits)} ({interval_text(successes, n)})"


def two_labels_text(row: dict[str, Any], digits: int = 1) -> str:
    """A row's two-label accuracy with its 95% interval: "96.4% (93.2-98.1%)"."""
    return rate_with_interval(*_two_label_counts(row["support"], row["right"]), digits)


def recall_text(row: dict[str, Any], label: str, digits: int = 1) -> str:
    """A class's recall in a row, with its faces and 95% interval: "87.5% of 32 (71.9-95.0%)";
    "n/a of 0" without faces."""
    k, n = row["right"][label], row["support"][label]
    if not n:
        return "n/a of 0"
    return f"{pct(k / n, digits)} of {n} ({interval_text(k, n)})"


def _count(name: str, lo: int | None, hi: int | None, t: np.ndarray, p: np.ndarray) -> dict:
    support = {c: int(np.sum(t == k)) for k, c in enumerate(LABELS)}
    right = {c: int(np.sum((t == k) & (p == k))) for k, c in enumerate(LABELS)}
    return _row(name, lo, hi, int(np.sum(t == p)), support, right)


def by_size(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    sizes: Sequence[float] | np.ndarray,
    edges: Sequence[int] = SIZE_EDGES,
) -> list[dict[str, Any]]:
    """One row per bucket (empty ones too): n, correct, accuracy, per-class support, right and
    recall, and accuracy_two_labels. Counts are kept so rows merge exactly (`merge_rows`)."""
    t, p = np.asarray(y_true, int), np.asarray(y_pred, int)
    index = bucket_of(sizes, edges)
    bounds = [None, *edges, None]
    return [
        _count(name, bounds[k], bounds[k + 1], t[index == k], p[index == k])
        for k, name in enumerate(bucket_names(edges))
    ]


def merge_rows(rows: Sequence[dict[str, Any]], name: str) -> dict[str, Any]:
    """Several bucket rows as one (e.g. every face under 32 px)."""
    lows = [r["min_px"] for r in rows]
    highs = [r["max_px"] for r in rows]
    return _row(
        name,
        None if None in lows else min(lows),
        None if None in highs else max(highs),
        sum(r["correct"] for r in rows),
        {c: sum(r["support"][c] for r in rows) for c in LABELS},
        {c: sum(r["right"][c] for r in rows) for c in LABELS},
    )


def split_at(rows: Sequence[dict[str, Any]], px: int = 32) -> list[dict[str, Any]]:
    """Two rows: faces under `px` and faces of `px` or more (an edge of the buckets)."""
    below = [r for r in rows if r["max_px"] is not None and r["max_px"] <= px]
    above = [r for r in rows if r["min_px"] is not None and r["min_px"] >= px]
    if len(below) + len(above) != len(rows):
        raise ValueError(f"{px} px is not a bucket edge")
    return [merge_rows(below, f"<{px}"), merge_rows(above, f">={px}")]


def with_totals(rows: Sequence[dict[str, Any]], px: int = 32) -> list[dict[str, Any]]:
    """The bucket rows, then all faces under and from `px`: the sizes the goals are set for."""
    return [*rows, *split_at(rows, px)]


def by_size_table(rows: Sequence[dict[str, Any]]) -> str:
    """A readable text table, one line per row: accuracy, accuracy over with_mask /
    without_mask faces and each class's recall (of its faces), each with its 95% interval."""
    head = f"{'face px':>8} {'faces':>6} {'accuracy':>20} {'two labels':>20}"
    lines = [head + "".join(f" {c:>27}" for c in LABELS)]
    for r in rows:
        accuracy = rate_with_interval(r["correct"], r["n"])
        cells = "".join(f" {recall_text(r, c):>27}" for c in LABELS)
        lines.append(
            f"{r['bucket']:>8} {r['n']:>6} {accuracy:>20} {two_labels_text(r):>20}" + cells
        )
    return "\n".join(lines)


def recall_by_size(
    sizes: Sequence[float] | np.ndarray,
    found: Sequence[bool] | np.ndarray,
    edges: Sequence[int] = SIZE_EDGES,
) -> list[dict[str, Any]]:
    """Detector recall per bucket (empty ones too): of the annotated faces of each size, how many
    a detector found. The buckets and bounds of `by_size`."""
    s = np.asarray(sizes, float)
    hit = np.asarray(found, bool)
    index = np.searchsorted(np.asarray(edges, float), s, side="right")
    bounds = [None, *edges, None]
    rows = []
    for k, name in enumerate(bucket_names(edges)):
        faces, n_found = int(np.sum(index == k)), int(np.sum(hit[index == k]))
        rows.append(
            {
                "bucket": name,
                "min_px": bounds[k],
                "max_px": bounds[k + 1],
                "faces": faces,
                "found": n_found,
                "recall": n_found / faces if faces else None,
            }
        )
    return rows


def recall_table(rows: Sequence[dict[str, Any]]) -> str:
    """`recall_by_size` as readable text: one line per bucket."""
    lines = [f"{'face px':>8} {'faces':>6} {'found':>6} {'recall':>7}"]
    lines += [
        f"{r['bucket']:>8} {r['faces']:>6} {r['found']:>6} {pct(r['recall']):>7}" for r in rows
    ]
    return "\n".join(lines)
