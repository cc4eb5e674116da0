"""Progress for long runs: a live counter on a terminal, a line per tenth in logs and notebooks."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

#: What long runs call after each step: progress(done, total).
Progress = Callable[[int, int], None]


def progress_printer(what: str, file: TextIO | None = None) -> Progress:
    """A `progress(done, total)` callback printing "what: done/total (seconds, rate)" to `file`
    (default: stderr, so a command's output stays clean; a notebook passes sys.stdout)."""
    out = file or sys.stderr
    tty = out.isatty()
    start = time.time()
    last_tenth = -1

    def show(done: int, total: int) -> None:
        nonlocal last_tenth
        tenth = done * 10 // max(total, 1)
        if not tty and tenth == last_tenth and done != total:
            return
        last_tenth = tenth
        seconds = time.time() - start
        line = f"{what}: {done}/{total} ({seconds:.0f} s, {done / max(seconds, 1e-9):.1f}/s)"
        if tty:
            print(f"\r{line}", end="\n" if done == total else "", file=out, flush=True)
        else:
            print(line, file=out, flush=True)

    return show


def after(seconds: float, progress: Progress) -> Progress:
    """`progress`, silent until `seconds` have passed since this call: short runs stay quiet."""
    start = time.monotonic()

    def show(done: int, total: int) -> None:
        if time.monotonic() - start >= seconds:
            progress(done, total)

    return show
