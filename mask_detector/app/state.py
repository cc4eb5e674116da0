"""Settings sidebar and the models behind them, shared by every page of the Streamlit app.

Use on a page::

    from mask_detector.app.state import pipeline_or_stop, sidebar

    settings = sidebar()                    # Settings(detector_name, ..., blur_faces)
    pipeline = pipeline_or_stop(settings)   # MaskDetector, or an st.error + st.stop()
    annotated, faces = pipeline.process(bgr, blur=settings.blur_faces)

`load_pipeline(settings)` is the same without the error handling (it raises ModelLoadError /
DetectorUnavailableError): `MaskDetector.load(..., shared=True)`, so the classifier is loaded once
per process and each face detector once per (name, min_face), shared by every session and thread.
That is safe (the classifier and each face detector hold their own lock), so call `detect` freely
from a webrtc callback thread. The MaskDetector returned is a cheap wrapper: build one per run.

The sidebar keeps its values when the user moves between pages: widget state is dropped by
Streamlit when a page without the widget runs, so each value is mirrored in a plain session-state
key (the documented "retain statefulness when changing pages" pattern).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass, fields
from typing import TypeVar

import streamlit as st

from ..detectors import DETECTORS, yunet_available
from ..errors import ModelLoadError
from ..pipeline import MaskDetector

#: Face detector names as the select box shows them.
DETECTOR_LABELS: dict[str, str] = {"haar": "Haar cascade (OpenCV)", "yunet": "YuNet (OpenCV DNN)"}
#: The one line under the detector choice: which suits what.
DETECTOR_HINT = "Haar: fast, close faces · YuNet: groups, small and turned faces"
MIN_FACE_RANGE = (8, 200)


@dataclass(frozen=True)
class Settings:
    """What the sidebar chose: hashable, so it can key caches. The defaults are the app's."""

    detector_name: str = "haar"
    #: Faces labelled with less confidence are not shown: an unsure label misleads more than a
    #: missing one (the library's default, 0.0, shows everything).
    min_confidence: float = 0.5
    #: 24 px, twice the library's DEFAULT_MIN_FACE (12 px, for the tiny faces of crowd photos):
    #: the app starts from camera frames and photos of people near the lens, whose faces are far
    #: larger; ignoring smaller boxes drops false detections there and lets Haar search a smaller
    #: image (HaarDetector.working_scale), so video runs faster. For crowds the sidebar goes down
    #: to MIN_FACE_RANGE[0].
    min_face: int = 24
    #: Privacy: faces on annotated photos, videos and the live stream are blurred beyond
    #: recognition (boxes, labels and counts stay).
    blur_faces: bool = False


#: Widget key of each setting; its persistent copy is the same name without the leading "_".
_KEYS = {f.name: f"_settings_{f.name}" for f in fields(Settings)}
_DEFAULTS = asdict(Settings())


def load_pipeline(settings: Settings) -> MaskDetector:
    """The pipeline the settings ask for, over models shared by every session; raises
    ModelLoadError (DetectorUnavailableError for a face detector)."""
    with st.spinner("Loading the models..."):  # shown only when it takes more than 0.5 s
        return MaskDetector.load(
            detector_name=settings.detector_name,
            min_confidence=settings.min_confidence,
            min_face=settings.min_face,
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


def _restore(name: str) -> None:
    """Put the persistent value (or the default) back into the widget key before rendering."""
    widget = _KEYS[name]
    st.session_state[widget] = st.session_state.get(widget[1:], _DEFAULTS[name])


def _save(name: str) -> None:
    st.session_state[_KEYS[name][1:]] = st.session_state[_KEYS[name]]


def _detector_label(name: str) -> str:
    """Select-box text for a face detector name (the name itself if it has no label)."""
    return DETECTOR_LABELS.get(name, name)


def sidebar() -> Settings:
    """Render the detection settings in st.sidebar (call once per page run) and return them."""
    ok, reason = yunet_available()
    options = list(DETECTORS) if ok else [n for n in DETECTORS if n != "yunet"]
    if st.session_state.get(_KEYS["detector_name"][1:]) not in options:
        st.session_state[_KEYS["detector_name"][1:]] = _DEFAULTS["detector_name"]
    for name in _KEYS:
        _restore(name)
    with st.sidebar:
        st.header("Detection settings")
        detector_name = st.selectbox(
            "Face detector",
            options,
            format_func=_detector_label,
            key=_KEYS["detector_name"],
            on_change=_save,
            args=("detector_name",),
        )
        st.caption(DETECTOR_HINT)
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
        blur_faces = st.toggle(
            "Blur faces",
            key=_KEYS["blur_faces"],
            on_change=_save,
            args=("blur_faces",),
            help="Privacy: every face on annotated photos, videos and the live stream is blurred "
            "beyond recognition; boxes, labels and counts stay.",
        )
    for name in _KEYS:
        _save(name)
    return Settings(str(detector_name), float(min_confidence), int(min_face), bool(blur_faces))


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
