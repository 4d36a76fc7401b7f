"""The original release's ``data.anb`` pickle: loads through the restricted unpickler; hostile pickles are refused."""

from __future__ import annotations

import os
import pickle
import sys
import types

import numpy as np
import pytest

from analognasbench.bench import AnalogNASBench, DatasetIntegrityError, DriftMeasurement, UnsafePickleError
from analognasbench.release.original import load_original
from analognasbench.space import from_index

DRIFTS = [f"{kind}_drift_{t}" for kind in ("noisy", "analog") for t in (60, 3600, 86400, 2592000)]


def _original_classes():
    """Classes shaped like the release's, living at its module path ``analognasbench.data``."""

    class Architecture:
        def __init__(self, architecture, **values):
            self.architecture = architecture
            for k, v in values.items():
                setattr(self, k, v)

    class OrigDrift:
        def __init__(self, value, uncertainty):
            self.value = float(value)
            self.uncertainty = float(uncertainty)

    OrigDrift.__name__ = OrigDrift.__qualname__ = "DriftMeasurement"
    for cls in (Architecture, OrigDrift):
        cls.__module__ = "analognasbench.data"
        cls.__qualname__ = cls.__name__
    return Architecture, OrigDrift


@pytest.fixture
def original(monkeypatch):
    arch_cls, drift_cls = _original_classes()
    stub = types.ModuleType("analognasbench.data")
    stub.Architecture, stub.DriftMeasurement = arch_cls, drift_cls
    monkeypatch.setitem(sys.modules, "analognasbench.data", stub)
    return arch_cls, drift_cls


def _make_pickle(original, n=40, protocol=pickle.DEFAULT_PROTOCOL):
    arch_cls, drift_cls = original
    rng = np.random.default_rng(0)
    data = {}
    for i in range(n):
        t = tuple(from_index(i * 7))
        values = {"baseline_accuracy": np.float64(rng.uniform(60, 90)), "ptq_accuracy": float(rng.uniform(60, 90)),
                  "qat_accuracy": float(rng.uniform(60, 90)), "noisy_accuracy": float(rng.uniform(10, 60)),
                  "analog_accuracy": np.float64(rng.uniform(60, 90)), "params": int(rng.integers(1e5, 1e6))}
        for j, name in enumerate(DRIFTS):
            mean, std = rng.uniform(10, 90), rng.uniform(0, 3)
            # The release held DriftMeasurement objects; older exports held "mean ± std" text or bare numbers.
            values[name] = drift_cls(mean, std) if j % 3 == 0 else f"{mean:.2f} ± {std:.2f}" if j % 3 == 1 else mean
        data[t] = arch_cls(t, **values)
    return pickle.dumps(data, protocol=protocol), data


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_original_pickle_loads_with_every_value(tmp_path, original, protocol):
    blob, data = _make_pickle(original, protocol=protocol)
    path = tmp_path / "data.anb"
    path.write_bytes(blob)
    bench = AnalogNASBench(path)
    assert bench.meta.source == "original-release" and len(bench) == len(data)
    assert sorted(bench.list_available_architectures()) == sorted(data)
    for t, rec in data.items():
        assert bench.query_metric(t, "architecture") == t
        assert bench.query_metric(t, "baseline_accuracy") == pytest.approx(float(rec.baseline_accuracy))
        assert bench.query_metric(t, "params") == rec.params
        for name in DRIFTS:
            got = bench.query_metric(t, name)
            raw = getattr(rec, name)
            want = (raw.value, raw.uncertainty) if hasattr(raw, "value") else (
                tuple(float(x) for x in raw.split("±")) if isinstance(raw, str) else (raw, 0.0))
            assert isinstance(got, DriftMeasurement)
            assert (got.value, got.uncertainty) == pytest.approx(want)


def test_release_one_attribute_names_are_read(tmp_path, original):
    arch_cls, drift_cls = original
    t = (0, 0, 0, 4, 3, 2)
    values = {f"baseline_drift_{s}": drift_cls(50, 1) for s in (60, 3600, 86400, 2592000)}
    values.update({f"analog_drift_{s}": drift_cls(80, 1) for s in (60, 3600, 86400, 2592000)})
    values.update(baseline_accuracy=90.0, ptq_accuracy=89.0, qat_accuracy=88.0, noisy_accuracy=40.0,
                  analog_accuracy=85.0)
    (tmp_path / "old.anb").write_bytes(pickle.dumps({t: arch_cls(t, **values)}))
    bench = AnalogNASBench(tmp_path / "old.anb")
    assert bench.query_metric(t, "noisy_drift_3600").value == 50.0
    assert bench.query_metric(t, "params") is None


def test_sha256_of_the_original_is_checked(tmp_path, original):
    blob, _ = _make_pickle(original, n=3)
    (tmp_path / "data.anb").write_bytes(blob)
    df, meta = load_original(tmp_path / "data.anb")
    assert load_original(tmp_path / "data.anb", sha256=meta.sha256)[1].sha256 == meta.sha256
    with pytest.raises(DatasetIntegrityError, match="data.anb"):
        load_original(tmp_path / "data.anb", sha256="0" * 64)


class _Exploit:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def test_hostile_pickle_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "data.anb"
    path.write_bytes(pickle.dumps({(0, 0, 0, 0, 0, 0): _Exploit(marker)}))
    with pytest.raises(UnsafePickleError, match=r"data\.anb.*refusing to load (posix|os|nt)\.system"):
        AnalogNASBench(path)
    assert not marker.exists()


def test_hostile_pickle_hidden_inside_a_record_is_refused(tmp_path, original):
    arch_cls, _ = original
    marker = tmp_path / "pwned"
    t = (0, 0, 0, 0, 0, 0)
    path = tmp_path / "data.anb"
    path.write_bytes(pickle.dumps({t: arch_cls(t, baseline_accuracy=_Exploit(marker))}))
    with pytest.raises(UnsafePickleError):
        AnalogNASBench(path)
    assert not marker.exists()
    path.write_bytes(pickle.dumps({t: eval}))
    with pytest.raises(UnsafePickleError, match="builtins.eval"):
        AnalogNASBench(path)


def test_truncated_or_wrong_pickles_give_clear_errors(tmp_path, original):
    blob, _ = _make_pickle(original, n=5)
    path = tmp_path / "data.anb"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DatasetIntegrityError, match=r"data\.anb.*truncated or corrupted"):
        AnalogNASBench(path)
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(DatasetIntegrityError, match="holds a list"):
        AnalogNASBench(path)
    path.write_bytes(pickle.dumps({"x": {"baseline_accuracy": 1.0}}))
    with pytest.raises(DatasetIntegrityError, match="6-tuple"):
        AnalogNASBench(path)
