"""The evaluation and surrogate pipeline on synthetic data with planted structure, and ``anb predict``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analognasbench.bench.registry import DATASETS_DIR
from analognasbench.cli import main
from analognasbench.predict.curves import curve_summary, learning_curves, lowcost_bar
from analognasbench.predict.evaluate import agreement, proxy_table, top_overlap
from analognasbench.predict.features import cell_graph
from analognasbench.predict.study import StudyConfig, load_study, run_study
from analognasbench.predict.surrogates import ModelSpec
from analognasbench.predict.targets import class_targets
from analognasbench.space import canonical_index, from_index, representatives
from tests.synthetic_bench import synthetic_dataset


@pytest.fixture(scope="module")
def release() -> pd.DataFrame:
    return synthetic_dataset(n=1500, seed=0)


@pytest.fixture(scope="module")
def targets(release) -> pd.DataFrame:
    return class_targets(release)


@pytest.fixture(scope="module")
def proxies(targets) -> pd.DataFrame:
    """A proxy that is the noisy-accuracy label plus noise (a perfect-ish proxy), one that is pure noise."""
    rng = np.random.default_rng(0)
    return pd.DataFrame({"zc_nwot": targets.noisy_accuracy + rng.normal(0, 2.0, len(targets)),
                         "zc_snip": rng.normal(size=len(targets))}, index=targets.index)


def test_targets_are_class_means_with_the_documented_differences():
    a, b = 6930, [i for i in range(15625) if canonical_index(i) == canonical_index(6930) and i != 6930]
    if not b:
        pytest.skip("class of 6930 has one member")
    df = pd.DataFrame({"canonical_index": [canonical_index(a)] * 2, "baseline_accuracy": [90.0, 92.0],
                       "noisy_accuracy": [50.0, 60.0], "analog_accuracy": [80.0, 84.0]})
    t = class_targets(df)
    assert t.loc[canonical_index(a), "noisy_accuracy"] == 55.0
    assert t.loc[canonical_index(a), "noisy_drop"] == 91.0 - 55.0
    assert t.loc[canonical_index(a), "hwt_recovery"] == 82.0 - 55.0


def test_agreement_statistics_on_known_orders():
    x = np.arange(100.0)
    assert agreement(x, x) == pytest.approx({"spearman": 1.0, "kendall": 1.0, "top10": 1.0, "n": 100})
    rev = agreement(-x, x)
    assert rev["kendall"] == -1.0 and rev["top10"] == 0.0
    assert agreement(-x, x, sign=-1)["top10"] == 1.0
    assert top_overlap(np.r_[np.arange(95.0), -1, -2, -3, -4, -5], np.arange(100.0)) == 0.5  # 5 of the top 10
    assert np.isnan(agreement(np.ones(10), x[:10])["kendall"])


def test_proxy_table_finds_the_planted_proxy(targets, proxies):
    table = proxy_table(proxies, targets, target_names=["noisy_accuracy"], subsets=["all"])
    by = table.set_index("proxy")
    assert by.loc["nwot", "kendall"] > 0.7 and abs(by.loc["snip", "kendall"]) < 0.1


def test_cell_graph_drops_none_edges_and_follows_the_data_flow():
    x, adj = cell_graph(from_index(0).index)  # all skip_connect
    # input -> the 3 edges leaving node 1; the 3 edges into node 4 -> output; 4 edge-to-edge links through nodes 2, 3
    assert x.sum() == 8 and adj.sum() == 3 + 3 + 4
    x, adj = cell_graph(int(np.argmax([sum(op == 1 for op in from_index(i)) == 6 for i in range(15625)])))
    assert x[2:].sum() == 0 and adj.sum() == 0


def test_surrogates_learn_planted_structure_and_are_seeded(targets):
    curves = learning_curves(targets, None, ["ridge:onehot", "xgb:onehot", "gnn:graph"],
                             target_names=["noisy_accuracy"], label_counts=[20, 200], seeds=[0], subset="all")
    s = curve_summary(curves).set_index(["model", "labels"])["mean"]
    assert s[("ridge:onehot", 200)] > 0.5 and s[("xgb:onehot", 200)] > 0.4 and s[("gnn:graph", 200)] > 0.4
    assert s[("ridge:onehot", 200)] > s[("ridge:onehot", 20)]
    again = learning_curves(targets, None, ["xgb:onehot", "gnn:graph"], target_names=["noisy_accuracy"],
                            label_counts=[20], seeds=[0], subset="all")
    assert np.allclose(again.kendall, curves[curves.labels == 20].set_index("model").loc[
        ["xgb:onehot", "gnn:graph"], "kendall"])


def test_proxies_as_features_help_at_few_labels(targets, proxies):
    curves = learning_curves(targets, proxies, ["ridge:onehot", "ridge:onehot+zc", "best:zc"],
                             target_names=["noisy_accuracy"], label_counts=[20], seeds=[0, 1], subset="all")
    s = curves.groupby("model").kendall.mean()
    assert s["ridge:onehot+zc"] > s["ridge:onehot"] + 0.1
    direct = proxy_table(proxies, targets, target_names=["noisy_accuracy"], subsets=["all"]).set_index("proxy")
    assert s["best:zc"] == pytest.approx(direct.loc["nwot", "kendall"], abs=0.02)  # picks the planted proxy
    assert set(curves["pool"]) == {"all-classes"}  # the table covers every class: the pool stays whole
    part = learning_curves(targets, proxies.iloc[:400], ["ridge:onehot"], target_names=["noisy_accuracy"],
                           label_counts=[20], seeds=[0], subset="all", restrict_to_proxies=True)
    assert set(part["pool"]) == {"proxy-classes"} and (part.n_test == 380).all()


def test_model_specs_parse_and_reject():
    assert ModelSpec.parse("xgb:onehot+zc").uses_proxies and ModelSpec.parse("gnn").feature_set == "graph"
    with pytest.raises(ValueError, match="valid: ridge, xgb, gnn"):
        ModelSpec.parse("svm:onehot")
    with pytest.raises(ValueError, match="feature set"):
        ModelSpec.parse("ridge:adjacency")


def test_study_writes_every_table_and_the_report_section(tmp_path, release, proxies):
    from analognasbench.report.predict import predict_section, write_study_report

    lowcost = release.sample(300, random_state=0)
    config = StudyConfig(models=("ridge:onehot", "ridge:onehot+zc"), label_counts=(20, 100), seeds=(0,),
                         curve_targets=("noisy_accuracy",), curve_subsets=("all",))
    full = proxies.iloc[:200].assign(zc_nwot=lambda d: -d.zc_nwot)  # other settings: nwot ranks the other way
    result = run_study(release, proxies.reset_index().rename(columns={"index": "canonical_index"}), tmp_path,
                       lowcost=lowcost, config=config, full_network_proxies=full, proxy_settings="tiny test net")
    settings = result.tables["settings_agreement"].set_index("proxy")
    assert settings.loc["nwot", "n"] == 200 and settings.loc["nwot", "spearman_small_vs_full"] == pytest.approx(-1)
    assert settings.loc["snip", "spearman_small_vs_full"] == pytest.approx(1)
    assert settings.loc["nwot", "tau_noisy_accuracy_small"] == pytest.approx(
        -settings.loc["nwot", "tau_noisy_accuracy_full"]) and settings.loc["nwot", "tau_noisy_accuracy_small"] > 0.5
    for name in ("proxy_agreement", "best_proxies", "zero_label", "curves", "lowcost_bar", "overtakes", "goals",
                 "settings_agreement"):
        assert (tmp_path / f"{name}.csv").is_file(), name
    loaded = load_study(tmp_path)
    assert set(loaded.tables) >= set(result.tables)
    sec = predict_section(loaded)
    assert sec.findings and "predict_proxies_all" in sec.tables and "tiny test net" in sec.intro
    assert any(f.startswith("Smaller network: on 200 classes") for f in sec.findings)
    md = write_study_report(loaded)
    assert md.is_file() and (tmp_path / "figures" / "predict_curves_all-classes_all.png").is_file()
    bar = lowcost_bar(class_targets(release), class_targets(lowcost), ["noisy_accuracy"], ["all"])
    assert bar[bar.lowcost_column == "noisy_accuracy"].kendall.tolist() == [1.0]  # the same numbers agree perfectly


def test_anb_predict_on_the_synthetic_smoke_dataset(capsys):
    smoke = DATASETS_DIR / "synthetic-smoke.parquet"
    code = main(["predict", "--release", str(smoke), "--metric", "noisy_accuracy", "--labels", "20",
                 "--model", "ridge:onehot", "--subset", "all", "--lowcost", str(smoke)])
    out = capsys.readouterr().out
    assert code == 0 and "Kendall tau" in out and "bar:" in out


def test_anb_predict_rejects_an_unknown_target(capsys):
    smoke = DATASETS_DIR / "synthetic-smoke.parquet"
    assert main(["predict", "--release", str(smoke), "--metric", "accuracy", "--lowcost", ""]) == 2
    assert "valid targets" in capsys.readouterr().err


def test_every_class_has_a_graph():
    assert len({cell_graph(i)[0].tobytes() + cell_graph(i)[1].tobytes() for i in representatives()[:200]}) > 150


def test_the_shipped_study_is_complete_and_lays_out_as_the_report_section():
    from analognasbench.predict.study import SHIPPED_STUDY
    from analognasbench.report.predict import predict_section

    if not (SHIPPED_STUDY / "study.json").is_file():
        pytest.skip("no predictor study shipped")
    study = load_study(SHIPPED_STUDY)
    assert study.info["classes_with_proxies"] == 6466  # the complete proxy table
    agreement = study.tables["proxy_agreement"]
    assert set(agreement.subset) == {"all", "b80"} and agreement.n.min() >= 6000
    assert {"goals", "curve_summary", "overtakes", "settings_agreement"} <= set(study.tables)
    sec = predict_section(study)
    assert "C=8 N=1" in sec.intro and any("Smaller network" in f for f in sec.findings)
    assert any(name.startswith("predict_curves_all-classes") for name in sec.figures)
