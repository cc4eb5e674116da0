"""`python -m mask_detector benchmark`: per-frame latency of the fast path against the naive one.

The naive baseline is what tutorial apps do: Keras `model.predict` once per face per frame. Both
run in this one process on the same frames, so the ratio compares like with like. Cold start and
memory are measured in a fresh process that never imports TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .classifier import MaskClassifier
from .config import KERAS_MODEL_NAME, MODELS_DIR, PHOTO
from .detection import Box
from .detectors import SMALL_FACE_PATHS, make_detector, yunet_available
from .pipeline import MaskDetector
from .preprocess import crop_faces, preprocess_faces

FRAME_SIZE = (640, 480)
WARMUP = 5


def astronaut() -> np.ndarray:
    """scikit-image's astronaut: a real 512x512 photo with one frontal face, as BGR.

    The sample photo of the benchmarks, and of the tests (they know where its face is).
    """
    try:
        from skimage import data
    except ImportError:
        raise SystemExit(
            "the benchmark uses scikit-image's sample photo: pip install scikit-image"
        ) from None
    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


def astronaut_tile() -> np.ndarray:
    """A real face with some shoulders (the astronaut's), BGR, ~200 px wide."""
    face = astronaut()[10:300, 110:340]
    return cv2.resize(face, (200, 252), interpolation=cv2.INTER_AREA)


def make_frame(faces: int) -> np.ndarray:
    """640x480 grey-blue background with `faces` copies of a real face side by side."""
    frame = np.full((FRAME_SIZE[1], FRAME_SIZE[0], 3), (120, 110, 100), np.uint8)
    tile = astronaut_tile()
    h, w = tile.shape[:2]
    for i in range(faces):
        x = 13 + i * (w + 13)
        frame[114 : 114 + h, x : x + w] = tile
    return frame


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    for _ in range(WARMUP):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return {"median_ms": statistics.median(samples), "p90_ms": float(np.percentile(samples, 90))}


def bench_pipeline(
    pipeline: MaskDetector, frames: dict[int, np.ndarray], runs: int
) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for n, frame in frames.items():
        boxes = pipeline.detector.detect(frame)
        crops = crop_faces(frame, boxes)
        rows[str(n)] = {
            "faces_found": len(boxes),
            "detect": timed(partial(pipeline.detector.detect, frame), runs),
            "classify": timed(partial(pipeline.classifier.classify, crops), runs),
            "pipeline": timed(partial(pipeline.process, frame), runs),
        }
    return rows


def tutorial_haar() -> Callable[[np.ndarray], list[Box]]:
    """The usual tutorial set-up: frontalface_default on the full-size grey frame, 1.1 / 5 / 30."""
    cascade = cv2.CascadeClassifier(
        cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    )

    def detect(image: np.ndarray) -> list[Box]:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        found = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(30, 30))
        return [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]

    return detect


def bench_naive(keras_path: Path, frames: dict[int, np.ndarray], runs: int) -> dict[str, Any]:
    """One Keras `predict` per face, as the tutorial apps do, behind two detectors.

    "haar": this project's Haar detector, so only the classifier path differs from the fast
    pipeline; "tutorial-haar": the tutorial apps' own detector settings as well.
    """
    import keras

    model = keras.models.load_model(keras_path)
    size = int(model.input_shape[1])

    def naive(detect: Callable[[np.ndarray], list[Box]], frame: np.ndarray) -> None:
        for crop in crop_faces(frame, detect(frame)):
            model.predict(preprocess_faces([crop], size=size), verbose=0)

    detectors = {"haar": make_detector("haar").detect, "tutorial-haar": tutorial_haar()}
    return {
        name: {
            str(n): {
                "faces_found": len(detect(frame)),
                "pipeline": timed(partial(naive, detect, frame), max(10, runs // 5)),
            }
            for n, frame in frames.items()
        }
        for name, detect in detectors.items()
    }


_COLD = """
import sys, time
t0 = float(sys.argv[1])
from mask_detector import MaskDetector
from mask_detector.benchmark import make_frame, memory_mb
pipeline = MaskDetector.load()
faces = pipeline.detect(make_frame(1))
first = time.time() - t0
frame = make_frame(3)
for _ in range(200):
    pipeline.process(frame)
print(first, len(faces), *memory_mb(), "tensorflow" in sys.modules)
"""


def memory_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB, from /proc (Linux).

    Not ru_maxrss: on Linux it survives exec, so a child of a big process reports the parent's.
    """
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return tuple(float(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))  # type: ignore[return-value]


def cold_start() -> dict[str, Any]:
    """A new interpreter: process start -> first classified frame, then memory after 200 frames."""
    out = subprocess.run(
        [sys.executable, "-c", _COLD, repr(time.time())],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    first, faces, rss, peak, tf_loaded = out.stdout.split()
    return {
        "first_frame_s": float(first),
        "faces": int(faces),
        "rss_mb": float(rss),
        "peak_rss_mb": float(peak),
        "tensorflow_imported": tf_loaded == "True",
    }


def collect(args: argparse.Namespace) -> dict[str, Any]:
    frames = {n: make_frame(n) for n in (0, 1, 3)}
    classifier = MaskClassifier()
    result: dict[str, Any] = {"frame": list(FRAME_SIZE), "runs": args.runs, "fast": {}}
    names = ["haar"] + (["yunet"] if yunet_available(args.yunet_model)[0] else [])
    for name in names:
        pipeline = MaskDetector(make_detector(name, yunet_model=args.yunet_model), classifier)
        result["fast"][name] = bench_pipeline(pipeline, frames, args.runs)
    for name in [n for n in names if n in SMALL_FACE_PATHS]:  # photos and videos: <= 150 ms
        detector = make_detector(
            name, yunet_model=args.yunet_model, min_face=PHOTO.min_face, small_faces=True
        )
        rows = bench_pipeline(MaskDetector(detector, classifier), frames, args.runs)
        result["fast"][f"{name}, small-face path"] = rows
    keras_path = Path(args.keras_model or MODELS_DIR / KERAS_MODEL_NAME)
    if not args.no_baseline and keras_path.is_file():
        result["naive"] = bench_naive(keras_path, frames, args.runs)
        fast = result["fast"]["haar"]["3"]["pipeline"]["median_ms"]
        result["speedup_3_faces"] = {
            name: rows["3"]["pipeline"]["median_ms"] / fast
            for name, rows in result["naive"].items()
        }
    result["cold_start"] = cold_start()
    return result


def format_table(result: dict[str, Any]) -> str:
    lines = [
        "| path | detector | faces (found) | detect ms | classify ms | pipeline ms "
        "(median / p90) | FPS |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, rows in result["fast"].items():
        for n, row in rows.items():
            p = row["pipeline"]
            lines.append(
                f"| fast (LiteRT) | {name} | {n} ({row['faces_found']}) | "
                f"{row['detect']['median_ms']:.1f} | {row['classify']['median_ms']:.1f} | "
                f"{p['median_ms']:.1f} / {p['p90_ms']:.1f} | {1000 / p['median_ms']:.0f} |"
            )
    for name, rows in result.get("naive", {}).items():
        for n, row in rows.items():
            p = row["pipeline"]
            lines.append(
                f"| naive (Keras predict per face) | {name} | {n} ({row['faces_found']}) | | | "
                f"{p['median_ms']:.1f} / {p['p90_ms']:.1f} | {1000 / p['median_ms']:.1f} |"
            )
    lines.append("")
    for name, ratio in result.get("speedup_3_faces", {}).items():
        lines.append(f"Speed-up, 3 faces, fast Haar pipeline vs naive with {name}: {ratio:.1f}x")
    c = result["cold_start"]
    lines.append(
        f"Cold start to first classified frame: {c['first_frame_s']:.2f} s; inference "
        f"process memory {c['rss_mb']:.0f} MB (peak {c['peak_rss_mb']:.0f} MB) after 200 frames; "
        "TensorFlow imported: "
        f"{'yes' if c['tensorflow_imported'] else 'no'}"
    )
    return "\n".join(lines)


def run_benchmark(args: argparse.Namespace) -> int:
    result = collect(args)
    print(json.dumps(result, indent=1) if args.json else format_table(result))
    return 0
