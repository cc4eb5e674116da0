"""A tiny real training run: features, head + fine-tune phases, metrics JSON, export, reload."""

import json

import numpy as np
import pytest

from helpers import needs_shared
from mask_detector import config
from mask_detector.classifier import MaskClassifier
from mask_detector.data.split import Split
from mask_detector.training.scenario import Scenario, load_scenario, scenario_names
from mask_detector.training.train import class_weights


def test_three_named_scenarios_answer_two_questions():
    names = scenario_names()
    assert names == ["finetune", "finetune_strong_aug", "head_only"]
    head, fine, strong = (
        load_scenario(n) for n in ("head_only", "finetune", "finetune_strong_aug")
    )
    # head_only vs finetune: only fine-tuning differs; finetune vs strong: only augmentation.
    assert head.finetune_from is None and fine.finetune_from == strong.finetune_from
    assert (head.augment, fine.augment, strong.augment) == ("light", "light", "strong")


def test_class_weights_balance_the_loss():
    weights = class_weights(np.array([0, 0, 0, 1]))
    assert weights[1] == pytest.approx(3 * weights[0])
    assert 3 * weights[0] + weights[1] == pytest.approx(4)


@pytest.mark.slow
@needs_shared
def test_tiny_training_run_exports_a_working_model(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    from mask_detector.training.ship import ship_best
    from mask_detector.training.train import train_scenario

    monkeypatch.setenv(config.ENV_CACHE, str(tmp_path / "cache"))
    scenario = Scenario(**{**load_scenario("finetune").to_dict(), "name": "tiny"}).shrunk(1, 2)
    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    lines: list[str] = []
    metrics = train_scenario(
        config.training_data_dir(),
        split,
        scenario,
        runs_dir=tmp_path / "runs",
        limit=12,
        log=lines.append,
    )
    assert any("head epoch 1" in line for line in lines)
    assert any("finetune epoch 1" in line for line in lines)
    saved = json.loads((tmp_path / "runs" / "tiny" / "metrics.json").read_text())
    assert saved["test"]["n"] == metrics["test"]["n"] == 12
    assert set(saved["history"]) == {"head", "finetune"}
    assert ship_best(tmp_path / "runs", tmp_path / "models") == "tiny"
    probs = MaskClassifier(tmp_path / "models" / config.TFLITE_MODEL_NAME).classify(
        [np.zeros((50, 40, 3), np.uint8)] * 3
    )
    assert probs.shape == (3, len(config.LABELS)) and np.allclose(probs.sum(1), 1, atol=1e-4)
