"""Video files: decode with PyAV, label every frame with the pipeline, write an H.264 mp4.

Limits keep one upload from holding the (shared) server for long: at most MAX_SECONDS of video
and MAX_FRAMES frames are processed (the rest is cut and `VideoResult.truncated` says so), and
frames larger than MAX_SIDE pixels on their longer side are scaled down first. Audio is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from .config import LABELS
from .detection import count_labels
from .errors import MaskDetectorError
from .pipeline import MaskDetector
from .progress import Progress

log = logging.getLogger(__name__)

#: Longest stretch of video processed, in seconds.
MAX_SECONDS = 60.0
#: Most frames processed (60 s at 30 fps), whatever the frame rate.
MAX_FRAMES = 1800
#: Frames are scaled down so that their longer side is at most this many pixels.
MAX_SIDE = 1280
#: Output encoders in order of preference: H.264 plays in every browser; MPEG-4 part 2 is the
#: fallback for PyAV builds without libx264.
CODECS = ("libx264", "mpeg4")
#: Used when the file does not say its frame rate.
DEFAULT_FPS = 25.0


class InvalidVideoError(MaskDetectorError, ValueError):
    """The file is not a video this build can decode: damaged, audio-only or an unknown codec."""


@dataclass
class VideoResult:
    """What a processed video gave: frame count, rate and faces per frame, by label."""

    frames: int
    fps: float
    width: int
    height: int
    codec: str
    with_mask: list[int] = field(default_factory=list)
    without_mask: list[int] = field(default_factory=list)
    #: True when the video was longer than the limits and only its start was processed.
    truncated: bool = False
    #: True when decoding stopped early on damaged data after at least one good frame.
    damaged: bool = False

    def times(self) -> list[float]:
        """Time of each frame in seconds."""
        return [i / self.fps for i in range(self.frames)]

    def chart_data(self) -> dict[str, list[float]]:
        """Columns for a line chart of faces over time."""
        return {
            "seconds": [round(t, 3) for t in self.times()],
            "with mask": [float(v) for v in self.with_mask],
            "without mask": [float(v) for v in self.without_mask],
        }


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


def _upright(frame: av.VideoFrame) -> np.ndarray:
    """The frame as BGR, turned as its display matrix says (phone videos shot in portrait)."""
    bgr = frame.to_ndarray(format="bgr24")
    turns = round(getattr(frame, "rotation", 0) / 90) % 4
    return np.ascontiguousarray(np.rot90(bgr, turns)) if turns else bgr


def process_video(
    src_path: str | Path,
    dst_path: str | Path,
    pipeline: MaskDetector,
    progress: Progress | None = None,
    max_seconds: float = MAX_SECONDS,
    max_frames: int = MAX_FRAMES,
    max_side: int = MAX_SIDE,
    name: str | None = None,
) -> VideoResult:
    """Label every frame of `src_path` and write the annotated video to `dst_path` (mp4).

    `progress(done, total)` is called after each frame; `total` is an estimate from the header.
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
        limit = max(1, min(max_frames, int(max_seconds * fps)))
        total = min(limit, stream.frames) if stream.frames else limit
        if not stream.frames and stream.duration and stream.time_base:
            total = min(limit, max(1, int(float(stream.duration * stream.time_base) * fps)))
        return _transcode(
            source, stream, Path(dst_path), pipeline, fps, limit, total, max_side, progress, name
        )


def _transcode(
    source: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    dst_path: Path,
    pipeline: MaskDetector,
    fps: float,
    limit: int,
    total: int,
    max_side: int,
    progress: Progress | None,
    name: str,
) -> VideoResult:
    codec = output_codec()
    result: VideoResult | None = None
    frames = source.decode(stream)
    out = av.open(str(dst_path), "w", format="mp4", options={"movflags": "+faststart"})
    try:
        out_stream: av.video.stream.VideoStream | None = None
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except (av.FFmpegError, ValueError) as exc:
                if result is None or result.frames == 0:
                    raise InvalidVideoError(
                        f"{name}: the video cannot be decoded ({_reason(exc)}); "
                        "the file may be damaged or use a codec this build lacks"
                    ) from None
                log.warning("%s: decoding stopped after %d frames: %s", name, result.frames, exc)
                result.damaged = True
                break
            bgr = _upright(frame)
            if result is None:
                width, height = _fit(bgr.shape[1], bgr.shape[0], max_side)
                rate = Fraction(fps).limit_denominator(1001)
                added = out.add_stream(codec, rate=rate)
                # CODECS holds video encoders only, so the stream is a VideoStream.
                assert isinstance(added, av.video.stream.VideoStream), type(added)
                out_stream = added
                out_stream.width, out_stream.height = width, height
                out_stream.pix_fmt = "yuv420p"
                if codec == "libx264":
                    out_stream.options = {"preset": "veryfast", "crf": "23"}
                else:
                    out_stream.bit_rate = 2_000_000
                result = VideoResult(0, fps, width, height, codec)
            if result.frames >= limit:
                result.truncated = True
                break
            if bgr.shape[1] != result.width or bgr.shape[0] != result.height:
                bgr = cv2.resize(bgr, (result.width, result.height), interpolation=cv2.INTER_AREA)
            annotated, faces = pipeline.process(bgr)
            counts = count_labels(faces)
            result.with_mask.append(counts[LABELS[0]])
            result.without_mask.append(counts[LABELS[1]])
            encoded = av.VideoFrame.from_ndarray(annotated, format="bgr24")
            encoded.pts = result.frames
            result.frames += 1
            assert out_stream is not None  # added together with `result` above
            out.mux(out_stream.encode(encoded))
            if progress:
                progress(result.frames, max(total, result.frames))
        if result is None or result.frames == 0:
            raise InvalidVideoError(f"{name}: the video stream has no frames that can be decoded")
        assert out_stream is not None  # a frame was encoded, so the stream exists
        out.mux(out_stream.encode(None))
    finally:
        out.close()
    return result


def _reason(exc: BaseException) -> str:
    """A short reason from a PyAV error, without the file path it repeats."""
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(": '")[0]
