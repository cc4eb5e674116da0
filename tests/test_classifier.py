"""The shipped model: loads without TensorFlow, labels held-back images, agrees with Keras."""

import json
import subprocess
import sys

import numpy as np
import pytest

from helpers import MODEL, from_threads, needs_model, needs_shared
from mask_detector import config
from mask_detector.classifier import MaskClassifier
from mask_detector.data.split import Split
from mask_detector.errors import ModelLoadError
from mask_detector.evaluation.classify import evaluate_samples
from mask_detector.imageio import read_image
from mask_detector.pipeline import MaskDetector
from mask_detector.preprocess import preprocess_faces

KERAS = config.MODELS_DIR / config.KERAS_MODEL_NAME


@pytest.fixture(scope="module")
def classifier() -> MaskClassifier:
    return MaskClassifier()


@pytest.fixture(scope="module")
def held_back() -> list:
    """Every 8th image of the test split: never seen in training or model selection."""
    split = Split.load(config.MODELS_DIR / config.SPLIT_NAME)
    return split.samples("test", config.training_data_dir())[::8]


@needs_model
def test_inference_does_not_import_tensorflow():
    code = (
        "import sys, numpy as np; from mask_detector import MaskDetector; "
        "pipeline = MaskDetector.load(); pipeline.detect(np.zeros((64, 64, 3), np.uint8)); "
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
    # The shipped model's outputs are the labels its metrics were measured on; where it has
    # fewer than config.LABELS, the others get probability 0.
    tested = json.loads((config.MODELS_DIR / config.METRICS_NAME).read_text())["test"]["labels"]
    assert classifier.labels == tuple(tested) == config.LABELS[: len(tested)]
    assert np.allclose(together[:, len(tested) :], 0)
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
    reference = model.predict(preprocess_faces(images, size=classifier.image_size), verbose=0)
    fast = classifier.classify(images)
    # An older Keras model has fewer outputs than config.LABELS: the others are 0 in `fast`.
    assert np.allclose(fast[:, reference.shape[1] :], 0)
    fast = fast[:, : reference.shape[1]]
    assert (reference.argmax(1) == fast.argmax(1)).all()
    assert np.abs(reference - fast).max() < 1e-3


@needs_model
def test_one_pipeline_is_safe_to_share_between_threads(astronaut_bgr, masked_astronaut_bgr):
    """Four threads through one MaskDetector (one face detector, one interpreter) get, frame
    for frame, the faces, labels, confidences and drawing each frame gets alone."""
    pipeline = MaskDetector.load(MODEL)
    frames = [
        astronaut_bgr,
        masked_astronaut_bgr,
        astronaut_bgr[:400, 50:450],
        masked_astronaut_bgr[::2, ::2],
    ]
    alone = [pipeline.process(frame) for frame in frames]
    assert all(faces for _, faces in alone)
    order = [k % len(frames) for k in range(80)]
    together = from_threads(lambda k: pipeline.process(frames[k]), order)
    for k, (annotated, faces) in zip(order, together, strict=True):
        assert faces == alone[k][1]
        assert np.array_equal(annotated, alone[k][0])


@needs_model
def test_shared_pipelines_load_each_model_once():
    """What the app's sessions get: one classifier per file, one face detector per setting, and
    one detector model whatever the minimum face size (a slider in the app)."""
    first = MaskDetector.load(MODEL, "haar", min_confidence=0.5, min_face=24, shared=True)
    again = MaskDetector.load(MODEL, "haar", min_confidence=0.9, min_face=24, shared=True)
    assert again is not first and again.min_confidence == 0.9
    assert again.classifier is first.classifier and again.detector is first.detector
    other = MaskDetector.load(MODEL, "haar", min_face=40, shared=True)
    assert other.classifier is first.classifier and other.detector is not first.detector
    assert other.detector.min_face == 40 and first.detector.min_face == 24
    assert other.detector._cascade is first.detector._cascade  # one model, one lock
    assert other.detector._lock is first.detector._lock
    yunet = MaskDetector.load(MODEL, "yunet", min_face=12, shared=True).detector
    narrow = MaskDetector.load(MODEL, "yunet", min_face=30, shared=True).detector
    assert narrow._nets is yunet._nets and narrow.min_face == 30 and yunet.min_face == 12
    private = MaskDetector.load(MODEL, "haar", min_face=24)
    assert private.classifier is not first.classifier and private.detector is not first.detector


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
