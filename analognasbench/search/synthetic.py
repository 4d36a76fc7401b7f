"""Synthetic benchmarks in the dataset schema, for tests, speed measurements and demos without the real data.

The landscape is a function of the isomorphism class (computed on its representative), so it obeys the same
invariances as measured data: an additive score per (edge, op) plus optional pairwise interactions (``rugged``),
a drift that grows with log time and depends on the ops, parameters that count convolutions, and R stored
repetitions per chip metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import numpy as np
import pandas as pd

from analognasbench.pipeline.schema import DRIFT_TIMES, Metric
from analognasbench.space import (
    NUM_EDGES,
    NUM_OPS,
    Architecture,
    canonical_index,
    from_index,
    representatives,
)

#: Parameters per op in the synthetic network (3x3 conv, 1x1 conv cost weights; the rest is free).
_OP_PARAMS = np.array([0.0, 0.0, 9.0, 1.0, 0.0]) * 2048.0


def classes_with_ops(ops: Sequence[int]) -> list[int]:
    """Representatives of the classes of every cell built only from ``ops``: a small landscape that stays
    connected under one-edge mutation (e.g. ops (0, 2, 3): 496 classes)."""
    return sorted({canonical_index(Architecture(c)) for c in product(tuple(ops), repeat=NUM_EDGES)})


def synthetic_frame(n_classes: int | None = None, seed: int = 0, rugged: float = 0.0, repetitions: int = 5,
                    noise_std: float = 0.3, classes: Sequence[int] | None = None) -> pd.DataFrame:
    """A fake benchmark of ``n_classes`` randomly chosen classes (all 6,466 by default), or of the given
    ``classes`` (representative indices).

    ``rugged`` scales random pairwise edge interactions (0: a smooth, additive landscape). Values are percent
    accuracies; the returned frame has ``arch_index``, ``canonical_index``, ``params`` and every metric with
    ``_std`` (and ``_reps`` for chip metrics).
    """
    rng = np.random.default_rng(seed)
    reps = np.asarray(representatives() if classes is None else sorted(set(classes)))
    if n_classes is not None:
        if not 1 <= n_classes <= len(reps):
            raise ValueError(f"n_classes must be 1..{len(reps)}; got {n_classes!r}")
        reps = np.sort(rng.choice(reps, size=n_classes, replace=False))
    ops = np.array([tuple(from_index(int(i))) for i in reps])  # n x 6
    onehot = np.zeros((len(reps), NUM_EDGES, NUM_OPS))
    onehot[np.arange(len(reps))[:, None], np.arange(NUM_EDGES), ops] = 1.0
    weights = rng.normal(0.0, 3.0, size=(NUM_EDGES, NUM_OPS))
    weights[:, 1] -= 4.0  # 'none' edges hurt, as in the real space
    flat = onehot.reshape(len(reps), -1)
    score = flat @ weights.ravel()
    if rugged:
        inter = rng.normal(0.0, rugged, size=(flat.shape[1], flat.shape[1]))
        score = score + np.einsum("ni,ij,nj->n", flat, np.triu(inter, 1), flat)
    base = 70.0 + 20.0 * np.tanh((score - score.mean()) / (2 * score.std() + 1e-9))
    drift_w = rng.uniform(0.0, 1.0, size=(NUM_EDGES, NUM_OPS))
    drift_rate = 0.5 + flat @ drift_w.ravel() / NUM_EDGES  # accuracy points lost per decade of time
    data: dict[str, object] = {
        "arch_index": reps, "canonical_index": reps, "params": (onehot * _OP_PARAMS).sum(axis=(1, 2)) + 5000.0,
    }

    def put(metric: Metric, mean: np.ndarray, std: float) -> None:
        data[metric.value] = mean
        if metric.repeated:
            r = mean[:, None] + std * rng.standard_normal((len(mean), repetitions))
            data[metric.value] = r.mean(axis=1)
            data[f"{metric.value}_std"] = r.std(axis=1, ddof=1) if repetitions > 1 else np.zeros(len(mean))
            data[f"{metric.value}_reps"] = list(r)
        else:
            data[f"{metric.value}_std"] = np.zeros(len(mean))

    put(Metric.BASELINE, base, 0.0)
    put(Metric.PTQ, base - 0.3, 0.0)
    put(Metric.QAT, base - 0.1, 0.0)
    put(Metric.NOISY, base - 2.0 * drift_rate, noise_std)
    put(Metric.ANALOG, base - 0.5 * drift_rate, noise_std)
    put(Metric.NOISY_PROGRAMMED, base - 2.5 * drift_rate, noise_std)  # programming noise: a little below t = 0
    put(Metric.ANALOG_PROGRAMMED, base - 0.7 * drift_rate, noise_std)
    for t in DRIFT_TIMES:
        decades = np.log10(t / 20.0)
        put(Metric(f"noisy_drift_{t}"), base - 2.0 * drift_rate - 1.5 * drift_rate * decades, noise_std)
        put(Metric(f"analog_drift_{t}"), base - 0.5 * drift_rate - drift_rate * decades, noise_std)
    return pd.DataFrame(data)
