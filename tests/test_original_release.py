"""The published release as the embedded default (issue 15): converter, metric aliases, each cell its own row, the
class view, search over separately measured members, the paper's Table 3, and the release's repeatability."""

from __future__ import annotations

import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from test_compat_original import _make_pickle, original  # noqa: F401  (fixture)

from analognasbench.analysis.drift import PAPER_TABLE3, TABLE3_STATS, drift_analysis
from analognasbench.analysis.registry import AnalysisParams
from analognasbench.bench import AnalogNASBench, UnknownMetricError, available_datasets, read_dataset
from analognasbench.bench.derived import NetworkSpec, derived_column
from analognasbench.bench.files import file_sha256, read_meta
from analognasbench.bench.registry import DATASETS_DIR, DEFAULT_DATASET
from analognasbench.cli import main
from analognasbench.fidelity import quality as q
from analognasbench.nets.flops import count_parameters
from analognasbench.release.import_original import (
    ORIGINAL_DATASET,
    RELEASE_MEMBER,
    RELEASE_SHA256,
    ReleaseImportError,
    convert_release,
    import_original,
    release_bytes,
)
from analognasbench.search.base import Budget, get_method
from analognasbench.search.evaluators import TabularEvaluator, from_bench
from analognasbench.space import from_index

SHIPPED = ORIGINAL_DATASET in available_datasets()
needs_release = pytest.mark.skipif(not SHIPPED, reason=f"the embedded {ORIGINAL_DATASET} dataset is not shipped")


@pytest.fixture(scope="module")
def release():
    return AnalogNASBench(ORIGINAL_DATASET)


# ---- converter ------------------------------------------------------------------------------------------------


def test_converter_writes_a_dataset_from_a_pickle_in_the_release_format(tmp_path, original):  # noqa: F811
    blob, data = _make_pickle(original, n=12)
    path = tmp_path / "data.anb"
    path.write_bytes(blob)
    df, meta = convert_release(path, sha256=None, name="tiny")
    assert len(df) == 12 and meta.source == "original-release" and meta.extra["provenance"]["file_sha256"]
    archs = [from_index(int(i)) for i in df.arch_index]
    assert df["params"].tolist() == [count_parameters(a) for a in archs]  # computed, not the pickle's
    assert df["ptq_accuracy_std"].isna().all()  # the release publishes no error for non-drift metrics
    bench = AnalogNASBench.from_frame(df, meta)
    t = next(iter(data))
    assert bench.query_metric(t, "baseline_drift_86400") == bench.query_metric(t, "noisy_drift_86400")


def test_converter_refuses_a_wheel_with_another_file_and_writes_nothing(tmp_path):
    wheel = tmp_path / "analog_nasbench-0.1.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(RELEASE_MEMBER, pickle.dumps({}))
    with pytest.raises(ReleaseImportError, match="expected " + RELEASE_SHA256):
        import_original(tmp_path / "out", wheel=wheel)
    assert not list(tmp_path.glob("out*"))
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("something/else.txt", "x")
    with pytest.raises(ReleaseImportError, match="holds no analognasbench/data.anb"):
        release_bytes(wheel)
    (tmp_path / "bad.whl").write_bytes(b"not a zip")
    with pytest.raises(ReleaseImportError, match="not a readable wheel"):
        release_bytes(tmp_path / "bad.whl")


def test_cli_import_offline_stops_with_a_clear_message_and_writes_nothing(tmp_path, capsys):
    """Offline: pip cannot reach an index (here: one that does not exist), so nothing is written, exit 2."""
    env_index = "PIP_INDEX_URL"
    import os

    old = os.environ.get(env_index)
    os.environ[env_index] = "http://127.0.0.1:9/simple"
    os.environ["PIP_NO_INDEX"] = "1"
    try:
        code = main(["import-original", "-o", str(tmp_path / "rel")])
    finally:
        os.environ.pop("PIP_NO_INDEX")
        if old is None:
            os.environ.pop(env_index)
        else:
            os.environ[env_index] = old
    assert code == 2
    assert "could not download analog-nasbench==0.1.3" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_parameter_counts_of_many_cells_match_the_networks():
    rng = np.random.default_rng(3)
    archs = [from_index(int(i)) for i in rng.integers(0, 15625, 8)]
    for c, n in ((16, 5), (8, 1)):
        computed = derived_column("params", [a.index for a in archs], NetworkSpec(c, n, 10, 32))
        assert computed.tolist() == [count_parameters(a, C=c, N=n) for a in archs]


# ---- the shipped release ----------------------------------------------------------------------------------------


@needs_release
def test_release_is_the_default_whole_and_verified(release):
    assert DEFAULT_DATASET == ORIGINAL_DATASET
    meta = read_meta(DATASETS_DIR / ORIGINAL_DATASET)
    assert file_sha256(DATASETS_DIR / f"{ORIGINAL_DATASET}.parquet") == meta.sha256
    assert meta.extra["provenance"]["file_sha256"] == RELEASE_SHA256
    assert meta.extra["provenance"]["license"] == "Apache-2.0"
    assert len(release) == 15625 and len(release.list_available_architectures()) == 15625
    assert release.df.arch_index.is_unique and release.coverage().classes == 6466
    assert release.df["params"].notna().all()


@needs_release
def test_every_cell_answers_with_its_own_measurement(release):
    df = release.df
    sizes = df.groupby("canonical_index").size()
    cls = int(sizes[sizes >= 3].index[0])
    members = df[df.canonical_index == cls].sort_values("arch_index")
    assert members["analog_drift_86400"].nunique() > 1  # trained separately: values differ
    for _, row in members.iterrows():
        arch = from_index(int(row.arch_index))
        rec = release.query(arch)
        assert not rec.resolved_by_isomorphism and rec.measured == arch
        assert rec.mean("analog_drift_86400") == row.analog_drift_86400
        assert release.query_metric(tuple(arch), "analog_drift_86400").value == row.analog_drift_86400


@needs_release
def test_class_view_lists_members_mean_and_spread(release):
    arch = from_index(int(release.df.groupby("canonical_index").size().idxmax()))
    view = release.class_view(arch)
    members = release.df[release.df.canonical_index == view.canonical_index]
    assert view.size == len(members) and sorted(view.members) == sorted(int(i) for i in members.arch_index)
    values = members["noisy_accuracy"].to_numpy()
    assert view.mean("noisy_accuracy") == pytest.approx(values.mean())
    assert view.std("noisy_accuracy") == pytest.approx(values.std(ddof=1))
    assert view.mean("baseline_drift_60") == view.mean("noisy_drift_60")


def test_class_view_of_a_dataset_of_representatives(tmp_path):
    from bench_fixture import fixture_frame, fixture_meta

    bench = AnalogNASBench.from_frame(fixture_frame(), fixture_meta())
    arch = bench.list_available_architectures()[0]
    view = bench.class_view(arch)
    assert view.size == 1 and np.isnan(view.std("analog_accuracy"))


@needs_release
def test_release_scripts_run_unchanged_with_both_metric_families(release):
    arch = (0, 0, 0, 4, 3, 2)
    for t in (60, 3600, 86400, 2592000):
        old, new = release.query_metric(arch, f"baseline_drift_{t}"), release.query_metric(arch, f"noisy_drift_{t}")
        assert old == new and hasattr(old, "uncertainty")
    assert release.query((0, 0, 0, 4, 3, 2)).mean("baseline_drift_3600") == release.value(arch, "noisy_drift_3600")
    assert np.array_equal(release.metric_array("baseline_drift_60"), release.metric_array("noisy_drift_60"))
    assert release.query_metric((9, 9, 9, 9, 9, 9), "analog_accuracy") == "architecture not found"
    with pytest.raises(UnknownMetricError, match="baseline_drift_60"):
        release.query_metric(arch, "bogus")
    text = release.get_architecture_details(arch)
    assert "nan" not in text and "± \n" not in text and not text.rstrip().endswith("±")


@needs_release
def test_cli_accepts_both_metric_families(capsys):
    assert main(["query", "(0,0,0,4,3,2)", "-m", "baseline_drift_86400"]) == 0
    old = capsys.readouterr().out
    assert main(["query", "(0,0,0,4,3,2)", "-m", "noisy_drift_86400"]) == 0
    assert capsys.readouterr().out == old
    assert main(["list", "-f", "baseline_drift_86400>=60", "-n", "5"]) == 0
    n_old = capsys.readouterr().out
    assert main(["list", "-f", "noisy_drift_86400>=60", "-n", "5"]) == 0
    assert capsys.readouterr().out == n_old and n_old


# ---- search ----------------------------------------------------------------------------------------------------


@needs_release
def test_exhaustive_search_returns_the_best_measured_cell(release):
    ev = from_bench(release)
    assert ev.members
    values = release.df["analog_drift_86400"].to_numpy()
    best = int(release.df["arch_index"].iloc[int(np.nanargmax(values))])
    result = get_method("exhaustive")().run(ev, budget=Budget(evaluations=15625))
    assert result.final.arch.index == best and result.final_value == np.nanmax(values)
    assert result.evaluations == 15625
    assert ev.optimum("analog_drift_86400") == (best, np.nanmax(values))


def test_a_table_of_representatives_keeps_one_candidate_per_class():
    from bench_fixture import fixture_frame

    ev = TabularEvaluator(fixture_frame())
    assert not ev.members
    result = get_method("exhaustive")().run(ev, budget=Budget(evaluations=15625))
    assert result.evaluations == fixture_frame().canonical_index.nunique()


# ---- Table 3 and the other analyses --------------------------------------------------------------------------


@needs_release
def test_table3_reproduces_every_figure_of_the_paper(release):
    params = AnalysisParams.for_dataset(release.meta)
    assert (params.drift_baseline_min, params.drift_noisy_min) == (80.0, 70.0)
    res = drift_analysis(release.df, baseline_min=80.0, noisy_min=70.0)
    assert res.n_good == 5645
    for (series, t), paper in PAPER_TABLE3.items():
        row = res.table3[(res.table3.series == series) & (res.table3.time_s == t)].iloc[0]
        for stat, value in zip(TABLE3_STATS, paper):
            assert row[stat] == pytest.approx(value, abs=0.02), (series, t, stat)


def test_low_fidelity_data_keeps_quantile_thresholds():
    assert AnalysisParams.for_dataset({"source": "pipeline", "profile": {"name": "cifar_lowcost"}}).drift_baseline_min \
        is None
    with pytest.raises(ValueError, match="both"):
        AnalysisParams(drift_baseline_min=80.0)


# ---- reliability and agreement ---------------------------------------------------------------------------------


@needs_release
def test_release_repeatability_from_isomorphic_members(release):
    rel = q.member_reliability(release.df).set_index("metric")
    assert rel.loc["noisy_accuracy", "classes"] == 1350
    assert (rel["within_std"] > 0).all() and (rel["kendall_tau"].between(0.5, 0.99)).all()
    assert rel.loc["baseline_accuracy", "kendall_tau"] > rel.loc["noisy_accuracy", "kendall_tau"]


def test_member_reliability_refuses_data_without_members():
    from bench_fixture import fixture_frame

    with pytest.raises(ValueError, match="two or more measured members"):
        q.member_reliability(fixture_frame())


def test_rank_fidelity_reports_tau_rho_and_top_overlap():
    from bench_fixture import fixture_frame

    df = fixture_frame()
    same = q.rank_fidelity(df, df).set_index("metric")
    assert same["kendall_tau"].tolist() == pytest.approx([1.0] * len(same)) and (same["top10_overlap"] == 1.0).all()
    flipped = df.copy()
    for m in q.CHECK_METRICS:
        flipped[m] = -df[m]
    opposite = q.rank_fidelity(df, flipped).set_index("metric")
    assert opposite["spearman_rho"].tolist() == pytest.approx([-1.0] * len(opposite))
    assert (opposite["top10_overlap"] == 0.0).all()


@needs_release
def test_quality_cli_against_the_release(capsys):
    assert main(["quality", "cifar10-lowcost", "--reference", "original"]) == 0
    out = capsys.readouterr().out
    assert "spearman_rho" in out and "top10_overlap" in out and "original-release" in out


@needs_release
def test_the_default_loads_in_a_fresh_process():
    """The default in a fresh interpreter is the release (its speed is measured by benchmarks/query_speed.py)."""
    code = ("import time; t = time.perf_counter(); from analognasbench.data import AnalogNASBench; "
            "b = AnalogNASBench(); print(len(b), b.meta.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["15625", ORIGINAL_DATASET]


def test_the_other_datasets_stay_available_by_name():
    for name in ("cifar10-lowcost", "synthetic-smoke"):
        if name in available_datasets():
            df, meta = read_dataset(DATASETS_DIR / name)
            assert meta.source == "pipeline" and len(df) > 0
