"""Stratified train/validation/test splits by near-duplicate group, saved as a manifest."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import LABELS
from ..errors import DatasetError
from ..progress import Progress
from .dataset import LoadReport, Sample, iter_images, list_samples
from .dedup import DEFAULT_THRESHOLD, group_near_duplicates, phash

PARTS = ("train", "val", "test")
DEFAULT_RATIOS = (0.7, 0.15, 0.15)
DEFAULT_SEED = 42


@dataclass
class Split:
    """Which file goes where; paths are relative to the data set root so the manifest travels."""

    files: dict[str, list[tuple[str, int]]]
    seed: int
    ratios: tuple[float, float, float]
    groups: int
    threshold: int

    def samples(self, part: str, root: str | Path) -> list[Sample]:
        base = Path(root).resolve()  # absolute, so feature-cache keys do not depend on the cwd
        return [Sample(base / rel, label) for rel, label in self.files[part]]

    def sizes(self) -> dict[str, dict[str, int]]:
        return {
            part: {LABELS[k]: v for k, v in sorted(Counter(lbl for _, lbl in rows).items())}
            for part, rows in self.files.items()
        }

    def save(self, path: str | Path) -> None:
        head = {
            "seed": self.seed,
            "ratios": list(self.ratios),
            "groups": self.groups,
            "hash_threshold": self.threshold,
            "labels": list(LABELS),
            "sizes": self.sizes(),
        }
        # One file per line keeps the manifest readable and its diffs small.
        parts = ",\n".join(
            f'  "{part}": [\n'
            + ",\n".join(f"   {json.dumps([rel, lbl])}" for rel, lbl in rows)
            + "\n  ]"
            for part, rows in self.files.items()
        )
        text = json.dumps(head, indent=1)[:-2] + ',\n "files": {\n' + parts + "\n }\n}\n"
        Path(path).write_text(text)

    @classmethod
    def load(cls, path: str | Path) -> Split:
        try:
            body = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise DatasetError(
                f"cannot read the split manifest {path} ({exc}); make one with "
                "`python -m mask_detector split DATA_DIR`"
            ) from None
        return cls(
            files={p: [(rel, int(lbl)) for rel, lbl in body["files"][p]] for p in PARTS},
            seed=body["seed"],
            ratios=tuple(body["ratios"]),
            groups=body["groups"],
            threshold=body["hash_threshold"],
        )


def split_by_groups(
    samples: Sequence[Sample],
    groups: Sequence[int],
    root: str | Path,
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
    seed: int = DEFAULT_SEED,
    threshold: int = 0,
) -> Split:
    """Deal whole groups, class by class, to test then validation until each holds its share.

    A group takes the majority class of its members, so each class keeps its proportions in
    every part while no near-duplicate pair is ever split.
    """
    members: dict[int, list[Sample]] = defaultdict(list)
    for sample, group in zip(samples, groups, strict=True):
        members[group].append(sample)
    by_class: dict[int, list[int]] = defaultdict(list)
    for group, items in sorted(members.items()):
        by_class[Counter(s.label for s in items).most_common(1)[0][0]].append(group)

    rng = np.random.default_rng(seed)
    files: dict[str, list[tuple[str, int]]] = {part: [] for part in PARTS}
    for label in sorted(by_class):
        class_groups = by_class[label]
        rng.shuffle(class_groups)
        total = sum(len(members[g]) for g in class_groups)
        quota = {"test": ratios[2] * total, "val": ratios[1] * total}
        taken = dict.fromkeys(PARTS, 0)
        for group in class_groups:
            part = next((p for p in ("test", "val") if taken[p] < quota[p]), "train")
            taken[part] += len(members[group])
            files[part] += [(s.path.relative_to(root).as_posix(), s.label) for s in members[group]]
    for rows in files.values():
        rows.sort()
    return Split(files, seed, ratios, len(members), threshold)


def make_split(
    root: str | Path,
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
    seed: int = DEFAULT_SEED,
    threshold: int = DEFAULT_THRESHOLD,
    progress: Progress | None = None,
) -> tuple[Split, LoadReport]:
    """Read every image once, group near-duplicates, and split; unreadable files are left out."""
    report = LoadReport()
    kept, hashes = [], []
    for sample, image in iter_images(list_samples(root), report, progress):
        kept.append(sample)
        hashes.append(phash(image))
    if not kept:
        raise DatasetError(f"no readable images under {root}")
    groups = group_near_duplicates(hashes, threshold)
    return split_by_groups(kept, groups, root, ratios, seed, threshold), report
