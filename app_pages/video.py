"""Video file: follow every face of an uploaded clip and play back the annotated video."""

import logging
import tempfile
from pathlib import Path

import streamlit as st

from mask_detector.app.people import people_csv, people_line, people_rows, summary_json
from mask_detector.app.state import memo, pipeline_or_stop, sidebar
from mask_detector.app.views import csv_json_downloads, labels_legend
from mask_detector.caveats import CAVEATS
from mask_detector.config import RESULT_LABELS, count_phrase
from mask_detector.errors import MaskDetectorError
from mask_detector.video import MAX_FRAMES, MAX_SECONDS, MAX_SIDE, VideoResult, process_video

VIDEO_TYPES = ["mp4", "webm", "mov", "avi"]
MAX_UPLOAD_MB = 200

settings = sidebar("photo")
st.title("Video file")
st.write(
    f"Upload a clip (up to {MAX_UPLOAD_MB} MB): every face is followed from frame to frame, "
    f"labelled {labels_legend()} and numbered by person; the annotated video comes back as an "
    f"mp4 without sound, with a table of the people in it. At most the first "
    f"{MAX_SECONDS:.0f} seconds ({MAX_FRAMES} frames) are processed. Faces are found in the "
    f"frames as they are; the annotated video is at most {MAX_SIDE} px wide or high."
)
upload = st.file_uploader(
    "Video", type=VIDEO_TYPES, key="video_file", max_upload_size=MAX_UPLOAD_MB
)
if upload is None:
    st.info("No video yet.")
    st.stop()

pipeline = pipeline_or_stop(settings)


def run() -> tuple[VideoResult, bytes] | str:
    """Process in a private temporary folder, removed afterwards; return the video or an error."""
    bar = st.progress(0.0, text="Processing frames...")
    try:
        with tempfile.TemporaryDirectory(prefix="mask_video_") as tmp:
            src = Path(tmp) / ("input" + Path(upload.name).suffix.lower())
            src.write_bytes(upload.getvalue())
            dst = Path(tmp) / "annotated.mp4"
            result = process_video(
                src,
                dst,
                pipeline,
                progress=lambda done, total: bar.progress(
                    min(1.0, done / total), text=f"Processing frames... {done}/{total}"
                ),
                name=upload.name,
                blur=settings.blur_faces,
            )
            return result, dst.read_bytes()
    except MaskDetectorError as exc:
        return str(exc)
    except Exception:
        logging.getLogger(__name__).exception("video %s failed", upload.name)
        return f"{upload.name}: could not be processed (unexpected error; see the server log)"
    finally:
        bar.empty()


outcome = memo("_video_result", (upload.file_id, settings), run)
if isinstance(outcome, str):
    st.error(outcome)
    st.stop()

result, video = outcome
summary = {"file": upload.name, **result.summary()}
if result.truncated:
    st.warning(
        f"The video is longer than the limit: only its first {result.frames} frames "
        f"({result.frames / result.fps:.0f} s) were processed."
    )
if result.damaged:
    st.warning("The file is damaged: decoding stopped early, the frames before that are shown.")
for caveat in result.caveats:
    st.warning(CAVEATS[caveat])
st.video(video, format="video/mp4")
st.caption(
    f"{result.frames} frames at {result.fps:.1f} fps, {result.width}x{result.height}, "
    f"encoded with {result.codec}."
)
stem = Path(upload.name).stem
st.download_button(
    "Download annotated video (mp4)",
    video,
    file_name=f"{stem}_annotated.mp4",
    mime="video/mp4",
    on_click="ignore",
)

st.subheader("People")
st.write(people_line(summary))
if summary["tracks"]:
    st.dataframe(people_rows(summary), hide_index=True)
else:
    st.info("No face found. Try a lower minimum face size or the YuNet detector.")
csv_json_downloads(
    summary, people_csv, summary_json, title="People", file_stem=f"{stem}_people", key="people"
)

st.subheader("Faces per frame")
st.line_chart(
    result.chart_data(), x="seconds", y=[count_phrase(k) for k in RESULT_LABELS], y_label="faces"
)
