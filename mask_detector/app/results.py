"""Per-file results for the upload page, without Streamlit: testable, and the same for every source.

One bad file must never stop the others, so `process_upload` turns every failure into a result
with an `error` message instead of raising.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from ..caveats import photo_caveats
from ..config import display_name
from ..detection import Detection, count_labels
from ..errors import MaskDetectorError
from ..imageio import read_image
from ..pipeline import MaskDetector

log = logging.getLogger(__name__)

#: Shown when something unexpected breaks; the details go to the server log only.
GENERIC_ERROR = "could not be processed (unexpected error; the details are in the server log)"


@dataclass
class ImageResult:
    """What one uploaded image gave: faces and the annotated copy, or an error message."""

    name: str
    faces: list[Detection] = field(default_factory=list)
    annotated: np.ndarray | None = None  # BGR
    error: str | None = None
    #: What makes this photo's labels less sure (keys of caveats.CAVEATS: grey, dark).
    caveats: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) of the image, when it was read."""
        return None if self.annotated is None else self.annotated.shape[1::-1]

    def counts(self) -> dict[str, int]:
        """Faces per label, every label present (0 when none)."""
        return count_labels(self.faces)

    def rows(self) -> list[dict[str, Any]]:
        """One table row per face, with the box split into columns."""
        return [
            {
                "face": i,
                "label": display_name(f.label),
                "confidence": None if f.confidence is None else round(f.confidence, 4),
                "x": f.box[0],
                "y": f.box[1],
                "width": f.box[2],
                "height": f.box[3],
            }
            for i, f in enumerate(self.faces, 1)
        ]

    def annotated_rgb(self) -> np.ndarray | None:
        return None if self.annotated is None else self.annotated[:, :, ::-1]

    def png(self) -> bytes:
        """The annotated image as PNG bytes (empty if the file failed)."""
        if self.annotated is None:
            return b""
        ok, buf = cv2.imencode(".png", self.annotated)
        return buf.tobytes() if ok else b""

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "error": self.error,
            "size": list(self.size) if self.size else None,
            "counts": self.counts() if self.ok else None,
            "faces": [f.to_dict() for f in self.faces],
            "caveats": self.caveats,
        }


def process_image(
    pipeline: MaskDetector, name: str, image: np.ndarray, *, blur: bool = False
) -> ImageResult:
    """Detect and draw on an already decoded BGR image (faces blurred with `blur=True`)."""
    annotated, faces = pipeline.process(image, blur=blur)
    return ImageResult(name, faces, annotated, caveats=photo_caveats(image))


def process_upload(
    pipeline: MaskDetector, name: str, data: bytes, *, blur: bool = False
) -> ImageResult:
    """Decode (EXIF orientation, size limits) and process one file; errors become messages."""
    try:
        return process_image(pipeline, name, read_image(data), blur=blur)
    except MaskDetectorError as exc:
        # read_image names the source "image"; the user knows it by its file name.
        message = str(exc)
        if message.startswith("image: "):
            message = message[len("image: ") :]
        return ImageResult(name, error=message)
    except Exception:  # last resort: a page must not show a traceback
        log.exception("processing %s failed", name)
        return ImageResult(name, error=GENERIC_ERROR)


def stem(name: str) -> str:
    """A file name without its extension, for naming downloads."""
    return name.rsplit(".", 1)[0] if "." in name else name


def results_csv(results: list[ImageResult]) -> bytes:
    """One line per face (and one per file without faces or with an error)."""
    out = io.StringIO()
    columns = ["file", "face", "label", "confidence", "x", "y", "width", "height", "error"]
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    for result in results:
        rows = result.rows() or [{}]
        for row in rows:
            writer.writerow({"file": result.name, "error": result.error or "", **row})
    return out.getvalue().encode()


def results_json(results: list[ImageResult]) -> bytes:
    return (json.dumps([r.to_dict() for r in results], indent=1) + "\n").encode()
