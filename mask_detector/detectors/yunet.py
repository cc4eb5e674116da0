"""YuNet (OpenCV zoo) face detector: a small CNN that finds masked and tiny faces Haar misses.

The ONNX file (232 kB) ships in models/ with its licence and SHA-256; it is looked up there after
the option and MASK_DETECTOR_YUNET, then in the cache, and only a copy of the package without
models/ downloads it (when allowed) into the cache, SHA-256 checked.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np

from .. import config
from ..detection import Box, face_size
from ..errors import DetectorUnavailableError
from .base import DEFAULT_MIN_FACE, SmallFacePath, clip_boxes, resized

#: Seconds to wait for the download to connect and for each read.
DOWNLOAD_TIMEOUT = 20
#: The file is ~230 kB; anything much larger is not the model.
MAX_DOWNLOAD_BYTES = 5 * 1024 * 1024

_HOW_TO = (
    f"Download {config.YUNET_URL} and pass it with --yunet-model PATH or set "
    f"{config.ENV_YUNET}=PATH (or use the haar detector, which needs no file)."
)


#: The small-face path of photos and video files, chosen on scenes-dev and the scenes-ilc
#: validation photos (`benchmarks/small_faces.py settings`; README, "Finding small faces"):
#:
#: * ``findable=24``: at their own size YuNet finds 24% of the faces under 16 px, 57% of those
#:   of 16-24 px, 73% of 24-32 px and 88% of 32-48 px, so the smallest face is brought to 24 px
#:   (enlarged 2x, 86% of the 16-24 px faces are found).
#: * ``max_upscale=2``: 2.5x found 1.2 points more faces of scenes-dev at the same precision,
#:   but searches 1.5x the pixels, past the 150 ms a 640x480 photo may take; 1.5x, 3.8 fewer.
#: * ``max_pixels=2 MP``: a 640x480 photo enlarged 2x is 1.2 MP, an 800x600 one is searched at
#:   1.77x; a 12-megapixel photo at 0.41x, which finds faces from about 60 px (1 MP: 0.5 points
#:   less recall on scenes-ilc).
#: * ``largest=320``: YuNet keeps a face whole up to about 450 px and breaks larger ones into
#:   pieces, so a photo enlarged past that is searched again 4x smaller for its large faces
#:   (without: faces found on 94% of close-up photos instead of 97%, and 92% of the faces of
#:   96 px and more instead of 95%).
SMALL_FACES = SmallFacePath(findable=24, max_upscale=2.0, max_pixels=2_000_000, largest=320)

#: Networks kept per detector, one per input size: the sizes of one photo's search (two; three
#: for a large square photo). Each holds its buffers: ~125 MB at 2 MP, so no more are kept.
MAX_NETWORKS = 3


class YuNetDetector:
    """cv2.FaceDetectorYN wrapper: one network per input size, the last MAX_NETWORKS kept.

    A network runs slower on the frame after its input size changed (its buffers are laid out
    anew), and photos and video frames are searched at two sizes each (SMALL_FACES); a network
    costs ~4 ms to create. Thread-safe: one search at a time, under a lock.

    * ``score_threshold=0.6``: on scenes-dev opencv_zoo's 0.9 found 14% of faces (precision 1.0),
      0.7 63% (0.95), 0.6 68% (0.91), 0.5 72% (0.85); 0.6 is the knee, and stays it on the
      small-face path (0.55: recall +1.1 points, precision 0.864; 0.65: -1.2, 0.912).
    * ``nms=0.3``: opencv_zoo's default overlap for suppressing duplicate boxes.
    * ``max_side=640``: without ``small_faces`` (the live path), larger frames are downscaled to
      this longest side first (the CNN's cost grows with area; 640 px keeps faces of ~10 px in
      a 640x480 frame findable) and smaller ones searched as they are.
    * ``small_faces=True``: photos and video files take ``small_face_path`` (SMALL_FACES)
      instead.
    """

    name = "yunet"

    def __init__(
        self,
        model_path: str | Path,
        *,
        score_threshold: float = 0.6,
        nms: float = 0.3,
        top_k: int = 5000,
        min_face: int = DEFAULT_MIN_FACE,
        max_side: int = 640,
        small_faces: bool = False,
        small_face_path: SmallFacePath = SMALL_FACES,
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise DetectorUnavailableError(f"YuNet model file not found: {path}. {_HOW_TO}")
        self._settings = (score_threshold, nms, top_k)
        self.model_path = path
        try:
            self._nets = {(320, 320): self._network((320, 320))}
        except cv2.error as exc:
            raise DetectorUnavailableError(
                f"YuNet model {path} could not be loaded ({exc.msg.strip()}). {_HOW_TO}"
            ) from None
        self.min_face = min_face
        self.max_side = max_side
        self.small_faces = small_faces
        self.small_face_path = small_face_path
        self._lock = threading.Lock()

    def _network(self, size: tuple[int, int]) -> cv2.FaceDetectorYN:
        return cv2.FaceDetectorYN.create(str(self.model_path), "", size, *self._settings)

    def _search(self, image: np.ndarray) -> tuple[list[tuple[float, ...]], list[float]]:
        """One run of the network: boxes in `image`'s pixels and their scores, best first."""
        size = (image.shape[1], image.shape[0])
        with self._lock:
            net = self._nets.pop(size, None) or self._network(size)
            self._nets[size] = net  # the most recently used last
            if len(self._nets) > MAX_NETWORKS:
                del self._nets[next(iter(self._nets))]
            _, faces = net.detect(image)
        if faces is None or len(faces) == 0:
            return [], []
        faces = faces[np.argsort(-faces[:, 14])]
        return [tuple(float(v) for v in face[:4]) for face in faces], faces[:, 14].tolist()

    def detect(self, image: np.ndarray) -> list[Box]:
        """Face boxes (x, y, w, h) in `image` (HxWx3 uint8 BGR) coordinates, best score first."""
        height, width = image.shape[:2]
        if min(height, width) < max(2, self.min_face):
            return []  # no face of min_face fits, and the network gives garbage on slivers
        if self.small_faces:
            boxes, _ = self.small_face_path.search(image, self.min_face, self._search)
        else:
            scale = min(1.0, self.max_side / max(height, width))
            found, _ = self._search(resized(image, scale))
            boxes = [tuple(v / scale for v in box) for box in found]
        return [b for b in clip_boxes(boxes, image.shape) if face_size(b) >= self.min_face]


def ensure_yunet_model(explicit: str | Path | None = None, download: bool = True) -> Path:
    """Path of a YuNet ONNX file, downloading it into the cache once if allowed.

    Raises DetectorUnavailableError, saying how to provide the file, when it is missing and
    cannot be downloaded (not allowed, no network, or a checksum mismatch).
    """
    found = config.yunet_model_path(explicit)
    if found is not None:
        if not found.is_file():
            raise DetectorUnavailableError(f"YuNet model file not found: {found}. {_HOW_TO}")
        return found
    target = config.cache_dir() / config.YUNET_FILE
    if not download:
        raise DetectorUnavailableError(
            f"YuNet model file not found (looked in {config.ENV_YUNET}, "
            f"{config.MODELS_DIR}, {config.cache_dir()}). {_HOW_TO}"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(config.YUNET_URL, timeout=DOWNLOAD_TIMEOUT) as response:
            data = response.read(MAX_DOWNLOAD_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DetectorUnavailableError(
            f"YuNet model could not be downloaded from {config.YUNET_URL} ({exc}). {_HOW_TO}"
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > MAX_DOWNLOAD_BYTES or digest != config.YUNET_SHA256:
        raise DetectorUnavailableError(
            f"the downloaded YuNet file failed its checksum (sha256 {digest}, expected "
            f"{config.YUNET_SHA256}); nothing was saved. {_HOW_TO}"
        )
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".yunet-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp_name, target)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise DetectorUnavailableError(
            f"YuNet model could not be saved to {target} ({exc}). {_HOW_TO}"
        ) from None
    return target
