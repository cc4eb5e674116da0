"""Run the frozen prefix of the backbone once per image (and augmented view), and keep the result.

On a 2-core CPU the frozen layers are most of the cost of an epoch; computing them once turns
an hour of training into minutes. Augmented views are made before caching, so each epoch still
sees a different view of every training image.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from ..config import cache_dir
from ..data.dataset import LoadReport, Sample, iter_images
from ..preprocess import preprocess_faces

CHUNK = 64


@dataclass
class FeatureSet:
    features: np.ndarray  # (views, N, h, w, c) float16
    labels: np.ndarray  # (N,) int
    samples: list[Sample]
    report: LoadReport


def _cache_key(samples: Sequence[Sample], tag: str) -> str:
    digest = hashlib.sha1(tag.encode())
    for s in samples:
        digest.update(f"{s.path}|{s.label}|{s.path.stat().st_size}\n".encode())
    return digest.hexdigest()[:16]


def extract_features(
    lower: keras.Model,
    samples: Sequence[Sample],
    augment: keras.Sequential | None = None,
    views: int = 1,
    tag: str = "",
    log: Callable[[str], None] = print,
    use_cache: bool = True,
) -> FeatureSet:
    """Features of `views` versions of each image: the plain one first, then augmented ones."""
    views = views if augment is not None else 1
    key = _cache_key(samples, f"{tag}|{lower.output.shape}|{views}|{augment and augment.name}")
    path = cache_dir() / "features" / f"{key}.npz"
    if use_cache and path.is_file():
        with np.load(path) as cached:
            kept = set(json.loads(str(cached["kept"])))
            report = LoadReport(loaded=len(kept))
            hits = [s for s in samples if str(s.path) in kept]
            log(f"  features: {len(hits)} images from cache {path}")
            return FeatureSet(cached["features"], cached["labels"], hits, report)

    report = LoadReport()
    chunks: list[np.ndarray] = []
    kept_samples: list[Sample] = []
    images: list[np.ndarray] = []

    def flush() -> None:
        batch = preprocess_faces(images)
        chunk_views = [batch]
        if augment is not None:
            chunk_views += [np.asarray(augment(batch, training=True)) for _ in range(views - 1)]
        chunks.append(
            np.stack([lower.predict(v, verbose=0) for v in chunk_views]).astype(np.float16)
        )
        images.clear()

    def progress(done: int, total: int) -> None:
        if done % (CHUNK * 8) == 0 or done == total:
            log(f"  features: {done}/{total} images, {views} view(s) each")

    for sample, image in iter_images(list(samples), report, progress):
        images.append(image)
        kept_samples.append(sample)
        if len(images) == CHUNK:
            flush()
    if images:
        flush()
    if not chunks:
        raise ValueError("none of the images could be read")
    features = np.concatenate(chunks, axis=1)
    labels = np.array([s.label for s in kept_samples])
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        kept_json = json.dumps([str(s.path) for s in kept_samples])
        np.savez(path, features=features, labels=labels, kept=np.array(kept_json))
    return FeatureSet(features, labels, kept_samples, report)


class ViewSampler(keras.utils.PyDataset):
    """Batches of one randomly chosen view per image, reshuffled every epoch."""

    def __init__(self, data: FeatureSet, batch_size: int, seed: int) -> None:
        super().__init__()
        self.data = data
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        n = len(self.data.labels)
        self.order = self.rng.permutation(n)
        self.view = self.rng.integers(0, self.data.features.shape[0], n)

    def __len__(self) -> int:
        return -(-len(self.data.labels) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        x = self.data.features[self.view[rows], rows].astype(np.float32)
        return x, self.data.labels[rows]
