"""The fast path: the exported LiteRT model, all faces of a frame in one call, no TensorFlow."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .config import IMAGE_SIZE, LABELS, default_model_path
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
            self._input = self._interpreter.get_input_details()[0]["index"]
            self._output = self._interpreter.get_output_details()[0]["index"]
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(
                f"{self.path} is not a valid LiteRT model ({exc}); restore models/ from the "
                "repository or export one with `python -m mask_detector ship`"
            ) from None
        self._lock = threading.Lock()
        self._batch = 1
        self._buffer = np.empty((8, IMAGE_SIZE, IMAGE_SIZE, 3), np.float32)

    def _resize(self, n: int) -> None:
        """Resize the input only when the face count changes (allocate_tensors costs ~1 ms)."""
        if n != self._batch:
            self._interpreter.resize_tensor_input(self._input, [n, IMAGE_SIZE, IMAGE_SIZE, 3])
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
            batch = preprocess_faces(faces, out=self._buffer)
            self._resize(len(batch))
            self._interpreter.set_tensor(self._input, np.ascontiguousarray(batch))
            self._interpreter.invoke()
            return np.array(self._interpreter.get_tensor(self._output))
