"""Measure face detectors: scenes-dev recall/precision, training-photo found-rate, ms per frame.

Not a test: numbers depend on the machine (and on whatever else runs on it). Examples:

    .venv/bin/python benchmarks/detectors.py                        # haar and yunet, defaults
    .venv/bin/python benchmarks/detectors.py haar-tutorial          # the usual tutorial settings
    .venv/bin/python benchmarks/detectors.py haar --haar min_neighbors=3 scale_factor=1.1
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mask_detector import config
from mask_detector.benchmark import tutorial_haar
from mask_detector.detection import Box
from mask_detector.detectors import HaarDetector, YuNetDetector, ensure_yunet_model
from mask_detector.evaluation.scenes import boxes_only, evaluate_scenes
from mask_detector.imageio import read_image

Detect = Callable[[np.ndarray], list[Box]]


def frame_640x480() -> np.ndarray:
    """skimage's astronaut (one frontal face) resized to a 640x480 BGR frame."""
    from skimage import data

    return cv2.resize(np.ascontiguousarray(data.astronaut()[:, :, ::-1]), (640, 480))


def time_ms(detect: Detect, frame: np.ndarray, repeats: int = 30) -> dict[str, float]:
    for _ in range(3):
        detect(frame)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        detect(frame)
        times.append(1000 * (time.perf_counter() - start))
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1)}


def training_found_counts(
    detect: Detect, per_class: int, seed: int = 0
) -> dict[str, tuple[int, int]]:
    """Per class with a folder of training photos: (photos with >= 1 face found, photos read),
    over a random sample of `per_class` photos."""
    counts = {}
    for label in config.LABELS:
        folder = config.training_data_dir() / label
        if not folder.is_dir():  # e.g. no close-up folder of the third class
            continue
        files = sorted(p for p in folder.iterdir() if p.is_file())
        random.Random(seed).shuffle(files)
        hits = seen = 0
        for path in files[:per_class]:
            try:
                image = read_image(path)
            except Exception:
                continue
            seen += 1
            hits += bool(detect(image))
        counts[label] = (hits, seen)
    return counts


def training_found_rate(detect: Detect, per_class: int, seed: int = 0) -> dict[str, float]:
    """Fraction of training photos (random sample per class) in which >= 1 face is found."""
    return {
        label: round(hits / seen, 3) if seen else float("nan")
        for label, (hits, seen) in training_found_counts(detect, per_class, seed).items()
    }


def build(name: str, haar_kwargs: dict[str, float]) -> Detect:
    if name == "haar-tutorial":
        return tutorial_haar()
    if name == "haar":
        return HaarDetector(**haar_kwargs).detect  # type: ignore[arg-type]
    if name == "yunet":
        return YuNetDetector(ensure_yunet_model(download=False)).detect
    raise SystemExit(f"unknown detector {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("detectors", nargs="*", default=["haar", "yunet"])
    parser.add_argument("--haar", nargs="*", default=[], help="HaarDetector keyword=value")
    parser.add_argument("--train-per-class", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2, help="cv2.setNumThreads")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    warnings.simplefilter("ignore")
    haar_kwargs = {
        k: float(v) if "." in v else int(v) for k, v in (a.split("=") for a in args.haar)
    }
    scenes = config.scenes_dir()
    frame = frame_640x480()
    for name in args.detectors:
        detect = build(name, haar_kwargs)

        report = evaluate_scenes(scenes / "images", scenes / "annotations", boxes_only(detect))
        result = {
            "detector": name,
            "frame_640x480": time_ms(detect, frame),
            "scenes_recall": round(report["recall"], 3),
            "scenes_recall_per_class": {
                k: round(v, 3) for k, v in report["recall_per_class"].items() if v is not None
            },
            "scenes_precision": round(report["precision"], 3),
            "scenes_detections": report["detections"],
            "scenes_ms_per_image": round(report["ms_per_image"], 1),
            "training_found_rate": training_found_rate(detect, args.train_per_class),
        }
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
