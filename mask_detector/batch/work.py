"""What a batch worker does: load the models once, then handle file after file.

Both engines run these classes, the local one in its own process and the Ray one as an actor
pool, so a file gets the same result whichever engine handles it. A worker reads its files
itself (only names travel to it) and returns plain JSON-able records: what `predict --json`
prints for a photo, what `video --json` prints for a video. A file that cannot be read is an
outcome with an error, never an exception, so the job goes on.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import cv2

from ..errors import InvalidImageError, MaskDetectorError
from ..imageio import read_image
from ..pipeline import MaskDetector

#: One file's result as the commands print it.
Record = dict[str, Any]


@dataclass(frozen=True)
class Job:
    """One input file, and where its annotated copy goes (None: nowhere)."""

    file: str
    out: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A file's record, or the one-line reason it has none."""

    file: str
    record: Record | None
    error: str | None = None


class Worker(ABC):
    """Handles files one by one with models loaded once, in the constructor.

    Two settings are for a worker that is a process of its own (a Ray actor), since they are
    the process's: `num_threads`, the CPUs it may use (its classifier's threads and OpenCV's;
    None keeps the library's defaults, which use every core), and `cwd`, the directory the
    command ran in, from which relative input paths are read (when it exists there).
    """

    #: What the progress line counts.
    what: ClassVar[str]
    #: Files handed to a Ray worker per call: enough to make a call's overhead small against
    #: its work, few enough that the pool stays evenly busy to the end.
    batch_size: ClassVar[int]

    def __init__(self, num_threads: int | None = None, cwd: str | None = None) -> None:
        if num_threads is not None:
            cv2.setNumThreads(num_threads)
        if cwd is not None and os.path.isdir(cwd):
            os.chdir(cwd)

    @abstractmethod
    def record(self, file: str, out: str | None) -> Record:
        """The file's record; MaskDetectorError when it cannot be handled."""

    def run(self, job: Job) -> Outcome:
        try:
            return Outcome(job.file, self.record(job.file, job.out))
        except MaskDetectorError as exc:
            return Outcome(job.file, None, str(exc))

    def __call__(self, batch: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        """Ray Data's entry: columns `file` and `out` ("" for none) in; `file`, `record` (JSON
        text, "" on error) and `error` ("" when none) out. Records travel as JSON text so that
        they come back exactly as they left (no columnar type guessing on nested lists)."""
        outcomes = [
            self.run(Job(str(file), str(out) or None))
            for file, out in zip(batch["file"], batch["out"], strict=True)
        ]
        return {
            "file": [o.file for o in outcomes],
            "record": ["" if o.record is None else json.dumps(o.record) for o in outcomes],
            "error": [o.error or "" for o in outcomes],
        }


def decode(file: str, record: str, error: str) -> Outcome:
    """An Outcome from one row of what `Worker.__call__` returns."""
    return Outcome(file, json.loads(record) if record else None, error or None)


class PhotoWorker(Worker):
    """Faces and labels of photos: `{"file", "faces": [{"box", "label", "confidence"}]}`.

    `pipeline` holds MaskDetector.load's arguments (the command line's settings); `blur`
    blurs the faces of the annotated copies.
    """

    what = "photos"
    batch_size = 16

    def __init__(
        self,
        pipeline: Mapping[str, Any],
        blur: bool = False,
        num_threads: int | None = None,
        cwd: str | None = None,
    ) -> None:
        super().__init__(num_threads, cwd)
        self.pipeline = MaskDetector.load(**pipeline, shared=True, num_threads=num_threads)
        self.blur = blur

    def record(self, file: str, out: str | None) -> Record:
        path = Path(file)
        if path.is_dir():
            raise InvalidImageError(
                f"{path}: the folder holds no files; give image files or folders of them"
            )
        image = read_image(path)
        faces = self.pipeline.detect(image)
        if out is not None:
            annotated = self.pipeline.annotate(image, faces, blur=self.blur)
            if not cv2.imwrite(out, annotated):
                raise MaskDetectorError(f"{out}: the annotated image could not be written")
        return {"file": str(path), "faces": [f.to_dict() for f in faces]}


class VideoWorker(Worker):
    """The people in videos: `video.summarize_video`'s summary of each file (with `file`).

    `pipeline` holds summarize_video's model settings (`detector`, `model`, `yunet_model`,
    `min_confidence`, `min_face`, `small_faces`, `min_judged_face`, `download`), loaded here
    once; `options` its others (`blur`,
    `max_seconds`, and locally `progress`, `on_frame`).
    """

    what = "videos"
    #: One video per call: a video is seconds to minutes of work, plenty to deal out alone.
    batch_size = 1

    def __init__(
        self,
        pipeline: Mapping[str, Any],
        options: Mapping[str, Any] | None = None,
        num_threads: int | None = None,
        cwd: str | None = None,
    ) -> None:
        from ..video import load_pipeline

        super().__init__(num_threads, cwd)
        self.settings = {**pipeline, **(options or {}), "num_threads": num_threads}
        load_pipeline(**pipeline, num_threads=num_threads)

    def record(self, file: str, out: str | None) -> Record:
        from ..video import InvalidVideoError, summarize_video

        if Path(file).is_dir():
            raise InvalidVideoError(
                f"{file}: the folder holds no files; give video files or folders of them"
            )
        return summarize_video(file, out, **self.settings)
