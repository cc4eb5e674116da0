"""The MobileNetV2 classifier, split where fine-tuning starts so the frozen part runs once."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from ..config import IMAGE_SIZE, LABELS, backbone_weights_path
from ..errors import ModelLoadError

#: Where the frozen prefix of the backbone ends when a scenario trains the head only: the
#: cached features are the same as for fine-tuning from block 13, so all scenarios share them.
DEFAULT_SPLIT_LAYER = "block_13_expand"


@dataclass
class ClassifierParts:
    """One set of layers seen three ways: frozen prefix, trainable suffix + head, whole model."""

    lower: keras.Model  # image -> cached features
    upper: keras.Model  # cached features -> backbone output
    trainer: keras.Model  # cached features -> class probabilities
    full: keras.Model  # image (preprocessed) -> class probabilities; what ships


def build_backbone(weights: str | None = None) -> keras.Model:
    """MobileNetV2 (alpha 1.0) with ImageNet weights from a local file when there is one."""
    source = backbone_weights_path(weights)
    try:
        return keras.applications.MobileNetV2(
            include_top=False, weights=source, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3), alpha=1.0
        )
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"cannot load ImageNet weights from {source!r} ({exc}); pass --backbone-weights PATH "
            "to the local .h5 file"
        ) from None


def build_classifier(
    weights: str | None = None, split_at: str = DEFAULT_SPLIT_LAYER, dropout: float = 0.2
) -> ClassifierParts:
    base = build_backbone(weights)
    names = [layer.name for layer in base.layers]
    if split_at not in names:
        raise ValueError(f"{split_at!r} is not a MobileNetV2 layer")
    cut = base.layers[names.index(split_at) - 1].output
    lower = keras.Model(base.input, cut, name="frozen_prefix")
    upper = keras.Model(cut, base.output, name="top_blocks")

    pool = keras.layers.GlobalAveragePooling2D(name="pool")
    drop = keras.layers.Dropout(dropout, name="dropout")
    dense = keras.layers.Dense(len(LABELS), activation="softmax", name="mask_probs")

    def head(x: keras.KerasTensor) -> keras.KerasTensor:
        return dense(drop(pool(x)))

    features = keras.Input(cut.shape[1:], name="features")
    # training=False keeps BatchNorm in inference mode even while its block is unfrozen.
    trainer = keras.Model(features, head(upper(features, training=False)), name="trainer")
    image = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="image")
    full = keras.Model(image, head(base(image, training=False)), name="mask_classifier")
    return ClassifierParts(lower, upper, trainer, full)


def set_top_trainable(parts: ClassifierParts, trainable: bool) -> None:
    """(Un)freeze the top blocks; their BatchNorm layers stay frozen in inference mode.

    Keras 3 runs a trainable BatchNormalization on batch statistics during fit even inside a
    sub-model called with training=False; small fine-tuning batches would then wreck the
    ImageNet statistics, so those layers stay frozen (as keras-io advises).
    """
    parts.upper.trainable = trainable
    for layer in parts.upper.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


class RandomLowResolution(keras.layers.Layer):
    """Shrink then re-enlarge a batch: the blur of a 20-pixel face cut from a crowd photo."""

    def __init__(self, min_side: int = 24, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.min_side = min_side

    def call(self, images: tf.Tensor, training: bool = True) -> tf.Tensor:
        if not training:
            return images
        side = tf.random.uniform((), self.min_side, IMAGE_SIZE + 1, dtype=tf.int32)
        small = tf.image.resize(images, (side, side), method="area")
        return tf.image.resize(small, (IMAGE_SIZE, IMAGE_SIZE), method="bilinear")


def augmenter(strength: str, seed: int = 42) -> keras.Sequential:
    """Augmentation as layers, on inputs already scaled to [-1, 1]."""
    light = [
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomRotation(0.05, fill_mode="nearest", seed=seed),
        keras.layers.RandomZoom(0.1, fill_mode="nearest", seed=seed),
    ]
    if strength == "light":
        return keras.Sequential(light, name="augment_light")
    if strength == "strong":
        return keras.Sequential(
            [
                keras.layers.RandomFlip("horizontal", seed=seed),
                keras.layers.RandomRotation(0.12, fill_mode="nearest", seed=seed),
                keras.layers.RandomZoom((-0.25, 0.2), fill_mode="nearest", seed=seed),
                keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed),
                keras.layers.RandomContrast(0.3, value_range=(-1, 1), seed=seed),
                keras.layers.RandomBrightness(0.25, value_range=(-1, 1), seed=seed),
                RandomLowResolution(24),
            ],
            name="augment_strong",
        )
    raise ValueError(f"unknown augmentation {strength!r}: use 'light' or 'strong'")
