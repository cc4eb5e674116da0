"""Video files: annotated output, per-frame counts, limits, and clear errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from benchmarks.people_clip import write_clip as write_video
from helpers import crowd_of_small_faces, needs_model, needs_yunet
from mask_detector import config, draw, video
from mask_detector.batch.output import video_lines
from mask_detector.caveats import CAVEATS
from mask_detector.detection import TrackedFace
from mask_detector.errors import MaskDetectorError
from mask_detector.evaluation.conditions import dark, grey
from mask_detector.video import InvalidVideoError, output_codec, process_video


class OneFace:
    """Stands in for MaskDetector under the tracker: one fixed face per frame, so counts and
    people are known exactly."""

    def __init__(self, label: str = "with_mask") -> None:
        self.label = label
        self.min_confidence = 0.0
        self.shapes: list[tuple[int, ...]] = []
        self.detector = self  # detect() below is the face detector

    def detect(self, image):
        self.shapes.append(image.shape)
        return [(1, 1, 10, 10)]

    def judges(self, box):
        return True

    def probabilities(self, bgr, boxes):
        row = np.full(len(config.LABELS), 0.1 / (len(config.LABELS) - 1))
        row[config.LABELS.index(self.label)] = 0.9
        return np.tile(row, (len(boxes), 1))


def count_frames(path: Path) -> tuple[int, str, tuple[int, int]]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        return n, s.codec_context.name, (s.width, s.height)


@pytest.fixture(scope="module")
def clip(tmp_path_factory, astronaut_bgr, masked_astronaut_bgr) -> Path:
    """Eight frames: four bare faces then four masked ones."""
    frames = [astronaut_bgr] * 4 + [masked_astronaut_bgr] * 4
    return write_video(tmp_path_factory.mktemp("v") / "clip.mp4", frames, fps=10)


def test_output_frames_fps_counts_and_people(clip, tmp_path):
    dst = tmp_path / "out.mp4"
    progress = []
    result = process_video(clip, dst, OneFace(), progress=lambda d, t: progress.append((d, t)))
    assert (result.frames, result.fps, result.width, result.height) == (8, 10.0, 512, 512)
    assert result.counts == {k: [int(k == "with_mask")] * 8 for k in config.RESULT_LABELS}
    assert not result.truncated and not result.damaged
    assert progress[-1] == (8, 8)
    frames, codec, size = count_frames(dst)
    assert frames == 8 and size == (512, 512)
    assert codec == ("h264" if result.codec == "libx264" else "mpeg4")
    chart = result.chart_data()
    assert chart["seconds"][:2] == [0.0, 0.1] and len(chart["with mask"]) == 8
    assert list(chart)[1:] == [config.count_phrase(k) for k in config.RESULT_LABELS]
    summary = result.summary()
    assert (summary["frames"], summary["fps"], summary["people"]) == (8, 10.0, 1)
    assert summary["caveats"] == []  # a colour video, well lit
    assert summary["people_per_label"] == {k: int(k == "with_mask") for k in config.RESULT_LABELS}
    assert summary["tracks"] == [
        {"id": 1, "label": "with_mask", "confidence": 0.9, "frames": 8, "first_s": 0.0,
         "last_s": 0.7}
    ]  # fmt: skip


def test_a_grey_or_dark_video_says_its_labels_are_less_sure(tmp_path, astronaut_bgr):
    # Checked once a second (frames 0, 5, 10 at 5 fps): two of three grey, one of three dark.
    frames = [grey(astronaut_bgr)] * 10 + [dark(astronaut_bgr)] * 3
    path = write_video(tmp_path / "night.mp4", frames, fps=5)
    result = process_video(path, None, OneFace())
    assert result.caveats == ["grey"] and result.summary()["caveats"] == ["grey"]
    lines = video_lines({"file": "night.mp4", **result.summary()})
    assert lines[1] == f"  caveat: {CAVEATS['grey']}"
    assert lines[2].startswith("  person 1:")


def test_a_third_label_is_counted_and_drawn_amber(clip, tmp_path):
    result = process_video(clip, tmp_path / "out.mp4", OneFace("mask_worn_incorrectly"))
    assert result.counts["mask_worn_incorrectly"] == [1] * 8
    assert result.summary()["people_per_label"]["mask_worn_incorrectly"] == 1
    assert result.chart_data()["mask worn wrong"] == [1.0] * 8
    with av.open(str(tmp_path / "out.mp4")) as c:
        first = next(c.decode(video=0)).to_ndarray(format="bgr24")
    amber = np.array(draw.colour("mask_worn_incorrectly"), int)
    edge = np.median(first[3:10, 1].astype(int), axis=0)  # the box's left edge (H.264: a median)
    assert np.abs(edge - amber).max() < 30


def test_frames_without_an_output_file_and_per_frame_records(clip):
    records = []
    result = process_video(
        clip,
        None,
        OneFace(),
        on_frame=lambda i, t, faces: records.append(video.frame_record(i, t, faces)),
    )
    assert result.codec is None and result.frames == 8
    assert [r["frame"] for r in records] == list(range(8))
    assert records[1]["time_s"] == 0.1
    # A face is confirmed as a track on its second frame; its first has no id yet.
    assert records[0]["faces"] == [
        {"id": None, "box": [1, 1, 10, 10], "label": "with_mask", "confidence": 0.9}
    ]
    assert [r["faces"][0]["id"] for r in records[1:]] == [1] * 7


def test_blurred_video_hides_the_face(clip, tmp_path, astronaut_face_box):
    class AstronautFace(OneFace):
        def detect(self, image):
            return [astronaut_face_box]

    plain, blurred = tmp_path / "plain.mp4", tmp_path / "blurred.mp4"
    process_video(clip, plain, AstronautFace(), max_frames=1)
    process_video(clip, blurred, AstronautFace(), max_frames=1, blur=True)
    x, y, w, h = astronaut_face_box
    inner = (slice(y + h // 4, y + 3 * h // 4), slice(x + w // 4, x + 3 * w // 4))
    frames = []
    for path in (plain, blurred):
        with av.open(str(path)) as c:
            frames.append(next(c.decode(video=0)).to_ndarray(format="bgr24")[inner].astype(float))
    # The blurred face keeps its colour, but none of its detail.
    assert abs(frames[0].mean() - frames[1].mean()) < 15
    assert frames[1].std(axis=(0, 1)).mean() < frames[0].std(axis=(0, 1)).mean() / 2


@needs_model
def test_real_pipeline_counts_each_frame(clip, tmp_path):
    from mask_detector.pipeline import MaskDetector

    result = process_video(clip, tmp_path / "out.mp4", MaskDetector.load())
    assert result.frames == 8
    faces = np.sum([result.counts[k] for k in config.RESULT_LABELS], axis=0)
    assert len(faces) == 8 and faces.min() >= 1  # the astronaut, bare and masked, every frame
    assert count_frames(tmp_path / "out.mp4")[0] == 8


@needs_model
def test_summarize_video_from_plain_arguments(clip, tmp_path):
    summary = video.summarize_video(clip, tmp_path / "out.mp4", detector="haar")
    assert summary["file"] == str(clip) and summary["frames"] == 8
    assert set(summary) >= {"frames", "fps", "people", "people_per_label", "tracks"}
    assert summary["people"] == len(summary["tracks"]) >= 1
    assert json.loads(json.dumps(summary)) == summary  # JSON as it is
    assert count_frames(tmp_path / "out.mp4")[0] == 8
    same = video.summarize_video(clip, detector="haar")  # no output file needed
    assert same["tracks"] == summary["tracks"]


@needs_model
@needs_yunet
def test_video_files_default_to_the_photo_settings():
    detector = video.load_pipeline().detector
    assert (detector.name, detector.min_face, detector.small_faces) == (
        config.PHOTO.detector,
        config.PHOTO.min_face,
        config.PHOTO.small_faces,
    )


def test_limits_cut_the_video_and_say_so(clip, tmp_path):
    result = process_video(clip, tmp_path / "a.mp4", OneFace(), max_frames=3)
    assert result.frames == 3 and result.truncated
    assert count_frames(tmp_path / "a.mp4")[0] == 3
    result = process_video(clip, tmp_path / "b.mp4", OneFace(), max_seconds=0.5)
    assert result.frames == 5 and result.truncated


def test_large_frames_are_searched_whole_and_reported_at_the_output_size(tmp_path):
    frames = [np.full((302, 402, 3), 128, np.uint8)] * 2  # 151 px high at half size: odd
    src = write_video(tmp_path / "wide.mp4", frames)
    pipeline = OneFace()
    records = []
    result = process_video(
        src,
        tmp_path / "out.mp4",
        pipeline,
        max_side=201,
        on_frame=lambda i, t, faces: records.append(video.frame_record(i, t, faces)),
    )
    assert (result.width, result.height) == (200, 150)
    assert count_frames(tmp_path / "out.mp4")[2] == (200, 150)
    # Faces are found in the decoded frame (small faces keep their pixels) ...
    assert pipeline.shapes == [(302, 402, 3)] * 2
    # ... and their boxes refer to the output: (1, 1, 10, 10) at about half size.
    assert [r["faces"][0]["box"] for r in records] == [[0, 0, 5, 5]] * 2


@needs_model
@needs_yunet
def test_small_faces_are_found_in_the_decoded_frame(tmp_path, astronaut_bgr):
    """Faces of 20-30 px in 640x480 frames, written at half size: the faces are 10-15 px
    there, under min_face 16, and are found all the same, their boxes at the output size."""
    from mask_detector.evaluation.scenes import match_boxes

    photo, truths = crowd_of_small_faces(astronaut_bgr, sizes=(20, 24, 30))
    src = write_video(tmp_path / "crowd.mp4", [photo] * 3)
    records = []
    result = process_video(
        src,
        None,
        video.load_pipeline(min_face=16),
        max_side=320,
        on_frame=lambda i, t, faces: records.append(video.frame_record(i, t, faces)),
    )
    assert (result.width, result.height) == (320, 240)
    halved = [tuple(v / 2 for v in truth) for truth in truths]
    for record in records:
        boxes = [face["box"] for face in record["faces"]]
        assert sorted(j for _, j in match_boxes(boxes, halved, 0.5)) == [0, 1, 2]


def test_boxes_at_the_output_size_keep_a_pixel_and_stay_inside():
    face = TrackedFace((0, 0, 1, 1), "with_mask", 0.9, 1)
    edge = TrackedFace((398, 298, 4, 4), "without_mask", 0.9, 2)
    small, inside = video._rescaled([face, edge], (402, 302), (100, 75))
    assert small.box == (0, 0, 1, 1) and small.label == "with_mask"
    x, y, w, h = inside.box
    assert w >= 1 and h >= 1 and x + w <= 100 and y + h <= 75


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
