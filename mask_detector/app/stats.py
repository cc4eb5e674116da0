"""Live statistics: the video worker thread writes them, the /live page reads them once a second.

streamlit-webrtc runs the frame processor on a worker thread, where st.* calls do not work, so
results cross to the page through `LiveStats` (under a lock) and the page shows a `LiveSnapshot`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..config import ALERT_LABELS, RESULT_LABELS, count_phrase, counted_labels
from ..detection import Detection, count_labels

#: Seconds of history behind the frames-per-second figure.
FPS_WINDOW_S = 2.0


def _no_one() -> dict[str, int]:
    return dict.fromkeys(RESULT_LABELS, 0)


def _counts(counts: Mapping[str, int], sep: str) -> str:
    """ "1 with mask · 0 without mask · ...": every label of config.LABELS, in order (and the
    faces too small to judge, when there are any)."""
    return sep.join(
        f"{counts.get(label, 0)} {count_phrase(label)}" for label in counted_labels(counts)
    )


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


@dataclass(frozen=True)
class LiveSnapshot:
    """What the page shows: a consistent copy of LiveStats at one moment."""

    fps: float
    frames: int
    dropped: int
    errors: int
    #: Seconds since the last processed frame (None before the first one).
    idle_s: float | None
    #: Seconds from the stream's start to its first processed frame (None before it).
    first_frame_s: float | None
    #: Faces in view in the last processed frame, by label (every label of config.RESULT_LABELS).
    in_view: dict[str, int] = field(default_factory=_no_one)
    #: People seen since START (tracks shown at least once), by label.
    people: dict[str, int] = field(default_factory=_no_one)
    #: What makes the labels less sure now (keys of caveats.CAVEATS), checked once a second.
    caveats: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """Frames arrived recently (within the FPS window)."""
        return self.idle_s is not None and self.idle_s <= FPS_WINDOW_S

    @property
    def alert(self) -> bool:
        """Someone without a mask (or with one worn wrong) is in view now."""
        return any(self.in_view.get(label, 0) for label in ALERT_LABELS)

    def text(self) -> str:
        """The one-line live status: "12.5 FPS · 1 with mask · 0 without mask · ..." (faces in
        view, every label)."""
        return f"{self.fps:.1f} FPS · {_counts(self.in_view, ' · ')}"

    def people_text(self) -> str:
        """People now and since START: "In view: 2 people · 3 people seen since START (...)"."""
        return f"In view: {_people(sum(self.in_view.values()))} · {self.seen_text()}"

    def seen_text(self) -> str:
        """ "3 people seen since START (1 with mask, 2 without mask, ...)"."""
        return (
            f"{_people(sum(self.people.values()))} seen since START ({_counts(self.people, ', ')})"
        )

    def alert_text(self) -> str:
        """The alert line: who needs attention, or that no one does."""
        if not self.alert:
            return "No one without a mask in view"
        needing = {k: v for k, v in self.in_view.items() if k in ALERT_LABELS and v}
        return "Alert: " + ", ".join(f"{v} {count_phrase(k)}" for k, v in needing.items())

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
            self._in_view = _no_one()
            self._people = _no_one()
            self._frames = 0
            self._dropped = 0
            self._errors = 0
            self._started = self._clock()
            self._first: float | None = None
            self._last: float | None = None
            self._caveats: list[str] = []

    def _prune(self, now: float) -> None:
        while self._times and self._times[0] < now - self.window_s:
            self._times.popleft()

    def update(
        self,
        detections: Sequence[Detection],
        people: Mapping[str, int] | None = None,
        dropped: int = 0,
    ) -> None:
        """Record one processed frame: its faces, the people seen so far by label (from the
        tracker), and the frames skipped to get to it."""
        now = self._clock()
        counts = count_labels(detections)
        with self._lock:
            self._times.append(now)
            self._prune(now)
            self._in_view = counts
            if people is not None:
                self._people = {label: people.get(label, 0) for label in RESULT_LABELS}
            self._frames += 1
            self._dropped += dropped
            if self._first is None:
                self._first = now
            self._last = now

    def set_caveats(self, caveats: Sequence[str]) -> None:
        """The caveats of the latest frame checked (a dark room, a grey night camera)."""
        with self._lock:
            self._caveats = list(caveats)

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
                frames=self._frames,
                dropped=self._dropped,
                errors=self._errors,
                idle_s=None if self._last is None else now - self._last,
                first_frame_s=None if self._first is None else self._first - self._started,
                in_view=dict(self._in_view),
                people=dict(self._people),
                caveats=list(self._caveats),
            )
