import json

import numpy as np
import pytest

from mask_detector.evaluation.metrics import classification_report, recalls_text, summary_line


def test_report_figures():
    y = np.array([0, 0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.2, 0.8], [0.4, 0.6]])
    r = classification_report(y, probs)
    assert r["n"] == 5 and r["accuracy"] == pytest.approx(0.8)
    assert r["confusion_matrix"] == [[2, 1], [0, 2]]  # rows true, columns predicted
    assert r["per_class"]["with_mask"]["recall"] == pytest.approx(2 / 3)
    assert r["per_class"]["without_mask"]["precision"] == pytest.approx(2 / 3)
    assert r["roc_auc"] == pytest.approx(5 / 6)  # one positive (0.3) ranked below a negative (0.4)
    json.dumps(r)  # JSON-ready
    assert recalls_text(r) == "with_mask recall 66.67%, without_mask recall 100.00%"
    assert summary_line(r) == f"n=5 accuracy 80.00% ({recalls_text(r)})"


def test_single_class_has_no_auc():
    r = classification_report(np.array([1, 1]), np.array([[0.1, 0.9], [0.6, 0.4]]))
    assert r["roc_auc"] is None and r["accuracy"] == 0.5
