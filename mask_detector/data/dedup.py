"""Near-duplicate groups by perceptual hash, so copies never straddle a train/test split.

Face-mask data sets are full of renamed, re-encoded, resized and recoloured copies of the same
photo. A 64-bit DCT hash of the grey image survives all of those; images whose hashes differ in
at most `threshold` bits are joined, transitively, into one group.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

#: Hash bits that may differ between two images of one group (of 64). Measured on the shared
#: set: copies sit at 0-4; at 8-10 most pairs are the same person in a similar pose (or the same
#: photo with a pasted mask); from 12 on, mostly different people.
DEFAULT_THRESHOLD = 10


def phash(image_bgr: np.ndarray) -> np.ndarray:
    """64 bits (bool array) of the low-frequency DCT of the grey image, above their median."""
    grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    return low > np.median(low[1:])


def hamming_matrix(hashes: np.ndarray) -> np.ndarray:
    """Pairwise differing bits of an (N, 64) bool matrix, as (N, N) int32."""
    bits = hashes.astype(np.int32)
    return bits @ (1 - bits).T + (1 - bits) @ bits.T


def group_near_duplicates(
    hashes: Sequence[np.ndarray], threshold: int = DEFAULT_THRESHOLD
) -> list[int]:
    """A group id per image: connected components of the "within threshold" graph."""
    n = len(hashes)
    if n == 0:
        return []
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    close = hamming_matrix(np.stack(hashes)) <= threshold
    for i, j in zip(*np.nonzero(np.triu(close, k=1)), strict=True):
        parent[find(int(i))] = find(int(j))
    roots: dict[int, int] = {}
    return [roots.setdefault(find(i), len(roots)) for i in range(n)]
