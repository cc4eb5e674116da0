"""The fast path: the exported LiteRT model, all faces of a frame in one call, no TensorFlow.

The model file says what it expects: its input side (224, or smaller for a cheaper model) and
its number of outputs. A model with fewer outputs than config.LABELS (a two-class export made
before the third label) still works: it covers the first labels, and the others get
probability 0, so it never predicts them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .config import LABELS, default_model_path
from .errors import ModelLoadError
from .preprocess import preprocess_faces


def _interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # a TensorFlow install carries the same interpreter
        try:
            from tensorflow.lite import Interpreter
        except ImportError:
            raise ModelLoadError(
                "no LiteRT runtime: pip install ai-edge-litert (or tensorflow)"
            ) from None
    return Interpreter


class MaskClassifier:
    """Thread-safe: one interpreter guarded by a lock (an interpreter is not re-entrant)."""

    def __init__(self, model_path: str | Path | None = None, num_threads: int = 2) -> None:
        self.path = Path(model_path) if model_path else default_model_path()
        if not self.path.is_file():
            raise ModelLoadError(
                f"model file not found: {self.path}; train one with "
                "`python -m mask_detector train` or pass model=PATH"
            )
        try:
            self._interpreter = _interpreter_class()(
                model_path=str(self.path), num_threads=num_threads
            )
            input_details = self._interpreter.get_input_details()[0]
            output_details = self._interpreter.get_output_details()[0]
            self._input = input_details["index"]
            self._output = output_details["index"]
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError, IndexError) as exc:
            raise ModelLoadError(
                f"{self.path} is not a valid LiteRT model ({exc}); restore models/ from the "
                "repository or export one with `python -m mask_detector ship`"
            ) from None
        shape = [int(v) for v in input_details["shape"]]
        outputs = int(output_details["shape"][-1])
        if len(shape) != 4 or shape[1] != shape[2] or shape[3] != 3:
            raise ModelLoadError(f"{self.path}: input {shape} is not a batch of square RGB images")
        if not 2 <= outputs <= len(LABELS):
            raise ModelLoadError(
                f"{self.path} has {outputs} outputs; this version reads models of 2 to "
                f"{len(LABELS)} ({', '.join(LABELS)})"
            )
        #: Input side in pixels, read from the model.
        self.image_size = shape[1]
        #: The labels the model's outputs stand for (the first `outputs` of config.LABELS).
        self.labels = LABELS[:outputs]
        self._lock = threading.Lock()
        self._batch = 1
        self._buffer = np.empty((8, self.image_size, self.image_size, 3), np.float32)

    def _resize(self, n: int) -> None:
        """Resize the input only when the face count changes (allocate_tensors costs ~1 ms)."""
        if n != self._batch:
            size = self.image_size
            self._interpreter.resize_tensor_input(self._input, [n, size, size, 3])
            self._interpreter.allocate_tensors()
            self._batch = n

    def classify(self, faces: Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities (N, len(LABELS)) for BGR uint8 face crops, in one interpreter call.

        The crops go through `preprocess_faces` into an input buffer reused frame after frame.
        """
        if len(faces) == 0:
            return np.empty((0, len(LABELS)), np.float32)
        with self._lock:
            if len(faces) > len(self._buffer):
                self._buffer = np.empty((len(faces), *self._buffer.shape[1:]), np.float32)
            batch = preprocess_faces(faces, out=self._buffer, size=self.image_size)
            self._resize(len(batch))
            self._interpreter.set_tensor(self._input, np.ascontiguousarray(batch))
            self._interpreter.invoke()
            probs = np.array(self._interpreter.get_tensor(self._output))
        if probs.shape[1] < len(LABELS):
            probs = np.pad(probs, ((0, 0), (0, len(LABELS) - probs.shape[1])))
        return probs
