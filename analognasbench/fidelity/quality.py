"""Is a measured dataset good enough? Cost per stage, distinguishability, rank fidelity and cross-device agreement.

The checks of the dataset card (DATASET.md), as functions of dataset frames, for any profile a user measures:

* :func:`stage_costs`: median seconds per stage and per architecture (the rows' ``time_*`` columns).
* :func:`distinguishability`: per metric, the spread across architectures (interquartile range) against the
  standard error of one architecture's value; a profile separates architectures where the spread is at least 3x
  the error. ``reliability`` is the share of the variance across architectures that is not measurement error,
  1 - mean(se^2) / var: it bounds how well any other measurement can agree with this one. Chip metrics: std / sqrt(R) over the R programmings. The baseline is one evaluation: the binomial
  error of the test subset, sqrt(p (1 - p) / n_test).
* :func:`rank_fidelity`: Kendall's tau, Spearman's rho and top-10 % overlap between a dataset and another (a
  higher-fidelity profile, or the published release) over the isomorphism classes both hold, each side's class
  mean where it measured several members of a class.
* :func:`member_reliability`: for data that measured isomorphic cells separately (the published release), the
  error of one value (the spread within classes) and how alike two measurements of one network rank (Kendall's
  tau between two members across classes): a repeatability estimate for data that has no repetitions.
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

from analognasbench.agreement import rank_agreement
from analognasbench.agreement import top_overlap as top_overlap  # re-exported: its old home

#: Pipeline order of the stages whose wall times every row records.
STAGES = ("digital", "baseline", "ptq", "qat", "noisy", "hwt", "analog")
#: Metrics of the distinguishability and fidelity checks (issue 6: baseline, noisy, analog and 1-day accuracy).
CHECK_METRICS = ("baseline_accuracy", "noisy_accuracy", "noisy_programmed_accuracy", "noisy_drift_86400",
                 "analog_accuracy", "analog_programmed_accuracy", "analog_drift_86400")
#: Test-set size assumed where a profile does not record one (the full CIFAR-10 test split).
FULL_TEST_SET = 10000


def held_metrics(df: pd.DataFrame, metrics: tuple[str, ...] = CHECK_METRICS) -> tuple[str, ...]:
    """The ``metrics`` the rows measured (a schema-1 dataset holds the programmed t = 0 reading only, the release
    the unprogrammed one only); all of them if the rows hold none, so that the checks still say what is missing."""
    held = tuple(m for m in metrics if m in df.columns and df[m].notna().any())
    return held or metrics


def load_rows(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``(rows, profile dict)`` of a run store (``.sqlite``), an exported dataset (``name.parquet`` + ``.json``) or
    an embedded dataset's name (``original`` for the published release)."""
    path = Path(path)
    if path.suffix == ".sqlite":
        from analognasbench.pipeline.store import RunStore

        with RunStore(path, read_only=True) as store:
            return store.to_dataframe(store.profile_hash), store.profile_dict or {}
    from analognasbench.bench.registry import load

    df, meta, _ = load(path)
    profile = dict(meta.profile or {})
    profile.setdefault("name", meta.name)
    return df, profile


def _require(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs the columns {missing}, which these rows lack (a dataset of the pipeline's "
                         "schema is expected)")


def stage_costs(df: pd.DataFrame) -> dict[str, float]:
    """Median seconds per stage and ``total`` per architecture (NaN where the rows record no times)."""
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
    reps = df[f"repetitions{suffix}"].astype(float)
    return df[f"{metric}_std{suffix}"].astype(float) / np.sqrt(reps.where(reps > 0))  # R unknown: no error


def distinguishability(df: pd.DataFrame, n_test: int | None, metrics: tuple[str, ...] | None = None,
                       factor: float = 3.0) -> pd.DataFrame:
    """Per metric (default: :func:`held_metrics`): IQR across architectures, median standard error, their ratio and
    whether it reaches ``factor``."""
    metrics = metrics or held_metrics(df)
    n_test = n_test or FULL_TEST_SET
    rows = []
    for metric in metrics:
        _require(df, [metric], "distinguishability")
        if not df[metric].notna().any():
            continue  # not measured in this dataset (e.g. the unprogrammed t = 0 of a schema-1 dataset)
        values = df[metric].astype(float).dropna()
        iqr = float(values.quantile(0.75) - values.quantile(0.25))
        errors = standard_error(df, metric, n_test)
        if not np.isfinite(errors).any():  # no error published (e.g. the release): nothing to compare against
            continue
        se = float(np.nanmedian(errors))
        variance = float(values.var())
        reliability = 1 - float(np.nanmean(errors**2)) / variance if variance > 0 else np.nan
        rows.append({"metric": metric, "iqr": iqr, "median_se": se, "ratio": iqr / se if se else np.inf,
                     "reliability": reliability, "good_enough": bool(iqr >= factor * se),
                     "error": f"binomial, n_test={n_test}" if metric == "baseline_accuracy" else "std/sqrt(R)"})
    return pd.DataFrame(rows)


def class_means(df: pd.DataFrame, metrics: tuple[str, ...]) -> pd.DataFrame:
    """One row per isomorphism class: the mean of each metric over the class's measured rows (members)."""
    cols = [m for m in metrics if m in df.columns]
    return df.groupby("canonical_index", sort=True)[cols].mean().reset_index()


def rank_fidelity(low: pd.DataFrame, high: pd.DataFrame, metrics: tuple[str, ...] | None = None,
                  top: float = 0.1) -> pd.DataFrame:
    """Per metric, over the classes both hold (class means where a side measured several members): Kendall's tau
    (and p), Spearman's rho, the overlap of the top ``top`` fraction (the share of ``high``'s best classes that are
    also among ``low``'s best), and both sides' means, as :func:`analognasbench.agreement.rank_agreement` defines
    them. Metrics either side lacks give n = 0 and NaN."""
    metrics = metrics or held_metrics(low)
    both = class_means(low, metrics).merge(class_means(high, metrics), on="canonical_index", suffixes=("_low", "_high"))
    rows = []
    for m in metrics:
        if f"{m}_low" not in both.columns or f"{m}_high" not in both.columns:
            pair = pd.DataFrame(columns=["a", "b"], dtype=float)
        else:
            pair = both[[f"{m}_low", f"{m}_high"]].astype(float).dropna()
        ok = len(pair) >= 3
        r = rank_agreement(pair.iloc[:, 0].to_numpy(), pair.iloc[:, 1].to_numpy(), top)
        rows.append({"metric": m, "n": len(pair), "kendall_tau": r.kendall_tau, "p_value": r.kendall_p,
                     "spearman_rho": r.spearman_rho, f"top{round(100 * top)}_overlap": r.top_overlap,
                     "mean_low": float(pair.iloc[:, 0].mean()) if ok else np.nan,
                     "mean_high": float(pair.iloc[:, 1].mean()) if ok else np.nan})
    return pd.DataFrame(rows)


#: The release's published metrics compared in a dataset card, and the cross-reading pairs (our programmed t = 0
#: reading against the release's unprogrammed one) used where a dataset lacks the release's reading.
RELEASE_CARD_METRICS = ("baseline_accuracy", "ptq_accuracy", "qat_accuracy", "noisy_accuracy", "analog_accuracy",
                        "noisy_drift_86400", "analog_drift_86400", "analog_drift_2592000")
RELEASE_CARD_CROSS = (("noisy_programmed_accuracy", "noisy_accuracy"),
                      ("analog_programmed_accuracy", "analog_accuracy"))


def release_agreement(df: pd.DataFrame, release: pd.DataFrame, reference: str = "analognas-original",
                      reference_sha256: str = "") -> dict[str, Any]:
    """The dataset card's record of how a measured dataset ranks architectures like the published release.

    Per metric the dataset measured: n classes compared, Kendall's tau, Spearman's rho and top-10 % overlap of
    :func:`rank_fidelity` (class means on both sides). A cross pair ``ours~release's`` compares the programmed
    t = 0 reading with the release's unprogrammed one; it is recorded only where the dataset lacks the latter.
    """
    metrics = tuple(m for m in RELEASE_CARD_METRICS if m in df.columns and df[m].notna().any())
    fid = rank_fidelity(df, release, metrics) if metrics else pd.DataFrame()
    records = {r["metric"]: r for r in fid.to_dict("records")}
    for ours, theirs in RELEASE_CARD_CROSS:
        if ours in df.columns and df[ours].notna().any() and theirs not in records:
            pair = rank_fidelity(df[["canonical_index", ours]].rename(columns={ours: theirs}), release, (theirs,))
            records[f"{ours}~{theirs}"] = {**pair.iloc[0].to_dict(), "metric": f"{ours}~{theirs}"}
    out = {}
    for label, r in records.items():
        if r["n"] >= 3:
            out[label] = {"n": int(r["n"]), "kendall_tau": round(float(r["kendall_tau"]), 4),
                          "spearman_rho": round(float(r["spearman_rho"]), 4),
                          "top10_overlap": round(float(r["top10_overlap"]), 4)}
    return {"reference": reference, "reference_sha256": reference_sha256,
            "classes": int(df["canonical_index"].nunique()),
            "method": "rank agreement of class means over the isomorphism classes both hold (anb quality "
                      "--reference original); ours~release's: our programmed t = 0 reading against the release's "
                      "unprogrammed one",
            "metrics": out}


def shipped_release_agreement(df: pd.DataFrame) -> dict[str, Any]:
    """:func:`release_agreement` against the embedded release; empty when it is not shipped."""
    from analognasbench.bench.registry import load, shipped_release

    name = shipped_release()
    if name is None:
        return {}
    release, meta, _ = load(name)
    return release_agreement(df, release, name, meta.sha256)


def member_reliability(df: pd.DataFrame, metrics: tuple[str, ...] = CHECK_METRICS) -> pd.DataFrame:
    """Repeatability from isomorphic cells measured separately (each an independent training of the same network).

    Per metric, over the classes with at least two measured members: ``within_std``, the pooled std of one value
    within a class (the error of one measurement: training seed, programming and read-out noise together);
    ``iqr_over_within``, the IQR across classes' first members in units of it; ``reliability``,
    1 - within variance / variance across all rows (the expected correlation of two measurements of one network);
    and ``kendall_tau`` between two members of each class (its two lowest-indexed members, a fixed pair) across
    classes. NAS-Bench-201's isomorphism counts dead edges as absent, so members can differ in convs whose output
    never reaches the cell output; their values still come from one function of the input.
    """
    from scipy.stats import kendalltau

    _require(df, ["canonical_index", "arch_index"], "member_reliability")
    ordered = df.sort_values("arch_index", kind="stable")
    sizes = ordered.groupby("canonical_index")["arch_index"].transform("size")
    multi = ordered[sizes >= 2]
    if multi["canonical_index"].nunique() < 3:
        raise ValueError("member_reliability needs at least 3 isomorphism classes with two or more measured members "
                         "(a dataset of class representatives has none)")
    rank_in_class = multi.groupby("canonical_index").cumcount()
    first = multi[rank_in_class == 0].set_index("canonical_index")
    second = multi[rank_in_class == 1].set_index("canonical_index")
    rows = []
    for m in metrics:
        if m not in df.columns or df[m].notna().sum() < 3:
            continue
        groups = multi.groupby("canonical_index")[m]
        within_var = float((groups.var(ddof=1) * (groups.count() - 1)).sum() / (groups.count() - 1).sum())
        within_std = float(np.sqrt(within_var))
        values = df[m].astype(float).dropna()
        iqr = float(values.quantile(0.75) - values.quantile(0.25))
        pair = pd.concat([first[m], second[m]], axis=1, keys=["a", "b"]).dropna()
        tau, p = kendalltau(pair["a"], pair["b"])
        rows.append({"metric": m, "classes": int(groups.ngroups), "rows": int(len(multi)),
                     "within_std": within_std, "iqr": iqr,
                     "iqr_over_within": iqr / within_std if within_std else np.inf,
                     "reliability": 1 - within_var / float(values.var()) if values.var() > 0 else np.nan,
                     "kendall_tau": float(tau), "p_value": float(p), "pairs": int(len(pair))})
    return pd.DataFrame(rows)


def agreement(a: pd.DataFrame, b: pd.DataFrame, n_test: int | None,
              metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per metric, over the classes both hold: mean and largest difference (b - a), the share within 2 standard
    errors and the largest |z|."""
    metrics = metrics or held_metrics(a)
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
                   metrics: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Per metric, over the classes both seeds hold: the std of one architecture's value across training seeds,
    std(b - a) / sqrt(2) (for chip metrics, of the mean over R programmings, so it includes their error), beside
    the median error the rows report (binomial or std / sqrt(R)); the IQR across all of ``a``'s architectures in
    units of the seed std; the reliability counting the seed, 1 - seed_std^2 / var across all of ``a``'s
    architectures (the expected correlation of two seeds' values); and Kendall's tau between the seeds over the
    shared classes."""
    from scipy.stats import kendalltau

    metrics = metrics or held_metrics(a)
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
