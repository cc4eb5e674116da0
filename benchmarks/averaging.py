"""Several answers per face, averaged: the face and its mirror image (flip), or several trained
runs of one recipe (an ensemble), against the one model as it is.

Averaging takes out part of the noise of a single answer, at a multiple of the classifier's cost
per face. This script measures each way on the same crops: validation (close-ups and scenes-ilc
val faces, the figures a rule may choose on) and test (close-up test, scenes-ilc test,
scenes-dev: reported, never chosen on), and the cost per face.

Not a test: it needs ../shared and takes a few minutes (an ensemble's .keras runs are exported
to LiteRT first, which needs TensorFlow).

    .venv/bin/python benchmarks/averaging.py --sets val              # decides
    .venv/bin/python benchmarks/averaging.py --sets test dev         # reports
    .venv/bin/python benchmarks/averaging.py --no-flip --ensemble \
        models/seeds/scenes_lowres_ls_seed{42,2}/model.keras        # with the shipped model
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.conditions import as_litert
from mask_detector import config
from mask_detector.classifier import MaskClassifier
from mask_detector.data.dataset import LoadReport, iter_images
from mask_detector.data.split import Split
from mask_detector.evaluation.by_size import split_at
from mask_detector.evaluation.crops import scene_face_crops
from mask_detector.evaluation.metrics import classification_report, macro

Faces = tuple[list[np.ndarray], list[int], list[int]]  # crops, label indices, sizes
Classify = Callable[[Sequence[np.ndarray]], np.ndarray]
BATCH = 32


def close_up_faces(split: Split, part: str) -> Faces:
    report = LoadReport()
    pairs = list(iter_images(split.samples(part, config.training_data_dir()), report))
    return (
        [image for _, image in pairs],
        [sample.label for sample, _ in pairs],
        [max(image.shape[:2]) for _, image in pairs],
    )


def scene_faces(root: Path, only: list[str] | None) -> Faces:
    faces = scene_face_crops(root / "images", root / "annotations", only)
    return faces.crops, faces.labels, faces.sizes


def data_sets(names: list[str]) -> dict[str, Faces]:
    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    sets: dict[str, Faces] = {}
    for part in ("val", "test"):
        if part in names:
            sets[f"close-up {part}"] = close_up_faces(split, part)
            only = split.annotation_names(part)
            sets[f"scenes-ilc {part}"] = scene_faces(config.scene_training_dir(), only)
    if "dev" in names:
        sets["scenes-dev"] = scene_faces(config.scenes_dir(), None)
    return sets


def probabilities(classify: Classify, crops: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([classify(crops[i : i + BATCH]) for i in range(0, len(crops), BATCH)])


def flip_averaged(classifier: MaskClassifier) -> Classify:
    def classify(faces: Sequence[np.ndarray]) -> np.ndarray:
        probs = classifier.classify([*faces, *(face[:, ::-1] for face in faces)])
        return (probs[: len(faces)] + probs[len(faces) :]) / 2

    return classify


def averaged(classifiers: list[MaskClassifier]) -> Classify:
    def classify(faces: Sequence[np.ndarray]) -> np.ndarray:
        return np.mean([c.classify(faces) for c in classifiers], axis=0)

    return classify


def row(name: str, labels: list[int], sizes: list[int], probs: np.ndarray) -> dict[str, Any]:
    report = classification_report(np.array(labels), probs, sizes)
    small, large = split_at(report["by_size"], 32)
    return {
        "set": name,
        "n": report["n"],
        "accuracy": report["accuracy"],
        "mean recall": macro(report, "recall"),
        "< 32 px": small["accuracy"],
        ">= 32 px, two labels": large["accuracy_two_labels"],
        ">= 32 px, no-mask R": large["recall"]["without_mask"],
    }


def cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{100 * value:.2f}" if isinstance(value, float) else str(value)


def cost_per_face(classify: Classify, crops: list[np.ndarray], repeats: int = 20) -> float:
    """Milliseconds per face, batches of 8 faces (a crowded frame), after one warm-up call."""
    batch = crops[:8]
    classify(batch)
    start = time.perf_counter()
    for _ in range(repeats):
        classify(batch)
    return 1000 * (time.perf_counter() - start) / (repeats * len(batch))


def measure(ways: dict[str, Classify], sets: dict[str, Faces]) -> None:
    """Print each set's figures each way (and the validation faces pooled), then the costs."""
    rows = []
    for way, classify in ways.items():
        val: list[tuple[list[int], list[int], np.ndarray]] = []
        for name, (crops, labels, sizes) in sets.items():
            probs = probabilities(classify, crops)
            rows.append({"way": way, **row(name, labels, sizes, probs)})
            if name.endswith("val"):
                val.append((labels, sizes, probs))
        if val:  # every validation face: the pool of the comparison's mean recall
            labels = [k for v in val for k in v[0]]
            sizes = [s for v in val for s in v[1]]
            probs = np.concatenate([v[2] for v in val])
            rows.append({"way": way, **row("all val faces", labels, sizes, probs)})
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for r in sorted(rows, key=lambda r: (r["set"], r["way"])):
        print("| " + " | ".join(cell(r[c]) for c in columns) + " |")
    crops = next(iter(sets.values()))[0]
    for way, classify in ways.items():
        print(f"cost per face ({way}, batches of 8): {cost_per_face(classify, crops):.2f} ms")


def exported(model: Path, tmp: Path) -> Path:
    """as_litert into a folder of its own (every run's model file is named model.keras)."""
    folder = Path(tempfile.mkdtemp(dir=tmp))
    return as_litert(model, folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", choices=("val", "test", "dev"), default=["val"])
    parser.add_argument("--model", metavar="PATH", help="a .tflite model (default: shipped)")
    parser.add_argument("--no-flip", action="store_true", help="leave out flip averaging")
    parser.add_argument(
        "--ensemble", nargs="+", metavar="PATH", default=[], help="runs averaged with --model"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:  # exported runs live here while they are used
        classifier = MaskClassifier(args.model)
        ways: dict[str, Classify] = {"as is": classifier.classify}
        if not args.no_flip:
            ways["flip"] = flip_averaged(classifier)
        if args.ensemble:
            runs = [MaskClassifier(exported(Path(p), Path(tmp))) for p in args.ensemble]
            ways[f"ensemble of {1 + len(runs)}"] = averaged([classifier, *runs])
        measure(ways, data_sets(args.sets))


if __name__ == "__main__":
    main()
