"""The shipped model's answers on faces looked at by eye (dataset/audits/).

Each audit file lists, among a set of faces that were all looked at, those whose annotation does
not fit the three-label definition. Joined with the model's answers, it says how many of the
model's errors fall on such faces. `python -m mask_detector audit` writes this to
models/audit.json and the model card quotes it, so no count of a model's errors is written by
hand where a new model would leave it stale.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..classifier import MaskClassifier
from ..config import (
    ENV_SHARED,
    LABELS,
    REPO_ROOT,
    scene_training_dir,
    scenes_dir,
    training_data_dir,
)
from ..data.split import Split
from ..errors import MaskDetectorError
from .by_size import face_size
from .classify import evaluate_samples
from .crops import evaluate_scene_crops

AUDITS_DIR = REPO_ROOT / "dataset" / "audits"


@dataclass(frozen=True)
class Audit:
    """An audit file and what was looked at: every face of `part` annotated with one of `labels`
    and at least `min_size` px on its longer side."""

    file: str
    part: str
    labels: tuple[str, ...]
    min_size: int = 0
    #: What of the model's answers the eye had met before the audit (each audit itself hid them).
    seen_before: str = ""


CLOSEUP_TEST, SCENES_VAL, SCENES_TEST = "close-up test", "scenes-ilc val", "scenes-ilc test"
SCENES_DEV = "scenes-dev"
AUDITS = (
    Audit("closeup-test-with-mask-under-nose.csv", CLOSEUP_TEST, ("with_mask",)),
    Audit(
        "scenes-ilc-val-two-label-32px.csv",
        SCENES_VAL,
        ("with_mask", "without_mask"),
        32,
        "the errors among these faces of the model shipped then, scenes_lowres_ls at seed 1, had "
        "been seen, with its answers, before",
    ),
    Audit("scenes-ilc-test-two-label-32px.csv", SCENES_TEST, ("with_mask", "without_mask"), 32),
    Audit("scenes-dev-without-mask-32px.csv", SCENES_DEV, ("without_mask",), 32),
    Audit("scenes-dev-with-mask-32px.csv", SCENES_DEV, ("with_mask",), 32),
)


@dataclass(frozen=True)
class Answer:
    """One face: `key` names it as its audit file does (a close-up's path in its set; a scene
    face's photo and VOC corners)."""

    key: str
    annotated: str
    size: int
    predicted: str


def scene_key(photo: str, corners: Iterable[int | str]) -> str:
    return f"{photo} " + ",".join(str(int(v)) for v in corners)


def row_key(row: dict[str, str]) -> str:
    if "file" in row:
        return row["file"]
    return scene_key(row["photo"], (row[k] for k in ("xmin", "ymin", "xmax", "ymax")))


def read_audit(audit: Audit, audits_dir: Path = AUDITS_DIR) -> dict[str, str]:
    """Face key -> judgement."""
    with (audits_dir / audit.file).open(newline="") as f:
        return {row_key(row): row["judgement"] for row in csv.DictReader(f)}


def audit_report(audit: Audit, answers: list[Answer], listed: dict[str, str]) -> dict[str, Any]:
    """The faces looked at, the model's answers on the listed ones, and its errors (each with
    its judgement where the audit lists it)."""
    scope = [a for a in answers if a.annotated in audit.labels and a.size >= audit.min_size]
    unknown = set(listed) - {a.key for a in scope}
    if unknown:
        raise MaskDetectorError(
            f"{audit.file} lists faces that are not among the ones it covers: {sorted(unknown)}"
        )
    return {
        "file": audit.file,
        "part": audit.part,
        "labels": list(audit.labels),
        "min_size": audit.min_size,
        "seen_before": audit.seen_before,
        "faces": len(scope),
        "listed": [
            {"face": a.key, "judgement": listed[a.key], "predicted": a.predicted}
            for a in scope
            if a.key in listed
        ],
        "errors": [
            {
                "face": a.key,
                "annotated": a.annotated,
                "predicted": a.predicted,
                "judgement": listed.get(a.key),
            }
            for a in scope
            if a.predicted != a.annotated
        ],
    }


def _label(probs: list[float]) -> str:
    return LABELS[int(np.argmax(probs))]


def closeup_answers(classifier: MaskClassifier, split: Split, data_dir: Path) -> list[Answer]:
    report = evaluate_samples(classifier, split.samples("test", data_dir))
    base = data_dir.resolve()
    return [
        Answer(
            Path(f["file"]).relative_to(base).as_posix(),
            LABELS[f["true"]],
            f["size"],
            _label(f["probs"]),
        )
        for f in report["files"]
    ]


def scene_answers(
    classifier: MaskClassifier, root: Path, only: list[str] | None = None
) -> list[Answer]:
    report = evaluate_scene_crops(classifier, root / "images", root / "annotations", only)
    return [
        Answer(
            scene_key(f["photo"], (x, y, x + w, y + h)),
            LABELS[f["true"]],
            face_size((x, y, w, h)),
            _label(f["probs"]),
        )
        for f in report["faces"]
        for x, y, w, h in [f["box"]]
    ]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_audits(
    model: Path, split: Split, log: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """The model on every part an audit covers, joined with the audit files."""
    missing = [
        str(folder)
        for folder in (training_data_dir(), scene_training_dir(), scenes_dir())
        if not folder.is_dir()
    ]
    if missing:
        raise MaskDetectorError(
            f"the audits need the data sets at {', '.join(missing)} (set {ENV_SHARED})"
        )
    classifier = MaskClassifier(model)
    log(CLOSEUP_TEST)
    answers = {CLOSEUP_TEST: closeup_answers(classifier, split, training_data_dir())}
    for name, part in ((SCENES_VAL, "val"), (SCENES_TEST, "test")):
        log(name)
        photos = split.annotation_names(part)
        answers[name] = scene_answers(classifier, scene_training_dir(), photos)
    log(SCENES_DEV)
    answers[SCENES_DEV] = scene_answers(classifier, scenes_dir())
    reports = [audit_report(a, answers[a.part], read_audit(a)) for a in AUDITS]
    return {"model": model.name, "model_sha256": file_sha256(model), "audits": reports}


def _counts(values: Iterable[str]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(Counter(values).items()))


def audit_sentence(report: dict[str, Any]) -> str:
    """What the card says of one audit: the listed faces by judgement with the model's answers
    on them, and how many of its errors are on listed faces."""
    size = f" of {report['min_size']} px and more" if report["min_size"] else ""
    by_judgement: dict[str, list[str]] = {}
    for row in report["listed"]:
        by_judgement.setdefault(row["judgement"], []).append(row["predicted"])
    listed = "; ".join(
        f"{judgement} {len(answers)} (called {_counts(answers)})"
        for judgement, answers in sorted(by_judgement.items())
    )
    seen = f" ({report['seen_before']})" if report.get("seen_before") else ""
    errors = report["errors"]
    on_listed = sum(1 for e in errors if e["judgement"])
    return (
        f"{report['part']}: all {report['faces']} faces annotated "
        f"{' or '.join(report['labels'])}{size} were looked at by eye, the model's answers "
        f"hidden{seen}; `dataset/audits/{report['file']}` lists {len(report['listed'])} of them"
        + (f": {listed}" if listed else "")
        + f". The model errs on {len(errors)} of the {report['faces']}, {on_listed} of them "
        "listed."
    )
