"""The typed benchmark API over a fixture dataset written with the real writer (pipeline frame -> Parquet -> API)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bench_fixture import fixture_frame, fixture_meta

from analognasbench.bench import (
    AnalogNASBench,
    ArchitectureRecord,
    Benchmark,
    BenchmarkError,
    DatasetNotFoundError,
    UnknownArchitectureError,
    UnknownMetricError,
    UnmeasuredArchitectureError,
    available_datasets,
    write_dataset,
)
from analognasbench.bench.registry import DEFAULT_DATASET, ENV_VAR
from analognasbench.pipeline.schema import METRICS, Metric
from analognasbench.space import canonical, canonical_index, class_sizes, from_index, is_isomorphic, parse

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def frame():
    return fixture_frame(150, seed=1)


@pytest.fixture(scope="module")
def path(tmp_path_factory, frame):
    return write_dataset(frame, fixture_meta(), tmp_path_factory.mktemp("bench") / "fx")


@pytest.fixture(scope="module")
def bench(path):
    return AnalogNASBench(path)


def test_round_trip_frame_to_parquet_to_api_returns_the_stored_numbers(bench, frame):
    row = frame.iloc[7]
    rec = bench.query(row["arch"])
    assert isinstance(rec, ArchitectureRecord) and not rec.resolved_by_isomorphism
    assert rec.arch.index == rec.measured.index == row["arch_index"]
    for m in METRICS:
        assert rec[m].mean == pytest.approx(row[m.value])
        assert rec[m].std == pytest.approx(row[f"{m.value}_std"])
        if m.repeated:
            assert list(rec[m].reps) == pytest.approx(row[f"{m.value}_reps"])
            assert np.mean(rec[m].reps) == pytest.approx(rec[m].mean)
    assert rec.params == row["params"]
    assert bench.curves(row["arch"])["hwt"] == json.loads(row["curve_hwt"])


def test_every_encoding_gives_the_same_record(bench, frame):
    a = parse(frame["arch"].iloc[3])
    same = [a, tuple(a), list(a), a.index, a.short, a.nb201_str, str(tuple(a)), np.array(a)]
    assert len({id(bench.query(x)) for x in same}) == 1


def test_isomorphic_architectures_resolve_to_the_measured_representative(bench, frame):
    measured = {int(i) for i in frame["arch_index"]}
    sizes = class_sizes()
    rep = next(i for i in measured if sizes[canonical_index(i)] > 1)
    other = next(a for a in (from_index(i) for i in range(15625)) if is_isomorphic(a, rep) and a.index != rep)
    rec = bench.query(other)
    assert rec.resolved_by_isomorphism and rec.arch == other and rec.measured == from_index(rep)
    assert rec.values is bench.query(rep).values
    assert bench.resolve(other) == from_index(rep)
    assert other in bench
    assert bench.query_metric(tuple(other), "analog_accuracy") == bench.query_metric(tuple(from_index(rep)),
                                                                                     "analog_accuracy")
    # The canonical member is preferred when it is measured.
    assert bench.resolve(canonical(other)) == canonical(other)


def test_errors_are_typed_and_say_what_was_expected(bench, frame):
    unmeasured = next(i for i in range(15625) if canonical_index(i) not in set(frame["canonical_index"]))
    with pytest.raises(UnmeasuredArchitectureError, match="not measured"):
        bench.query(unmeasured)
    with pytest.raises(UnknownArchitectureError, match=r"0\.\.4"):
        bench.query((0, 0, 0, 0, 0, 5))
    with pytest.raises(UnknownArchitectureError):
        bench.query("nonsense")
    with pytest.raises(UnknownMetricError, match="valid metrics: baseline_accuracy"):
        bench.query(frame["arch"].iloc[0])["accuracy"]
    assert issubclass(UnknownArchitectureError, ValueError) and issubclass(UnknownMetricError, ValueError)
    assert issubclass(UnmeasuredArchitectureError, LookupError)
    assert unmeasured not in bench and (0, 0, 0, 0, 0, 5) not in bench


def test_records_are_immutable(bench, frame):
    rec = bench.query(frame["arch"].iloc[0])
    with pytest.raises(AttributeError):
        rec.params = 3
    with pytest.raises(TypeError):
        rec.values[Metric.ANALOG] = None
    d = bench.query_metric(tuple(rec.arch), "analog_drift_60")
    with pytest.raises(AttributeError):
        d.value = 100.0


def test_vectorised_queries_match_single_queries(bench, frame):
    archs = [parse(a) for a in frame["arch"].iloc[:20]]
    arr = bench.metric_array("analog_drift_3600", archs)
    assert arr == pytest.approx([bench.query(a).mean("analog_drift_3600") for a in archs])
    as_indices = bench.metric_array(Metric.NOISY, np.array([a.index for a in archs]), std=True)
    as_matrix = bench.metric_array(Metric.NOISY, np.array([tuple(a) for a in archs]), std=True)
    np.testing.assert_array_equal(as_indices, as_matrix)
    assert bench.metric_array("params").shape == (len(bench),)
    table = bench.query_many(archs + [from_index(0)] * 0, metrics=["analog_accuracy"])
    assert list(table["arch_index"]) == [a.index for a in archs]
    assert table["analog_accuracy"].to_numpy() == pytest.approx([bench.value(a, "analog_accuracy") for a in archs])
    unmeasured = next(i for i in range(15625) if i not in bench)
    with pytest.raises(UnmeasuredArchitectureError):
        bench.metric_array("analog_accuracy", [unmeasured])
    got = bench.metric_array("analog_accuracy", [unmeasured, archs[0]], allow_missing=True)
    assert math.isnan(got[0]) and got[1] == bench.value(archs[0], "analog_accuracy")
    assert not bench.query_many([unmeasured], allow_missing=True)["found"].iloc[0]


def test_bench_offers_table_metadata_coverage_and_metric_descriptions(bench, frame):
    assert len(bench.df) == len(bench) == len(frame)
    assert bench.meta.name == "test-fixture" and bench.meta.row_count == len(frame)
    cov = bench.coverage()
    assert cov.classes == frame["canonical_index"].nunique()
    assert cov.architectures == sum(class_sizes()[c] for c in set(frame["canonical_index"]))
    assert "of 6,466 isomorphism classes" in str(cov) and "of 15,625 architectures" in str(cov)
    info = bench.metric_info("analog_drift_86400")
    assert (info.unit, info.network, info.hardware, info.time_s) == ("percent", "hwt", "aimc", 86400.0)
    assert set(bench.metrics_info()) == {m.value for m in METRICS}
    assert isinstance(bench, Benchmark)
    assert list(bench)[0] == parse(frame.sort_values("arch_index")["arch"].iloc[0])


def test_no_embedded_dataset_gives_a_clear_error(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    if DEFAULT_DATASET in available_datasets():
        pytest.skip("an embedded default dataset is shipped")
    with pytest.raises(DatasetNotFoundError, match="no embedded dataset is shipped yet"):
        AnalogNASBench()
    with pytest.raises(BenchmarkError, match=ENV_VAR):
        AnalogNASBench("no-such-name")


def test_environment_variable_selects_the_dataset(monkeypatch, path):
    monkeypatch.setenv(ENV_VAR, str(path))
    assert AnalogNASBench().meta.name == "test-fixture"


def test_compat_module_loads_without_torch():
    code = "import sys; from analognasbench.data import AnalogNASBench; assert 'torch' not in sys.modules, 'torch'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr


def test_cli_query_list_info_export(path, tmp_path, capsys):
    from analognasbench.cli import main

    d = ["--dataset", str(path)]
    df = AnalogNASBench(path).df
    arch = df["arch"].iloc[2]
    assert main(["query", arch, "--json", *d]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"]["analog_accuracy"]["mean"] == pytest.approx(df["analog_accuracy"].iloc[2])
    assert main(["query", arch, "-m", "noisy_drift_60", *d]) == 0
    assert "±" in capsys.readouterr().out
    assert main(["query", "(0, 0, 0, 0, 0, 9)", *d]) == 2
    assert "0..4" in capsys.readouterr().err
    assert main(["list", "-f", "analog_accuracy>=80", "-s", "analog_accuracy", "-n", "5", "-c", "analog_accuracy", *d]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    shown = [float(line.split()[-1]) for line in lines[1:-1]]
    assert shown == sorted(shown, reverse=True) and all(v >= 80 for v in shown)
    matching = int((df["analog_accuracy"] >= 80).sum())
    assert lines[-1] == f"# {min(5, matching)} of {matching} matching, {len(df)} measured"
    assert main(["list", "-f", "accuracy>3", *d]) == 2
    assert main(["info", *d]) == 0
    out = capsys.readouterr().out
    assert "TEST FIXTURE" in out and "of 6,466 isomorphism classes" in out and "of 15,625 architectures" in out
    assert main(["export", "--format", "csv", "-o", str(tmp_path / "t.csv"), *d]) == 0
    assert (tmp_path / "t.csv").read_text().count("\n") == len(df) + 1
    assert main(["export", "--format", "parquet", "-o", str(tmp_path / "copy"), *d]) == 0
    assert AnalogNASBench(tmp_path / "copy").df["arch"].tolist() == df["arch"].tolist()
    assert main(["export", "--format", "json", "-o", str(tmp_path / "t.json"), *d]) == 0
    assert len(json.loads((tmp_path / "t.json").read_text())) == len(df)


def test_repeated_queries_take_the_fast_path(bench, monkeypatch):
    """Guards against an accidental slow path without timing anything (speed is measured by
    benchmarks/query_speed.py): once a cell was asked for, query_metric answers it from the compatibility table and
    query from the record cache, never through the parsing slow paths again."""
    archs = bench.list_available_architectures()
    for a in archs:
        bench.query(a)
        bench.query_metric(a, "analog_drift_86400")
    calls = []
    monkeypatch.setattr(bench, "_query_metric_slow", lambda *a: calls.append(a))
    monkeypatch.setattr(bench, "_parse", lambda *a: calls.append(a))
    for a in archs:
        bench.query_metric(a, "analog_drift_86400")
        bench.query_metric(a, "baseline_drift_60")
        bench.query(a)
    assert calls == []


