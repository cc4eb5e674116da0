"""The model card is written from the metrics files: regenerating it changes nothing."""

import json
import shutil

import pytest

from helpers import conditions_record
from mask_detector import config
from mask_detector.evaluation.by_size import bucket_names
from mask_detector.training.card import write_model_card

METRICS = config.MODELS_DIR / config.METRICS_NAME


@pytest.mark.skipif(not METRICS.is_file(), reason="no shipped metrics")
def test_card_is_up_to_date_and_has_the_tables(tmp_path):
    names = (config.METRICS_NAME, config.SPLIT_NAME, config.AUDIT_NAME, config.CONDITIONS_NAME)
    for name in (*names, "scenes.json", "scenes_test.json"):
        if (config.MODELS_DIR / name).is_file():
            shutil.copy(config.MODELS_DIR / name, tmp_path / name)
    model = config.MODELS_DIR / config.TFLITE_MODEL_NAME
    if model.is_file():
        (tmp_path / model.name).symlink_to(model)
    for runs in (config.SEEDS_DIR_NAME, config.RUNS_DIR_NAME):  # a soup's are in both
        if (config.MODELS_DIR / runs).is_dir():
            shutil.copytree(
                config.MODELS_DIR / runs, tmp_path / runs, ignore=shutil.ignore_patterns("*.keras")
            )
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
    shutil.copy(config.MODELS_DIR / config.SPLIT_NAME, tmp_path)
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


@pytest.mark.skipif(not METRICS.is_file(), reason="no shipped metrics")
def test_card_describes_the_data_from_the_split_manifest(tmp_path):
    shutil.copy(METRICS, tmp_path)
    split = json.loads((config.MODELS_DIR / config.SPLIT_NAME).read_text())
    split["sizes"]["test"]["with_mask"] += 10
    split["scene_sizes"]["val"]["photos"] += 3
    split["excluded"] = [["a.jpg", "a.xml", "near held-out b.jpg"]]
    split["seed"] = 7
    (tmp_path / config.SPLIT_NAME).write_text(json.dumps(split))
    closeups = sum(sum(part.values()) for part in split["sizes"].values())
    photos = sum(part["photos"] for part in split["scene_sizes"].values())
    text = write_model_card(tmp_path).read_text().split("## Data and split")[1]
    assert f"Close-ups: {closeups} face images" in text
    assert f"Scene photos: {photos} real photos" in text
    assert "stratified, seed 7)" in text and "is excluded (1 excluded)." in text


@pytest.mark.skipif(not METRICS.is_file(), reason="no shipped metrics")
def test_card_quotes_the_camera_conditions_measured_for_its_model(tmp_path):
    shutil.copy(METRICS, tmp_path)
    shutil.copy(config.MODELS_DIR / config.SPLIT_NAME, tmp_path)
    model = tmp_path / config.TFLITE_MODEL_NAME
    model.write_bytes(b"a model")
    (tmp_path / config.CONDITIONS_NAME).write_text(json.dumps(conditions_record(model)))
    section = write_model_card(tmp_path).read_text().split("## Camera conditions")[1]
    assert "### scenes-dev" in section
    # Under 32 px both faces right; from 32 px one of two unmasked faces right.
    assert "| grey | - | - | 100.0% (34.2-100.0%) | 100.0% (20.7-100.0%) | 50.0% " in section
    model.write_bytes(b"another model")
    section = write_model_card(tmp_path).read_text().split("## Camera conditions")[1]
    assert "measured for another model" in section and "| grey |" not in section
