"""Fixed-length feature encodings of cells for predictors (GP, MLP ensembles, XGBoost, the proxy surrogates).

They live with the search space because two layers above it need them (``search`` and ``predict``); the lossless
encodings (tuple, string, index, op matrix, short form) are :mod:`analognasbench.space.encodings`, on which these
build through isomorphism and paths. Both encodings are taken on the class representative, so isomorphic cells get identical features:

* ``onehot``: 6 edges x 5 ops = 30 binary features.
* ``path`` (BANANAS, White et al. 2021): one binary feature per op sequence that can run along an input->output
  path (lengths 1..3 over the 4 ops other than ``none``: 4 + 16 + 64 = 84), set when some live path carries it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from itertools import product

import numpy as np

from analognasbench.enums import ClosedSet
from analognasbench.space.encodings import ArchLike, from_index, to_indices
from analognasbench.space.isomorphism import canonical_index
from analognasbench.space.ops import NUM_ARCHITECTURES, NUM_EDGES, NUM_OPS, Op
from analognasbench.space.paths import path_op_sequences

_LIVE_OPS = tuple(int(op) for op in Op if op != Op.NONE)
_PATH_KEYS = {seq: i for i, seq in enumerate(s for n in (1, 2, 3) for s in product(_LIVE_OPS, repeat=n))}
PATH_DIM = len(_PATH_KEYS)
ONEHOT_DIM = NUM_EDGES * NUM_OPS


class Encoding(ClosedSet, what="encoding"):
    ONEHOT = "onehot"
    PATH = "path"
    BOTH = "both"


@lru_cache(maxsize=1)
def cell_canonical() -> np.ndarray:
    """Canonical (representative) index of each of the 15,625 cells."""
    out = np.fromiter((canonical_index(i) for i in range(NUM_ARCHITECTURES)), dtype=np.int64, count=NUM_ARCHITECTURES)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """One-hot and path features of every cell's representative (computed once, well under a second)."""
    digits = (np.arange(NUM_ARCHITECTURES)[:, None] // NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)) % NUM_OPS
    onehot = np.zeros((NUM_ARCHITECTURES, ONEHOT_DIM), dtype=np.float32)
    onehot[np.arange(NUM_ARCHITECTURES)[:, None], np.arange(NUM_EDGES) * NUM_OPS + digits] = 1.0
    path = np.zeros((NUM_ARCHITECTURES, PATH_DIM), dtype=np.float32)
    for rep in np.unique(cell_canonical()):
        for seq in path_op_sequences(from_index(int(rep))):
            path[rep, _PATH_KEYS[seq]] = 1.0
    canon = cell_canonical()
    onehot, path = onehot[canon], path[canon]
    onehot.setflags(write=False)
    path.setflags(write=False)
    return onehot, path


def encode(indices: Iterable[ArchLike], encoding: Encoding | str = Encoding.BOTH) -> np.ndarray:
    """Feature matrix (n x d, float32) of the cells ``indices``: project indices or any encodings, read by
    :func:`~analognasbench.space.encodings.to_indices` (range-checked: a bad index must not wrap to another cell)."""
    enc = Encoding.parse(encoding)
    idx = to_indices(indices)
    onehot, path = _tables()
    if enc is Encoding.ONEHOT:
        return onehot[idx]
    if enc is Encoding.PATH:
        return path[idx]
    return np.concatenate([onehot[idx], path[idx]], axis=1)
