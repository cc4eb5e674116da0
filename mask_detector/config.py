"""One place for labels, sizes, default paths and the environment variables that move them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: Class names, in the order of the classifier's output units. A model with fewer outputs (an
#: older two-class export) covers the first ones, so the order only ever grows at the end.
LABELS: tuple[str, ...] = ("with_mask", "without_mask", "mask_worn_incorrectly")

# A face found but too small to judge: the classifier is not asked about a face whose box is
# smaller than MIN_JUDGED_FACE, since there its label is more guess than judgement. The face is
# still found, so it is kept and shown for what it is; everything about it is set here.
#: Its label in a Detection, JSON and CSV. Its confidence is None there (null, an empty cell),
#: and the confidence threshold never hides it: it has no label to doubt.
TOO_SMALL = "too_small"
#: Its box is drawn in a neutral grey (BGR), tagged with a mark instead of a label.
TOO_SMALL_COLOUR = (128, 128, 128)
TOO_SMALL_MARK = "?"
#: Every label a result can carry, in the order counts list them (count_labels, the app).
RESULT_LABELS: tuple[str, ...] = (*LABELS, TOO_SMALL)
#: Longer side of a face box, in pixels of the original image, from which on the classifier
#: labels it (0: every face). 0: on the annotated with/without-mask faces of scenes-dev and the
#: scenes-ilc validation photos, the shipped classifier (trained on small scene faces) is right
#: on 83% of the faces under 10 px and on at least 83% of every size up from there, above the
#: 52-85% that always saying "Mask" would get, so no size is left unjudged by default
#: (`benchmarks/small_faces.py judge --edges 10 12 14 16 20 24 32 48 96`). A model weaker on
#: small faces sets it higher: its predecessor was right on 57% under 16 px.
MIN_JUDGED_FACE = 0

#: Human-facing names used on drawn boxes and in the app.
DISPLAY_NAMES: dict[str, str] = {
    "with_mask": "Mask",
    "without_mask": "No mask",
    "mask_worn_incorrectly": "Mask worn wrong",
    TOO_SMALL: "Too small to judge",
}
#: How counts speak of each label ("2 with mask · 1 without mask"): the live figures, charts and
#: people summaries of the app and the command line.
COUNT_PHRASES: dict[str, str] = {
    "with_mask": "with mask",
    "without_mask": "without mask",
    "mask_worn_incorrectly": "mask worn wrong",
    TOO_SMALL: "too small to judge",
}
#: Labels that call for attention: the live page raises its alert while such a face is in view
#: (a mask under the nose protects about as little as none).
ALERT_LABELS: tuple[str, ...] = ("without_mask", "mask_worn_incorrectly")


def display_name(label: str) -> str:
    """The name people see for a label (with_mask: Mask); a label without one is shown as is."""
    return DISPLAY_NAMES.get(label, label)


def count_phrase(label: str) -> str:
    """How a count of faces with this label reads: "3 without mask"."""
    return COUNT_PHRASES.get(label, label.replace("_", " "))


def counted_labels(counts: Mapping[str, int]) -> tuple[str, ...]:
    """The labels a line of counts names: every label of LABELS, and TOO_SMALL when there are
    such faces (most streams and photos have none, and a "0 too small to judge" says nothing)."""
    return RESULT_LABELS if counts.get(TOO_SMALL) else LABELS


@dataclass(frozen=True)
class DetectionDefaults:
    """Where a use starts from: the face detector, the smallest face it reports (the box's
    longer side, in pixels of the original image) and whether it takes the small-face path
    (the image searched at the scales its size and that smallest face call for)."""

    detector: str
    min_face: int
    small_faces: bool


#: Photos and video files (the upload and video pages, `predict`, `video`, `evaluate-scenes`,
#: the batch engines): what finds the most faces of scenes-dev and the scenes-ilc validation
#: photos (recall 82.9% and 93.2%), at a precision of 88.6% on scenes-dev and 77.6% on the
#: scenes-ilc photos (YuNet's live path there: 89.8% / 83.1%), whose boxes counted false were
#: not inspected (README, "Finding small faces").
PHOTO = DetectionDefaults("yunet", min_face=10, small_faces=True)
#: The live camera: Haar for speed, on faces near the lens, on the path it always took.
LIVE = DetectionDefaults("haar", min_face=24, small_faces=False)

#: MobileNetV2 input side, in pixels.
IMAGE_SIZE = 224
#: Fraction of a face box added on each side before classification: training images show the
#: whole head, detector boxes hug the face.
FACE_PADDING = 0.15

#: Other names of each class in published data sets: folder names and PASCAL VOC object names
#: (compared case-insensitively, ignoring "_", "-", " ").
CLASS_ALIASES: dict[str, tuple[str, ...]] = {
    "with_mask": ("withmask", "mask", "masked", "yes"),
    "without_mask": ("withoutmask", "nomask", "unmasked", "no"),
    "mask_worn_incorrectly": (
        "maskwearedincorrect",
        "withincorrectmask",
        "incorrectmask",
        "maskincorrect",
        "incorrectlymasked",
        "maskwornincorrect",
        "incorrect",
    ),
}

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
MODELS_DIR = REPO_ROOT / "models"
SCENARIOS_DIR = PACKAGE_DIR / "training" / "scenarios"
#: Training scene faces whose label a model that never saw them doubts (`review-labels`).
DOUBTED_FACES_FILE = REPO_ROOT / "dataset" / "review" / "scenes-ilc-train-doubted.csv"

#: File names under models/ (the shipped model and its reports).
KERAS_MODEL_NAME = "mask_detector.keras"
TFLITE_MODEL_NAME = "mask_detector.tflite"
METRICS_NAME = "metrics.json"
#: The pipeline on scene photos (`evaluate-scenes --save`), keyed by face detector: on
#: scenes-dev, and on the test photos of the scenes-ilc split.
SCENES_NAME = "scenes.json"
SCENES_TEST_NAME = "scenes_test.json"
SPLIT_NAME = "split.json"
#: The shipped model's answers on the faces of dataset/audits/ (`audit`), quoted by the card.
AUDIT_NAME = "audit.json"
#: The shipped model on photos made grey, dark, compressed... (benchmarks/conditions.py --save).
CONDITIONS_NAME = "conditions.json"
#: Under MODELS_DIR: the trained scenarios, among which `ship` chooses.
RUNS_DIR_NAME = "scenarios"
#: Under MODELS_DIR: the shipped recipe trained under other seeds (`train --seed`), never
#: candidates for `ship`.
SEEDS_DIR_NAME = "seeds"
MODEL_CARD_NAME = "MODEL_CARD.md"
#: A trained scenario's Keras model, beside its METRICS_NAME in the scenario's own folder.
SCENARIO_MODEL_NAME = "model.keras"

BACKBONE_WEIGHTS_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
YUNET_FILE = "face_detection_yunet_2023mar.onnx"
YUNET_URL = (
    "https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/" + YUNET_FILE
)
YUNET_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"

ENV_SHARED = "MASK_DETECTOR_SHARED"
ENV_MODEL = "MASK_DETECTOR_MODEL"
ENV_BACKBONE = "MASK_DETECTOR_BACKBONE"
ENV_YUNET = "MASK_DETECTOR_YUNET"
ENV_CACHE = "MASK_DETECTOR_CACHE"


def shared_dir() -> Path:
    """The read-only folder of data sets and weights that sits beside a checkout."""
    return Path(os.environ.get(ENV_SHARED, REPO_ROOT.parent / "shared"))


def cache_dir() -> Path:
    """Where downloads (YuNet) and cached features go; outside the repository."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mask_detector"
    return Path(os.environ.get(ENV_CACHE, default))


def default_model_path() -> Path:
    """The shipped fast-path model, unless MASK_DETECTOR_MODEL points elsewhere."""
    return Path(os.environ.get(ENV_MODEL, MODELS_DIR / TFLITE_MODEL_NAME))


def _first_existing(*candidates: Path) -> Path | None:
    return next((p for p in candidates if p.is_file()), None)


def backbone_weights_path(explicit: str | Path | None = None) -> str:
    """A local ImageNet weights file when one is known, else Keras' "imagenet" download."""
    if explicit:
        return str(explicit)
    env = os.environ.get(ENV_BACKBONE)
    if env:
        return env
    found = _first_existing(
        shared_dir() / "weights" / BACKBONE_WEIGHTS_FILE,
        Path.home() / ".keras" / "models" / BACKBONE_WEIGHTS_FILE,
    )
    return str(found) if found else "imagenet"


def yunet_model_path(explicit: str | Path | None = None) -> Path | None:
    """The YuNet ONNX file from the option, the environment, models/ (shipped with the
    repository) or the cache (a copy of the package without models/ downloads it); else None."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_YUNET)
    if env:
        return Path(env)
    return _first_existing(MODELS_DIR / YUNET_FILE, cache_dir() / YUNET_FILE)


def training_data_dir() -> Path:
    return shared_dir() / "datasets" / "face-mask"


def scenes_dir() -> Path:
    """Crowd photos kept for measurement only: never trained on, never used to choose."""
    return shared_dir() / "datasets" / "scenes-dev"


def scene_training_dir() -> Path:
    """Real photos with VOC face boxes, split by photo into train / validation / test."""
    return shared_dir() / "datasets" / "scenes-ilc"


def normalise_name(name: str) -> str:
    """Lower case, letters and digits only: "With_Mask" and "with-mask" become "withmask"."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def label_of(name: str) -> str | None:
    """The label (of LABELS) a folder or VOC object name stands for, or None."""
    key = normalise_name(name)
    for label in LABELS:
        if key == normalise_name(label) or key in CLASS_ALIASES[label]:
            return label
    return None
