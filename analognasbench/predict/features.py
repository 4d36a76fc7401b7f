"""Feature matrices of classes for the surrogates: cell encodings, proxy columns, and the cell graph for the GNN.

Encodings come from :func:`analognasbench.space.features.encode` (one home for them: 30 one-hot, 84 path
features, taken on the class representative). Proxies are made comparable across orders of magnitude by a signed
log (synflow spans 1e15..1e60) and then z-scored over the whole candidate pool -- unsupervised, so using all
candidates (not only the labelled ones) leaks no label. Missing proxy values get the pool median.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analognasbench.predict.targets import proxy_frame
from analognasbench.space import EDGES, NUM_OPS, Op, from_index
from analognasbench.space.features import encode

#: Feature sets a surrogate can use.
FEATURE_SETS = ("onehot", "path", "zc", "onehot+zc", "path+zc")


def proxy_matrix(proxies: pd.DataFrame, index: np.ndarray) -> np.ndarray:
    """Signed-log, pool-standardised proxy features of the classes ``index`` (canonical indices; ``proxies`` a proxy
    table, see :func:`~analognasbench.predict.targets.proxy_frame`)."""
    proxies = proxy_frame(proxies)
    cols = [c for c in proxies.columns if c.startswith("zc_")]
    x = proxies.loc[index, cols].to_numpy(dtype=float)
    x = np.sign(x) * np.log1p(np.abs(x))
    med = np.nanmedian(x, axis=0)
    x = np.where(np.isfinite(x), x, med)
    sd = x.std(axis=0)
    x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return x[:, sd > 0]


def features(feature_set: str, index: np.ndarray, proxies: pd.DataFrame | None = None) -> np.ndarray:
    """The ``feature_set`` matrix of the class representatives ``index`` (standardised over ``index``)."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; valid: {', '.join(FEATURE_SETS)}")
    parts = []
    for part in feature_set.split("+"):
        if part == "zc":
            if proxies is None:
                raise ValueError(f"feature set {feature_set!r} needs a proxy table")
            parts.append(proxy_matrix(proxies, index))
        else:
            parts.append(encode(index, part).astype(float))
    return np.concatenate(parts, axis=1)


# The cell as a graph for the GNN: each operation is a node (line graph of the cell DAG), plus an input and an
# output node. Node types: input, output, then the 5 operations; "none" edges are dropped (they carry nothing).
N_NODES = 2 + len(EDGES)
N_TYPES = 2 + NUM_OPS


def cell_graph(index: int) -> tuple[np.ndarray, np.ndarray]:
    """(node features (8, 7) one-hot types, adjacency (8, 8): a -> b where b consumes a's output)."""
    a = from_index(int(index))
    x = np.zeros((N_NODES, N_TYPES), dtype=np.float32)
    adj = np.zeros((N_NODES, N_NODES), dtype=np.float32)
    x[0, 0] = x[1, 1] = 1.0
    live = [k for k, op in enumerate(a) if op != Op.NONE]
    for k in live:
        x[2 + k, 2 + int(a[k])] = 1.0
        src, dst = EDGES[k]
        if src == 1:
            adj[0, 2 + k] = 1.0
        if dst == 4:
            adj[2 + k, 1] = 1.0
        for m in live:
            if EDGES[m][0] == dst:
                adj[2 + k, 2 + m] = 1.0
    return x, adj


def graph_batch(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    graphs = [cell_graph(int(i)) for i in index]
    return np.stack([g[0] for g in graphs]), np.stack([g[1] for g in graphs])
