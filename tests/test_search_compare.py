"""The comparison harness: Table 1 layout, anytime curves, regret, figure, and the anb search/compare commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bench_fixture import write_fixture

from analognasbench.bench import AnalogNASBench, DatasetNotFoundError
from analognasbench.cli import main
from analognasbench.search.compare import (
    PAPER_ORDER,
    CompareConfig,
    anytime_curves,
    plot_anytime,
    run_comparison,
    table1,
    write_outputs,
)
from analognasbench.search.synthetic import synthetic_frame

OBJ = "analog_drift_86400"


@pytest.fixture(scope="module")
def comparison():
    df = synthetic_frame(n_classes=1500, seed=2, rugged=0.3)
    return run_comparison(df, CompareConfig(seeds=2, budget=20))


def test_table1_layout(comparison) -> None:
    t = comparison.table1()
    assert list(t["method"]) == list(comparison.config.methods)  # the paper's in Table 1 order, then the project's
    assert list(t["method"])[: len(PAPER_ORDER)] == list(PAPER_ORDER)
    for q in ("baseline_accuracy", "noisy_accuracy", OBJ, "avm", "params_k", "search_time_s", "regret"):
        assert {f"{q}_mean", f"{q}_std"} <= set(t.columns)
    assert (t["seeds"] == 2).all()
    ex = t.set_index("method").loc["exhaustive"]
    assert ex["regret_mean"] == pytest.approx(0.0) and ex[f"{OBJ}_mean"] == pytest.approx(comparison.optimum)
    assert (t["regret_mean"] >= -1e-9).all()
    # AVM is the measured 60 s -> 30 days drop of the returned architecture
    run = next(r for r in comparison.results if r.method == "random")
    assert run.final.avm(OBJ) == pytest.approx(run.final["analog_drift_60"] - run.final["analog_drift_2592000"])
    shown = comparison.table1(formatted=True)
    assert list(shown.columns) == ["Method", "Evaluator", "Baseline (%)", "Noisy (%)", "1-day (%)", "AVM (%)",
                                   "Params (K)", "Search time (s)", "Regret (%)"]
    assert all(" ± " in v for v in shown["1-day (%)"])


def test_anytime_curves_and_figure(comparison, tmp_path: Path) -> None:
    curves = comparison.anytime()
    assert "exhaustive" not in set(curves["method"])
    assert len(curves) == (len(comparison.config.methods) - 1) * 20
    for method, c in curves.groupby("method"):
        if method in ("nas4rram", "nacim"):  # incumbent chosen on noisy observations: measured value may dip
            continue
        assert np.all(np.diff(c["mean"].to_numpy()) >= -1e-9), method
    assert np.allclose(curves["regret"], comparison.optimum - curves["mean"])
    fig = plot_anytime(curves, comparison.optimum, OBJ, path=tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000
    assert len(fig.axes[0].get_lines()) == len(comparison.config.methods)  # all but exhaustive, and the optimum
    paths = write_outputs(comparison, tmp_path / "out")
    assert all(p.exists() for p in paths.values())
    assert len(pd.read_csv(paths["runs"])) == len(comparison.config.methods) * 2


def test_table1_from_results_directly(comparison) -> None:
    t = table1(comparison.results)
    assert "regret_mean" not in t.columns
    with pytest.raises(ValueError, match="no results"):
        table1([])
    with pytest.raises(ValueError, match="valid methods"):
        CompareConfig(methods=("random", "hill_climbing"))
    assert anytime_curves(comparison.results, 5)["evaluations"].max() == 5


def test_paper_evaluator_mode_uses_surrogate_for_the_papers_methods() -> None:
    df = synthetic_frame(n_classes=1200, seed=4)
    cmp = run_comparison(df, CompareConfig(methods=("random", "bananas"), seeds=1, budget=12, evaluator="paper",
                                           surrogate_samples=300))
    kinds = {r.method: r.evaluator for r in cmp.results}
    assert kinds == {"random": "surrogate", "bananas": "tabular"}


def test_table1_on_embedded_dataset(tmp_path: Path) -> None:
    try:
        bench = AnalogNASBench()
    except DatasetNotFoundError as exc:
        pytest.skip(f"no embedded dataset shipped yet: {exc}")
    cmp = run_comparison(bench.df, CompareConfig(seeds=2, budget=20))
    t = cmp.table1()
    assert list(t["method"])[: len(PAPER_ORDER)] == list(PAPER_ORDER) and t["regret_mean"].min() >= -1e-9


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_fixture(tmp_path_factory.mktemp("ds"), n=400, seed=3)


def test_anb_search_prints_measured_best(dataset: Path, capsys) -> None:
    assert main(["search", "regularized_evolution", "--dataset", str(dataset), "--budget", "15", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    bench = AnalogNASBench(dataset)
    assert out["evaluations"] == 15
    assert out["measured"][OBJ] == pytest.approx(bench.query(tuple(out["arch"]))[OBJ].mean)
    assert main(["search", "random", "--dataset", str(dataset), "--budget", "5"]) == 0
    assert "analog_drift_86400" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["search", "hill_climbing", "--dataset", str(dataset)])


def test_anb_compare_writes_table_and_figure(dataset: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cmp"
    code = main(["compare", "--methods", "random", "regularized_evolution", "--seeds", "2", "--budget", "10",
                 "--dataset", str(dataset), "--out", str(out)])
    assert code == 0
    assert "regularized_evolution" in capsys.readouterr().out
    t = pd.read_csv(out / "table1.csv")
    assert list(t["method"]) == ["random", "regularized_evolution"]
    assert (out / "anytime.png").exists() and (out / "table1.md").read_text().count("±") >= 12
