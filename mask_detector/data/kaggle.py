"""Public data sets from Kaggle, fetched once into the cache with Kaggle's own command-line tool.

Nothing is downloaded unless a data set is asked for by name (the notebook does so only when
one is given). Credentials are the tool's: ~/.kaggle/kaggle.json, or KAGGLE_USERNAME and
KAGGLE_KEY in the environment.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from .. import config
from ..errors import DatasetError

#: A data set's name on Kaggle: owner/name.
SLUG = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def download(slug: str, dest: str | Path | None = None) -> Path:
    """The folder holding the unzipped Kaggle data set `slug` ("owner/name"), under `dest`
    (default: the cache folder, outside the repository); downloaded only if not there yet.

    Raises DatasetError, saying what to do, for a malformed name, a missing `kaggle` tool or a
    failed download (nothing is left behind then).
    """
    if not SLUG.fullmatch(slug):
        raise DatasetError(f"{slug!r} is not a Kaggle data set name (owner/name)")
    target = Path(dest or config.cache_dir() / "kaggle") / slug.replace("/", "__")
    if target.is_dir() and any(target.iterdir()):
        return target
    tool = shutil.which("kaggle")
    if tool is None:
        raise DatasetError(
            "the kaggle command is not installed: pip install kaggle, and put an API token "
            "in ~/.kaggle/kaggle.json or KAGGLE_USERNAME / KAGGLE_KEY (kaggle.com: Settings, API)"
        )
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [tool, "datasets", "download", "-d", slug, "-p", str(target), "--unzip"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not any(target.iterdir()):
        shutil.rmtree(target, ignore_errors=True)
        said = (done.stderr or done.stdout).strip().splitlines()
        raise DatasetError(
            f"Kaggle data set {slug} could not be downloaded"
            f" ({said[-1] if said else f'exit code {done.returncode}'}); check the name and "
            "your API token (~/.kaggle/kaggle.json or KAGGLE_USERNAME / KAGGLE_KEY)"
        )
    return target
