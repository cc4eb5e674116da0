"""A soup: the mean of several runs' weights, one recipe trained under several seeds.

One run's figures move by about a point with the seed alone (`spread`), and the ship rule then
chooses between runs on a difference of a face or two. Runs of one recipe start from the same
ImageNet weights and fine-tune only the top blocks at a small rate, so their weights stay close
enough to average ("model soups", Wortsman et al. 2022): the mean predicts like the runs'
ensemble at the cost of one model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ..config import MODELS_DIR, SCENARIO_MODEL_NAME, SEEDS_DIR_NAME
from ..errors import MaskDetectorError
from .runs import read_metrics
from .scenario import Scenario

#: Fields a run may differ in from the recipe of its soup.
_NOT_RECIPE = ("name", "description", "seed", "soup_of", "soup_seeds")


def _recipe(scenario: Scenario) -> dict[str, Any]:
    return {k: v for k, v in scenario.to_dict().items() if k not in _NOT_RECIPE}


def _run_of(soup: Scenario, seed: int, runs_dir: Path, seeds_dir: Path) -> Path:
    """Where the run of the soup's recipe at `seed` is: the recipe's own run in `runs_dir` where
    it has that seed (a soup keeps its recipe's seed), else `<recipe>_seed<N>` in `runs_dir` or
    in `seeds_dir` (where `train --seed` writes)."""
    recipe = str(soup.soup_of)
    if soup.seed == seed:
        return runs_dir / Path(recipe).stem
    named = f"{Path(recipe).stem}_seed{seed}"
    return runs_dir / named if (runs_dir / named).is_dir() else seeds_dir / named


def ingredient_runs(
    soup: Scenario, runs_dir: Path, seeds_dir: Path = MODELS_DIR / SEEDS_DIR_NAME
) -> list[Path]:
    """The run folder of the soup's recipe at each of its seeds, each checked to be a run of
    that recipe (the soup's own fields, apart from its name and seeds)."""
    if not soup.soup_of:
        raise ValueError(f"{soup.name} is not a soup")
    found = []
    for seed in soup.soup_seeds:
        folder = _run_of(soup, seed, runs_dir, seeds_dir)
        if not (folder / SCENARIO_MODEL_NAME).is_file():
            raise MaskDetectorError(
                f"soup {soup.name}: no model of {soup.soup_of} at seed {seed} in {folder}; "
                f"train it: python -m mask_detector train --scenario {soup.soup_of}"
                + ("" if soup.seed == seed else f" --seed {seed}")
            )
        # Fields added since a run was trained read as their defaults, what it was trained with.
        run = Scenario(**read_metrics(folder)["scenario"])
        if _recipe(run) != _recipe(soup):
            raise MaskDetectorError(
                f"soup {soup.name}: {folder} was trained by another recipe than "
                f"{soup.soup_of}: train it again"
            )
        found.append(folder)
    return found


def average_weights(models: Sequence[keras.Model]) -> list[np.ndarray]:
    """The element-wise mean of the models' weights (models of one architecture).

    Each run's last layer carries its own calibrating temperature; the soup is calibrated
    again, so the mean of the scaled logits is as good a start as any.
    """
    shapes = [[w.shape for w in m.get_weights()] for m in models]
    if not models or any(s != shapes[0] for s in shapes):
        raise MaskDetectorError("a soup needs one or more models of the same architecture")
    weights = [m.get_weights() for m in models]
    # In float64 the mean of equal weights (the frozen layers) is exactly that weight.
    return [
        np.mean(np.stack(layer).astype(np.float64), axis=0).astype(layer[0].dtype)
        for layer in zip(*weights, strict=True)
    ]


def load_soup(folders: Sequence[Path]) -> list[np.ndarray]:
    """The mean weights of the runs' saved models."""
    return average_weights(
        [keras.models.load_model(f / SCENARIO_MODEL_NAME, compile=False) for f in folders]
    )
