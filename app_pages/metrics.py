"""Model metrics: the training scenarios compared, curves and matrices, and your own test set."""

import logging

import streamlit as st

from mask_detector.app.reports import (
    SCENE_TEST,
    SCENES_DEV,
    Reports,
    by_size_rows,
    by_size_series,
    calibration_rows,
    calibration_set,
    comparison_rows,
    condition_rows,
    headline_rows,
    load_reports,
    scene_comparison_rows,
    scenes_rows,
    seed_spread_rows,
    shipped_reports,
    split_rows,
)
from mask_detector.app.state import memo, sidebar
from mask_detector.app.views import figure
from mask_detector.config import CONDITIONS_NAME
from mask_detector.errors import MaskDetectorError
from mask_detector.evaluation.archive import MAX_FILES, MAX_TOTAL_BYTES, evaluate_archive
from mask_detector.evaluation.conditions import CONDITIONS
from mask_detector.evaluation.figures import pct
from mask_detector.pipeline import load_classifier

MAX_ZIP_MB = 100


def scenario_tables(reports: Reports) -> None:
    """The scenarios side by side: close-up test set, then faces in real photos."""
    st.header("Training scenarios")
    rule = (reports.summary or {}).get("selected_by", "best on validation")
    st.write(
        "Each scenario trained the same MobileNetV2 classifier in one way different from another; "
        f"the one shipped was chosen on validation data only ({rule}). A scenario trained "
        "under several seeds names the seed this rule ranks first (the README says when that "
        "was decided). "
        "The first table is the held-out close-up **test** images (precision, recall and F1 "
        "averaged over the classes the set has)."
    )
    st.dataframe(comparison_rows(reports), hide_index=True)
    scene_rows = scene_comparison_rows(reports)
    if scene_rows:
        st.write(
            "Faces in real photos, the classifier alone on the annotated boxes: the "
            f"{SCENE_TEST} photos (never trained on, never used to choose) and {SCENES_DEV} "
            "(another collection). ECE: expected calibration error on the scene test faces, "
            "before and after temperature scaling (T)."
        )
        st.dataframe(scene_rows, hide_index=True)
    spread = seed_spread_rows(reports)
    if spread:
        st.subheader("The shipped recipe under other seeds")
        st.caption(
            "The same recipe trained again with other random seeds, nothing else changed: a "
            "difference between scenarios smaller than a column's sd says little."
        )
        st.dataframe(spread, hide_index=True)
    if reports.summary:
        st.subheader("Faces per split")
        st.caption("Close-up images and annotated faces of the scene photos, split by photo.")
        st.dataframe(split_rows(reports.summary["split_sizes"]), hide_index=True)


def shipped_model(reports: Reports) -> None:
    """The shipped model's 3x3 confusion matrices and its figures by face size."""
    summary = reports.summary
    if not summary:
        return
    st.header(f"The shipped model: {reports.shipped}")
    named = shipped_reports(summary)
    for tab, (name, report) in zip(st.tabs(list(named)), named.items(), strict=True):
        with tab:
            st.write(
                f"Accuracy **{pct(report['accuracy'])}** on {report['n']} {name} "
                "(rows: true class; counts, then shares of each true class)."
            )
            figure("confusion", report, f"{reports.shipped}: {name}")
            if report.get("by_size"):
                st.dataframe(by_size_rows(report["by_size"]), hide_index=True)


def calibration(reports: Reports) -> None:
    """The reliability diagram and the ECE before and after temperature scaling."""
    calib = (reports.summary or {}).get("calibration")
    if not calib:
        return
    st.header("Calibration")
    test = calib.get("test_scenes")
    fitted = calibration_set(str(calib.get("fitted_on", "validation")))
    ece = (
        f" Expected calibration error on the {test['before']['n']} scene test faces: "
        f"**{pct(test['before']['ece'])} before, {pct(test['after']['ece'])} after**."
        if test
        else ""
    )
    st.write(
        f"Temperature scaling divides the logits by T = {calib['temperature']:.3f}, fitted on "
        f"the {fitted} and baked into the model, so the confidence shown and the "
        f"threshold the sidebar sets are probabilities that mean what they say.{ece} On the "
        "diagram a perfectly calibrated model lies on the diagonal."
    )
    figure("reliability", calib)
    st.dataframe(calibration_rows(calib), hide_index=True)


def scenario_tabs(reports: Reports) -> None:
    """Per scenario: test figures, accuracy by face size, confusion matrix, training curves."""
    figure("roc", reports.scenarios)
    for tab, (name, m) in zip(
        st.tabs(list(reports.scenarios)), reports.scenarios.items(), strict=True
    ):
        with tab:
            description = m.get("scenario", {}).get("description")
            if description:
                st.write(description)
            st.write(f"Test accuracy **{pct(m['test']['accuracy'])}** on {m['test']['n']} images.")
            st.dataframe(headline_rows(m["test"]), hide_index=True)
            series = by_size_series(reports, name)
            if series:
                figure("by_size", series, f"{name}: scene faces by size")
            figure("confusion", m["test"], f"{name}: test set")
            if m.get("history"):
                figure("curves", m["history"], f"{name}: training")


sidebar()
st.title("Model metrics")
reports = load_reports()

if not reports.scenarios and reports.summary is None:
    st.warning("No training results yet: models/metrics.json and models/scenarios/ are missing.")
else:
    scenario_tables(reports)
    shipped_model(reports)
    calibration(reports)
    if reports.scenarios:
        st.header("Each scenario")
        scenario_tabs(reports)

st.header("Face detectors on scene photos")
if reports.scenes:
    st.write(
        "How many annotated faces in crowded scene photos each detector finds (recall), how many "
        "of its boxes are faces (precision), how often the found faces get the right label, and "
        "how many of all masked and unmasked faces are found *and* labelled right. Photos take "
        "the small-face path; the *live path* is the camera's."
    )
    st.dataframe(scenes_rows(reports.scenes), hide_index=True)
    if any(isinstance(r, dict) and r.get("recall_by_size") for r in reports.scenes.values()):
        figure("detector_recall", reports.scenes, "Faces found by size, scene photos")
else:
    st.info("Not measured yet (models/scenes.json is missing).")

st.header("Camera conditions")
if reports.conditions is None:
    st.info(f"Not measured yet (models/{CONDITIONS_NAME} is missing).")
elif not reports.conditions_current:
    st.warning(
        f"models/{CONDITIONS_NAME} was measured with another model: run "
        f"`benchmarks/conditions.py --save models/{CONDITIONS_NAME}` again."
    )
else:
    st.write(
        "The scene photos changed as cameras in use take them, then YuNet (the photos' path) and "
        "the classifier alone on the annotated faces: "
        + "; ".join(f"*{c.name}*: {c.description}" for c in CONDITIONS if c.transform)
        + ". Two labels: with_mask and without_mask faces; no-mask R: without_mask recall; "
        "95% intervals in parentheses."
    )
    for name, rows in condition_rows(reports.conditions).items():
        st.subheader(name)
        st.dataframe(rows, hide_index=True)

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
