"""The Streamlit app under AppTest (every page, uploads included) and its per-file helpers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import streamlit
from PIL import Image
from streamlit.testing.v1 import AppTest

from helpers import (
    FixedClassifier,
    conditions_record,
    encode,
    make_zip,
    needs_model,
    small_video,
)
from mask_detector import config
from mask_detector.app.reports import (
    SCENE_TEST,
    SCENES_DEV,
    by_size_series,
    load_reports,
    shipped_reports,
)
from mask_detector.app.results import GENERIC_ERROR, process_upload, results_csv, results_json
from mask_detector.caveats import CAVEATS
from mask_detector.config import display_name
from mask_detector.detectors import make_detector
from mask_detector.evaluation.conditions import dark, grey
from mask_detector.evaluation.figures import pct
from mask_detector.evaluation.intervals import interval_text
from mask_detector.evaluation.metrics import macro
from mask_detector.pipeline import MaskDetector
from mask_detector.training.spread import seeds_of

APP = str(config.REPO_ROOT / "app.py")
METRICS = config.MODELS_DIR / config.METRICS_NAME
needs_metrics = pytest.mark.skipif(not METRICS.is_file(), reason=f"{METRICS} not written yet")


@pytest.fixture(scope="module")
def fake_pipeline() -> MaskDetector:
    return MaskDetector(make_detector("haar"), FixedClassifier())  # type: ignore[arg-type]


def open_page(page: str | None = None) -> AppTest:
    """Run the app as a browser would: the home page first, then the page asked for."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """All visible text of the common kinds of element, for "does it say X" checks."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "title", "header", "subheader")
        for e in getattr(at, kind)
    ]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


# --- Per-file processing (no Streamlit) ----------------------------------------------------------


def test_one_good_file(fake_pipeline, astronaut_bgr):
    result = process_upload(fake_pipeline, "a.png", encode(astronaut_bgr))
    assert result.ok and result.size == (512, 512)
    assert result.counts()["with_mask"] == len(result.faces) >= 1
    assert result.rows()[0]["label"] == "Mask" and result.rows()[0]["confidence"] == 0.9
    decoded = cv2.imdecode(np.frombuffer(result.png(), np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (512, 512, 3)
    assert not np.array_equal(decoded, astronaut_bgr)  # boxes were drawn


def test_bad_files_among_good_ones(fake_pipeline, astronaut_bgr):
    jpeg = encode(astronaut_bgr, ".jpg")
    huge = io.BytesIO()
    Image.new("L", (9000, 5000)).save(huge, "PNG")  # 45 MP > MAX_PIXELS; tiny file
    files = [
        ("good.jpg", jpeg),
        ("notes.png", b"hello, I am text"),
        ("cut.jpg", jpeg[: len(jpeg) // 3]),
        ("empty.png", b""),
        ("huge.png", huge.getvalue()),
        ("good2.png", encode(astronaut_bgr)),
        ("iphone.heic", (Path(__file__).parent / "data" / "half_red.heic").read_bytes()),
        ("clip.mp4", small_video(astronaut_bgr[:64, :64])),
    ]
    results = [process_upload(fake_pipeline, name, data) for name, data in files]
    assert [r.ok for r in results] == [True, False, False, False, False, True, True, False]
    assert "not an image" in results[1].error
    assert "truncated" in results[2].error
    assert "empty" in results[3].error
    assert "megapixels" in results[4].error
    assert results[6].size == (60, 40)
    assert "a video file" in results[7].error
    assert all(not r.error.startswith("image:") for r in results if r.error)

    rows = list(csv_rows(results_csv(results)))
    assert {r["file"] for r in rows} == {name for name, _ in files}
    assert next(r for r in rows if r["file"] == "cut.jpg")["error"]
    data = json.loads(results_json(results))
    assert [d["file"] for d in data] == [name for name, _ in files]
    assert data[0]["counts"]["with_mask"] >= 1 and data[1]["counts"] is None


def csv_rows(data: bytes):
    import csv

    return csv.DictReader(io.StringIO(data.decode()))


def test_exif_orientation_is_respected(fake_pipeline, astronaut_bgr):
    upright = astronaut_bgr[:, 56:456]  # 400 wide, 512 high
    stored = Image.fromarray(np.ascontiguousarray(np.rot90(upright, 1)[:, :, ::-1]))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buf = io.BytesIO()
    stored.save(buf, "JPEG", exif=exif)
    result = process_upload(fake_pipeline, "phone.jpg", buf.getvalue())
    assert result.size == (400, 512)
    assert result.faces  # Haar finds the face only when the photo is upright


def test_unexpected_error_is_a_generic_message(astronaut_bgr, caplog):
    class Broken:
        def process(self, image):
            raise RuntimeError("bug")

    result = process_upload(Broken(), "a.png", encode(astronaut_bgr))  # type: ignore[arg-type]
    assert result.error == GENERIC_ERROR and "bug" not in result.error
    assert "a.png" in caplog.text


# --- The app under AppTest ------------------------------------------------------------------------


def test_navigation_url_paths(monkeypatch):
    seen = []
    real = streamlit.navigation

    def spy(pages, **kw):
        seen.extend(pages)
        return real(pages, **kw)

    monkeypatch.setattr(streamlit, "navigation", spy)
    open_page()
    assert [p.url_path for p in seen] == ["", "upload", "live", "video", "metrics"]


@needs_metrics
def test_home_shows_training_figures():
    summary = json.loads(METRICS.read_text())
    at = open_page()
    check_home(at, summary)


def check_home(at: AppTest, summary: dict) -> None:
    """The home page quotes the shipped model's figures on each data set it was measured on."""
    text = texts(at)
    assert summary["shipped_scenario"] in text
    metrics = [f"{m.label} {m.value}" for m in at.metric]
    named = shipped_reports(summary)
    assert [s.value for s in at.subheader][: len(named)] == [n[0].upper() + n[1:] for n in named]
    expected = []
    for report in named.values():
        expected.append(f"Accuracy {pct(report['accuracy'])}")
        expected += [
            f"Recall, {config.DISPLAY_NAMES[label]} {pct(c['recall'])}"
            for label, c in report["per_class"].items()
            if c["recall"] is not None
        ]
    assert metrics == expected
    calib = (summary.get("calibration") or {}).get("test_scenes")
    if calib:
        ece = f"{pct(calib['before']['ece'])} before temperature scaling, "
        assert ece + f"{pct(calib['after']['ece'])} after" in text
    split = at.dataframe[0].value
    assert split["total"].tolist() == [sum(s.values()) for s in summary["split_sizes"].values()]


def test_pages_without_training_results(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "MODELS_DIR", tmp_path)
    at = open_page()
    assert "No training results yet" in at.warning[0].value
    at.switch_page("app_pages/metrics.py").run()
    assert not at.exception
    assert "No training results yet" in at.warning[0].value
    assert "Not measured yet" in at.info[0].value
    at.switch_page("app_pages/upload.py").run()
    at.file_uploader(key="upload_files").set_value(("a.png", b"x", "image/png")).run()
    assert "cannot be loaded" in at.error[0].value  # no model: a message, not a traceback


@needs_metrics
def test_metrics_page_renders_every_scenario():
    at = open_page("app_pages/metrics.py")
    check_metrics_page(at, load_reports())


def check_metrics_page(at: AppTest, reports) -> None:
    """Every table and chart of the metrics page shows what models/*.json hold."""
    assert [t.label for t in at.tabs] == [*shipped_reports(reports.summary), *reports.scenarios]
    table = at.dataframe[0].value
    assert len(table) == len(reports.scenarios)
    for name, m in reports.scenarios.items():
        row = table[table["scenario"].str.startswith(name)].iloc[0]
        assert row["accuracy"] == pct(m["test"]["accuracy"])
        assert row["recall"] == pct(macro(m["test"], "recall"))
    assert f"{reports.shipped} (shipped)" in table["scenario"].tolist()
    # Faces in real photos: the comparison rows `ship` wrote, one per scenario.
    scenes = at.dataframe[1].value
    comparison = reports.summary["comparison"]
    assert scenes["scenario"].str.removesuffix(" (shipped)").tolist() == [
        r["scenario"] for r in comparison
    ]
    no_mask, worn = display_name("without_mask"), display_name("mask_worn_incorrectly")
    for r, (_, row) in zip(comparison, scenes.iterrows(), strict=True):
        assert row[f"{SCENE_TEST}: accuracy"] == pct(r.get("scenes_test_accuracy"))
        assert row[f"{SCENE_TEST}: {no_mask} recall"] == pct(
            r.get("scenes_test_without_mask_recall")
        )
        assert row[f"{SCENE_TEST}: {worn} recall"] == pct(
            r.get("scenes_test_mask_worn_incorrectly_recall")
        )
        assert row[f"{SCENE_TEST} < 32 px: accuracy"] == pct(r.get("scenes_test_under32_accuracy"))
        assert row[f"{SCENE_TEST} >= 32 px: {no_mask} recall"] == pct(
            r.get("scenes_test_32up_without_mask_recall")
        )
        assert row[f"{SCENES_DEV}: {no_mask} recall"] == pct(
            r.get("scene_crop_without_mask_recall")
        )
        assert (
            row["ECE before -> after"] == f"{pct(r.get('ece_before'))} -> {pct(r.get('ece_after'))}"
        )
    seeds = seeds_of(reports.shipped, reports.seeds)
    if seeds:  # the shipped run, each other seed, then mean, sd, min and max
        spread = next(d.value for d in at.dataframe if "run" in d.value.columns)
        assert spread["run"].tolist() == [
            f"{reports.shipped} (shipped)",
            *seeds,
            "mean",
            "sd",
            "min",
            "max",
        ]
        assert spread["close-up test"].iloc[0] == pct(reports.summary["test"]["accuracy"], 2)
    text = texts(at)
    # The shipped model: one confusion matrix (and by-size table) per data set measured.
    for name, report in shipped_reports(reports.summary).items():
        assert f"Accuracy **{pct(report['accuracy'])}** on {report['n']} {name}" in text
    calib = reports.summary.get("calibration")
    if calib and calib.get("test_scenes"):
        before, after = calib["test_scenes"]["before"], calib["test_scenes"]["after"]
        assert f"**{pct(before['ece'])} before, {pct(after['ece'])} after**" in text
        eces = next(d.value for d in at.dataframe if "ECE before" in d.value.columns)
        assert eces["ECE after"].tolist() == [
            pct(p["after"]["ece"]) for p in calib.values() if isinstance(p, dict) and "after" in p
        ]
    for m in reports.scenarios.values():
        assert f"Test accuracy **{pct(m['test']['accuracy'])}**" in text
    charts = (
        1  # ROC
        + len(shipped_reports(reports.summary))  # confusion matrices of the shipped model
        + bool(calib)  # reliability diagram
        + sum(bool(by_size_series(reports, n)) for n in reports.scenarios)  # by size
        + len(reports.scenarios)  # confusion
        + sum(bool(m.get("history")) for m in reports.scenarios.values())  # curves
        + any(r.get("recall_by_size") for r in (reports.scenes or {}).values())  # by size
    )
    assert len(at.get("image")) == charts
    if reports.scenes:  # detectors measured on scene photos: one row each
        detectors = next(d.value for d in at.dataframe if "detector" in d.value.columns)
        assert detectors["detector"].tolist() == list(reports.scenes)
        assert detectors["recall"].tolist() == [pct(r["recall"]) for r in reports.scenes.values()]
        assert detectors["found and labelled right"].tolist() == [
            pct(r.get("found_and_right")) for r in reports.scenes.values()
        ]
    else:
        assert "Not measured yet" in at.info[0].value
    if reports.conditions_current:  # a table per photo set, a row per condition
        tables = [d.value for d in at.dataframe if "condition" in d.value.columns]
        assert [t["condition"].tolist() for t in tables] == [
            list(conditions) for conditions in reports.conditions["sets"].values()
        ]


def fake_models(root: Path) -> Path:
    """A minimal models/ folder in the shapes training and `ship` write: one scenario, reports
    of a few faces made by the library's own functions."""
    from mask_detector.evaluation.calibration import calibration_report
    from mask_detector.evaluation.metrics import classification_report

    rng = np.random.default_rng(0)

    def report(n: int, classes: int) -> dict:
        labels = np.arange(n) % classes
        probs = rng.dirichlet(np.ones(len(config.LABELS)), n)
        probs[np.arange(n), labels] += 1.0  # mostly right
        return classification_report(
            labels, probs / probs.sum(1, keepdims=True), 12 + 9 * np.arange(n)
        )

    test, scenes = report(12, 2), report(9, 3)
    calib_probs = rng.dirichlet(np.ones(len(config.LABELS)) * 0.3, 9)
    calibration = {
        "temperature": 1.5,
        "fitted_on": "val_scenes",
        "test_scenes": calibration_report(1.5, calib_probs, np.arange(9) % 3),
    }
    scenario = {
        "scenario": {"name": "tiny", "description": "a fake scenario"},
        "history": {"head": {"loss": [0.5, 0.4], "accuracy": [0.7, 0.8], "val_loss": [0.6, 0.5]}},
        "val": test,
        "test": test,
        "test_scenes": scenes,
        "calibration": calibration,
        "train_seconds": 1.0,
    }
    comparison = {
        "scenario": "tiny",
        "image_size": 224,
        "val_macro_recall": 0.5,
        "scenes_test_accuracy": scenes["accuracy"],
        "scenes_test_without_mask_recall": 0.25,
        "ece_before": 0.1,
        "ece_after": 0.05,
        "temperature": 1.5,
    }
    summary = {
        "shipped_scenario": "tiny",
        "selected_by": "a fake rule",
        "split_sizes": {"test": {"with_mask": 6, "without_mask": 6}},
        "comparison": [comparison],
        "test": test,
        "test_scenes": scenes,
        "scenes_dev_crops_by_scenario": {"tiny": scenes},
        "calibration": calibration,
    }
    (root / "scenarios" / "tiny").mkdir(parents=True)
    (root / "scenarios" / "tiny" / config.METRICS_NAME).write_text(json.dumps(scenario))
    (root / config.METRICS_NAME).write_text(json.dumps(summary))
    return root


def test_report_rows_for_the_pages(tmp_path):
    from mask_detector.app.reports import by_size_rows, calibration_rows, trained_on

    reports = load_reports(fake_models(tmp_path))
    rows = reports.scenarios["tiny"]["test_scenes"]["by_size"]
    table = by_size_rows(rows)
    assert [r["face px"] for r in table] == [*(r["bucket"] for r in rows), "<32", ">=32"]
    assert table[-2]["faces"] + table[-1]["faces"] == sum(r["n"] for r in rows) == 9
    no_mask = table[-1][f"{display_name('without_mask')} recall (95% interval)"]
    faces = sum(r["support"]["without_mask"] for r in rows[3:])
    right = sum(r["right"]["without_mask"] for r in rows[3:])
    assert no_mask.endswith(f" of {faces} ({interval_text(right, faces)})")
    (calib,) = calibration_rows(reports.summary["calibration"])
    part = reports.summary["calibration"]["test_scenes"]
    assert calib["faces"] == "scene test faces" and calib["n"] == 9
    assert (calib["ECE before"], calib["ECE after"]) == (
        pct(part["before"]["ece"]),
        pct(part["after"]["ece"]),
    )
    assert trained_on(reports) == "close-up face images"  # the fake recipe has no scene faces
    reports.scenarios["tiny"]["scenario"]["scene_faces"] = True
    assert "faces cut from real photos" in trained_on(reports)


def test_metrics_and_home_pages_from_a_minimal_fake(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "MODELS_DIR", fake_models(tmp_path))
    reports = load_reports(tmp_path)
    assert reports.shipped == "tiny" and list(by_size_series(reports, "tiny")) == [
        SCENE_TEST,
        SCENES_DEV,
    ]
    at = open_page()
    check_home(at, reports.summary)
    at.switch_page("app_pages/metrics.py").run()
    assert not at.exception
    check_metrics_page(at, reports)
    scenes = at.dataframe[1].value  # figures a comparison row lacks read "n/a"
    assert scenes[f"{SCENES_DEV}: accuracy"].tolist() == ["n/a"]
    assert scenes["ECE before -> after"].tolist() == ["10.0% -> 5.0%"]


def test_metrics_page_scene_results(tmp_path, monkeypatch):
    scenes = {
        "haar": {
            "recall": 0.5,
            "recall_per_class": {"with_mask": 0.4, "without_mask": 0.6},
            "precision": 0.8,
            "label_accuracy": 0.9,
            "faces": 120,
        },
        "yunet": {
            "recall": 0.85,
            "recall_per_class": {"with_mask": 0.8, "without_mask": 0.9},
            "precision": 0.9,
            "label_accuracy": 0.88,
            "faces": 120,
        },
    }
    (tmp_path / "scenes.json").write_text(json.dumps(scenes))
    monkeypatch.setattr(config, "MODELS_DIR", tmp_path)
    at = open_page("app_pages/metrics.py")
    table = at.dataframe[0].value
    assert table["detector"].tolist() == ["haar", "yunet"]
    assert table["recall"].tolist() == ["50.0%", "85.0%"]


@needs_model
def test_metrics_page_evaluates_an_archive(astronaut_bgr, masked_astronaut_bgr):
    crop = np.s_[40:180, 150:300]
    good = make_zip(
        {
            "set/with_mask/a.png": encode(masked_astronaut_bgr[crop]),
            "set/without_mask/b.png": encode(astronaut_bgr[crop]),
        }
    )
    at = open_page("app_pages/metrics.py")
    at.file_uploader(key="eval_zip").set_value(("mine.zip", good, "application/zip")).run()
    assert not at.exception and not at.error
    accuracy = next(m for m in at.metric if m.label == "Accuracy")
    assert accuracy.value in {"0.0%", "50.0%", "100.0%"}
    bad = make_zip({"holiday/a.png": encode(astronaut_bgr)})
    at.file_uploader(key="eval_zip").set_value(("bad.zip", bad, "application/zip")).run()
    assert not at.exception
    assert "bad.zip" in at.error[0].value and "with_mask" in at.error[0].value


@needs_model
def test_upload_page_several_files_and_a_bad_one(astronaut_bgr):
    at = open_page("app_pages/upload.py")
    assert at.info[0].value == "No image yet."
    files = [
        ("one.png", encode(astronaut_bgr), "image/png"),
        ("broken.jpg", b"\xff\xd8\xff garbage", "image/jpeg"),
        ("two.jpg", encode(astronaut_bgr, ".jpg"), "image/jpeg"),
    ]
    at.file_uploader(key="upload_files").set_value(files).run()
    assert not at.exception
    assert len(at.error) == 1 and "broken.jpg" in at.error[0].value
    assert [s.value for s in at.subheader] == ["one.png", "two.jpg"]
    assert "2 of 3 image(s) processed" in texts(at)
    assert len(at.dataframe) == 2
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("Download annotated image (PNG)") == 2
    assert {"All results (CSV)", "All results (JSON)"} <= set(labels)


@needs_model
def test_upload_page_camera_snapshot_and_settings_persist(astronaut_bgr):
    at = open_page("app_pages/upload.py")
    at.sidebar.slider[0].set_value(0.25).run()
    at.radio(key="upload_src").set_value("Camera snapshot").run()
    at.camera_input(key="upload_camera").upload("snap.jpg", encode(astronaut_bgr, ".jpg")).run()
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader] == ["snap.jpg"]
    at.switch_page("app_pages/video.py").run()
    assert at.sidebar.slider[0].value == 0.25  # the sidebar keeps its values between pages


@needs_model
def test_video_page(astronaut_bgr, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    at = open_page("app_pages/video.py")
    at.file_uploader(key="video_file").set_value(
        ("clip.mp4", small_video(astronaut_bgr[:256, 128:384], frames=4), "video/mp4")
    ).run()
    assert not at.exception and not at.error
    assert "4 frames at 5.0 fps" in texts(at)
    assert at.get("video") and at.get("vega_lite_chart")
    assert list(tmp_path.iterdir()) == []  # the temporary folder is gone
    # The people in it: a table, and the same summary as `video --json` to download.
    assert "1 person: 0 with mask, 1 without mask, 0 mask worn wrong" in texts(at)
    (people,) = at.dataframe
    assert list(people.value["person"]) == ["#1"]
    assert list(people.value["label"]) == ["No mask"]
    downloads = {b.proto.label for b in at.get("download_button")}
    assert {"People (CSV)", "People (JSON)", "Download annotated video (mp4)"} <= downloads
    assert not at.warning  # a colour video, well lit
    night = small_video(grey(astronaut_bgr[:256, 128:384]), frames=4)
    at.file_uploader(key="video_file").set_value(("night.mp4", night, "video/mp4")).run()
    assert [w.value for w in at.warning] == [CAVEATS["grey"]]
    at.file_uploader(key="video_file").set_value(("notes.mp4", b"text", "video/mp4")).run()
    assert not at.exception
    assert at.error[0].value.startswith("notes.mp4: not a video file")


def test_people_downloads_carry_every_label():
    from mask_detector.app.people import people_csv, people_line, people_rows, summary_json

    tracks = [
        {"id": 1, "label": "with_mask", "confidence": 0.98, "frames": 30, "first_s": 0.0,
         "last_s": 1.9},
        {"id": 2, "label": "mask_worn_incorrectly", "confidence": 0.81, "frames": 12,
         "first_s": 0.4, "last_s": 1.2},
    ]  # fmt: skip
    per_label = {"with_mask": 1, "without_mask": 0, "mask_worn_incorrectly": 1}
    summary = {"frames": 30, "fps": 15.0, "people": 2, "people_per_label": per_label}
    summary["tracks"] = tracks
    assert people_line(summary) == "2 people: 1 with mask, 0 without mask, 1 mask worn wrong"
    assert [r["label"] for r in people_rows(summary)] == ["Mask", "Mask worn wrong"]
    lines = people_csv(summary).decode().splitlines()
    assert lines[0] == "id,label,confidence,first_s,last_s,frames"
    assert lines[2] == "2,mask_worn_incorrectly,0.81,0.4,1.2,12"
    assert json.loads(summary_json(summary))["people_per_label"]["mask_worn_incorrectly"] == 1


def test_upload_of_a_grey_or_dark_photo_says_the_labels_are_less_sure(astronaut_bgr):
    pipeline = MaskDetector(make_detector("haar"), FixedClassifier())  # type: ignore[arg-type]
    night = process_upload(pipeline, "night.png", encode(grey(astronaut_bgr)))
    assert night.caveats == ["grey"] and night.ok
    assert json.loads(results_json([night]))[0]["caveats"] == ["grey"]
    assert process_upload(pipeline, "day.png", encode(astronaut_bgr)).caveats == []
    at = open_page("app_pages/upload.py")
    files = [
        ("day.png", encode(astronaut_bgr), "image/png"),
        ("dim.png", encode(dark(astronaut_bgr)), "image/png"),
    ]
    at.file_uploader(key="upload_files").set_value(files).run()
    assert not at.exception
    assert [w.value for w in at.warning] == [CAVEATS["dark"]]


def test_upload_downloads_carry_every_label(astronaut_bgr):
    class ThirdLabel(FixedClassifier):
        def classify(self, faces):
            probs = np.full((len(faces), len(config.LABELS)), 0.05, np.float32)
            probs[:, config.LABELS.index("mask_worn_incorrectly")] = 0.9
            return probs

    pipeline = MaskDetector(make_detector("haar"), ThirdLabel())  # type: ignore[arg-type]
    result = process_upload(pipeline, "a.png", encode(astronaut_bgr))
    assert result.counts()["mask_worn_incorrectly"] == len(result.faces) >= 1
    assert result.rows()[0]["label"] == "Mask worn wrong"
    assert "Mask worn wrong" in results_csv([result]).decode()
    (as_json,) = json.loads(results_json([result]))
    assert set(as_json["counts"]) == set(config.RESULT_LABELS)
    assert as_json["faces"][0]["label"] == "mask_worn_incorrectly"


@needs_model
def test_blur_faces_in_the_sidebar_blurs_uploads(astronaut_bgr):
    at = open_page("app_pages/upload.py")
    at.file_uploader(key="upload_files").set_value([("a.png", encode(astronaut_bgr), "image/png")])
    at.run()
    plain = at.get("image")[0].proto.imgs[0].url
    (blur,) = [t for t in at.sidebar.toggle if t.label == "Blur faces"]
    assert blur.value is False
    blur.set_value(True).run()
    assert not at.exception and not at.error
    assert at.get("image")[0].proto.imgs[0].url != plain  # a new, blurred picture
    assert len(at.dataframe) == 1  # the faces table stays
    at.switch_page("app_pages/video.py").run()
    assert [t.value for t in at.sidebar.toggle if t.label == "Blur faces"] == [True]


@needs_model
def test_sidebar_offers_both_detectors_offline(tmp_path, monkeypatch):
    """A fresh clone, no ../shared, no cache: YuNet is offered from models/, with one hint line."""
    from mask_detector.app.state import DETECTOR_HINT

    monkeypatch.setenv(config.ENV_SHARED, str(tmp_path / "no-shared"))
    monkeypatch.setenv(config.ENV_CACHE, str(tmp_path / "no-cache"))
    at = open_page("app_pages/upload.py")
    assert at.sidebar.selectbox[0].options == ["Haar cascade (OpenCV)", "YuNet (OpenCV DNN)"]
    assert at.sidebar.selectbox[0].value == "yunet"  # what photos start from
    assert at.sidebar.caption[0].value == DETECTOR_HINT
    at.sidebar.selectbox[0].set_value("haar").run()
    assert not at.exception and not at.error


def _sidebar_script() -> None:
    """One page's sidebar for the use named in session state (AppTest.from_function)."""
    import streamlit as st

    from mask_detector.app.state import sidebar

    st.session_state["settings"] = sidebar(st.session_state.get("use", "photo"))


def test_each_use_starts_from_its_own_defaults_and_keeps_its_own_choices():
    at = AppTest.from_function(_sidebar_script, default_timeout=30).run()
    photo = at.session_state["settings"]
    assert (photo.detector_name, photo.min_face, photo.small_faces) == ("yunet", 10, True)
    assert photo.min_judged_face == config.MIN_JUDGED_FACE
    captions = [c.value for c in at.sidebar.caption]
    assert "Faces from 10 px" in captions[-1] and "searched at 2.0x its size" in captions[-1]
    at.sidebar.slider[1].set_value(24).run()  # the smallest face, on the photo pages
    assert "searched at 1.0x its size" in at.sidebar.caption[-1].value
    at.session_state["use"] = "live"
    live = at.run().session_state["settings"]
    assert (live.detector_name, live.min_face, live.small_faces) == ("haar", 24, False)
    assert "keeps the detector fast" in at.sidebar.caption[-1].value
    at.sidebar.selectbox[0].set_value("yunet").run()
    at.sidebar.slider[0].set_value(0.8).run()  # confidence: one setting for every page
    at.sidebar.slider[2].set_value(0).run()  # so is the smallest face labelled
    at.session_state["use"] = "photo"
    photo = at.run().session_state["settings"]
    assert (photo.detector_name, photo.min_face) == ("yunet", 24)
    assert (photo.min_confidence, photo.min_judged_face) == (0.8, 0)
    at.sidebar.selectbox[0].set_value("haar").run()
    at.session_state["use"] = "live"
    assert at.run().session_state["settings"].detector_name == "yunet"  # as the camera left it


def test_metrics_page_shows_the_camera_conditions_of_the_shipped_model(tmp_path, monkeypatch):
    from mask_detector.app.reports import condition_rows

    monkeypatch.setattr(config, "MODELS_DIR", fake_models(tmp_path))
    model = tmp_path / config.TFLITE_MODEL_NAME
    model.write_bytes(b"a model")
    record = conditions_record(model)
    (tmp_path / config.CONDITIONS_NAME).write_text(json.dumps(record))
    reports = load_reports(tmp_path)
    assert reports.conditions_current
    (row,) = condition_rows(record)["scenes-dev"]
    assert row["condition"] == "grey" and row[">= 32 px: no-mask R"].startswith("50.0% ")
    at = open_page("app_pages/metrics.py")
    assert "scenes-dev" in [h.value for h in at.subheader]
    table = next(d.value for d in at.dataframe if "condition" in d.value.columns)
    assert table["< 32 px: two labels"].tolist() == [row["< 32 px: two labels"]]
    model.write_bytes(b"a newer model")  # the record no longer fits the shipped model
    at = open_page("app_pages/metrics.py")
    assert any("measured with another model" in w.value for w in at.warning)
    assert not any("condition" in d.value.columns for d in at.dataframe)
