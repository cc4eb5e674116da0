"""Trained runs on disk: `<folder>/<name>/metrics.json`, as `train` writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import METRICS_NAME
from ..errors import MaskDetectorError


def runs_in(folder: Path) -> dict[str, dict[str, Any]]:
    """Name -> metrics of every run in a folder of runs (none when it is missing or empty)."""
    return {
        p.parent.name: json.loads(p.read_text()) for p in sorted(folder.glob(f"*/{METRICS_NAME}"))
    }


def run_folders(path: Path) -> dict[str, Path]:
    """Name -> folder of one run's folder, or of every run in a folder of runs."""
    if (path / METRICS_NAME).is_file():
        return {path.name: path}
    folders = {p.parent.name: p.parent for p in sorted(path.glob(f"*/{METRICS_NAME}"))}
    if not folders:
        raise MaskDetectorError(f"no trained scenarios under {path}: run `train` first")
    return folders


def load_runs(path: Path) -> dict[str, dict[str, Any]]:
    """Name -> metrics of one run's folder, or of every run in a folder of runs."""
    return {
        name: json.loads((folder / METRICS_NAME).read_text())
        for name, folder in run_folders(path).items()
    }
