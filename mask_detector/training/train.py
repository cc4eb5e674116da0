"""Train one scenario on a saved split: head first, then (optionally) the top blocks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ..config import LABELS, METRICS_NAME, MODELS_DIR, SCENARIO_MODEL_NAME
from ..data.split import Split
from ..evaluation.metrics import classification_report, summary_line
from .features import FeatureSet, ViewSampler, extract_features
from .model import (
    DEFAULT_SPLIT_LAYER,
    ClassifierParts,
    augmenter,
    build_classifier,
    set_top_trainable,
)
from .scenario import Scenario

Log = Callable[[str], None]


class _EpochLog(keras.callbacks.Callback):
    """One readable line per epoch, whatever Keras' own verbosity."""

    def __init__(self, phase: str, log: Log) -> None:
        super().__init__()
        self.phase, self.log, self.start = phase, log, time.time()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        self.log(
            f"  {self.phase} epoch {epoch + 1}: loss {logs.get('loss', 0):.4f} "
            f"acc {logs.get('accuracy', 0):.4f} val_loss {logs.get('val_loss', 0):.4f} "
            f"val_acc {logs.get('val_accuracy', 0):.4f} ({time.time() - self.start:.0f} s)"
        )


def class_weights(labels: np.ndarray) -> dict[int, float]:
    """Inverse class frequency, normalised so the mean weight is 1 (over the classes present:
    a data set without some label of config.LABELS is balanced between the others)."""
    counts = np.bincount(labels, minlength=len(LABELS)).astype(float)
    present = int(np.count_nonzero(counts))
    return {k: float(len(labels) / (present * c)) for k, c in enumerate(counts) if c}


def _fit(
    parts: ClassifierParts,
    train: FeatureSet,
    val: FeatureSet,
    scenario: Scenario,
    phase: str,
    log: Log,
) -> dict[str, list[float]]:
    finetune = phase == "finetune"
    set_top_trainable(parts, finetune)
    lr = scenario.finetune_lr if finetune else scenario.head_lr
    epochs = scenario.finetune_epochs if finetune else scenario.head_epochs
    parts.trainer.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=scenario.patience, restore_best_weights=True
    )
    log(f" {phase}: up to {epochs} epochs at learning rate {lr:g}")
    history = parts.trainer.fit(
        ViewSampler(train, scenario.batch_size, scenario.seed),
        validation_data=(val.features[0].astype(np.float32), val.labels),
        epochs=epochs,
        class_weight=class_weights(train.labels),
        callbacks=[stop, _EpochLog(phase, log)],
        verbose=0,
    )
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def _evaluate(parts: ClassifierParts, data: FeatureSet) -> dict[str, Any]:
    probs = parts.trainer.predict(data.features[0].astype(np.float32), verbose=0)
    return classification_report(data.labels, probs)


def train_scenario(
    data_dir: str | Path,
    split: Split,
    scenario: Scenario,
    backbone_weights: str | None = None,
    runs_dir: str | Path = MODELS_DIR / "scenarios",
    limit: int | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """Train, evaluate on validation and test, save `<runs_dir>/<name>/{model.keras,metrics.json}`.

    `limit` keeps only the first N images of each part (smoke runs).
    """
    keras.utils.set_random_seed(scenario.seed)
    started = time.time()
    parts = build_classifier(
        backbone_weights, scenario.finetune_from or DEFAULT_SPLIT_LAYER, scenario.dropout
    )
    tag = f"{Path(data_dir).resolve()}|{scenario.finetune_from or DEFAULT_SPLIT_LAYER}"

    def features(part: str, augment: keras.Sequential | None, views: int) -> FeatureSet:
        samples = split.samples(part, data_dir)
        if limit:
            rng = np.random.default_rng(scenario.seed)
            samples = [samples[i] for i in sorted(rng.permutation(len(samples))[:limit])]
        log(f" {part}: {len(samples)} images")
        return extract_features(parts.lower, samples, augment, views, f"{tag}|{part}", log)

    train = features("train", augmenter(scenario.augment, scenario.seed), scenario.views)
    val = features("val", None, 1)
    test = features("test", None, 1)

    history = {"head": _fit(parts, train, val, scenario, "head", log)}
    if scenario.finetune_from and scenario.finetune_epochs:
        history["finetune"] = _fit(parts, train, val, scenario, "finetune", log)

    metrics: dict[str, Any] = {
        "scenario": scenario.to_dict(),
        "split_sizes": {
            name: {LABELS[k]: int(c) for k, c in enumerate(np.bincount(d.labels, minlength=2))}
            for name, d in (("train", train), ("val", val), ("test", test))
        },
        "skipped_images": sum(len(d.report.skipped) for d in (train, val, test)),
        "history": history,
        "val": _evaluate(parts, val),
        "test": _evaluate(parts, test),
        "train_seconds": round(time.time() - started, 1),
        "limit": limit,
    }
    out = Path(runs_dir) / scenario.name
    out.mkdir(parents=True, exist_ok=True)
    parts.full.save(out / SCENARIO_MODEL_NAME)
    (out / METRICS_NAME).write_text(json.dumps(metrics, indent=1) + "\n")
    log(f" {scenario.name}: validation {summary_line(metrics['val'])}")
    log(f" {scenario.name}: test {summary_line(metrics['test'])}")
    return metrics
