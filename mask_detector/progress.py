"""Progress for long runs on stderr: a live counter on a terminal, a line per tenth in logs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def progress_printer(what: str) -> Callable[[int, int], None]:
    tty = sys.stderr.isatty()
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
                file=sys.stderr,
                flush=True,
            )
        elif tenth != last_tenth or done == total:
            last_tenth = tenth
            print(
                f"{what}: {done}/{total} ({time.time() - start:.0f} s)", file=sys.stderr, flush=True
            )

    return show
