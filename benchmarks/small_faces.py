"""Measure the small-face path: detector settings on crowd photos, the classifier by face size,
and the cost of a 640x480 photo. The figures of the README's "Finding small faces".

Not a test: numbers depend on the data in ../shared and on the machine. Settings are chosen on
scenes-dev and the scenes-ilc validation photos; `--parts dev val test` adds the scenes-ilc test
photos, for the final figures only.

    .venv/bin/python benchmarks/small_faces.py settings               # every setting, dev + val
    .venv/bin/python benchmarks/small_faces.py settings yunet haar --parts dev val test
    .venv/bin/python benchmarks/small_faces.py judge                  # -> config.MIN_JUDGED_FACE
    .venv/bin/python benchmarks/small_faces.py judge --edges 10 12 14 16 24 32 48 96
    .venv/bin/python benchmarks/small_faces.py speed                  # 640x480 photos, ms
    .venv/bin/python benchmarks/small_faces.py false-boxes --part val --out /tmp/false.png
    .venv/bin/python benchmarks/small_faces.py frames --parts dev test  # large video frames
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.detectors import training_found_counts
from mask_detector import config
from mask_detector.benchmark import make_frame
from mask_detector.classifier import MaskClassifier
from mask_detector.data.split import Split
from mask_detector.data.voc import list_photos
from mask_detector.detection import Detection, face_size
from mask_detector.detectors import (
    FaceDetector,
    HaarDetector,
    SmallFacePath,
    YuNetDetector,
    ensure_yunet_model,
)
from mask_detector.detectors import yunet as yunet_module
from mask_detector.detectors.base import clip_boxes, resized
from mask_detector.detectors.haar import WINDOW
from mask_detector.evaluation.by_size import SIZE_EDGES, bucket_names, by_size, merge_rows
from mask_detector.evaluation.crops import scene_face_crops
from mask_detector.evaluation.figures import pct
from mask_detector.evaluation.scenes import boxes_only, evaluate_scenes, match_boxes
from mask_detector.imageio import read_image
from mask_detector.pipeline import MaskDetector

Factory = Callable[[], FaceDetector]
#: Accuracy a size bucket needs for its faces to be judged: the goal for faces found and
#: labelled right (issue "Find the small faces").
JUDGE_ACCURACY = 0.75


def _yunet(min_face: int, small: bool, score: float = 0.6, **path: Any) -> Factory:
    model = ensure_yunet_model(download=False)
    face_path = dataclasses.replace(yunet_module.SMALL_FACES, **path)
    return lambda: YuNetDetector(
        model,
        score_threshold=score,
        min_face=min_face,
        small_faces=small,
        small_face_path=face_path,
    )


class EnlargedHaar:
    """Haar on photos enlarged as a SmallFacePath would: what was tried for Haar, not shipped
    (it lost close faces; see HaarDetector). Single-threaded: it sets its cascade's min_face."""

    name = "haar"
    small_faces = True

    def __init__(self, path: SmallFacePath, min_face: int, min_neighbors: int) -> None:
        self.cascade = HaarDetector(min_neighbors=min_neighbors, max_side=10**6)
        self.path = path
        self.min_face = min_face

    def detect(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        scale = self.path.scales(image.shape[0], image.shape[1], self.min_face)[0]
        self.cascade.min_face = max(1, round(self.min_face * scale))  # never scaled down again
        found = self.cascade.detect(resized(image, scale))
        boxes = clip_boxes([tuple(v / scale for v in box) for box in found], image.shape)
        return [box for box in boxes if face_size(box) >= self.min_face]


def _haar(min_face: int, enlarge: float | None = None, min_neighbors: int = 1) -> Factory:
    """Haar as shipped, or (`enlarge`) brought to its 20 px window, enlarged at most so much."""
    if enlarge is None:
        return lambda: HaarDetector(min_face=min_face, min_neighbors=min_neighbors)
    path = SmallFacePath(findable=WINDOW, max_upscale=enlarge, max_pixels=2_000_000)
    return lambda: EnlargedHaar(path, min_face, min_neighbors)


def settings() -> dict[str, tuple[str, Factory]]:
    """Name -> (what it is, how to make it). The first of each detector is its shipped path."""
    inf = math.inf
    return {
        "yunet-live": (
            "YuNet, live path (<= 640 px, never enlarged), min face 12",
            _yunet(12, False),
        ),
        "yunet-live-all": ("YuNet, live path, no size filter", _yunet(1, False)),
        "yunet-2x": (
            "YuNet, photo enlarged 2x, one pass, no size filter",
            _yunet(1, True, findable=2, max_pixels=10**9, largest=inf),
        ),
        "yunet": ("YuNet, small-face path (the default for photos), min face 10", _yunet(10, True)),
        "yunet-s0.55": ("small-face path, score 0.55", _yunet(10, True, score=0.55)),
        "yunet-s0.65": ("small-face path, score 0.65", _yunet(10, True, score=0.65)),
        "yunet-up1.5": (
            "small-face path, enlarged at most 1.5x",
            _yunet(10, True, max_upscale=1.5),
        ),
        "yunet-up2.5": (
            "small-face path, enlarged at most 2.5x",
            _yunet(10, True, max_upscale=2.5),
        ),
        "yunet-min0": ("small-face path, no size filter", _yunet(1, True)),
        "yunet-min16": ("small-face path, min face 16", _yunet(16, True)),
        "yunet-1pass": (
            "small-face path without the pass for large faces",
            _yunet(10, True, largest=inf),
        ),
        "yunet-1MP": ("small-face path, at most 1 MP searched", _yunet(10, True, max_pixels=10**6)),
        "haar": ("Haar as shipped (<= 360 px, never enlarged), min face 12", _haar(12)),
        "haar-1x": ("Haar, photo as is (never scaled down)", _haar(10, 1.0)),
        "haar-1.5x-mn2": ("Haar, enlarged <= 1.5x, 2 neighbours", _haar(10, 1.5, 2)),
        "haar-1.5x-mn1": ("Haar, enlarged <= 1.5x, 1 neighbour", _haar(10, 1.5, 1)),
        "haar-2x-mn3": ("Haar, enlarged <= 2x, 3 neighbours", _haar(10, 2.0, 3)),
    }


def parts(names: Sequence[str]) -> dict[str, tuple[Path, Path, list[str] | None]]:
    """Name -> (images, annotations, only these annotation files or all)."""
    out: dict[str, tuple[Path, Path, list[str] | None]] = {}
    split = None
    for name in names:
        if name == "dev":
            out[name] = (config.scenes_dir() / "images", config.scenes_dir() / "annotations", None)
            continue
        split = split or Split.load(config.MODELS_DIR / config.SPLIT_NAME)
        root = config.scene_training_dir()
        only = [Path(xml).name for _, xml in split.photos[name]]
        out[f"ilc-{name}"] = (root / "images", root / "annotations", only)
    return out


def closeup_found_rate(detect: Callable[[np.ndarray], list], per_class: int = 150) -> float:
    """Share of close-up training photos (a sample of each class) where a face is found: a
    setting for crowds must not lose the one large face of a portrait."""
    counts = training_found_counts(detect, per_class).values()
    seen = sum(n for _, n in counts)
    return sum(hits for hits, _ in counts) / seen if seen else math.nan


def cmd_settings(args: argparse.Namespace) -> None:
    table = settings()
    names = args.names or list(table)
    sets = parts(args.parts)
    header = "| setting | " + " | ".join(f"{p} recall / precision" for p in sets)
    header += " | close-ups found | ms per photo |"
    rows, by = [header, "|---" * (len(sets) + 3) + "|"], []
    for name in names:
        what, factory = table[name]
        detector = factory()
        cells, ms, sizes, found = [], [], [], []
        for part, (images, notes, only) in sets.items():
            report = evaluate_scenes(images, notes, boxes_only(detector.detect), only=only)
            cells.append(f"{report['recall']:.3f} / {report['precision']:.3f}")
            ms.append(f"{part} {report['ms_per_image']:.0f}")
            if part != "ilc-test":
                sizes.append(report["recall_by_size"])
            print(f"  {name} {part}: {cells[-1]}", file=sys.stderr, flush=True)
        closeups = closeup_found_rate(detector.detect) if args.closeups else math.nan
        rows.append(
            f"| {name}: {what} | " + " | ".join(cells) + f" | {pct(closeups)} | {', '.join(ms)} |"
        )
        for bucket in range(len(SIZE_EDGES) + 1):
            faces = sum(s[bucket]["faces"] for s in sizes)
            hit = sum(s[bucket]["found"] for s in sizes)
            found.append(f"{pct(hit / faces if faces else None)} of {faces}")
        by.append(f"| {name} | " + " | ".join(found) + " |")
    print("\n".join(rows))
    print(
        "\nrecall by face size (longer side, px), " + " + ".join(p for p in sets if p != "ilc-test")
    )
    print("| setting | " + " | ".join(bucket_names()) + " |")
    print("|---" * (len(SIZE_EDGES) + 2) + "|")
    print("\n".join(by))


def cmd_judge(args: argparse.Namespace) -> None:
    """The classifier alone on annotated with/without-mask faces, by size; the threshold."""
    classifier = MaskClassifier(args.model)
    truth: list[int] = []
    given: list[int] = []
    sizes: list[int] = []
    for images, notes, only in parts(args.parts).values():
        faces = scene_face_crops(images, notes, only)
        keep = [i for i, label in enumerate(faces.labels) if label < 2]  # with / without mask
        crops = [faces.crops[i] for i in keep]
        for start in range(0, len(crops), 32):
            probs = classifier.classify(crops[start : start + 32])
            given += probs.argmax(axis=1).tolist()
        truth += [faces.labels[i] for i in keep]
        sizes += [faces.sizes[i] for i in keep]
    edges = args.edges or SIZE_EDGES
    rows = by_size(truth, given, sizes, edges)
    print(
        f"classifier on {len(truth)} annotated with/without-mask faces of {', '.join(args.parts)}"
    )
    print("| face px | faces | accuracy | always 'Mask' | without_mask recall |")
    print("|---|---|---|---|---|")
    judged_from: float = 0
    for k, r in enumerate(rows):
        majority = r["support"]["with_mask"] / r["n"] if r["n"] else None
        print(
            f"| {r['bucket']} | {r['n']} | {pct(r['accuracy'])} | {pct(majority)} | "
            f"{pct(r['recall']['without_mask'])} |"
        )
        if r["accuracy"] is not None and r["accuracy"] < JUDGE_ACCURACY:
            judged_from = edges[k] if k < len(edges) else math.inf
    lower = [r for r in rows if (r["max_px"] or math.inf) <= judged_from]
    below = "no face below it"
    if lower:
        merged = merge_rows(lower, "below")
        below = f"{merged['n']} faces below it, {pct(merged['accuracy'])} right"
    print(
        f"\nevery bucket from {judged_from} px on is at least {pct(JUDGE_ACCURACY)} right "
        f"-> MIN_JUDGED_FACE = {judged_from} (config: {config.MIN_JUDGED_FACE}); {below}"
    )


def _timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(1000 * (time.perf_counter() - start))
    return statistics.median(samples), float(np.percentile(samples, 90))


def cmd_speed(args: argparse.Namespace) -> None:
    """The whole pipeline (detect, classify, draw) per setting, median / p90 ms: a 640x480 photo
    (the benchmark's frame with three faces; crowd photos of scenes-dev scaled to 640x480) and
    a 1280x720 video frame (the three faces, scaled; the largest frame the video page keeps)."""
    classifier = MaskClassifier(args.model)
    photos = []
    images = config.scenes_dir() / "images"
    if images.is_dir():
        for path in sorted(images.iterdir())[: args.photos]:
            photos.append(cv2.resize(read_image(path), (640, 480), interpolation=cv2.INTER_LINEAR))
    table = settings()
    print(
        "| setting | 640x480, 3 faces: detect ms | pipeline ms | crowd photos 640x480: faces | "
        "detect ms | pipeline ms | 1280x720 frame: pipeline ms |"
    )
    print("|---|---|---|---|---|---|---|")
    frame = make_frame(3)
    video_frame = cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_LINEAR)
    for name in args.names or ["yunet-live", "yunet", "haar"]:
        detector = table[name][1]()
        pipeline = MaskDetector(detector, classifier)
        detect = _timed(partial(detector.detect, frame), args.runs)
        whole = _timed(partial(pipeline.process, frame), args.runs)
        cells = [f"{detect[0]:.1f}", f"{whole[0]:.1f} / {whole[1]:.1f}"]
        if photos:
            runs = max(3, args.runs // 10)
            faces = statistics.median(len(pipeline.detect(p)) for p in photos)
            d = [_timed(partial(detector.detect, p), runs)[0] for p in photos]
            w = [_timed(partial(pipeline.process, p), runs) for p in photos]
            median, p90 = statistics.median(x[0] for x in w), statistics.median(x[1] for x in w)
            cells += [f"{faces:.0f}", f"{statistics.median(d):.1f}", f"{median:.1f} / {p90:.1f}"]
        else:
            cells += ["", "", ""]
        video = _timed(partial(pipeline.process, video_frame), max(3, args.runs // 5))
        cells.append(f"{video[0]:.1f} / {video[1]:.1f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


#: A 1920x1080 frame's share of its pixels that the small-face path searches (its 2 MP cap).
FULL_HD_SEARCH = yunet_module.SMALL_FACES.max_pixels / (1920 * 1080)


@lru_cache(maxsize=16)
def _video_detector(model: Path, height: int, width: int) -> YuNetDetector:
    """The video path for a decoded frame of this size: searched at the size a 1920x1080 frame
    is (the cap binds for it either way). One per size, since each loads its own network."""
    path = dataclasses.replace(
        yunet_module.SMALL_FACES,
        max_pixels=int(FULL_HD_SEARCH * height * width),
        max_upscale=math.inf,
    )
    return YuNetDetector(
        model, min_face=config.PHOTO.min_face, small_faces=True, small_face_path=path
    )


def _as_video_frame(
    classifier: MaskClassifier, model: Path, shrink: float, image: np.ndarray
) -> list[Detection]:
    """The video path on `image` as a decoded frame, shrunk by `shrink` first or not; boxes in
    `image`'s pixels."""
    detector = _video_detector(model, *image.shape[:2])
    found = []
    for face in MaskDetector(detector, classifier).detect(resized(image, shrink)):
        x, y, w, h = (round(v / shrink) for v in face.box)
        found.append(dataclasses.replace(face, box=(x, y, w, h)))
    return found


def cmd_frames(args: argparse.Namespace) -> None:
    """Video frames larger than the annotated output (1920x1080 -> 1280x720): faces found and
    judged on the frame as decoded, against the frame shrunk to the output size first. Each scene
    photo stands for a decoded frame; both are searched at the same size, so the difference is
    the detail of the pixels and `min_face` counting in the frame the detector is given."""
    classifier = MaskClassifier(args.model)
    model = ensure_yunet_model(download=False)
    print("| photos | frame | found | precision | labelled right | found and labelled right | ms |")
    print("|---|---|---|---|---|---|---|")
    for part, (images, notes, only) in parts(args.parts).items():
        for how, shrink in (("as decoded", 1.0), (f"shrunk {args.shrink}x", 1 / args.shrink)):
            detect = partial(_as_video_frame, classifier, model, shrink)
            report = evaluate_scenes(images, notes, detect, only=only)
            print(
                f"| {part} | {how} | {report['found']} of {report['faces']} | "
                f"{pct(report['precision'])} | {pct(report['label_accuracy'])} | "
                f"{pct(report['found_and_right'])} | {report['ms_per_image']:.0f} |",
                flush=True,
            )
    detector = YuNetDetector(model, min_face=config.PHOTO.min_face, small_faces=True)
    pipeline = MaskDetector(detector, classifier)
    frame = cv2.resize(make_frame(3), (1920, 1080), interpolation=cv2.INTER_LINEAR)
    decoded = _timed(partial(pipeline.process, frame), args.runs)
    shrunk = _timed(lambda: pipeline.process(resized(frame, 2 / 3)), args.runs)
    print(
        f"\n1920x1080 frame, 3 faces, the whole pipeline (median / p90 ms): as decoded "
        f"{decoded[0]:.1f} / {decoded[1]:.1f}, shrunk to 1280x720 first {shrunk[0]:.1f} / "
        f"{shrunk[1]:.1f}"
    )


def context_tile(image: np.ndarray, box: Sequence[float], side: int = 96) -> np.ndarray:
    """The box with half its size of context on each side, the box drawn, at `side` px."""
    x, y, w, h = (int(v) for v in box)
    pad = max(w, h) // 2
    x0, y0 = max(0, x - pad), max(0, y - pad)
    tile = image[y0 : y + h + pad, x0 : x + w + pad].copy()
    cv2.rectangle(tile, (x - x0, y - y0), (x - x0 + w, y - y0 + h), (0, 255, 255), 1)
    return cv2.resize(tile, (side, side))


def cmd_false_boxes(args: argparse.Namespace) -> None:
    """Boxes a setting finds that match no annotated face, by size, and a grid of a sample of
    them to look at: an unannotated face counted false lowers precision without a detector
    error (crowd photos are rarely annotated to the last face in the background)."""
    detector = settings()[args.setting][1]()
    ((images, notes, only),) = parts([args.part]).values()
    tiles, sizes, found = [], [], 0
    for photo in list_photos(images, notes, only=only)[0]:
        image = read_image(photo.image)
        boxes = detector.detect(image)
        found += len(boxes)
        matched = {i for i, _ in match_boxes(boxes, [box for _, box in photo.faces])}
        for i, box in enumerate(boxes):
            if i not in matched:
                sizes.append(face_size(box))
                tiles.append(context_tile(image, box))
    print(f"{args.setting} on {args.part}: {found} boxes, {len(tiles)} match no annotated face")
    counts = np.histogram(sizes, [0, *SIZE_EDGES, 10**6])[0]
    print("by size: " + ", ".join(f"{b} {n}" for b, n in zip(bucket_names(), counts, strict=True)))
    sample = random.Random(args.seed).sample(tiles, min(args.sample, len(tiles)) // 10 * 10)
    if sample:
        grid = np.vstack([np.hstack(sample[r : r + 10]) for r in range(0, len(sample), 10)])
        cv2.imwrite(str(args.out), grid)
        print(f"{len(sample)} of them, 10 a row: {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="LiteRT classifier (default: the shipped one)")
    parser.add_argument("--threads", type=int, default=2, help="cv2.setNumThreads")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("settings", help="recall and precision per detector setting")
    p.add_argument("names", nargs="*", help=f"settings (default: all of {', '.join(settings())})")
    p.add_argument("--parts", nargs="+", default=["dev", "val"], choices=("dev", "val", "test"))
    p.add_argument("--no-closeups", dest="closeups", action="store_false")
    p.set_defaults(handler=cmd_settings)
    p = sub.add_parser("judge", help="classifier accuracy by face size -> MIN_JUDGED_FACE")
    p.add_argument("--parts", nargs="+", default=["dev", "val"], choices=("dev", "val", "test"))
    p.add_argument(
        "--edges", nargs="+", type=int, help="size buckets, px (default: the by-size buckets)"
    )
    p.set_defaults(handler=cmd_judge)
    p = sub.add_parser("speed", help="ms per 640x480 photo, per setting")
    p.add_argument("names", nargs="*")
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--photos", type=int, default=20, help="scenes-dev photos timed")
    p.set_defaults(handler=cmd_speed)
    p = sub.add_parser("false-boxes", help="boxes matching no annotated face: sizes, a grid")
    p.add_argument("--setting", default="yunet", help="one of the settings (default: yunet)")
    p.add_argument("--part", default="val", choices=("dev", "val", "test"))
    p.add_argument("--sample", type=int, default=60, help="tiles in the grid (tens)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("false_boxes.png"))
    p.set_defaults(handler=cmd_false_boxes)
    p = sub.add_parser("frames", help="large video frames: searched as decoded or shrunk first")
    p.add_argument("--parts", nargs="+", default=["dev", "val"], choices=("dev", "val", "test"))
    p.add_argument("--shrink", type=float, default=1.5, help="decoded / output size (1920/1280)")
    p.add_argument("--runs", type=int, default=20, help="timed runs of the 1920x1080 frame")
    p.set_defaults(handler=cmd_frames)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    warnings.simplefilter("ignore")
    args.handler(args)


if __name__ == "__main__":
    main()
