"""Is a measured dataset good enough? Cost per stage, distinguishability, rank fidelity and cross-device agreement.

The checks of the dataset card (DATASET.md), as functions of dataset frames, for any profile a user measures:

* :func:`stage_costs`: median seconds per stage and per architecture (the rows' ``time_*`` columns).
* :func:`distinguishability`: per metric, the spread across architectures (interquartile range) against the
  standard error of one architecture's value; a profile separates architectures where the spread is at least 3x
  the error. ``reliability`` is the share of the variance across architectures that is not measurement error,
  1 - mean(se^2) / var: it bounds how well any other measurement can agree with this one. Chip metrics: std / sqrt(R) over the R programmings. The baseline is one evaluation: the binomial
  error of the test subset, sqrt(p (1 - p) / n_test).
* :func:`rank_fidelity`: Kendall's tau between a profile and a higher-fidelity one over the architectures both hold.
* :func:`agreement`: the same profile measured in two places (CPU and GPU): per metric, differences in units of
  their combined error, z = diff / sqrt(se_a^2 + se_b^2); two devices' training runs diverge in floating point like
  two seeds, so the baseline's error is the binomial one on each side. About 95 % of |z| < 2 means agreement.
* :func:`seed_variation`: the same profile trained from two seeds (``anb generate --seed``): how far one
  architecture's value moves with the training seed, which the chip metrics' std (over programmings of one trained
  network) leaves out, and the spread across architectures against it.
* :func:`spread_sample`: N architectures evenly spaced over the accuracy range, in an order whose every prefix
  spans it (the architectures of a fidelity check that may be cut short).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Pipeline order of the stages whose wall times every row records.
STAGES = ("digital", "baseline", "ptq", "qat", "noisy", "hwt", "analog")
#: Metrics of the distinguishability and fidelity checks (issue 6: baseline, noisy, analog and 1-day accuracy).
CHECK_METRICS = ("baseline_accuracy", "noisy_accuracy", "noisy_programmed_accuracy", "noisy_drift_86400",
                 "analog_accuracy", "analog_programmed_accuracy", "analog_drift_86400")
#: Test-set size assumed where a profile does not record one (the full CIFAR-10 test split).
FULL_TEST_SET = 10000


def load_rows(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``(rows, profile dict)`` of a run store (``.sqlite``) or an exported dataset (``name.parquet`` + ``.json``)."""
    path = Path(path)
    if path.suffix == ".sqlite":
        from analognasbench.pipeline.store import RunStore

        with RunStore(path, create=False) as store:
            return store.to_dataframe(store.profile_hash), store.profile_dict or {}
    from analognasbench.bench.files import read_dataset

    df, meta = read_dataset(path)
    return df, dict(meta.profile or {})


def _require(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs the columns {missing}, which these rows lack (a dataset of the pipeline's "
                         "schema is expected)")


def stage_costs(df: pd.DataFrame) -> dict[str, float]:
    """Median seconds per stage and ``total`` per architecture."""
    _require(df, [f"time_{s}_s" for s in STAGES] + ["time_total_s"], "stage_costs")
    out = {s: float(df[f"time_{s}_s"].median()) for s in STAGES}
    out["total"] = float(df["time_total_s"].median())
    return out


def format_costs(costs: dict[str, float]) -> str:
    parts = " | ".join(f"{s} {costs[s]:.1f}s" for s in STAGES)
    per_hour = 3600 / costs["total"] if costs["total"] > 0 else float("nan")
    return f"median per architecture: {parts} | total {costs['total']:.1f}s ({per_hour:.0f} architectures/hour/worker)"


def standard_error(df: pd.DataFrame, metric: str, n_test: int, suffix: str = "") -> pd.Series:
    """Standard error of one architecture's value: binomial for the baseline, std / sqrt(R) for chip metrics."""
    if metric == "baseline_accuracy":
        p = df[f"{metric}{suffix}"].astype(float) / 100
        return 100 * np.sqrt(p * (1 - p) / n_test)
    return df[f"{metric}_std{suffix}"].astype(float) / np.sqrt(df[f"repetitions{suffix}"].astype(float))


def distinguishability(df: pd.DataFrame, n_test: int | None, metrics: tuple[str, ...] = CHECK_METRICS,
                       factor: float = 3.0) -> pd.DataFrame:
    """Per metric: IQR across architectures, median standard error, their ratio and whether it reaches ``factor``."""
    n_test = n_test or FULL_TEST_SET
    rows = []
    for metric in metrics:
        _require(df, [metric], "distinguishability")
        if not df[metric].notna().any():
            continue  # not measured in this dataset (e.g. the unprogrammed t = 0 of a schema-1 dataset)
        values = df[metric].astype(float).dropna()
        iqr = float(values.quantile(0.75) - values.quantile(0.25))
        errors = standard_error(df, metric, n_test)
        se = float(np.nanmedian(errors))
        variance = float(values.var())
        reliability = 1 - float(np.nanmean(errors**2)) / variance if variance > 0 else np.nan
        rows.append({"metric": metric, "iqr": iqr, "median_se": se, "ratio": iqr / se if se else np.inf,
                     "reliability": reliability, "good_enough": bool(iqr >= factor * se),
                     "error": f"binomial, n_test={n_test}" if metric == "baseline_accuracy" else "std/sqrt(R)"})
    return pd.DataFrame(rows)


def rank_fidelity(low: pd.DataFrame, high: pd.DataFrame, metrics: tuple[str, ...] = CHECK_METRICS) -> pd.DataFrame:
    """Kendall's tau (and its p-value) of each metric between two profiles, over the classes both measured."""
    from scipy.stats import kendalltau

    both = low.merge(high, on="canonical_index", suffixes=("_low", "_high"))
    rows = []
    for m in metrics:
        pair = both[[f"{m}_low", f"{m}_high"]].astype(float).dropna()
        tau, p = kendalltau(pair.iloc[:, 0], pair.iloc[:, 1]) if len(pair) >= 3 else (np.nan, np.nan)
        rows.append({"metric": m, "n": len(pair), "kendall_tau": float(tau), "p_value": float(p),
                     "mean_low": float(pair.iloc[:, 0].mean()), "mean_high": float(pair.iloc[:, 1].mean())})
    return pd.DataFrame(rows)


def agreement(a: pd.DataFrame, b: pd.DataFrame, n_test: int | None,
              metrics: tuple[str, ...] = CHECK_METRICS) -> pd.DataFrame:
    """Per metric, over the classes both hold: mean and largest difference (b - a), the share within 2 standard
    errors and the largest |z|."""
    n_test = n_test or FULL_TEST_SET
    both = a.merge(b, on="canonical_index", suffixes=("_a", "_b"))
    rows = []
    for m in metrics if len(both) else ():
        diff = both[f"{m}_b"].astype(float) - both[f"{m}_a"].astype(float)
        z = diff / np.sqrt(standard_error(both, m, n_test, "_a") ** 2 + standard_error(both, m, n_test, "_b") ** 2)
        z = z.where(diff != 0, 0.0)  # equal values agree even where both report no error (0 / 0)
        rows.append({"metric": m, "n": len(both), "mean_diff": float(diff.mean()),
                     "max_abs_diff": float(diff.abs().max()), "within_2_se": float((z.abs() < 2).mean()),
                     "max_abs_z": float(z.abs().max())})
    return pd.DataFrame(rows)


def seed_variation(a: pd.DataFrame, b: pd.DataFrame, n_test: int | None,
                   metrics: tuple[str, ...] = CHECK_METRICS) -> pd.DataFrame:
    """Per metric, over the classes both seeds hold: the std of one architecture's value across training seeds,
    std(b - a) / sqrt(2) (for chip metrics, of the mean over R programmings, so it includes their error), beside
    the median error the rows report (binomial or std / sqrt(R)); the IQR across all of ``a``'s architectures in
    units of the seed std; the reliability counting the seed, 1 - seed_std^2 / var across all of ``a``'s
    architectures (the expected correlation of two seeds' values); and Kendall's tau between the seeds over the
    shared classes."""
    from scipy.stats import kendalltau

    n_test = n_test or FULL_TEST_SET
    both = a.merge(b, on="canonical_index", suffixes=("_a", "_b"))
    if len(both) < 3:
        raise ValueError(f"the two seeds share {len(both)} architectures; a seed check needs at least 3")
    rows = []
    for m in metrics:
        _require(a, [m], "seed_variation")
        diff = both[f"{m}_b"].astype(float) - both[f"{m}_a"].astype(float)
        seed_std = float(diff.std(ddof=1) / np.sqrt(2))
        reported = float(np.nanmedian(np.concatenate([standard_error(both, m, n_test, s) for s in ("_a", "_b")])))
        values = a[m].astype(float).dropna()
        iqr = float(values.quantile(0.75) - values.quantile(0.25))
        variance = float(values.var())
        tau, p = kendalltau(both[f"{m}_a"], both[f"{m}_b"])
        rows.append({"metric": m, "n": len(both), "seed_std": seed_std, "reported_se": reported,
                     "iqr_over_seed_std": iqr / seed_std if seed_std else np.inf,
                     "reliability": 1 - seed_std**2 / variance if variance > 0 else np.nan,
                     "kendall_tau": float(tau), "p_value": float(p)})
    return pd.DataFrame(rows)


def spread_order(n: int) -> list[int]:
    """0..n-1 reordered so that every prefix is spread over the range (bit-reversed, van der Corput, order)."""
    if n <= 1:
        return list(range(n))
    bits = (n - 1).bit_length()
    return sorted(range(n), key=lambda i: int(f"{i:0{bits}b}"[::-1], 2))


def spread_sample(df: pd.DataFrame, n: int, metrics: tuple[str, ...] = ("baseline_accuracy", "noisy_accuracy",
                                                                        "analog_accuracy", "analog_drift_86400"),
                  ) -> list[str]:
    """``n`` architectures (``arch`` strings) at evenly spaced positions of the rows sorted by their mean rank over
    ``metrics``, from the worst to the best, returned in :func:`spread_order`."""
    _require(df, ["arch", "canonical_index", *metrics], "spread_sample")
    metrics = tuple(m for m in metrics if df[m].notna().any()) or metrics  # skip metrics not measured in df
    if not 1 <= n <= len(df):
        raise ValueError(f"n must be between 1 and the {len(df)} measured architectures, got {n}")
    score = np.mean([df[m].rank().to_numpy() for m in metrics], axis=0)
    ranked = df.assign(_score=score).sort_values(["_score", "canonical_index"]).reset_index(drop=True)
    positions = np.round(np.linspace(0, len(ranked) - 1, n)).astype(int)
    chosen = ranked.iloc[positions]
    return [str(chosen.iloc[i]["arch"]) for i in spread_order(len(chosen))]
