"""Regression tests of the search layer's audit: method settings checked when made, searches that cannot hang,
read-only evaluator arrays, and clear errors for natural misuse of ``run``, objectives, budgets and comparisons.

Every search here is small (a few evaluations or at most two seconds of wall time), and a search that could hang
runs in a daemon thread joined with a time limit, so a regression fails instead of blocking the suite.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any

import numpy as np
import pytest
from bench_fixture import fixture_frame, fixture_meta

from analognasbench.bench import AnalogNASBench
from analognasbench.search import (
    Budget,
    Objective,
    SearchContext,
    SearchMethod,
    SurrogateEvaluator,
    TabularEvaluator,
    from_bench,
    get_method,
    method_names,
    unregister_method,
)
from analognasbench.search.compare import CompareConfig
from analognasbench.search.multiobjective import MultiObjective, parse_objective
from analognasbench.search.predictors import MLPConfig

OBJ = "analog_drift_86400"


@pytest.fixture(scope="module")
def fake_bench() -> AnalogNASBench:
    return AnalogNASBench.from_frame(fixture_frame(120, seed=1), fixture_meta())


def _within(seconds: float, work: Callable[[], Any]) -> Any:
    """``work()``'s value, failing (not hanging) when it has not returned after ``seconds``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: the search ignores its budget"
    if "error" in box:
        raise box["error"]
    return box["value"]


def _default(f: Any) -> Any:
    return f.default if f.default is not MISSING else f.default_factory()


# ----- 1. method settings are checked when the config is made -------------------------------------------------------


@pytest.mark.parametrize(("method", "setting", "error"), [
    ("nacim", {"batch_size": 0}, ValueError),           # used to loop forever without evaluating
    ("gibbon", {"n_evaluate": 0}, ValueError),          # used to loop forever without evaluating
    ("regularized_evolution", {"sample_size": 0}, ValueError),   # max() arg is an empty sequence
    ("bayesian_optimization", {"n_init": 0}, ValueError),        # max() arg is an empty sequence
    ("ga_imc", {"population_size": 0}, ValueError),              # IndexError
    ("ga_imc", {"population_size": "10"}, TypeError),            # '<' between int and str
    ("nas4rram", {"population_size": True}, TypeError),          # a bool is not a count
    ("bananas", {"ensemble_size": 0}, ValueError),               # used to fail only once the search began
])
def test_bad_method_setting_fails_when_made_naming_method_and_field(method: str, setting: dict, error: type) -> None:
    field_name = next(iter(setting))
    with pytest.raises(error, match=rf"search methods? .*{method}.*Config\.{field_name} must be a"):
        get_method(method)(**setting)


@pytest.mark.parametrize("method", [m for m in method_names() if fields(get_method(m).Config)])
def test_every_config_field_of_every_method_is_checked(method: str) -> None:
    """A value of no sensible type is refused for every field, and a negative one for every numeric field, so a
    new setting without a check fails here."""
    cls = get_method(method)
    for f in fields(cls.Config):
        with pytest.raises((TypeError, ValueError), match=rf"{method}.*{f.name}"):
            cls(**{f.name: object()})
        default = _default(f)
        if default is None or isinstance(default, (int, float)) and not isinstance(default, bool):
            with pytest.raises(ValueError, match=rf"{method}.*{f.name}"):
                cls(**{f.name: -1})


def test_valid_settings_pass_as_plain_numbers_and_unknown_ones_list_the_valid() -> None:
    method = get_method("regularized_evolution")(population_size=np.int64(7), sample_size=3)
    assert method.config.population_size == 7 and type(method.config.population_size) is int
    assert Objective(params_cap=1_000_000).params_cap == 1_000_000 and Budget(None, seconds=2).seconds == 2
    assert type(Objective(params_cap=np.float64(5e5)).params_cap) is float
    assert type(Budget(np.int64(7)).evaluations) is int
    with pytest.raises(TypeError, match="no setting 'populaton_size'.*population_size, sample_size"):
        get_method("regularized_evolution")(populaton_size=7)
    with pytest.raises(TypeError, match="MLPConfig.hidden must be a tuple or list"):
        MLPConfig(hidden=32)
    with pytest.raises(ValueError, match="encoding: unknown encoding 'paths'; valid: onehot, path, both"):
        get_method("bananas")(encoding="paths")


# ----- 1b. a loop that proposes nothing still stops -----------------------------------------------------------------


def _degenerate(method: str, **setting: Any) -> SearchMethod:
    """A method whose config holds a setting the checks refuse, forced in as a bypassed check would leave it."""
    cls = get_method(method)
    config = cls.Config()
    for name, value in setting.items():
        object.__setattr__(config, name, value)
    return cls(config)


@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")
@pytest.mark.parametrize(("method", "setting"), [("nacim", {"batch_size": 0}), ("gibbon", {"n_evaluate": 0})])
def test_search_that_evaluates_nothing_stops_at_the_time_budget(method: str, setting: dict,
                                                                small: TabularEvaluator) -> None:
    search = _degenerate(method, **setting)
    result = _within(20, lambda: search.run(small, budget=Budget(25, seconds=1.0, max_stale=10**9), seed=0))
    assert result.stop_reason == "time budget spent"


@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")
def test_search_that_evaluates_nothing_stops_after_max_stale_idle_rounds(small: TabularEvaluator) -> None:
    search = _degenerate("nacim", batch_size=0)
    result = _within(20, lambda: search.run(small, budget=Budget(25, max_stale=50), seed=0))
    assert result.evaluations == 0 and "idle rounds" in result.stop_reason


def test_next_round_stops_a_new_method_that_proposes_nothing(small: TabularEvaluator) -> None:
    class Idle(SearchMethod):
        """Calls ``ctx.next_round()`` as the base asks, but never proposes anything (a buggy new method)."""

        name = "audit_idle"
        citation = "test only"

        def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
            while True:
                ctx.next_round()

    try:
        result = _within(20, lambda: Idle().run(small, budget=Budget(5, seconds=0.5, max_stale=10**9), seed=0))
        assert result.stop_reason == "time budget spent" and result.final is None
    finally:
        unregister_method("audit_idle")


# ----- 2. evaluator arrays are read-only -----------------------------------------------------------------------------


def test_surrogate_predictions_are_read_only(small: TabularEvaluator) -> None:
    surrogate = SurrogateEvaluator(small.df, n_train=100, seed=0, n_estimators=10)
    before = get_method("random")().run(surrogate, budget=Budget(8), seed=0)
    with pytest.raises(ValueError, match="read-only"):
        surrogate.observed(OBJ)[:] = 0
    with pytest.raises(ValueError, match="read-only"):
        surrogate.params()[:] = 0
    after = get_method("random")().run(surrogate, budget=Budget(8), seed=0)
    assert [e.observed for e in after.trajectory] == [e.observed for e in before.trajectory]


# ----- 3. natural misuse of run ---------------------------------------------------------------------------------------


def test_run_refuses_a_benchmark_or_table_saying_how_to_make_an_evaluator(fake_bench: AnalogNASBench) -> None:
    method = get_method("random")()
    with pytest.raises(TypeError, match=r"expected an Evaluator.*AnalogNASBench.*from_bench\(bench\)"):
        method.run(fake_bench, budget=Budget(3))
    with pytest.raises(TypeError, match=r"expected an Evaluator.*DataFrame.*TabularEvaluator\(df\)"):
        method.run(fake_bench.df, budget=Budget(3))
    evaluator = from_bench(fake_bench)
    with pytest.raises(TypeError, match=r"budget must be a Budget, e\.g\. Budget\("):
        method.run(evaluator, budget=100.0)
    with pytest.raises(TypeError, match=r"budget must be a Budget"):
        method.run(evaluator, budget=True)
    with pytest.raises(TypeError, match=r"objective must be an Objective, e\.g\. Objective\("):
        method.run(evaluator, objective=3)


def test_run_takes_a_metric_name_and_an_evaluation_count(fake_bench: AnalogNASBench) -> None:
    evaluator = from_bench(fake_bench)
    short = get_method("random")().run(evaluator, objective=OBJ, budget=4, seed=1)
    full = get_method("random")().run(evaluator, objective=Objective(OBJ), budget=Budget(4), seed=1)
    assert short.objective == full.objective and short.budget == full.budget == Budget(4)
    assert [e.arch for e in short.trajectory] == [e.arch for e in full.trajectory]
    with pytest.raises(ValueError, match="valid metrics"):
        get_method("random")().run(evaluator, objective="top5", budget=4)


# ----- 4. a string where a sequence is expected -----------------------------------------------------------------------


def test_a_plain_string_is_refused_where_a_sequence_is_expected() -> None:
    with pytest.raises(TypeError, match=r"MultiObjective.terms must be a tuple or list.*the string 'analog_accuracy'"):
        MultiObjective(terms="analog_accuracy")
    with pytest.raises(TypeError, match=r"CompareConfig.methods must be a tuple or list.*the string 'random'"):
        CompareConfig(methods="random")
    with pytest.raises(TypeError, match=r"objective terms must be a tuple or list"):
        parse_objective(f"{OBJ}:max")
    with pytest.raises(TypeError, match=r"MultiObjective.reference must be a tuple or list"):
        MultiObjective(reference="12")
    assert CompareConfig(methods=["random"], seeds=1, budget=5).methods == ("random",)


# ----- 5. loose number checks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: Objective(params_cap="1e6"), TypeError, "params_cap must be a positive number or None; got str"),
    (lambda: Objective(params_cap=True), TypeError, "params_cap must be a positive number or None; got bool"),
    (lambda: Budget(evaluations=True), TypeError, "evaluations must be a positive integer or None; got bool"),
    (lambda: Budget(evaluations=2.5), TypeError, "evaluations must be a positive integer"),
    (lambda: Budget(10, seconds="5"), TypeError, "seconds must be a positive number or None; got str"),
    (lambda: Budget(10, max_stale=True), TypeError, "max_stale must be a positive integer; got bool"),
    (lambda: CompareConfig(methods=("random",), seeds="3"), TypeError, "CompareConfig.seeds must be a positive"),
    (lambda: CompareConfig(methods=("random",), budget=True), TypeError, "CompareConfig.budget must be a positive"),
])
def test_bools_and_non_numbers_are_refused_with_what_is_expected(make: Callable[[], Any], error: type,
                                                                 message: str) -> None:
    with pytest.raises(error, match=message):
        make()
