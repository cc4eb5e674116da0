"""The model card is written from the metrics files: regenerating it changes nothing."""

import json
import shutil

import pytest

from mask_detector import config
from mask_detector.evaluation.by_size import bucket_names
from mask_detector.training.card import write_model_card

METRICS = config.MODELS_DIR / config.METRICS_NAME


@pytest.mark.skipif(not METRICS.is_file(), reason="no shipped metrics")
def test_card_is_up_to_date_and_has_the_tables(tmp_path):
    for name in (config.METRICS_NAME, "scenes.json", "scenes_test.json", config.AUDIT_NAME):
        if (config.MODELS_DIR / name).is_file():
            shutil.copy(config.MODELS_DIR / name, tmp_path / name)
    model = config.MODELS_DIR / config.TFLITE_MODEL_NAME
    if model.is_file():
        (tmp_path / model.name).symlink_to(model)
    seeds = config.MODELS_DIR / config.SEEDS_DIR_NAME
    if seeds.is_dir():
        shutil.copytree(seeds, tmp_path / seeds.name, ignore=shutil.ignore_patterns("*.keras"))
    card = write_model_card(tmp_path).read_text()
    assert card == (config.MODELS_DIR / "MODEL_CARD.md").read_text(), "run `mask_detector card`"
    metrics = json.loads(METRICS.read_text())
    # A 3x3 confusion matrix (counts and shares) and the by-size table for each face set.
    for name in config.LABELS:
        assert f"| {config.DISPLAY_NAMES[name]} | " in card
    for bucket in bucket_names():
        assert f"| {bucket} | " in card
    assert "**all <32**" in card and "**all >=32**" in card
    assert f"T = {metrics['calibration']['temperature']:.3f}" in card


@pytest.mark.skipif(not METRICS.is_file(), reason="no shipped metrics")
def test_card_gives_the_seed_spread_of_the_shipped_recipe(tmp_path):
    shipped = json.loads(METRICS.read_text())
    name = shipped["shipped_scenario"]
    (tmp_path / config.METRICS_NAME).write_text(json.dumps(shipped))
    for run in (f"{name}_seed7", "other_seed1"):  # the second is another scenario's seed
        runs = tmp_path / config.SEEDS_DIR_NAME / run
        runs.mkdir(parents=True)
        (runs / config.METRICS_NAME).write_text(json.dumps({**shipped, "test": shipped["val"]}))
    card = write_model_card(tmp_path).read_text()
    section = card.split("## The shipped recipe under other seeds")[1]
    assert f"| {name} (shipped) | " in section and f"| {name}_seed7 | " in section
    assert "other_seed1" not in section
    assert "| sd | " in section and "| max | " in section
    shutil.rmtree(runs.parent)
    assert "other seeds" not in write_model_card(tmp_path).read_text()
    (runs.parent / "unfinished_run").mkdir(parents=True)  # no metrics.json yet: no section
    assert "other seeds" not in write_model_card(tmp_path).read_text()
