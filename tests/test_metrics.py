import json

import numpy as np
import pytest

from mask_detector.config import LABELS
from mask_detector.evaluation.by_size import (
    SIZE_EDGES,
    bucket_names,
    bucket_of,
    by_size,
    by_size_table,
    face_size,
    merge_rows,
    split_at,
)
from mask_detector.evaluation.metrics import (
    classification_report,
    macro,
    recalls_text,
    summary_line,
)


def probs_for(predicted: list[int]) -> np.ndarray:
    """Confident probabilities for the given predicted classes."""
    out = np.full((len(predicted), len(LABELS)), 0.1)
    out[np.arange(len(predicted)), predicted] = 0.8
    return out


def test_report_figures():
    y = np.array([0, 0, 0, 1, 1, 2, 2])
    probs = np.array(
        [
            [0.9, 0.05, 0.05],
            [0.8, 0.1, 0.1],
            [0.3, 0.6, 0.1],
            [0.2, 0.7, 0.1],
            [0.4, 0.5, 0.1],
            [0.1, 0.1, 0.8],
            [0.5, 0.1, 0.4],
        ]
    )
    r = classification_report(y, probs)
    assert r["n"] == 7 and r["accuracy"] == pytest.approx(5 / 7)
    assert r["labels"] == list(LABELS)
    assert r["confusion_matrix"] == [[2, 1, 0], [0, 2, 0], [1, 0, 1]]  # rows true
    assert r["per_class"]["with_mask"]["recall"] == pytest.approx(2 / 3)
    assert r["per_class"]["without_mask"]["precision"] == pytest.approx(2 / 3)
    assert r["per_class"]["mask_worn_incorrectly"]["recall"] == pytest.approx(1 / 2)
    # with_mask against the others: positives 0.9, 0.8, 0.3; negatives 0.2, 0.4, 0.1, 0.5.
    assert r["roc_auc"] == pytest.approx(10 / 12)  # 0.3 ranks above two of the four
    assert "by_size" not in r
    json.dumps(r)  # JSON-ready
    assert recalls_text(r) == (
        "with_mask recall 66.67%, without_mask recall 100.00%, mask_worn_incorrectly recall 50.00%"
    )
    assert summary_line(r) == f"n=7 accuracy 71.43% ({recalls_text(r)})"


def test_two_class_data_scored_by_a_three_class_model():
    """A face called mask_worn_incorrectly in a two-class set is wrong, never left out."""
    y = np.array([0, 0, 1, 1])
    r = classification_report(y, probs_for([0, 2, 1, 2]))
    assert r["accuracy"] == 0.5
    assert r["confusion_matrix"] == [[1, 0, 1], [0, 1, 1], [0, 0, 0]]
    third = r["per_class"]["mask_worn_incorrectly"]
    assert third == {"precision": 0.0, "recall": None, "f1": None, "support": 0}
    assert r["per_class"]["with_mask"]["recall"] == 0.5
    # A class without faces has no recall to state.
    assert recalls_text(r) == "with_mask recall 50.00%, without_mask recall 50.00%"
    none_called = classification_report(y, probs_for([0, 0, 1, 1]))
    assert none_called["per_class"]["mask_worn_incorrectly"]["precision"] is None
    # Macro averages are over the classes the data has: the third class's precision of 0 (the
    # faces wrongly given it) is not a class's figure here.
    assert macro(r, "precision") == pytest.approx((1.0 + 1.0) / 2)
    assert macro(r, "recall") == 0.5
    assert np.isnan(macro({"per_class": {"a": {"recall": None, "support": 0}}}, "recall"))


def test_single_class_has_no_auc():
    r = classification_report(np.array([1, 1]), probs_for([1, 0]))
    assert r["roc_auc"] is None and r["accuracy"] == 0.5


def test_size_buckets_and_their_edges():
    assert bucket_names() == ["<16", "16-24", "24-32", "32-48", "48-96", ">=96"]
    assert face_size((3, 4, 20, 31)) == 31 and face_size((0, 0, 12.6, 9)) == 13
    sizes = [5, 15.9, 16, 23, 24, 31, 32, 47, 48, 95, 96, 500]
    rows = by_size([0] * 12, [0] * 12, sizes)
    assert [r["n"] for r in rows] == [2, 2, 2, 2, 2, 2]
    assert bucket_of(sizes).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]  # edges go up
    assert (rows[0]["min_px"], rows[0]["max_px"]) == (None, 16)
    assert (rows[-1]["min_px"], rows[-1]["max_px"]) == (96, None)


def test_by_size_figures_per_bucket():
    y_true = [0, 1, 1, 2, 0, 1]
    y_pred = [0, 0, 1, 2, 0, 2]
    sizes = [10, 12, 14, 40, 100, 20]
    rows = {r["bucket"]: r for r in by_size(y_true, y_pred, sizes)}
    small = rows["<16"]
    assert small["n"] == 3 and small["accuracy"] == pytest.approx(2 / 3)
    assert small["recall"] == {"with_mask": 1.0, "without_mask": 0.5, LABELS[2]: None}
    assert rows["16-24"]["recall"]["without_mask"] == 0.0  # called mask_worn_incorrectly
    assert rows["24-32"] == {**rows["24-32"], "n": 0, "accuracy": None}
    assert rows[">=96"]["accuracy"] == 1.0
    under, over = split_at(list(rows.values()), 32)
    assert (under["n"], under["correct"], over["n"], over["correct"]) == (4, 2, 2, 2)
    assert under["recall"]["without_mask"] == pytest.approx(1 / 3)
    assert merge_rows(list(rows.values()), "all")["accuracy"] == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="not a bucket edge"):
        split_at(list(rows.values()), 30)
    table = by_size_table(list(rows.values())).splitlines()
    assert len(table) == len(SIZE_EDGES) + 2 and "66.7%" in table[1] and "n/a" in table[3]


def test_report_by_size_uses_the_given_sizes():
    r = classification_report(np.array([0, 1]), probs_for([0, 0]), sizes=[20, 200])
    rows = {row["bucket"]: row for row in r["by_size"]}
    assert rows["16-24"]["accuracy"] == 1.0 and rows[">=96"]["accuracy"] == 0.0
