"""models/MODEL_CARD.md, written from the measured metrics files so it cannot drift from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import (
    AUDIT_NAME,
    CONDITIONS_NAME,
    IMAGE_SIZE,
    LABELS,
    METRICS_NAME,
    MODEL_CARD_NAME,
    MODELS_DIR,
    RUNS_DIR_NAME,
    SCENES_NAME,
    SCENES_TEST_NAME,
    SEEDS_DIR_NAME,
    SPLIT_NAME,
    TFLITE_MODEL_NAME,
    display_name,
)
from ..evaluation.audits import audit_sentence, file_sha256
from ..evaluation.by_size import recall_text, two_labels_text, with_totals
from ..evaluation.conditions import CONDITIONS, conditions_table, measured_for
from ..evaluation.figures import confusion_rates, pct
from ..evaluation.metrics import recalls_text
from .runs import runs_in
from .spread import shipped_spread, spread_table

#: Rates in the card have two decimals, as in the README.
DIGITS = 2


def _separator(columns: int) -> str:
    """The line under a markdown table's header."""
    return "|" + "---|" * columns


def confusion_table(report: dict[str, Any]) -> list[str]:
    """Rows true, columns predicted: count (share of the true class)."""
    names = report["labels"]
    rates = confusion_rates(report["confusion_matrix"])
    rows = [
        "| true \\ predicted | " + " | ".join(display_name(c) for c in names) + " |",
        _separator(len(names) + 1),
    ]
    for name, counts, shares in zip(names, report["confusion_matrix"], rates, strict=True):
        cells = " | ".join(f"{n} ({pct(s)})" for n, s in zip(counts, shares, strict=True))
        rows.append(f"| {display_name(name)} | {cells} |")
    return rows


def by_size_md(rows: list[dict[str, Any]]) -> list[str]:
    """The by-size table, with the < 32 / >= 32 px totals the goals are stated in; the goals'
    figures carry their 95% intervals (evaluation.intervals)."""
    out = [
        "| face size (longer side, px) | faces | accuracy | with/without faces only (95% "
        "interval) | " + " | ".join(f"{c} recall of faces (95% interval)" for c in LABELS) + " |",
        _separator(4 + len(LABELS)),
    ]
    for r in with_totals(rows):
        cells = " | ".join(recall_text(r, c, DIGITS) for c in LABELS)
        bucket = r["bucket"] if r in rows else f"**all {r['bucket']}**"
        out.append(
            f"| {bucket} | {r['n']} | {pct(r['accuracy'], DIGITS)} | "
            f"{two_labels_text(r, DIGITS)} | {cells} |"
        )
    return out


def _face_report(title: str, report: dict[str, Any], what: str, extra: str = "") -> list[str]:
    return [
        "",
        f"### {title}",
        f"{what}: accuracy **{pct(report['accuracy'], DIGITS)}** on {report['n']} faces; "
        f"{recalls_text(report, DIGITS)}{extra}.",
        "",
        *confusion_table(report),
        "",
        *by_size_md(report["by_size"]),
    ]


def _scenario_rows(metrics: dict[str, Any]) -> list[str]:
    cols = [
        ("val: close-ups", "val_closeup_accuracy"),
        ("val >=32 px: two labels", "val_scene_32up_two_label_accuracy"),
        ("val >=32 px: No-mask R", "val_scene_32up_without_mask_recall"),
        ("val: mean recall", "val_macro_recall"),
        ("close-up test acc", "test_accuracy"),
        ("scene test acc", "scenes_test_accuracy"),
        ("scene test No-mask R", "scenes_test_without_mask_recall"),
        ("scene test Worn-wrong R", "scenes_test_mask_worn_incorrectly_recall"),
        ("scene test <32 px acc (No-mask R)", "scenes_test_under32"),
        ("scene test >=32 px acc (No-mask R)", "scenes_test_32up"),
        ("scenes-dev acc (No-mask R)", "scene_crop"),
        ("scenes-dev <32 px acc (No-mask R)", "scene_crop_under32"),
        ("ECE scene test before / after", "ece"),
    ]
    rows = [
        "| scenario | input | " + " | ".join(c for c, _ in cols) + " | epochs | train s |",
        _separator(len(cols) + 4),
    ]
    for r in metrics["comparison"]:
        mark = " (shipped)" if r["scenario"] == metrics["shipped_scenario"] else ""
        cells = []
        for _, key in cols:
            if key == "ece":
                before, after = r.get("ece_before"), r.get("ece_after")
                cells.append(f"{pct(before, DIGITS)} / {pct(after, DIGITS)}")
            elif key in r:
                cells.append(pct(r[key], DIGITS))
            else:
                acc, wom = r.get(f"{key}_accuracy"), r.get(f"{key}_without_mask_recall")
                cells.append(f"{pct(acc, DIGITS)} ({pct(wom, DIGITS)})")
        rows.append(
            f"| {r['scenario']}{mark} | {r.get('image_size')} | "
            + " | ".join(cells)
            + f" | {r['epochs']} | {r['train_seconds']:.0f} |"
        )
    return rows


def _pipeline_rows(scenes: dict[str, Any]) -> list[str]:
    rows = [
        "| detector | faces found (recall) | precision | label accuracy, found faces | "
        + " | ".join(f"{c} labelled right (found)" for c in LABELS)
        + " | with/without only | with/without faces found and labelled right |",
        _separator(6 + len(LABELS)),
    ]
    for name, r in scenes.items():
        per = r.get("label_accuracy_per_class") or {}
        found = r.get("found_per_class") or {}
        cells = " | ".join(f"{pct(per.get(c), DIGITS)} ({found.get(c, 0)})" for c in LABELS)
        rows.append(
            f"| {name} | {r['found']}/{r['faces']} ({pct(r['recall'], DIGITS)}) | "
            f"{pct(r['precision'], DIGITS)} | {pct(r.get('label_accuracy'), DIGITS)} | {cells} | "
            f"{pct(r.get('label_accuracy_two_labels'), DIGITS)} | "
            f"{pct(r.get('found_and_right'), DIGITS)} |"
        )
    return rows


def _calibration(metrics: dict[str, Any]) -> list[str]:
    calibration = metrics.get("calibration") or {}
    test = calibration.get("test_scenes")
    if not test:
        return []
    return [
        "",
        "## Calibration",
        f"Temperature scaling: T = {calibration['temperature']:.3f}, fitted on the "
        f"{calibration['fitted_on'].replace('_', ' ')} faces (validation; minimising the Brier "
        "score) and baked into the model (its last Dense layer divided by T), so the "
        "probabilities the app shows are calibrated at no run-time cost. "
        f"Expected calibration error on the {test['before']['n']} scene faces of the test "
        f"photos ({len(test['before']['bins'])} bins): "
        f"**{pct(test['before']['ece'], DIGITS)} before, "
        f"{pct(test['after']['ece'], DIGITS)} after** (negative log-likelihood "
        f"{test['before']['nll']:.3f} -> {test['after']['nll']:.3f}).",
    ]


def _seed_spread(models_dir: Path, metrics: dict[str, Any]) -> list[str]:
    """The shipped recipe trained again under other seeds (`train --seed`), when there are
    such runs: how much of each figure is the luck of one run (`spread.shipped_spread`)."""
    shipped = metrics["shipped_scenario"]
    runs, apart = shipped_spread(
        shipped,
        metrics,
        runs_in(models_dir / RUNS_DIR_NAME),
        runs_in(models_dir / SEEDS_DIR_NAME),
    )
    if not runs:
        return []
    if not apart:
        return [
            "",
            "## The shipped recipe under other seeds",
            f"The recipe of {shipped}, trained again with other random seeds (initial head "
            "weights, augmented views, batch order) and nothing else changed "
            f"(`python -m mask_detector spread models/scenarios/{shipped} "
            f"models/{SEEDS_DIR_NAME}/{shipped}_seed*`). The shipped run is the seed its "
            "scenario file names, the one of these runs that the selection rule ranks first on "
            "validation; `ship` itself never chooses among seeds. Percent:",
            "",
            spread_table(runs),
        ]
    return [
        "",
        "## The runs the shipped soup averages",
        f"{shipped} is the mean of the weights of these runs, one recipe trained under several "
        "random seeds (initial head weights, augmented views, batch order) and nothing else "
        "changed. The statistics are over the runs, not the soup. Percent:",
        "",
        spread_table(runs, apart=apart),
    ]


def _source(entry: str) -> str:
    """A manifest's source entry as the reader finds it (relative ones lie in ../shared)."""
    return entry if Path(entry).is_absolute() else f"../shared/{entry}"


def _split_path(models_dir: Path) -> Path:
    """The manifest beside the metrics, else the repository's (`ship --out` elsewhere)."""
    path = models_dir / SPLIT_NAME
    return path if path.is_file() else MODELS_DIR / SPLIT_NAME


def _data_and_split(split: dict[str, Any]) -> str:
    """The data and how it was split, from the split manifest."""
    sources = split["sources"]
    closeups = sum(sum(part.values()) for part in split["sizes"].values())
    text = (
        f"Close-ups: {closeups} face images, folder per class (`{_source(sources['closeups'])}`, "
        "see `dataset/README.md`). "
    )
    if split.get("scene_sizes"):
        scenes = split["scene_sizes"].values()
        photos = sum(part["photos"] for part in scenes)
        faces = sum(n for part in scenes for key, n in part.items() if key != "photos")
        text += (
            f"Scene photos: {photos} real photos with {faces} annotated faces "
            f"(`{_source(sources['scenes'])}`, credited in `dataset/README.md`), split **by "
            "photo**. "
        )
    held_out = ", ".join(f"`{_source(entry)}`" for entry in sources.get("held_out", []))
    ratios = " / ".join(f"{round(100 * r)}" for r in split["ratios"])
    return text + (
        f"Exact and near-duplicates (64-bit perceptual hash, at most {split['hash_threshold']} "
        "differing bits, transitively) are grouped across all sources, and whole groups are "
        f"dealt to train / validation / test ({ratios}, stratified, seed {split['seed']})"
        + (
            f"; a photo near a photo of {held_out} (never trained on) is excluded "
            f"({len(split['excluded'])} excluded). "
            if held_out
            else ". "
        )
        + f"The manifest is `{SPLIT_NAME}`. Faces per part (close-up images and annotated "
        "scene faces):"
    )


def _audits(models_dir: Path) -> list[str]:
    """The shipped model's errors on the faces checked by eye, from `audit`'s file; a file
    written for another model is not quoted."""
    path = models_dir / AUDIT_NAME
    if not path.is_file():
        return []
    audit = json.loads(path.read_text())
    model = models_dir / TFLITE_MODEL_NAME
    if not model.is_file() or audit["model_sha256"] != file_sha256(model):
        return [
            f"- `{AUDIT_NAME}` was written for another model: run `python -m mask_detector "
            "audit`, then `card`."
        ]
    return [
        "- Faces whose annotations were checked by eye (`dataset/audits/`; the README says what "
        "the faces the model errs on look like):",
        *[f"  - {audit_sentence(report)}" for report in audit["audits"]],
    ]


def _conditions(models_dir: Path) -> list[str]:
    """The shipped model on photos made as cameras in use take them, from the benchmark's file;
    a file measured for another model is not quoted."""
    path = models_dir / CONDITIONS_NAME
    if not path.is_file():
        return []
    record = json.loads(path.read_text())
    model = models_dir / TFLITE_MODEL_NAME
    command = f"`.venv/bin/python benchmarks/conditions.py --save models/{CONDITIONS_NAME}`"
    lines = ["", "## Camera conditions"]
    if not measured_for(record, model):
        return [*lines, f"`{CONDITIONS_NAME}` was measured for another model: run {command}."]
    lines.append(
        "The scene photos changed as a camera in use might take them, each photo whole before "
        "detection and cropping: "
        + "; ".join(f"{c.name}, {c.description}" for c in CONDITIONS if c.transform)
        + f". YuNet's small-face path, then the classifier alone on the annotated faces by "
        f"size (two labels: with_mask and without_mask faces; no-mask R: without_mask recall; "
        f"95% intervals in parentheses). Measured by {command}."
    )
    for name, reports in record["sets"].items():
        lines += ["", f"### {name}", "", *conditions_table(reports)]
    return lines


def write_model_card(models_dir: Path) -> Path:
    metrics = json.loads((models_dir / METRICS_NAME).read_text())
    test = metrics["test"]
    sizes = metrics["split_sizes"]
    size = metrics.get("image_size") or IMAGE_SIZE
    lines = [
        "# Model card: mask_detector (MobileNetV2; " + " / ".join(LABELS) + ")",
        "",
        f"Generated by `python -m mask_detector card` from `{METRICS_NAME}`, `{SCENES_NAME}`, "
        f"`{SCENES_TEST_NAME}` and `{AUDIT_NAME}`; every figure below was measured by the "
        "commands in the README.",
        "",
        "## Model",
        f"MobileNetV2 (alpha 1.0, {size}x{size} RGB, ImageNet weights) + global average "
        f"pooling, dropout and a {len(LABELS)}-way softmax ({', '.join(LABELS)}). Input: a face "
        "crop (detector box padded by 15% per side) prepared by "
        "`mask_detector.preprocess.preprocess_faces`. Files: `mask_detector.keras` (training "
        "artefact), `mask_detector.tflite` (float32 LiteRT export used for inference).",
        "",
        f"Shipped scenario: **{metrics['shipped_scenario']}**, chosen on validation data by "
        f"{metrics['selected_by']}. A scenario trained under several seeds names the seed this "
        "rule ranks first; the README's Training section says when that rule was set.",
        "",
        "## Data and split",
        _data_and_split(json.loads(_split_path(models_dir).read_text())),
        "",
        "| part | " + " | ".join(LABELS) + " |",
        _separator(len(LABELS) + 1),
        *[
            f"| {p} | " + " | ".join(str(s.get(c, 0)) for c in LABELS) + " |"
            for p, s in sizes.items()
        ],
        "",
        "## Results on faces the model never saw",
        *_face_report(
            "Close-ups: the leak-free test split",
            test,
            "Classifier on the close-up test images (each image is one face)",
            f"; ROC AUC {test['roc_auc']:.4f} (with_mask against the others)",
        ),
    ]
    if metrics.get("test_scenes"):
        lines += _face_report(
            "Scene faces: the test photos of scenes-ilc",
            metrics["test_scenes"],
            "Classifier alone on the annotated faces (padded crops of the true boxes)",
        )
    if metrics.get("scenes_dev_crops"):
        lines += _face_report(
            "Scene faces: scenes-dev (another collection, 150 crowd photos)",
            metrics["scenes_dev_crops"],
            "Classifier alone on the annotated faces",
        )
    lines += _calibration(metrics)
    for name, title in (
        (SCENES_TEST_NAME, "the test photos of scenes-ilc"),
        (SCENES_NAME, "scenes-dev"),
    ):
        path = models_dir / name
        if path.is_file():
            lines += [
                "",
                f"## The whole pipeline on {title}",
                "Detector, then classifier on each found face (IoU >= 0.3 with an annotated "
                "face); the label columns give the share of found faces of each annotated "
                "class labelled right (found faces in parentheses).",
                "",
                *_pipeline_rows(json.loads(path.read_text())),
            ]
    lines += _conditions(models_dir)
    lines += [
        "",
        "## Scenarios compared (same split)",
        "Each scenario differs from another in one thing (see "
        "`mask_detector/training/scenarios/`). No-mask R: without_mask recall.",
        "",
        *_scenario_rows(metrics),
        *_seed_spread(models_dir, metrics),
        "",
        "## Known limits",
        "- Faces under 16 px carry little evidence: the label of such a face is a guess more "
        "often than for larger ones (see the by-size tables).",
        "- mask_worn_incorrectly is the smallest class (about 12% of the scene faces, few in "
        "scenes-dev): its figures have wide error bars.",
        "- The close-up set has two labels and files a mask under the nose under with_mask; "
        "by this project's definition such a mask is worn wrong.",
        *_audits(models_dir),
        "- Haar finds few masked faces: the mask hides the features it looks for. Use YuNet "
        "where its model file is available.",
        "- Trained and measured mostly on daylight colour photos: in grey (night camera), dark "
        'and heavily compressed photos fewer faces are labelled right (README, "Cameras in '
        'use"); the app warns under grey and dark photos, videos and camera pictures.',
        "- Not evaluated for fairness across age, skin tone or mask type; do not use it to make "
        "decisions about people.",
    ]
    path = models_dir / MODEL_CARD_NAME
    path.write_text("\n".join(lines) + "\n")
    return path
