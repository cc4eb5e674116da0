"""Make notebooks/Face_Mask_Detection.ipynb from its source, notebooks/Face_Mask_Detection.py.

The source is a jupytext "percent" script (`# %%` code cells, `# %% [markdown]` cells): plain
Python, linted and type-checked with the package. This adds only what a script cannot carry:

    python notebooks/build_notebook.py             # rebuild, keeping the outputs of the last run
    python notebooks/build_notebook.py --execute   # rebuild and run it; the outputs are kept
    python notebooks/build_notebook.py --execute --smoke --out /tmp/smoke.ipynb   # tiny run
    python notebooks/build_notebook.py --no-outputs   # code changed, not run yet: no outputs

* the repository (owner/name on GitHub) of the "Open in Colab" badge and the set-up cell's
  `git clone`: MASK_DETECTOR_REPOSITORY, else this checkout's `origin` remote when it is on
  GitHub, else the placeholder written in the source;
* Colab's notebook metadata (a GPU runtime);
* the run: every cell on this interpreter; TensorFlow's C++ log lines are dropped from the
  outputs and the lines a cell prints one by one are joined;
  --smoke sets MASK_DETECTOR_SMOKE=1 (tiny data, one epoch: a test, not a result).

Without --execute the code cells must be those of the notebook's last run, whose outputs are
kept (a prose edit); a changed code cell needs a run. --no-outputs writes the new cells without
any output and marks the notebook as not run (metadata `PENDING_KEY`), for a change whose run is
to come: `tests/test_notebook.py` then skips its check of the committed outputs, saying why,
until `--execute` writes a run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
SOURCE = HERE / "Face_Mask_Detection.py"
NOTEBOOK = HERE / "Face_Mask_Detection.ipynb"
#: The repository as the source writes it; replaced by the one `repository()` finds.
PLACEHOLDER = "OWNER/face-mask-detection"
ENV_SMOKE = "MASK_DETECTOR_SMOKE"
#: Notebook metadata key of a notebook built with --no-outputs: why it holds no run.
PENDING_KEY = "mask_detector_outputs_pending"
#: What Colab needs to open the notebook on a GPU runtime.
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
    "colab": {"provenance": []},
    "accelerator": "GPU",
}
#: TensorFlow's C++ log lines ("I0000 00:00:... port.cc:153] oneDNN custom operations...", the
#: CUDA probe on a machine without a GPU): noise on stderr that TF_CPP_MIN_LOG_LEVEL no longer
#: silences. They are dropped from the saved outputs; everything else is kept as it ran.
TF_LOG_LINE = re.compile(
    r"^([IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\]|WARNING: All log messages before absl).*$\n?",
    re.MULTILINE,
)


def repository() -> str:
    """owner/name of the project on GitHub: the environment, else the origin remote."""
    if os.environ.get("MASK_DETECTOR_REPOSITORY"):
        return os.environ["MASK_DETECTOR_REPOSITORY"]
    try:
        url = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "remote", "get-url", "origin"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return PLACEHOLDER
    found = re.search(r"github\.com[:/]([^/]+/[^/]+?)(?:\.git)?$", url)
    return found.group(1) if found else PLACEHOLDER


def build(repo: str, source: Path = SOURCE) -> nbformat.NotebookNode:
    """The notebook of the source script, for `repo`, without outputs."""
    nb = jupytext.reads(source.read_text().replace(PLACEHOLDER, repo), fmt="py:percent")
    nb.metadata = nbformat.NotebookNode(METADATA)
    for number, cell in enumerate(nb.cells, 1):
        cell.metadata = nbformat.NotebookNode()  # jupytext's spacing notes
        cell.id = f"cell-{number}"  # stable, so a rebuild changes no line it need not change
    return nb


def keep_outputs(nb: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> None:
    """Copy the outputs of an executed notebook whose code cells are the same as `nb`'s."""
    ran = [c for c in executed.cells if c.cell_type == "code"]
    new = [c for c in nb.cells if c.cell_type == "code"]
    if [c.source for c in ran] != [c.source for c in new]:
        raise SystemExit("code cells changed since the last run: use --execute")
    for cell, old in zip(new, ran, strict=True):
        cell.outputs, cell.execution_count = old.outputs, old.execution_count


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 4 * 3600) -> None:
    """Run every cell with nbclient in `cwd`, on this interpreter (its folder first on PATH);
    `timeout` per cell: the training cell takes about an hour on a 2-core CPU."""
    from nbclient import NotebookClient

    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,  # no timestamps in the saved notebook
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()


def tidy_outputs(nb: nbformat.NotebookNode) -> None:
    """Drop TensorFlow's C++ log lines, and join the lines a cell printed one by one (progress)
    into one output per stream, as Jupyter shows them."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs: list[nbformat.NotebookNode] = []
        for output in cell.outputs:
            if output.output_type == "stream":
                if output.name == "stderr":
                    output.text = TF_LOG_LINE.sub("", output.text)
                if not output.text.strip():
                    continue
                last = outputs[-1] if outputs else None
                if last and last.output_type == "stream" and last.name == output.name:
                    last.text += output.text
                    continue
            outputs.append(output)
        cell.outputs = outputs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="run it and keep the outputs")
    parser.add_argument("--smoke", action="store_true", help=f"run with {ENV_SMOKE}=1")
    parser.add_argument(
        "--no-outputs",
        action="store_true",
        help="write the cells without outputs, marked as not run yet (the run comes later)",
    )
    parser.add_argument("--out", type=Path, default=NOTEBOOK, help=f"default: {NOTEBOOK}")
    args = parser.parse_args()
    if args.no_outputs and args.execute:
        parser.error("--no-outputs and --execute exclude each other")
    nb = build(repository())
    if args.no_outputs:
        nb.metadata[PENDING_KEY] = "built with --no-outputs: run build_notebook.py --execute"
    elif not args.execute:
        keep_outputs(nb, nbformat.read(NOTEBOOK, as_version=4))
    else:
        if args.smoke:
            os.environ[ENV_SMOKE] = "1"
        start = time.time()
        try:
            execute(nb, HERE)
        finally:  # keep what ran, errors included, for a look
            tidy_outputs(nb)
            nbformat.write(nb, args.out)
        print(f"executed in {time.time() - start:.0f} s", file=sys.stderr)
    nbformat.write(nb, args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
