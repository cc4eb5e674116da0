"""The shipped model: loads without TensorFlow, labels held-back images, agrees with Keras."""

import subprocess
import sys

import numpy as np
import pytest

from conftest import needs_model, needs_shared
from mask_detector import config
from mask_detector.classifier import MaskClassifier
from mask_detector.data.split import Split
from mask_detector.errors import ModelLoadError
from mask_detector.evaluation.classify import evaluate_samples
from mask_detector.imageio import read_image
from mask_detector.preprocess import preprocess_faces

KERAS = config.MODELS_DIR / config.KERAS_MODEL_NAME


@pytest.fixture(scope="module")
def classifier() -> MaskClassifier:
    return MaskClassifier()


@pytest.fixture(scope="module")
def held_back() -> list:
    """Every 8th image of the test split: never seen in training or model selection."""
    split = Split.load(config.MODELS_DIR / "split.json")
    return split.samples("test", config.training_data_dir())[::8]


@needs_model
def test_inference_does_not_import_tensorflow():
    code = (
        "import sys, numpy as np; from mask_detector import MaskDetector; "
        "md = MaskDetector.load(); md.detect(np.zeros((64, 64, 3), np.uint8)); "
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=config.REPO_ROOT,
    )
    assert out.stdout.strip() == "False"


@needs_model
def test_batch_sizes_give_the_same_answer(classifier, astronaut_bgr, masked_astronaut_bgr):
    faces = [astronaut_bgr[60:170, 170:280], masked_astronaut_bgr[60:170, 170:280]]
    together = classifier.classify(faces)
    one_by_one = np.concatenate([classifier.classify([f]) for f in faces])
    assert together.shape == (2, len(config.LABELS))
    assert classifier.labels == config.LABELS  # the shipped model has every label
    assert np.allclose(together, one_by_one, atol=1e-5)
    assert np.allclose(together.sum(axis=1), 1.0, atol=1e-4)
    assert classifier.classify([]).shape == (0, len(config.LABELS))


@needs_model
@needs_shared
def test_shipped_model_labels_held_back_images(classifier, held_back):
    report = evaluate_samples(classifier, held_back)
    assert report["n"] == len(held_back) >= 60
    assert report["accuracy"] >= 0.97
    recalls = [c["recall"] for c in report["per_class"].values() if c["support"]]
    assert len(recalls) == 2 and min(recalls) >= 0.95


@needs_model
@needs_shared
def test_litert_agrees_with_keras(classifier, held_back):
    keras = pytest.importorskip("keras")
    model = keras.models.load_model(KERAS)
    images = [read_image(s.path) for s in held_back]
    batch = preprocess_faces(images, size=classifier.image_size)
    reference = model.predict(batch, verbose=0)
    fast = classifier.predict(batch)
    assert (reference.argmax(1) == fast.argmax(1)).all()
    assert np.abs(reference - fast).max() < 1e-3


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelLoadError, match="model file not found"):
        MaskClassifier(tmp_path / "nope.tflite")


def test_corrupt_model_file(tmp_path):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"this is not a flatbuffer" * 10)
    with pytest.raises(ModelLoadError, match="not a valid LiteRT model"):
        MaskClassifier(bad)


def _tiny_tflite(path, outputs: int, size: int = 32):
    """A small LiteRT model with `outputs` softmax units, made with TensorFlow."""
    keras = pytest.importorskip("keras")
    from mask_detector.training.export import export_tflite

    model = keras.Sequential(
        [
            keras.Input((size, size, 3)),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(outputs, activation="softmax"),
        ]
    )
    return export_tflite(model, path)


@pytest.mark.slow
def test_model_file_sets_input_size_and_labels(tmp_path):
    """An older two-output export still works: it never predicts the third label."""
    two = MaskClassifier(_tiny_tflite(tmp_path / "two.tflite", 2, size=40))
    assert two.image_size == 40 and two.labels == config.LABELS[:2]
    probs = two.classify([np.full((30, 20, 3), 90, np.uint8), np.zeros((60, 60, 3), np.uint8)])
    assert probs.shape == (2, len(config.LABELS))
    assert np.allclose(probs[:, 2], 0) and np.allclose(probs.sum(1), 1, atol=1e-5)
    three = MaskClassifier(_tiny_tflite(tmp_path / "three.tflite", 3))
    assert three.image_size == 32 and three.labels == config.LABELS
    with pytest.raises(ModelLoadError, match="has 5 outputs"):
        MaskClassifier(_tiny_tflite(tmp_path / "five.tflite", 5))
