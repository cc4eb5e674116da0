"""The lock files `make` installs must still satisfy the requirement files they are made from.

Someone who adds or narrows a requirement and forgets `make lock` gets a failing test that
names the requirement, not an install that quietly ignores the change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def requirements(path: Path) -> list[Requirement]:
    """The requirements of a human-edited file, following `-r` includes."""
    found: list[Requirement] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += requirements(path.parent / line[3:].strip())
        elif line and not line.startswith("-"):
            found.append(Requirement(line))
    return found


def pins(path: Path) -> dict[str, Version]:
    """Name -> exact version that a lock file gives this interpreter (markers evaluated)."""
    pinned: dict[str, Version] = {}
    for line in path.read_text().splitlines():
        if not line or line[0] in "# ":
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate():
            continue
        (spec,) = req.specifier
        assert spec.operator == "==", f"{path.name}: {line!r} is not an exact pin"
        pinned[canonicalize_name(req.name)] = Version(spec.version)
    return pinned


@pytest.mark.parametrize(
    "source, lock",
    [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")],
)
def test_lock_satisfies_its_requirements(source: str, lock: str) -> None:
    pinned = pins(ROOT / lock)
    stale = []
    for req in requirements(ROOT / source):
        if req.marker is not None and not req.marker.evaluate():
            continue
        version = pinned.get(canonicalize_name(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            stale.append(f"{req} (locked: {version})")
    assert not stale, f"{lock} does not satisfy {source}: {stale}; run `make lock`"


def test_dev_lock_keeps_the_runtime_versions() -> None:
    runtime = pins(ROOT / "requirements.lock")
    dev = pins(ROOT / "requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime


#: cv2 comes from opencv-python-headless alone. These wheels install the same `cv2` package, so
#: beside it one would overwrite the other's files (and opencv-python needs a desktop's GUI
#: libraries); trackers 2.2 and later, and supervision before 0.30, require opencv-python.
OTHER_OPENCV_WHEELS = ("opencv-python", "opencv-contrib-python", "opencv-contrib-python-headless")


def locked_names(path: Path) -> set[str]:
    """Every package a lock file installs on any Python (markers ignored)."""
    return {
        canonicalize_name(Requirement(line).name)
        for line in path.read_text().splitlines()
        if line and line[0] not in "# "
    }


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_lock_installs_one_opencv(lock: str) -> None:
    names = locked_names(ROOT / lock)
    assert "opencv-python-headless" in names
    assert not names & set(OTHER_OPENCV_WHEELS), f"{lock} installs a second cv2"
