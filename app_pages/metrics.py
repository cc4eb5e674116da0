"""Model metrics: the training scenarios compared, curves and matrices, and your own test set."""

import logging

import streamlit as st

from mask_detector.app.reports import (
    comparison_rows,
    headline_rows,
    load_reports,
    scenes_rows,
    split_rows,
)
from mask_detector.app.state import memo, sidebar
from mask_detector.app.views import figure
from mask_detector.errors import MaskDetectorError
from mask_detector.evaluation.archive import MAX_FILES, MAX_TOTAL_BYTES, evaluate_archive
from mask_detector.evaluation.figures import pct
from mask_detector.pipeline import load_classifier

MAX_ZIP_MB = 100

sidebar()
st.title("Model metrics")
reports = load_reports()

if not reports.scenarios and reports.summary is None:
    st.warning("No training results yet: models/metrics.json and models/scenarios/ are missing.")
else:
    st.header("Training scenarios")
    st.write(
        "Each scenario trained the same MobileNetV2 classifier differently; the one with the best "
        "validation accuracy is shipped. Figures below are on the held-out **test** set "
        "(precision, recall and F1 averaged over the two classes); the *scene faces* columns "
        "classify the small, annotated faces of the crowd photos, where the scenarios differ."
    )
    st.dataframe(comparison_rows(reports), hide_index=True)
    if reports.summary:
        st.subheader("Images per split")
        st.dataframe(split_rows(reports.summary["split_sizes"]), hide_index=True)
    if reports.scenarios:
        figure("roc", reports.scenarios)
        for tab, (name, m) in zip(
            st.tabs(list(reports.scenarios)), reports.scenarios.items(), strict=True
        ):
            with tab:
                description = m.get("scenario", {}).get("description")
                if description:
                    st.write(description)
                st.write(
                    f"Test accuracy **{pct(m['test']['accuracy'])}** on {m['test']['n']} images."
                )
                st.dataframe(headline_rows(m["test"]), hide_index=True)
                figure("confusion", m["test"], f"{name}: test set")
                if m.get("history"):
                    figure("curves", m["history"], f"{name}: training")

st.header("Face detectors on scene photos")
if reports.scenes:
    st.write(
        "How many annotated faces in crowded scene photos each detector finds (recall), how many "
        "of its boxes are faces (precision), and how often the found faces get the right label."
    )
    st.dataframe(scenes_rows(reports.scenes), hide_index=True)
else:
    st.info("Not measured yet (models/scenes.json is missing).")

st.header("Evaluate your own data")
st.write(
    "Upload a zip with one folder per class, e.g. `with_mask/` and `without_mask/` (also accepted: "
    "`mask/`, `no_mask/`...). Each image is taken as one face crop and classified by the shipped "
    f"model. Limits: {MAX_ZIP_MB} MB zip, {MAX_FILES} files, "
    f"{MAX_TOTAL_BYTES // 2**20} MB unpacked."
)
archive = st.file_uploader("Zip archive", type=["zip"], key="eval_zip", max_upload_size=MAX_ZIP_MB)
if archive is not None:

    def run() -> dict | str:
        """The report, or an error message for the page."""
        bar = st.progress(0.0, text="Classifying...")
        try:
            return evaluate_archive(
                load_classifier(shared=True),
                archive.getvalue(),
                progress=lambda i, n: bar.progress(i / n, text=f"Classifying... {i}/{n}"),
            )
        except MaskDetectorError as exc:
            return f"{archive.name}: {exc}"
        except Exception:
            logging.getLogger(__name__).exception("evaluating %s failed", archive.name)
            return f"{archive.name}: could not be evaluated (unexpected error; see the server log)"
        finally:
            bar.empty()

    report = memo("_eval_result", archive.file_id, run)
    if isinstance(report, str):
        st.error(report)
    else:
        st.metric("Accuracy", pct(report["accuracy"]), help=f"{report['n']} images")
        st.dataframe(headline_rows(report), hide_index=True)
        figure("confusion", report, archive.name, cache=False)
        if report["skipped"]:
            st.warning(f"{len(report['skipped'])} file(s) skipped: not readable images.")
            st.dataframe(report["skipped"], hide_index=True)
