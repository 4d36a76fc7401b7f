"""Reproducing release cells end to end (issue 23): our measurement of a cell against the release's members.

The release trained every cell separately, isomorphic ones included, so a class with several members gives the
spread of one published value across training runs. A measurement of ours reproduces a value when it lies within
``tolerance`` (3) standard deviations of the release's members' mean. Where the members agree exactly (e.g. a
network stuck at chance), the standard deviation is floored at the binomial standard error of one accuracy on the
release's 10,000 test images, so a reading is not required to match to the last digit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from analognasbench.pipeline.schema import Metric

#: The metrics the release publishes, compared one by one.
RELEASE_METRICS: tuple[Metric, ...] = tuple(m for m in Metric if not m.value.endswith("programmed_accuracy"))
#: Test images of the release's evaluations (the binomial floor of a member spread).
RELEASE_TEST_IMAGES = 10_000
#: The shipped comparison of our paper-original measurements with the release (``benchmarks/reproduce_release.py
#: --export``): one row per (class, metric, kind); kind ``measured`` is a stage's result (a whole row or a
#: measurement in progress), ``probe`` an early reading of a digital training in progress (not a dataset value).
SHIPPED_REPRODUCTION = Path(__file__).resolve().parent / "reproduce-paper-original.csv"


def binomial_se(accuracy: float, n: int = RELEASE_TEST_IMAGES) -> float:
    """Standard error (points) of an accuracy (percent) read on ``n`` images."""
    p = min(max(accuracy / 100.0, 0.0), 1.0)
    return 100.0 * math.sqrt(max(p * (1 - p), 1e-4) / n)


def compare_with_members(rows: pd.DataFrame, release: pd.DataFrame, tolerance: float = 3.0,
                         metrics: Iterable[Metric | str] = RELEASE_METRICS) -> pd.DataFrame:
    """One row per (measured class, metric): our value (mean over our rows of the class), the release's members
    (count, mean, std with ddof 1), the spread used (the std, floored at :func:`binomial_se`), the distance in
    spreads and whether it counts as reproduced. Classes the release measured only once are left out (no spread);
    metrics we did not measure (NaN) are listed with ``reproduced`` NaN."""
    if "canonical_index" not in rows.columns:
        raise ValueError("rows need a canonical_index column (one row per measured architecture)")
    names = [Metric.parse(m).value for m in metrics]
    out = []
    for cls, ours in rows.groupby("canonical_index"):
        members = release[release["canonical_index"] == cls]
        if len(members) < 2:
            continue
        for name in names:
            theirs = members[name].dropna() if name in members else pd.Series(dtype=float)
            value = float(ours[name].mean()) if name in ours else math.nan
            if len(theirs) < 2:
                continue
            mean, std = float(theirs.mean()), float(theirs.std(ddof=1))
            spread = max(std, binomial_se(mean))
            z = (value - mean) / spread if not math.isnan(value) else math.nan
            out.append({"canonical_index": int(cls), "metric": name, "ours": value, "members": len(theirs),
                        "release_mean": mean, "release_std": std, "spread": spread, "z": z,
                        "reproduced": bool(abs(z) <= tolerance) if not math.isnan(z) else np.nan})
    return pd.DataFrame(out)


def reproduction_summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per class: metrics compared, measured, reproduced, and the worst distance (in spreads)."""
    if comparison.empty:
        return pd.DataFrame()
    measured = comparison.dropna(subset=["z"])
    return pd.DataFrame({
        "compared": comparison.groupby("canonical_index").size(),
        "measured": measured.groupby("canonical_index").size(),
        "reproduced": measured.groupby("canonical_index")["reproduced"].sum().astype(int),
        "worst_abs_z": measured.groupby("canonical_index")["z"].apply(lambda s: float(s.abs().max())),
    }).fillna({"measured": 0, "reproduced": 0}).reset_index()


def shipped_reproduction() -> pd.DataFrame:
    """The shipped comparison (:data:`SHIPPED_REPRODUCTION`), or an empty frame when none is shipped."""
    return pd.read_csv(SHIPPED_REPRODUCTION) if SHIPPED_REPRODUCTION.is_file() else pd.DataFrame()


def merge_reproduction(shipped: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, list[str]]]:
    """The shipped comparison updated with a new measurement's, one run per class and kind: a class's new rows
    replace its shipped ones when the new run measured every metric the shipped run did (it is as far along), else
    the shipped rows stay (their ``source`` names their run) and the class is returned with the metrics the new run
    still lacks. Classes only one side has are kept as they are. So an export from a run started again (the earlier
    run's checkpoints lost, say) never drops values an earlier run measured, and no class mixes two runs."""
    if shipped.empty:
        return new.copy(), {}
    if new.empty:
        return shipped.copy(), {}

    def measured(frame: pd.DataFrame) -> set[str]:
        return set(frame.loc[frame["ours"].notna(), "metric"])

    kept: dict[int, list[str]] = {}
    parts = []
    for (cls, kind), old in shipped.groupby(["canonical_index", "kind"], sort=False):
        fresh = new[(new["canonical_index"] == cls) & (new["kind"] == kind)]
        missing = sorted(measured(old) - measured(fresh)) if len(fresh) else []
        if len(fresh) and missing:
            kept[int(cls)] = missing
        parts.append(old if (fresh.empty or missing) else fresh)
    shipped_keys = set(zip(shipped["canonical_index"], shipped["kind"]))
    parts.append(new[[key not in shipped_keys for key in zip(new["canonical_index"], new["kind"])]])
    merged = pd.concat(parts, ignore_index=True)
    return merged.sort_values(["canonical_index", "kind"], kind="stable", ignore_index=True), kept


__all__ = ["RELEASE_METRICS", "SHIPPED_REPRODUCTION", "binomial_se", "compare_with_members", "merge_reproduction",
           "reproduction_summary", "shipped_reproduction"]
