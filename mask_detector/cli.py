"""`python -m mask_detector COMMAND`: predict, video, evaluate, evaluate-scenes, split, train,
ship, benchmark. User errors print one line on stderr and exit 1; usage errors exit 2.
`predict` and `video` run on an engine of mask_detector.batch (local, or Ray)."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import config
from .batch import ENGINES
from .errors import MaskDetectorError

if TYPE_CHECKING:
    from .batch.output import Sink
    from .batch.work import Record
    from .pipeline import MaskDetector

Handler = Callable[[argparse.Namespace], int]


def _add_model_options(p: argparse.ArgumentParser, face_detector: bool = True) -> None:
    p.add_argument(
        "--model",
        help=f"LiteRT model file (default: models/{config.TFLITE_MODEL_NAME}"
        f" or ${config.ENV_MODEL})",
    )
    if face_detector:
        photo = config.PHOTO
        p.add_argument(
            "--detector",
            dest="detector_name",
            choices=("haar", "yunet"),
            default=photo.detector,
            help=f"face detector (default: {photo.detector})",
        )
        p.add_argument(
            "--yunet-model",
            metavar="PATH",
            help=f"YuNet ONNX file (default: models/{config.YUNET_FILE} or ${config.ENV_YUNET})",
        )
        p.add_argument(
            "--min-face",
            type=int,
            metavar="PX",
            default=photo.min_face,
            help="smallest face to find: the longer side of its box, in pixels of the photo "
            f"(default: {photo.min_face})",
        )
        p.add_argument(
            "--small-faces",
            action=argparse.BooleanOptionalAction,
            default=photo.small_faces,
            help="YuNet searches each photo at the scales its size and --min-face call for "
            "(enlarged when small); --no-small-faces: the live camera's faster path. Haar has "
            "one path",
        )
        p.add_argument(
            "--min-judged-face",
            type=int,
            metavar="PX",
            default=config.MIN_JUDGED_FACE,
            help=f"smaller faces are reported as {config.TOO_SMALL}, without a mask label "
            f"(default: {config.MIN_JUDGED_FACE}; 0 labels every face)",
        )


def _setting_name(pipeline: MaskDetector) -> str:
    """How reports name a detector setting: "yunet", "yunet (live path)", "haar" (one path)."""
    from .detectors import SMALL_FACE_PATHS

    name = pipeline.detector.name
    live = name in SMALL_FACE_PATHS and not pipeline.detector.small_faces
    return name + (" (live path)" if live else "")


def _add_batch_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("many files: engine and output")
    g.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: in this process (default); ray: a pool of workers on Ray, on a local "
        "runtime or the cluster at --address (needs requirements-ray.txt)",
    )
    g.add_argument(
        "--address",
        help="the Ray cluster to run on (host:port, or 'auto' for the one this machine joined); "
        "default: a local Ray runtime started for the run",
    )
    g.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="Ray workers, one CPU each (default: every CPU of the cluster)",
    )
    g.add_argument(
        "--output",
        metavar="FILE",
        help="write the results to FILE.jsonl (JSON lines) or FILE.parquet as they come, "
        "instead of printing them",
    )


def _check_batch_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors (exit 2) in the engine and output options."""
    if args.engine != "ray" and (args.address or args.workers):
        parser.error("--address and --workers are options of --engine ray")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.output and args.json:
        parser.error("--output writes the results to a file; leave out --json")
    one_here = args.command == "video" and not _many(args.paths) and args.engine == "local"
    if args.command == "video" and args.frames_jsonl and not one_here:
        parser.error("--frames-jsonl works for one video file with the local engine")


def _pipeline_settings(args: argparse.Namespace, min_confidence: float = 0.0) -> dict[str, Any]:
    """MaskDetector.load's arguments from the options: what every engine's workers load.
    Asking for YuNet by name may fetch its file once."""
    return {
        "model": args.model,
        "detector_name": args.detector_name,
        "yunet_model": args.yunet_model,
        "min_confidence": min_confidence,
        "download": args.detector_name == "yunet" and not args.yunet_model,
        "min_face": args.min_face,
        "small_faces": args.small_faces,
        "min_judged_face": args.min_judged_face,
    }


def predict_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings `predict`'s workers get (PhotoWorker's arguments), on any engine; the
    throughput benchmark runs the engines with these, so it measures what `predict` runs."""
    return {"pipeline": _pipeline_settings(args, args.min_confidence), "blur": args.blur}


def _pipeline_for(args: argparse.Namespace, min_confidence: float = 0.0) -> MaskDetector:
    """The pipeline the options ask for."""
    from .pipeline import MaskDetector

    return MaskDetector.load(**_pipeline_settings(args, min_confidence))


def _sink(args: argparse.Namespace, what: str, lines: Callable[[Record], list[str]]) -> Sink:
    """Where a batch command's records go: --output, else JSON or text on stdout. `video` on
    one file prints its one JSON object, as it always did; on several, a list."""
    from .batch.output import JsonSink, TextSink, open_output

    if args.output:
        return open_output(args.output, what)
    if args.json:
        single = args.command == "video" and not _many(args.paths)
        return JsonSink(sys.stdout, single=single)
    return TextSink(sys.stdout, lines)


def _many(paths: Sequence[str]) -> bool:
    """Several inputs, or a folder of them."""
    return len(paths) > 1 or Path(paths[0]).is_dir()


def _out_folder(out: str) -> None:
    """Make the folder for annotated copies; MaskDetectorError when `out` is a file."""
    if Path(out).exists() and not Path(out).is_dir():
        raise MaskDetectorError(f"--out {out} is a file; give a folder")
    Path(out).mkdir(parents=True, exist_ok=True)


#: Seconds of work after which progress shows on stderr: short runs stay quiet.
PROGRESS_AFTER_S = 2.0


def cmd_predict(args: argparse.Namespace) -> int:
    from .batch.inputs import make_jobs
    from .batch.output import photo_lines
    from .batch.runner import make_engine, run_batch
    from .batch.work import PhotoWorker
    from .progress import after, progress_printer

    if args.out:
        _out_folder(args.out)
    jobs = make_jobs(args.paths, args.out)
    failed = run_batch(
        make_engine(args.engine, args.address, args.workers),
        PhotoWorker,
        predict_settings(args),
        jobs,
        _sink(args, PhotoWorker.what, photo_lines),
        after(PROGRESS_AFTER_S, progress_printer(PhotoWorker.what)),
    )
    if args.output:
        print(f"wrote {args.output}", file=sys.stderr)
    return 1 if failed else 0


def cmd_video(args: argparse.Namespace) -> int:
    from .batch.inputs import make_jobs
    from .batch.output import video_lines
    from .batch.runner import make_engine, run_batch
    from .batch.work import Job, VideoWorker
    from .progress import after, progress_printer

    many = _many(args.paths)
    if args.out and many:
        _out_folder(args.out)
    elif args.out and Path(args.out).is_dir():
        raise MaskDetectorError(f"--out {args.out} is a folder; give a file name (.mp4)")
    jobs = make_jobs(args.paths, args.out if many else None, ".mp4")
    if args.out and not many:
        jobs = [Job(jobs[0].file, args.out)]
    pipeline = {
        "detector": args.detector_name,
        "model": args.model,
        "yunet_model": args.yunet_model,
        "min_confidence": args.min_confidence,
        "download": args.detector_name == "yunet" and not args.yunet_model,
        "min_face": args.min_face,
        "small_faces": args.small_faces,
        "min_judged_face": args.min_judged_face,
    }
    options: dict[str, Any] = {"blur": args.blur, "max_seconds": args.max_seconds}
    with contextlib.ExitStack() as stack:
        if not many and args.engine == "local":  # one video here: its frames are the progress
            options["progress"] = after(PROGRESS_AFTER_S, progress_printer("frames"))
            if args.frames_jsonl:
                options["on_frame"] = _frame_writer(
                    stack.enter_context(open(args.frames_jsonl, "w"))
                )
        failed = run_batch(
            make_engine(args.engine, args.address, args.workers),
            VideoWorker,
            {"pipeline": pipeline, "options": options},
            jobs,
            _sink(args, VideoWorker.what, video_lines),
            after(PROGRESS_AFTER_S, progress_printer(VideoWorker.what)) if many else None,
        )
    if args.output or (args.out and not many and not failed):
        print(f"wrote {args.output or args.out}", file=sys.stderr)
    return 1 if failed else 0


def _positive_seconds(text: str) -> float:
    """`--max-seconds`: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def _frame_writer(lines: TextIO) -> Callable[[int, float, list], None]:
    """`video --frames-jsonl`: one JSON line per frame, written as the frame is done."""
    from .video import frame_record

    def on_frame(index: int, time_s: float, faces: list) -> None:
        lines.write(json.dumps(frame_record(index, time_s, faces)) + "\n")

    return on_frame


def _print_report(report: dict[str, Any], as_json: bool) -> None:
    from .evaluation.by_size import by_size_table, with_totals
    from .evaluation.figures import confusion_rates, pct
    from .evaluation.metrics import summary_line

    if as_json:
        print(json.dumps(report, indent=1))
        return
    print(summary_line(report))
    print("confusion matrix (rows true, columns predicted; counts | share of the true class):")
    rates = confusion_rates(report["confusion_matrix"])
    for name, row, rate in zip(report["labels"], report["confusion_matrix"], rates, strict=True):
        shares = " ".join(f"{pct(v):>6}" for v in rate)
        print(f"  {name:>21}: {' '.join(f'{v:5d}' for v in row)} | {shares}")
    if report.get("roc_auc") is not None:
        print(f"ROC AUC {report['roc_auc']:.4f} ({report['labels'][0]} against the others)")
    if report.get("by_size"):
        print("by face size (longer side, px; in parentheses, the 95% interval):")
        print(by_size_table(with_totals(report["by_size"])))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .classifier import MaskClassifier
    from .data.dataset import find_class_dirs
    from .data.split import Split
    from .evaluation.classify import evaluate_folder
    from .evaluation.figures import confusion_figure, pct, to_png
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
        png = out / "confusion_matrix.png"
        title = f"accuracy {pct(report['accuracy'], 2)} on {report['n']} images"
        png.write_bytes(to_png(confusion_figure(report, title), dpi=100))
        print(f"wrote {png}", file=sys.stderr)
    _print_report(report, args.json)
    return 0


def cmd_evaluate_scenes(args: argparse.Namespace) -> int:
    from .data.split import Split
    from .evaluation.by_size import (
        by_size_table,
        merge_rows,
        rate_with_interval,
        recall_table,
        two_labels_text,
        with_totals,
    )
    from .evaluation.crops import evaluate_scene_crops
    from .evaluation.figures import pct
    from .evaluation.scenes import evaluate_scenes
    from .progress import progress_printer

    only = None
    if args.split:
        split = Split.load(args.split)
        only = split.annotation_names(args.part)
        if not only:
            raise MaskDetectorError(f"{args.split} holds no scene photos in its {args.part} part")
    pipeline = _pipeline_for(args)
    report = evaluate_scenes(
        args.images_dir,
        args.annotations_dir,
        pipeline.detect,
        progress=progress_printer("scenes"),
        only=only,
    )
    if report["images"] == 0:
        raise MaskDetectorError(
            f"no annotated photo of {args.annotations_dir} could be evaluated"
            + (f" (none is in the {args.part} part of {args.split})" if only else "")
        )
    report["detector"] = args.detector_name
    report["setting"] = {
        "small_faces": pipeline.detector.small_faces,
        "min_face": args.min_face,
        "min_judged_face": args.min_judged_face,
    }
    report["split_part"] = f"{args.split}:{args.part}" if args.split else None
    # The classifier alone on the annotated boxes: tells label errors from missed faces.
    report["crop_classification"] = evaluate_scene_crops(
        pipeline.classifier, args.images_dir, args.annotations_dir, only
    )
    if not args.faces:
        report["crop_classification"].pop("faces")
    if args.save:
        path = Path(args.save)
        saved = json.loads(path.read_text()) if path.is_file() else {}
        saved[_setting_name(pipeline)] = report
        path.write_text(json.dumps(saved, indent=1) + "\n")
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    per_class = ", ".join(
        f"{k} {pct(v)}" for k, v in report["recall_per_class"].items() if v is not None
    )
    print(
        f"{_setting_name(pipeline)}: {report['found']}/{report['faces']} faces found "
        f"(recall {pct(report['recall'])}; {per_class}); precision {pct(report['precision'])}"
    )
    print("faces found by size (longer side of the annotated box, px):")
    print(recall_table(report["recall_by_size"]))
    if report.get("found_and_right") is not None:
        judged = (
            f"{report['too_small']} found faces too small to judge (under "
            f"{args.min_judged_face} px)"
            if args.min_judged_face
            else "every found face judged"
        )
        print(
            f"found and labelled right: {pct(report['found_and_right'])} of the "
            f"with_mask / without_mask faces; {judged}"
        )
    if report.get("label_accuracy") is not None:
        per_label = ", ".join(
            f"{k} {pct(v)} of {report['found_per_class'][k]}"
            for k, v in report["label_accuracy_per_class"].items()
            if v is not None
        )
        found = merge_rows(report["by_size"], "found")
        print(
            f"label accuracy on found faces: {rate_with_interval(found['correct'], found['n'])} "
            f"({per_label}); with_mask / without_mask only: {two_labels_text(found)}"
        )
        print(
            "found faces by size (longer side of the annotated box, px; in parentheses, "
            "the 95% interval):"
        )
        print(by_size_table(with_totals(report["by_size"])))
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
    from .data.split import Split
    from .training.scenario import load_scenario, scenario_names
    from .training.train import train_scenario

    split = Split.load(args.split)
    data_dir = args.data_dir or split.closeup_root()
    names = scenario_names() if args.scenario == "all" else [args.scenario]
    for name in names:
        scenario = load_scenario(name)
        if args.seed is not None:
            scenario = scenario.reseeded(args.seed)
        if args.epochs:
            scenario = scenario.shrunk(args.epochs, args.views or scenario.views)
        print(f"== scenario {scenario.name}: {scenario.description}", flush=True)
        train_scenario(
            data_dir,
            split,
            scenario,
            args.backbone_weights,
            args.runs_dir
            or config.MODELS_DIR
            / (config.RUNS_DIR_NAME if args.seed is None else config.SEEDS_DIR_NAME),
            args.limit,
            log=lambda m: print(m, flush=True),
            scenes_dir=args.scenes,
            yunet_model=args.yunet_model,
        )
    return 0


def cmd_review_labels(args: argparse.Namespace) -> int:
    import tempfile

    from .data.split import Split
    from .training.export import export_tflite
    from .training.review import review_scene_labels, write_doubted
    from .training.scenario import Scenario, load_scenario
    from .training.train import train_scenario

    split = Split.load(args.split)
    data_dir = split.closeup_root()
    scenario = load_scenario(args.scenario)

    def log(message: str) -> None:
        print(message, flush=True)

    with tempfile.TemporaryDirectory() as tmp:

        def train(part: Split, fold: Scenario, runs_dir: Path) -> Path:
            train_scenario(data_dir, part, fold, args.backbone_weights, runs_dir, log=log)
            model = runs_dir / fold.name / config.SCENARIO_MODEL_NAME
            return export_tflite(model, Path(tmp) / f"{fold.name}.tflite")

        doubts = review_scene_labels(split, scenario, train, log)
    write_doubted(doubts, Path(args.out))
    print(f"wrote {len(doubts)} doubted faces to {args.out}")
    return 0


def cmd_ship(args: argparse.Namespace) -> int:
    from .training.card import write_model_card
    from .training.ship import ship_best

    best = ship_best(Path(args.runs_dir), Path(args.out))
    print(f"shipped scenario {best}; wrote {write_model_card(Path(args.out))}")
    return 0


def cmd_spread(args: argparse.Namespace) -> int:
    from .training.runs import read_metrics, run_folders
    from .training.spread import FIGURES, SCENES_DEV_FIGURES, spread_table

    folders = {n: f for run in args.runs for n, f in run_folders(Path(run)).items()}
    runs = {name: read_metrics(folder) for name, folder in folders.items()}
    if not args.scenes_dev:
        print(spread_table(runs))
        return 0
    from .training.ship import model_crop_reports

    scenes = config.scenes_dir()
    print(f"scenes-dev: each run's model on the annotated faces of {scenes}", file=sys.stderr)
    models = {name: folder / config.SCENARIO_MODEL_NAME for name, folder in folders.items()}
    reports = model_crop_reports(models, scenes)
    if not reports:
        raise MaskDetectorError(f"no scenes-dev annotations under {scenes}")
    runs = {name: {**m, "scenes_dev": reports[name]} for name, m in runs.items()}
    print(spread_table(runs, FIGURES | SCENES_DEV_FIGURES))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from .data.split import Split
    from .evaluation.audits import audit_sentence, run_audits

    model = Path(args.model) if args.model else config.default_model_path()
    report = run_audits(
        model,
        Split.load(args.split),
        log=lambda m: print(f"auditing {m}", file=sys.stderr, flush=True),
    )
    out = Path(args.out)
    out.write_text(json.dumps(report, indent=1) + "\n")
    for audit in report["audits"]:
        print(f"- {audit_sentence(audit)}")
    print(f"wrote {out}; `python -m mask_detector card` quotes it", file=sys.stderr)
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
    p.add_argument("--blur", action="store_true", help="blur the faces on annotated images")
    _add_batch_options(p)
    p.set_defaults(handler=cmd_predict, check=functools.partial(_check_batch_options, p))

    p = sub.add_parser("video", help="follow the people in videos: who, with which label, when")
    p.add_argument(
        "paths",
        nargs="+",
        metavar="IN",
        help="video files (mp4, webm, mov, avi, ...) or folders of them",
    )
    p.add_argument(
        "--out",
        metavar="OUT.mp4",
        help="also write the annotated video (H.264 mp4); for several videos, a folder",
    )
    _add_model_options(p)
    p.add_argument("--min-confidence", type=float, default=0.0)
    p.add_argument(
        "--json",
        action="store_true",
        help="print the summary as JSON (one object; a list for several videos)",
    )
    p.add_argument(
        "--frames-jsonl",
        metavar="FILE",
        help="write one JSON line per frame: frame, time_s, faces (id, box, label, confidence)",
    )
    p.add_argument("--blur", action="store_true", help="blur the faces in the annotated video")
    p.add_argument(
        "--max-seconds",
        type=_positive_seconds,
        metavar="S",
        help="only the first S seconds of each video (the summary says truncated)",
    )
    _add_batch_options(p)
    p.set_defaults(handler=cmd_video, check=functools.partial(_check_batch_options, p))

    p = sub.add_parser("evaluate", help="classify each image of a folder-per-class set as a face")
    p.add_argument("data_dir", metavar="DATA_DIR")
    _add_model_options(p, face_detector=False)
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
    p.add_argument(
        "--faces",
        action="store_true",
        help="include each annotated face's answer (photo, box, probabilities) in the JSON",
    )
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
    p.add_argument("--out", default=str(config.MODELS_DIR / config.SPLIT_NAME))
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
    p.add_argument(
        "--scenario",
        required=True,
        help="a scenario name (tried/NAME: one tried and not adopted), a JSON path, or 'all'",
    )
    p.add_argument("--split", default=str(config.MODELS_DIR / config.SPLIT_NAME))
    p.add_argument(
        "--backbone-weights",
        metavar="PATH",
        help=f"ImageNet MobileNetV2 .h5 (default: ${config.ENV_BACKBONE}, ../shared, "
        "else download)",
    )
    p.add_argument(
        "--runs-dir", help="where runs are written (default: models/scenarios, or models/seeds)"
    )
    p.add_argument("--limit", type=int, help="use only N images per part (smoke runs)")
    p.add_argument("--epochs", type=int, help="cap epochs per phase (smoke runs)")
    p.add_argument("--views", type=int, help="cap augmented views per image (smoke runs)")
    p.add_argument(
        "--seed",
        type=int,
        help="train with this random seed instead of the scenario's, as NAME_seedN in "
        "models/seeds/ (by default), where `ship` never chooses between seeds; see `spread`",
    )
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser(
        "review-labels",
        help="list the training scene faces whose label a model that never saw them doubts",
    )
    p.add_argument(
        "--scenario", default="scenes_lowres_ls", help="the recipe each fold's model is trained by"
    )
    p.add_argument("--split", default=str(config.MODELS_DIR / config.SPLIT_NAME))
    p.add_argument("--backbone-weights", metavar="PATH", help="as for train")
    p.add_argument("--out", default=str(config.DOUBTED_FACES_FILE))
    p.set_defaults(handler=cmd_review_labels)

    p = sub.add_parser("ship", help="pick the best scenario on validation, export it to models/")
    p.add_argument("--runs-dir", default=str(config.MODELS_DIR / config.RUNS_DIR_NAME))
    p.add_argument("--out", default=str(config.MODELS_DIR))
    p.set_defaults(handler=cmd_ship)

    p = sub.add_parser(
        "spread", help="the figures of several runs of a recipe (seeds) with mean, sd and range"
    )
    p.add_argument(
        "runs",
        nargs="+",
        metavar="RUN",
        help="a trained run's folder (with metrics.json), or a folder of them",
    )
    p.add_argument(
        "--scenes-dev",
        action="store_true",
        help="also each run's model on the faces of scenes-dev (needs its model.keras)",
    )
    p.set_defaults(handler=cmd_spread)

    p = sub.add_parser(
        "audit", help="the shipped model on the faces of dataset/audits/ -> models/audit.json"
    )
    p.add_argument("--model", help="LiteRT model (default: the shipped one)")
    p.add_argument("--split", default=str(config.MODELS_DIR / config.SPLIT_NAME))
    p.add_argument("--out", default=str(config.MODELS_DIR / config.AUDIT_NAME))
    p.set_defaults(handler=cmd_audit)

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
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "check", None):  # usage errors argparse cannot see: exit 2 with usage
        args.check(args)
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
