"""Stratified train/validation/test splits by near-duplicate group, saved as a manifest.

Two kinds of source share one manifest: close-up face images (folder per class, split image by
image) and scene photos with VOC face boxes (split photo by photo, every face of a photo on one
side). Near-duplicates are grouped across all sources, so a photo never sits on one side and
its copy on the other, and a scene photo that copies one of a held-out set (scenes-dev, kept
for measurement) is excluded from every part.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import ENV_SHARED, LABELS, shared_dir, training_data_dir
from ..errors import DatasetError, InvalidImageError
from ..imageio import read_image
from ..progress import Progress
from .dataset import LoadReport, Sample, iter_images, list_samples
from .dedup import DEFAULT_THRESHOLD, group_near_duplicates, phash
from .voc import IMAGE_SUFFIXES, Photo, list_photos, load_annotations

PARTS = ("train", "val", "test")
DEFAULT_RATIOS = (0.7, 0.15, 0.15)
DEFAULT_SEED = 42


def source_entry(root: str | Path) -> str:
    """How a manifest names a source folder: relative to ../shared when inside it, so the
    manifest travels with the repository; absolute otherwise."""
    path = Path(root).resolve()
    try:
        return path.relative_to(shared_dir().resolve()).as_posix()
    except ValueError:
        return str(path)


def source_path(entry: str) -> Path:
    """The folder a manifest's source entry names, resolved against today's ../shared."""
    path = Path(entry)
    return path if path.is_absolute() else shared_dir() / path


def _lines(rows: Sequence[Sequence[object]], indent: str) -> str:
    return ",\n".join(f"{indent}{json.dumps(list(row))}" for row in rows)


@dataclass
class Split:
    """Which file goes where; paths are relative to each source root so the manifest travels.

    `files`: close-up images per part, (path, label index). `photos`: scene photos per part,
    (image path, annotation path). `excluded`: scene photos kept out of every part, with why.
    `sources`: "closeups", "scenes" and "held_out" (a list) as `source_entry` names them.
    """

    files: dict[str, list[tuple[str, int]]]
    seed: int
    ratios: tuple[float, float, float]
    groups: int
    threshold: int
    photos: dict[str, list[tuple[str, str]]] = field(
        default_factory=lambda: {part: [] for part in PARTS}
    )
    excluded: list[tuple[str, str, str]] = field(default_factory=list)
    sources: dict[str, str | list[str]] = field(default_factory=dict)

    def samples(self, part: str, root: str | Path) -> list[Sample]:
        base = Path(root).resolve()  # absolute, so feature-cache keys do not depend on the cwd
        return [Sample(base / rel, label) for rel, label in self.files[part]]

    def scene_root(self) -> Path | None:
        entry = self.sources.get("scenes")
        return source_path(entry) if isinstance(entry, str) else None

    def closeup_root(self) -> Path:
        """Where the manifest's close-ups came from (the default set for an older manifest)."""
        entry = self.sources.get("closeups")
        return source_path(entry) if isinstance(entry, str) else training_data_dir()

    def scene_photos(self, part: str, root: str | Path | None = None) -> list[Photo]:
        """The annotated photos of one part, read from `root` (default: the manifest's source)."""
        rows = self.photos.get(part, [])
        base = Path(root) if root else self.scene_root()
        if not rows:
            return []
        if base is None or not base.is_dir():
            raise DatasetError(
                f"the scene photos of the split are not at {base}: set {ENV_SHARED} or "
                "regenerate the manifest with `python -m mask_detector split`"
            )
        base = base.resolve()
        return [
            Photo(base / image, base / xml, tuple(load_annotations(base / xml)))
            for image, xml in rows
        ]

    def annotation_names(self, part: str) -> list[str]:
        """File names of the annotations of one part's scene photos: what `evaluate_scenes`
        and `scene_face_crops` take as `only` to score that part of a VOC folder."""
        return [Path(xml).name for _, xml in self.photos.get(part, [])]

    def sizes(self) -> dict[str, dict[str, int]]:
        return {
            part: {LABELS[k]: v for k, v in sorted(Counter(lbl for _, lbl in rows).items())}
            for part, rows in self.files.items()
        }

    def scene_sizes(self, root: str | Path | None = None) -> dict[str, dict[str, int]]:
        """Photos and faces per class in each part (reads the annotations)."""
        sizes = {}
        for part in PARTS:
            photos = self.scene_photos(part, root)
            faces = Counter(label for p in photos for label, _ in p.faces)
            sizes[part] = {"photos": len(photos), **{c: faces[c] for c in LABELS}}
        return sizes

    def save(self, path: str | Path) -> None:
        head: dict[str, object] = {
            "seed": self.seed,
            "ratios": list(self.ratios),
            "groups": self.groups,
            "hash_threshold": self.threshold,
            "labels": list(LABELS),
            "sources": self.sources,
            "sizes": self.sizes(),
        }
        if any(self.photos.values()):
            head["scene_sizes"] = self.scene_sizes()
        # One file per line keeps the manifest readable and its diffs small.
        files = ",\n".join(
            f'  "{part}": [\n{_lines(rows, "   ")}\n  ]' for part, rows in self.files.items()
        )
        photos = ",\n".join(
            f'  "{part}": [\n{_lines(rows, "   ")}\n  ]' for part, rows in self.photos.items()
        )
        text = (
            json.dumps(head, indent=1)[:-2]
            + f',\n "files": {{\n{files}\n }},\n "photos": {{\n{photos}\n }},\n'
            + f' "excluded": [\n{_lines(self.excluded, "  ")}\n ]\n}}\n'
        )
        Path(path).write_text(text)

    @classmethod
    def load(cls, path: str | Path) -> Split:
        """A manifest written by `save` (also the older one without scene photos)."""
        try:
            body = json.loads(Path(path).read_text())
            return cls(
                files={p: [(rel, int(lbl)) for rel, lbl in body["files"][p]] for p in PARTS},
                seed=body["seed"],
                ratios=tuple(body["ratios"]),
                groups=body["groups"],
                threshold=body["hash_threshold"],
                photos={
                    p: [(image, xml) for image, xml in body.get("photos", {}).get(p, [])]
                    for p in PARTS
                },
                excluded=[(image, xml, why) for image, xml, why in body.get("excluded", [])],
                sources=body.get("sources", {}),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DatasetError(
                f"cannot read the split manifest {path} ({exc}); make one with "
                "`python -m mask_detector split`"
            ) from None


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


def _read_hashes(
    paths: Sequence[Path], report: LoadReport, progress: Progress | None, done: int, total: int
) -> list[np.ndarray | None]:
    """The perceptual hash of each image file; None (and a line in `report`) when unreadable."""
    hashes: list[np.ndarray | None] = []
    for i, path in enumerate(paths, 1):
        try:
            hashes.append(phash(read_image(path)))
            report.loaded += 1
        except InvalidImageError as exc:
            report.skipped.append((path, str(exc)))
            hashes.append(None)
        if progress:
            progress(done + i, total)
    return hashes


def _stratum(photo: Photo, rarest_first: Sequence[str]) -> int:
    """The rarest class among a photo's faces: dealing photos by it spreads the small class."""
    present = {label for label, _ in photo.faces}
    return LABELS.index(next((c for c in rarest_first if c in present), rarest_first[-1]))


def add_scene_photos(
    split: Split,
    closeups: Sequence[Sample],
    closeup_hashes: Sequence[np.ndarray],
    closeup_root: Path,
    scenes: Path,
    held_out: Sequence[Path] = (),
    progress: Progress | None = None,
    report: LoadReport | None = None,
) -> None:
    """Deal the photos of `scenes` (images/ + annotations/) to the parts of `split`, by photo.

    All images (close-ups, scene photos, held-out photos) are grouped in one pool. A scene photo
    whose group holds a held-out photo is excluded; one whose group holds close-ups follows them
    (excluded if they sit in different parts); the other groups are dealt, stratified by the
    rarest class on the photo, with the split's ratios and seed. Close-ups never move.
    """
    report = report or LoadReport()
    photos, skipped = list_photos(scenes / "images", scenes / "annotations")
    report.skipped += skipped
    held_files = [
        p
        for root in held_out
        for p in sorted(root.rglob("*"))
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    ]
    total = len(photos) + len(held_files)
    photo_hashes = _read_hashes([p.image for p in photos], report, progress, 0, total)
    held_hashes = _read_hashes(held_files, report, progress, len(photos), total)
    readable = [i for i, h in enumerate(photo_hashes) if h is not None]
    held_kept = [i for i, h in enumerate(held_hashes) if h is not None]
    pool = [
        *closeup_hashes,
        *(photo_hashes[i] for i in readable),
        *(held_hashes[i] for i in held_kept),
    ]
    groups = group_near_duplicates(pool, split.threshold)  # type: ignore[arg-type]
    n_close, n_photo = len(closeups), len(readable)

    part_of = {rel: part for part, rows in split.files.items() for rel, _ in rows}
    members: dict[int, list[int]] = defaultdict(list)
    for index, group in enumerate(groups):
        members[group].append(index)

    def name(index: int) -> str:
        if index < n_close:
            return closeups[index].path.relative_to(closeup_root).as_posix()
        held = held_files[held_kept[index - n_close - n_photo]]
        root = next(r for r in held_out if held.is_relative_to(r))
        return f"{source_entry(root)}/{held.relative_to(root).as_posix()}"

    def row(index: int) -> tuple[str, str]:
        photo = photos[readable[index - n_close]]
        return (
            photo.image.relative_to(scenes).as_posix(),
            photo.annotation.relative_to(scenes).as_posix(),
        )

    forced: dict[str, list[int]] = defaultdict(list)
    free: list[int] = []
    for group in sorted(members):
        indices = members[group]
        scene = [i for i in indices if n_close <= i < n_close + n_photo]
        if not scene:
            continue
        held = [i for i in indices if i >= n_close + n_photo]
        close_parts = {part_of[name(i)] for i in indices if i < n_close}
        if held:
            why = f"near-duplicate of held-out {name(held[0])}"
        elif len(close_parts) > 1:
            why = f"near-duplicate of close-ups in {' and '.join(sorted(close_parts))}"
        elif close_parts:
            forced[close_parts.pop()] += scene
            continue
        else:
            free += scene
            continue
        split.excluded += [(*row(i), why) for i in scene]

    counts = Counter(label for p in photos for label, _ in p.faces)
    rarest_first = sorted(LABELS, key=lambda c: counts[c])
    dealt = split_by_groups(
        [
            Sample(
                photos[readable[i - n_close]].annotation,
                _stratum(photos[readable[i - n_close]], rarest_first),
            )
            for i in free
        ],
        [groups[i] for i in free],
        scenes,
        split.ratios,
        split.seed,
        split.threshold,
    )
    by_annotation = {row(i)[1]: row(i) for i in free}
    for part in PARTS:
        rows = [by_annotation[xml] for xml, _ in dealt.files[part]]
        rows += [row(i) for i in forced[part]]
        split.photos[part] = sorted(rows)
    split.excluded.sort()


def make_split(
    root: str | Path,
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
    seed: int = DEFAULT_SEED,
    threshold: int = DEFAULT_THRESHOLD,
    progress: Progress | None = None,
    scenes: str | Path | None = None,
    held_out: Sequence[str | Path] = (),
) -> tuple[Split, LoadReport]:
    """Read every image once, group near-duplicates, and split; unreadable files are left out.

    Close-ups are dealt on their own groups (so adding scene photos never moves one); then the
    scene photos of `scenes`, if given, are dealt by `add_scene_photos`.
    """
    report = LoadReport()
    kept, hashes = [], []
    for sample, image in iter_images(list_samples(root), report, progress):
        kept.append(sample)
        hashes.append(phash(image))
    if not kept:
        raise DatasetError(f"no readable images under {root}")
    groups = group_near_duplicates(hashes, threshold)
    split = split_by_groups(kept, groups, root, ratios, seed, threshold)
    split.sources = {"closeups": source_entry(root)}
    if scenes is not None:
        scenes, held = Path(scenes), [Path(h) for h in held_out]
        for folder in (scenes / "images", scenes / "annotations", *held):
            if not folder.is_dir():
                raise DatasetError(f"{folder}: folder not found")
        split.sources["scenes"] = source_entry(scenes)
        split.sources["held_out"] = [source_entry(h) for h in held]
        add_scene_photos(split, kept, hashes, Path(root), scenes, held, progress, report)
    return split, report
