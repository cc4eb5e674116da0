"""Does `predict --engine ray` give the local engine's results? 200 unseen crowd photos plus one
broken file, through the real command line, once per engine.

    .venv/bin/python benchmarks/ray_agreement.py [--workers N] [--predict "--detector yunet"]

The photos: the 150 of ../shared/datasets/scenes-dev and the first 50 (by name) of the
scenes-ilc photos in the TEST part of models/split.json, never seen in training or model
selection; the broken file is a JPEG header followed by junk, written to a temporary folder.
Runs `python -m mask_detector predict FILES... --json` with the local engine, then with
`--engine ray` (a local Ray runtime started by the command), and checks: both exit 1, the
broken file is one `error:` line in each and no photo fails, the JSON printed is the same text,
and so every photo has the same faces (boxes, labels, confidences). Prints what it found and
exits 0 when all of that holds.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mask_detector import config
from mask_detector.data.split import Split

#: Photos taken from the scenes-ilc test part, after scenes-dev's 150.
ILC_TEST_PHOTOS = 50


def unseen_photos() -> list[Path]:
    """scenes-dev's photos, then the first ILC_TEST_PHOTOS test-split photos of scenes-ilc."""
    dev = sorted((config.scenes_dir() / "images").iterdir())
    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    root = split.scene_root()
    if root is None:
        raise SystemExit("models/split.json names no scene photos")
    test = sorted(root / image for image, _ in split.photos["test"])[:ILC_TEST_PHOTOS]
    return dev + test


def predict(files: list[str], extra: list[str]) -> tuple[int, str, list[str], float]:
    """Exit code, stdout, `error:` lines and seconds of one `predict --json` command."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mask_detector", "predict", *files, "--json", *extra],
        capture_output=True,
        text=True,
        cwd=config.REPO_ROOT,
    )
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    return proc.returncode, proc.stdout, errors, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, help="Ray workers (default: every CPU)")
    parser.add_argument("--predict", default="", help="more predict options for both runs")
    args = parser.parse_args()

    photos = unseen_photos()
    with tempfile.TemporaryDirectory() as tmp:
        broken = Path(tmp) / "broken.jpg"
        broken.write_bytes(b"\xff\xd8\xff\xe0" + b"not the rest of a JPEG" * 20)
        files = [str(p) for p in photos] + [str(broken)]
        extra = shlex.split(args.predict)
        ray_options = [
            "--engine",
            "ray",
            *(["--workers", str(args.workers)] if args.workers else []),
        ]
        print(f"{len(photos)} photos + 1 broken file; predict options {extra or 'defaults'}")
        local = predict(files, extra)
        print(f"local: exit {local[0]}, {local[3]:.1f} s")
        on_ray = predict(files, extra + ray_options)
        print(f"ray:   exit {on_ray[0]}, {on_ray[3]:.1f} s")

    results = {
        engine: json.loads(run[1]) if run[1] else []
        for engine, run in (("local", local), ("ray", on_ray))
    }
    faces = {r["file"]: r["faces"] for r in results["local"]}
    ray_faces = {r["file"]: r["faces"] for r in results["ray"]}
    same_photos = sum(ray_faces.get(f) == found for f, found in faces.items())
    labels = Counter(face["label"] for found in faces.values() for face in found)
    checks = {
        "both exit 1": local[0] == on_ray[0] == 1,
        "the broken file is the one error line of each": local[2] == on_ray[2]
        and len(local[2]) == 1
        and str(broken) in local[2][0],
        f"every photo has a result ({len(photos)})": len(faces) == len(ray_faces) == len(photos),
        "same faces and labels for every photo": same_photos == len(photos),
        "same JSON text": local[1] == on_ray[1],
    }
    print(
        f"faces found: {sum(labels.values())} ({dict(labels)}); photos with the same faces: "
        f"{same_photos}/{len(photos)}"
    )
    print(f"error line: {local[2][0] if local[2] else None}")
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
