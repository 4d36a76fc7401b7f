"""The noisy-drop ablation against the release (issue 23): which settings reproduce the release's drop.

:mod:`analognasbench.pipeline.ablation` measures, per architecture and setting, the baseline and the accuracy on
the unprogrammed chip. This module compares them with the release on the same classes:

* :func:`ablation_sample` -- the fixed, seeded subset of the calibration sample the ablation runs on, spread over
  the release's noisy drop (one class per equal-count stratum of the drop).
* :func:`drop_table` -- per setting: classes, mean and median drop, the release's mean drop on the same classes,
  Kendall's tau of the per-class drops with the release's, and the cost per architecture.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from analognasbench.fidelity.calibration import release_by_class
from analognasbench.pipeline.schema import Metric
from analognasbench.space import Architecture, canonical_index, parse

#: The ablation's records as measured by ``benchmarks/drop_ablation.py --export`` (CSV, without the per-read
#: values), shipped so the report and DATASET.md can show the table without a rerun.
SHIPPED_RECORDS = Path(__file__).resolve().parent / "drop-ablation.csv"
#: Seed of the ablation subset (never change it: the subset file and its measured records depend on it).
ABLATION_SEED = 23


def release_drop(release: pd.DataFrame) -> pd.Series:
    """The release's noisy drop per isomorphism class: mean baseline minus mean noisy accuracy over members."""
    by_class = release_by_class(release)
    return (by_class[Metric.BASELINE.value] - by_class[Metric.NOISY.value]).dropna()


def ablation_sample(release: pd.DataFrame, candidates: Sequence[Architecture | str], n: int = 24,
                    seed: int = ABLATION_SEED) -> list[Architecture]:
    """``n`` of ``candidates`` (e.g. the calibration sample), one from each of ``n`` equal-count strata of the
    release's noisy drop over the candidates, drawn with ``seed``, in a seeded random order (every prefix spans the
    range, so a partial run is not biased toward small or large drops)."""
    drops = release_drop(release)
    archs = {canonical_index(parse(a)): parse(a) for a in candidates}
    have = drops.reindex(list(archs)).dropna().sort_values(kind="stable")
    if not 1 <= n <= len(have):
        raise ValueError(f"n must be between 1 and {len(have)} (candidates with a release drop), got {n}")
    rng = np.random.default_rng(seed)
    edges = np.linspace(0, len(have), n + 1).round().astype(int)
    picks = [archs[int(have.index[rng.integers(lo, hi)])] for lo, hi in zip(edges[:-1], edges[1:])]
    return [picks[i] for i in rng.permutation(n)]


def shipped_records() -> pd.DataFrame:
    """The shipped ablation records (empty when none are shipped)."""
    return pd.read_csv(SHIPPED_RECORDS) if SHIPPED_RECORDS.is_file() else pd.DataFrame()


def _tau(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import stats

    return float(stats.kendalltau(a, b).statistic) if len(a) >= 3 else math.nan


def drop_table(records: pd.DataFrame | Iterable[dict], release: pd.DataFrame,
               order: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per setting of the ablation records (:class:`~analognasbench.pipeline.ablation.DropStore`):
    ``n`` classes, mean baseline, mean and median noisy drop, the release's mean drop on the same classes, Kendall's
    tau of the per-class drop with the release's (and its standard error near 0), the same tau for the baseline,
    and the median training and reading core-seconds per architecture. ``order`` lists settings first-to-last
    (default: as first seen)."""
    frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    if frame.empty:
        return pd.DataFrame()
    theirs = release_drop(release)
    base = release_by_class(release)[Metric.BASELINE.value]
    rows = []
    keys = list(order) if order is not None else list(dict.fromkeys(frame["setting"]))
    for key in keys:
        part = frame[frame["setting"] == key]
        if part.empty:
            continue
        per_class = part.groupby("canonical_index")[["noisy_drop", "baseline_accuracy"]].mean()
        both = per_class.join(theirs.rename("release_drop"), how="inner").join(base.rename("release_baseline"))
        n = len(both)
        core = part["threads"].astype(float)
        rows.append({
            "setting": key, "factor": part["factor"].iloc[0], "value": part["value"].iloc[0], "n": n,
            "baseline_mean": float(both["baseline_accuracy"].mean()),
            "drop_mean": float(both["noisy_drop"].mean()), "drop_median": float(both["noisy_drop"].median()),
            "release_drop_mean": float(both["release_drop"].mean()),
            "drop_tau": _tau(both["noisy_drop"].to_numpy(float), both["release_drop"].to_numpy(float)),
            "baseline_tau": _tau(both["baseline_accuracy"].to_numpy(float), both["release_baseline"].to_numpy(float)),
            "tau_se": math.sqrt(2 * (2 * n + 5) / (9 * n * (n - 1))) if n > 1 else math.nan,
            "train_core_s": float((part["train_s"] * core).median()),
            "read_core_s": float((part["eval_s"] * core).median()),
        })
    return pd.DataFrame(rows)


__all__ = ["ABLATION_SEED", "SHIPPED_RECORDS", "ablation_sample", "drop_table", "release_drop", "shipped_records"]
