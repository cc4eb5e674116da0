"""Home: what the app does, how the shipped model was trained, and where to go next."""

import streamlit as st

from mask_detector.app.reports import load_reports, split_rows
from mask_detector.app.state import sidebar
from mask_detector.app.views import labels_legend
from mask_detector.config import display_name
from mask_detector.evaluation.figures import pct

sidebar()
st.title("Face-mask detector")
st.write(
    "Finds every face in a photo, a video or your camera stream and tells whether it wears a "
    "mask. Two steps: a face detector (OpenCV's Haar cascade, or the YuNet network) finds the "
    "faces, then a MobileNetV2 classifier, fine-tuned on face crops and run with LiteRT, labels "
    f"each one {labels_legend()} with a confidence. In videos and on the camera each person is "
    "followed from frame to frame and counted once."
)

cols = st.columns(4)
cols[0].page_link("app_pages/upload.py", label="Photos", icon=":material/image:")
cols[1].page_link("app_pages/live.py", label="Live camera", icon=":material/videocam:")
cols[2].page_link("app_pages/video.py", label="Video file", icon=":material/movie:")
cols[3].page_link("app_pages/metrics.py", label="Model metrics", icon=":material/monitoring:")

st.header("The model")
summary = load_reports().summary
if summary is None:
    st.warning("No training results yet (models/metrics.json is missing): train and ship a model.")
    st.stop()

test = summary["test"]
shipped = summary.get("shipped_scenario", "?")
st.write(
    f"Shipped training scenario: **{shipped}**, chosen on the validation set "
    f"({summary.get('selected_by', 'best validation accuracy')}); the test set was used only "
    "to report the figures below."
)
metric_cols = st.columns(1 + len(test["per_class"]))
metric_cols[0].metric("Test accuracy", pct(test["accuracy"]), help=f"{test['n']} test images")
for col, (label, c) in zip(metric_cols[1:], test["per_class"].items(), strict=True):
    col.metric(f"Recall, {display_name(label)}", pct(c["recall"]))
st.subheader("Images per split")
st.dataframe(split_rows(summary["split_sizes"]), hide_index=True)
st.caption(
    "Near-duplicate photos were grouped before splitting so that no face appears in two splits."
)
