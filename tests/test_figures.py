"""Charts and the percent format: what each figure holds, for two classes or more."""

from __future__ import annotations

import numpy as np
import pytest

from mask_detector.config import display_name
from mask_detector.evaluation.by_size import by_size
from mask_detector.evaluation.calibration import calibration_report
from mask_detector.evaluation.figures import (
    by_size_figure,
    class_balance_figure,
    confusion_figure,
    confusion_rates,
    curves_figure,
    image_grid,
    pct,
    reliability_figure,
    roc_figure,
    size_histogram,
    to_png,
)
from mask_detector.evaluation.intervals import wilson
from mask_detector.evaluation.metrics import classification_report

THREE = ["with_mask", "without_mask", "mask_worn_incorrectly"]


def test_pct_is_the_one_format_of_a_rate():
    assert pct(0.9734) == "97.3%"
    assert pct(0.99514, 2) == "99.51%"
    assert pct(1.0) == "100.0%" and pct(0.0, 0) == "0%"
    assert pct(None) == "n/a"


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_confusion_figure_two_classes_counts_and_rates():
    # A report of a two-label model, as models/metrics.json holds for an older export.
    report = {"labels": THREE[:2], "confusion_matrix": [[2, 1], [0, 2]]}
    fig = confusion_figure(report, "test set")
    counts, rates = fig.axes[:2]
    assert texts(counts) == ["2", "1", "0", "2"]  # rows true, columns predicted
    assert texts(rates) == ["66.7%", "33.3%", "0.0%", "100.0%"]
    names = [display_name(c) for c in report["labels"]]
    assert [t.get_text() for t in counts.get_xticklabels()] == names
    assert fig.get_suptitle() == "test set"
    assert to_png(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_confusion_figure_any_number_of_classes():
    report = {"labels": THREE, "confusion_matrix": [[5, 1, 0], [0, 4, 0], [2, 0, 0]]}
    fig = confusion_figure(report)
    counts, rates = fig.axes[:2]
    assert len(counts.texts) == len(rates.texts) == 9
    assert texts(rates)[6:] == ["100.0%", "0.0%", "0.0%"]
    assert texts(rates)[3:6] == ["0.0%", "100.0%", "0.0%"]
    ticks = [t.get_text() for t in rates.get_yticklabels()]
    assert ticks == [display_name(c) for c in THREE] and ticks[2] == "Mask worn wrong"
    assert (
        fig.get_figwidth() > confusion_figure({"confusion_matrix": [[1, 0], [0, 1]]}).get_figwidth()
    )


def test_confusion_figure_without_any_sample_of_a_class():
    fig = confusion_figure({"labels": THREE, "confusion_matrix": [[0] * 3] * 3})
    assert set(texts(fig.axes[1])) == {"0.0%"}


def test_confusion_rates_of_a_metrics_report():
    probs = np.full((4, len(THREE)), 0.1)
    probs[np.arange(4), [0, 1, 2, 0]] = 0.8
    r = classification_report(np.array([0, 1, 2, 2]), probs)
    assert confusion_rates(r["confusion_matrix"]) == [
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.5, 0.0, 0.5],
    ]
    assert confusion_rates([[0, 0], [1, 3]]) == [[0.0, 0.0], [0.25, 0.75]]


def test_curves_figure_puts_phases_one_after_another():
    history = {
        "head": {"loss": [0.9, 0.5], "val_loss": [0.8, 0.6], "accuracy": [0.7, 0.9]},
        "finetune": {
            "loss": [0.4, 0.3, 0.2],
            "val_loss": [0.5, 0.4, 0.45],
            "averaged_val_loss": [0.38],
        },
    }
    loss, accuracy = curves_figure(history, "training").axes
    lines = {line.get_label(): list(line.get_xdata()) for line in loss.get_lines()}
    assert lines["head train"] == [1, 2] and lines["finetune validation"] == [3, 4, 5]
    assert lines["finetune averaged"] == [5]  # the averaged weights' loss, after the last epoch
    assert accuracy.get_lines()[0].get_label() == "head train"


def test_roc_figure_skips_reports_without_a_curve_and_zooms():
    curve = {"fpr": [0.0, 0.1, 1.0], "tpr": [0.0, 0.9, 1.0]}
    scenarios = {
        "a": {"test": {"roc_curve": curve, "roc_auc": 0.95}},
        "one class": {"test": {"roc_curve": None, "roc_auc": None}},
    }
    fig = roc_figure(scenarios, zoom=(0.2, 0.8))
    main, zoom = fig.axes
    assert main.get_lines()[0].get_label() == "a (AUC 0.9500)"
    assert len(main.get_lines()) == 2  # the curve and the diagonal
    assert zoom.get_xlim() == (0, 0.2) and zoom.get_ylim() == (0.8, 1.0)
    assert len(roc_figure(scenarios).axes) == 1


def _series(ax) -> dict:
    """label -> (rates, lower bounds, upper bounds) of each errorbar of an Axes (NaN: no bar)."""
    out = {}
    for container in ax.containers:
        line, _, (bars,) = container
        ends = [seg[:, 1] if len(seg) else (np.nan, np.nan) for seg in bars.get_segments()]
        low, high = np.array(ends, float).T
        out[container.get_label()] = (np.asarray(line.get_ydata(), float), low, high)
    return out


def test_by_size_figure_accuracy_and_recall_per_data_set():
    # Data set "a": two faces under 16 px (one right), one of 50 px, wrong; no face in between.
    a = by_size([0, 1, 1], [0, 0, 0], [10, 12, 50])
    b = by_size([1, 1], [1, 1], [20, 100])
    (ax,) = by_size_figure({"a": a, "b": b}, "scenario x").axes
    lines = _series(ax)
    assert set(lines) == {
        "a: accuracy (faces 2/0/0/0/1/0)",
        "a: No mask recall",
        "b: accuracy (faces 0/1/0/0/0/1)",
        "b: No mask recall",
    }
    accuracy, low, high = lines["a: accuracy (faces 2/0/0/0/1/0)"]
    assert accuracy[0] == 0.5 and accuracy[4] == 0.0 and np.isnan(accuracy[1])  # gaps
    # The bars are the 95% intervals of the counts (gaps have no bar).
    assert (low[0], high[0]) == pytest.approx(wilson(1, 2))
    assert (low[4], high[4]) == pytest.approx(wilson(0, 1)) and np.isnan(low[1])
    assert lines["a: No mask recall"][0][0] == 0.0 and np.isnan(lines["a: No mask recall"][0][5])
    assert [t.get_text() for t in ax.get_xticklabels()] == [r["bucket"] for r in a]
    assert ax.get_title() == "scenario x"
    (ax,) = by_size_figure({"a": a}, recall_of="with_mask").axes
    assert "a: Mask recall" in _series(ax)


def test_reliability_figure_one_panel_per_data_set_with_the_ece():
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(3) * 0.5, 40)
    labels = probs.argmax(1)
    labels[:10] = (labels[:10] + 1) % 3  # a quarter wrong: over-confident
    report = calibration_report(2.0, probs, labels)
    calibration = {"temperature": 2.0, "fitted_on": "val_scenes", "test_scenes": report}
    fig = reliability_figure({**calibration, "val_scenes": report})
    assert len(fig.axes) == 2 and fig.get_suptitle() == "temperature scaling, T = 2.000"
    ax = fig.axes[0]
    assert ax.get_title() == "test scenes (40 faces)"
    before, after = report["before"], report["after"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        f"before (ECE {pct(before['ece'])})",
        f"after (ECE {pct(after['ece'])})",
    ]
    _diagonal, drawn_before, _after = ax.get_lines()
    filled = [b for b in before["bins"] if b["n"]]
    assert list(drawn_before.get_xdata()) == [b["confidence"] for b in filled]
    assert list(drawn_before.get_ydata()) == [b["accuracy"] for b in filled]
    assert len(reliability_figure(calibration, "mine").axes) == 1


def test_class_balance_and_sizes_for_every_class():
    counts = dict(zip(THREE, (10, 8, 2), strict=True))
    (ax,) = class_balance_figure(counts).axes
    assert [p.get_width() for p in ax.patches] == [10, 8, 2]
    assert ax.get_title() == "20 images"
    (ax,) = size_histogram({"with_mask": [30, 300], "without_mask": [60, 900]}).axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Mask", "No mask"]


@pytest.mark.parametrize("n, columns, rows", [(1, 6, 1), (6, 6, 1), (7, 6, 2), (12, 6, 2)])
def test_image_grid_shows_bgr_images_in_rows(n, columns, rows):
    blue = np.zeros((20, 10, 3), np.uint8)
    blue[:, :, 0] = 255  # BGR
    fig = image_grid([blue] * n, [f"#{k}" for k in range(n)], columns=columns)
    assert len(fig.axes) == rows * min(columns, n)
    shown = fig.axes[0].get_images()[0].get_array()
    assert tuple(shown[0, 0]) == (0, 0, 255)  # shown as RGB
    assert [ax.get_title() for ax in fig.axes[:n]] == [f"#{k}" for k in range(n)]
