"""Synthetic datasets in the benchmark schema with PLANTED effects (and a null dataset without any), so that the
analyses can be tested on data whose truth is known.

Planted effects (``planted=True``):

* noisy drop (baseline - noisy) grows by ``conv1x1_drop`` points per 1x1 convolution and shrinks by
  ``conv3x3_gain`` per 3x3 convolution (claim 2 of the paper);
* the path pattern ``HURTFUL_PATTERN`` = (3,4) (1x1 conv then average pooling on a live path) always costs
  ``pattern_drop`` points of noisy accuracy;
* hardware-aware training recovers most of the noisy drop, except in cells with >= 2 average-pooling edges, where it
  recovers almost nothing (the HWT-failing group);
* skip connections reduce drift loss: the drift rate falls by 30 % per skip edge (up to 3) (claim 3);
* PTQ/QAT track the baseline closely while noisy accuracy is reordered by the planted drops (claim 1).

The null dataset has the same marginals, but every hardware metric is the baseline shifted by a constant plus
independent measurement noise, and drift loss is the same for every architecture.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analognasbench.pipeline.schema import DRIFT_TIMES, all_columns
from analognasbench.space import from_index, is_degenerate, representatives, to_nb201_str

HURTFUL_PATTERN: tuple[int, ...] = (3, 4)


@dataclass(frozen=True)
class SyntheticConfig:
    n: int = 1500
    seed: int = 0
    planted: bool = True
    repetitions: int = 3
    conv1x1_drop: float = 2.5
    conv3x3_gain: float = 1.0
    pattern_drop: float = 8.0
    measurement_noise: float = 0.4


def _params(a: np.ndarray) -> np.ndarray:
    """Rough parameter count: 16/32/64 channels, 5 cells per stage, conv edges dominate."""
    per_cell = (a == 2).sum(1) * 9 + (a == 3).sum(1)
    return (per_cell * 5 * (16**2 + 32**2 + 64**2) + 80_000).astype(np.int64)


def synthetic_dataset(config: SyntheticConfig | None = None, **overrides: object) -> pd.DataFrame:
    """A dataset DataFrame with every schema column; see the module docstring for what is planted."""
    cfg = config or SyntheticConfig()
    if overrides:
        cfg = SyntheticConfig(**{**cfg.__dict__, **overrides})
    rng = np.random.default_rng(cfg.seed)
    reps = np.array(representatives())
    idx = np.sort(rng.choice(reps, size=min(cfg.n, len(reps)), replace=False))
    archs = [from_index(int(i)) for i in idx]
    a = np.array(archs, dtype=np.int64)
    n = len(archs)
    n_conv3, n_conv1 = (a == 2).sum(1), (a == 3).sum(1)
    n_skip, n_pool = (a == 0).sum(1), (a == 4).sum(1)
    degenerate = np.array([is_degenerate(x) for x in archs])

    quality = 86.0 + 1.5 * n_conv3 + 0.8 * n_conv1 - 0.5 * n_pool + rng.normal(0, 1.5, n)
    baseline = np.where(degenerate, 10.0 + rng.normal(0, 0.2, n), np.clip(quality, 15, 95))
    noise = cfg.measurement_noise
    ptq = baseline - 0.4 + rng.normal(0, noise, n)
    qat = baseline - 0.2 + rng.normal(0, noise, n)
    if cfg.planted:
        from analognasbench.space import path_op_sequences

        hurt = np.array([HURTFUL_PATTERN in path_op_sequences(x) for x in archs])
        drop = (3.0 + cfg.conv1x1_drop * n_conv1 - cfg.conv3x3_gain * n_conv3 + cfg.pattern_drop * hurt
                + rng.normal(0, 0.7, n))
        drop = np.clip(drop, 0.2, None)
        recovery = np.where(n_pool >= 2, 0.05, 0.8)
        rate = 0.9 * (1.0 - 0.3 * np.minimum(n_skip, 3)) + rng.normal(0, 0.05, n)
    else:
        drop = 4.0 + rng.normal(0, noise, n)
        recovery = np.full(n, 0.5)
        rate = np.full(n, 0.6) + rng.normal(0, 0.05, n)
    drop = np.where(degenerate, 0.0, drop)
    noisy = baseline - drop
    analog = noisy + recovery * drop + rng.normal(0, noise, n)

    cols: dict[str, object] = {
        "arch_index": idx.astype(np.int64),
        "arch": [str(tuple(int(v) for v in x)) for x in archs],
        "arch_str": [to_nb201_str(x) for x in archs],
        "canonical_index": idx.astype(np.int64),
        "params": _params(a),
        "flops": _params(a) * 1024,
    }

    def put(name: str, mean: np.ndarray, repeated: bool) -> None:
        mean = np.where(degenerate, 10.0, mean) if name != "baseline_accuracy" else mean
        if repeated:
            reps_ = mean[:, None] + rng.normal(0, 0.3, (n, cfg.repetitions))
            cols[name] = reps_.mean(1)
            cols[f"{name}_std"] = reps_.std(1)
            cols[f"{name}_reps"] = [list(map(float, r)) for r in reps_]
        else:
            cols[name] = mean
            cols[f"{name}_std"] = np.zeros(n)

    put("baseline_accuracy", baseline, False)
    put("ptq_accuracy", ptq, False)
    put("qat_accuracy", qat, False)
    put("noisy_accuracy", noisy, True)
    put("analog_accuracy", analog, True)
    put("noisy_programmed_accuracy", noisy - 1.0, True)  # the programmed chip reads a little lower at t = 0
    put("analog_programmed_accuracy", analog - 0.5, True)
    for series, start in (("noisy", noisy), ("analog", analog)):
        for t in DRIFT_TIMES:
            loss = rate * np.log10(t / 20.0) * (1.0 if series == "noisy" else 0.8)
            put(f"{series}_drift_{t}", start - loss + rng.normal(0, 0.1, n), True)
    # the programmed chip at t = 0 (schema 2), drawn last so the other columns keep their random stream
    put("noisy_programmed_accuracy", noisy - 1.0, True)
    put("analog_programmed_accuracy", analog - 0.5, True)
    for stage in ("digital", "qat", "hwt"):
        cols[f"curve_{stage}"] = [json.dumps([]) for _ in range(n)]
    for stage in ("digital", "qat", "hwt", "baseline", "ptq", "noisy", "analog"):
        cols[f"time_{stage}_s"] = np.full(n, 1.0)
    cols["time_total_s"] = np.full(n, 7.0)
    cols["profile_name"] = "synthetic-planted" if cfg.planted else "synthetic-null"
    cols["profile_hash"] = "0" * 16
    cols["seed"] = cfg.seed
    cols["device"] = "cpu"
    cols["repetitions"] = cfg.repetitions
    cols["created"] = "2025-01-01T00:00:00"
    df = pd.DataFrame(cols)
    return df[all_columns()]


def null_dataset(n: int = 1500, seed: int = 1) -> pd.DataFrame:
    """Same layout and marginals, no architecture-dependent hardware effects."""
    return synthetic_dataset(SyntheticConfig(n=n, seed=seed, planted=False))


@dataclass
class SyntheticMeta:
    """Stand-in for the benchmark's DatasetMeta (only the fields the report shows)."""

    name: str = "synthetic"
    fidelity: str = "synthetic test data (planted effects)"
    repetitions: int = 3
    hardware_preset: str = "none"


@dataclass
class SyntheticBench:
    """Anything with ``.df`` and ``.meta`` is accepted by the report, like an AnalogNASBench."""

    df: pd.DataFrame
    meta: SyntheticMeta
