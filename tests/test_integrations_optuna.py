"""The Optuna integration: trials suggest cells, table objectives, the Optuna samplers as search methods (budget,
seeds, several objectives), the one-line error without Optuna, and the project's Pareto front, ranks and 2-D
hypervolume checked against Optuna's on random sets with duplicates and ties."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
from bench_fixture import fixture_frame, fixture_meta

from analognasbench.bench import AnalogNASBench
from analognasbench.bench.costs import cost_columns
from analognasbench.integrations import MissingExtraError
from analognasbench.integrations.optuna import EDGE_PARAMS, TableObjective, architecture_params, check_optuna
from analognasbench.search import Budget, Objective, TabularEvaluator, from_bench, get_method
from analognasbench.search.compare import CompareConfig, default_methods, unavailable_methods
from analognasbench.search.multiobjective import MultiObjective, reference_point, run_hypervolume, term_arrays
from analognasbench.search.pareto import hypervolume_2d, nondominated_ranks, pareto_mask
from analognasbench.search.synthetic import synthetic_frame
from analognasbench.space import NUM_ARCHITECTURES, from_index, parse

OPTUNA_METHODS = ("optuna_tpe", "optuna_random", "optuna_nsga2")
OBJ = "analog_drift_86400"


@pytest.fixture(scope="module")
def optuna():
    return pytest.importorskip("optuna")


@pytest.fixture(scope="module")
def fake_bench() -> AnalogNASBench:
    return AnalogNASBench.from_frame(fixture_frame(300, seed=1), fixture_meta())


@pytest.fixture(scope="module")
def dense() -> TabularEvaluator:
    """Every class measured (so every cell a candidate, as on the release), smooth landscape."""
    return TabularEvaluator(synthetic_frame(seed=5, noise_std=0.05))


# ----- trials and objectives ---------------------------------------------------------------------------------------


def test_trial_suggests_the_cell_in_project_edge_order(optuna) -> None:
    from analognasbench.integrations.optuna import suggest_architecture

    assert EDGE_PARAMS == ("edge_1_2", "edge_1_3", "edge_1_4", "edge_2_3", "edge_2_4", "edge_3_4")
    for index in (0, 1, 6930, 12345, NUM_ARCHITECTURES - 1):
        arch = from_index(index)
        params = architecture_params(arch)
        assert list(params.values()) == list(arch)
        assert suggest_architecture(optuna.trial.FixedTrial(params)) == arch
    assert architecture_params("210210") == dict(zip(EDGE_PARAMS, (2, 1, 0, 2, 1, 0)))
    # every op 0-4 is a choice of every edge, and nothing else is
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    suggest_architecture(trial)
    assert {name: d.choices for name, d in trial.distributions.items()} == {n: (0, 1, 2, 3, 4) for n in EDGE_PARAMS}


def test_table_objective_answers_measured_means_and_costs(optuna, fake_bench: AnalogNASBench) -> None:
    single = TableObjective(fake_bench, "noisy_accuracy")
    multi = TableObjective(fake_bench, ["analog_drift_86400:max", "hw_energy_uj", "baseline_drift_86400:min"],
                           chip="release_512")
    assert single.directions == ["maximize"] and single.names == ("noisy_accuracy",)
    # metrics default to max, hw_* to min, explicit directions win; release aliases resolve as in anb search
    assert multi.directions == ["maximize", "minimize", "minimize"]
    assert multi.names == ("analog_drift_86400", "hw_energy_uj", "noisy_drift_86400")
    costs = cost_columns(fake_bench.df, fake_bench.meta, "release_512")
    for i, arch_index in enumerate(fake_bench.df["arch_index"].to_numpy()[:20]):
        record = fake_bench.query(int(arch_index))
        trial = optuna.trial.FixedTrial(architecture_params(int(arch_index)))
        assert single(trial) == pytest.approx(record["noisy_accuracy"].mean)
        values = multi(optuna.trial.FixedTrial(architecture_params(int(arch_index))))
        assert values == pytest.approx((record[OBJ].mean, costs["hw_energy_uj"].iat[i], record["noisy_drift_86400"].mean))
    unmeasured = next(i for i in range(NUM_ARCHITECTURES) if from_bench(fake_bench).row_of_cells()[i] < 0)
    assert np.isnan(single.values(unmeasured)).all()
    with pytest.raises(ValueError, match="valid metrics|hardware-cost column"):
        TableObjective(fake_bench, "top5")
    with pytest.raises(ValueError, match="distinct"):
        TableObjective(fake_bench, ["noisy_accuracy", "noisy_accuracy:min"])


def test_a_users_study_finds_the_table_optimum(optuna, dense: TabularEvaluator) -> None:
    """A user's own objective (their code, the suggested cell) in an ordinary optimize loop."""
    from analognasbench.integrations.optuna import suggest_architecture

    values = dense.measured(OBJ)
    rows = dense.row_of_cells()

    def objective(trial) -> float:
        return float(values[rows[suggest_architecture(trial).index]])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=150)
    best = parse(tuple(study.best_params[n] for n in EDGE_PARAMS))
    assert study.best_value == values[rows[best.index]]
    assert study.best_value >= np.quantile(values, 0.99)  # TPE on a smooth landscape: within the top 1 %


# ----- the samplers as search methods ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OPTUNA_METHODS)
def test_same_seed_same_result_and_budget_counted_like_the_others(optuna, name: str, dense: TabularEvaluator) -> None:
    method = get_method(name)()
    first = method.run(dense, budget=Budget(40), seed=3)
    study = method.study
    again = get_method(name)().run(dense, budget=Budget(40), seed=3)
    assert [(e.arch, e.observed) for e in first.trajectory] == [(e.arch, e.observed) for e in again.trajectory]
    assert first.final == again.final
    assert [e.arch for e in get_method(name)().run(dense, budget=Budget(40), seed=4).trajectory] != \
        [e.arch for e in first.trajectory]
    # the budget counts classes, as for every method: each charged once, repeats free, and the study was told
    # every proposal (the one that hit the spent budget was asked but not told)
    assert first.evaluations == 40 and first.stop_reason == "evaluation budget spent"
    classes = [e.canonical_index for e in first.trajectory]
    assert len(set(classes)) == len(classes)
    told = [t for t in study.trials if t.state.is_finished()]
    assert len(told) == first.evaluations + first.repeats + first.unmeasured + first.infeasible
    assert len(study.trials) == len(told) + 1
    complete = [t for t in told if t.state == optuna.trial.TrialState.COMPLETE]
    observed, rows = dense.observed(OBJ), dense.row_of_cells()
    for t in complete:  # told the observed value of its cell's class
        assert t.value == observed[rows[parse(tuple(t.params[n] for n in EDGE_PARAMS)).index]]
    if method.tell_repeats:  # a repeat is told its cached value
        assert first.repeats == len(complete) - len(classes)
    else:  # duplicate elimination: every evaluated class once in the study, a repeat is a failed trial
        assert len(complete) == len(classes) and first.repeats == len(told) - len(complete) > 0


def test_tpe_beats_its_random_sampler_on_a_smooth_landscape(optuna, dense: TabularEvaluator) -> None:
    tpe = [get_method("optuna_tpe")().run(dense, budget=Budget(60), seed=s).final_value for s in range(6)]
    rnd = [get_method("optuna_random")().run(dense, budget=Budget(60), seed=s).final_value for s in range(6)]
    assert np.mean(tpe) > np.mean(rnd)


def test_non_candidates_are_free_and_told_the_worst_value(optuna, fake_bench: AnalogNASBench) -> None:
    """A sparse table (300 classes) and a parameter cap: proposals outside are free, and the study learns they are
    as bad as the worst candidate."""
    evaluator = from_bench(fake_bench)
    cap = float(np.median(evaluator.params()))
    method = get_method("optuna_random")()
    result = method.run(evaluator, Objective(OBJ, params_cap=cap), Budget(15), seed=0)
    assert result.evaluations == 15 and result.unmeasured > 0 and result.infeasible > 0
    assert all(evaluator.measurement(e.arch).params <= cap for e in result.trajectory)
    candidates = (evaluator.params() <= cap) & np.isfinite(evaluator.measured(OBJ))
    worst = evaluator.measured(OBJ)[candidates].min()
    rows = evaluator.row_of_cells()
    for t in method.study.trials[:-1]:
        arch = parse(tuple(t.params[n] for n in EDGE_PARAMS))
        if rows[arch.index] < 0 or not candidates[rows[arch.index]]:
            assert t.value == worst
    # no candidate at all: the run stops at once, as the other methods do
    nothing = get_method("optuna_tpe")().run(evaluator, Objective(OBJ, params_cap=1.0), Budget(15), seed=0)
    assert nothing.final is None and nothing.stop_reason.startswith("no candidate architecture")


@pytest.mark.parametrize("name", OPTUNA_METHODS)
def test_several_objectives_reach_the_study_and_the_front(optuna, name: str, dense: TabularEvaluator) -> None:
    evaluator = dense
    mo = MultiObjective(terms=("analog_drift_86400:max", "hw_energy_uj:min"), C=8, N=1, input_size=16)
    method = get_method(name)()
    result = method.run(evaluator, mo, Budget(30), seed=1)
    assert [d.name for d in method.study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert result.evaluations == 30
    values = term_arrays(evaluator, mo, observed=False)
    points = np.array([values[evaluator.row(e.arch)] for e in result.trajectory])
    keep = pareto_mask(points, mo.maximize)
    assert sorted(result.pareto.arch) == sorted(e.arch.short for e, k in zip(result.trajectory, keep) if k)
    assert run_hypervolume(result, reference_point(evaluator, mo)) > 0
    complete = [t for t in method.study.trials if t.state.name == "COMPLETE"]
    assert all(len(t.values) == 2 for t in complete)


def test_compare_lists_the_optuna_samplers(optuna, tmp_path) -> None:
    from analognasbench.search.compare import run_comparison, write_outputs

    assert set(OPTUNA_METHODS) <= set(default_methods())
    df = synthetic_frame(seed=2)
    comparison = run_comparison(df, CompareConfig(methods=("random", *OPTUNA_METHODS), seeds=2, budget=12))
    table = comparison.table1()
    assert list(table.method) == ["random", *OPTUNA_METHODS] and (table.seeds == 2).all()
    assert (table.evaluations_mean == 12).all()
    paths = write_outputs(comparison, tmp_path)
    assert set(OPTUNA_METHODS) <= set(comparison.anytime().method) and paths["figure"].stat().st_size > 0


# ----- without Optuna ----------------------------------------------------------------------------------------------


def test_without_optuna_the_methods_are_listed_and_fail_in_one_line(monkeypatch, tmp_path, capsys) -> None:
    """Runs with or without Optuna installed: an import of Optuna is made to fail."""
    from bench_fixture import write_fixture

    from analognasbench.cli import main

    path = write_fixture(tmp_path, n=120, seed=3)
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(MissingExtraError, match=r'pip install "analognasbench\[optuna\]"'):
        check_optuna()
    assert set(OPTUNA_METHODS) <= set(unavailable_methods())
    assert not set(OPTUNA_METHODS) & set(default_methods()) and "random" in default_methods()
    with pytest.raises(ImportError, match="optuna"):
        get_method("optuna_tpe")().run(TabularEvaluator(fixture_frame(50, seed=0)), budget=Budget(3))
    with pytest.raises(MissingExtraError, match="optuna_nsga2"):
        CompareConfig(methods=("random", "optuna_nsga2"))
    assert main(["search", "optuna_tpe", "-d", str(path), "--budget", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "analognasbench[optuna]" in err and "optuna_tpe" in err
    assert main(["compare", "-d", str(path), "--methods", "optuna_random", "--out", str(tmp_path / "c")]) == 2
    assert "analognasbench[optuna]" in capsys.readouterr().err and not (tmp_path / "c" / "table1.csv").exists()
    assert main(["compare", "-d", str(path), "--methods", "random", "--seeds", "1", "--budget", "4",
                 "--out", str(tmp_path / "c")]) == 0
    assert "optuna" not in capsys.readouterr().err  # a method the user did not ask for is not mentioned
    assert main(["compare", "-d", str(path), "--seeds", "1", "--budget", "4", "--out", str(tmp_path / "d")]) == 0
    captured = capsys.readouterr()
    assert "note: optuna_tpe left out" in captured.err and "optuna_tpe" not in captured.out


# ----- Pareto front, ranks and hypervolume against Optuna ----------------------------------------------------------


def _random_sets(k: int):
    """Random point sets with many ties and duplicates (few distinct values per objective), mixed directions."""
    rng = np.random.default_rng(k)
    for trial in range(60):
        n = int(rng.integers(1, 80))
        levels = int(rng.integers(2, 12))
        points = rng.integers(0, levels, size=(n, k)).astype(np.float64)
        if trial % 3 == 0:
            points = np.concatenate([points, points[: n // 2]])  # exact duplicates
        if trial % 4 == 1:
            points += rng.normal(size=points.shape)  # continuous values, no ties
        yield points, tuple(bool(b) for b in rng.integers(0, 2, size=k))


@pytest.mark.parametrize("k", [2, 3])
def test_pareto_front_and_ranks_equal_optunas(optuna, k: int) -> None:
    from optuna.study._multi_objective import _fast_non_domination_rank, _is_pareto_front

    for points, maximize in _random_sets(k):
        loss = points * np.where(maximize, -1.0, 1.0)  # Optuna minimises
        assert np.array_equal(pareto_mask(points, maximize), _is_pareto_front(loss, assume_unique_lexsorted=False))
        assert np.array_equal(nondominated_ranks(points, maximize), _fast_non_domination_rank(loss))


def test_hypervolume_2d_equals_optunas(optuna) -> None:
    from optuna._hypervolume import compute_hypervolume

    for points, maximize in _random_sets(2):
        loss = points * np.where(maximize, -1.0, 1.0)
        rng = np.random.default_rng(len(points))
        # the reference: a random point, so some points lie beyond it or on it (they add nothing)
        ref_loss = np.quantile(loss, rng.uniform(0.3, 1.0), axis=0) + rng.choice([0.0, 0.5])
        inside = (loss <= ref_loss).all(axis=1)
        expected = compute_hypervolume(loss[inside], ref_loss) if inside.any() else 0.0
        reference = ref_loss * np.where(maximize, -1.0, 1.0)
        assert hypervolume_2d(points, reference, maximize) == pytest.approx(expected, rel=1e-12, abs=1e-12)


# ----- the README's example ----------------------------------------------------------------------------------------


def test_readme_optuna_example_runs_as_written(optuna, capsys) -> None:
    from analognasbench.bench import DatasetNotFoundError

    try:
        bench = AnalogNASBench()
    except DatasetNotFoundError as exc:
        pytest.skip(f"no embedded dataset: {exc}")
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "suggest_architecture" in b]
    assert len(blocks) == 1, "the README's Optuna example is the one python block using suggest_architecture"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md (Optuna example)", "exec"), namespace)
    best, study, study2 = namespace["best"], namespace["study"], namespace["study2"]
    assert len(study.trials) == 100 and study.best_value == bench.query(best).mean(OBJ)
    assert study.best_value >= np.quantile(bench.df[OBJ], 0.99)
    front = np.array([t.values for t in study2.best_trials])
    assert front.shape[1] == 2 and np.array_equal(pareto_mask(front, (True, False)), np.ones(len(front), bool))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{best.short} {study.best_value}" and out[1].endswith("trials on the Pareto front")
