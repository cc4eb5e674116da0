"""The Ray engine: the same workers as an actor pool on Ray Data, on one machine or a cluster.

Only file names travel: a Ray Data dataset of (file, out) rows, cut into blocks of a worker's
batch size, goes through `map_batches` on a fixed pool of actors, one CPU each; every actor
loads the models once and reads its files itself, so no image goes through Ray's object store,
only the small JSON records come back. Results stream back in input order
(`preserve_order`), and the caller writes them as they come.

Ray is imported only here, only when this engine runs: the library, the app and the local
engine never need it (requirements-ray.txt).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..errors import MaskDetectorError
from .work import Job, Outcome, Worker, decode

#: CPUs per worker: one, with one thread, so N workers use N cores without fighting over them.
WORKER_CPUS = 1

MISSING_RAY = (
    "--engine ray needs Ray, which is not installed: "
    "pip install -r requirements-ray.txt (or leave out --engine ray to run here)"
)


def import_ray() -> Any:
    """The `ray` module with Ray Data, or MaskDetectorError saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise MaskDetectorError(MISSING_RAY) from None
    return ray


class RayEngine:
    """Runs workers on Ray: the cluster at `address`, else the runtime this process already
    joined (ray.init), else a local runtime started for the run and stopped after it.

    `workers`: the pool size (default: every CPU of the cluster).
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        self.address = address
        self.workers = workers

    def run(
        self, worker: type[Worker], settings: Mapping[str, Any], jobs: Sequence[Job]
    ) -> Iterator[Outcome]:
        """Each job's outcome, in input order, as the pool finishes them."""
        ray = import_ray()
        # The settings are checked here first: a wrong model or detector is the local engine's
        # one error line, before any Ray work (the model path must then hold on every node).
        worker(**settings)
        if not jobs:
            return
        started = self._connect(ray)
        try:
            yield from self._outcomes(ray, worker, settings, jobs)
        except ray.exceptions.RayError as exc:
            raise _one_line(exc) from None
        finally:
            if started:
                ray.shutdown()

    def _connect(self, ray: Any) -> bool:
        """Join the cluster (or start a local runtime); True when this call started Ray."""
        if ray.is_initialized():
            return False
        try:
            ray.init(
                address=self.address,
                logging_level=logging.ERROR,
                log_to_driver=False,
                include_dashboard=False if self.address is None else None,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray runtime"
            raise MaskDetectorError(f"could not start or reach {where}: {exc}") from None
        return True

    def _outcomes(
        self, ray: Any, worker: type[Worker], settings: Mapping[str, Any], jobs: Sequence[Job]
    ) -> Iterator[Outcome]:
        quiet_ray_data(ray)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        pool = max(1, min(self.workers or cpus, len(jobs)))
        # Blocks of the worker's batch size, but at least one per worker for short runs.
        per_block = max(1, min(worker.batch_size, math.ceil(len(jobs) / pool)))
        rows = [{"file": j.file, "out": j.out or ""} for j in jobs]
        dataset = ray.data.from_items(rows, override_num_blocks=math.ceil(len(rows) / per_block))
        results = dataset.map_batches(
            worker,
            fn_constructor_kwargs={**settings, "num_threads": WORKER_CPUS, "cwd": os.getcwd()},
            batch_size=per_block,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=pool),
            num_cpus=WORKER_CPUS,
        )
        for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
            for file, record, error in zip(
                batch["file"], batch["record"], batch["error"], strict=True
            ):
                yield decode(str(file), str(record), str(error))


def quiet_ray_data(ray: Any) -> None:
    """Results in input order, and none of Ray Data's progress bars or execution logs: this
    package prints its own progress, and Ray Data's go to its log files."""
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)


def _one_line(exc: Exception) -> MaskDetectorError:
    """A worker's failure as one line: the error it raised (its traceback's last line)."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, MaskDetectorError):
        return cause
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return MaskDetectorError(f"a Ray worker failed: {lines[-1] if lines else type(exc).__name__}")
