"""The compatibility surface of ``analognasbench.data``: return types, sentinel strings, DriftMeasurement."""

from __future__ import annotations

import pickle

import pytest
from bench_fixture import fixture_frame, fixture_meta

from analognasbench.bench import write_dataset
from analognasbench.data import AnalogNASBench, DriftMeasurement
from analognasbench.space import canonical_index, from_index


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return AnalogNASBench(write_dataset(fixture_frame(80, seed=2), fixture_meta(), tmp_path_factory.mktemp("c") / "fx"))


def test_query_metric_types_follow_the_original(bench):
    a = (0, 0, 0, 4, 3, 2)  # always in the fixture's measured classes
    assert type(bench.query_metric(a, "analog_accuracy")) is float
    assert type(bench.query_metric(a, "baseline_accuracy")) is float
    assert type(bench.query_metric(a, "params")) is int
    assert bench.query_metric(a, "architecture") == a and type(bench.query_metric(a, "architecture")) is tuple
    d = bench.query_metric((0, 0, 2, 0, 0, 0), "noisy_drift_3600")
    assert isinstance(d, DriftMeasurement)
    rec = bench.query((0, 0, 2, 0, 0, 0))
    assert (d.value, d.uncertainty) == (rec.mean("noisy_drift_3600"), rec.std("noisy_drift_3600"))
    assert str(d) == repr(d) == f"{d.value} ± {d.uncertainty}"
    assert bench.metrics[0] == "architecture" and bench.metrics[-1] == "params" and len(bench.metrics) == 15


def test_not_found_strings_are_exactly_the_originals(bench):
    measured = {canonical_index(a) for a in bench.list_available_architectures()}
    unmeasured = tuple(next(from_index(i) for i in range(15625) if canonical_index(i) not in measured))
    for bad in (unmeasured, (0, 0, 0, 0, 0, 5), (1, 2), "garbage", None, 3.5, [9, 9, 9, 9, 9, 9]):
        assert bench.query_metric(bad, "analog_accuracy") == "architecture not found"
        assert bench.get_architecture_details(bad) == "Architecture not found."


def test_unknown_metric_raises_value_error_listing_valid_ones(bench):
    with pytest.raises(ValueError, match="Available metrics.*analog_drift_86400"):
        bench.query_metric((0, 0, 0, 4, 3, 2), "accuracy")
    with pytest.raises(ValueError, match="Available metrics"):
        bench.query_metric((9, 9, 9, 9, 9, 9), "accuracy")  # checked before the architecture, as the original
    with pytest.raises(ValueError):
        bench.query_metric((0, 0, 0, 4, 3, 2), ["analog_accuracy"])


def test_list_available_architectures_gives_fresh_plain_tuples(bench):
    archs = bench.list_available_architectures()
    assert len(archs) == len(bench) and all(type(a) is tuple and len(a) == 6 for a in archs)
    archs.clear()
    assert bench.list_available_architectures()


def test_other_encodings_are_accepted_on_the_compat_path(bench):
    a = (0, 0, 0, 4, 3, 2)
    v = bench.query_metric(a, "analog_accuracy")
    assert bench.query_metric(list(a), "analog_accuracy") == v
    assert bench.query_metric("000432", "analog_accuracy") == v
    assert bench.query_metric(from_index(117), "analog_accuracy") == v


def test_details_block_is_readable(bench):
    text = bench.get_architecture_details((0, 0, 2, 0, 0, 0))
    assert "Architecture Details:" in text and "(0, 0, 2, 0, 0, 0)" in text
    assert "Measured as:" in text  # resolved through an isomorphic measured cell
    assert "Number of parameters:" in text and "2592000 s:" in text and "±" in text


def test_drift_measurement_sorts_converts_and_does_arithmetic_on_the_mean():
    a, b = DriftMeasurement(80.0, 1.0), DriftMeasurement(70.5, 3.0)
    assert max([b, a]) is a and sorted([a, b]) == [b, a]
    assert a > 75 and b < 75.0 and a >= a and b <= a
    assert float(a) == 80.0 and a - b == 9.5 and sum([a, b]) == 150.5 and (a + b) / 2 == 75.25
    assert f"{b:.1f}" == "70.5 ± 3.0" and round(b) == 70
    assert a == DriftMeasurement(80, 1) and a != DriftMeasurement(80, 2) and a != 80.0
    assert len({a, DriftMeasurement(80.0, 1.0)}) == 1
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(TypeError):
        _ = a < "x"
    with pytest.raises(AttributeError):
        a.value = 1.0
