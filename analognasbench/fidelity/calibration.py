"""Calibration of low-cost measurement profiles against the published release (issue 18).

The question: how well does a cheap profile rank architectures like the original AnalogNAS-Bench release? This
module holds the computation (the report and ``benchmarks/calibration.py`` print and plot it):

* :func:`calibration_sample` -- a fixed, seeded sample of isomorphism-class representatives stratified over the
  release's ``noisy_accuracy`` (one class per equal-count stratum), in a seeded order so any prefix spans the range.
* :func:`agreement` -- per metric, Kendall's tau, Spearman's rho and top-10 % overlap of a profile's rows with the
  release's on the classes both hold.
* :func:`drop_summary` -- the noisy drop (baseline minus noisy accuracy) distribution next to the release's.
* :func:`calibration_table` -- all of it for several stores, one row per (profile, metric), with the cost per
  architecture (median wall seconds, and the per-core figure where the rows say how many threads they used).

Agreement is computed per isomorphism class: the release holds a row per cell (15,625), a profile one per class;
the release's value for a class is the mean over its member cells.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analognasbench.agreement import rank_agreement
from analognasbench.pipeline.schema import Metric
from analognasbench.space import Architecture, parse

#: Metrics compared with the release (its published columns, the release's t = 0 semantics).
CALIBRATION_METRICS: tuple[Metric, ...] = (
    Metric.BASELINE, Metric.PTQ, Metric.QAT, Metric.NOISY, Metric.ANALOG, Metric.NOISY_DRIFT_86400,
    Metric.ANALOG_DRIFT_86400, Metric.ANALOG_DRIFT_2592000,
)
#: Cross-semantics comparisons: our programmed t = 0 reading against the release's unprogrammed one (what the
#: project's schema-1 datasets could offer), labelled ``ours~release``.
CROSS_METRICS: tuple[tuple[Metric, Metric], ...] = (
    (Metric.NOISY_PROGRAMMED, Metric.NOISY), (Metric.ANALOG_PROGRAMMED, Metric.ANALOG),
)
#: The candidate chosen on the frontier: of those measured on at least 100 classes of the sample with the release's
#: readings, within about 60-90 s per architecture on one core, the best mean of Kendall's tau on noisy accuracy and
#: on 1-day analog accuracy (DATASET.md, 'Calibrating'). Its dataset ships as ``cifar10-<profile>`` with the measured
#: agreement in its card.
CHOSEN_PROFILE: str | None = "calib-n1-e10"
#: Seed of the calibration sample (never change it: the sample file and its measured stores depend on it).
SAMPLE_SEED = 18


def release_by_class(release: pd.DataFrame) -> pd.DataFrame:
    """The release's metric means per isomorphism class (index: ``canonical_index``)."""
    cols = [m.value for m in Metric if m.value in release.columns]
    return release.groupby("canonical_index")[cols].mean()


def calibration_sample(release: pd.DataFrame, n: int = 120, seed: int = SAMPLE_SEED) -> list[Architecture]:
    """``n`` class representatives, one from each of ``n`` equal-count strata of the release's noisy accuracy
    (classes without a value are left out), drawn with ``seed``, in a seeded random order (every prefix is a
    uniform subsample of the strata). The representative is ``space``'s canonical member of the class."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    by_class = release_by_class(release)[Metric.NOISY.value].dropna().sort_values(kind="stable")
    if n > len(by_class):
        raise ValueError(f"n = {n} exceeds the {len(by_class)} classes with a noisy accuracy")
    rng = np.random.default_rng(seed)
    edges = np.linspace(0, len(by_class), n + 1).round().astype(int)
    picks = [int(by_class.index[rng.integers(lo, hi)]) for lo, hi in zip(edges[:-1], edges[1:])]
    order = rng.permutation(n)
    return [parse(picks[i]) for i in order]


def read_arch_file(path: str | Path) -> list[Architecture]:
    """Architectures of a file with one per line (``#`` comments and blank lines ignored)."""
    out = []
    for line in Path(path).read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            out.append(parse(text))
    return out


@dataclass(frozen=True)
class Agreement:
    """Rank agreement of one metric of a profile with the release on ``n`` classes (NaN where not measured)."""

    metric: str
    n: int
    kendall_tau: float
    spearman_rho: float
    top10_overlap: float

    @property
    def tau_se(self) -> float:
        """Large-sample standard error of Kendall's tau near 0, sqrt(2 (2n + 5) / (9 n (n - 1))): how far a tau
        on ``n`` architectures can sit from the population value by chance (an upper bound for larger taus)."""
        n = self.n
        return math.sqrt(2 * (2 * n + 5) / (9 * n * (n - 1))) if n > 1 else math.nan


def agreement(rows: pd.DataFrame, release: pd.DataFrame,
              metrics: Iterable[Metric | str | tuple[Metric | str, Metric | str]] = CALIBRATION_METRICS,
              ) -> list[Agreement]:
    """Per metric, the agreement of ``rows`` (one per class, a ``canonical_index`` column; several seeds are
    averaged) with the release on the classes both hold with finite values. A pair ``(ours, release's)`` compares
    two different columns (labelled ``ours~release's``). Tau, rho and the overlap are
    :func:`analognasbench.agreement.rank_agreement`'s."""
    ours = rows.groupby("canonical_index")[[c for c in rows.columns if c in {m.value for m in Metric}]].mean()
    theirs = release_by_class(release)
    out = []
    for metric in metrics:
        if isinstance(metric, tuple):
            m, r = Metric.parse(metric[0]).value, Metric.parse(metric[1]).value
            label = f"{m}~{r}"
        else:
            m = r = label = Metric.parse(metric).value
        if m not in ours.columns or r not in theirs.columns:
            out.append(Agreement(label, 0, math.nan, math.nan, math.nan))
            continue
        both = pd.concat([ours[m].rename("a"), theirs[r].rename("b")], axis=1, join="inner").dropna()
        if len(both) < 3:
            out.append(Agreement(label, len(both), math.nan, math.nan, math.nan))
            continue
        r = rank_agreement(both["a"].to_numpy(float), both["b"].to_numpy(float), 0.10)
        out.append(Agreement(label, r.n, r.kendall_tau, r.spearman_rho, r.top_overlap))
    return out


def drop_summary(frame: pd.DataFrame) -> dict[str, float]:
    """Quartiles of the noisy drop (baseline minus noisy accuracy, points), of the HWT gain (analog minus noisy)
    and of the programmed chip's drop (baseline minus noisy_programmed_accuracy)."""
    drop = (frame[Metric.BASELINE.value] - frame[Metric.NOISY.value]).dropna()
    gain = (frame[Metric.ANALOG.value] - frame[Metric.NOISY.value]).dropna()
    programmed = Metric.NOISY_PROGRAMMED.value
    prog = (frame[Metric.BASELINE.value] - frame[programmed]).dropna() if programmed in frame else pd.Series([])
    out: dict[str, float] = {"n": float(len(drop))}
    for name, series in (("drop", drop), ("hwt_gain", gain), ("programmed_drop", prog)):
        q = series.quantile([0.25, 0.5, 0.75]) if len(series) else pd.Series([math.nan] * 3, index=[0.25, 0.5, 0.75])
        out.update({f"{name}_q25": float(q[0.25]), f"{name}_median": float(q[0.5]), f"{name}_q75": float(q[0.75])})
    return out


_THREADS = re.compile(r"(\d+) threads")


def cost_per_architecture(rows: pd.DataFrame) -> dict[str, float]:
    """Median wall seconds per architecture, the device it ran on, and core-seconds where the CPU rows say how
    many threads they used (``device`` column ``cpu (x86_64, 1 threads)``)."""
    if rows.empty:
        return {"seconds": math.nan, "core_seconds": math.nan}
    seconds = float(rows["time_total_s"].median())
    devices = rows["device"].astype(str)
    cpu = devices.str.startswith("cpu")
    core = math.nan
    if cpu.any():
        threads = devices[cpu].str.extract(_THREADS)[0].astype(float)
        core = float((rows.loc[cpu, "time_total_s"] * threads).median())
    return {"seconds": seconds, "core_seconds": core, "on_cpu": float(cpu.mean())}


def calibration_table(stores: Mapping[str, pd.DataFrame], release: pd.DataFrame,
                      metrics: Sequence[Metric | str | tuple[Metric | str, Metric | str]] = (
                          *CALIBRATION_METRICS, *CROSS_METRICS)) -> pd.DataFrame:
    """One row per (profile, metric): n, tau, rho, top-10 % overlap, noisy-drop quartiles, cost. ``stores`` maps
    a label (usually the profile name) to its finished rows; the release's own drop is the row ``release``."""
    records = []
    for label, rows in stores.items():
        cost = cost_per_architecture(rows)
        drop = drop_summary(rows)
        for a in agreement(rows, release, metrics):
            records.append({"profile": label, "metric": a.metric, "n": a.n, "kendall_tau": a.kendall_tau,
                            "tau_se": a.tau_se,
                            "spearman_rho": a.spearman_rho, "top10_overlap": a.top10_overlap,
                            "noisy_drop_median": drop["drop_median"], "hwt_gain_median": drop["hwt_gain_median"],
                            "programmed_drop_median": drop["programmed_drop_median"],
                            "seconds_per_arch": cost["seconds"], "core_seconds_per_arch": cost["core_seconds"]})
    return pd.DataFrame(records)


#: The targets :func:`agreement_limits` decomposes (label, metric); each reading is
#: ``digital accuracy - loss on the chip``.
LIMIT_METRICS: tuple[tuple[str, Metric], ...] = (("noisy", Metric.NOISY), ("analog_1d", Metric.ANALOG_DRIFT_86400))


def agreement_limits(rows: pd.DataFrame, release: pd.DataFrame) -> dict[str, float]:
    """Which part of a profile keeps its ranking from the release's: the digital network or its loss on the chip.

    A chip reading is ``baseline - loss`` (noisy accuracy: loss = the noisy drop; 1-day analog accuracy: loss =
    baseline minus it). Per target, Kendall's tau with the release's reading of: our reading (measured), our
    baseline alone, our loss alone (its negative), and two mixes that are analysis, not measurement: *our baseline
    minus the release's loss* (how far our reading could get if only the chip part were the release's) and *the
    release's baseline minus our loss* (if only the digital training were the release's). The release's own
    baseline against its reading says how much of the target is digital. On the classes both hold (class means);
    NaN where a reading is not measured."""
    ours = rows.groupby("canonical_index").mean(numeric_only=True)
    theirs = release_by_class(release)
    base = Metric.BASELINE.value
    out: dict[str, float] = {}
    for label, metric in LIMIT_METRICS:
        m = metric.value
        if m not in ours.columns or base not in ours.columns:
            continue
        both = pd.concat([ours[[base, m]], theirs[[base, m]].add_suffix("_release")], axis=1,
                         join="inner").dropna()
        out[f"{label}_n"] = float(len(both))
        if len(both) < 3:
            continue
        ob, om, rb, rm = (both[c].to_numpy(float) for c in (base, m, f"{base}_release", f"{m}_release"))

        def tau(a: np.ndarray, reading: np.ndarray = rm) -> float:
            return rank_agreement(a, reading, 0.10).kendall_tau

        out.update({f"{label}_measured": tau(om), f"{label}_our_baseline": tau(ob), f"{label}_our_loss": tau(om - ob),
                    f"{label}_with_release_loss": tau(ob - (rb - rm)),
                    f"{label}_with_release_baseline": tau(rb - (ob - om)),
                    f"{label}_release_baseline": tau(rb)})
    return out


def release_drop_on(release: pd.DataFrame, classes: Iterable[int]) -> dict[str, float]:
    """:func:`drop_summary` of the release restricted to ``classes`` (per-class means)."""
    by_class = release_by_class(release)
    return drop_summary(by_class.loc[by_class.index.intersection(list(classes))])


__all__ = [
    "CALIBRATION_METRICS",
    "CHOSEN_PROFILE",
    "CROSS_METRICS",
    "SAMPLE_SEED",
    "Agreement",
    "LIMIT_METRICS",
    "agreement",
    "agreement_limits",
    "calibration_sample",
    "calibration_table",
    "cost_per_architecture",
    "drop_summary",
    "read_arch_file",
    "release_by_class",
    "release_drop_on",
]
