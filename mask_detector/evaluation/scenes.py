"""Scoring a detect function against scene photos with PASCAL VOC face boxes (scenes-dev).

Training images are single, centred faces; scenes are what the detector meets in use: crowds,
small faces, partial occlusion. This module answers "how many faces does the pipeline find, how
many of its boxes are faces, and how often is the mask label right" on those photos.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import LABELS
from ..data.voc import annotation_files, image_for_annotation, load_annotations
from ..detection import Box, Detection
from ..detectors.base import box_iou
from ..errors import DatasetError, InvalidImageError
from ..imageio import read_image
from ..progress import Progress
from .by_size import by_size, face_size

#: load_annotations lives in data.voc; the notebook reads it from here, beside evaluate_scenes.
__all__ = ["boxes_only", "evaluate_scenes", "load_annotations", "match_boxes"]

#: IoU needed for a detection to count as finding a face. 0.3, not the usual 0.5: faces here are
#: often 10-30 px, where a few pixels of box disagreement already halve the IoU, and detectors
#: differ in how much forehead and chin they include.
IOU_THRESHOLD = 0.3

DetectFn = Callable[[np.ndarray], Sequence[Detection]]


def boxes_only(find_faces: Callable[[np.ndarray], Sequence[Box]]) -> DetectFn:
    """A face detector's `detect` as a DetectFn with empty labels: to score boxes alone."""
    return lambda image: [Detection(box, "", 0.0) for box in find_faces(image)]


def match_boxes(
    detections: Sequence[Sequence[float]],
    truths: Sequence[Sequence[float]],
    threshold: float = IOU_THRESHOLD,
) -> list[tuple[int, int]]:
    """Greedy one-to-one matching: (detection index, truth index) pairs, highest IoU first.

    Each detection and each true face is used at most once, so two boxes on one face count as
    one hit and one false positive.
    """
    pairs = []
    for i, det in enumerate(detections):
        for j, truth in enumerate(truths):
            overlap = box_iou(det, truth)
            if overlap >= threshold:
                pairs.append((overlap, i, j))
    pairs.sort(key=lambda p: -p[0])
    used_d: set[int] = set()
    used_t: set[int] = set()
    matches = []
    for _, i, j in pairs:
        if i in used_d or j in used_t:
            continue
        used_d.add(i)
        used_t.add(j)
        matches.append((i, j))
    return matches


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def evaluate_scenes(
    images_dir: str | Path,
    annotations_dir: str | Path,
    detect: DetectFn,
    progress: Progress | None = None,
    *,
    iou_threshold: float = IOU_THRESHOLD,
    limit: int | None = None,
    only: Collection[str] | None = None,
) -> dict[str, Any]:
    """Run `detect` on every annotated photo and score it; see the module docstring.

    `detect` maps a BGR image to Detections; give it empty labels ("") to score boxes only, and
    the label figures are then None. Unreadable images or XML files are skipped with a warning
    and counted in `skipped`. `only` keeps the annotation files whose names it holds (one part
    of a split); `limit` evaluates only the first N (sorted by name). Ratios are None where
    their denominator is 0.

    Label figures are over found faces whose annotated class is one of config.LABELS:
    `label_accuracy` (all of them), `label_accuracy_per_class` (the share of each annotated
    class given its own label), `label_accuracy_two_labels` (found with_mask and without_mask
    faces labelled right; calling one mask_worn_incorrectly is wrong), `label_confusion` (rows
    annotated, columns given) and `by_size` (by the annotated box's longer side).
    """
    images_dir = Path(images_dir)
    xml_files = annotation_files(annotations_dir, only, limit)
    faces = Counter[str]()
    found = Counter[str]()
    confusion = np.zeros((len(LABELS), len(LABELS)), int)
    truth_index: list[int] = []
    given_index: list[int] = []
    sizes: list[int] = []
    n_images = n_detections = n_matched = skipped = 0
    any_label = False
    seconds = 0.0
    for done, xml_path in enumerate(xml_files, 1):
        try:
            truths = load_annotations(xml_path)
            image_path = image_for_annotation(xml_path, images_dir)
            if image_path is None:
                raise InvalidImageError(f"{xml_path.name}: no image of that name in {images_dir}")
            image = read_image(image_path)
        except (DatasetError, InvalidImageError) as exc:
            warnings.warn(f"skipped: {exc}", stacklevel=2)
            skipped += 1
            if progress:
                progress(done, len(xml_files))
            continue
        start = time.perf_counter()
        dets = list(detect(image))
        seconds += time.perf_counter() - start
        n_images += 1
        n_detections += len(dets)
        any_label = any_label or any(d.label for d in dets)
        matches = match_boxes([d.box for d in dets], [box for _, box in truths], iou_threshold)
        n_matched += len(matches)
        for label, _ in truths:
            faces[label] += 1
        for i, j in matches:
            (true_label, box), given = truths[j], dets[i].label
            found[true_label] += 1
            if true_label in LABELS and given in LABELS:
                truth_index.append(LABELS.index(true_label))
                given_index.append(LABELS.index(given))
                sizes.append(face_size(box))
                confusion[truth_index[-1], given_index[-1]] += 1
        if progress:
            progress(done, len(xml_files))

    classes = list(LABELS) + sorted(set(faces) - set(LABELS))
    right = np.diag(confusion)
    two = confusion[:2]
    labelled = any_label
    return {
        "labels": list(LABELS),
        "images": n_images,
        "skipped": skipped,
        "iou_threshold": iou_threshold,
        "faces": sum(faces.values()),
        "found": sum(found.values()),
        "recall": _ratio(sum(found.values()), sum(faces.values())),
        "faces_per_class": {c: faces[c] for c in classes},
        "found_per_class": {c: found[c] for c in classes},
        "recall_per_class": {c: _ratio(found[c], faces[c]) for c in classes},
        "detections": n_detections,
        "matched_detections": n_matched,
        "precision": _ratio(n_matched, n_detections),
        "label_accuracy": _ratio(int(right.sum()), int(confusion.sum())) if labelled else None,
        "label_accuracy_per_class": {
            c: (_ratio(int(right[k]), int(confusion[k].sum())) if labelled else None)
            for k, c in enumerate(LABELS)
        },
        "label_accuracy_two_labels": (
            _ratio(int(right[:2].sum()), int(two.sum())) if labelled else None
        ),
        "label_confusion": confusion.tolist() if labelled else None,
        "by_size": by_size(truth_index, given_index, sizes) if labelled else None,
        "ms_per_image": 1000 * seconds / n_images if n_images else None,
    }
