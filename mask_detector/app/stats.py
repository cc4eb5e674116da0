"""Live statistics: the video worker thread writes them, the /live page reads them once a second.

streamlit-webrtc runs the frame processor on a worker thread, where st.* calls do not work, so
results cross to the page through `LiveStats` (under a lock) and the page shows a `LiveSnapshot`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..config import LABELS
from ..detection import Detection, count_labels

#: Seconds of history behind the frames-per-second figure.
FPS_WINDOW_S = 2.0


@dataclass(frozen=True)
class LiveSnapshot:
    """What the page shows: a consistent copy of LiveStats at one moment."""

    fps: float
    with_mask: int
    without_mask: int
    frames: int
    dropped: int
    errors: int
    #: Seconds since the last processed frame (None before the first one).
    idle_s: float | None
    #: Seconds from the stream's start to its first processed frame (None before it).
    first_frame_s: float | None

    @property
    def active(self) -> bool:
        """Frames arrived recently (within the FPS window)."""
        return self.idle_s is not None and self.idle_s <= FPS_WINDOW_S

    def text(self) -> str:
        """The one-line live status, e.g. "12.5 FPS · 1 with mask · 0 without mask"."""
        return f"{self.fps:.1f} FPS · {self.with_mask} with mask · {self.without_mask} without mask"

    def details(self) -> str:
        """Counters for the caption under the status line."""
        text = f"{self.frames} frames processed · {self.dropped} dropped (too slow to keep up)"
        if self.first_frame_s is not None:
            text += f" · first one {self.first_frame_s:.2f} s after connecting"
        return text


class LiveStats:
    """Thread-safe counters: the video worker thread writes, the page thread reads.

    FPS is measured over a sliding window of processing timestamps, so it reflects the last
    couple of seconds (and falls to 0 when frames stop) rather than the whole session.
    """

    def __init__(
        self, window_s: float = FPS_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Start over (a new START): the stream's clock starts now."""
        with self._lock:
            self._times: deque[float] = deque()
            self._with_mask = 0
            self._without_mask = 0
            self._frames = 0
            self._dropped = 0
            self._errors = 0
            self._started = self._clock()
            self._first: float | None = None
            self._last: float | None = None

    def _prune(self, now: float) -> None:
        while self._times and self._times[0] < now - self.window_s:
            self._times.popleft()

    def update(self, detections: Sequence[Detection], dropped: int = 0) -> None:
        """Record one processed frame and the frames skipped to get to it."""
        now = self._clock()
        counts = count_labels(detections)
        with self._lock:
            self._times.append(now)
            self._prune(now)
            self._with_mask, self._without_mask = counts[LABELS[0]], counts[LABELS[1]]
            self._frames += 1
            self._dropped += dropped
            if self._first is None:
                self._first = now
            self._last = now

    def add_dropped(self, n: int) -> None:
        with self._lock:
            self._dropped += n

    def add_error(self) -> None:
        with self._lock:
            self._errors += 1

    def snapshot(self) -> LiveSnapshot:
        now = self._clock()
        with self._lock:
            self._prune(now)
            n = len(self._times)
            span = self._times[-1] - self._times[0] if n >= 2 else 0.0
            # n frames span n-1 intervals; with fewer than two frames there is no rate yet.
            fps = (n - 1) / span if span > 0 else 0.0
            return LiveSnapshot(
                fps=fps,
                with_mask=self._with_mask,
                without_mask=self._without_mask,
                frames=self._frames,
                dropped=self._dropped,
                errors=self._errors,
                idle_s=None if self._last is None else now - self._last,
                first_frame_s=None if self._first is None else self._first - self._started,
            )
