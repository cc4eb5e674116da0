"""The /live page's video processor: each camera frame in, the annotated frame out.

streamlit-webrtc (async_processing, the default) runs it on a worker thread and hands
`recv_queued` every frame that arrived while the previous one was being processed; only the newest
is processed, the rest are dropped and counted, so a slow machine shows a lower frame rate but
never a growing delay. Duck-typed, so neither streamlit nor streamlit-webrtc is imported here.
"""

from __future__ import annotations

import logging
from typing import Protocol

import av
import numpy as np

from ..detection import Detection
from .stats import LiveStats

log = logging.getLogger(__name__)


class FrameProcessor(Protocol):
    """The part of MaskDetector a live stream needs."""

    def process(self, image: np.ndarray) -> tuple[np.ndarray, list[Detection]]: ...


class LiveProcessor:
    """streamlit-webrtc video processor (duck-typed: no streamlit import needed here).

    `pipeline` may be replaced between frames (the page does when the sidebar settings change);
    the attribute is read once per frame, which is atomic in Python.
    """

    def __init__(self, pipeline: FrameProcessor, stats: LiveStats | None = None) -> None:
        self.pipeline = pipeline
        self.stats = stats if stats is not None else LiveStats()
        self._error_logged = False

    def process_bgr(self, bgr: np.ndarray) -> np.ndarray:
        """Detect, draw and count on one BGR frame; a failure leaves the frame as it was."""
        try:
            annotated, detections = self.pipeline.process(bgr)
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
