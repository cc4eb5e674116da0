"""Tracking on a clip of three people: how many people, their labels, track coverage, switches.

    .venv/bin/python benchmarks/people_clip.py [--detector haar|yunet|both]
                                               [--settings video|live|both] [--json]

Builds, in code, a 15 fps 640x480 clip of three people moving about for 8 s: one masked the whole
time, two unmasked, one of whom enters halfway. Their faces are real photos: close-ups from the
TEST split of models/split.json when ../shared is there (never training images), else
scikit-image's astronaut (bare, mirrored, and with a drawn mask). The clip is encoded as H.264,
then run through the video path (`mask_detector.video.process_video`) with the video page's
tracking settings (the face detector on every frame) and /live's (every other frame), and each
person is matched to the tracks whose boxes cover theirs, frame by frame. Prints, per detector
and settings:

* people counted, and per person: label, the track that follows it, the share of the frames they
  are in that this track covers, and the tracks' label switches (goal: 3 people, right labels,
  coverage >= 95%, no switch);
* time per frame of the tracker's own work (ByteTrack association, smoothing; without the face
  detector and the classifier) and the detector + classifier time per frame with tracking and
  without it (every face classified on every frame) (goal: tracking adds <= 2 ms per frame).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
import cv2
import numpy as np

from mask_detector import config
from mask_detector.benchmark import astronaut
from mask_detector.detection import Box, TrackedFace
from mask_detector.detectors.base import box_iou

SIZE = (640, 480)
FPS = 15
SECONDS = 8.0
#: Height of each pasted face photo, in pixels.
FACE_HEIGHT = 150
#: The astronaut's face in `astronaut()`, and the part of the photo pasted (head and shoulders).
ASTRONAUT_FACE = (177, 66, 95, 95)
ASTRONAUT_CROP = (slice(20, 260), slice(120, 330))
#: The clip's background colour (BGR), with a gentle left-to-right ramp.
BG = (118, 124, 130)


def draw_mask(face_bgr: np.ndarray, box: Box) -> np.ndarray:
    """A surgical-mask-like light-blue shape over the lower half of the face in `box`."""
    out = face_bgr.copy()
    x, y, w, h = box
    pts = np.array(
        [
            [x + w * 0.05, y + h * 0.5],
            [x + w * 0.95, y + h * 0.5],
            [x + w * 0.85, y + h * 0.95],
            [x + w * 0.15, y + h * 0.95],
        ],
        np.int32,
    )
    cv2.fillPoly(out, [pts], (235, 206, 135))
    for k in range(3):
        yy = int(y + h * (0.6 + 0.1 * k))
        cv2.line(out, (int(x + w * 0.15), yy), (int(x + w * 0.85), yy), (200, 170, 110), 2)
    return out


@dataclass
class Person:
    """One person of the clip: a face photo, its true label, where it is in each frame."""

    name: str
    label: str
    image: np.ndarray
    #: Face box within `image`: what a detector should find.
    face: Box
    #: First frame the person is in (they stay to the end).
    enters: int
    boxes: dict[int, Box] = field(default_factory=dict)  # frame -> face box in the frame


def astronaut_people() -> list[tuple[str, np.ndarray, Box]]:
    """(label, photo, face box) for three people made from the astronaut, when ../shared is
    absent: with a drawn mask, bare, and bare mirrored."""
    photo = astronaut()
    masked = draw_mask(photo, ASTRONAUT_FACE)[ASTRONAUT_CROP]
    bare = photo[ASTRONAUT_CROP]
    x, y, w, h = ASTRONAUT_FACE
    face = (x - ASTRONAUT_CROP[1].start, y - ASTRONAUT_CROP[0].start, w, h)
    mirrored = np.ascontiguousarray(bare[:, ::-1])
    mirrored_face = (bare.shape[1] - face[0] - face[2], face[1], face[2], face[3])
    return [("with_mask", masked, face), ("without_mask", bare, face),
            ("without_mask", mirrored, mirrored_face)]  # fmt: skip


def test_split_people() -> list[tuple[str, np.ndarray, Box]] | None:
    """(label, photo, face box) of one with_mask and two without_mask close-ups of the test
    split: the first, by file name, at least FACE_HEIGHT px high, in which YuNet finds exactly
    one face at least a third of the photo high (its box is the true face box, whichever
    detector is measured). None without ../shared or the split."""
    from mask_detector.data.split import Split
    from mask_detector.detectors import make_detector

    root = config.training_data_dir()
    manifest = config.MODELS_DIR / "split.json"
    if not root.is_dir() or not manifest.is_file():
        return None
    yunet = make_detector("yunet")
    wanted = {"with_mask": 1, "without_mask": 2}
    found: list[tuple[str, np.ndarray, Box]] = []
    for sample in sorted(Split.load(manifest).samples("test", root), key=lambda s: s.path.name):
        label = config.LABELS[sample.label]
        image = cv2.imread(str(sample.path)) if wanted.get(label) else None
        if image is None or image.shape[0] < FACE_HEIGHT:
            continue
        image = fit_height(image)
        boxes = yunet.detect(image)
        if len(boxes) != 1 or boxes[0][3] < FACE_HEIGHT / 3:
            continue
        found.append((label, image, boxes[0]))
        wanted[label] -= 1
        if not any(wanted.values()):
            return sorted(found, key=lambda p: p[0] != "with_mask")
    return None


def fit_height(image: np.ndarray, height: int = FACE_HEIGHT) -> np.ndarray:
    scale = height / image.shape[0]
    return cv2.resize(image, (max(1, round(image.shape[1] * scale)), height), cv2.INTER_AREA)


def make_people(sources: list[tuple[str, np.ndarray, Box]], frames: int) -> list[Person]:
    """The three people of the clip; the third enters at half time."""
    people = []
    for k, (label, image, face) in enumerate(sources):
        if image.shape[0] != FACE_HEIGHT:
            scale = FACE_HEIGHT / image.shape[0]
            image = fit_height(image)
            face = tuple(round(v * scale) for v in face)  # type: ignore[assignment]
        people.append(Person(f"person {k + 1}", label, image, face, 0 if k < 2 else frames // 2))
    return people


def position(k: int, t: float) -> tuple[float, float]:
    """Where person k's photo is (its centre, as a fraction of the frame) at t in [0, 1]: each
    walks a slow loop in a third of the frame."""
    cx = (0.2, 0.5, 0.8)[k]
    return cx + 0.07 * np.sin(2 * np.pi * (t + k / 3)), 0.5 + 0.12 * np.sin(3 * np.pi * t + k)


def clip_frames(people: list[Person], frames: int) -> Iterator[np.ndarray]:
    """The frames; fills each person's `boxes` with their face box in every frame they are in."""
    width, height = SIZE
    ramp = np.linspace(-12, 12, width, dtype=np.float32)[None, :, None]
    background = np.clip(np.array(BG, np.float32) + ramp, 0, 255).astype(np.uint8)
    background = np.repeat(background, height, axis=0)
    for i in range(frames):
        frame = background.copy()
        for k, person in enumerate(people):
            if i < person.enters:
                continue
            ph, pw = person.image.shape[:2]
            fx, fy = position(k, i / frames)
            x = int(np.clip(round(fx * width - pw / 2), 0, width - pw))
            y = int(np.clip(round(fy * height - ph / 2), 0, height - ph))
            frame[y : y + ph, x : x + pw] = person.image
            bx, by, bw, bh = person.face
            person.boxes[i] = (x + bx, y + by, bw, bh)
        yield frame


def write_clip(path: Path, frames: Iterable[np.ndarray], fps: int = FPS, **options: Any) -> Path:
    """A video of BGR frames, H.264 when available (what a user would upload), in the container
    `path`'s suffix names; `options` go to av.open (e.g. options={"movflags": "+faststart"})."""
    from mask_detector.video import output_codec

    frames = iter(frames)
    first = next(frames)
    with av.open(str(path), "w", **options) as out:
        stream = out.add_stream(output_codec(), rate=fps)
        stream.width, stream.height, stream.pix_fmt = first.shape[1], first.shape[0], "yuv420p"
        for i, image in enumerate(itertools.chain([first], frames)):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def build_clip(path: Path) -> tuple[list[Person], str]:
    """Write the clip to `path`; its people, with their true boxes, and where their faces come
    from ("test split" or "astronaut")."""
    frames = round(SECONDS * FPS)
    closeups = test_split_people()
    people = make_people(closeups or astronaut_people(), frames)
    write_clip(path, clip_frames(people, frames))
    return people, "test split" if closeups else "astronaut"


@dataclass
class PersonResult:
    name: str
    label: str
    frames_in: int
    #: The track that follows the person most, its label, and the share of the person's frames
    #: in which that track's box is on the person's face (IoU >= 0.3).
    track: int | None
    track_label: str | None
    coverage: float


@dataclass
class ClipResult:
    detector: str
    #: "video" (the face detector on every frame) or "live" (on every other frame).
    settings: str
    source: str
    frames: int
    people: int
    people_per_label: dict[str, int]
    persons: list[PersonResult]
    label_switches: int
    #: Per frame, in ms: the tracker's own work; detector + classifier with tracking (only the
    #: faces due are classified); the plain pipeline (every face classified every frame).
    tracking_ms: float
    tracked_frame_ms: float
    untracked_frame_ms: float

    def goals_met(self) -> bool:
        return (
            self.people == len(self.persons)
            and all(p.track_label == p.label and p.coverage >= 0.95 for p in self.persons)
            and self.label_switches == 0
        )


def evaluate(
    detector_name: str, workdir: Path, timing: bool = True, settings: str = "video"
) -> ClipResult:
    """Build the clip, run it through the video path and score the tracks (module doc), with
    the video page's tracking settings or the live page's; the timings are left at 0 with
    `timing=False`."""
    from mask_detector.app.live import LIVE_TRACKING
    from mask_detector.pipeline import MaskDetector
    from mask_detector.tracking import TrackingSettings, label_switches
    from mask_detector.video import process_video

    tracking = LIVE_TRACKING if settings == "live" else TrackingSettings()
    pipeline = MaskDetector.load(detector_name=detector_name)
    clip = workdir / "people.mp4"
    people, source = build_clip(clip)
    per_frame: list[list[TrackedFace]] = []
    result = process_video(
        clip,
        None,
        pipeline,
        tracking=tracking,
        on_frame=lambda index, time_s, faces: per_frame.append(faces),
    )
    summary = result.summary()
    timings = time_tracking(clip, pipeline, tracking) if timing else (0.0, 0.0, 0.0)
    tracking_ms, tracked_ms, untracked_ms = timings
    return ClipResult(
        detector=detector_name,
        settings=settings,
        source=source,
        frames=summary["frames"],
        people=summary["people"],
        people_per_label=summary["people_per_label"],
        persons=[_score(p, per_frame, summary) for p in people],
        label_switches=label_switches(per_frame),
        tracking_ms=tracking_ms,
        tracked_frame_ms=tracked_ms,
        untracked_frame_ms=untracked_ms,
    )


def time_tracking(
    clip: Path, pipeline: Any, tracking: Any, repeats: int = 3
) -> tuple[float, float, float]:
    """Per frame, in ms (the best of `repeats` passes over the decoded clip): the tracker's own
    work, its detector + classifier calls, and the plain pipeline's detect (every face
    classified every frame)."""
    from mask_detector.tracking import FaceTracker

    with av.open(str(clip)) as source:
        frames = [f.to_ndarray(format="bgr24") for f in source.decode(video=0)]
    best = (np.inf, np.inf, np.inf)
    for _ in range(repeats):
        timer = _Timed(pipeline)
        tracker = FaceTracker(timer, FPS, tracking)
        start = time.perf_counter()
        for bgr in frames:
            tracker.track(bgr)
        tracked = time.perf_counter() - start
        start = time.perf_counter()
        for bgr in frames:
            pipeline.detect(bgr)
        plain = time.perf_counter() - start
        ms = [v / len(frames) * 1000 for v in (tracked - timer.seconds, timer.seconds, plain)]
        best = tuple(min(a, b) for a, b in zip(best, ms, strict=True))  # type: ignore[assignment]
    return tuple(round(v, 2) for v in best)  # type: ignore[return-value]


class _Timed:
    """The pipeline, counting the seconds spent in its face detector and its classifier."""

    def __init__(self, pipeline: Any) -> None:
        self.pipeline = pipeline
        self.min_confidence = pipeline.min_confidence
        self.seconds = 0.0
        self.detector = self  # detect() below stands in for the face detector
        self.judges = pipeline.judges  # the tracker asks which faces may be classified

    def detect(self, image: np.ndarray) -> list[Box]:
        start = time.perf_counter()
        try:
            return self.pipeline.detector.detect(image)
        finally:
            self.seconds += time.perf_counter() - start

    def probabilities(self, bgr: np.ndarray, boxes: list[Box]) -> np.ndarray:
        start = time.perf_counter()
        try:
            return self.pipeline.probabilities(bgr, boxes)
        finally:
            self.seconds += time.perf_counter() - start


def _score(person: Person, per_frame: list[list[TrackedFace]], summary: dict) -> PersonResult:
    on_face: list[int | None] = []
    for i, box in person.boxes.items():
        ids = [f.track_id for f in per_frame[i] if box_iou(f.box, box) >= 0.3]
        on_face.append(ids[0] if ids else None)
    counts = Counter(i for i in on_face if i is not None)
    track = counts.most_common(1)[0][0] if counts else None
    labels = {t["id"]: t["label"] for t in summary["tracks"]}
    return PersonResult(
        person.name,
        person.label,
        len(person.boxes),
        track,
        labels.get(track),
        round(counts[track] / len(person.boxes), 4) if track is not None else 0.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", choices=("haar", "yunet", "both"), default="both")
    parser.add_argument(
        "--settings",
        choices=("video", "live", "both"),
        default="both",
        help="tracking as the video page does it (detector on every frame), as /live does "
        "(every other frame), or both",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    names = ["haar", "yunet"] if args.detector == "both" else [args.detector]
    results = []
    with tempfile.TemporaryDirectory(prefix="people-clip-") as tmp:
        for name in names:
            for settings in ["video", "live"] if args.settings == "both" else [args.settings]:
                results.append(evaluate(name, Path(tmp), settings=settings))
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=1))
        return 0
    for r in results:
        print(f"== {r.detector}, {r.settings}: {r.frames} frames of 3 people ({r.source} faces)")
        print(
            f"people counted: {r.people} {r.people_per_label}; label switches: {r.label_switches}"
        )
        for p in r.persons:
            print(
                f"  {p.name} ({p.label}, in {p.frames_in} frames): track {p.track} "
                f"labelled {p.track_label}, covers {p.coverage:.1%}"
            )
        print(
            f"per frame: tracking's own work {r.tracking_ms} ms; detector + classifier "
            f"{r.tracked_frame_ms} ms with tracking, {r.untracked_frame_ms} ms without (every "
            "face classified every frame)"
        )
        print(f"goals met: {r.goals_met()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
