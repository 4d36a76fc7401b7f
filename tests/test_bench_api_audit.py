"""Regressions of the query API audit: answers never depend on edits of handed-out frames or on earlier queries,
inputs of the wrong shape are refused clearly, every entry point checks a table as loading does, and
``DriftMeasurement`` behaves as its docstring says."""

from __future__ import annotations

import inspect

import pytest
from bench_fixture import fixture_frame, fixture_meta

from analognasbench.bench import (
    AnalogNASBench,
    DatasetIntegrityError,
    DriftMeasurement,
    UnknownArchitectureError,
    UnknownMetricError,
    UnmeasuredArchitectureError,
    read_dataset,
    write_dataset,
)
from analognasbench.bench.benchmark import NOT_FOUND
from analognasbench.bench.costs import COST_COLUMNS
from analognasbench.bench.validate import InvalidValuesError
from analognasbench.pipeline.schema import METRICS
from analognasbench.space import canonical_index


def _bench() -> AnalogNASBench:
    return AnalogNASBench.from_frame(fixture_frame(60, seed=3), fixture_meta())


def test_editing_the_returned_table_or_cost_frame_changes_no_answer():
    bench = _bench()
    a = bench.list_available_architectures()[3]
    metric, index = "analog_drift_86400", bench.query(a).arch.index

    def answers():
        return (bench.metric_array(metric, [a]).tolist(), bench.value(a, metric), bench.query(a).row,
                bench.class_view(a).members, bench.curves(a), bench.metric_array("hw_energy_uj", [a]).tolist())

    before = answers()
    df, cost = bench.df, bench.costs()
    df.loc[df.arch_index == index, metric] = 0.0
    df["arch_index"] = df["arch_index"].to_numpy()[::-1]
    df.loc[:, [c for c in df.columns if c.startswith("curve_")]] = None
    cost.loc[:, "hw_energy_uj"] = -1.0
    assert answers() == before
    assert bench.df["arch_index"].is_monotonic_increasing


def test_one_architecture_where_a_sequence_is_expected_is_refused():
    bench = _bench()
    arch = bench.query(bench.list_available_architectures()[0]).arch
    for call in (lambda: bench.rows_of(arch), lambda: bench.metric_array("analog_accuracy", arch),
                 lambda: bench.query_many(arch), lambda: bench.rows_of("210210")):
        with pytest.raises(UnknownArchitectureError, match="wrap one architecture in a list"):
            call()
    indices = tuple(a.index for a in bench)[:6]  # a plain tuple of ints stays a sequence of indices
    assert bench.rows_of(indices).tolist() == bench.rows_of(list(indices)).tolist() == list(range(6))


def test_answers_do_not_depend_on_what_was_asked_before():
    ones = (1, 1, 0, 1, 1, 1)
    frame = fixture_frame(indices=[canonical_index(ones), canonical_index((2, 2, 0, 4, 2, 1))])

    def answers(bench):
        out = [bench.query_metric(tuple(bool(x) for x in ones), "analog_accuracy"),
               bench.query_metric((float(ones[0]),) + ones[1:], "analog_accuracy")]
        for call, error in ((lambda: bench.query_metric(ones, "analog_programmed_accuracy"), UnknownMetricError),
                            (lambda: bench.query((float(ones[0]),) + ones[1:]), UnknownArchitectureError)):
            try:
                out.append(call())
            except error:
                out.append("refused")
        return out

    fresh = answers(AnalogNASBench.from_frame(frame, fixture_meta()))
    warm = AnalogNASBench.from_frame(frame, fixture_meta())
    warm.query_metric(ones, "analog_accuracy")
    warm.query(ones)
    assert answers(warm) == fresh == [NOT_FOUND, NOT_FOUND, "refused", "refused"]


def test_a_generator_holding_an_unmeasured_cell_raises_the_unmeasured_error():
    bench = _bench()
    unmeasured = next(i for i in range(15625) if i not in bench)
    with pytest.raises(UnmeasuredArchitectureError, match="is not measured"):
        bench.metric_array("baseline_accuracy", (i for i in [unmeasured]))
    with pytest.raises(UnmeasuredArchitectureError, match="is not measured"):
        bench.rows_of(i for i in [unmeasured])


def test_query_many_refuses_one_metric_name_as_the_sequence():
    bench = _bench()
    with pytest.raises(UnknownMetricError, match=r"wrap it in a list: metrics=\['analog_accuracy'\]"):
        bench.query_many(bench.list_available_architectures()[:1], metrics="analog_accuracy")


def test_write_and_from_frame_refuse_what_loading_refuses(tmp_path):
    bad = fixture_frame(20, seed=2)
    bad.loc[3, "analog_accuracy"] = 150.0
    with pytest.raises(InvalidValuesError, match=r"refusing to write .*column analog_accuracy = 150\.0"):
        write_dataset(bad, fixture_meta(), tmp_path / "bad")
    assert not list(tmp_path.iterdir())
    with pytest.raises(InvalidValuesError, match=r"column analog_accuracy = 150\.0"):
        AnalogNASBench.from_frame(bad, fixture_meta())
    assert len(AnalogNASBench.from_frame(bad, fixture_meta(), on_invalid="drop")) == 19
    with pytest.raises(DatasetIntegrityError, match="lacks schema columns: baseline_accuracy"):
        AnalogNASBench.from_frame(bad.drop(columns="baseline_accuracy"), fixture_meta())
    path = write_dataset(bad, fixture_meta(), tmp_path / "damaged", check_values=False)  # for read-side tests
    with pytest.raises(InvalidValuesError, match=r"column analog_accuracy = 150\.0"):
        read_dataset(path)


def test_a_bad_dataset_spec_or_verify_flag_is_refused_clearly(tmp_path):
    with pytest.raises(TypeError, match="a dataset must be given as a path or an embedded name, not int 5"):
        AnalogNASBench(5)
    path = write_dataset(fixture_frame(20, seed=2), fixture_meta(), tmp_path / "fx")
    with pytest.raises(TypeError, match="verify must be True or False, got 'no'"):
        AnalogNASBench(path, verify="no")


def test_drift_measurement_is_a_number_by_its_mean_and_a_measurement_as_value_and_text():
    d = DriftMeasurement(87.49, 0.38)
    assert f"{d:.2f}" == str(d) == "87.49 ± 0.38"  # a spec's number part formats each half ...
    assert f"{d:>16.1f}" == "      87.5 ± 0.4" and f"{d:<14}" == "87.49 ± 0.38  "  # ... its layout the whole text
    with pytest.raises(ValueError, match="zero padding"):
        format(d, "010.2f")
    assert int(d) == 87 and float(d) == 87.49 and round(d, 1) == 87.5
    assert not DriftMeasurement(0.0, 0.5) and DriftMeasurement(0.1)
    assert d <= 87.49 and d >= 87.49 and d != 87.49 and d.value == 87.49  # == is the measurement's, not the mean's


def test_derived_and_cost_columns_are_read_by_name_wherever_the_bench_reads_columns():
    bench = _bench()
    a = bench.list_available_architectures()[2]
    rec = bench.query(a)
    assert bench.value(a, "params") == rec.params and bench.value(a, "flops") == rec.flops
    assert bench.value(a, "hw_energy_uj") == bench.metric_array("hw_energy_uj", [a])[0] > 0
    assert bench.metric_info("params").unit == "count"
    frame = bench.query_many([a], metrics=["hw_energy_uj", "params", "analog_accuracy"])
    assert frame["params"].iloc[0] == rec.params and frame["hw_energy_uj"].iloc[0] == bench.value(a, "hw_energy_uj")
    assert "analog_accuracy_std" in frame and "params_std" not in frame
    measured = {m.value for m in METRICS}
    assert set(bench.metrics_info()) == measured
    info = bench.metrics_info(derived=True)
    assert set(info) == measured | {"params", "flops"} | set(COST_COLUMNS)
    assert all("not a measurement" in info[name].aggregation for name in set(info) - measured)
    with pytest.raises(UnknownMetricError, match="also the derived columns params, flops"):
        bench.value(a, "paramz")


def test_help_says_what_meta_path_coverage_and_metrics_info_are():
    for name in ("meta", "path", "coverage", "metrics_info"):
        assert inspect.getdoc(getattr(AnalogNASBench, name)), name


def test_a_record_refusing_a_derived_or_cost_column_says_where_to_read_it():
    from analognasbench.bench import AnalogNASBench
    from analognasbench.bench.errors import UnknownMetricError

    rec = AnalogNASBench("synthetic-smoke").query(AnalogNASBench("synthetic-smoke").df["arch_index"].iat[0])
    with pytest.raises(UnknownMetricError, match=r"rec\.params or AnalogNASBench\.value"):
        rec["params"]
    with pytest.raises(UnknownMetricError, match=r"'hw_energy_uj' is not a measurement: read it with AnalogNASBench"):
        rec["hw_energy_uj"]
