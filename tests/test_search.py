"""Search methods: interface, budget accounting, determinism, and finding known optima on synthetic landscapes."""

from __future__ import annotations

import numpy as np
import pytest
from bench_fixture import fixture_frame, fixture_meta

from analognasbench.bench import AnalogNASBench
from analognasbench.search import (
    Budget,
    Objective,
    SearchMethod,
    SurrogateEvaluator,
    TabularEvaluator,
    UnmeasuredArchitecture,
    from_bench,
    get_method,
    method_names,
    unregister_method,
)
from analognasbench.search.compare import PAPER_ORDER, unavailable_methods
from analognasbench.search.optuna_base import OptunaSearch
from analognasbench.search.synthetic import synthetic_frame
from analognasbench.space import (
    Architecture,
    canonical_index,
    class_sizes,
    from_index,
    is_isomorphic,
    representatives,
)

NAMES = method_names()
#: Every registered method; one whose optional library is missing (Optuna) is skipped, saying which extra it needs.
_MISSING = unavailable_methods()
METHODS = [pytest.param(n, marks=pytest.mark.skipif(n in _MISSING, reason=_MISSING.get(n, ""))) for n in NAMES]
#: The Optuna samplers propose over the raw space: on the 729 cells of ``small`` (4.7 % of the space) almost every
#: proposal is a free non-candidate and TPE needs minutes; test_integrations_optuna.py checks them on a dense
#: table instead.
OPTIMUM_METHODS = [p for p in METHODS if not issubclass(get_method(p.values[0]), OptunaSearch)]
OBJ = "analog_drift_86400"


@pytest.fixture(scope="module")
def smooth_full() -> TabularEvaluator:
    return TabularEvaluator(synthetic_frame(seed=5, noise_std=0.05))


@pytest.fixture(scope="module")
def fake_bench() -> AnalogNASBench:
    """A schema-conformant fake benchmark behind the real query API (300 random classes)."""
    return AnalogNASBench.from_frame(fixture_frame(300, seed=1), fixture_meta())


def test_every_paper_method_is_registered() -> None:
    assert set(PAPER_ORDER) <= set(NAMES)
    for name in NAMES:
        cls = get_method(name)
        assert cls.citation and cls.__doc__ and len(cls.__doc__) > 200, f"{name} needs a documented citation"


@pytest.mark.parametrize("name", METHODS)
def test_method_runs_a_few_steps_on_fake_benchmark(name: str, fake_bench: AnalogNASBench) -> None:
    evaluator = from_bench(fake_bench)
    result = get_method(name)().run(evaluator, budget=Budget(12), seed=1)
    assert 1 <= result.evaluations <= 12
    steps = [e.step for e in result.trajectory]
    assert steps == list(range(1, result.evaluations + 1))
    classes = [e.canonical_index for e in result.trajectory]
    assert len(set(classes)) == len(classes), "a class was charged twice"
    measured = set(evaluator.measured_classes.tolist())
    assert all(c in measured and canonical_index(e.arch) == c for c, e in zip(classes, result.trajectory))
    # the final architecture is reported with the benchmark's own measured values
    record = fake_bench.query(result.final.arch)
    assert result.final[OBJ] == pytest.approx(record[OBJ].mean)
    assert result.final.params == pytest.approx(record.params)


@pytest.mark.parametrize("name", OPTIMUM_METHODS)
def test_method_finds_known_optimum_with_generous_budget(name: str, small: TabularEvaluator) -> None:
    best_class, best = small.optimum(OBJ)
    overrides = {"avm_weight": 0.0} if name == "analognas" else {}  # pure-objective fitness for this check
    result = get_method(name)(**overrides).run(small, budget=Budget(250), seed=0)
    assert result.final.canonical_index == best_class
    assert result.final_value == pytest.approx(best)


@pytest.mark.parametrize("name", METHODS)
def test_same_seed_same_trajectory(name: str, smooth_full: TabularEvaluator) -> None:
    def run(seed: int) -> list[tuple[Architecture, float]]:
        return [(e.arch, e.observed) for e in get_method(name)().run(smooth_full, budget=Budget(25), seed=seed).trajectory]

    first = run(7)
    assert first == run(7)
    if name != "exhaustive":
        assert first != run(8)


def test_random_search_does_not_beat_evolution_on_smooth_landscape(smooth_full: TabularEvaluator) -> None:
    seeds = range(10)
    rs = [get_method("random")().run(smooth_full, budget=Budget(100), seed=s).final_value for s in seeds]
    re = [get_method("regularized_evolution")().run(smooth_full, budget=Budget(100), seed=s).final_value for s in seeds]
    assert np.mean(re) >= np.mean(rs)


def test_random_and_evolution_are_fast(smooth_full: TabularEvaluator) -> None:
    for name in ("random", "regularized_evolution"):
        result = get_method(name)().run(smooth_full, budget=Budget(1000), seed=0)
        assert result.evaluations == 1000
        assert result.wall_time_s < 1.0, f"{name}: {result.wall_time_s:.2f} s for 1,000 evaluations"


class _Scripted(SearchMethod):
    """Test method: proposes a fixed list of architectures (shows that a method is one small class)."""

    name = "scripted-test"
    citation = "none (test helper)"
    script: list = []

    def _search(self, ctx, rng):
        self.outcomes = [ctx.evaluate(a) for a in self.script]


@pytest.fixture
def scripted():
    yield _Scripted
    # keep the registry as the package defines it for the other tests
    if "scripted-test" in method_names():
        unregister_method("scripted-test")


def test_repeats_isomorphs_and_unmeasured_are_free(scripted, small: TabularEvaluator) -> None:
    sizes = class_sizes()
    measured = next(int(c) for c in small.measured_classes if sizes[int(c)] > 1)
    rep = from_index(measured)
    twin = next(from_index(i) for i in range(15625) if i != measured and is_isomorphic(i, measured))
    unmeasured = next(from_index(i) for i in representatives() if i not in set(small.measured_classes.tolist()))
    scripted.script = [rep, twin, rep, unmeasured, from_index(int(small.measured_classes[1]))]
    method = scripted()
    result = method.run(small, budget=Budget(10), seed=0)
    assert result.evaluations == 2  # rep and the second class; the twin and the repeat are cached
    assert result.repeats == 2 and result.unmeasured == 1
    assert method.outcomes[0] == method.outcomes[1] == method.outcomes[2]
    assert method.outcomes[3] is None
    with pytest.raises(UnmeasuredArchitecture, match="no measurement"):
        small.measurement(unmeasured)


def test_budget_stops_method_and_params_cap_is_respected(small: TabularEvaluator) -> None:
    cap = float(np.median(small.params()))
    result = get_method("regularized_evolution")().run(small, Objective(OBJ, params_cap=cap), Budget(40), seed=2)
    assert result.evaluations == 40 and result.stop_reason == "evaluation budget spent"
    assert all(small.measurement(e.arch).params <= cap for e in result.trajectory)
    assert result.final.params <= cap


def test_time_budget(smooth_full: TabularEvaluator) -> None:
    result = get_method("bananas")().run(smooth_full, budget=Budget(evaluations=None, seconds=0.3), seed=0)
    assert result.stop_reason == "time budget spent"
    assert result.trajectory[-1].time_s <= 0.3 + 0.5


def test_surrogate_evaluator_reports_measured_values(smooth_full: TabularEvaluator) -> None:
    surrogate = SurrogateEvaluator(smooth_full.df, n_train=900, seed=0, n_estimators=60)
    assert len(surrogate.train_rows) == 900
    pred, truth = surrogate.observed(OBJ), smooth_full.measured(OBJ)
    assert np.corrcoef(pred, truth)[0, 1] > 0.9
    assert not np.allclose(pred, truth)
    result = get_method("random")().run(surrogate, budget=Budget(30), seed=0)
    assert result.evaluator == "surrogate"
    assert result.final[OBJ] == pytest.approx(smooth_full.measurement(result.final.arch)[OBJ])
    assert any(e.observed != e.measured for e in result.trajectory)


def test_bench_adapter_resolves_isomorphs(fake_bench: AnalogNASBench) -> None:
    evaluator = from_bench(fake_bench)
    sizes = class_sizes()
    measured = next(int(c) for c in evaluator.measured_classes if sizes[int(c)] > 1)
    twin = next(i for i in range(15625) if i != measured and is_isomorphic(i, measured))
    assert evaluator.measurement(twin).values == evaluator.measurement(measured).values
    with pytest.raises(ValueError, match="pandas DataFrame"):
        from_bench(object())


def test_bad_input_is_rejected_with_the_valid_choices(small: TabularEvaluator) -> None:
    with pytest.raises(ValueError, match="valid methods: .*random"):
        get_method("simulated_annealing")
    with pytest.raises(ValueError, match="valid metrics"):
        Objective("top5")
    with pytest.raises(ValueError, match="positive integer"):
        Budget(0)
    with pytest.raises(ValueError, match="evaluations and/or seconds"):
        Budget(None, None)
    with pytest.raises(ValueError, match="seed"):
        get_method("random")().run(small, seed=-1)
    with pytest.raises(ValueError, match="valid metrics|no column"):
        TabularEvaluator(small.df.drop(columns=[OBJ])).measured("analog_drift_86400")


def test_base_class_is_enforced() -> None:
    with pytest.raises(TypeError, match="must not override"):
        type("Bad", (SearchMethod,), {"name": "bad", "citation": "x", "_search": lambda self, ctx, rng: None,
                                      "run": lambda self: None})
    with pytest.raises(TypeError, match="citation"):
        type("NoCite", (SearchMethod,), {"name": "nocite", "_search": lambda self, ctx, rng: None})
    with pytest.raises(TypeError, match="signature"):
        type("BadSig", (SearchMethod,), {"name": "badsig", "citation": "x", "_search": lambda self, ctx: None})
    with pytest.raises(TypeError, match="abstract"):
        type("Abstract", (SearchMethod,), {})()
    assert "bad" not in method_names() and "nocite" not in method_names()
