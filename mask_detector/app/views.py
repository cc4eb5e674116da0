"""Streamlit widgets used by more than one page, so the pages hold no rendering logic twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

from ..caveats import CAVEATS
from ..config import LABELS, RESULT_LABELS, display_name
from ..draw import COLOUR_NAMES
from ..evaluation.figures import (
    by_size_figure,
    confusion_figure,
    curves_figure,
    detector_recall_figure,
    pct,
    reliability_figure,
    roc_figure,
    to_png,
)
from .results import ImageResult, stem

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The charts the pages show, by name (a name, unlike a function, keys st.cache_data simply).
FIGURES: dict[str, Callable[..., Figure]] = {
    "by_size": by_size_figure,
    "confusion": confusion_figure,
    "curves": curves_figure,
    "detector_recall": detector_recall_figure,
    "reliability": reliability_figure,
    "roc": roc_figure,
}


def _png(kind: str, data: Any, title: str) -> bytes:
    return to_png(FIGURES[kind](data, title))


@st.cache_data(max_entries=32, show_spinner=False)
def _cached_png(kind: str, data: Any, title: str) -> bytes:
    return _png(kind, data, title)


def figure(kind: str, data: Any, title: str = "", *, cache: bool = True) -> None:
    """Show one of FIGURES. Cached by content: matplotlib takes ~0.4 s a figure and the page
    reruns on every click. Pass cache=False for a user's own data (kept out of the cache that
    all sessions share)."""
    png = _cached_png(kind, data, title) if cache else _png(kind, data, title)
    st.image(png, width="content")


def csv_json_downloads(
    data: Any,
    csv: Callable[[Any], str],
    json: Callable[[Any], str],
    *,
    title: str,
    file_stem: str,
    key: str,
) -> None:
    """A CSV and a JSON download of the same results, side by side ("All results (CSV)")."""
    exports = (("CSV", csv, "text/csv"), ("JSON", json, "application/json"))
    for col, (kind, export, mime) in zip(st.columns(len(exports)), exports, strict=True):
        col.download_button(
            f"{title} ({kind})",
            export(data),
            file_name=f"{file_stem}.{kind.lower()}",
            mime=mime,
            key=f"{key}_{kind.lower()}",
            on_click="ignore",
        )


def labels_legend() -> str:
    """The labels as the pages name them: "*Mask* (green), *No mask* (red) or ..."."""
    names = [f"*{display_name(k)}* ({COLOUR_NAMES.get(k, 'grey')})" for k in LABELS]
    return ", ".join(names[:-1]) + " or " + names[-1]


def headline_metrics(report: dict[str, Any]) -> None:
    """Accuracy and each class's recall (the classes the data has) as st.metric columns."""
    recalls = {c: v["recall"] for c, v in report["per_class"].items() if v["recall"] is not None}
    cols = st.columns(1 + len(recalls))
    cols[0].metric("Accuracy", pct(report["accuracy"]), help=f"{report['n']} faces")
    for col, (label, recall) in zip(cols[1:], recalls.items(), strict=True):
        col.metric(f"Recall, {display_name(label)}", pct(recall))


def face_counts(counts: dict[str, int]) -> None:
    """Total, then faces per label (too small to judge last) as st.metric columns."""
    cols = st.columns(len(RESULT_LABELS) + 1)
    cols[0].metric("Faces", sum(counts.values()))
    for col, label in zip(cols[1:], RESULT_LABELS, strict=True):
        col.metric(display_name(label), counts[label])


def image_result(result: ImageResult, key: str) -> None:
    """One processed image: error message, or annotated image, counts, faces table, PNG download."""
    if not result.ok:
        st.error(f"**{result.name}**: {result.error}")
        return
    st.subheader(result.name)
    rgb = result.annotated_rgb()
    assert rgb is not None  # an ok result always holds its annotated image
    height, width = rgb.shape[:2]
    st.image(rgb, caption=f"{result.name} ({width}x{height})")
    for caveat in result.caveats:
        st.warning(CAVEATS[caveat])
    face_counts(result.counts())
    if result.faces:
        st.dataframe(result.rows(), hide_index=True, width="stretch")
    else:
        st.info("No face found. Try a lower minimum face size or the YuNet detector.")
    st.download_button(
        "Download annotated image (PNG)",
        result.png(),
        file_name=f"{stem(result.name)}_annotated.png",
        mime="image/png",
        key=f"png-{key}",
        on_click="ignore",
    )
