"""Upload-page glue: run each uploaded file once per settings, not on every Streamlit rerun."""

from __future__ import annotations

from typing import Protocol

import streamlit as st

from ..pipeline import MaskDetector
from .results import ImageResult, process_upload
from .state import Settings

_CACHE = "_upload_results"


class Uploaded(Protocol):
    """The part of streamlit's UploadedFile used here."""

    file_id: str
    name: str

    def getvalue(self) -> bytes: ...


def process_files(
    files: list[Uploaded], settings: Settings, pipeline: MaskDetector
) -> list[ImageResult]:
    """Results for `files`, reusing this session's earlier results for the same file and settings.

    The cache lives in session state (never shared between users) and keeps only current files.
    """
    old: dict[tuple[str, Settings], ImageResult] = st.session_state.get(_CACHE, {})
    new: dict[tuple[str, Settings], ImageResult] = {}
    todo = [f for f in files if (f.file_id, settings) not in old]
    bar = st.progress(0.0, text="Detecting faces...") if todo else None
    done = 0
    for f in files:
        key = (f.file_id, settings)
        if key not in old:
            old[key] = process_upload(pipeline, f.name, f.getvalue(), blur=settings.blur_faces)
            done += 1
            if bar:
                bar.progress(done / len(todo), text=f"Detecting faces... {done}/{len(todo)}")
        new[key] = old[key]
    if bar:
        bar.empty()
    st.session_state[_CACHE] = new
    return [new[(f.file_id, settings)] for f in files]
