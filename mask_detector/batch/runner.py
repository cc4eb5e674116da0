"""A batch run from start to end, whichever the engine: outcomes in, records to the output,
one `error:` line on stderr per failed file, progress on stderr; the number of failures out."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from ..progress import Progress
from .output import Sink
from .work import Job, Outcome, Worker


class Engine(Protocol):
    """Runs `worker(**settings)` over the jobs and yields each job's outcome in input order."""

    name: str

    def run(
        self, worker: type[Worker], settings: Mapping[str, Any], jobs: Sequence[Job]
    ) -> Iterator[Outcome]: ...


def make_engine(
    name: str = "local", address: str | None = None, workers: int | None = None
) -> Engine:
    """The engine called `name`; Ray's is imported only when asked for."""
    if name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(address, workers)
    from .local import LocalEngine

    return LocalEngine()


def run_batch(
    engine: Engine,
    worker: type[Worker],
    settings: Mapping[str, Any],
    jobs: Sequence[Job],
    sink: Sink,
    progress: Progress | None = None,
) -> int:
    """Run the jobs, write each record to `sink` as it comes and each failure as one `error:`
    line on stderr; the number of files that failed. The sink is closed at the end, or
    aborted (what it holds kept valid) when the run stops on an error."""
    failed = 0
    try:
        for done, outcome in enumerate(engine.run(worker, settings, jobs), 1):
            if outcome.record is None:
                print(f"error: {outcome.error}", file=sys.stderr, flush=True)
                failed += 1
            else:
                sink.write(outcome.record)
            if progress:
                progress(done, len(jobs))
    except BaseException:
        sink.abort()
        raise
    sink.close()
    return failed
