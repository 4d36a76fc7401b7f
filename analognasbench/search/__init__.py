"""NAS methods on the benchmark: one abstract base, a registry, tabular and surrogate evaluators, ten methods.

>>> from analognasbench.search import TabularEvaluator, get_method, Budget
>>> result = get_method("regularized_evolution")().run(TabularEvaluator(df), budget=Budget(200), seed=0)  # doctest: +SKIP
>>> result.final.arch, result.final["analog_drift_86400"]  # doctest: +SKIP

Importing this package imports every module in it, and defining a ``SearchMethod`` subclass registers it: a new
method is one subclass in one new file, nothing else changes.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from analognasbench.search.base import (
    DEFAULT_METRIC,
    Budget,
    BudgetExhausted,
    Evaluation,
    Evaluator,
    Measurement,
    MethodConfig,
    Objective,
    Result,
    SearchContext,
    SearchMethod,
    UnmeasuredArchitecture,
    avm_metrics,
    get_method,
    method_names,
    register_method,
    unregister_method,
)
from analognasbench.search.evaluators import (
    EvaluatorKind,
    SurrogateEvaluator,
    TabularEvaluator,
    from_bench,
    make_evaluator,
)

__all__ = [
    "DEFAULT_METRIC",
    "Budget",
    "BudgetExhausted",
    "Evaluation",
    "Evaluator",
    "EvaluatorKind",
    "Measurement",
    "MethodConfig",
    "Objective",
    "Result",
    "SearchContext",
    "SearchMethod",
    "SurrogateEvaluator",
    "TabularEvaluator",
    "UnmeasuredArchitecture",
    "avm_metrics",
    "from_bench",
    "get_method",
    "make_evaluator",
    "method_names",
    "register_method",
    "unregister_method",
]

for _module in _pkgutil.iter_modules(__path__):
    _importlib.import_module(f"{__name__}.{_module.name}")
