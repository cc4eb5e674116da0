"""Keras model -> LiteRT flatbuffer for the fast path (float32, so labels match exactly)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf


def export_tflite(
    model: keras.Model | str | Path,
    out_path: str | Path,
    int8_calibration: np.ndarray | None = None,
) -> Path:
    """Convert; the batch dimension stays dynamic, so one call classifies every face of a frame.

    `int8_calibration` (preprocessed faces) makes a full-integer int8 model instead, with float
    input and output: what quantising would buy is measured by benchmarks/quantisation.py.
    """
    if not isinstance(model, keras.Model):
        model = keras.models.load_model(model)
    out_path = Path(out_path)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8_calibration is not None:
        faces = int8_calibration

        def representative() -> Iterator[list[np.ndarray]]:
            for face in faces:
                yield [face[None].astype(np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its whole signature
        flatbuffer = converter.convert()
    out_path.write_bytes(flatbuffer)
    return out_path
