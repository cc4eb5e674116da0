"""Progress for long runs: a live counter on a terminal, a line per tenth in logs and notebooks."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

#: What long runs call after each step: progress(done, total).
Progress = Callable[[int, int], None]


def progress_printer(what: str, file: TextIO | None = None) -> Progress:
    """A `progress(done, total)` callback printing "what: done/total (seconds)" to `file`
    (default: stderr, so a command's output stays clean; a notebook passes sys.stdout)."""
    out = file or sys.stderr
    tty = out.isatty()
    start = time.time()
    last_tenth = -1

    def show(done: int, total: int) -> None:
        nonlocal last_tenth
        tenth = done * 10 // max(total, 1)
        if tty:
            end = "\n" if done == total else ""
            print(
                f"\r{what}: {done}/{total} ({time.time() - start:.0f} s)",
                end=end,
                file=out,
                flush=True,
            )
        elif tenth != last_tenth or done == total:
            last_tenth = tenth
            print(f"{what}: {done}/{total} ({time.time() - start:.0f} s)", file=out, flush=True)

    return show
