"""The classifier alone on scene faces: annotated boxes cropped as the pipeline would crop them.

This separates the two failure modes of the pipeline on crowd photos: a face the detector never
found, and a found face given the wrong label. Training images are large, centred faces; scene
faces are often 10-60 px, so this is the honest figure for the classifier "in the wild".
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..classifier import MaskClassifier
from ..config import LABELS
from ..data.voc import Photo, list_photos
from ..detection import Box
from ..errors import InvalidImageError
from ..imageio import read_image
from ..preprocess import crop_faces
from .by_size import face_size
from .metrics import classification_report

#: A change made to a whole photo (BGR uint8) before its faces are cut, keeping its size (the
#: camera conditions of evaluation.conditions).
Transform = Callable[[np.ndarray], np.ndarray]


@dataclass
class SceneFaces:
    """Padded crops of annotated faces, their label indices and sizes (longer box side), and
    where each came from (photo file name, annotated box) so an answer can be traced back."""

    crops: list[np.ndarray] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    sources: list[tuple[str, Box]] = field(default_factory=list)


def photo_face_crops(photos: list[Photo], transform: Transform | None = None) -> SceneFaces:
    """Every face of config.LABELS on the photos (each photo changed by `transform` first);
    unreadable photos are left out."""
    out = SceneFaces()
    for photo in photos:
        faces = [(lbl, box) for lbl, box in photo.faces if lbl in LABELS]
        try:
            image = read_image(photo.image)
        except InvalidImageError:
            continue
        if transform is not None:
            image = transform(image)
        out.crops += crop_faces(image, [box for _, box in faces])
        out.labels += [LABELS.index(lbl) for lbl, _ in faces]
        out.sizes += [face_size(box) for _, box in faces]
        out.sources += [(photo.image.name, box) for _, box in faces]
    return out


def scene_face_crops(
    images_dir: str | Path,
    annotations_dir: str | Path,
    only: Collection[str] | None = None,
    transform: Transform | None = None,
) -> SceneFaces:
    """The annotated faces of a VOC folder (or of the files `only` names)."""
    photos, _ = list_photos(images_dir, annotations_dir, only)
    return photo_face_crops(photos, transform)


def evaluate_scene_crops(
    classifier: MaskClassifier,
    images_dir: str | Path,
    annotations_dir: str | Path,
    only: Collection[str] | None = None,
    transform: Transform | None = None,
) -> dict[str, Any]:
    """The classification report (with `by_size`) of the classifier on annotated scene faces,
    plus `faces`: each face's photo, box (x, y, w, h), true label index and probabilities."""
    faces = scene_face_crops(images_dir, annotations_dir, only, transform)
    crops = faces.crops
    probs = (
        np.concatenate([classifier.classify(crops[i : i + 32]) for i in range(0, len(crops), 32)])
        if crops
        else np.empty((0, len(LABELS)))
    )
    report = classification_report(np.array(faces.labels, int), probs, faces.sizes)
    report["faces"] = [
        {"photo": photo, "box": list(box), "true": t, "probs": [round(float(v), 5) for v in p]}
        for (photo, box), t, p in zip(faces.sources, faces.labels, probs, strict=True)
    ]
    return report
