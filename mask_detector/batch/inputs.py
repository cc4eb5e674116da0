"""The files a batch command works on, and where their annotated copies go."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from .work import Job


def iter_inputs(paths: Sequence[str | Path]) -> Iterator[Path]:
    """Files as given; folders expanded to their files, recursively, in sorted order.

    A folder with no files is yielded itself, so that its worker can say so.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            yield from files or [path]
        else:
            yield path


def make_jobs(
    paths: Sequence[str | Path], out_dir: str | Path | None = None, suffix: str = ".png"
) -> list[Job]:
    """One job per input file (names only: nothing is read here), each with the name of its
    annotated copy in `out_dir` when given: `<stem>_annotated<suffix>`, numbered when two
    inputs share a stem (a.jpg and a.png). Named here, before any work, so that workers on
    other machines write without asking each other."""
    taken: set[Path] = set()
    jobs = []
    for path in iter_inputs(paths):
        out = None
        if out_dir is not None:
            out = Path(out_dir) / f"{path.stem}_annotated{suffix}"
            n = 1
            while out in taken:
                n += 1
                out = Path(out_dir) / f"{path.stem}_annotated_{n}{suffix}"
            taken.add(out)
        jobs.append(Job(str(path), None if out is None else str(out)))
    return jobs
