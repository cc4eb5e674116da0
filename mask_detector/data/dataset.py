"""Folder-per-class data sets as people publish them: odd folder names, mixed formats, bad files."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import LABELS, label_of
from ..errors import DatasetError, InvalidImageError
from ..imageio import read_image
from ..progress import Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int  # index into config.LABELS

    @property
    def label_name(self) -> str:
        return LABELS[self.label]


@dataclass
class LoadReport:
    """What a load kept and what it skipped, so a caller can say so."""

    loaded: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def find_class_dirs(root: str | Path) -> dict[str, Path]:
    """Map each class to its folder under `root`; raise DatasetError when the layout is wrong."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(
            f"{root} is not a folder: expected folders like with_mask/ and without_mask/ inside it"
        )
    found: dict[str, Path] = {}
    for child in sorted(root.iterdir()):
        label = label_of(child.name) if child.is_dir() else None
        if label is None:
            continue
        if label in found:
            raise DatasetError(
                f"{root}: both {found[label].name}/ and {child.name}/ look like "
                f"the {label} class; keep one"
            )
        found[label] = child
    if not found:
        raise DatasetError(
            f"no images found under {root}: expected folders like with_mask/ and without_mask/"
        )
    return found


def find_dataset_root(folder: str | Path) -> Path:
    """The shallowest folder under `folder` (itself included) that holds a class folder.

    Zips and downloads wrap the class folders in others (`data/with_mask/`, or `Train/` beside
    `Test/`: the first in sorted order wins). `folder` itself when none holds one, so that
    find_class_dirs says what is missing.
    """
    queue = [Path(folder)]
    while queue:
        current = queue.pop(0)
        children = sorted(c for c in current.iterdir() if c.is_dir() and not c.name.startswith("."))
        if any(label_of(c.name) for c in children):
            return current
        queue += children
    return Path(folder)


def list_samples(root: str | Path) -> list[Sample]:
    """Every non-hidden file in each class folder (subfolders too), sorted for reproducibility.

    No extension filter: Pillow decides what is an image, when the file is read.
    """
    class_dirs = find_class_dirs(root)
    samples = [
        Sample(path, LABELS.index(label))
        for label, folder in class_dirs.items()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]
    empty = [
        label
        for label, folder in class_dirs.items()
        if not any(s.label_name == label for s in samples)
    ]
    if empty:
        raise DatasetError(f"{root}: the {', '.join(empty)} folder is empty")
    return samples


def iter_images(
    samples: list[Sample], report: LoadReport, progress: Progress | None = None
) -> Iterator[tuple[Sample, np.ndarray]]:
    """Decode each sample (BGR uint8); unreadable files are logged, counted and skipped.

    Raises DatasetError, after the last sample, when there were samples but none could be read.
    """
    for i, sample in enumerate(samples, 1):
        try:
            image = read_image(sample.path)
        except InvalidImageError as exc:
            log.warning("skipping %s", exc)
            report.skipped.append((sample.path, str(exc)))
        else:
            report.loaded += 1
            yield sample, image
        if progress:
            progress(i, len(samples))
    if samples and report.loaded == 0 and report.skipped:
        _, error = report.skipped[0]
        raise DatasetError(
            f"none of the {len(report.skipped)} files could be read as an image "
            f"(first: {error}); put JPEG or PNG photos in the class folders"
        )
