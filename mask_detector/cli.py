"""`python -m mask_detector COMMAND`: predict, evaluate, evaluate-scenes, split, train, ship,
benchmark. User errors print one line on stderr and exit 1; usage errors exit 2."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import config
from .errors import MaskDetectorError

if TYPE_CHECKING:
    from .pipeline import MaskDetector

Handler = Callable[[argparse.Namespace], int]


def _add_model_options(p: argparse.ArgumentParser, detector: bool = True) -> None:
    p.add_argument(
        "--model",
        help=f"LiteRT model file (default: models/{config.TFLITE_MODEL_NAME}"
        f" or ${config.ENV_MODEL})",
    )
    if detector:
        p.add_argument(
            "--detector",
            choices=("haar", "yunet"),
            default="haar",
            help="face detector (default: haar)",
        )
        p.add_argument(
            "--yunet-model",
            metavar="PATH",
            help=f"YuNet ONNX file (default: ${config.ENV_YUNET} or ../shared/weights)",
        )


def _load_pipeline(args: argparse.Namespace, min_confidence: float = 0.0) -> MaskDetector:
    """The pipeline the options ask for; asking for YuNet by name may fetch its file once."""
    from .pipeline import MaskDetector

    return MaskDetector.load(
        args.model,
        args.detector,
        args.yunet_model,
        min_confidence,
        download=args.detector == "yunet" and not args.yunet_model,
    )


def _iter_inputs(paths: Sequence[str]) -> Iterator[Path]:
    """Files as given; folders expanded to their files, recursively, in sorted order.

    A folder with no files is yielded itself, so the caller can say so.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            yield from files or [path]
        else:
            yield path


def _output_name(folder: Path, source: Path, written: set[Path]) -> Path:
    """`<stem>_annotated.png`, numbered when two inputs share a stem (a.jpg and a.png)."""
    name = folder / f"{source.stem}_annotated.png"
    n = 1
    while name in written:
        n += 1
        name = folder / f"{source.stem}_annotated_{n}.png"
    written.add(name)
    return name


def cmd_predict(args: argparse.Namespace) -> int:
    import cv2

    from .imageio import read_image

    md = _load_pipeline(args, args.min_confidence)
    failed = 0
    results: list[dict[str, Any]] = []
    written: set[Path] = set()
    if args.out:
        if Path(args.out).exists() and not Path(args.out).is_dir():
            print(f"error: --out {args.out} is a file; give a folder", file=sys.stderr)
            return 1
        Path(args.out).mkdir(parents=True, exist_ok=True)
    for path in _iter_inputs(args.paths):
        if path.is_dir():
            print(
                f"error: {path}: the folder holds no files; give image files or folders of them",
                file=sys.stderr,
            )
            failed += 1
            continue
        try:
            image = read_image(path)
        except MaskDetectorError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        faces = md.detect(image)
        results.append({"file": str(path), "faces": [f.to_dict() for f in faces]})
        if not args.json:
            if not faces:
                print(f"{path}: no face found")
            for f in faces:
                x, y, w, h = f.box
                print(f"{path}: box={x},{y},{w},{h} {f.label} {f.confidence:.3f}")
        if args.out:
            cv2.imwrite(str(_output_name(Path(args.out), path, written)), md.annotate(image, faces))
    if args.json:
        print(json.dumps(results, indent=1))
    return 1 if failed else 0


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    from .evaluation.by_size import by_size_table
    from .evaluation.metrics import confusion_rates, summary_line

    if as_json:
        print(json.dumps(report, indent=1))
        return
    print(summary_line(report))
    print("confusion matrix (rows true, columns predicted; counts | share of the true class):")
    rates = confusion_rates(report["confusion_matrix"])
    for name, row, rate in zip(report["labels"], report["confusion_matrix"], rates, strict=True):
        shares = " ".join(f"{v:6.1%}" for v in rate)
        print(f"  {name:>21}: {' '.join(f'{v:5d}' for v in row)} | {shares}")
    if report.get("roc_auc") is not None:
        print(f"ROC AUC {report['roc_auc']:.4f} ({report['labels'][0]} against the others)")
    if report.get("by_size"):
        print("by face size (longer side, px):")
        print(by_size_table(report["by_size"]))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .classifier import MaskClassifier
    from .data.dataset import find_class_dirs
    from .data.split import Split
    from .evaluation.classify import evaluate_folder
    from .evaluation.metrics import plot_confusion_matrix
    from .progress import progress_printer

    split = Split.load(args.split) if args.split else None
    find_class_dirs(args.data_dir)  # a wrong layout is reported before the model is loaded
    report = evaluate_folder(
        MaskClassifier(args.model), args.data_dir, split, args.part, progress_printer("evaluating")
    )
    for skipped in report["skipped"]:
        print(f"warning: skipped {skipped['error']}", file=sys.stderr)
    if not args.files:
        report.pop("files")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "evaluation.json").write_text(json.dumps(report, indent=1) + "\n")
        png = plot_confusion_matrix(report, out / "confusion_matrix.png")
        print(f"wrote {png}", file=sys.stderr)
    _print_report(report, args.json)
    return 0


def cmd_evaluate_scenes(args: argparse.Namespace) -> int:
    from .data.split import Split
    from .evaluation.by_size import by_size_table
    from .evaluation.crops import evaluate_scene_crops
    from .evaluation.scenes import evaluate_scenes
    from .progress import progress_printer

    only = None
    if args.split:
        split = Split.load(args.split)
        only = [Path(xml).name for _, xml in split.photos[args.part]]
        if not only:
            raise MaskDetectorError(f"{args.split} holds no scene photos in its {args.part} part")
    md = _load_pipeline(args)
    report = evaluate_scenes(
        args.images_dir,
        args.annotations_dir,
        md.detect,
        progress=progress_printer("scenes"),
        only=only,
    )
    if report["images"] == 0:
        raise MaskDetectorError(
            f"no annotated photo of {args.annotations_dir} could be evaluated"
            + (f" (none is in the {args.part} part of {args.split})" if only else "")
        )
    report["detector"] = args.detector
    report["split_part"] = f"{args.split}:{args.part}" if args.split else None
    # The classifier alone on the annotated boxes: tells label errors from missed faces.
    report["crop_classification"] = evaluate_scene_crops(
        md.classifier, args.images_dir, args.annotations_dir, only
    )
    if args.save:
        path = Path(args.save)
        saved = json.loads(path.read_text()) if path.is_file() else {}
        saved[args.detector] = report
        path.write_text(json.dumps(saved, indent=1) + "\n")
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    per_class = ", ".join(
        f"{k} {v:.1%}" for k, v in report["recall_per_class"].items() if v is not None
    )
    print(
        f"{args.detector}: {report['found']}/{report['faces']} faces found "
        f"(recall {report['recall']:.1%}; {per_class}); precision {report['precision']:.1%}"
    )
    if report.get("label_accuracy") is not None:
        per_label = ", ".join(
            f"{k} {v:.1%} of {report['found_per_class'][k]}"
            for k, v in report["label_accuracy_per_class"].items()
            if v is not None
        )
        print(
            f"label accuracy on found faces: {report['label_accuracy']:.1%} ({per_label}); "
            f"with_mask / without_mask only: {report['label_accuracy_two_labels']:.1%}"
        )
        print("found faces by size (longer side of the annotated box, px):")
        print(by_size_table(report["by_size"]))
    print("classifier on annotated face crops:")
    _print_report(report["crop_classification"], as_json=False)
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    from .data.split import make_split
    from .progress import progress_printer

    scenes = args.scenes
    if scenes is None and (config.scene_training_dir() / "annotations").is_dir():
        scenes = config.scene_training_dir()
    held_out = args.held_out
    if held_out is None:
        held_out = [config.scenes_dir()] if config.scenes_dir().is_dir() else []
    split, report = make_split(
        args.data_dir or config.training_data_dir(),
        seed=args.seed,
        threshold=args.threshold,
        progress=progress_printer("hashing"),
        scenes=None if args.no_scenes else scenes,
        held_out=held_out,
    )
    for path, error in report.skipped:
        print(f"warning: skipped {path}: {error}", file=sys.stderr)
    split.save(args.out)
    print(f"{split.groups} near-duplicate groups of close-ups; sizes {split.sizes()}")
    if any(split.photos.values()):
        print(f"scene photos {split.scene_sizes()}; excluded {len(split.excluded)}")
    print(f"wrote {args.out}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .data.split import Split, source_path
    from .training.scenario import load_scenario, scenario_names
    from .training.train import train_scenario

    split = Split.load(args.split)
    closeups = split.sources.get("closeups")
    data_dir = args.data_dir or (
        source_path(closeups) if isinstance(closeups, str) else config.training_data_dir()
    )
    names = scenario_names() if args.scenario == "all" else [args.scenario]
    for name in names:
        scenario = load_scenario(name)
        if args.epochs:
            scenario = scenario.shrunk(args.epochs, args.views or scenario.views)
        print(f"== scenario {scenario.name}: {scenario.description}", flush=True)
        train_scenario(
            data_dir,
            split,
            scenario,
            args.backbone_weights,
            args.runs_dir,
            args.limit,
            log=lambda m: print(m, flush=True),
            scenes_dir=args.scenes,
            yunet_model=args.yunet_model,
        )
    return 0


def cmd_ship(args: argparse.Namespace) -> int:
    from .training.card import write_model_card
    from .training.ship import ship_best

    best = ship_best(Path(args.runs_dir), Path(args.out))
    print(f"shipped scenario {best}; wrote {write_model_card(Path(args.out))}")
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    from .training.card import write_model_card

    print(f"wrote {write_model_card(Path(args.models_dir))}")
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    from .benchmark import run_benchmark

    return run_benchmark(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mask_detector", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("predict", help="find and label faces in images or folders")
    p.add_argument("paths", nargs="+", metavar="PATH")
    _add_model_options(p)
    p.add_argument("--min-confidence", type=float, default=0.0)
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--out", metavar="DIR", help="also write annotated images here")
    p.set_defaults(handler=cmd_predict)

    p = sub.add_parser("evaluate", help="classify each image of a folder-per-class set as a face")
    p.add_argument("data_dir", metavar="DATA_DIR")
    _add_model_options(p, detector=False)
    p.add_argument("--split", metavar="MANIFEST", help="evaluate one part of a saved split")
    p.add_argument("--part", choices=("train", "val", "test"), default="test")
    p.add_argument("--json", action="store_true")
    p.add_argument("--files", action="store_true", help="include per-file results in the JSON")
    p.add_argument("--out", metavar="DIR", help="write evaluation.json and confusion_matrix.png")
    p.set_defaults(handler=cmd_evaluate)

    p = sub.add_parser("evaluate-scenes", help="detector recall and labels on VOC scene photos")
    p.add_argument("images_dir", metavar="IMAGES_DIR")
    p.add_argument("annotations_dir", metavar="ANNOTATIONS_DIR")
    _add_model_options(p)
    p.add_argument(
        "--split", metavar="MANIFEST", help="evaluate only the scene photos of one part of a split"
    )
    p.add_argument("--part", choices=("train", "val", "test"), default="test")
    p.add_argument("--json", action="store_true")
    p.add_argument("--save", metavar="JSON", help="add this report to a file, keyed by detector")
    p.set_defaults(handler=cmd_evaluate_scenes)

    p = sub.add_parser("split", help="group near-duplicates and write a leak-free split manifest")
    p.add_argument(
        "data_dir",
        metavar="DATA_DIR",
        nargs="?",
        help="close-up images, a folder per class (default: ../shared/datasets/face-mask)",
    )
    p.add_argument(
        "--scenes",
        metavar="DIR",
        help="scene photos to split by photo, DIR/images + DIR/annotations "
        "(default: ../shared/datasets/scenes-ilc when present)",
    )
    p.add_argument(
        "--held-out",
        metavar="DIR",
        nargs="*",
        help="photo sets never to train on: their near-duplicates are excluded "
        "(default: ../shared/datasets/scenes-dev when present)",
    )
    p.add_argument("--no-scenes", action="store_true", help="split the close-ups only")
    p.add_argument("--out", default=str(config.MODELS_DIR / "split.json"))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threshold", type=int, default=10, help="max differing hash bits (of 64)")
    p.set_defaults(handler=cmd_split)

    p = sub.add_parser("train", help="train a scenario (or all) on a saved split")
    p.add_argument(
        "data_dir",
        metavar="DATA_DIR",
        nargs="?",
        help="the close-up images (default: the split's source, ../shared/datasets/face-mask)",
    )
    p.add_argument("--scenes", metavar="DIR", help="the scene photos (default: the split's source)")
    p.add_argument("--yunet-model", metavar="PATH", help="YuNet ONNX file for yunet_faces")
    p.add_argument("--scenario", required=True, help="a scenario name, a JSON path, or 'all'")
    p.add_argument("--split", default=str(config.MODELS_DIR / "split.json"))
    p.add_argument(
        "--backbone-weights",
        metavar="PATH",
        help=f"ImageNet MobileNetV2 .h5 (default: ${config.ENV_BACKBONE}, ../shared, "
        "else download)",
    )
    p.add_argument("--runs-dir", default=str(config.MODELS_DIR / "scenarios"))
    p.add_argument("--limit", type=int, help="use only N images per part (smoke runs)")
    p.add_argument("--epochs", type=int, help="cap epochs per phase (smoke runs)")
    p.add_argument("--views", type=int, help="cap augmented views per image (smoke runs)")
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("ship", help="pick the best scenario on validation, export it to models/")
    p.add_argument("--runs-dir", default=str(config.MODELS_DIR / "scenarios"))
    p.add_argument("--out", default=str(config.MODELS_DIR))
    p.set_defaults(handler=cmd_ship)

    p = sub.add_parser("card", help="write models/MODEL_CARD.md from the metrics files")
    p.add_argument("--models-dir", default=str(config.MODELS_DIR))
    p.set_defaults(handler=cmd_card)

    p = sub.add_parser("benchmark", help="per-frame latency, cold start and memory")
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--yunet-model", metavar="PATH")
    p.add_argument("--keras-model", help="Keras model for the naive baseline")
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_benchmark)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except MaskDetectorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # an output folder that cannot be made, a file that cannot be written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
