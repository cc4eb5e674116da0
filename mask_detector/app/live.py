"""The /live page's video processor: each camera frame in, the annotated frame out.

streamlit-webrtc (async_processing, the default) runs it on a worker thread and hands
`recv_queued` every frame that arrived while the previous one was being processed; only the newest
is processed, the rest are dropped and counted, so a slow machine shows a lower frame rate but
never a growing delay. Faces are tracked across frames (tracking.FaceTracker: steady ids and
labels, a stable face classified only every few frames). Duck-typed, so neither streamlit nor
streamlit-webrtc is imported here.
"""

from __future__ import annotations

import logging

import av
import numpy as np

from ..caveats import photo_caveats
from ..tracking import FaceTracker, TrackablePipeline, TrackingSettings
from .stats import LiveStats

log = logging.getLogger(__name__)

#: Frame rate the tracker assumes for a camera (it counts its bridge and memory in frames).
CAMERA_FPS = 15.0
#: Processed frames between two checks of the camera's caveats (grey, dark).
CAVEAT_EVERY = round(CAMERA_FPS)
#: The face detector, the largest cost of a frame, runs on every other camera frame; tracks are
#: drawn where their motion predicts them in between (benchmarks/live_stream.py measures it).
LIVE_TRACKING = TrackingSettings(detect_every=2)


class LiveProcessor:
    """streamlit-webrtc video processor (duck-typed: no streamlit import needed here).

    `pipeline` and `blur` may be changed between frames (the page does when the sidebar settings
    change): each is read once per frame, which is atomic in Python. The tracks carry over.
    """

    def __init__(
        self, pipeline: TrackablePipeline, stats: LiveStats | None = None, *, blur: bool = False
    ) -> None:
        self.tracker = FaceTracker(pipeline, CAMERA_FPS, LIVE_TRACKING)
        self.stats = stats if stats is not None else LiveStats()
        self.blur = blur
        self._error_logged = False
        self._frames = 0

    @property
    def pipeline(self) -> TrackablePipeline:
        return self.tracker.pipeline

    @pipeline.setter
    def pipeline(self, pipeline: TrackablePipeline) -> None:
        self.tracker.pipeline = pipeline

    def process_bgr(self, bgr: np.ndarray) -> np.ndarray:
        """Track, draw and count on one BGR frame; a failure leaves the frame as it was."""
        try:
            annotated, faces = self.tracker.process(bgr, blur=self.blur)
        except Exception:  # one bad frame must not end the stream for the user
            if not self._error_logged:
                log.exception("live frame processing failed (further failures are counted)")
                self._error_logged = True
            self.stats.add_error()
            return bgr
        self.stats.update(faces, self.tracker.people_per_label())
        if self._frames % CAVEAT_EVERY == 0:  # the light changes slowly: once a second
            self.stats.set_caveats(photo_caveats(bgr))
        self._frames += 1
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
