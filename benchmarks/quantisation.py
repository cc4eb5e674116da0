"""What int8 quantisation would buy: the shipped Keras model exported as shipped (float32) and
as a full-integer int8 model, each timed per face and measured on faces it never saw.

Not a test: timings depend on the machine. The int8 model is calibrated on faces of the train
part only (close-ups, and scene faces cropped as the pipeline crops them). Needs TensorFlow and
../shared.

    .venv/bin/python benchmarks/quantisation.py [--calibration 600] [--runs 200]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.classifier_cost import cost
from mask_detector import config
from mask_detector.classifier import MaskClassifier
from mask_detector.data.split import Split
from mask_detector.evaluation.by_size import split_at
from mask_detector.evaluation.classify import evaluate_samples
from mask_detector.evaluation.crops import evaluate_scene_crops, photo_face_crops
from mask_detector.evaluation.figures import pct
from mask_detector.imageio import read_image
from mask_detector.preprocess import preprocess_faces


def calibration_faces(split: Split, n: int, seed: int = 0) -> list[Any]:
    """Half close-ups, half scene faces, all from the train part."""
    rng = random.Random(seed)
    closeups = split.samples("train", config.training_data_dir())
    faces = [read_image(s.path) for s in rng.sample(closeups, min(n // 2, len(closeups)))]
    photos = split.scene_photos("train", config.scene_training_dir())
    scene = photo_face_crops(rng.sample(photos, min(len(photos), n // 2))).crops
    return faces + rng.sample(scene, min(n - len(faces), len(scene)))


def _scene_cells(report: dict[str, Any]) -> list[str]:
    """Accuracy; under 32 px; from 32 px, two labels and without_mask recall."""
    small, large = split_at(report["by_size"], 32)
    return [
        pct(report["accuracy"]),
        pct(small["accuracy"]),
        pct(large["accuracy_two_labels"]),
        pct(large["recall"]["without_mask"]),
    ]


def row(model: Path, split: Split, runs: int) -> list[str]:
    classifier = MaskClassifier(model)
    closeups = evaluate_samples(classifier, split.samples("test", config.training_data_dir()))
    ilc, dev = config.scene_training_dir(), config.scenes_dir()
    test = evaluate_scene_crops(
        classifier, ilc / "images", ilc / "annotations", split.annotation_names("test")
    )
    cross = evaluate_scene_crops(classifier, dev / "images", dev / "annotations")
    return [
        str(cost(model, runs, threads=2)["ms_per_face_batch_3"]),
        pct(closeups["accuracy"]),
        *_scene_cells(test),
        *_scene_cells(cross),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keras", type=Path, default=config.MODELS_DIR / config.KERAS_MODEL_NAME)
    parser.add_argument("--calibration", type=int, default=600, help="calibration faces")
    parser.add_argument("--runs", type=int, default=200, help="timed runs per batch size")
    args = parser.parse_args()
    from mask_detector.training.export import export_tflite

    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    faces = calibration_faces(split, args.calibration)
    size = MaskClassifier(config.default_model_path()).image_size
    print(f"{len(faces)} calibration faces from the train part", file=sys.stderr, flush=True)
    head = ["model", "ms/face (batch 3)", "close-up test"]
    for data in ("scenes-ilc test", "scenes-dev"):
        head += [f"{data}: all", "< 32 px", ">= 32 px, two labels", ">= 32 px no-mask R"]
    print("| " + " | ".join(head) + " |")
    print("|---" * len(head) + "|")
    with tempfile.TemporaryDirectory() as tmp:
        models = {
            "float32 (as shipped)": export_tflite(args.keras, Path(tmp) / "float32.tflite"),
            "int8": export_tflite(
                args.keras, Path(tmp) / "int8.tflite", preprocess_faces(faces, size=size)
            ),
        }
        for name, path in models.items():
            print(f"| {name} | " + " | ".join(row(path, split, args.runs)) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
