"""A small registry of analyses, so the report (and users) can run every analysis of the paper by name.

Each analysis module computes tidy results from a dataset DataFrame (the columns of
:mod:`analognasbench.pipeline.schema`) and registers a *section builder* that turns those results into a
:class:`Section`: findings in words, tables (each also written as CSV by the report) and figures drawn on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analognasbench.pipeline.schema import Metric

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)


class MissingDataError(ValueError):
    """The dataset lacks columns (or values) an analysis needs; the report skips that analysis and says why."""


class Verdict(str, Enum):
    """Outcome of testing one of the paper's claims on a dataset."""

    HOLDS = "holds"
    DOES_NOT_HOLD = "does not hold"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class AnalysisParams:
    """Thresholds shared by the analyses. All are quantiles of the dataset itself, because the fidelity of a
    dataset (epochs, device, repetitions) shifts every accuracy relative to the paper's absolute thresholds."""

    baseline_quantile: float = 0.5
    """Architectures with baseline accuracy at or above this quantile count as 'high baseline accuracy'."""
    robust_quantile: float = 0.25
    """An accuracy drop at or below this quantile (within the high-baseline set) is 'robust'."""
    non_robust_quantile: float = 0.75
    """Drift: a drop at or above this quantile is 'non-robust' (App. E's quartile rule)."""
    noisy_low_quantile: float = 0.25
    """HWT: noisy accuracy below this quantile is 'non-robust'; also 'poor' noisy/analog for HWT-failing."""
    noisy_high_quantile: float = 0.75
    """HWT: noisy accuracy at or above this quantile is 'naturally robust'."""
    analog_high_quantile: float = 0.75
    """HWT: analog accuracy at or above this quantile is 'high performance'."""
    alpha: float = 0.05
    """Family-wise significance level; tests within one table are Bonferroni-corrected."""
    min_effect: float = 0.1
    """Smallest effect (rank correlation or rank-biserial correlation, or Kendall-tau gap) that counts as real."""
    top_k: int = 20
    n_bootstrap: int = 1000
    seed: int = 0
    drift_baseline_min: float | None = None
    """Drift (Sec. 3.4): keep architectures with baseline accuracy strictly above this (percent) instead of the
    baseline quantile. The paper's value is 80; only meaningful on data of the paper's fidelity."""
    drift_noisy_min: float | None = None
    """Drift: ... and noisy accuracy strictly above this (the paper: 70). Both or neither must be set."""

    @classmethod
    def paper(cls, **overrides: Any) -> AnalysisParams:
        """The paper's own absolute thresholds where it states them (drift: baseline > 80 and noisy > 70, which
        reproduce its Table 3 from the release), quantiles elsewhere (its other thresholds were not published)."""
        return cls(**{"drift_baseline_min": 80.0, "drift_noisy_min": 70.0, **overrides})

    @classmethod
    def for_dataset(cls, meta: Any, **overrides: Any) -> AnalysisParams:
        """:meth:`paper` for data at the paper's fidelity (the published release, or the ``paper``/``paper-original``
        profiles), else the quantile defaults: low-fidelity accuracies sit far below the paper's absolute cut-offs."""
        get = meta.get if isinstance(meta, dict) else lambda k, d=None: getattr(meta, k, d)
        profile = get("profile") or {}
        name = profile.get("name", "") if isinstance(profile, dict) else ""
        at_paper = get("source") == "original-release" or name in ("paper", "paper-original")
        return cls.paper(**overrides) if at_paper else cls(**overrides)

    def __post_init__(self) -> None:
        for name in ("baseline_quantile", "robust_quantile", "non_robust_quantile", "noisy_low_quantile",
                     "noisy_high_quantile", "analog_high_quantile", "alpha"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a fraction in [0, 1]; got {value!r}")
        if self.noisy_low_quantile > self.noisy_high_quantile:
            raise ValueError("noisy_low_quantile must not exceed noisy_high_quantile")
        if (self.drift_baseline_min is None) != (self.drift_noisy_min is None):
            raise ValueError("set both drift_baseline_min and drift_noisy_min, or neither")
        for name in ("drift_baseline_min", "drift_noisy_min"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value <= 100.0:
                raise ValueError(f"{name} must be an accuracy in [0, 100] percent or None; got {value!r}")
        if self.top_k < 1 or self.n_bootstrap < 10:
            raise ValueError("top_k must be >= 1 and n_bootstrap >= 10")


@dataclass
class FigureSpec:
    """A figure drawn only when the report asks for it (drawing is the slow part)."""

    caption: str
    draw: Callable[[], Figure]


@dataclass
class Section:
    """One analysis, ready for the report."""

    name: str
    title: str
    paper_ref: str
    intro: str
    findings: list[str] = field(default_factory=list)
    tables: dict[str, tuple[str, pd.DataFrame]] = field(default_factory=dict)
    """table name (CSV file stem) -> (caption, table)."""
    figures: dict[str, FigureSpec] = field(default_factory=dict)
    """figure name (PNG file stem) -> figure."""
    skipped: str | None = None
    """Why the analysis could not run on this dataset, if it could not."""


SectionBuilder = Callable[[pd.DataFrame, AnalysisParams], Section]


@dataclass(frozen=True)
class AnalysisSpec:
    name: str
    title: str
    paper_ref: str
    build: SectionBuilder
    order: int


_REGISTRY: dict[str, AnalysisSpec] = {}


def register(name: str, title: str, paper_ref: str, order: int) -> Callable[[SectionBuilder], SectionBuilder]:
    """Decorator: add a section builder to the registry under ``name``."""

    def deco(func: SectionBuilder) -> SectionBuilder:
        if name in _REGISTRY and _REGISTRY[name].build is not func:
            raise ValueError(f"analysis {name!r} registered twice")
        _REGISTRY[name] = AnalysisSpec(name, title, paper_ref, func, order)
        return func

    return deco


def analyses() -> list[AnalysisSpec]:
    """Every registered analysis, in report order."""
    _load_all()
    return sorted(_REGISTRY.values(), key=lambda s: s.order)


def get_analysis(name: str) -> AnalysisSpec:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown analysis {name!r}; valid analyses: {', '.join(sorted(_REGISTRY))}") from None


def t0_reading(df: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The frame the analyses read, and a note when its t = 0 metrics are the programmed chip.

    The analyses are written on the paper's t = 0 metrics (``noisy_accuracy``, ``analog_accuracy``: the release's
    network before programming). A dataset that measured only the programmed chip at t = 0 (the project's schema-1
    datasets, migrated) is analysed on that reading instead -- its ``*_programmed_accuracy`` stands in for the t = 0
    metric -- and every section says so (``note``): the numbers are the chip's, not reinterpreted as the release's.
    """
    swaps = []
    for name, programmed in (("noisy_accuracy", "noisy_programmed_accuracy"),
                             ("analog_accuracy", "analog_programmed_accuracy")):
        if programmed in df.columns and df[programmed].notna().any() and (
                name not in df.columns or df[name].notna().sum() == 0):
            swaps.append((name, programmed))
    if not swaps:
        return df, None
    out = df.copy()
    for name, programmed in swaps:
        out[name] = out[programmed]
    used = ", ".join(f"{programmed} for {name}" for name, programmed in swaps)
    return out, (f"This dataset did not measure the unprogrammed t = 0 reading (the release's meaning); its "
                 f"programmed chip at t = 0 stands in ({used}).")


def run_section(name: str, df: pd.DataFrame, params: AnalysisParams | None = None) -> Section:
    """Build one section; a dataset lacking the needed data yields a skipped section instead of an error.

    On a dataset whose t = 0 metrics are the programmed chip, the section reads those and says so
    (:func:`t0_reading`)."""
    spec = get_analysis(name)
    df, note = t0_reading(df)
    try:
        section = spec.build(df, params or AnalysisParams())
    except MissingDataError as exc:
        log.info("analysis %s skipped: %s", name, exc)
        return Section(spec.name, spec.title, spec.paper_ref, "", skipped=str(exc))
    if note:
        section.intro = f"{section.intro} {note}".strip()
    return section


def _load_all() -> None:
    # Importing the modules runs their @register decorators.
    from analognasbench.analysis import (  # noqa: F401
        claims,
        distributions,
        drift,
        graph_features,
        hwt_robustness,
        noise_robustness,
    )


# ---- small helpers shared by the analyses ---------------------------------------------------------------------


def column(m: Metric | str) -> str:
    return Metric.parse(m).value


def require(df: pd.DataFrame, metrics: Iterable[Metric | str], *, min_rows: int = 8) -> None:
    """Raise :class:`MissingDataError` unless every metric column exists with at least ``min_rows`` values."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame in the dataset schema; got {type(df).__name__}")
    if "arch" not in df.columns:
        raise MissingDataError("the dataset has no 'arch' column")
    missing = [column(m) for m in metrics if column(m) not in df.columns or df[column(m)].notna().sum() < min_rows]
    if missing:
        raise MissingDataError(f"the dataset lacks values for {', '.join(missing)} (need >= {min_rows} rows)")


def quantile_threshold(values: pd.Series, q: float) -> float:
    return float(np.nanquantile(values.to_numpy(dtype=float), q))


def bonferroni(p: pd.Series | np.ndarray, alpha: float) -> np.ndarray:
    """True where a p-value is significant after Bonferroni correction over the non-missing tests."""
    p = np.asarray(p, dtype=float)
    m = max(int(np.isfinite(p).sum()), 1)
    return np.isfinite(p) & (p < alpha / m)


def rank_biserial(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mann-Whitney U test of x vs y: (rank-biserial correlation in [-1, 1], two-sided p).

    Positive when values of ``x`` tend to be larger than those of ``y``.
    """
    from scipy.stats import mannwhitneyu

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if len(x) == 0 or len(y) == 0:
        return float("nan"), float("nan")
    if np.ptp(np.concatenate([x, y])) == 0:
        return 0.0, 1.0
    res = mannwhitneyu(x, y, alternative="two-sided")
    return float(2.0 * res.statistic / (len(x) * len(y)) - 1.0), float(res.pvalue)


def fmt_p(p: float | None) -> str:
    """'= 3.1e-05', or '< 1e-300' where the p-value underflows to 0 (printed as '= 0.0e+00' it would mislead)."""
    if p is None or not np.isfinite(p):
        return "= n/a"
    return "< 1e-300" if p < 1e-300 else f"= {p:.1e}"


def spearman(x: Any, y: Any) -> tuple[float, float]:
    """Spearman's rho and p; (nan, nan) when either side is constant."""
    from scipy.stats import spearmanr

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3 or np.ptp(x[ok]) == 0 or np.ptp(y[ok]) == 0:
        return float("nan"), float("nan")
    res = spearmanr(x[ok], y[ok])
    return float(res.statistic), float(res.pvalue)
