"""Training scene faces whose label a model that never saw them doubts (cross-fitting).

Some scenes-ilc photos are annotated the wrong way round: masked faces marked without_mask,
bare ones with_mask (validation photos show whole photos of them). Faces like these in training
teach that a mask is no evidence. The scene training photos are cut into folds by photo; a model
trained on the close-ups and the other folds labels each fold's faces, and a face of the two main
labels whose other label gets a probability of at least `DOUBT_PROBABILITY` is listed. A scenario
with `drop_doubted` leaves the listed faces out of training; nothing else reads the list.
Near-duplicate photos of the train part may fall in different folds: a twin seen in training
then vouches for the other's annotation, so the list may come out shorter than it should.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..classifier import MaskClassifier
from ..config import DOUBTED_FACES_FILE, LABELS, cache_dir
from ..data.split import Split
from ..detection import Box
from ..errors import MaskDetectorError
from ..evaluation.crops import photo_face_crops
from .scenario import Scenario
from .views import FaceItem

Log = Callable[[str], None]

#: The calibrated out-of-fold probability of the other main label that puts a face on the list.
DOUBT_PROBABILITY = 0.9
FOLDS = 2
MAIN = (LABELS.index("with_mask"), LABELS.index("without_mask"))
FIELDS = ("photo", "xmin", "ymin", "xmax", "ymax", "annotated", "out_of_fold", "probability")


@dataclass(frozen=True)
class Doubt:
    photo: str  # the image file name
    box: Box  # x, y, w, h as annotated
    annotated: str
    out_of_fold: str
    probability: float

    def key(self) -> tuple[str, Box]:
        return face_key(self.photo, self.box)


def face_key(photo: str, box: Sequence[int]) -> tuple[str, Box]:
    x, y, w, h = (int(v) for v in box)
    return photo, (x, y, w, h)


def fold_of(image: str, folds: int = FOLDS) -> int:
    """A photo's fold, fixed by its name (not by the order of the manifest)."""
    return int(hashlib.sha1(Path(image).name.encode()).hexdigest(), 16) % folds


def doubted(labels: Sequence[int], probs: np.ndarray) -> list[int]:
    """Indices of faces of the two main labels whose other main label is at least
    DOUBT_PROBABILITY likely (mask_worn_incorrectly is left alone: its border with with_mask is
    a convention the sources draw differently, not a slip)."""
    return [
        i
        for i, (label, p) in enumerate(zip(labels, probs, strict=True))
        if label in MAIN and p[other_main(label)] >= DOUBT_PROBABILITY
    ]


def other_main(label: int) -> int:
    return MAIN[1 - MAIN.index(label)]


def review_scene_labels(
    split: Split,
    scenario: Scenario,
    train: Callable[[Split, Scenario, Path], Path],
    log: Log = print,
    scenes_dir: str | Path | None = None,
) -> list[Doubt]:
    """Train `scenario` once per fold without that fold's scene photos (`train(split, scenario,
    runs_dir)` returns the LiteRT model), and list the fold's doubted faces."""
    rows = split.photos["train"]
    out: list[Doubt] = []
    for fold in range(FOLDS):
        held = [row for row in rows if fold_of(row[0]) == fold]
        kept = [row for row in rows if fold_of(row[0]) != fold]
        log(f"== fold {fold + 1}/{FOLDS}: trained without {len(held)} of {len(rows)} photos")
        model = train(
            replace(split, photos={**split.photos, "train": kept}),
            replace(scenario, name=f"{scenario.name}_fold{fold}"),
            cache_dir() / "review",
        )
        part = replace(split, photos={**split.photos, "train": held})
        faces = photo_face_crops(part.scene_photos("train", scenes_dir))
        classifier = MaskClassifier(model)
        chunks = [
            classifier.classify(faces.crops[i : i + 64]) for i in range(0, len(faces.crops), 64)
        ]
        probs = np.concatenate(chunks or [np.empty((0, len(LABELS)))])
        for i in doubted(faces.labels, probs):
            label, other = faces.labels[i], other_main(faces.labels[i])
            photo, box = faces.sources[i]
            out.append(Doubt(photo, box, LABELS[label], LABELS[other], float(probs[i][other])))
        log(f"   {len(out)} faces doubted so far")
    return sorted(out, key=lambda d: d.key())


def write_doubted(doubts: Sequence[Doubt], path: Path = DOUBTED_FACES_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FIELDS)
        for d in doubts:
            x, y, w, h = d.box
            writer.writerow(
                (d.photo, x, y, x + w, y + h, d.annotated, d.out_of_fold, f"{d.probability:.3f}")
            )


def read_doubted(path: Path = DOUBTED_FACES_FILE) -> set[tuple[str, Box]]:
    """The listed faces' keys (photo name, x, y, w, h)."""
    if not path.is_file():
        raise MaskDetectorError(
            f"no list of doubted training faces at {path}: write it with "
            "`python -m mask_detector review-labels`"
        )
    with path.open(newline="") as f:
        return {
            face_key(
                row["photo"],
                (
                    int(row["xmin"]),
                    int(row["ymin"]),
                    int(row["xmax"]) - int(row["xmin"]),
                    int(row["ymax"]) - int(row["ymin"]),
                ),
            )
            for row in csv.DictReader(f)
        }


def without_doubted(items: Sequence[FaceItem], keys: set[tuple[str, Box]]) -> list[FaceItem]:
    """The items less the listed scene faces (close-ups have no box and always stay)."""
    return [i for i in items if i.box is None or face_key(i.image.name, i.box) not in keys]
