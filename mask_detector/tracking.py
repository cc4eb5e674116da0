"""Faces followed across the frames of a stream: one person, one id, one steady label.

A detector finds a face in most frames, not all, and a classifier looking at one frame at a time
gives a moving face a different label now and then. Per frame, FaceTracker:

1. runs the pipeline's face detector;
2. ties each box to a track with ByteTrack (the `trackers` library: a Kalman filter predicts
   where each track's box should be, the Hungarian algorithm matches boxes to predictions by
   overlap); a face seen for the first time gets an id on its second frame;
3. classifies, in one classifier call, only the faces that need it: new faces, tracks whose
   label is not settled yet, and settled (stable) tracks every `reclassify_every` frames;
4. labels each track with the mean of its last `window` class probabilities (probabilities,
   not votes: a 55% frame weighs less than a 99% one); a face too small to judge
   (`MaskDetector.judges`) is not classified, and a track never judged is shown as
   config.TOO_SMALL, with no confidence;
5. keeps showing a track, where its motion predicts it, through up to `bridge_s` seconds of
   missed detections (and through the frames the detector skips when `detect_every` > 1).

The live page, the video page and `python -m mask_detector video` all use it. One FaceTracker
follows one stream (it keeps that stream's tracks): make one per camera session or file.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .config import RESULT_LABELS, TOO_SMALL
from .detection import Box, Detection, TrackedFace, top_label
from .detectors import FaceDetector, clip_box
from .detectors.base import box_iou
from .draw import annotate
from .imageio import as_bgr

#: The trackers library numbers tracks with a counter shared by all its trackers in the process
#: and changes it without a lock; its updates run under this one (they take ~0.2 ms per face).
_LIBRARY_LOCK = threading.Lock()


@dataclass(frozen=True)
class TrackingSettings:
    """How tracks are followed and labelled; the defaults suit 10-30 fps camera and video."""

    #: Seconds a track is still drawn, at its predicted place, while its face is not detected.
    bridge_s: float = 0.5
    #: Seconds a lost track may still be found again under its id (ByteTrack's lost buffer).
    forget_s: float = 1.0
    #: Frames between classifications of a stable track.
    reclassify_every: int = 5
    #: Classifications averaged into a track's label.
    window: int = 8
    #: A track is stable once classified this many times with a smoothed confidence of at least
    #: `stable_confidence`; until then it is classified every frame.
    stable_after: int = 3
    stable_confidence: float = 0.8
    #: Least overlap (IoU) of a box with a track's predicted box for the two to be matched.
    min_iou: float = 0.1
    #: Run the face detector on every n-th frame only; in between, tracks are shown where their
    #: motion predicts them. 2 halves the detector's cost: what a camera on a busy server wants.
    detect_every: int = 1


@dataclass(frozen=True)
class Person:
    """One track over its whole life: what the people tables, CSV and JSON report."""

    id: int
    #: The label of the mean class probabilities over all its classifications, and that mean.
    label: str
    #: None for a person whose face was always too small to judge (label config.TOO_SMALL).
    confidence: float | None
    #: Frames it was shown in (bridged gaps between detections included).
    frames: int
    first_frame: int
    last_frame: int

    def to_dict(self, fps: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "frames": self.frames,
            "first_s": round(self.first_frame / fps, 3),
            "last_s": round(self.last_frame / fps, 3),
        }


class TrackablePipeline(Protocol):
    """What FaceTracker needs of a MaskDetector."""

    detector: FaceDetector
    min_confidence: float

    def probabilities(self, bgr: np.ndarray, boxes: Sequence[Box]) -> np.ndarray: ...

    def judges(self, box: Box) -> bool: ...


class _Track:
    """One person's state: recent class probabilities, when it was last classified and seen."""

    def __init__(self, window: int, first_frame: int) -> None:
        self.id: int | None = None  # given when first shown, so ids run 1, 2, 3 without gaps
        self.recent: deque[np.ndarray] = deque(maxlen=window)
        self.total: np.ndarray | float = 0.0  # sum of all its class probabilities
        self.classified = 0
        self.last_classified = -1
        self.first_frame = first_frame  # first and last frame shown
        self.last_frame = first_frame
        self.last_seen = first_frame  # last frame its face was detected
        self.frames = 0
        self.bridged = 0  # frames shown since last_seen; counted once the face is seen again
        self.box: Box | None = None  # where its face was last detected
        self.velocity = np.zeros(4)  # of the box, per frame (smoothed over its steps)
        self.steps = 0

    def seen(self, box: Box, frame: int) -> None:
        """Its face was detected at `box` in `frame`."""
        if self.box is not None and frame > self.last_seen:
            step = np.subtract(box, self.box) / (frame - self.last_seen)
            self.velocity = step if self.steps == 0 else 0.5 * self.velocity + 0.5 * step
            self.steps += 1
        self.box = box
        self.last_seen = frame

    def predicted(self, frame: int) -> tuple[float, ...]:
        """Where its box should be in `frame`, moving on as it last moved."""
        assert self.box is not None
        return tuple(np.add(self.box, self.velocity * (frame - self.last_seen)))

    def add(self, probabilities: np.ndarray, frame: int) -> None:
        self.recent.append(probabilities)
        self.total += probabilities
        self.classified += 1
        self.last_classified = frame

    def label(self) -> tuple[str, float | None]:
        """The smoothed label: the mean of the recent class probabilities (too small to judge
        while it has none)."""
        if not self.recent:
            return TOO_SMALL, None
        return top_label(np.mean(self.recent, axis=0))

    def stable(self, settings: TrackingSettings) -> bool:
        confidence = self.label()[1]
        return (
            self.classified >= settings.stable_after
            and confidence is not None
            and confidence >= settings.stable_confidence
        )

    def person(self) -> Person:
        assert self.id is not None
        label, confidence = (
            top_label(np.asarray(self.total) / self.classified)
            if self.classified
            else (TOO_SMALL, None)
        )
        return Person(self.id, label, confidence, self.frames, self.first_frame, self.last_frame)


class FaceTracker:
    """Follows the faces of one stream of frames (module docstring). Not thread-safe: one
    stream's frames come one after another; `pipeline` may be replaced between frames."""

    def __init__(
        self,
        pipeline: TrackablePipeline,
        fps: float = 15.0,
        settings: TrackingSettings | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.fps = fps
        self.settings = settings or TrackingSettings()
        self.reset()

    def reset(self) -> None:
        """Forget every track: the next frame starts a new stream."""
        from trackers import ByteTrackTracker  # imports scipy and supervision: ~0.5 s

        self._bytetrack = ByteTrackTracker(
            # Frames a lost track is kept: the library counts them at 30 fps (of its updates,
            # one per detected frame).
            lost_track_buffer=max(1, round(30 * self.settings.forget_s)),
            frame_rate=self.fps / self.settings.detect_every,
            # Boxes carry no detector score (all 1.0): every unmatched box starts a track.
            track_activation_threshold=0.5,
            minimum_consecutive_frames=2,
            minimum_iou_threshold=self.settings.min_iou,
        )
        self._bridge_frames = max(0, round(self.settings.bridge_s * self.fps))
        self._tracks: dict[int, _Track] = {}  # by the library's track id
        self._finished: list[Person] = []
        self._finished_labels: Counter[str] = Counter()
        #: The first-frame faces of the last detected frame: box, class probabilities (None:
        #: too small to judge), shown or not, frame.
        self._new: list[tuple[Box, np.ndarray | None, bool, int]] = []
        self._next_id = 1
        self.frame = 0  # index of the next frame

    def process(
        self, image: np.ndarray, *, blur: bool = False
    ) -> tuple[np.ndarray, list[TrackedFace]]:
        """Track and draw one frame (faces blurred first with `blur=True`)."""
        bgr = as_bgr(image)
        faces = self.track(bgr)
        return annotate(bgr, faces, blur=blur), faces

    def track(self, image: np.ndarray) -> list[TrackedFace]:
        """The faces to show in this frame, each with its track's id and smoothed label."""
        bgr = as_bgr(image)
        frame = self.frame
        self.frame += 1
        if frame % self.settings.detect_every:
            return self._bridge(bgr.shape, frame, set())
        boxes = self.pipeline.detector.detect(bgr)
        ids = self._associate(boxes)

        # Which faces to classify now: first-frame faces, unsettled tracks, stable ones when due;
        # never one too small to judge.
        todo = []
        for i, lib_id in enumerate(ids):
            track = self._tracks.get(lib_id) if lib_id >= 0 else None
            if lib_id >= 0 and track is None:
                track = self._tracks[lib_id] = self._start(boxes[i], frame)
            due = track is None or not self._settled(track, frame)
            if due and self.pipeline.judges(boxes[i]):
                todo.append(i)
        probabilities = dict(
            zip(todo, self.pipeline.probabilities(bgr, [boxes[i] for i in todo]), strict=True)
        )

        faces: list[TrackedFace] = []
        new: list[tuple[Box, np.ndarray | None, bool, int]] = []
        for i, lib_id in enumerate(ids):
            if lib_id < 0:
                judged = probabilities.get(i)
                first = (TOO_SMALL, None) if judged is None else top_label(judged)
                shown = self._shown(None, boxes[i], *first)
                new.append((boxes[i], judged, bool(shown), frame))
                faces += shown
                continue
            track = self._tracks[lib_id]
            if i in probabilities:
                track.add(probabilities[i], frame)
            shown = self._shown(track, boxes[i], *track.label())
            if shown:  # the frames bridged since it was last seen count now that it is back
                if not track.frames:
                    track.first_frame = frame
                track.frames += track.bridged + 1
                track.last_frame = frame
            track.bridged = 0
            track.seen(boxes[i], frame)
            faces += shown
        self._new = new
        faces += self._bridge(bgr.shape, frame, {i for i in ids if i >= 0})
        return faces

    def _associate(self, boxes: list[Box]) -> list[int]:
        """The library's track id of each box (-1: a face seen for the first time); the tracks
        the library has let go of are finished."""
        import supervision as sv

        xyxy = np.array([(x, y, x + w, y + h) for x, y, w, h in boxes], np.float32).reshape(-1, 4)
        detections = sv.Detections(
            xyxy=xyxy, confidence=np.ones(len(boxes)), data={"index": np.arange(len(boxes))}
        )
        with _LIBRARY_LOCK:
            out = self._bytetrack.update(detections)
            alive = {int(t.tracker_id) for t in self._bytetrack.tracks}
        self._finish(self._tracks.keys() - alive)
        ids = [-1] * len(boxes)
        if len(out):
            for index, lib_id in zip(out.data["index"], out.tracker_id, strict=True):
                ids[int(index)] = int(lib_id)
        return ids

    def _start(self, box: Box, frame: int) -> _Track:
        """A new track; it takes over the first-frame face it grew from (the last detected
        frame's face that overlaps it most), so its first frame and first label are not lost."""
        track = _Track(self.settings.window, frame)
        scored = [(box_iou(box, old[0]), i) for i, old in enumerate(self._new)]
        overlap, best = max(scored, default=(0.0, -1))
        if overlap >= 0.3:
            first_box, probabilities, shown, first = self._new.pop(best)
            if probabilities is not None:
                track.add(probabilities, first)
            track.seen(first_box, first)
            if shown:
                track.first_frame = track.last_frame = first
                track.frames = 1
        return track

    def _settled(self, track: _Track, frame: int) -> bool:
        """True when a track's label needs no classification in this frame."""
        due = frame - track.last_classified >= self.settings.reclassify_every
        return track.stable(self.settings) and not due

    def _shown(
        self, track: _Track | None, box: Box, label: str, conf: float | None
    ) -> list[TrackedFace]:
        """The face as shown (none when its label is less sure than the pipeline's threshold; a
        face too small to judge, with no confidence, always); a track gets its id the first time
        it is shown."""
        if conf is not None and conf < self.pipeline.min_confidence:
            return []
        if track is not None and track.id is None:
            track.id = self._next_id
            self._next_id += 1
        return [TrackedFace(box, label, conf, None if track is None else track.id)]

    def _bridge(self, shape: tuple[int, ...], frame: int, seen: set[int]) -> list[TrackedFace]:
        """Tracks not detected in this frame (missed, or the detector skipped the frame) but seen
        within the bridge, where their motion predicts them."""
        faces: list[TrackedFace] = []
        for lib_id, track in self._tracks.items():
            if lib_id in seen or track.id is None or frame - track.last_seen > self._bridge_frames:
                continue
            x, y, w, h = track.predicted(frame)
            box = clip_box((x, y, w, h), shape[1], shape[0])
            shown = [] if box is None else self._shown(track, box, *track.label())
            track.bridged += len(shown)
            faces += shown
        return faces

    def _finish(self, lib_ids: set[int]) -> None:
        """Tracks the library dropped: kept as people when they were ever shown."""
        for lib_id in lib_ids:
            track = self._tracks.pop(lib_id)
            if track.id is not None:
                self._finished.append(track.person())
                self._finished_labels[self._finished[-1].label] += 1

    def people(self) -> list[Person]:
        """Every person shown so far, by id."""
        live = [t.person() for t in self._tracks.values() if t.id is not None]
        return sorted(self._finished + live, key=lambda p: p.id)

    def people_per_label(self) -> dict[str, int]:
        """People shown so far by label, every label of config.RESULT_LABELS present (cheap
        enough for every frame of a long stream: finished tracks are counted as they end)."""
        found = self._finished_labels + Counter(
            t.person().label for t in self._tracks.values() if t.id is not None
        )
        return {label: found[label] for label in RESULT_LABELS}


def label_switches(frames: Sequence[Sequence[Detection]]) -> int:
    """How often a tracked face's label differs from its label in the frame before: 0 for a
    steady tracker (an evaluation figure)."""
    last: dict[int, str] = {}
    switches = 0
    for faces in frames:
        for face in faces:
            if not isinstance(face, TrackedFace) or face.track_id is None:
                continue
            before = last.get(face.track_id)
            switches += before is not None and before != face.label
            last[face.track_id] = face.label
    return switches
