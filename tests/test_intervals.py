"""The 95% intervals printed beside rates measured on few faces."""

import pytest
from scipy.stats import binomtest

from mask_detector.config import LABELS
from mask_detector.evaluation.by_size import (
    by_size,
    by_size_table,
    rate_with_interval,
    recall_text,
    two_labels_text,
    with_totals,
)
from mask_detector.evaluation.intervals import interval_text, wilson


@pytest.mark.parametrize(("k", "n"), [(28, 32), (239, 248), (1, 3), (50, 50), (0, 7), (500, 612)])
def test_wilson_matches_scipy(k, n):
    expected = binomtest(k, n).proportion_ci(method="wilson")
    assert wilson(k, n) == pytest.approx((expected.low, expected.high), abs=1e-12)


def test_wilson_bounds_hold_the_rate_and_narrow_with_more_faces():
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    for k, n in [(0, 10), (10, 10), (3, 4)]:
        lo, hi = wilson(k, n)
        assert 0.0 <= lo <= k / n <= hi <= 1.0
    small, large = wilson(9, 10), wilson(900, 1000)
    assert large[1] - large[0] < small[1] - small[0]


def test_wilson_refuses_impossible_counts_and_has_none_without_faces():
    assert wilson(0, 0) is None and interval_text(0, 0) == "n/a"
    assert rate_with_interval(0, 0) == "n/a"
    with pytest.raises(ValueError, match="successes"):
        wilson(5, 4)
    with pytest.raises(ValueError, match="successes"):
        wilson(-1, 4)


def test_texts():
    assert interval_text(28, 32) == "71.9-95.0%"
    assert rate_with_interval(28, 32) == "87.5% (71.9-95.0%)"
    assert rate_with_interval(239, 248, digits=2) == "96.37% (93.2-98.1%)"


def test_by_size_rows_carry_intervals_that_merge_from_counts():
    # 4 with_mask faces of 40 px (3 right, one called worn wrong), 2 without_mask (1 right),
    # 1 worn wrong face (right), and one small with_mask face (right).
    y_true = [0, 0, 0, 0, 1, 1, 2, 0]
    y_pred = [0, 0, 0, 2, 1, 0, 2, 0]
    sizes = [40] * 7 + [10]
    rows = by_size(y_true, y_pred, sizes)
    over = with_totals(rows)[-1]
    assert over["bucket"] == ">=32" and over["n"] == 7
    assert over["interval95"]["accuracy"] == pytest.approx(list(wilson(5, 7)), abs=1e-5)
    assert over["interval95"]["accuracy_two_labels"] == pytest.approx(list(wilson(4, 6)), abs=1e-5)
    assert over["interval95"]["recall"][LABELS[1]] == pytest.approx(list(wilson(1, 2)), abs=1e-5)
    assert rows[0]["interval95"]["recall"][LABELS[1]] is None  # no without_mask face under 16
    assert two_labels_text(over) == rate_with_interval(4, 6)
    assert recall_text(over, LABELS[0]) == f"75.0% of 4 ({interval_text(3, 4)})"
    assert recall_text(rows[0], LABELS[1]) == "n/a of 0"


def test_by_size_table_prints_the_intervals_of_each_row():
    rows = with_totals(by_size([0, 1, 1], [0, 1, 0], [40, 40, 10]))
    lines = by_size_table(rows).splitlines()
    assert len(lines) == 1 + len(rows)
    under, over = lines[-2], lines[-1]
    assert under.split()[0] == "<32" and f"0.0% of 1 ({interval_text(0, 1)})" in under
    assert over.split()[0] == ">=32" and rate_with_interval(2, 2) in over
