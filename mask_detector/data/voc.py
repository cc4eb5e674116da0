"""Photos with PASCAL VOC face boxes (scene data sets): reading the boxes, finding the photo.

Training cuts faces from these photos and evaluation scores the pipeline on them, so both read
them here. Object names are mapped to config.LABELS ("mask_weared_incorrect" is
mask_worn_incorrectly); a name no label stands for is kept as it is, so it is counted, not lost.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from ..config import label_of
from ..detection import Box
from ..errors import DatasetError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


@dataclass(frozen=True)
class Photo:
    """One annotated photo: its image file and its faces as (label, box)."""

    image: Path
    annotation: Path
    faces: tuple[tuple[str, Box], ...]


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
        faces.append((label_of(name) or name, (x, y, w, h)))
    return faces


def image_for_annotation(annotation: Path, images_dir: Path) -> Path | None:
    """The photo an annotation file describes: its <filename>, else a file of the same stem."""
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


def annotation_files(
    annotations_dir: str | Path, only: Collection[str] | None = None, limit: int | None = None
) -> list[Path]:
    """The VOC files of a folder, sorted by name; `only` keeps those whose file name it holds."""
    annotations_dir = Path(annotations_dir)
    if not annotations_dir.is_dir():
        raise DatasetError(f"{annotations_dir}: annotations folder not found")
    files = sorted(annotations_dir.glob("*.xml"))
    if only is not None:
        names = {Path(name).name for name in only}
        files = [f for f in files if f.name in names]
    return files[:limit]


def list_photos(
    images_dir: str | Path, annotations_dir: str | Path, only: Collection[str] | None = None
) -> tuple[list[Photo], list[tuple[Path, str]]]:
    """Every annotated photo whose image exists, and (file, reason) for those left out."""
    photos: list[Photo] = []
    skipped: list[tuple[Path, str]] = []
    for xml in annotation_files(annotations_dir, only):
        image = image_for_annotation(xml, Path(images_dir))
        if image is None:
            skipped.append((xml, f"no image for {xml.name} in {images_dir}"))
            continue
        try:
            faces = tuple(load_annotations(xml))
        except DatasetError as exc:
            skipped.append((xml, str(exc)))
            continue
        photos.append(Photo(image, xml, faces))
    return photos, skipped
