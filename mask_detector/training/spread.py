"""How far one recipe's figures move with the random seed alone.

`train --scenario NAME --seed N` trains the same recipe again with another seed; this table puts
the runs side by side with their mean, standard deviation and range. A difference between two
scenarios smaller than this spread says little about the recipes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..evaluation.by_size import split_at
from ..evaluation.metrics import macro

Metrics = Mapping[str, Any]


def _by_size(metrics: Metrics, report: str, at_least_32: bool, *keys: str) -> float | None:
    """A figure of the faces under (or from) 32 px in one of the run's reports, None without
    that report; `keys` lead into the part (`by_size.split_at`)."""
    if not metrics.get(report):
        return None
    value: Any = split_at(metrics[report]["by_size"], 32)[1 if at_least_32 else 0]
    for key in keys:
        value = value[key]
    return value


def val_scene_goal_figures(metrics: Metrics) -> tuple[float | None, float | None]:
    """What the ship rule reads after the close-up floor: two-label accuracy and without_mask
    recall of the validation scene faces of 32 px and more (None without such faces)."""
    return (
        _by_size(metrics, "val_scenes", True, "accuracy_two_labels"),
        _by_size(metrics, "val_scenes", True, "recall", "without_mask"),
    )


#: Column title -> the figure, from a scenario's metrics.json (val_* chose; the others report).
FIGURES: dict[str, Callable[[Metrics], float | None]] = {
    "val close-ups": lambda m: m["val"]["accuracy"],
    "val mean recall": lambda m: macro(m.get("val_all") or m["val"], "recall"),
    "val scene >= 32 px, two labels": lambda m: val_scene_goal_figures(m)[0],
    "val scene >= 32 px no-mask R": lambda m: val_scene_goal_figures(m)[1],
    "close-up test": lambda m: m["test"]["accuracy"],
    "scene test": lambda m: (m.get("test_scenes") or {}).get("accuracy"),
    "scene test < 32 px": lambda m: _by_size(m, "test_scenes", False, "accuracy"),
    "scene test >= 32 px, two labels": lambda m: _by_size(
        m, "test_scenes", True, "accuracy_two_labels"
    ),
}


#: The same runs' models on scenes-dev (`spread --scenes-dev`: it needs each run's model file).
SCENES_DEV_FIGURES: dict[str, Callable[[Metrics], float | None]] = {
    "scenes-dev": lambda m: m["scenes_dev"]["accuracy"],
    "scenes-dev no-mask R": lambda m: m["scenes_dev"]["per_class"]["without_mask"]["recall"],
    "scenes-dev < 32 px": lambda m: _by_size(m, "scenes_dev", False, "accuracy"),
    "scenes-dev >= 32 px, two labels": lambda m: _by_size(
        m, "scenes_dev", True, "accuracy_two_labels"
    ),
    "scenes-dev >= 32 px no-mask R": lambda m: _by_size(
        m, "scenes_dev", True, "recall", "without_mask"
    ),
}


def seeds_of(name: str, runs: Mapping[str, Metrics]) -> dict[str, Metrics]:
    """The runs of scenario `name` under other seeds (named NAME_seedN by `train --seed`)."""
    return {n: m for n, m in runs.items() if n.removeprefix(f"{name}_seed").isdigit()}


def spread_rows(
    runs: Mapping[str, Metrics],
    figures: Mapping[str, Callable[[Metrics], float | None]] = FIGURES,
    apart: Mapping[str, Metrics] | None = None,
) -> list[dict[str, Any]]:
    """One row per run, then mean, sd (sample), min and max over the runs, per figure; the
    `apart` runs (a soup of the others) first, left out of the statistics."""
    rows: list[dict[str, Any]] = [
        {"run": name, **{title: f(m) for title, f in figures.items()}} for name, m in runs.items()
    ]
    stats: dict[str, Callable[[np.ndarray], float]] = {
        "mean": np.mean,
        "sd": lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else float("nan"),
        "min": np.min,
        "max": np.max,
    }
    for stat, f in stats.items():
        summary: dict[str, Any] = {"run": stat}
        for title in figures:
            values = np.array([r[title] for r in rows[: len(runs)] if r[title] is not None])
            value = float(f(values)) if len(values) else float("nan")
            summary[title] = value if np.isfinite(value) else None  # sd of one run: n/a
        rows.append(summary)
    shown = [{"run": n, **{t: f(m) for t, f in figures.items()}} for n, m in (apart or {}).items()]
    return shown + rows


def shipped_spread(
    shipped: str,
    summary: Metrics,
    scenarios: Mapping[str, Metrics],
    seeds: Mapping[str, Metrics],
) -> tuple[dict[str, Metrics], dict[str, Metrics]]:
    """What the model card and the metrics page put side by side for the shipped model (its
    metrics: `summary`), as (runs, apart): the shipped run and its recipe's other seeds; for a
    soup, the runs it averages, with the soup apart. Nothing without such runs."""
    scenario = scenarios.get(shipped, {}).get("scenario", {})
    recipe = scenario.get("soup_of")
    if not recipe:
        others = seeds_of(shipped, seeds)
        return ({f"{shipped} (shipped)": summary, **others} if others else {}), {}
    pool = {
        **({recipe: scenarios[recipe]} if recipe in scenarios else {}),
        **seeds_of(recipe, seeds),
    }
    averaged = {n: m for n, m in pool.items() if m["scenario"]["seed"] in scenario["soup_seeds"]}
    return averaged, ({f"{shipped} (shipped)": summary} if averaged else {})


def spread_table(
    runs: Mapping[str, Metrics],
    figures: Mapping[str, Callable[[Metrics], float | None]] = FIGURES,
    apart: Mapping[str, Metrics] | None = None,
) -> str:
    """The rows as Markdown, in percent with two decimals."""
    titles = list(figures)
    lines = ["| run | " + " | ".join(titles) + " |", "|---" * (len(titles) + 1) + "|"]
    for row in spread_rows(runs, figures, apart):
        cells = ["n/a" if row[t] is None else f"{100 * row[t]:.2f}" for t in titles]
        lines.append(f"| {row['run']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
