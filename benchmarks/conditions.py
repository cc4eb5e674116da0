"""How the figures carry to CCTV: the pipeline and the classifier on the scene photos made grey,
dark, compressed, low-resolution or blurred (mask_detector.evaluation.conditions). The figures
of the README's "Cameras in use: night, distance, compression".

Not a test: it needs ../shared and a trained model, and takes some minutes. It measures on
scenes-dev and the scenes-ilc test photos (faces the model never saw) and chooses nothing;
`--sets ilc-val` measures the validation photos, for rules that choose.

    .venv/bin/python benchmarks/conditions.py --save models/conditions.json  # -> the model card
    .venv/bin/python benchmarks/conditions.py grey cctv --sets dev
    .venv/bin/python benchmarks/conditions.py --caveats  # photos the app warns about
    .venv/bin/python benchmarks/conditions.py grey dark --sets ilc-val --classifier-only \\
        --model models/seeds/RUN/model.keras        # a trained run, on validation faces
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mask_detector import config
from mask_detector.caveats import photo_caveats
from mask_detector.data.split import Split
from mask_detector.data.voc import list_photos
from mask_detector.evaluation.audits import file_sha256
from mask_detector.evaluation.conditions import CONDITIONS, Condition, condition, conditions_table
from mask_detector.evaluation.crops import evaluate_scene_crops
from mask_detector.evaluation.scenes import evaluate_scenes
from mask_detector.imageio import read_image
from mask_detector.pipeline import MaskDetector


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
    crops = evaluate_scene_crops(pipeline.classifier, images, notes, only, change)
    crops.pop("faces")
    return {
        "pipeline": None if classifier_only else evaluate_scenes(images, notes, detect, only=only),
        "crops": crops,
    }


def caveat_counts(root: Path, only: list[str] | None, conditions: list[Condition]) -> None:
    """How many photos of the set `caveats.photo_caveats` flags, as they are and under each
    condition: the thresholds should flag few of the first and most of grey and dark."""
    photos, _ = list_photos(root / "images", root / "annotations", only)
    counts = {c.name: Counter[str]() for c in conditions}
    for photo in photos:
        image = read_image(photo.image)
        for cond in conditions:
            changed = cond.transform(image) if cond.transform else image
            counts[cond.name].update(photo_caveats(changed))
    print("| condition | photos | flagged: no colour | flagged: dark |\n|---|---|---|---|")
    for name, flagged in counts.items():
        print(f"| {name} | {len(photos)} | {flagged['grey']} | {flagged['dark']} |")


def as_litert(model: Path, tmp: Path) -> Path:
    """The model as LiteRT, what the pipeline runs: a trained run's model.keras is exported
    (needs TensorFlow), the shipped .tflite taken as it is."""
    if model.suffix != ".keras":
        return model
    from mask_detector.training.export import export_tflite

    return export_tflite(model, tmp / "model.tflite")


def run_all(
    pipeline: MaskDetector,
    sets: dict[str, tuple[Path, list[str] | None]],
    chosen: list[Condition],
    classifier_only: bool,
) -> dict[str, dict[str, Any]]:
    """Every set under every chosen condition, each table row printed as it is measured."""
    saved: dict[str, dict[str, Any]] = {}
    warnings.simplefilter("ignore")  # unreadable photos are counted in the reports
    for name, (root, only) in sets.items():
        print(f"\n{name} (YuNet, the photos' small-face path; the classifier alone on the boxes)")
        reports = saved.setdefault(name, {})
        for cond in chosen:
            reports[cond.name] = measure(pipeline, root, only, cond, classifier_only)
            table = conditions_table({cond.name: reports[cond.name]})
            print("\n".join(table if len(reports) == 1 else table[-1:]), flush=True)
    return saved


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
    parser.add_argument("--save", metavar="FILE", help="also write the reports here (JSON)")
    parser.add_argument(
        "--caveats", action="store_true", help="count the photos the app warns about instead"
    )
    args = parser.parse_args()
    chosen = [condition(n) for n in args.conditions] if args.conditions else list(CONDITIONS)
    if args.caveats:
        for name, (root, only) in data_sets(args.sets).items():
            print(f"\n{name}")
            caveat_counts(root, only, chosen)
        return
    model = Path(args.model) if args.model else config.default_model_path()
    with tempfile.TemporaryDirectory() as tmp:  # an exported run lives here while it is used
        pipeline = MaskDetector.load(
            as_litert(model, Path(tmp)),
            config.PHOTO.detector,
            min_face=config.PHOTO.min_face,
            small_faces=True,
        )
        saved = run_all(pipeline, data_sets(args.sets), chosen, args.classifier_only)
    print("\nconditions: " + "; ".join(f"{c.name}: {c.description}" for c in chosen))
    if args.save:
        record = {"model": model.name, "model_sha256": file_sha256(model), "sets": saved}
        Path(args.save).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
