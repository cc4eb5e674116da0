"""Run the frozen prefix of the backbone once per face view, and keep the result.

On a 2-core CPU the frozen layers are most of the cost of an epoch; computing them once turns
an hour of training into minutes. Views (jittered, shrunk, roughened crops; then Keras' flip,
rotation and zoom) are made before caching, so each epoch still sees a different view of every
training face.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from ..config import cache_dir
from ..data.dataset import LoadReport
from ..errors import InvalidImageError
from ..evaluation.by_size import face_size
from ..imageio import read_image
from ..preprocess import preprocess_faces
from .views import FaceItem, ViewRecipe, face_views

CHUNK = 64


@dataclass
class FeatureSet:
    features: np.ndarray  # (views, N, h, w, c) float16
    labels: np.ndarray  # (N,) int
    sizes: np.ndarray  # (N,) int: the face's longer side in the original image, pixels
    items: list[FaceItem]
    report: LoadReport


def _cache_key(items: Sequence[FaceItem], tag: str) -> str:
    digest = hashlib.sha1(tag.encode())
    sizes: dict[str, int] = {}
    for item in items:
        key = str(item.image)
        if key not in sizes:
            sizes[key] = item.image.stat().st_size
        digest.update(f"{key}|{item.label}|{item.box}|{item.source}|{sizes[key]}\n".encode())
    return digest.hexdigest()[:16]


def extract_features(
    lower: keras.Model,
    items: Sequence[FaceItem],
    views: int = 1,
    recipe: ViewRecipe | None = None,
    augment: keras.Sequential | None = None,
    tag: str = "",
    log: Callable[[str], None] = print,
    use_cache: bool = True,
    seed: int = 42,
) -> FeatureSet:
    """Features of `views` versions of each face: the plain crop first, then augmented ones.

    Faces of one photo should be next to each other in `items`: the photo is decoded once.
    Unreadable images are logged in the report and their faces left out.
    """
    recipe = recipe or ViewRecipe()
    views = views if (augment is not None or recipe != ViewRecipe()) else 1
    size = int(lower.input.shape[1])
    key = _cache_key(
        items,
        f"{tag}|{lower.output.shape}|{size}|{views}|{recipe.key()}|"
        f"{augment and augment.name}|{seed}",
    )
    path = cache_dir() / "features" / f"{key}.npz"
    if use_cache and path.is_file():
        with np.load(path) as cached:
            kept = np.asarray(cached["kept"], bool)
            log(f"  features: {int(kept.sum())} faces from cache {path}")
            return FeatureSet(
                cached["features"],
                cached["labels"],
                cached["sizes"],
                [item for item, k in zip(items, kept, strict=True) if k],
                LoadReport(loaded=int(kept.sum())),
            )

    report = LoadReport()
    chunks: list[np.ndarray] = []
    kept = np.zeros(len(items), bool)
    sizes: list[int] = []
    pending: list[list[np.ndarray]] = []
    decoded: tuple[object, np.ndarray | None] = (None, None)

    def flush() -> None:
        per_view = []
        for v in range(views):
            batch = preprocess_faces([crops[v] for crops in pending], size=size)
            if v and augment is not None:
                batch = np.asarray(augment(batch, training=True))
            per_view.append(lower.predict(batch, verbose=0))
        chunks.append(np.stack(per_view).astype(np.float16))
        pending.clear()

    for i, item in enumerate(items):
        if decoded[0] != item.image:
            try:
                decoded = (item.image, read_image(item.image))
            except InvalidImageError as exc:
                decoded = (item.image, None)
                report.skipped.append((item.image, str(exc)))
        image = decoded[1]
        if image is None:
            continue
        report.loaded += 1
        kept[i] = True
        sizes.append(max(image.shape[:2]) if item.box is None else face_size(item.box))
        rng = np.random.default_rng([seed, i])
        pending.append(face_views(image, item, views, recipe, rng))
        if len(pending) == CHUNK:
            flush()
        if (i + 1) % (CHUNK * 8) == 0 or i + 1 == len(items):
            log(f"  features: {i + 1}/{len(items)} faces, {views} view(s) each")
    if pending:
        flush()
    if not chunks:
        raise ValueError("none of the images could be read")
    features = np.concatenate(chunks, axis=1)
    labels = np.array([item.label for item, k in zip(items, kept, strict=True) if k])
    size_array = np.array(sizes, int)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, features=features, labels=labels, sizes=size_array, kept=kept)
    return FeatureSet(
        features,
        labels,
        size_array,
        [item for item, k in zip(items, kept, strict=True) if k],
        report,
    )


def concatenate(sets: Sequence[FeatureSet]) -> FeatureSet:
    """Several feature sets with the same number of views as one."""
    report = LoadReport(
        loaded=sum(s.report.loaded for s in sets),
        skipped=[x for s in sets for x in s.report.skipped],
    )
    return FeatureSet(
        np.concatenate([s.features for s in sets], axis=1),
        np.concatenate([s.labels for s in sets]),
        np.concatenate([s.sizes for s in sets]),
        [item for s in sets for item in s.items],
        report,
    )


class ViewSampler(keras.utils.PyDataset):
    """Batches of one randomly chosen view per face, reshuffled every epoch.

    `repeats` (one count per face, default 1) shows a face that many times per epoch, each
    time its next cached view: a way to weigh one source of faces more without new views.
    """

    def __init__(
        self, data: FeatureSet, batch_size: int, seed: int, repeats: np.ndarray | None = None
    ) -> None:
        super().__init__()
        self.data = data
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        counts = np.ones(len(data.labels), int) if repeats is None else np.asarray(repeats, int)
        self.faces = np.repeat(np.arange(len(counts)), counts)
        self.copies = np.concatenate([np.arange(c) for c in counts]) if len(counts) else counts
        self.on_epoch_end()

    def on_epoch_end(self) -> None:
        # With every count 1 the draws are those of a sampler without repeats (same stream).
        shuffled = self.rng.permutation(len(self.faces))
        self.order, self.copy = self.faces[shuffled], self.copies[shuffled]
        self.view = self.rng.integers(0, self.data.features.shape[0], len(self.data.labels))

    def __len__(self) -> int:
        return -(-len(self.faces) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        batch = slice(index * self.batch_size, (index + 1) * self.batch_size)
        rows = self.order[batch]
        views = (self.view[rows] + self.copy[batch]) % self.data.features.shape[0]
        x = self.data.features[views, rows].astype(np.float32)
        return x, self.data.labels[rows]
