"""Each analysis must find the effects planted in a synthetic dataset and find nothing in a null dataset."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from synthetic_bench import HURTFUL_PATTERN, null_dataset, synthetic_dataset

from analognasbench.analysis import (
    AnalysisParams,
    MissingDataError,
    Verdict,
    analyses,
    drift_analysis,
    evaluate_claims,
    feature_correlations,
    graph_features,
    hwt_robustness,
    noise_robustness,
    op_counts,
    pattern_label,
    rank_correlations,
    run_section,
    summary_statistics,
    top_features,
)
from analognasbench.analysis.features import path_patterns
from analognasbench.pipeline.schema import Metric


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    return synthetic_dataset(n=1200, seed=0)


@pytest.fixture(scope="module")
def null() -> pd.DataFrame:
    return null_dataset(n=1200, seed=1)


# ---- distributions -------------------------------------------------------------------------------------------


def test_summary_statistics_match_numpy(planted):
    stats = summary_statistics(planted).set_index("metric")
    v = planted["noisy_accuracy"].to_numpy()
    row = stats.loc["noisy_accuracy"]
    assert row["mean"] == pytest.approx(v.mean())
    assert row["median"] == pytest.approx(np.median(v))
    assert row["iqr"] == pytest.approx(np.quantile(v, 0.75) - np.quantile(v, 0.25))
    assert row["spread"] == pytest.approx(v.max() - v.min())
    assert len(stats) == len(Metric)


def test_rank_correlations_separate_ptq_from_noisy_only_when_planted(planted, null):
    for df, planted_effect in ((planted, True), (null, False)):
        pairs = rank_correlations(df, ["baseline_accuracy", "ptq_accuracy", "noisy_accuracy"]).set_index(
            ["metric_a", "metric_b"])
        with_base = pairs.loc[("baseline_accuracy", "ptq_accuracy"), "kendall_tau"]
        with_noisy = pairs.loc[("ptq_accuracy", "noisy_accuracy"), "kendall_tau"]
        assert bool(with_base - with_noisy > 0.3) is planted_effect


def test_rank_correlation_of_a_metric_with_a_monotone_copy_is_one(null):
    df = null.assign(ptq_accuracy=null["baseline_accuracy"] * 0.5 + 3)
    pairs = rank_correlations(df, ["baseline_accuracy", "ptq_accuracy"])
    assert pairs["kendall_tau"].iloc[0] == pytest.approx(1.0)
    assert pairs["spearman_rho"].iloc[0] == pytest.approx(1.0)


def test_unknown_metric_is_rejected_with_valid_list(planted):
    with pytest.raises(ValueError, match="valid metrics"):
        summary_statistics(planted, ["not_a_metric"])


# ---- noise robustness ----------------------------------------------------------------------------------------


def test_noise_robustness_finds_conv1x1_and_hurtful_pattern(planted):
    res = noise_robustness(planted)
    trend = res.count_trend.set_index("op")
    assert trend.loc["nor_conv_1x1", "significant"] and trend.loc["nor_conv_1x1", "spearman_rho"] > 0.5
    assert trend.loc["nor_conv_3x3", "significant"] and trend.loc["nor_conv_3x3", "spearman_rho"] < 0
    share = res.op_share.set_index("op")
    assert share.loc["nor_conv_1x1", "robust_share"] < share.loc["nor_conv_1x1", "non_robust_share"]
    # The planted pattern is the most significant one once op counts are accounted for, and always hurts.
    label = pattern_label(HURTFUL_PATTERN)
    top = res.patterns.sort_values("adjusted_p_value").iloc[0]
    assert top["pattern"] == label and top["adjusted_effect"] == "hurts"
    assert top["robust_freq"] == 0.0 and top["non_robust_freq"] > 0.05
    # share of robust architectures falls with the count of 1x1 convolutions
    by = res.robust_by_count[(res.robust_by_count["op"] == "nor_conv_1x1") & (res.robust_by_count["n"] >= 10)]
    assert by["share_robust"].iloc[0] > 0.5 > by["share_robust"].iloc[-1]


def test_noise_robustness_finds_nothing_in_null(null):
    res = noise_robustness(null)
    assert not res.count_trend["significant"].any()
    assert not res.op_share["significant"].any()
    assert (res.patterns["effect"] == "").all() and (res.patterns["adjusted_effect"] == "").all()


def test_noise_robustness_thresholds_follow_the_data(planted):
    res = noise_robustness(planted, baseline_quantile=0.75, robust_quantile=0.1)
    assert res.baseline_threshold == pytest.approx(planted["baseline_accuracy"].quantile(0.75))
    assert res.n_high == int((planted["baseline_accuracy"] >= res.baseline_threshold).sum())
    assert res.n_robust == pytest.approx(0.1 * res.n_high, abs=3)
    with pytest.raises(ValueError, match="robust"):
        res.top_patterns("fragile", 2)


def test_path_patterns_are_the_live_paths():
    [pats] = path_patterns([(2, 1, 0, 2, 1, 0)])  # 1->2 conv3, 1->4 skip, 2->3 conv3, 3->4 skip
    assert pats == {(0,), (2, 2, 0)}
    assert pattern_label((2, 2, 4)) == "(2,2,4)"


# ---- HWT -----------------------------------------------------------------------------------------------------


def test_hwt_failing_architectures_are_the_planted_pooling_cells(planted):
    res = hwt_robustness(planted)
    assert len(res.failing) >= 10
    ops = res.failing_ops.set_index("op")
    assert ops.loc["avg_pool_3x3", "significant"] and ops.loc["avg_pool_3x3", "rank_biserial"] > 0.5
    assert (res.failing["count_avg_pool_3x3"] >= 2).mean() > 0.8
    groups = res.groups.set_index("group")
    # non-robust cells gain most from HWT (it recovers most of a large drop)
    assert groups.loc["non-robust", "mean_improvement"] > groups.loc["naturally robust", "mean_improvement"] + 1
    assert groups["n"].sum() == len(planted)


def test_hwt_finds_nothing_in_null(null):
    res = hwt_robustness(null)
    assert not res.improvement_trend["significant"].any()
    assert not res.failing_ops["significant"].any()
    imp = res.groups["mean_improvement"]
    assert imp.max() - imp.min() < 0.5


# ---- drift ---------------------------------------------------------------------------------------------------


def test_drift_table3_and_skip_effect(planted):
    res = drift_analysis(planted)
    t3 = res.table3.set_index(["series", "time_s"])
    assert list(res.table3["time_s"].unique()) == [60, 3600, 86400, 2592000]
    assert t3.loc[("analog", 2592000), "mean"] > t3.loc[("analog", 60), "mean"]
    eff = res.op_effect.set_index(["series", "time_s", "op"])
    row = eff.loc[("analog", 2592000, "skip_connect")]
    assert row["significant"] and row["spearman_rho"] < -0.5
    pres = res.presence.set_index(["series", "time_s", "group", "op"])["share_present"]
    assert pres[("analog", 2592000, "robust", "skip_connect")] > pres[("analog", 2592000, "non-robust",
                                                                       "skip_connect")] + 0.5


def test_drift_finds_nothing_in_null(null):
    assert not drift_analysis(null).op_effect["significant"].any()


# ---- graph features ------------------------------------------------------------------------------------------


def test_graph_features_of_a_known_cell():
    # (2, 1, 0, 2, 1, 0): 1->2 conv3, 1->3 none, 1->4 skip, 2->3 conv3, 2->4 none, 3->4 skip
    f = graph_features([(2, 1, 0, 2, 1, 0)]).iloc[0]
    assert f["op_count[conv3]"] == 2 and f["op_count[skip]"] == 2 and f["op_count[all]"] == 4
    assert f["min_path_len[all]"] == 1          # the skip edge 1->4
    assert f["min_path_len[conv3]"] == 0        # no path of conv3 edges only
    assert f["min_path_len[skip+conv3]"] == 1
    assert f["max_conv3_on_path[all]"] == 2     # 1->2->3->4
    assert f["max_conv3_on_path[conv3+pool]"] == 0
    assert f["in_degree[all]"] == 2 and f["out_degree[all]"] == 2
    assert f["out_degree[conv3]"] == 1 and f["in_degree[conv3]"] == 0
    assert f["avg_in_degree[all]"] == pytest.approx((1 + 1 + 2) / 3)


def test_graph_feature_correlations_find_planted_features(planted, null):
    corr = feature_correlations(planted)
    top = top_features(corr, "noisy_robustness", 20)
    assert "op_count[conv1]" in set(top["feature"])
    assert top.iloc[0]["significant"] and "conv1" in top.iloc[0]["feature"]
    drift_top = top_features(corr, "drift_robustness", 5)
    assert drift_top.iloc[0]["significant"] and "skip" in drift_top.iloc[0]["feature"]
    assert not feature_correlations(null)["significant"].any()


# ---- claims --------------------------------------------------------------------------------------------------


def test_claims_hold_on_planted_and_not_on_null(planted, null):
    params = AnalysisParams(n_bootstrap=50)
    for r in evaluate_claims(planted, params):
        assert r.verdict is Verdict.HOLDS, r.statistic
    for r in evaluate_claims(null, params):
        assert r.verdict in (Verdict.DOES_NOT_HOLD, Verdict.INCONCLUSIVE), r.statistic
        assert r.statistic


def test_claim_3_fails_when_skip_connections_make_drift_worse(planted):
    df = planted.copy()
    skip = op_counts(df)["count_skip_connect"].to_numpy()
    # Replace the planted benefit by its reverse: cells with a skip connection now lose 2 points more.
    rng = np.random.default_rng(3)
    df["analog_drift_2592000"] = df["analog_drift_60"] - 3.0 - 2.0 * (skip > 0) + rng.normal(0, 0.3, len(df))
    [_, _, c3] = evaluate_claims(df, AnalysisParams(n_bootstrap=20))
    assert c3.verdict is Verdict.DOES_NOT_HOLD


def test_claims_without_the_data_are_inconclusive_with_reason(planted):
    df = planted.drop(columns=["ptq_accuracy", "qat_accuracy"])
    c1 = evaluate_claims(df, AnalysisParams(n_bootstrap=20))[0]
    assert c1.verdict is Verdict.INCONCLUSIVE and "PTQ or QAT" in c1.statistic


# ---- registry and robustness to partial datasets -------------------------------------------------------------


def test_registry_lists_every_analysis_and_skips_missing_data(planted):
    names = [s.name for s in analyses()]
    assert names[0] == "claims" and {"distributions", "noise_robustness", "hwt_robustness", "drift",
                                     "graph_features"} <= set(names)
    only_baseline = planted[["arch", "baseline_accuracy", "ptq_accuracy"]]
    sec = run_section("hwt_robustness", only_baseline)
    assert sec.skipped and "noisy_accuracy" in sec.skipped
    with pytest.raises(ValueError, match="valid analyses"):
        run_section("nope", planted)


def test_missing_columns_raise_clear_error():
    with pytest.raises(MissingDataError, match="arch"):
        noise_robustness(pd.DataFrame({"baseline_accuracy": [1.0]}))
    with pytest.raises(TypeError, match="DataFrame"):
        noise_robustness([1, 2, 3])  # type: ignore[arg-type]


def test_params_reject_bad_values():
    with pytest.raises(ValueError, match="baseline_quantile"):
        AnalysisParams(baseline_quantile=1.5)
    with pytest.raises(ValueError, match="noisy_low_quantile"):
        AnalysisParams(noisy_low_quantile=0.9, noisy_high_quantile=0.5)


def test_analysis_and_report_import_without_torch_or_matplotlib():
    code = ("import sys, analognasbench.analysis, analognasbench.report; "
            "print('torch' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
