"""Throughput of the batch engines on the same photos: local, and Ray with 1 and 2 workers.

    .venv/bin/python benchmarks/batch_throughput.py [PATH ...] [--images 1000] [--workers 1 2]
                                                    [--rounds 1] [--predict "--detector haar"]
                                                    [--json]

Photos: PATH... (files or folders; default the crowd photos of ../shared: scenes-dev's, then
scenes-ilc's), the first --images of them, repeated when there are fewer. The engines run with
`predict`'s settings, parsed by the command line's own parser (its defaults, plus --predict's
options), through the same runner as `predict --engine ...` (results counted, not printed).

Ray's local runtime is started once, before the timed runs, with every CPU of the machine (its
start-up is printed apart: a cluster is up before jobs come); each Ray run includes starting
its actor pool and loading the models in every actor. Every run's records are compared with
the local engine's. Prints a table (images per second, against local and against Ray with one
worker), the load average before and after, and how many cores the run really had (as many
CPU-bound processes as CPUs at once, against one alone): figures taken while other work holds
cores are not comparable. Goals on a 2-core machine: Ray with 2 workers >= 1.7x Ray with 1,
and >= 0.85x the local engine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mask_detector import config
from mask_detector.batch.inputs import iter_inputs
from mask_detector.batch.runner import make_engine, run_batch
from mask_detector.batch.work import Job, PhotoWorker, Record
from mask_detector.cli import build_parser, predict_settings


class Collect:
    """A sink that keeps the records, to compare the engines' results."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def write(self, record: Record) -> None:
        self.records.append(record)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


#: A CPU-bound loop of about half a second, in a process of its own.
SPIN = (
    "import time\n"
    "t = time.perf_counter()\n"
    "for i in range(8_000_000): pass\n"
    "print(time.perf_counter() - t)"
)


def cores_available(n: int) -> float:
    """How many of `n` cores this run gets: `n` CPU-bound processes at once against one alone
    (n on a quiet machine; about 1 when other work holds the rest)."""

    def spin(count: int) -> float:
        procs = [
            subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True)
            for _ in range(count)
        ]
        return max(float(p.communicate()[0]) for p in procs)

    return round(n * spin(1) / spin(n), 2)


def default_photos() -> list[Path]:
    shared = config.shared_dir() / "datasets"
    folders = [shared / "scenes-dev" / "images", shared / "scenes-ilc" / "images"]
    return [p for folder in folders if folder.is_dir() for p in sorted(folder.iterdir())]


def time_run(engine_name: str, workers: int | None, settings: dict, jobs: list[Job]) -> dict:
    sink = Collect()
    start = time.perf_counter()
    failed = run_batch(make_engine(engine_name, None, workers), PhotoWorker, settings, jobs, sink)
    seconds = time.perf_counter() - start
    return {
        "engine": engine_name,
        "workers": workers,
        "seconds": round(seconds, 2),
        "images_per_s": round(len(jobs) / seconds, 1),
        "failed": failed,
        "records": sink.records,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", metavar="PATH")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=1, help="runs of each; the median counts")
    parser.add_argument("--predict", default="", help="predict options, e.g. '--detector yunet'")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import ray

    photos = [Path(p) for p in iter_inputs(args.paths)] if args.paths else default_photos()
    if not photos:
        print("no photos: give PATH... or put ../shared beside the repository", file=sys.stderr)
        return 1
    files = list(itertools.islice(itertools.cycle(photos), args.images))
    jobs = [Job(str(p)) for p in files]
    predict = build_parser().parse_args(["predict", *shlex.split(args.predict), "x"])
    settings = predict_settings(predict)
    cpus = os.cpu_count() or 1
    load_before, cores_before = os.getloadavg(), cores_available(cpus)
    print(
        f"{len(jobs)} photos ({len(set(files))} different), predict settings {settings}, "
        f"{cpus} CPUs ({cores_before} free), load average {load_before[0]:.2f}",
        file=sys.stderr,
    )

    start = time.perf_counter()
    ray.init(
        num_cpus=cpus,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
    )
    ray_start = time.perf_counter() - start
    runs: list[dict[str, Any]] = []
    try:
        plan = [("local", None)] + [("ray", n) for n in args.workers]
        for _ in range(args.rounds):
            for engine_name, workers in plan:
                run = time_run(engine_name, workers, settings, jobs)
                print(
                    f"  {engine_name} {workers or ''}: {run['seconds']} s, "
                    f"{run['images_per_s']} images/s",
                    file=sys.stderr,
                )
                runs.append(run)
    finally:
        ray.shutdown()
    load_after, cores_after = os.getloadavg(), cores_available(cpus)

    reference = runs[0]["records"]
    rows = []
    for engine_name, workers in plan:
        mine = [r for r in runs if (r["engine"], r["workers"]) == (engine_name, workers)]
        rows.append(
            {
                "engine": engine_name,
                "workers": workers,
                "seconds": statistics.median(r["seconds"] for r in mine),
                "images_per_s": statistics.median(r["images_per_s"] for r in mine),
                "same_as_local": all(r["records"] == reference for r in mine),
                "failed": mine[0]["failed"],
            }
        )
    local = rows[0]["images_per_s"]
    ray_one = next((r["images_per_s"] for r in rows if r["workers"] == 1), None)
    for row in rows:
        row["x_local"] = round(row["images_per_s"] / local, 2)
        row["x_ray_1"] = round(row["images_per_s"] / ray_one, 2) if ray_one else None
    summary = {
        "images": len(jobs),
        "cpus": cpus,
        "cores_available_before_after": [cores_before, cores_after],
        "ray_start_s": round(ray_start, 1),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in load_after],
        "rows": rows,
    }
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"{len(jobs)} photos, {cpus} CPUs; Ray runtime start {ray_start:.1f} s")
    print("| engine | workers | seconds | images/s | x local | x Ray 1 worker | same results |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['engine']} | {r['workers'] or ''} | {r['seconds']} | {r['images_per_s']} "
            f"| {r['x_local']} | {r['x_ray_1'] or ''} | {'yes' if r['same_as_local'] else 'NO'} |"
        )
    print(
        "load average (1, 5, 15 min) before "
        f"{', '.join(f'{v:.2f}' for v in load_before)}; after "
        f"{', '.join(f'{v:.2f}' for v in load_after)}"
    )
    print(
        f"cores free for this run (of {cpus}; {cpus} CPU-bound processes at once against one): "
        f"{cores_before} before, {cores_after} after"
        + ("" if min(cores_before, cores_after) > cpus - 0.3 else "; NOT a quiet machine")
    )
    return 0 if all(r["same_as_local"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
