"""Scoring a detect function against scene photos with PASCAL VOC face boxes (scenes-dev).

Training images are single, centred faces; scenes are what the detector meets in use: crowds,
small faces, partial occlusion. This module answers "how many faces does the pipeline find, how
many of its boxes are faces, and how often is the mask label right" on those photos.
"""

from __future__ import annotations

import time
import warnings
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import LABELS
from ..detection import Box, Detection
from ..detectors.base import box_iou
from ..errors import DatasetError, InvalidImageError
from ..imageio import read_image
from ..progress import Progress

#: IoU needed for a detection to count as finding a face. 0.3, not the usual 0.5: faces here are
#: often 10-30 px, where a few pixels of box disagreement already halve the IoU, and detectors
#: differ in how much forehead and chin they include.
IOU_THRESHOLD = 0.3
#: Classes annotated in scenes-dev. The third is reported on its own: the classifier has no
#: such class, so it is scored as neither with_mask nor without_mask.
INCORRECT = "mask_weared_incorrect"
SCENE_CLASSES: tuple[str, ...] = (*LABELS, INCORRECT)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")

DetectFn = Callable[[np.ndarray], Sequence[Detection]]


def boxes_only(find_faces: Callable[[np.ndarray], Sequence[Box]]) -> DetectFn:
    """A face detector's `detect` as a DetectFn with empty labels: to score boxes alone."""
    return lambda image: [Detection(box, "", 0.0) for box in find_faces(image)]


def load_annotations(path: str | Path) -> list[tuple[str, Box]]:
    """(label, (x, y, w, h)) for each <object> of a PASCAL VOC file; raises DatasetError."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise DatasetError(f"{path}: not a readable PASCAL VOC XML file ({exc})") from None
    faces: list[tuple[str, Box]] = []
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip()
        bnd = obj.find("bndbox")
        if not name or bnd is None:
            raise DatasetError(f"{path}: an <object> lacks <name> or <bndbox>")
        try:
            x0, y0, x1, y1 = (
                float(bnd.findtext(k) or "") for k in ("xmin", "ymin", "xmax", "ymax")
            )
        except ValueError:
            raise DatasetError(f"{path}: a <bndbox> has a missing or non-numeric corner") from None
        x, y = round(min(x0, x1)), round(min(y0, y1))
        w, h = max(1, round(abs(x1 - x0))), max(1, round(abs(y1 - y0)))
        faces.append((name, (x, y, w, h)))
    return faces


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


def image_for_annotation(annotation: Path, images_dir: Path) -> Path | None:
    try:
        named = (ET.parse(annotation).getroot().findtext("filename") or "").strip()
    except (ET.ParseError, OSError):
        named = ""
    if named and (images_dir / Path(named).name).is_file():
        return images_dir / Path(named).name
    for suffix in IMAGE_SUFFIXES:
        candidate = images_dir / (annotation.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


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
) -> dict[str, Any]:
    """Run `detect` on every annotated photo and score it; see the module docstring.

    `detect` maps a BGR image to Detections; give it empty labels ("") to score boxes only, and
    label_accuracy is then None. Unreadable images or XML files are skipped with a warning and
    counted in `skipped`. `limit` evaluates only the first N annotation files (sorted by name).
    Ratios are None where their denominator is 0.
    """
    images_dir, annotations_dir = Path(images_dir), Path(annotations_dir)
    if not annotations_dir.is_dir():
        raise DatasetError(f"{annotations_dir}: annotations folder not found")
    xml_files = sorted(annotations_dir.glob("*.xml"))[:limit]
    faces = Counter[str]()
    found = Counter[str]()
    label_total = Counter[str]()
    label_right = Counter[str]()
    incorrect_labels = Counter[str]()
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
            true_label, predicted = truths[j][0], dets[i].label
            found[true_label] += 1
            if true_label == INCORRECT:
                incorrect_labels[predicted or "(none)"] += 1
            elif true_label in LABELS:
                label_total[true_label] += 1
                label_right[true_label] += int(predicted == true_label)
        if progress:
            progress(done, len(xml_files))

    classes = list(SCENE_CLASSES) + sorted(set(faces) - set(SCENE_CLASSES))
    scored = sum(label_total.values())
    return {
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
        "label_accuracy": _ratio(sum(label_right.values()), scored) if any_label else None,
        "label_accuracy_per_class": {
            c: (_ratio(label_right[c], label_total[c]) if any_label else None) for c in LABELS
        },
        INCORRECT: {
            "faces": faces[INCORRECT],
            "found": found[INCORRECT],
            "labels": dict(incorrect_labels),
        },
        "ms_per_image": 1000 * seconds / n_images if n_images else None,
    }
