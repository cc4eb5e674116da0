"""Keras model -> LiteRT flatbuffer for the fast path (float32, so labels match exactly)."""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf


def export_tflite(model: keras.Model | str | Path, out_path: str | Path) -> Path:
    """Convert; the batch dimension stays dynamic, so one call classifies every face of a frame."""
    if not isinstance(model, keras.Model):
        model = keras.models.load_model(model)
    out_path = Path(out_path)
    out_path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return out_path
