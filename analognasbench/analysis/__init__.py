"""Every analysis of the AnalogNAS-Bench paper as a function of a dataset DataFrame (the columns of
:mod:`analognasbench.pipeline.schema`), returning tidy tables and small dataclasses.

>>> from analognasbench.analysis import noise_robustness, evaluate_claims   # doctest: +SKIP
>>> res = noise_robustness(bench.df)                                         # doctest: +SKIP
>>> [c.verdict.value for c in evaluate_claims(bench.df)]                     # doctest: +SKIP

Nothing here imports torch; matplotlib is imported only when a figure is drawn. Every analysis also registers a
report section (:func:`analyses`, :func:`run_section`); every module of this package is imported, so a new
analysis is one new file that registers itself.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from analognasbench.analysis.claims import (
    ClaimResult,
    claim_quantization_misses_noise,
    claim_skip_drift,
    claim_wide_branched_cells,
    claims_table,
    evaluate_claims,
)
from analognasbench.analysis.distributions import correlation_matrix, rank_correlations, summary_statistics
from analognasbench.analysis.drift import DriftResult, drift_analysis, drift_drops, good_architectures
from analognasbench.analysis.features import (
    arch_matrix,
    op_counts,
    path_patterns,
    pattern_label,
    pattern_presence,
)
from analognasbench.analysis.graph_features import (
    TARGETS,
    feature_correlations,
    graph_features,
    robustness_targets,
    top_features,
)
from analognasbench.analysis.hwt_robustness import HWTResult, hwt_robustness
from analognasbench.analysis.noise_robustness import NoiseRobustnessResult, noise_robustness
from analognasbench.analysis.registry import (
    AnalysisParams,
    AnalysisSpec,
    FigureSpec,
    MissingDataError,
    Section,
    Verdict,
    analyses,
    get_analysis,
    run_section,
)

__all__ = [
    "TARGETS", "AnalysisParams", "AnalysisSpec", "ClaimResult", "DriftResult", "FigureSpec", "HWTResult",
    "MissingDataError", "NoiseRobustnessResult", "Section", "Verdict", "analyses", "arch_matrix",
    "claim_quantization_misses_noise", "claim_skip_drift", "claim_wide_branched_cells", "claims_table",
    "correlation_matrix", "drift_analysis", "drift_drops", "evaluate_claims", "feature_correlations",
    "get_analysis", "good_architectures", "graph_features", "hwt_robustness", "noise_robustness", "op_counts",
    "path_patterns", "pattern_label", "pattern_presence", "rank_correlations", "robustness_targets", "run_section",
    "summary_statistics", "top_features",
]

for _module in _pkgutil.iter_modules(__path__):
    _importlib.import_module(f"{__name__}.{_module.name}")
