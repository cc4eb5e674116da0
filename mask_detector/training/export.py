"""Keras model -> LiteRT flatbuffer for the fast path (float32, so labels match exactly)."""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

from ..config import IMAGE_SIZE


def export_tflite(model: keras.Model | str | Path, out_path: str | Path) -> Path:
    """Convert with a dynamic batch dimension so one call classifies every face of a frame."""
    if not isinstance(model, keras.Model):
        model = keras.models.load_model(model)
    # A concrete function with batch None keeps the exported input resizable.
    spec = tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32, name="image")
    fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn], model)
    out_path = Path(out_path)
    out_path.write_bytes(converter.convert())
    return out_path
