"""The classifier alone on scene faces: annotated boxes cropped as the pipeline would crop them.

This separates the two failure modes of the pipeline on crowd photos: a face the detector never
found, and a found face given the wrong label. Training images are large, centred faces; scene
faces are ~20 px, so this is the honest figure for the classifier "in the wild".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..classifier import MaskClassifier
from ..config import LABELS
from ..errors import DatasetError, InvalidImageError
from ..imageio import read_image
from ..preprocess import crop_faces
from .metrics import classification_report
from .scenes import image_for_annotation, load_annotations


def scene_face_crops(
    images_dir: str | Path, annotations_dir: str | Path
) -> tuple[list[np.ndarray], list[int]]:
    """Padded crops of every with_mask / without_mask box, and their label indices."""
    crops: list[np.ndarray] = []
    labels: list[int] = []
    for xml in sorted(Path(annotations_dir).glob("*.xml")):
        image_path = image_for_annotation(xml, Path(images_dir))
        if image_path is None:
            continue
        try:
            faces = [(lbl, box) for lbl, box in load_annotations(xml) if lbl in LABELS]
            image = read_image(image_path)
        except (DatasetError, InvalidImageError):
            continue
        crops += crop_faces(image, [box for _, box in faces])
        labels += [LABELS.index(lbl) for lbl, _ in faces]
    return crops, labels


def evaluate_scene_crops(
    classifier: MaskClassifier, images_dir: str | Path, annotations_dir: str | Path
) -> dict[str, Any]:
    crops, labels = scene_face_crops(images_dir, annotations_dir)
    probs = (
        np.concatenate([classifier.classify(crops[i : i + 32]) for i in range(0, len(crops), 32)])
        if crops
        else np.empty((0, 2))
    )
    return classification_report(np.array(labels, int), probs)
