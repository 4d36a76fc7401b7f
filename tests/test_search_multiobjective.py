"""Multi-objective search: Pareto fronts and 2-D hypervolume on small known sets, objective parsing, and every
multi-objective-aware method (random, regularized evolution, BO/ParEGO) on the fake benchmark."""

from __future__ import annotations

import numpy as np
import pytest
from bench_fixture import fixture_frame

from analognasbench import hardware
from analognasbench.search import Budget, Objective, TabularEvaluator, get_method
from analognasbench.search.compare import CompareConfig, run_comparison, write_outputs
from analognasbench.search.multiobjective import (
    MultiObjective,
    MultiObjectiveContext,
    ObjectiveTerm,
    exhaustive_front,
    exhaustive_hypervolume,
    parse_objective,
    reference_point,
    run_hypervolume,
    term_arrays,
)
from analognasbench.search.pareto import hypervolume_2d, nondominated_ranks, pareto_mask
from analognasbench.space import parse

MO_METHODS = ("random", "regularized_evolution", "bayesian_optimization")


# ----- Pareto front and hypervolume on known sets ------------------------------------------------------------------


def test_pareto_mask_on_a_known_set() -> None:
    # maximise the first, minimise the second
    points = [[90, 50], [85, 20], [80, 20], [90, 60], [70, 5], [85, 20], [60, 30], [np.nan, 1]]
    mask = pareto_mask(points, (True, False))
    # (90,50) front; (85,20) and its duplicate front; (80,20) dominated by (85,20); (90,60) dominated by (90,50);
    # (70,5) front; (60,30) dominated; NaN never on the front
    assert mask.tolist() == [True, True, False, False, True, True, False, False]


def test_pareto_mask_in_three_dimensions_and_ranks() -> None:
    pts = np.array([[1, 1, 1], [2, 0, 0], [0, 2, 0], [1, 1, 0], [0, 0, 0]])
    assert pareto_mask(pts, (True, True, True)).tolist() == [True, True, True, False, False]
    assert nondominated_ranks(pts, (True, True, True)).tolist() == [0, 0, 0, 1, 2]


def test_two_objective_mask_equals_brute_force_on_random_sets() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        pts = rng.integers(0, 6, size=(30, 2)).astype(float)  # many ties
        brute = [not any((q >= p).all() and (q > p).any() for q in pts) for p in pts]
        assert pareto_mask(pts, (True, True)).tolist() == brute


def test_hypervolume_on_known_sets() -> None:
    assert hypervolume_2d([[1, 1]], (0, 0), (True, True)) == 1.0
    # staircase of (2,1) and (1,2) over (0,0): 2*1 + 1*1
    assert hypervolume_2d([[2, 1], [1, 2]], (0, 0), (True, True)) == 3.0
    # dominated and out-of-box points add nothing
    assert hypervolume_2d([[2, 1], [1, 2], [1, 1], [-1, 5]], (0, 0), (True, True)) == 3.0
    # maximise accuracy, minimise energy: (90, 10) and (80, 5) against (70, 20): 20*10 + 10*5
    assert hypervolume_2d([[90, 10], [80, 5]], (70, 20), (True, False)) == 250.0
    assert hypervolume_2d(np.empty((0, 2)), (0, 0), (True, True)) == 0.0
    with pytest.raises(ValueError, match="exactly two objectives"):
        hypervolume_2d([[1, 1, 1]], (0, 0, 0), (True, True, True))


# ----- objectives --------------------------------------------------------------------------------------------------


def test_objective_terms_parse_and_reject_unknown_names() -> None:
    assert ObjectiveTerm.parse("hw_energy_uj").direction.value == "min"
    assert ObjectiveTerm.parse("analog_drift_86400").direction.value == "max"
    assert str(ObjectiveTerm.parse("hw_latency_us:max")) == "hw_latency_us:max"
    with pytest.raises(ValueError, match="unknown objective 'accuracy'.*hw_energy_uj"):
        ObjectiveTerm.parse("accuracy")
    with pytest.raises(ValueError, match="objective direction"):
        ObjectiveTerm.parse("hw_energy_uj:down")
    with pytest.raises(ValueError, match="at least two terms"):
        MultiObjective(terms=("analog_drift_86400",))
    with pytest.raises(ValueError, match="must be maximised"):
        MultiObjective(terms=("analog_drift_86400:min", "hw_energy_uj"))
    with pytest.raises(ValueError, match="valid chip presets"):
        MultiObjective(chip="tpu")
    mo = parse_objective(["hw_energy_uj", "noisy_accuracy"], network={"C": 8, "N": 1, "input_size": 16,
                                                                       "num_classes": 10})
    assert isinstance(mo, MultiObjective) and mo.metric.value == "noisy_accuracy" and mo.C == 8
    assert type(parse_objective(None)) is Objective


@pytest.fixture(scope="module")
def evaluator() -> TabularEvaluator:
    return TabularEvaluator(fixture_frame(300, seed=1))


def test_cost_terms_come_from_the_cost_model(evaluator: TabularEvaluator) -> None:
    mo = MultiObjective(C=8, N=1, input_size=16, chip="release_512")
    values = term_arrays(evaluator, mo, observed=True)
    table = hardware.cost_table(evaluator.df.arch_index.to_numpy(), "release_512", C=8, N=1, input_size=16)
    assert np.array_equal(values[:, 1], table.hw_energy_uj.to_numpy())
    assert np.array_equal(values[:, 0], evaluator.measured("analog_drift_86400"))


# ----- methods -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MO_METHODS)
def test_multiobjective_methods_return_a_pareto_front(name: str, evaluator: TabularEvaluator) -> None:
    mo = MultiObjective()
    result = get_method(name)().run(evaluator, mo, Budget(25), seed=2)
    assert result.evaluations == 25
    front = result.pareto
    assert front is not None and len(front) >= 1
    evaluated = {e.arch.short for e in result.trajectory}
    assert set(front.arch) <= evaluated
    # the front is exactly the non-dominated subset of what was evaluated, by reported values
    values = term_arrays(evaluator, mo, observed=False)
    pts = np.array([values[evaluator.row(parse(e.arch))] for e in result.trajectory])
    keep = pareto_mask(pts, mo.maximize)
    assert sorted(front.arch) == sorted(e.arch.short for e, k in zip(result.trajectory, keep) if k)
    ref = reference_point(evaluator, mo)
    hv = run_hypervolume(result, ref)
    assert 0 < hv <= exhaustive_hypervolume(evaluator, mo, ref) + 1e-9


def test_single_objective_runs_have_no_front(evaluator: TabularEvaluator) -> None:
    result = get_method("random")().run(evaluator, budget=Budget(5), seed=0)
    assert result.pareto is None and np.isnan(run_hypervolume(result, (0.0, 0.0)))


def test_evolution_tournament_prefers_the_best_rank(evaluator: TabularEvaluator) -> None:
    from analognasbench.search.base import SearchContext

    mo = MultiObjective()
    ctx = mo.make_context(evaluator, Budget(10), np.random.default_rng(0))
    assert isinstance(ctx, MultiObjectiveContext) and isinstance(ctx, SearchContext)
    archs = [ctx.sample(np.random.default_rng(i)) for i in range(6)]
    for a in archs:
        ctx.evaluate(a)
    points = np.stack([ctx.vector(a) for a in archs])
    ranks = nondominated_ranks(points, mo.maximize)
    for seed in range(20):
        winner = ctx.best_of(archs, np.random.default_rng(seed))
        assert ranks[archs.index(winner)] == 0
    scal = ctx.parego_values([a.index for a in archs], np.random.default_rng(0))
    assert scal.shape == (6,) and (scal >= 0).all() and (scal <= 1.05 + 1e-12).all()
    # a dominated point never gets a larger scalarisation than the point that dominates it
    for i, j in np.ndindex(6, 6):
        signed = points * np.array([1, -1])
        if (signed[i] >= signed[j]).all() and (signed[i] > signed[j]).any():
            assert scal[i] >= scal[j]


def test_compare_reports_hypervolume_for_multiobjective_runs(evaluator: TabularEvaluator, tmp_path) -> None:
    mo = MultiObjective()
    config = CompareConfig(methods=MO_METHODS, seeds=2, budget=15, objective=mo)
    comparison = run_comparison(evaluator.df, config)
    table = comparison.table1()
    assert {"hypervolume_mean", "hv_ratio_mean", "hv_ratio_std"} <= set(table.columns)
    assert ((table.hv_ratio_mean > 0) & (table.hv_ratio_mean <= 1 + 1e-9)).all()
    assert "HV ratio" in comparison.table1(formatted=True).columns
    paths = write_outputs(comparison, tmp_path)
    assert paths["fronts"].is_file()
    front = exhaustive_front(evaluator, mo)
    assert comparison.hv_optimum == pytest.approx(
        hypervolume_2d(front[list(mo.names)].to_numpy(), comparison.hv_reference, mo.maximize))


def test_cli_search_and_compare_take_several_objectives(tmp_path, capsys) -> None:
    import json

    from bench_fixture import write_fixture

    from analognasbench.cli import main

    path = write_fixture(tmp_path, n=120, seed=3)
    assert main(["search", "regularized_evolution", "-d", str(path), "--objectives", "analog_drift_86400:max",
                 "hw_energy_uj:min", "--budget", "12", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["objectives"] == ["analog_drift_86400:max", "hw_energy_uj:min"] and doc["pareto"]
    out = tmp_path / "cmp"
    assert main(["compare", "-d", str(path), "--methods", "random", "--seeds", "2", "--budget", "8",
                 "--objectives", "analog_drift_86400", "hw_latency_us", "--out", str(out)]) == 0
    assert "hypervolume of the exhaustive front" in capsys.readouterr().out
    assert (out / "fronts.csv").is_file()
    assert main(["search", "random", "-d", str(path), "--objectives", "hw_bogus"]) == 2
