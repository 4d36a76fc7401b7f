"""Property-based: arbitrary input to the API ends in an answer or a documented error, never anything else."""

from __future__ import annotations

import numpy as np
import pytest
from bench_fixture import fixture_frame, fixture_meta
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analognasbench.bench import (
    AnalogNASBench,
    ArchitectureRecord,
    BenchmarkError,
    DriftMeasurement,
    UnknownArchitectureError,
    UnknownMetricError,
    UnmeasuredArchitectureError,
    write_dataset,
)
from analognasbench.bench.benchmark import COMPAT_METRICS
from analognasbench.pipeline.schema import METRICS
from analognasbench.space import canonical_index, parse

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return AnalogNASBench(write_dataset(fixture_frame(100, seed=4), fixture_meta(), tmp_path_factory.mktemp("p") / "fx"))


ops = st.integers(min_value=-2, max_value=7)
arch_like = st.one_of(
    st.tuples(*[st.integers(0, 4)] * 6),
    st.lists(ops, min_size=0, max_size=8).map(tuple),
    st.lists(ops, min_size=6, max_size=6),
    st.integers(min_value=-10, max_value=20_000),
    st.text(max_size=30),
    st.text(alphabet="01234", min_size=6, max_size=6),
    st.floats(allow_nan=True),
    st.none(),
    st.booleans(),
    st.tuples(*[st.floats(0, 4)] * 6),
    st.builds(lambda t: np.array(t), st.tuples(*[st.integers(0, 4)] * 6)),
)
metric_like = st.one_of(st.sampled_from(COMPAT_METRICS), st.sampled_from(METRICS), st.text(max_size=20), st.none(),
                        st.integers())


@SETTINGS
@given(arch=arch_like)
def test_query_answers_or_raises_a_documented_error(bench, arch):
    try:
        rec = bench.query(arch)
    except (UnknownArchitectureError, UnmeasuredArchitectureError):
        return
    assert isinstance(rec, ArchitectureRecord)
    assert canonical_index(rec.arch) == canonical_index(rec.measured)
    assert rec.resolved_by_isomorphism == (rec.arch != rec.measured)


@SETTINGS
@given(arch=arch_like, metric=metric_like)
def test_query_metric_answers_returns_not_found_or_rejects_the_metric(bench, arch, metric):
    try:
        result = bench.query_metric(arch, metric)
    except UnknownMetricError as exc:
        assert isinstance(exc, ValueError)
        assert metric not in COMPAT_METRICS
        return
    if result == "architecture not found":
        return
    name = getattr(metric, "value", metric)
    if name == "architecture":
        assert isinstance(result, tuple) and len(result) == 6
    elif name == "params":
        assert result is None or isinstance(result, int)
    elif "drift" in name:
        assert isinstance(result, DriftMeasurement)
    else:
        assert isinstance(result, float)


@SETTINGS
@given(arch=arch_like)
def test_compat_and_typed_paths_agree(bench, arch):
    details = bench.get_architecture_details(arch)
    assert isinstance(details, str)
    try:
        a = parse(arch)
    except (ValueError, TypeError):
        assert details == "Architecture not found."
        return
    found = a in bench
    assert (details != "Architecture not found.") == found
    value = bench.query_metric(tuple(a), "analog_drift_3600")
    if found:
        assert value.value == bench.query(a).mean("analog_drift_3600")
    else:
        assert value == "architecture not found"


@SETTINGS
@given(archs=st.lists(arch_like, max_size=5), metric=metric_like)
def test_vectorised_queries_raise_only_documented_errors(bench, archs, metric):
    try:
        out = bench.metric_array(metric, archs, allow_missing=True)
    except BenchmarkError:
        return
    assert out.shape == (len(archs),)
