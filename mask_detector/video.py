"""Video files: decode with PyAV, follow every face with the tracker, write an H.264 mp4.

Each face is tracked across frames (tracking.FaceTracker), so the result tells people apart: a
table of people (id, label, first and last second, frames) beside the faces per frame. The app
sets limits that keep one upload from holding the (shared) server for long: at most MAX_SECONDS
of video and MAX_FRAMES frames (the rest is cut and `VideoResult.truncated` says so); the
annotated video is at most MAX_SIDE pixels on its longer side. Faces are found and judged on the
frames as decoded, so a small face in a large frame keeps its pixels, and reported in the output's
pixels. Audio is dropped.
`summarize_video` is the whole job for one file, from plain arguments: what the command line
calls, and what a worker process (a batch job) can call per file.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from .caveats import CAVEATS, photo_caveats
from .config import MIN_JUDGED_FACE, PHOTO, RESULT_LABELS, count_phrase
from .detection import TrackedFace, count_labels
from .draw import annotate
from .errors import MaskDetectorError
from .pipeline import MaskDetector
from .progress import Progress
from .tracking import FaceTracker, Person, TrackablePipeline, TrackingSettings

log = logging.getLogger(__name__)

#: Longest stretch of video processed, in seconds.
MAX_SECONDS = 60.0
#: Most frames processed (60 s at 30 fps), whatever the frame rate.
MAX_FRAMES = 1800
#: The annotated video's longer side at most, in pixels (the frames its boxes refer to).
MAX_SIDE = 1280
#: Output encoders in order of preference: H.264 plays in every browser; MPEG-4 part 2 is the
#: fallback for PyAV builds without libx264.
CODECS = ("libx264", "mpeg4")
#: Used when the file does not say its frame rate.
DEFAULT_FPS = 25.0

#: Called after each frame with its index, its time in seconds and the faces shown in it.
FrameCallback = Callable[[int, float, list[TrackedFace]], None]


class InvalidVideoError(MaskDetectorError, ValueError):
    """The file is not a video this build can decode: damaged, audio-only or an unknown codec."""


@dataclass
class VideoResult:
    """What a processed video gave: frame count and rate, faces per frame, and its people."""

    frames: int
    fps: float
    width: int
    height: int
    codec: str | None
    #: Faces shown in each frame, by label (every label of config.RESULT_LABELS).
    counts: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in RESULT_LABELS})
    #: Everyone the tracker followed, by id.
    people: list[Person] = field(default_factory=list)
    #: True when the video was longer than the limits and only its start was processed.
    truncated: bool = False
    #: True when decoding stopped early on damaged data after at least one good frame.
    damaged: bool = False
    #: What makes its labels less sure (keys of caveats.CAVEATS), checked once a second: a
    #: caveat of at least half the checked frames (a night camera's grey, a dark scene).
    caveats: list[str] = field(default_factory=list)

    def times(self) -> list[float]:
        """Time of each frame in seconds."""
        return [i / self.fps for i in range(self.frames)]

    def chart_data(self) -> dict[str, list[float]]:
        """Columns for a line chart of faces over time: "seconds", then one per label
        ("with mask", "without mask", ...)."""
        return {
            "seconds": [round(t, 3) for t in self.times()],
            **{count_phrase(k): [float(v) for v in self.counts[k]] for k in RESULT_LABELS},
        }

    def people_per_label(self) -> dict[str, int]:
        return {k: sum(p.label == k for p in self.people) for k in RESULT_LABELS}

    def summary(self) -> dict[str, Any]:
        """The JSON of `python -m mask_detector video --json` and of the video page's download:
        `frames`, `fps`, `people`, `people_per_label`, `tracks` (`id`, `label`, `confidence`,
        `frames`, `first_s`, `last_s`), with the frame size and the limit flags."""
        return {
            "frames": self.frames,
            "fps": round(self.fps, 3),
            "width": self.width,
            "height": self.height,
            "truncated": self.truncated,
            "damaged": self.damaged,
            "caveats": self.caveats,
            "people": len(self.people),
            "people_per_label": self.people_per_label(),
            "tracks": [p.to_dict(self.fps) for p in self.people],
        }


def frame_record(index: int, time_s: float, faces: list[TrackedFace]) -> dict[str, Any]:
    """One line of `video --frames-jsonl`: `frame`, `time_s`, `faces` (`id`, `box`, `label`,
    `confidence`)."""
    return {"frame": index, "time_s": round(time_s, 3), "faces": [f.to_dict() for f in faces]}


def output_codec() -> str:
    """The first encoder of CODECS that this PyAV build has."""
    for name in CODECS:
        try:
            av.codec.Codec(name, "w")
        except (ValueError, av.FFmpegError):
            continue
        return name
    raise MaskDetectorError(f"this PyAV build has none of the encoders {', '.join(CODECS)}")


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Output size: scaled to max_side and rounded to even numbers (yuv420p needs them)."""
    scale = min(1.0, max_side / max(width, height))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _sized(bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The frame at (width, height), as it is when it already has that size. Frames reach the
    tracker at the first frame's size (its tracks need one size for the whole video, even where
    a stream changes its frame size) and the output at the output's."""
    if (bgr.shape[1], bgr.shape[0]) == size:
        return bgr
    return cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)


def _rescaled(
    faces: list[TrackedFace], source: tuple[int, int], target: tuple[int, int]
) -> list[TrackedFace]:
    """The faces' boxes moved from a (width, height) frame to another size, each at least a
    pixel wide and high (a face counted is a face drawn)."""
    (width, height), (sx, sy) = target, (target[0] / source[0], target[1] / source[1])
    out = []
    for face in faces:
        x, y, w, h = face.box
        x0, y0 = min(round(x * sx), width - 1), min(round(y * sy), height - 1)
        x1 = max(x0 + 1, min(width, round((x + w) * sx)))
        y1 = max(y0 + 1, min(height, round((y + h) * sy)))
        out.append(replace(face, box=(x0, y0, x1 - x0, y1 - y0)))
    return out


def _upright(frame: av.VideoFrame) -> np.ndarray:
    """The frame as BGR, turned as its display matrix says (phone videos shot in portrait)."""
    bgr = frame.to_ndarray(format="bgr24")
    turns = round(getattr(frame, "rotation", 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(bgr, turns)) if turns else bgr


def process_video(
    src_path: str | Path,
    dst_path: str | Path | None,
    pipeline: TrackablePipeline,
    progress: Progress | None = None,
    max_seconds: float | None = MAX_SECONDS,
    max_frames: int | None = MAX_FRAMES,
    max_side: int = MAX_SIDE,
    name: str | None = None,
    *,
    blur: bool = False,
    tracking: TrackingSettings | None = None,
    on_frame: FrameCallback | None = None,
) -> VideoResult:
    """Track and label every face of `src_path`; write the annotated video to `dst_path` (mp4:
    boxes, labels and track ids, faces blurred with `blur=True`), or nothing when it is None.

    `max_seconds` / `max_frames` of None mean no limit. `progress(done, total)` is called after
    each frame (`total` is an estimate from the header); `on_frame(index, time_s, faces)` too.
    Raises InvalidVideoError for a file that cannot be decoded or has no video stream; messages
    call the file `name` (default: its file name), e.g. the name a user uploaded it under.
    """
    src_path = Path(src_path)
    name = name or src_path.name
    try:
        source = av.open(str(src_path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise InvalidVideoError(
            f"{name}: not a video file that can be read ({_reason(exc)})"
        ) from None
    with source:
        if not source.streams.video:
            kinds: list[str] = sorted({s.type for s in source.streams}) or ["nothing"]
            raise InvalidVideoError(
                f"{name}: no video stream in this file (it holds {', '.join(kinds)})"
            )
        stream = source.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or DEFAULT_FPS)
        if not 0 < fps <= 240:
            fps = DEFAULT_FPS
        limits = [max_frames or 0, int(max_seconds * fps) if max_seconds else 0]
        limit = max(1, min(v for v in limits if v)) if any(limits) else None
        total = stream.frames or 0
        if not total and stream.duration and stream.time_base:
            total = max(1, int(float(stream.duration * stream.time_base) * fps))
        total = min(limit, total or limit) if limit else total
        job = _Job(
            FaceTracker(pipeline, fps, tracking), blur, limit, total, max_side, progress, on_frame
        )
        return job.run(source, stream, None if dst_path is None else Path(dst_path), fps, name)


@dataclass
class _Job:
    """One video's processing: the tracker and what to do with each frame."""

    tracker: FaceTracker
    blur: bool
    limit: int | None
    total: int
    max_side: int
    progress: Progress | None
    on_frame: FrameCallback | None
    damaged: bool = False
    #: Frames checked for caveats, and how many had each.
    checked: int = 0
    flagged: Counter[str] = field(default_factory=Counter)

    def run(
        self,
        source: av.container.InputContainer,
        stream: av.video.stream.VideoStream,
        dst_path: Path | None,
        fps: float,
        name: str,
    ) -> VideoResult:
        result: VideoResult | None = None
        out = None if dst_path is None else _Writer(dst_path, fps)
        try:
            for bgr in self._decoded(source.decode(stream), name):
                if result is None:
                    source_size = (bgr.shape[1], bgr.shape[0])
                    width, height = _fit(*source_size, self.max_side)
                    codec = out.open(width, height) if out else None
                    result = VideoResult(0, fps, width, height, codec)
                if self.limit is not None and result.frames >= self.limit:
                    result.truncated = True
                    break
                self._frame(_sized(bgr, source_size), result, out)
            if result is None:
                raise InvalidVideoError(
                    f"{name}: the video stream has no frames that can be decoded"
                )
            result.damaged = self.damaged
            if out:
                out.finish()
        finally:
            if out:
                out.close()
        result.people = self.tracker.people()
        result.caveats = [k for k in CAVEATS if 2 * self.flagged[k] >= self.checked > 0]
        return result

    def _decoded(self, frames: Iterator[av.VideoFrame], name: str) -> Iterator[np.ndarray]:
        """Upright BGR frames; damaged data after a good frame ends them (`damaged` is set),
        before any raises InvalidVideoError."""
        good = 0
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                return
            except (av.FFmpegError, ValueError) as exc:
                if not good:
                    raise InvalidVideoError(
                        f"{name}: the video cannot be decoded ({_reason(exc)}); "
                        "the file may be damaged or use a codec this build lacks"
                    ) from None
                log.warning("%s: decoding stopped after %d frames: %s", name, good, exc)
                self.damaged = True
                return
            good += 1
            yield _upright(frame)

    def _frame(self, bgr: np.ndarray, result: VideoResult, out: _Writer | None) -> None:
        """Track on the frame as decoded; draw and report at the output size."""
        faces = self.tracker.track(bgr)
        if result.frames % max(1, round(result.fps)) == 0:
            self.checked += 1
            self.flagged.update(photo_caveats(bgr))
        output_size = (result.width, result.height)
        if (bgr.shape[1], bgr.shape[0]) != output_size:
            faces = _rescaled(faces, (bgr.shape[1], bgr.shape[0]), output_size)
            bgr = _sized(bgr, output_size)
        for label, n in count_labels(faces).items():
            result.counts[label].append(n)
        if out:
            out.write(annotate(bgr, faces, blur=self.blur), result.frames)
        if self.on_frame:
            self.on_frame(result.frames, result.frames / result.fps, faces)
        result.frames += 1
        if self.progress:
            self.progress(result.frames, max(self.total, result.frames))


class _Writer:
    """The annotated mp4: H.264 (else MPEG-4), yuv420p, streamable (+faststart)."""

    def __init__(self, path: Path, fps: float) -> None:
        self.fps = fps
        self._out = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self._stream: av.video.stream.VideoStream | None = None

    def open(self, width: int, height: int) -> str:
        """Add the video stream once the frame size is known; the codec used."""
        codec = output_codec()
        added = self._out.add_stream(codec, rate=Fraction(self.fps).limit_denominator(1001))
        # CODECS holds video encoders only, so the stream is a VideoStream.
        assert isinstance(added, av.video.stream.VideoStream), type(added)
        added.width, added.height = width, height
        added.pix_fmt = "yuv420p"
        if codec == "libx264":
            added.options = {"preset": "veryfast", "crf": "23"}
        else:
            added.bit_rate = 2_000_000
        self._stream = added
        return codec

    def write(self, bgr: np.ndarray, index: int) -> None:
        assert self._stream is not None  # opened on the first frame
        frame = av.VideoFrame.from_ndarray(bgr, format="bgr24")
        frame.pts = index
        self._out.mux(self._stream.encode(frame))

    def finish(self) -> None:
        assert self._stream is not None
        self._out.mux(self._stream.encode(None))

    def close(self) -> None:
        self._out.close()


def load_pipeline(
    *,
    detector: str = PHOTO.detector,
    model: str | Path | None = None,
    yunet_model: str | Path | None = None,
    min_confidence: float = 0.0,
    min_face: int = PHOTO.min_face,
    small_faces: bool = PHOTO.small_faces,
    min_judged_face: int = MIN_JUDGED_FACE,
    download: bool = False,
    num_threads: int | None = None,
) -> MaskDetector:
    """The pipeline summarize_video runs with these settings (by default what video files
    take, config.PHOTO), loaded once per process: a batch worker loads it before its first
    video, so that a wrong model file stops it at once."""
    return MaskDetector.load(
        model,
        detector,
        yunet_model,
        min_confidence,
        download,
        min_face=min_face,
        small_faces=small_faces,
        min_judged_face=min_judged_face,
        shared=True,
        num_threads=num_threads,
    )


def summarize_video(
    path: str | Path,
    out: str | Path | None = None,
    *,
    detector: str = PHOTO.detector,
    model: str | Path | None = None,
    yunet_model: str | Path | None = None,
    min_confidence: float = 0.0,
    min_face: int = PHOTO.min_face,
    small_faces: bool = PHOTO.small_faces,
    min_judged_face: int = MIN_JUDGED_FACE,
    download: bool = False,
    blur: bool = False,
    max_seconds: float | None = None,
    progress: Progress | None = None,
    on_frame: FrameCallback | None = None,
    num_threads: int | None = None,
) -> dict[str, Any]:
    """The people in one video file, as a JSON-able dict (`VideoResult.summary` plus `file`);
    the annotated video too when `out` is given. The whole video unless `max_seconds` is set.

    Plain arguments in, plain dict out, and the models are loaded once per process
    (MaskDetector.load(shared=True)), so a worker process can call it for file after file
    (`num_threads`: the classifier's threads, see MaskDetector.load). Raises InvalidVideoError
    (a MaskDetectorError) for a file that is not a readable video.
    """
    pipeline = load_pipeline(
        detector=detector,
        model=model,
        yunet_model=yunet_model,
        min_confidence=min_confidence,
        min_face=min_face,
        small_faces=small_faces,
        min_judged_face=min_judged_face,
        download=download,
        num_threads=num_threads,
    )
    result = process_video(
        path,
        out,
        pipeline,
        progress,
        max_seconds=max_seconds,
        max_frames=None,
        name=str(path),
        blur=blur,
        on_frame=on_frame,
    )
    return {"file": str(path), **result.summary()}


def _reason(exc: BaseException) -> str:
    """A short reason from a PyAV error, without the file path it repeats."""
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(": '")[0]
