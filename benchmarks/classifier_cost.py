"""Classifier cost per face: LiteRT models timed on the same face crops, batch by batch.

Not a test: numbers depend on the machine and on whatever else runs on it. Compares input
sizes (or quantisations) of the same recipe, so the accuracy tables can say what each costs.

    .venv/bin/python benchmarks/classifier_cost.py                       # the shipped model
    .venv/bin/python benchmarks/classifier_cost.py a.tflite b.tflite --runs 200
    .venv/bin/python benchmarks/classifier_cost.py --keras models/scenarios/*/model.keras

`--keras` exports each Keras model to a temporary LiteRT file first (needs TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mask_detector import config
from mask_detector.benchmark import astronaut_tile, timed
from mask_detector.classifier import MaskClassifier

BATCHES = (1, 3, 8)


def cost(model: Path, runs: int, threads: int) -> dict[str, object]:
    classifier = MaskClassifier(model, num_threads=threads)
    face = astronaut_tile()
    row: dict[str, object] = {"model": str(model), "input": classifier.image_size}
    for n in BATCHES:
        t = timed(lambda n=n: classifier.classify([face] * n), runs)
        row[f"ms_per_face_batch_{n}"] = round(t["median_ms"] / n, 3)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--keras", nargs="*", type=Path, default=[], help="Keras models")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    models = list(args.models) or ([] if args.keras else [config.default_model_path()])
    with tempfile.TemporaryDirectory() as tmp:
        if args.keras:
            from mask_detector.training.export import export_tflite

            for i, path in enumerate(args.keras):
                models.append(export_tflite(path, Path(tmp) / f"{i}_{path.parent.name}.tflite"))
        rows = [cost(m, args.runs, args.threads) for m in models]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    head = ["model", "input", *(f"ms/face, batch {n}" for n in BATCHES)]
    print("| " + " | ".join(head) + " |")
    print("|---" * len(head) + "|")
    for r in rows:
        cells = [str(r[k]) for k in r]
        print("| " + " | ".join(cells) + " |")
    print(f"(median of {args.runs} runs, {args.threads} threads)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
