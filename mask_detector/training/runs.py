"""Trained runs on disk: `<folder>/<name>/metrics.json`, as `train` writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import METRICS_NAME
from ..errors import MaskDetectorError


def read_metrics(folder: Path) -> dict[str, Any]:
    """The metrics `train` wrote into one run's folder."""
    return json.loads((folder / METRICS_NAME).read_text())


def _folders_in(folder: Path) -> dict[str, Path]:
    return {p.parent.name: p.parent for p in sorted(folder.glob(f"*/{METRICS_NAME}"))}


def runs_in(folder: Path) -> dict[str, dict[str, Any]]:
    """Name -> metrics of every run in a folder of runs (none when it is missing or empty)."""
    return {name: read_metrics(run) for name, run in _folders_in(folder).items()}


def run_folders(path: Path) -> dict[str, Path]:
    """Name -> folder: the one run `path` is, or every run in the folder of runs `path` is."""
    if (path / METRICS_NAME).is_file():
        return {path.name: path}
    folders = _folders_in(path)
    if not folders:
        raise MaskDetectorError(f"no trained scenarios under {path}: run `train` first")
    return folders


def load_runs(path: Path) -> dict[str, dict[str, Any]]:
    """Name -> metrics of one run's folder, or of every run in a folder of runs."""
    return {name: read_metrics(run) for name, run in run_folders(path).items()}
