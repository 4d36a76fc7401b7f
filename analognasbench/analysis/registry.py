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

    def __post_init__(self) -> None:
        for name in ("baseline_quantile", "robust_quantile", "non_robust_quantile", "noisy_low_quantile",
                     "noisy_high_quantile", "analog_high_quantile", "alpha"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a fraction in [0, 1]; got {value!r}")
        if self.noisy_low_quantile > self.noisy_high_quantile:
            raise ValueError("noisy_low_quantile must not exceed noisy_high_quantile")
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


def run_section(name: str, df: pd.DataFrame, params: AnalysisParams | None = None) -> Section:
    """Build one section; a dataset lacking the needed data yields a skipped section instead of an error."""
    spec = get_analysis(name)
    try:
        return spec.build(df, params or AnalysisParams())
    except MissingDataError as exc:
        log.info("analysis %s skipped: %s", name, exc)
        return Section(spec.name, spec.title, spec.paper_ref, "", skipped=str(exc))


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
        raise MissingDataError(f"not measured in this dataset: {', '.join(missing)} (need >= {min_rows} rows with values)")


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
