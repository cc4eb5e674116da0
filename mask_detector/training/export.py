"""Keras model -> LiteRT flatbuffer for the fast path (float32, so labels match exactly)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import keras
import tensorflow as tf


def export_tflite(model: keras.Model | str | Path, out_path: str | Path) -> Path:
    """Convert; the batch dimension stays dynamic, so one call classifies every face of a frame."""
    if not isinstance(model, keras.Model):
        model = keras.models.load_model(model)
    out_path = Path(out_path)
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its whole signature
        flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    out_path.write_bytes(flatbuffer)
    return out_path
