"""The notebook: made from its script, committed with the outputs of a run, and it runs top to
bottom (smoke mode: tiny data, one epoch) without an error.

A copy is executed, so the committed outputs are never touched; its runs go to a temporary
folder, not to runs/notebook/ or models/.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

from helpers import needs_shared
from mask_detector import config

REPO_ROOT = config.REPO_ROOT
NOTEBOOK = REPO_ROOT / "notebooks" / "Face_Mask_Detection.ipynb"
BUILDER = REPO_ROOT / "notebooks" / "build_notebook.py"

NOTEBOOK_NEEDS = ("nbclient", "nbformat", "ipykernel", "pandas", "tensorflow", "skimage")

pytestmark = pytest.mark.slow


def _missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def load_builder():
    """notebooks/build_notebook.py as a module (it is a script, not part of the package)."""
    pytest.importorskip("jupytext")
    spec = importlib.util.spec_from_file_location("build_notebook", BUILDER)
    assert spec and spec.loader
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    return builder


def test_notebook_is_built_from_its_script() -> None:
    """The committed .ipynb holds exactly the script's cells (with some repository filled in):
    a script edited without rebuilding, or a notebook edited by hand, fails here."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("jupytext")
    builder = load_builder()
    committed = nbformat.read(NOTEBOOK, as_version=4)
    setup = next(c.source for c in committed.cells if "REPOSITORY = " in c.source)
    repo = re.search(r'REPOSITORY = "([^"]+)"', setup)
    assert repo, "the set-up cell names no REPOSITORY"
    built = builder.build(repo.group(1))
    assert [(c.cell_type, c.source) for c in committed.cells] == [
        (c.cell_type, c.source) for c in built.cells
    ], "rebuild the notebook: python notebooks/build_notebook.py (--execute if code changed)"


def test_notebook_is_committed_with_outputs() -> None:
    """GitHub readers see a run: every code cell ran, in order, without an error output."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    pending = nb.metadata.get(load_builder().PENDING_KEY)
    if pending:  # built on purpose without a run (build_notebook.py --no-outputs)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        pytest.skip(f"the committed notebook holds no run yet: {pending}")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cell"
    counts = [c.execution_count for c in code]
    assert None not in counts, "commit the executed notebook (some cells have not run)"
    assert counts == sorted(counts), "cells were run out of order"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"the committed run has errors: {[e.ename for e in errors]}"
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert NOTEBOOK.stat().st_size < 5_000_000, "keep the figures small"


@needs_shared
@pytest.mark.skipif(
    bool(_missing(*NOTEBOOK_NEEDS)),
    reason=f"notebook dependencies missing: {', '.join(_missing(*NOTEBOOK_NEEDS))}",
)
def test_notebook_runs_in_smoke_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:  # start from a clean copy; the committed file stays as it is
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None

    # The kernel inherits this environment: smoke mode, a throw-away runs folder, and this
    # interpreter first on PATH (the "python3" kernel spec runs `python`).
    monkeypatch.setenv("MASK_DETECTOR_SMOKE", "1")
    monkeypatch.setenv("MASK_DETECTOR_NOTEBOOK_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    for name in (
        "MASK_DETECTOR_DATA",
        "MASK_DETECTOR_SCENES",
        "MASK_DETECTOR_TRAIN_SCENES",
        "MASK_DETECTOR_KAGGLE_DATASET",
        "MASK_DETECTOR_KAGGLE_SCENES",
    ):
        monkeypatch.delenv(name, raising=False)

    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error

    assert (tmp_path / "runs" / "export" / config.TFLITE_MODEL_NAME).is_file()
    from mask_detector.training.scenario import load_scenario, scenario_names

    trained = [n for n in scenario_names() if not load_scenario(n).soup_of]  # soups: full runs
    assert sorted(p.parent.name for p in (tmp_path / "runs").glob("*/metrics.json")) == trained
