"""Is a measured dataset good enough? Cost per stage, distinguishability, and rank fidelity against a higher profile.

    python benchmarks/dataset_quality.py runs/cifar_lowcost.sqlite [--reference runs/cifar_highfid.sqlite]

Inputs are run stores (.sqlite) or exported datasets (name.parquet + name.json).

* Cost: median seconds per stage and per architecture, from the rows' ``time_*`` columns.
* Distinguishability (issue 6): for baseline, noisy and 1-day accuracy, the spread across architectures (IQR)
  against the standard error of one architecture's mean. For chip metrics the error is std / sqrt(R) over the R
  programmings; the baseline is one evaluation, so its error is the binomial error of the test subset,
  sqrt(p (1 - p) / n_test). A profile is good enough where IQR >= 3 x the median error.
* Fidelity: Kendall's tau between the two profiles over the architectures both measured.
* Agreement (``--agreement OTHER``, the same profile measured elsewhere, e.g. a GPU machine's store): per
  architecture measured by both, the difference of each metric against its noise, z = diff / sqrt(se_a^2 + se_b^2)
  (chip metrics: std / sqrt(R) on each side; baseline: the binomial error on each side, since two devices' training
  runs diverge in floating point like two seeds). Rows agree within their noise where |z| < 2 for about 95 % of them.

    python benchmarks/dataset_quality.py runs/cifar_lowcost.sqlite --agreement runs/gpu.sqlite
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

STAGES = ("digital", "baseline", "ptq", "qat", "noisy", "hwt", "analog")
FIDELITY_METRICS = ("baseline_accuracy", "noisy_accuracy", "analog_accuracy", "noisy_drift_86400", "analog_drift_86400")


def load(path: Path) -> tuple[pd.DataFrame, dict]:
    if path.suffix == ".sqlite":
        from analognasbench.pipeline.store import RunStore

        with RunStore(path, create=False) as store:
            return store.to_dataframe(store.profile_hash), store.profile_dict or {}
    from analognasbench.bench.files import read_dataset

    df, meta = read_dataset(path)
    return df, meta.profile


def cost(df: pd.DataFrame) -> str:
    med = {s: float(df[f"time_{s}_s"].median()) for s in STAGES}
    total = float(df["time_total_s"].median())
    parts = " | ".join(f"{s} {t:.1f}s" for s, t in med.items())
    return f"median per architecture: {parts} | total {total:.1f}s ({3600 / total:.0f} architectures/hour/worker)"


def distinguishability(df: pd.DataFrame, profile: dict) -> pd.DataFrame:
    n_test = profile.get("test_subset") or 10000
    rows = []
    for metric in ("baseline_accuracy", "noisy_accuracy", "noisy_drift_86400", "analog_accuracy", "analog_drift_86400"):
        values = df[metric].astype(float)
        iqr = float(values.quantile(0.75) - values.quantile(0.25))
        se = _se(df, metric, n_test)
        how = f"binomial, n_test={n_test}" if metric == "baseline_accuracy" else "std/sqrt(R)"
        med_se = float(np.median(se))
        rows.append({"metric": metric, "iqr": iqr, "median_se": med_se, "ratio": iqr / med_se if med_se else np.inf,
                     "good_enough": iqr >= 3 * med_se, "error": how})
    return pd.DataFrame(rows)


def fidelity(low: pd.DataFrame, high: pd.DataFrame) -> pd.DataFrame:
    both = low.merge(high, on="canonical_index", suffixes=("_low", "_high"))
    rows = []
    for m in FIDELITY_METRICS:
        tau, p = kendalltau(both[f"{m}_low"], both[f"{m}_high"]) if len(both) >= 3 else (np.nan, np.nan)
        rows.append({"metric": m, "n": len(both), "kendall_tau": tau, "p_value": p,
                     "mean_low": both[f"{m}_low"].mean(), "mean_high": both[f"{m}_high"].mean()})
    return pd.DataFrame(rows)


def _se(df: pd.DataFrame, metric: str, n_test: int, suffix: str = "") -> pd.Series:
    """Standard error of one architecture's value: binomial for the baseline, std / sqrt(R) for chip metrics."""
    if metric == "baseline_accuracy":
        p = df[f"{metric}{suffix}"].astype(float) / 100
        return 100 * np.sqrt(p * (1 - p) / n_test)
    return df[f"{metric}_std{suffix}"].astype(float) / np.sqrt(df[f"repetitions{suffix}"].astype(float))


def agreement(a: pd.DataFrame, b: pd.DataFrame, profile: dict) -> pd.DataFrame:
    """Same profile, two places (e.g. CPU and GPU): per metric, how far apart the rows of shared architectures are,
    in units of their combined noise."""
    n_test = profile.get("test_subset") or 10000
    both = a.merge(b, on="canonical_index", suffixes=("_a", "_b"))
    rows = []
    for m in FIDELITY_METRICS if len(both) else ():
        diff = both[f"{m}_b"].astype(float) - both[f"{m}_a"].astype(float)
        z = diff / np.sqrt(_se(both, m, n_test, "_a") ** 2 + _se(both, m, n_test, "_b") ** 2)
        rows.append({"metric": m, "n": len(both), "mean_diff": float(diff.mean()), "max_abs_diff": float(diff.abs().max()),
                     "within_2_se": float((z.abs() < 2).mean()), "max_abs_z": float(z.abs().max())})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path, help="run store (.sqlite) or dataset (name.parquet)")
    parser.add_argument("--reference", type=Path, help="higher-fidelity store/dataset of the same architectures")
    parser.add_argument("--agreement", type=Path, help="the same profile measured elsewhere (e.g. on a GPU)")
    parser.add_argument("--json", type=Path, help="also write the tables as JSON")
    args = parser.parse_args(argv)
    df, profile = load(args.dataset)
    if df.empty:
        print(f"{args.dataset}: no finished architectures yet", file=sys.stderr)
        return 1
    print(f"{args.dataset}: {len(df)} architectures, profile {profile.get('name')}")
    print(cost(df))
    dist = distinguishability(df, profile)
    print("\nDistinguishability (spread across architectures vs the error of one architecture's mean, in points):")
    print(dist.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    out = {"n": len(df), "cost": cost(df), "distinguishability": dist.to_dict("records")}
    if args.reference:
        ref, ref_profile = load(args.reference)
        print(f"\n{args.reference}: {len(ref)} architectures, profile {ref_profile.get('name')}")
        print(cost(ref))
        fid = fidelity(df, ref)
        print("\nRank fidelity (Kendall's tau, low-cost vs reference, architectures measured by both):")
        print(fid.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        out["fidelity"] = fid.to_dict("records")
    if args.agreement:
        other, other_profile = load(args.agreement)
        if other_profile != profile:
            print(f"{args.agreement} is not the same profile as {args.dataset}", file=sys.stderr)
            return 2
        agree = agreement(df, other, profile)
        devices = sorted(set(other["device"]))
        print(f"\nAgreement with {args.agreement} ({', '.join(devices)}), architectures measured by both "
              "(diff = other - this, z in units of the combined standard error):")
        print(agree.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        out["agreement"] = agree.to_dict("records")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
