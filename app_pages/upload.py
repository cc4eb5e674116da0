"""Photos: upload several images (or take a snapshot) and see every face labelled."""

import streamlit as st

from mask_detector.app.results import results_csv, results_json
from mask_detector.app.state import pipeline_or_stop, sidebar
from mask_detector.app.upload import process_files
from mask_detector.app.views import csv_json_downloads, image_result, labels_legend
from mask_detector.imageio import MAX_FILE_BYTES, MAX_PIXELS, PHOTO_TYPES

settings = sidebar("photo")
st.title("Photos")
st.write(
    f"Upload one or more photos: each face is found, boxed and labelled {labels_legend()}; a "
    "face too small to judge is boxed in grey with a *?*. "
    f"Up to {MAX_FILE_BYTES // 2**20} MB and {MAX_PIXELS / 1e6:.0f} megapixels per image; phone "
    "photos are turned upright from their EXIF orientation."
)

source = st.radio("Source", ["Upload files", "Camera snapshot"], horizontal=True, key="upload_src")
if source == "Upload files":
    files = st.file_uploader(
        "Images",
        type=list(PHOTO_TYPES),
        accept_multiple_files=True,
        key="upload_files",
        max_upload_size=MAX_FILE_BYTES // 2**20,
    )
else:
    snap = st.camera_input("Take a snapshot", key="upload_camera")
    files = [snap] if snap else []

if not files:
    st.info("No image yet.")
    st.stop()

pipeline = pipeline_or_stop(settings)
results = process_files(files, settings, pipeline)

good = [r for r in results if r.ok]
st.caption(
    f"{len(good)} of {len(results)} image(s) processed, "
    f"{sum(len(r.faces) for r in good)} face(s) found."
)
csv_json_downloads(
    results, results_csv, results_json, title="All results", file_stem="mask_results", key="all"
)
for i, result in enumerate(results):
    st.divider()
    image_result(result, key=str(i))
