"""The MobileNetV2 classifier, split where fine-tuning starts so the frozen part runs once."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from ..config import IMAGE_SIZE, LABELS, backbone_weights_path
from ..errors import ModelLoadError

#: Where the frozen prefix of the backbone ends when a scenario trains the head only: the
#: cached features are the same as for fine-tuning from block 13, so all scenarios share them.
DEFAULT_SPLIT_LAYER = "block_13_expand"
#: Name of the final Dense layer (softmax over config.LABELS).
OUTPUT_LAYER = "mask_probs"


@dataclass
class ClassifierParts:
    """One set of layers seen several ways: frozen prefix, trainable suffix + head, whole model.

    `embed` and `head` split the trainer at the pooled vector: while the top blocks are frozen
    their output is computed once per view and only the head trains on it.
    """

    lower: keras.Model  # image -> cached features
    upper: keras.Model  # cached features -> backbone output
    trainer: keras.Model  # cached features -> class probabilities
    embed: keras.Model  # cached features -> pooled vector
    head: keras.Model  # pooled vector -> class probabilities
    full: keras.Model  # image (preprocessed) -> class probabilities; what ships


def build_backbone(weights: str | None = None, image_size: int = IMAGE_SIZE) -> keras.Model:
    """MobileNetV2 (alpha 1.0) with ImageNet weights from a local file when there is one.

    The convolution weights do not depend on the input size, so the 224 px file also loads
    for a smaller input.
    """
    source = backbone_weights_path(weights)
    try:
        return keras.applications.MobileNetV2(
            include_top=False,
            weights=source,
            input_shape=(image_size, image_size, 3),
            alpha=1.0,
        )
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"cannot load ImageNet weights from {source!r} ({exc}); pass --backbone-weights PATH "
            "to the local .h5 file"
        ) from None


def build_classifier(
    weights: str | None = None,
    split_at: str = DEFAULT_SPLIT_LAYER,
    dropout: float = 0.2,
    image_size: int = IMAGE_SIZE,
) -> ClassifierParts:
    base = build_backbone(weights, image_size)
    names = [layer.name for layer in base.layers]
    if split_at not in names:
        raise ValueError(f"{split_at!r} is not a MobileNetV2 layer")
    cut = base.layers[names.index(split_at) - 1].output
    lower = keras.Model(base.input, cut, name="frozen_prefix")
    upper = keras.Model(cut, base.output, name="top_blocks")

    pool = keras.layers.GlobalAveragePooling2D(name="pool")
    drop = keras.layers.Dropout(dropout, name="dropout")
    dense = keras.layers.Dense(len(LABELS), activation="softmax", name=OUTPUT_LAYER)

    features = keras.Input(cut.shape[1:], name="features")
    # training=False keeps BatchNorm in inference mode even while its block is unfrozen.
    pooled = pool(upper(features, training=False))
    trainer = keras.Model(features, dense(drop(pooled)), name="trainer")
    embed = keras.Model(features, pooled, name="embed")
    vector = keras.Input(pooled.shape[1:], name="pooled")
    head = keras.Model(vector, dense(drop(vector)), name="head")
    image = keras.Input((image_size, image_size, 3), name="image")
    full = keras.Model(
        image, dense(drop(pool(base(image, training=False)))), name="mask_classifier"
    )
    return ClassifierParts(lower, upper, trainer, embed, head, full)


def bake_temperature(model: keras.Model, temperature: float) -> None:
    """Make the model's softmax output softmax(z / T): its last Dense kernel and bias / T.

    Calibrated probabilities then cost nothing at run time, in Keras and in the LiteRT export.
    """
    dense = model.get_layer(OUTPUT_LAYER)
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel / temperature, bias / temperature])


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


def augmenter(seed: int = 42) -> keras.Sequential:
    """keras-io's light augmentation as layers, on inputs already scaled to [-1, 1]: the
    horizontal flip, small rotation and zoom that the NumPy views (training.views) lack."""
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(0.05, fill_mode="nearest", seed=seed),
            keras.layers.RandomZoom(0.1, fill_mode="nearest", seed=seed),
        ],
        name="augment_light",
    )
