"""Live camera support for the /live page: per-frame processing, live statistics, ICE settings.

No Streamlit here, so every piece is testable without a browser:

* `LiveProcessor` is the streamlit-webrtc video processor. streamlit-webrtc (async_processing, the
  default) runs it on a worker thread and hands `recv_queued` every frame that arrived while the
  previous one was being processed; only the newest is processed, the rest are dropped and
  counted, so a slow machine shows a lower frame rate but never a growing delay.
* `LiveStats` carries results from that worker thread to the page under a lock: the page reads a
  `LiveSnapshot` once a second instead of the callback calling st.* (which does not work there).
* `rtc_configuration` reads the ICE servers (STUN/TURN) from the environment or st.secrets.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import av
import numpy as np

from .config import LABELS
from .detection import Detection, count_labels

log = logging.getLogger(__name__)

#: JSON list of RTCIceServer dicts ({"urls": ..., "username": ..., "credential": ...}).
ENV_ICE_SERVERS = "MASK_DETECTOR_ICE_SERVERS"
#: Test-only: "1" keeps the server's ICE on 127.0.0.1 (no STUN, no other interface).
ENV_TEST_LOOPBACK_ICE = "MASK_DETECTOR_TEST_LOOPBACK_ICE"
#: st.secrets key holding the same list as ENV_ICE_SERVERS (e.g. TURN credentials).
SECRETS_KEY = "ice_servers"
#: Public STUN: enough when the browser and the server can reach each other directly.
DEFAULT_ICE_SERVERS: list[dict[str, Any]] = [{"urls": ["stun:stun.l.google.com:19302"]}]
LOOPBACK = "127.0.0.1"

#: Seconds of history behind the frames-per-second figure.
FPS_WINDOW_S = 2.0


class FrameProcessor(Protocol):
    """The part of MaskDetector a live stream needs."""

    def process(self, image: np.ndarray) -> tuple[np.ndarray, list[Detection]]: ...


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


class LiveProcessor:
    """streamlit-webrtc video processor (duck-typed: no streamlit import needed here).

    `detector` may be replaced between frames (the page does when the sidebar settings change);
    the attribute is read once per frame, which is atomic in Python.
    """

    def __init__(self, detector: FrameProcessor, stats: LiveStats | None = None) -> None:
        self.detector = detector
        self.stats = stats if stats is not None else LiveStats()
        self._error_logged = False

    def process_bgr(self, bgr: np.ndarray) -> np.ndarray:
        """Detect, draw and count on one BGR frame; a failure leaves the frame as it was."""
        try:
            annotated, detections = self.detector.process(bgr)
        except Exception:  # one bad frame must not end the stream for the user
            if not self._error_logged:
                log.exception("live frame processing failed (further failures are counted)")
                self._error_logged = True
            self.stats.add_error()
            return bgr
        self.stats.update(detections)
        return annotated

    def recv(self, frame: av.VideoFrame) -> av.VideoFrame:
        """One frame in, the annotated frame out (timestamps are copied by streamlit-webrtc)."""
        out = self.process_bgr(frame.to_ndarray(format="bgr24"))
        return av.VideoFrame.from_ndarray(out, format="bgr24")

    async def recv_queued(self, frames: list[av.VideoFrame]) -> list[av.VideoFrame]:
        """Only the newest of the frames that queued up is processed; the others are dropped.

        Processing them all would make every later frame wait longer (lag grows without bound on
        a slow CPU). streamlit-webrtc repeats the last output frame for the skipped ones.
        """
        if len(frames) > 1:
            self.stats.add_dropped(len(frames) - 1)
        return [self.recv(frames[-1])]


# --- ICE configuration --------------------------------------------------------------------------


def parse_ice_servers(value: Any) -> list[dict[str, Any]]:
    """A validated list of RTCIceServer dicts from JSON text, a list, or {"iceServers": [...]}."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"ICE servers are not valid JSON: {exc}") from None
    if isinstance(value, Mapping) and "iceServers" in value:
        value = value["iceServers"]
    if isinstance(value, Mapping):  # one server
        value = [value]
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValueError("ICE servers must be a list of {'urls': ...} objects")
    servers = []
    for server in value:
        if not isinstance(server, Mapping) or not server.get("urls"):
            raise ValueError(f"ICE server without 'urls': {server!r}")
        servers.append(dict(server))
    return servers


def loopback_ice_enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get(ENV_TEST_LOOPBACK_ICE, "") not in ("", "0", "false")


def ice_servers(
    environ: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """ICE servers: the environment variable first, then st.secrets, else public STUN.

    In loopback test mode there are none at all: nothing may leave 127.0.0.1.
    """
    env = os.environ if environ is None else environ
    if loopback_ice_enabled(env):
        return []
    if env.get(ENV_ICE_SERVERS, "").strip():
        return parse_ice_servers(env[ENV_ICE_SERVERS])
    if secrets is not None and secrets.get(SECRETS_KEY) is not None:
        return parse_ice_servers(_plain(secrets[SECRETS_KEY]))
    return [dict(s) for s in DEFAULT_ICE_SERVERS]


def _plain(value: Any) -> Any:
    """st.secrets hands out its own mapping types; json.dumps-able copies validate the same."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def rtc_configuration(
    environ: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The rtc_configuration for webrtc_streamer (browser and server alike).

    An explicit list (even empty) matters: without one streamlit-webrtc fetches TURN credentials
    from third-party services on its own.
    """
    if loopback_ice_enabled(environ):
        enable_loopback_ice()
    return {"iceServers": ice_servers(environ, secrets)}


_loopback_lock = threading.Lock()
_loopback_enabled = False


def enable_loopback_ice() -> None:
    """Test-only: make aioice (aiortc's ICE) offer and accept 127.0.0.1 candidates only.

    aioice leaves loopback out of its host candidates and would offer every other interface;
    here it offers only 127.0.0.1, and remote candidates on other addresses (including mDNS
    names, whose resolution would send multicast) are ignored. Idempotent, process-wide.
    """
    global _loopback_enabled
    with _loopback_lock:
        if _loopback_enabled:
            return
        import aioice.ice

        def loopback_addresses(use_ipv4: bool = True, use_ipv6: bool = False) -> list[str]:
            return [LOOPBACK] if use_ipv4 else []

        original_add = aioice.ice.Connection.add_remote_candidate

        async def add_loopback_candidate(self: Any, remote_candidate: Any) -> None:
            if remote_candidate is not None and remote_candidate.host != LOOPBACK:
                log.debug("loopback ICE: ignoring remote candidate %s", remote_candidate.host)
                return
            await original_add(self, remote_candidate)

        aioice.ice.get_host_addresses = loopback_addresses
        aioice.ice.Connection.add_remote_candidate = add_loopback_candidate  # type: ignore[method-assign]
        _loopback_enabled = True
        log.warning("loopback-only ICE enabled (%s): for tests only", ENV_TEST_LOOPBACK_ICE)
