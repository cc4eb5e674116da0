"""The local engine: one worker in this process, file after file (the default)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .work import Job, Outcome, Worker


class LocalEngine:
    """Runs the worker here with the library's default threads, which already use every core
    for one image (the classifier's interpreter and OpenCV's detectors)."""

    name = "local"

    def run(
        self, worker: type[Worker], settings: Mapping[str, Any], jobs: Sequence[Job]
    ) -> Iterator[Outcome]:
        """Each job's outcome, in order; the models load before the first file."""
        instance = worker(**settings)
        for job in jobs:
            yield instance.run(job)
