"""Settings sidebar and the models behind them, shared by every page of the Streamlit app.

Use on a page::

    from mask_detector.app.state import pipeline_or_stop, sidebar

    settings = sidebar("photo")             # Settings(detector_name, ..., blur_faces)
    pipeline = pipeline_or_stop(settings)   # MaskDetector, or an st.error + st.stop()
    annotated, faces = pipeline.process(bgr, blur=settings.blur_faces)

`load_pipeline(settings)` is the same without the error handling (it raises ModelLoadError /
DetectorUnavailableError): `MaskDetector.load(..., shared=True)`, so the classifier is loaded once
per process and each face detector once per (name, min_face, path), shared by every session and
thread.
That is safe (the classifier and each face detector hold their own lock), so call `detect` freely
from a webrtc callback thread. The MaskDetector returned is a cheap wrapper: build one per run.

The sidebar keeps its values when the user moves between pages: widget state is dropped by
Streamlit when a page without the widget runs, so each value is mirrored in a plain session-state
key (the documented "retain statefulness when changing pages" pattern). Each use (photos and video
files: "photo"; the camera: "live") keeps its own detector and minimum face size, so that each
starts from its own defaults (config.PHOTO, config.LIVE).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import streamlit as st

from .. import config
from ..detectors import DETECTORS, SMALL_FACE_PATHS, yunet_available
from ..errors import ModelLoadError
from ..pipeline import MaskDetector

#: Face detector names as the select box shows them.
DETECTOR_LABELS: dict[str, str] = {"haar": "Haar cascade (OpenCV)", "yunet": "YuNet (OpenCV DNN)"}
#: The one line under the detector choice: which suits what.
DETECTOR_HINT = "Haar: fast, close faces · YuNet: groups, small and turned faces"
MIN_FACE_RANGE = (8, 200)
MIN_JUDGED_RANGE = (0, 64)
#: The uses, and the defaults each starts from.
USES: dict[str, config.DetectionDefaults] = {"photo": config.PHOTO, "live": config.LIVE}


@dataclass(frozen=True)
class Settings:
    """What the sidebar chose: hashable, so it can key caches. The defaults are the photos'."""

    detector_name: str = config.PHOTO.detector
    #: Faces labelled with less confidence are not shown: an unsure label misleads more than a
    #: missing one (the library's default, 0.0, shows everything).
    min_confidence: float = 0.5
    #: Smallest face found (longer side, pixels of the photo or frame). Photos start from 10 px
    #: (crowds); the camera from 24 px, twice the library's DEFAULT_MIN_FACE: its faces are near
    #: the lens, and ignoring smaller boxes drops false detections and lets Haar search a smaller
    #: image (HaarDetector.working_scale), so video runs faster.
    min_face: int = config.PHOTO.min_face
    #: Not a widget: the page's use decides (photos and video files take the small-face path).
    small_faces: bool = config.PHOTO.small_faces
    min_judged_face: int = config.MIN_JUDGED_FACE
    #: Privacy: faces on annotated photos, videos and the live stream are blurred beyond
    #: recognition (boxes, labels and counts stay).
    blur_faces: bool = False


#: Settings each use keeps apart; the others are shared by every page.
_PER_USE = ("detector_name", "min_face")
_WIDGETS = ("detector_name", "min_confidence", "min_face", "min_judged_face", "blur_faces")


def defaults(use: str) -> Settings:
    """The settings a use starts from."""
    start = USES[use]
    return Settings(start.detector, min_face=start.min_face, small_faces=start.small_faces)


def _key(name: str, use: str) -> str:
    """Widget key of a setting; its persistent copy is the same name without the leading "_"."""
    return f"_settings_{use}_{name}" if name in _PER_USE else f"_settings_{name}"


def scale_note(settings: Settings, size: tuple[int, int] = (640, 480)) -> str:
    """What the minimum face size does, in words, for the sidebar."""
    text = f"Faces from {settings.min_face} px (the longer side of the box) are found"
    path = SMALL_FACE_PATHS.get(settings.detector_name)
    if not settings.small_faces or path is None:
        return text + "; smaller ones are ignored, which keeps the detector fast."
    scale = path.scales(size[1], size[0], settings.min_face)[0]
    return (
        f"{text}: a {size[0]}x{size[1]} photo is searched at {scale:.1f}x its size "
        "(smaller faces need a larger search, which takes longer)."
    )


def load_pipeline(settings: Settings) -> MaskDetector:
    """The pipeline the settings ask for, over models shared by every session; raises
    ModelLoadError (DetectorUnavailableError for a face detector)."""
    with st.spinner("Loading the models..."):  # shown only when it takes more than 0.5 s
        return MaskDetector.load(
            detector_name=settings.detector_name,
            min_confidence=settings.min_confidence,
            min_face=settings.min_face,
            small_faces=settings.small_faces,
            min_judged_face=settings.min_judged_face,
            shared=True,
        )


def pipeline_or_stop(settings: Settings) -> MaskDetector:
    """load_pipeline for a page: a missing model becomes a message, not a traceback."""
    try:
        return load_pipeline(settings)
    except ModelLoadError as exc:
        st.error(f"The detector cannot be loaded: {exc}")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers happy


def _restore(widget: str, default: object) -> None:
    """Put the persistent value (or the default) back into the widget key before rendering."""
    st.session_state[widget] = st.session_state.get(widget[1:], default)


def _save(widget: str) -> None:
    st.session_state[widget[1:]] = st.session_state[widget]


def _persisted(widget: str) -> dict[str, Any]:
    """A widget's key, and the callback that copies its value to the key Streamlit keeps when
    the widget is not rendered (another page): the setting survives a change of page."""
    return {"key": widget, "on_change": _save, "args": (widget,)}


def _detector_label(name: str) -> str:
    """Select-box text for a face detector name (the name itself if it has no label)."""
    return DETECTOR_LABELS.get(name, name)


def sidebar(use: str = "photo") -> Settings:
    """Render the detection settings of a use ("photo": photos and video files, "live": the
    camera) in st.sidebar (call once per page run) and return them."""
    start = asdict(defaults(use))
    keys = {name: _key(name, use) for name in _WIDGETS}
    ok, reason = yunet_available()
    options = list(DETECTORS) if ok else [n for n in DETECTORS if n != "yunet"]
    if st.session_state.get(keys["detector_name"][1:]) not in options:
        st.session_state[keys["detector_name"][1:]] = (
            start["detector_name"] if start["detector_name"] in options else options[0]
        )
    for name, widget in keys.items():
        _restore(widget, start[name])
    with st.sidebar:
        st.header("Detection settings")
        detector_name = st.selectbox(
            "Face detector",
            options,
            format_func=_detector_label,
            **_persisted(keys["detector_name"]),
        )
        st.caption(DETECTOR_HINT)
        if not ok:
            st.caption(f"YuNet is not available: {reason}")
        min_confidence = st.slider(
            "Confidence threshold",
            0.0,
            1.0,
            step=0.05,
            **_persisted(keys["min_confidence"]),
            help="Faces whose mask / no-mask confidence is below this are not shown (faces too "
            "small to judge are).",
        )
        min_face = st.slider(
            "Smallest face to find (px)",
            *MIN_FACE_RANGE,
            step=2,
            **_persisted(keys["min_face"]),
            help="Faces whose box is smaller than this, in pixels of the photo or frame, are "
            "not looked for. Lower finds more faces in crowds and takes longer; higher drops "
            "false detections.",
        )
        min_judged_face = st.slider(
            "Smallest face to label (px)",
            *MIN_JUDGED_RANGE,
            step=2,
            **_persisted(keys["min_judged_face"]),
            help="Smaller faces are boxed in grey with a '?', too small to judge, rather than "
            "labelled. 0 (the default) labels every face: the shipped model is right on more "
            "than 80% of the faces of every size in crowd photos.",
        )
        blur_faces = st.toggle(
            "Blur faces",
            **_persisted(keys["blur_faces"]),
            help="Privacy: every face on annotated photos, videos and the live stream is blurred "
            "beyond recognition; boxes, labels and counts stay.",
        )
    for widget in keys.values():
        _save(widget)
    settings = Settings(
        detector_name=str(detector_name),
        min_confidence=float(min_confidence),
        min_face=int(min_face),
        small_faces=start["small_faces"],
        min_judged_face=int(min_judged_face),
        blur_faces=bool(blur_faces),
    )
    st.sidebar.caption(scale_note(settings))
    return settings


T = TypeVar("T")


def memo(slot: str, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per key, kept in this session only; a new key replaces the old value.

    For heavy per-upload work (a video, an archive) that Streamlit reruns would otherwise repeat
    on every widget change, without holding more than one result per page and session.
    """
    held = st.session_state.get(slot)
    if held is not None and held[0] == key:
        return held[1]
    st.session_state.pop(slot, None)  # free the old result before computing the next
    value = compute()
    st.session_state[slot] = (key, value)
    return value
