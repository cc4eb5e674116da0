"""Home: what the app does, how the shipped model was trained, and where to go next."""

import streamlit as st

from mask_detector.app.reports import load_reports, shipped_reports, split_rows, trained_on
from mask_detector.app.state import sidebar
from mask_detector.app.views import headline_metrics, labels_legend
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
reports = load_reports()
summary = reports.summary
if summary is None:
    st.warning("No training results yet (models/metrics.json is missing): train and ship a model.")
    st.stop()

calib = (summary.get("calibration") or {}).get("test_scenes")
st.write(
    f"Shipped training scenario: **{reports.shipped}**, trained on {trained_on(reports)} and "
    f"chosen on validation data ({summary.get('selected_by', 'best validation accuracy')}); "
    "test faces were used only to report the figures below."
    + (
        " Confidences are calibrated (temperature scaling): of the faces shown at 90%, about 9 "
        "in 10 are right."
        if calib
        else ""
    )
)
for name, report in shipped_reports(summary).items():
    st.subheader(name[0].upper() + name[1:])
    headline_metrics(report)
if calib:
    st.caption(
        f"Expected calibration error on the scene test faces: {pct(calib['before']['ece'])} "
        f"before temperature scaling, {pct(calib['after']['ece'])} after."
    )
st.subheader("Faces per split")
st.dataframe(split_rows(summary["split_sizes"]), hide_index=True)
st.caption(
    "Near-duplicate photos were grouped before splitting so that no face appears in two splits; "
    "scene photos were split by photo, every face of a photo on one side."
)
