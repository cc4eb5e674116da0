"""How the figures carry to CCTV: the pipeline and the classifier on the scene photos made grey,
dark, compressed, low-resolution or blurred (mask_detector.evaluation.conditions). The figures
of the README's "Cameras in use: night, distance, compression".

Not a test: it needs ../shared and the shipped model, and takes some minutes. It measures on
scenes-dev and the scenes-ilc test photos (faces the model never saw) and chooses nothing.

    .venv/bin/python benchmarks/conditions.py                     # every condition, both sets
    .venv/bin/python benchmarks/conditions.py grey cctv --sets dev
    .venv/bin/python benchmarks/conditions.py --json /tmp/conditions.json
    .venv/bin/python benchmarks/conditions.py grey dark --sets ilc-val --classifier-only \
        --model models/seeds/RUN/model.keras        # a trained run, on validation faces
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mask_detector import config
from mask_detector.data.split import Split
from mask_detector.evaluation.by_size import rate_with_interval, split_at, two_labels_text
from mask_detector.evaluation.conditions import CONDITIONS, Condition, condition
from mask_detector.evaluation.crops import evaluate_scene_crops
from mask_detector.evaluation.figures import pct
from mask_detector.evaluation.metrics import macro
from mask_detector.evaluation.scenes import evaluate_scenes
from mask_detector.pipeline import MaskDetector

COLUMNS = (
    "condition",
    "found",
    "found: labelled right",
    "< 32 px: two labels",
    "no-mask R",
    ">= 32 px: two labels",
    "no-mask R",
    "mean recall",
)


def data_sets(names: list[str]) -> dict[str, tuple[Path, list[str] | None]]:
    """Each set's VOC folder and the annotation files to score (None: all of them)."""
    sets: dict[str, tuple[Path, list[str] | None]] = {}
    if "dev" in names:
        sets["scenes-dev"] = (config.scenes_dir(), None)
    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    for part in ("val", "test"):
        if f"ilc-{part}" in names:
            only = split.annotation_names(part)
            sets[f"scenes-ilc {part}"] = (config.scene_training_dir(), only)
    return sets


def measure(
    pipeline: MaskDetector,
    root: Path,
    only: list[str] | None,
    cond: Condition,
    classifier_only: bool = False,
) -> dict[str, Any]:
    """The pipeline's and the classifier's reports on the set under one condition."""
    change = cond.transform

    def detect(image: Any) -> Any:
        return pipeline.detect(change(image) if change else image)

    images, notes = root / "images", root / "annotations"
    return {
        "pipeline": None if classifier_only else evaluate_scenes(images, notes, detect, only=only),
        "crops": evaluate_scene_crops(pipeline.classifier, images, notes, only, change),
    }


def _no_mask(row: dict[str, Any]) -> str:
    return rate_with_interval(row["right"]["without_mask"], row["support"]["without_mask"])


def cells(cond: Condition, report: dict[str, Any]) -> list[str]:
    """One table row: what YuNet finds and labels, then the classifier alone by size."""
    scenes, crops = report["pipeline"], report["crops"]
    small, large = split_at(crops["by_size"], 32)
    return [
        cond.name,
        f"{scenes['found']} of {scenes['faces']}" if scenes else "-",
        pct(scenes["label_accuracy"]) if scenes else "-",
        two_labels_text(small),
        _no_mask(small),
        two_labels_text(large),
        _no_mask(large),
        pct(macro(crops, "recall")),  # what the ship rule ranks runs by
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "conditions", nargs="*", help=f"default: all ({', '.join(c.name for c in CONDITIONS)})"
    )
    parser.add_argument(
        "--sets", nargs="+", choices=("dev", "ilc-val", "ilc-test"), default=["dev", "ilc-test"]
    )
    parser.add_argument("--model", metavar="PATH", help="default: the shipped model")
    parser.add_argument(
        "--classifier-only", action="store_true", help="skip the pipeline: faster, crops only"
    )
    parser.add_argument("--json", metavar="FILE", help="also write every report here")
    args = parser.parse_args()
    chosen = [condition(n) for n in args.conditions] if args.conditions else list(CONDITIONS)
    pipeline = MaskDetector.load(
        args.model, config.PHOTO.detector, min_face=config.PHOTO.min_face, small_faces=True
    )
    saved: dict[str, dict[str, Any]] = {}
    warnings.simplefilter("ignore")  # unreadable photos are counted in the reports
    for name, (root, only) in data_sets(args.sets).items():
        print(f"\n{name} (YuNet, the photos' small-face path; the classifier alone on the boxes)")
        print("| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS))
        for cond in chosen:
            report = measure(pipeline, root, only, cond, args.classifier_only)
            report["crops"].pop("faces")
            saved.setdefault(name, {})[cond.name] = report
            print("| " + " | ".join(cells(cond, report)) + " |", flush=True)
    print("\nconditions: " + "; ".join(f"{c.name}: {c.description}" for c in chosen))
    if args.json:
        Path(args.json).write_text(json.dumps(saved, indent=1) + "\n")


if __name__ == "__main__":
    main()
