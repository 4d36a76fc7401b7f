"""NAS methods on the benchmark: one abstract base, a registry, tabular and surrogate evaluators, ten methods.

>>> from analognasbench.search import TabularEvaluator, get_method, Budget
>>> result = get_method("regularized_evolution")().run(TabularEvaluator(df), budget=Budget(200), seed=0)  # doctest: +SKIP
>>> result.final.arch, result.final["analog_drift_86400"]  # doctest: +SKIP

Importing this package registers every method below; a new method is one ``SearchMethod`` subclass in one file.
"""

from analognasbench.search import (  # noqa: F401  (imported for registration)
    analognas,
    bananas,
    bayesian_optimization,
    exhaustive,
    ga_imc,
    gibbon,
    nacim,
    nas4rram,
    random_search,
    regularized_evolution,
)
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
