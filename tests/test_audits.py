"""The model's answers joined with the audits of dataset/audits/, and the card that quotes them."""

import json
import re
import shutil

import pytest

from helpers import MODEL, needs_model, needs_shared
from mask_detector import config
from mask_detector.data.split import Split
from mask_detector.errors import MaskDetectorError
from mask_detector.evaluation.audits import (
    AUDITS,
    Answer,
    Audit,
    audit_report,
    audit_sentence,
    file_sha256,
    read_audit,
    run_audits,
    scene_key,
)
from mask_detector.training.card import write_model_card

AUDIT = Audit("x.csv", "scenes-dev", ("without_mask",), 32)
ANSWERS = [
    Answer("a.jpg 0,0,40,40", "without_mask", 40, "with_mask"),  # an error, listed
    Answer("a.jpg 50,0,90,40", "without_mask", 40, "mask_worn_incorrectly"),  # an error
    Answer("b.jpg 0,0,40,40", "without_mask", 40, "without_mask"),  # right, listed
    Answer("b.jpg 50,0,70,20", "without_mask", 20, "with_mask"),  # too small to be looked at
    Answer("c.jpg 0,0,40,40", "with_mask", 40, "without_mask"),  # another label
]
LISTED = {"a.jpg 0,0,40,40": "cloth_at_mouth", "b.jpg 0,0,40,40": "under_chin"}


def test_audit_report_counts_the_faces_looked_at_and_the_errors_on_listed_ones():
    report = audit_report(AUDIT, ANSWERS, LISTED)
    assert report["faces"] == 3
    assert [(r["judgement"], r["predicted"]) for r in report["listed"]] == [
        ("cloth_at_mouth", "with_mask"),
        ("under_chin", "without_mask"),
    ]
    assert [(e["face"], e["judgement"]) for e in report["errors"]] == [
        ("a.jpg 0,0,40,40", "cloth_at_mouth"),
        ("a.jpg 50,0,90,40", None),
    ]
    sentence = audit_sentence(report)
    assert "all 3 faces annotated without_mask of 32 px and more" in sentence
    assert "cloth_at_mouth 1 (called with_mask 1); under_chin 1 (called without_mask 1)" in sentence
    assert sentence.endswith("The model errs on 2 of the 3, 1 of them listed.")


def test_an_audit_listing_a_face_it_does_not_cover_is_refused():
    with pytest.raises(MaskDetectorError, match=re.escape("b.jpg 50,0,70,20")):
        audit_report(AUDIT, ANSWERS, {"b.jpg 50,0,70,20": "under_chin"})


def test_audit_files_are_read_by_the_keys_answers_carry():
    for audit in AUDITS:
        listed = read_audit(audit)
        assert listed and all(listed.values())
    scene = read_audit(next(a for a in AUDITS if a.file == "scenes-dev-without-mask-32px.csv"))
    assert scene_key("maksssksksss5.jpg", (192, 106, 229, 144)) in scene


def test_audits_without_the_data_sets_say_where_they_looked(tmp_path, monkeypatch):
    monkeypatch.setenv(config.ENV_SHARED, str(tmp_path / "nowhere"))
    with pytest.raises(MaskDetectorError, match=f"nowhere.*set {config.ENV_SHARED}"):
        run_audits(MODEL, Split.load(config.MODELS_DIR / config.SPLIT_NAME))


def _card_with_audit(tmp_path, model_bytes: bytes) -> str:
    for name in (config.METRICS_NAME, config.SPLIT_NAME):
        shutil.copy(config.MODELS_DIR / name, tmp_path)
    model = tmp_path / config.TFLITE_MODEL_NAME
    model.write_bytes(b"the model the audit was run on")
    audit = {"model": model.name, "model_sha256": file_sha256(model)}
    audit["audits"] = [audit_report(AUDIT, ANSWERS, LISTED)]
    (tmp_path / config.AUDIT_NAME).write_text(json.dumps(audit))
    model.write_bytes(model_bytes)
    return write_model_card(tmp_path).read_text()


@pytest.mark.skipif(
    not (config.MODELS_DIR / config.METRICS_NAME).is_file(), reason="no shipped metrics"
)
def test_the_card_quotes_an_audit_only_for_the_model_beside_it(tmp_path):
    card = _card_with_audit(tmp_path, b"the model the audit was run on")
    assert "  - scenes-dev: all 3 faces annotated without_mask" in card
    card = _card_with_audit(tmp_path, b"a model trained since")
    assert "all 3 faces" not in card
    assert f"`{config.AUDIT_NAME}` was written for another model" in card


@needs_shared
@needs_model
def test_the_shipped_audit_file_holds_the_shipped_models_answers():
    shipped = json.loads((config.MODELS_DIR / config.AUDIT_NAME).read_text())
    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    assert run_audits(MODEL, split) == shipped, "run `python -m mask_detector audit`"
