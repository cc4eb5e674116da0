"""Train one scenario on a saved split: head first, then (optionally) the top blocks; a soup
scenario trains nothing and averages its recipe's runs instead (training.soup).

Validation is every validation face of the split, close-ups and scene faces together: early
stopping watches its loss, the temperature that calibrates the probabilities is fitted on it,
and `ship` chooses between scenarios on it. Test faces are only reported.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ..config import LABELS, METRICS_NAME, MODELS_DIR, RUNS_DIR_NAME, SCENARIO_MODEL_NAME
from ..data.split import Split
from ..errors import MaskDetectorError
from ..evaluation.calibration import calibration_report, fit_temperature, scale_probs
from ..evaluation.metrics import classification_report, summary_line
from .faces import closeup_items, scene_items, yunet_items
from .features import FeatureSet, ViewSampler, concatenate, extract_features
from .model import (
    DEFAULT_SPLIT_LAYER,
    ClassifierParts,
    augmenter,
    bake_temperature,
    build_classifier,
    set_top_trainable,
)
from .review import read_doubted, without_doubted
from .scenario import Scenario
from .soup import ingredient_runs, load_soup
from .views import FaceItem

Log = Callable[[str], None]
PREDICT_BATCH = 256


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


class _WeightAverage(keras.callbacks.Callback):
    """Stochastic weight averaging: the running mean of the trainable weights after each
    epoch from `start` (1-based), loaded into the model when training ends."""

    def __init__(self, start: int) -> None:
        super().__init__()
        self.start, self.count = start, 0
        self.mean: list[np.ndarray] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if epoch + 1 < self.start:
            return
        weights = [np.array(w) for w in self.model.trainable_weights]
        self.count += 1
        self.mean = (
            weights
            if self.count == 1
            else [m + (w - m) / self.count for m, w in zip(self.mean, weights, strict=True)]
        )

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        for variable, value in zip(self.model.trainable_weights, self.mean, strict=True):
            variable.assign(value)


def class_weights(labels: np.ndarray, mode: str = "balanced") -> dict[int, float] | None:
    """Inverse class frequency ("balanced") or its square root ("sqrt", gentler on a very
    small class), normalised so the mean weight per face is 1; None for "none"."""
    if mode == "none":
        return None
    counts = np.bincount(labels, minlength=len(LABELS)).astype(float)
    raw = {k: (1.0 / c if mode == "balanced" else c**-0.5) for k, c in enumerate(counts) if c}
    mean = sum(raw[k] * counts[k] for k in raw) / len(labels)
    return {k: float(w / mean) for k, w in raw.items()}


def _predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """model(x) in chunks, converting the float16 cache to float32 one chunk at a time."""
    return np.concatenate(
        [
            model.predict(x[i : i + PREDICT_BATCH].astype(np.float32), verbose=0)
            for i in range(0, len(x), PREDICT_BATCH)
        ]
    )


def training_loss(smoothing: float) -> str | Callable[[Any, Any], Any]:
    """Cross-entropy against integer labels, with `smoothing` of each target spread evenly."""
    if not smoothing:
        return "sparse_categorical_crossentropy"

    def smoothed(y_true: Any, y_pred: Any) -> Any:
        hard = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        spread = -keras.ops.mean(keras.ops.log(keras.ops.clip(y_pred, 1e-7, 1.0)), axis=-1)
        return (1.0 - smoothing) * hard + smoothing * spread

    return smoothed


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
    if finetune:
        model, train_x, val_x = parts.trainer, train, val.features[0].astype(np.float32)
    else:
        # The top blocks are frozen: their pooled output is computed once per view.
        started = time.time()
        vectors = np.stack([_predict(parts.embed, view) for view in train.features])
        train_x = FeatureSet(vectors, train.labels, train.sizes, train.items, train.report)
        val_x = _predict(parts.embed, val.features[0])
        model = parts.head
        log(f"  head inputs: {vectors.shape[:2]} ({time.time() - started:.0f} s)")
    repeats = [scenario.closeup_repeats if i.source == "closeup" else 1 for i in train.items]
    sampler = ViewSampler(train_x, scenario.batch_size, scenario.seed, np.array(repeats))
    # Cosine decay: the last epochs take small steps, so the weights early stopping keeps are
    # not one noisy step away from a better or worse neighbour.
    schedule = keras.optimizers.schedules.CosineDecay(lr, len(sampler) * max(epochs, 1), 0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=training_loss(scenario.label_smoothing),
        metrics=["accuracy"],
    )
    average = scenario.average_from if finetune else None
    keep: keras.callbacks.Callback = (
        _WeightAverage(average)
        if average
        else keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=scenario.patience, restore_best_weights=True
        )
    )
    log(f" {phase}: {'' if average else 'up to '}{epochs} epochs at learning rate {lr:g}")
    history = model.fit(
        sampler,
        validation_data=(val_x, val.labels),
        epochs=epochs,
        class_weight=class_weights(train.labels, scenario.class_weight),
        callbacks=[keep, _EpochLog(phase, log)],
        verbose=0,
    )
    result = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    if average:
        loss = float(model.evaluate(val_x, val.labels, batch_size=PREDICT_BATCH, verbose=0)[0])
        log(f"  weights averaged over epochs {average}-{epochs}: val_loss {loss:.4f}")
        result["averaged_val_loss"] = [loss]
    return result


def _sizes(items: Sequence[FaceItem], features: FeatureSet | None) -> dict[str, int]:
    labels = features.labels if features is not None else np.array([i.label for i in items])
    counts = np.bincount(labels, minlength=len(LABELS))
    return {c: int(counts[k]) for k, c in enumerate(LABELS)}


def _face_lists(
    data_dir: str | Path,
    split: Split,
    scenario: Scenario,
    limit: int | None,
    log: Log,
    scenes_dir: str | Path | None,
    yunet_model: str | Path | None,
) -> dict[str, list[FaceItem]]:
    """The faces of each part and source ("train_closeups", "val_scenes"...) the scenario reads;
    `limit` keeps only N random faces of each list (smoke runs)."""

    def pick(items: list[FaceItem]) -> list[FaceItem]:
        if not limit:
            return items
        rng = np.random.default_rng(scenario.seed)
        return [items[i] for i in sorted(rng.permutation(len(items))[:limit])]

    photos = {part: split.scene_photos(part, scenes_dir) for part in ("train", "val", "test")}
    lists: dict[str, list[FaceItem]] = {
        f"{part}_closeups": pick(closeup_items(split, part, data_dir))
        for part in ("train", "val", "test")
    }
    for part in ("val", "test"):
        lists[f"{part}_scenes"] = pick(scene_items(photos[part]))
    if scenario.scene_faces:
        lists["train_scenes"] = pick(scene_items(photos["train"]))
        if scenario.drop_doubted:
            kept = without_doubted(lists["train_scenes"], read_doubted())
            log(f" left out {len(lists['train_scenes']) - len(kept)} doubted training faces")
            lists["train_scenes"] = kept
    if scenario.yunet_faces and not scenario.soup_of:  # a soup's training faces are only counted
        lists["train_yunet"] = pick(yunet_items(photos["train"], yunet_model, log))
    return lists


def _feature_sets(
    parts: ClassifierParts,
    lists: dict[str, list[FaceItem]],
    scenario: Scenario,
    log: Log,
    started: float,
) -> dict[str, FeatureSet]:
    """Cached features of each list: `views` per training face, the plain crop of the others."""
    tag = f"{scenario.finetune_from or DEFAULT_SPLIT_LAYER}|{scenario.image_size}"
    keras_augment = augmenter(scenario.seed) if scenario.augment == "light" else None
    recipe = scenario.recipe()
    sets: dict[str, FeatureSet] = {}
    for name, items in lists.items():
        if not items:
            continue
        training = name.startswith("train")
        # Close-ups are jittered only when the scenario asks (their cached features then differ).
        plain_closeups = "closeups" in name and not scenario.closeup_crops
        views_recipe = replace(recipe, shift=0.0, scale=0.0) if plain_closeups else recipe
        log(f" {name}: {len(items)} faces ({time.time() - started:.0f} s)")
        sets[name] = extract_features(
            parts.lower,
            items,
            scenario.views if training else 1,
            views_recipe if training else None,
            keras_augment if training else None,
            tag,
            log,
            seed=scenario.seed,
        )
    return sets


def _train(
    parts: ClassifierParts,
    sets: dict[str, FeatureSet],
    scenario: Scenario,
    log: Log,
    started: float,
) -> dict[str, dict[str, list[float]]]:
    """Fit the head, then the top blocks; the history of each phase."""
    train = concatenate([s for n, s in sets.items() if n.startswith("train")])
    val = concatenate([s for n, s in sets.items() if n.startswith("val")])
    log(
        f" training on {len(train.labels)} faces x {train.features.shape[0]} views, "
        f"validating on {len(val.labels)} ({time.time() - started:.0f} s)"
    )
    history = {"head": _fit(parts, train, val, scenario, "head", log)}
    if scenario.finetune_from and scenario.finetune_epochs:
        history["finetune"] = _fit(parts, train, val, scenario, "finetune", log)
    return history


def train_scenario(
    data_dir: str | Path,
    split: Split,
    scenario: Scenario,
    backbone_weights: str | None = None,
    runs_dir: str | Path = MODELS_DIR / RUNS_DIR_NAME,
    limit: int | None = None,
    log: Log = print,
    scenes_dir: str | Path | None = None,
    yunet_model: str | Path | None = None,
) -> dict[str, Any]:
    """Train (or, for a soup, average the runs of its recipe), calibrate, evaluate on validation
    and test; save `<runs_dir>/<name>/{model.keras,metrics.json}`.

    `data_dir` holds the close-ups; the scene photos are read from `scenes_dir` (default: where
    the manifest says). `limit` keeps only N random faces of each list (smoke runs).
    """
    keras.utils.set_random_seed(scenario.seed)
    started = time.time()
    split_layer = scenario.finetune_from or DEFAULT_SPLIT_LAYER
    parts = build_classifier(backbone_weights, split_layer, scenario.dropout, scenario.image_size)
    has_scenes = any(split.photos.values())
    if (scenario.scene_faces or scenario.yunet_faces) and not has_scenes:
        raise MaskDetectorError(
            f"scenario {scenario.name} trains on scene faces but the split has no scene "
            "photos: regenerate it with `python -m mask_detector split`"
        )
    lists = _face_lists(data_dir, split, scenario, limit, log, scenes_dir, yunet_model)
    if scenario.soup_of:
        ingredients = ingredient_runs(scenario, Path(runs_dir))
        log(f" soup of {', '.join(str(f) for f in ingredients)}")
        parts.full.set_weights(load_soup(ingredients))
        evaluated = {n: items for n, items in lists.items() if not n.startswith("train")}
        sets = _feature_sets(parts, evaluated, scenario, log, started)
        history: dict[str, dict[str, list[float]]] = {}
    else:
        sets = _feature_sets(parts, lists, scenario, log, started)
        history = _train(parts, sets, scenario, log, started)
    metrics = _evaluate(parts, sets, lists, scenario, log)
    metrics |= {
        "history": history,
        "train_seconds": round(time.time() - started, 1),
        "limit": limit,
    }
    out = Path(runs_dir) / scenario.name
    out.mkdir(parents=True, exist_ok=True)
    parts.full.save(out / SCENARIO_MODEL_NAME)
    (out / METRICS_NAME).write_text(json.dumps(metrics, indent=1) + "\n")
    for key in ("val", "val_scenes", "test", "test_scenes"):
        if metrics[key]:
            log(f" {scenario.name}: {key} {summary_line(metrics[key])}")
    log(f" {scenario.name}: done in {metrics['train_seconds']:.0f} s")
    return metrics


def _evaluate(
    parts: ClassifierParts,
    sets: dict[str, FeatureSet],
    lists: dict[str, list[FaceItem]],
    scenario: Scenario,
    log: Log,
) -> dict[str, Any]:
    """Calibrate the trained model (in place), then its reports on validation and test."""
    raw = {
        name: _predict(parts.trainer, s.features[0])
        for name, s in sets.items()
        if not name.startswith("train")
    }
    # Calibrated where confidence is read: faces in photos (the close-ups are nearly all right
    # and sure, and would pull T towards whatever suits them).
    fit_on = "val_scenes" if "val_scenes" in sets else "val_closeups"
    temperature = fit_temperature(raw[fit_on], sets[fit_on].labels)
    bake_temperature(parts.full, temperature)  # the shipped model gives calibrated probabilities
    log(f" temperature {temperature:.3f} (fitted on {fit_on})")

    def report(names: Sequence[str]) -> dict[str, Any] | None:
        names = [n for n in names if n in sets]
        if not names:
            return None
        labels = np.concatenate([sets[n].labels for n in names])
        probs = scale_probs(np.concatenate([raw[n] for n in names]), temperature)
        return classification_report(labels, probs, np.concatenate([sets[n].sizes for n in names]))

    calibration: dict[str, Any] = {"temperature": temperature, "fitted_on": fit_on}
    for name in ("val_scenes", "test_scenes", "test_closeups"):
        if name in sets:
            calibration[name] = calibration_report(temperature, raw[name], sets[name].labels)
    return {
        "scenario": scenario.to_dict(),
        "split_sizes": {
            part: {
                c: sum(
                    _sizes(lists[n], sets.get(n))[c]
                    for n in (f"{part}_closeups", f"{part}_scenes")
                    if n in lists
                )
                for c in LABELS
            }
            for part in ("train", "val", "test")
        },
        "faces": {name: _sizes(items, sets.get(name)) for name, items in lists.items()},
        "skipped_images": sum(len(s.report.skipped) for s in sets.values()),
        "val": report(["val_closeups"]),
        "test": report(["test_closeups"]),
        "val_scenes": report(["val_scenes"]),
        "test_scenes": report(["test_scenes"]),
        "val_all": report(["val_closeups", "val_scenes"]),
        "calibration": calibration,
    }
