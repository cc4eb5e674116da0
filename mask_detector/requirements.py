"""Installing the project into an environment that comes with packages of its own (Colab).

`requirements.txt` holds ranges; `requirements.lock` the exact versions CI tests. A fresh
virtualenv installs the lock. An environment such as Colab already has most packages, some
built for its hardware (TensorFlow with its CUDA libraries): replacing them would break it or
take minutes. So `requirements.txt` is installed with the lock as *constraints* for the
packages the environment lacks, and nothing it has is constrained: pip keeps an installed
version that fits the range, and TensorFlow is held at the installed version (outside the range,
pip stops with its conflict message rather than replacing it). Standard library only: it runs
before the requirements are there.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Collection, Iterable
from importlib.metadata import distributions
from pathlib import Path

#: Installed packages held at their installed version whatever the lock says.
KEEP = ("tensorflow",)


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): case, "-", "_" and "." folded."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, str]:
    """Every distribution of this interpreter: canonical name -> version."""
    return {canonical(d.metadata["Name"]): d.version for d in distributions()}


def lock_constraints(
    lock_lines: Iterable[str], have: dict[str, str], keep: Collection[str] = KEEP
) -> list[str]:
    """Constraint lines: the lock's pins of packages not installed (markers kept), and the
    installed version of each `keep` package that is installed."""
    pins = [
        line.strip()
        for line in lock_lines
        if line[:1].isalnum()
        and canonical(re.split(r"[\s=;<>!~\[]", line, maxsplit=1)[0]) not in have
    ]
    return pins + [f"{name}=={have[canonical(name)]}" for name in keep if canonical(name) in have]


def install_requirements(repo_root: str | Path, quiet: bool = True) -> list[str]:
    """pip install -r requirements.txt with `lock_constraints` of requirements.lock; returns the
    constraint lines (CalledProcessError if pip fails)."""
    root = Path(repo_root)
    lock = (root / "requirements.lock").read_text().splitlines()
    pins = lock_constraints(lock, installed())
    constraints = Path(tempfile.mkdtemp()) / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    command = [sys.executable, "-m", "pip", "install", *(["-q"] if quiet else [])]
    command += ["-r", str(root / "requirements.txt"), "-c", str(constraints)]
    subprocess.run(command, check=True)
    return pins
