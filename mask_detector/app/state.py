"""Settings sidebar and cached models, shared by every page of the Streamlit app.

Use on a page::

    from mask_detector.app.state import detector_or_stop, sidebar

    settings = sidebar()                 # Settings(detector, min_confidence, min_face)
    md = detector_or_stop(settings)      # MaskDetector, or an st.error + st.stop()
    annotated, faces = md.process(bgr)

`load_detector(name, min_face, min_confidence)` is the same without the error handling (it raises
ModelLoadError / DetectorUnavailableError). The classifier is loaded once per process and the face
detector once per (name, min_face), both with st.cache_resource; the MaskDetector returned is a
cheap wrapper, so build one per run (or per frame) instead of keeping it in session state. The
objects are shared by every session and thread, which is safe: the classifier and each face
detector hold their own lock, so call `detect` freely from a webrtc callback thread.

The sidebar keeps its values when the user moves between pages: widget state is dropped by
Streamlit when a page without the widget runs, so each value is mirrored in a plain session-state
key (the documented "retain statefulness when changing pages" pattern).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st

from ..classifier import MaskClassifier
from ..config import default_model_path
from ..detectors import FaceDetector, make_detector, yunet_available
from ..errors import ModelLoadError
from ..pipeline import MaskDetector

#: Detector names shown in the select box, in order.
DETECTOR_LABELS: dict[str, str] = {"haar": "Haar cascade (OpenCV)", "yunet": "YuNet (OpenCV DNN)"}
DEFAULT_DETECTOR = "haar"
DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_MIN_FACE = 24
MIN_FACE_RANGE = (8, 200)

#: Widget keys; the persistent copy of each is the same name without the leading underscore.
_KEYS = {
    "detector": "_md_detector",
    "min_confidence": "_md_min_confidence",
    "min_face": "_md_min_face",
}
_DEFAULTS = {
    "detector": DEFAULT_DETECTOR,
    "min_confidence": DEFAULT_MIN_CONFIDENCE,
    "min_face": DEFAULT_MIN_FACE,
}


@dataclass(frozen=True)
class Settings:
    """What the sidebar chose: hashable, so it can key caches."""

    detector: str = DEFAULT_DETECTOR
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    min_face: int = DEFAULT_MIN_FACE


@st.cache_resource(show_spinner="Loading the mask classifier...")
def _classifier(model_path: str) -> MaskClassifier:
    return MaskClassifier(model_path)


@st.cache_resource(show_spinner="Loading the face detector...")
def _face_detector(name: str, min_face: int) -> FaceDetector:
    return make_detector(name, min_face=min_face)


def load_classifier() -> MaskClassifier:
    """The shipped classifier (or $MASK_DETECTOR_MODEL), loaded once per process."""
    return _classifier(str(default_model_path()))


def load_detector(detector: str, min_face: int, min_confidence: float) -> MaskDetector:
    """A MaskDetector over the cached classifier and face detector; raises ModelLoadError."""
    return MaskDetector(
        _face_detector(detector, int(min_face)),
        load_classifier(),
        float(min_confidence),
    )


def detector_or_stop(settings: Settings) -> MaskDetector:
    """load_detector for a page: a missing model becomes a message, not a traceback."""
    try:
        return load_detector(settings.detector, settings.min_face, settings.min_confidence)
    except ModelLoadError as exc:
        st.error(f"The detector cannot be loaded: {exc}")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers happy


def _restore(name: str) -> None:
    """Put the persistent value (or the default) back into the widget key before rendering."""
    widget = _KEYS[name]
    st.session_state[widget] = st.session_state.get(widget[1:], _DEFAULTS[name])


def _save(name: str) -> None:
    st.session_state[_KEYS[name][1:]] = st.session_state[_KEYS[name]]


def _detector_label(name: str) -> str:
    """Select-box text for a detector name (the name itself if it has no label)."""
    return DETECTOR_LABELS.get(name, name)


def sidebar() -> Settings:
    """Render the detection settings in st.sidebar (call once per page run) and return them."""
    ok, reason = yunet_available()
    options = ["haar", "yunet"] if ok else ["haar"]
    if st.session_state.get(_KEYS["detector"][1:]) not in options:
        st.session_state[_KEYS["detector"][1:]] = DEFAULT_DETECTOR
    for name in _KEYS:
        _restore(name)
    with st.sidebar:
        st.header("Detection settings")
        detector = st.selectbox(
            "Face detector",
            options,
            format_func=_detector_label,
            key=_KEYS["detector"],
            on_change=_save,
            args=("detector",),
            help="Haar is fast and needs no extra file; YuNet finds smaller and turned faces.",
        )
        if not ok:
            st.caption(f"YuNet is not available: {reason}")
        min_confidence = st.slider(
            "Confidence threshold",
            0.0,
            1.0,
            step=0.05,
            key=_KEYS["min_confidence"],
            on_change=_save,
            args=("min_confidence",),
            help="Faces whose mask / no-mask confidence is below this are not shown.",
        )
        min_face = st.slider(
            "Minimum face size (px)",
            *MIN_FACE_RANGE,
            step=4,
            key=_KEYS["min_face"],
            on_change=_save,
            args=("min_face",),
            help="Smaller faces are ignored: fewer false detections, faster video.",
        )
    for name in _KEYS:
        _save(name)
    return Settings(str(detector), float(min_confidence), int(min_face))


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
