"""Video files: annotated output, per-frame counts, limits, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from helpers import needs_model
from mask_detector import video
from mask_detector.detection import Detection
from mask_detector.errors import MaskDetectorError
from mask_detector.video import InvalidVideoError, output_codec, process_video


class OneFace:
    """Stands in for MaskDetector: one fixed face per frame, so counts are known exactly."""

    def __init__(self, label: str = "with_mask") -> None:
        self.label = label
        self.shapes: list[tuple[int, ...]] = []

    def process(self, image):
        self.shapes.append(image.shape)
        return image.copy(), [Detection((1, 1, 10, 10), self.label, 0.9)]


def write_video(path: Path, frames: list[np.ndarray], fps: int = 10, **options) -> Path:
    """An mp4 (or whatever `path`'s suffix says) of BGR frames, H.264 when available."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w", **options) as out:
        stream = out.add_stream(output_codec(), rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def count_frames(path: Path) -> tuple[int, str, tuple[int, int]]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        return n, s.codec_context.name, (s.width, s.height)


@pytest.fixture(scope="module")
def clip(tmp_path_factory, astronaut_bgr, masked_astronaut_bgr) -> Path:
    """Eight frames: four bare faces then four masked ones."""
    frames = [astronaut_bgr] * 4 + [masked_astronaut_bgr] * 4
    return write_video(tmp_path_factory.mktemp("v") / "clip.mp4", frames)


def test_output_frames_fps_and_counts(clip, tmp_path):
    dst = tmp_path / "out.mp4"
    progress = []
    result = process_video(clip, dst, OneFace(), progress=lambda d, t: progress.append((d, t)))
    assert (result.frames, result.fps, result.width, result.height) == (8, 10.0, 512, 512)
    assert result.with_mask == [1] * 8 and result.without_mask == [0] * 8
    assert not result.truncated and not result.damaged
    assert progress[-1] == (8, 8)
    frames, codec, size = count_frames(dst)
    assert frames == 8 and size == (512, 512)
    assert codec == ("h264" if result.codec == "libx264" else "mpeg4")
    chart = result.chart_data()
    assert chart["seconds"][:2] == [0.0, 0.1] and len(chart["with mask"]) == 8


@needs_model
def test_real_pipeline_counts_each_frame(clip, tmp_path):
    from mask_detector.pipeline import MaskDetector

    result = process_video(clip, tmp_path / "out.mp4", MaskDetector.load())
    assert result.frames == 8
    faces = np.add(result.with_mask, result.without_mask)
    assert len(faces) == 8 and faces.min() >= 1  # the astronaut, bare and masked, every frame
    assert count_frames(tmp_path / "out.mp4")[0] == 8


def test_limits_cut_the_video_and_say_so(clip, tmp_path):
    result = process_video(clip, tmp_path / "a.mp4", OneFace(), max_frames=3)
    assert result.frames == 3 and result.truncated
    assert count_frames(tmp_path / "a.mp4")[0] == 3
    result = process_video(clip, tmp_path / "b.mp4", OneFace(), max_seconds=0.5)
    assert result.frames == 5 and result.truncated


def test_large_frames_are_scaled_to_even_sizes(tmp_path):
    frames = [np.full((302, 402, 3), 128, np.uint8)] * 2  # 151 px high at half size: odd
    src = write_video(tmp_path / "wide.mp4", frames)
    pipeline = OneFace()
    result = process_video(src, tmp_path / "out.mp4", pipeline, max_side=201)
    assert (result.width, result.height) == (200, 150)
    assert pipeline.shapes == [(150, 200, 3)] * 2
    assert count_frames(tmp_path / "out.mp4")[2] == (200, 150)


def test_mpeg4_fallback_when_libx264_is_missing(clip, tmp_path, monkeypatch):
    monkeypatch.setattr(video, "CODECS", ("no-such-encoder", "mpeg4"))
    assert output_codec() == "mpeg4"
    result = process_video(clip, tmp_path / "out.mp4", OneFace(), max_frames=2)
    assert result.codec == "mpeg4"
    assert count_frames(tmp_path / "out.mp4")[:2] == (2, "mpeg4")
    monkeypatch.setattr(video, "CODECS", ("no-such-encoder",))
    with pytest.raises(MaskDetectorError, match="encoders"):
        output_codec()


def test_webm_input(tmp_path, astronaut_bgr):
    frames = [astronaut_bgr[:256, :256]] * 3
    src = tmp_path / "in.webm"
    with av.open(str(src), "w") as out:
        stream = out.add_stream("libvpx", rate=10)
        stream.width, stream.height, stream.pix_fmt = 256, 256, "yuv420p"
        for image in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))
    assert process_video(src, tmp_path / "out.mp4", OneFace()).frames == 3


def test_text_file_renamed_mp4(tmp_path):
    src = tmp_path / "notes.mp4"
    src.write_text("this is not a video\n" * 10)
    with pytest.raises(InvalidVideoError, match=r"^holiday\.mp4: not a video file"):
        process_video(src, tmp_path / "out.mp4", OneFace(), name="holiday.mp4")


def test_empty_file(tmp_path):
    src = tmp_path / "empty.mp4"
    src.write_bytes(b"")
    with pytest.raises(InvalidVideoError):
        process_video(src, tmp_path / "out.mp4", OneFace())


def test_audio_only_file(tmp_path):
    src = tmp_path / "sound.mp4"
    with av.open(str(src), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        stream.layout = "mono"
        for i in range(10):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = 16000, i * 1024
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(InvalidVideoError, match=r"no video stream.*audio"):
        process_video(src, tmp_path / "out.mp4", OneFace())


def test_truncated_video(clip, tmp_path):
    # moov atom at the end (the default): cut in half, the file cannot be opened at all.
    src = tmp_path / "cut.mp4"
    src.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    with pytest.raises(InvalidVideoError):
        process_video(src, tmp_path / "out.mp4", OneFace())


def test_truncated_streamable_video_keeps_good_frames(astronaut_bgr, tmp_path):
    # Index first (faststart): the start of the data still decodes; the rest is lost.
    full = write_video(
        tmp_path / "full.mp4", [astronaut_bgr] * 8, options={"movflags": "+faststart"}
    )
    src = tmp_path / "cut.mp4"
    src.write_bytes(full.read_bytes()[: full.stat().st_size * 2 // 3])
    try:
        result = process_video(src, tmp_path / "out.mp4", OneFace())
    except InvalidVideoError:
        return  # also acceptable: a clear error
    assert 1 <= result.frames < 8 or result.damaged
