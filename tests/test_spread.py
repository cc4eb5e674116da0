"""Seed spread: `train --seed` names runs apart; `spread` summarises them."""

import json

import numpy as np
import pytest

from mask_detector import config
from mask_detector.cli import main
from mask_detector.evaluation.metrics import classification_report
from mask_detector.training.scenario import load_scenario
from mask_detector.training.spread import FIGURES, SCENES_DEV_FIGURES, seeds_of, spread_rows


def _report(wrong: int, n: int = 40, sizes: float = 50.0) -> dict:
    """A report of n faces (labels cycling over the classes), the first `wrong` misclassified."""
    labels = np.arange(n) % len(config.LABELS)
    guess = labels.copy()
    guess[:wrong] = (labels[:wrong] + 1) % len(config.LABELS)
    probs = np.eye(len(config.LABELS))[guess]
    return classification_report(labels, probs, np.full(n, sizes))


def _metrics(wrong: int) -> dict:
    report = _report(wrong)
    return {"val": report, "val_all": report, "test": report, "test_scenes": report}


def test_reseeded_keeps_the_recipe_under_another_name():
    base = load_scenario("scenes_lowres")
    again = base.reseeded(7)
    assert again.name == "scenes_lowres_seed7" and again.seed == 7 != base.seed
    assert {**again.to_dict(), "name": base.name, "seed": base.seed} == base.to_dict()


def test_spread_rows_give_each_run_then_mean_sd_and_range():
    rows = spread_rows({"a": _metrics(2), "b": _metrics(6)})
    assert [r["run"] for r in rows] == ["a", "b", "mean", "sd", "min", "max"]
    by_run = {r["run"]: r for r in rows}
    assert by_run["a"]["close-up test"] == pytest.approx(38 / 40)
    assert by_run["mean"]["close-up test"] == pytest.approx(36 / 40)
    assert by_run["sd"]["close-up test"] == pytest.approx(np.std([0.95, 0.85], ddof=1))
    assert by_run["min"]["val close-ups"] == pytest.approx(34 / 40)
    # All faces are 50 px: none under 32 px, every two-label face at 32 px or more.
    assert by_run["a"]["scene test < 32 px"] is None
    assert by_run["max"]["scene test >= 32 px, two labels"] is not None


def test_spread_command_reads_a_run_or_a_folder_of_runs(tmp_path, capsys):
    for name, wrong in (("seeds/s_seed1", 4), ("seeds/s_seed2", 8), ("s", 0)):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / config.METRICS_NAME).write_text(json.dumps(_metrics(wrong)))
    assert main(["spread", str(tmp_path / "s"), str(tmp_path / "seeds")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| run | " + " | ".join(FIGURES))
    assert [line.split(" | ")[0] for line in lines[2:5]] == ["| s", "| s_seed1", "| s_seed2"]
    assert "| min | 80.00 |" in lines[-2] and "| max | 100.00 |" in lines[-1]


def test_scenes_dev_figures_read_the_report_spread_adds():
    faces = _report(4, sizes=20.0)  # every face under 32 px
    rows = spread_rows({"a": {**_metrics(0), "scenes_dev": faces}}, FIGURES | SCENES_DEV_FIGURES)
    row = rows[0]
    assert row["scenes-dev"] == pytest.approx(36 / 40) == row["scenes-dev < 32 px"]
    assert row["scenes-dev >= 32 px, two labels"] is None
    assert row["scenes-dev no-mask R"] == faces["per_class"]["without_mask"]["recall"]
    assert row["close-up test"] == 1.0  # the usual figures stay


def test_spread_on_scenes_dev_needs_each_runs_model(tmp_path, monkeypatch, capsys):
    scenes = tmp_path / "scenes"
    (scenes / "annotations").mkdir(parents=True)
    monkeypatch.setattr(config, "scenes_dir", lambda: scenes)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / config.METRICS_NAME).write_text(json.dumps(_metrics(0)))
    assert main(["spread", str(tmp_path / "s"), "--scenes-dev"]) == 1
    err = capsys.readouterr().err
    assert f"no trained model at {tmp_path / 's' / config.SCENARIO_MODEL_NAME}" in err
    monkeypatch.setattr(config, "scenes_dir", lambda: tmp_path / "nowhere")
    assert main(["spread", str(tmp_path / "s"), "--scenes-dev"]) == 1
    assert "no scenes-dev annotations under" in capsys.readouterr().err


def test_train_with_a_seed_writes_a_named_run_apart(monkeypatch, tmp_path):
    pytest.importorskip("tensorflow")
    from mask_detector.training import train

    seen: list = []
    monkeypatch.setattr(train, "train_scenario", lambda *a, **k: seen.append(a))
    assert main(["train", str(tmp_path), "--scenario", "scenes_lowres", "--seed", "7"]) == 0
    (_, _, scenario, _, runs_dir, *_) = seen[0]
    assert scenario.name == "scenes_lowres_seed7" and scenario.seed == 7
    assert (
        runs_dir == config.MODELS_DIR / config.SEEDS_DIR_NAME
    )  # never among the scenarios ship chooses from
    seen.clear()
    assert main(["train", str(tmp_path), "--scenario", "scenes_lowres"]) == 0
    assert seen[0][2].name == "scenes_lowres" and seen[0][4] == config.MODELS_DIR / "scenarios"


def test_reports_put_the_shipped_run_beside_its_seeds(tmp_path):
    from mask_detector.app.reports import load_reports, seed_spread_rows

    summary = {**_metrics(0), "shipped_scenario": "s"}
    (tmp_path / config.METRICS_NAME).write_text(json.dumps(summary))
    assert seed_spread_rows(load_reports(tmp_path)) == []  # no seed runs: no table
    (tmp_path / config.SEEDS_DIR_NAME / "s_seed3").mkdir(parents=True)
    (tmp_path / config.SEEDS_DIR_NAME / "s_seed3" / config.METRICS_NAME).write_text(
        json.dumps(_metrics(10))
    )
    rows = seed_spread_rows(load_reports(tmp_path))
    assert [r["run"] for r in rows] == ["s (shipped)", "s_seed3", "mean", "sd", "min", "max"]
    assert rows[0]["close-up test"] == "100.00%" and rows[1]["close-up test"] == "75.00%"
    assert rows[2]["close-up test"] == "87.50%"


def test_seeds_of_takes_only_that_scenarios_seed_runs():
    runs = {n: {} for n in ("a", "a_seed1", "a_seed12", "a_b_seed1", "a_seedx", "b_seed1")}
    assert list(seeds_of("a", runs)) == ["a_seed1", "a_seed12"]
    assert list(seeds_of("a_b", runs)) == ["a_b_seed1"]


def test_one_run_has_no_sd():
    rows = {r["run"]: r for r in spread_rows({"a": _metrics(2)})}
    assert rows["sd"]["close-up test"] is None and rows["mean"]["close-up test"] == 38 / 40


def test_a_shipped_soup_stands_apart_from_the_runs_it_averages():
    from mask_detector.training.spread import shipped_spread

    def run(seed: int, wrong: int) -> dict:
        return {**_metrics(wrong), "scenario": {"seed": seed}}

    soup = {"scenario": {"seed": 2, "soup_of": "r", "soup_seeds": [2, 7]}}
    scenarios = {"soup": soup, "r": run(2, 4)}
    seeds = {"r_seed7": run(7, 8), "r_seed9": run(9, 0), "soup_seed7": run(7, 0)}
    summary = _metrics(2)
    runs, apart = shipped_spread("soup", summary, scenarios, seeds)
    assert sorted(runs) == ["r", "r_seed7"] and apart == {"soup (shipped)": summary}  # not seed 9
    rows = {r["run"]: r for r in spread_rows(runs, apart=apart)}
    assert list(rows) == ["soup (shipped)", "r", "r_seed7", "mean", "sd", "min", "max"]
    assert rows["mean"]["close-up test"] == pytest.approx(34 / 40)  # the runs', not the soup's
    runs, apart = shipped_spread("r", summary, scenarios, seeds)  # a run: beside its seeds
    assert sorted(runs) == ["r (shipped)", "r_seed7", "r_seed9"] and apart == {}
    assert shipped_spread("soup", summary, {"soup": soup}, {}) == ({}, {})
