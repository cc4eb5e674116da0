import numpy as np
import pytest

from mask_detector.config import IMAGE_SIZE
from mask_detector.preprocess import crop_faces, pad_box, preprocess_faces, to_images


def test_matches_keras_mobilenet_v2_preprocess_input():
    keras_app = pytest.importorskip("keras.applications.mobilenet_v2")
    rng = np.random.default_rng(0)
    face = rng.integers(0, 256, (IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    ours = preprocess_faces([face])[0]
    rgb = face[:, :, ::-1].astype(np.float32)
    assert np.allclose(ours, keras_app.preprocess_input(rgb), atol=1e-6)


def test_shapes_colour_order_and_buffer_reuse():
    red_bgr = np.zeros((30, 50, 3), np.uint8)
    red_bgr[:, :, 2] = 255
    buffer = np.zeros((4, IMAGE_SIZE, IMAGE_SIZE, 3), np.float32)
    batch = preprocess_faces([red_bgr, red_bgr[:5, :5]], out=buffer)
    assert batch.shape == (2, IMAGE_SIZE, IMAGE_SIZE, 3)
    assert np.shares_memory(batch, buffer)
    assert np.allclose(batch[..., 0], 1.0) and np.allclose(batch[..., 2], -1.0)  # RGB order


def test_to_images_undoes_the_scaling():
    rng = np.random.default_rng(1)
    faces = [rng.integers(0, 256, (IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8) for _ in range(2)]
    back = to_images(preprocess_faces(faces))
    assert [b.dtype for b in back] == [np.uint8] * 2
    assert all(np.array_equal(b, f) for b, f in zip(back, faces, strict=True))  # BGR again


def test_empty_batch():
    assert preprocess_faces([]).shape == (0, IMAGE_SIZE, IMAGE_SIZE, 3)


@pytest.mark.parametrize("box", [(0, 0, 10, 10), (95, 95, 10, 10), (40, 40, 20, 30)])
def test_padded_box_stays_inside(box):
    x, y, w, h = pad_box(box, (100, 100, 3), padding=0.5)
    assert x >= 0 and y >= 0 and x + w <= 100 and y + h <= 100 and w >= 1 and h >= 1


def test_crops_are_views():
    image = np.zeros((100, 100, 3), np.uint8)
    (crop,) = crop_faces(image, [(10, 10, 20, 20)])
    assert np.shares_memory(crop, image) and crop.shape[0] == 26
