"""The faces a scenario trains and measures on, from the split manifest.

Close-ups are whole images. Scene faces are boxes on the split's scene photos: the annotated
boxes, and (when a scenario asks) the boxes YuNet finds on the training photos, matched to an
annotated face (IoU >= 0.3) whose label they take. YuNet's boxes are exactly what the pipeline
gives the classifier; they are found once and kept in the cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from ..config import LABELS, cache_dir
from ..data.split import Split
from ..data.voc import Photo
from ..errors import InvalidImageError
from ..evaluation.scenes import match_boxes
from ..imageio import read_image
from .views import FaceItem

Log = Callable[[str], None]


def closeup_items(split: Split, part: str, root: str | Path) -> list[FaceItem]:
    return [FaceItem(s.path, s.label) for s in split.samples(part, root)]


def scene_items(photos: Sequence[Photo]) -> list[FaceItem]:
    """The annotated faces of config.LABELS, photo by photo (faces of a photo together)."""
    return [
        FaceItem(photo.image, LABELS.index(label), box, "scene")
        for photo in photos
        for label, box in photo.faces
        if label in LABELS
    ]


def yunet_items(
    photos: Sequence[Photo], yunet_model: str | Path | None = None, log: Log = print
) -> list[FaceItem]:
    """YuNet's boxes on the photos that match an annotated face, with that face's label."""
    from ..detectors import make_detector

    detector = make_detector("yunet", yunet_model=yunet_model)
    model_path = Path(detector.model_path)  # type: ignore[attr-defined]
    digest = hashlib.sha1(f"{model_path.stat().st_size}|{detector.min_face}".encode())
    for photo in photos:
        digest.update(f"{photo.image}|{photo.image.stat().st_size}|{photo.faces}\n".encode())
    path = cache_dir() / "yunet" / f"{digest.hexdigest()[:16]}.json"
    if path.is_file():
        rows = json.loads(path.read_text())
        log(f"  yunet faces: {len(rows)} from cache {path}")
        return [FaceItem(Path(image), label, tuple(box), "yunet") for image, label, box in rows]
    items = []
    for i, photo in enumerate(photos, 1):
        try:
            image = read_image(photo.image)
        except InvalidImageError:
            continue
        boxes = detector.detect(image)
        truths = [(label, box) for label, box in photo.faces if label in LABELS]
        for d, t in match_boxes(boxes, [box for _, box in truths]):
            items.append(FaceItem(photo.image, LABELS.index(truths[t][0]), boxes[d], "yunet"))
        if i % 200 == 0 or i == len(photos):
            log(f"  yunet faces: {i}/{len(photos)} photos, {len(items)} faces matched")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([[str(f.image), f.label, list(f.box or ())] for f in items]))
    return items
