"""Measuring one architecture: the row, determinism, the analog wiring, int8 simulation and bad input.

Everything runs the real pipeline on the ``smoke`` profile (synthetic 8x8 images, C=4, N=1).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from threads_fixture import one_thread  # noqa: F401  (autouse: every test here on one thread)

from analognasbench.datasets import synthetic
from analognasbench.nets import build_network, count_flops
from analognasbench.pipeline import quantization as q
from analognasbench.pipeline.measure import (
    VOLATILE_COLUMNS,
    evaluate_architecture,
    format_stage_times,
    load_profile_data,
    stage_times,
)
from analognasbench.pipeline.profiles import get_profile
from analognasbench.pipeline.schema import (
    DRIFT_TIMES,
    EVAL_STAGES,
    PROVENANCE_COLUMNS,
    REPEATED_METRICS,
    TRAIN_STAGES,
    Metric,
    all_columns,
)
from analognasbench.pipeline.training import (
    DeviceData,
    accuracy,
    calibration_inputs,
    evaluation_batches,
    train_sgd,
)
from analognasbench.space import canonical_index, parse

ARCH = (2, 3, 0, 2, 4, 3)  # convs, pooling and a skip: every kind of layer


@pytest.fixture(scope="module")
def smoke():
    return get_profile("smoke")


@pytest.fixture(scope="module")
def smoke_data(smoke):
    return load_profile_data(smoke)


@pytest.fixture(scope="module")
def row(smoke, smoke_data):
    torch.set_num_threads(1)
    return evaluate_architecture(ARCH, smoke, smoke_data, seed=3, device="cpu")


def test_row_has_every_schema_column_with_sane_values(row, smoke):
    assert set(all_columns()) <= set(row)
    assert list(row)[: len(all_columns())] == all_columns()
    arch = parse(ARCH)
    assert row["arch_index"] == arch.index and row["arch"] == str(ARCH) and row["arch_str"] == arch.nb201_str
    assert row["canonical_index"] == canonical_index(arch)
    net = build_network(ARCH, smoke.C, smoke.N, smoke.num_classes)
    assert row["params"] == sum(p.numel() for p in net.parameters())
    assert row["flops"] == count_flops(ARCH, smoke.C, smoke.N, smoke.num_classes, smoke.image_size) > 0
    for m in Metric:
        assert 0.0 <= row[m.value] <= 100.0, m
        assert row[f"{m.value}_std"] >= 0.0, m
    for m in (Metric.BASELINE, Metric.PTQ, Metric.QAT):
        assert row[f"{m.value}_std"] == 0.0
    for m in REPEATED_METRICS:
        reps = row[f"{m.value}_reps"]
        assert isinstance(reps, list) and len(reps) == smoke.repetitions
        assert all(isinstance(v, float) and 0 <= v <= 100 for v in reps)
        assert math.isclose(row[m.value], float(np.mean(reps)), abs_tol=1e-9)
        assert math.isclose(row[f"{m.value}_std"], float(np.std(reps, ddof=1)), abs_tol=1e-9)
    # Far above chance (10 %) on the synthetic data, so the wiring is tested on a network that learned.
    assert row["baseline_accuracy"] > 30.0


def test_row_curves_times_and_provenance(row, smoke):
    for stage, epochs in (("digital", smoke.train.epochs), ("qat", smoke.qat.epochs), ("hwt", smoke.hwt.epochs)):
        curve = json.loads(row[f"curve_{stage}"])
        assert [e["epoch"] for e in curve] == list(range(1, epochs + 1))
        assert all(e["loss"] > 0 and 0 <= e["accuracy"] <= 100 for e in curve)
    for stage in TRAIN_STAGES + EVAL_STAGES:
        assert row[f"time_{stage}_s"] > 0
    parts = sum(row[f"time_{s}_s"] for s in TRAIN_STAGES + EVAL_STAGES)
    assert parts <= row["time_total_s"] * 1.001
    assert (row["profile_name"], row["profile_hash"], row["seed"], row["repetitions"]) == (
        "smoke", smoke.hash(), 3, smoke.repetitions)
    assert row["device"].startswith("cpu")
    assert row["created"].endswith("+00:00")
    assert json.loads(row["software"])["torch"] == torch.__version__
    assert json.loads(row["software"])["training_steps"] == "eager"  # CUDA graphs exist on CUDA only
    assert set(PROVENANCE_COLUMNS) <= set(row)
    times = stage_times(row)
    assert list(times) == ["digital", "baseline", "ptq", "qat", "noisy", "hwt", "analog", "total"]
    assert "total" in format_stage_times(row)


def test_same_seed_gives_the_same_row(row, smoke, smoke_data):
    again = evaluate_architecture(ARCH, smoke, smoke_data, seed=3, device="cpu")
    for column in row:
        if column not in VOLATILE_COLUMNS:
            assert again[column] == row[column], column


def test_noisy_and_drift_columns_follow_the_profile(smoke, smoke_data):
    profile = smoke.with_overrides(["repetitions=2", "drift_times=[86400]", "epochs=1", "hwt.epochs=0",
                                    "qat.epochs=0"])
    r = evaluate_architecture(ARCH, profile, smoke_data, seed=0, device="cpu")
    assert len(r["noisy_accuracy_reps"]) == 2 and len(r["analog_drift_86400_reps"]) == 2
    for t in DRIFT_TIMES:
        if t != 86400:
            assert math.isnan(r[f"noisy_drift_{t}"]) and r[f"analog_drift_{t}_reps"] == []
    assert json.loads(r["curve_hwt"]) == [] and json.loads(r["curve_qat"]) == []
    assert r["profile_hash"] == profile.hash() != smoke.hash()


def test_ideal_hardware_reproduces_the_digital_network(smoke, smoke_data):
    """On the ideal preset the chip computes exactly the digital network: every noisy read-out, at every time,
    equals the baseline; with no HWT epochs the analog network is the digital one too."""
    profile = smoke.with_overrides(["hardware_preset=ideal", "hwt.epochs=0", "qat.epochs=0", "repetitions=2"])
    r = evaluate_architecture(ARCH, profile, smoke_data, seed=1, device="cpu")
    for prefix in ("noisy", "analog"):
        for name in [f"{prefix}_accuracy"] + [f"{prefix}_drift_{t}" for t in DRIFT_TIMES]:
            assert r[f"{name}_reps"] == [r["baseline_accuracy"]] * 2, name


def test_pcm_noise_does_not_help_on_average(smoke, smoke_data):
    profile = smoke.with_overrides(["qat.epochs=0", "hwt.epochs=0", "drift_times=[2592000]"])
    gaps = []
    for i, arch in enumerate([(2, 2, 2, 2, 2, 2), (3, 2, 0, 3, 2, 0), (2, 4, 3, 0, 2, 3)]):
        r = evaluate_architecture(arch, profile, smoke_data, seed=i, device="cpu")
        gaps.append(r["baseline_accuracy"] - r["noisy_accuracy"])
        assert r["noisy_accuracy_std"] > 0 or r["baseline_accuracy"] in (0.0, 100.0)
    assert np.mean(gaps) >= 0.0


def test_one_programming_mode_repeats_only_read_outs(smoke, smoke_data):
    """reprogram_each_rep=False (the original release's mode) keeps the programming noise fixed, so it differs
    from independent programmings with the same seed but still yields R values."""
    base = smoke.with_overrides(["qat.epochs=0", "hwt.epochs=0", "drift_times=[60]", "repetitions=3"])
    once = base.with_overrides(["reprogram_each_rep=false"])
    a = evaluate_architecture(ARCH, base, smoke_data, seed=5, device="cpu")
    b = evaluate_architecture(ARCH, once, smoke_data, seed=5, device="cpu")
    assert a["baseline_accuracy"] == b["baseline_accuracy"]
    assert len(b["noisy_accuracy_reps"]) == 3
    assert a["profile_hash"] != b["profile_hash"]


# -- int8 simulation -----------------------------------------------------------------------------------------------


def test_weight_fake_quant_is_per_channel_int8():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(6, 4, 3, 3, generator=g) * torch.arange(1, 7).view(-1, 1, 1, 1)
    wq = q.fake_quant_weight(w)
    for c in range(6):
        scale = w[c].abs().max() / 127
        levels = torch.round(wq[c] / scale)
        assert torch.allclose(levels * scale, wq[c], atol=1e-6)
        assert levels.abs().max() == 127
        assert (wq[c] - w[c]).abs().max() <= scale / 2 + 1e-6


def test_activation_fake_quant_range_levels_and_straight_through_gradient():
    x = torch.linspace(-1.5, 3.5, 1001, requires_grad=True)
    lo, hi = torch.tensor(-1.0), torch.tensor(3.0)
    y = q.fake_quant_activation(x, lo, hi)
    scale, zero_point = q.act_qparams(lo, hi)
    assert len(torch.unique(y.detach())) <= 256
    assert y.min() >= -1.0 - scale and y.max() <= 3.0 + scale
    inside = (x > -1.0 + scale) & (x < 3.0 - scale)
    assert (y - x).abs()[inside].max() <= scale / 2 + 1e-6
    assert float(((0 - zero_point) * scale).abs()) < 1e-6 or zero_point > 0  # zero is representable
    y.sum().backward()
    assert torch.all(x.grad[inside] == 1) and torch.all(x.grad[(x < -1.1) | (x > 3.1)] == 0)


def test_ptq_is_close_to_float_on_a_trained_network(smoke, smoke_data):
    data = DeviceData.from_arrays(smoke_data.train_x, smoke_data.train_y, smoke_data.test_x, smoke_data.test_y,
                                  torch.device("cpu"))
    net = build_network((2, 2, 2, 2, 2, 2), smoke.C, smoke.N, generator=torch.Generator().manual_seed(0))
    train_sgd(net, data, smoke.train, batch_size=smoke.batch_size, augment=False,
              generator=torch.Generator().manual_seed(1))
    test = evaluation_batches(data, 500)
    base = accuracy(net, test)
    qnet = q.quantise_ptq(net, calibration_inputs(data, 2, 64, torch.Generator().manual_seed(2)))
    assert base > 30.0
    assert abs(accuracy(qnet, test) - base) <= 3.0
    # The float network is untouched and every conv/linear of the copy is quantised.
    assert not q.quant_layers(net) and len(q.quant_layers(qnet)) == sum(
        isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for m in net.modules())
    with torch.no_grad():
        x = test[0][0][:8]
        assert not torch.equal(qnet(x), net.eval()(x))


def test_uncalibrated_quantised_model_refuses_to_run():
    net = torch.nn.Sequential(torch.nn.Linear(4, 2))
    qnet = q.prepare_int8(net)
    q.set_phase(qnet, "quant")
    with pytest.raises(RuntimeError, match="calibrate_int8"):
        qnet(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="no Conv2d or Linear"):
        q.prepare_int8(torch.nn.Sequential(torch.nn.ReLU()))


# -- bad input -----------------------------------------------------------------------------------------------------


def test_bad_input_fails_before_any_work(smoke, smoke_data):
    with pytest.raises(ValueError, match="6 edges|op indices"):
        evaluate_architecture((2, 2, 2), smoke, smoke_data, seed=0)
    with pytest.raises(ValueError, match="op indices"):
        evaluate_architecture((9, 2, 2, 2, 2, 2), smoke, smoke_data, seed=0)
    with pytest.raises(ValueError, match="valid profiles"):
        evaluate_architecture(ARCH, "nope", smoke_data, seed=0)
    with pytest.raises(ValueError, match="seed"):
        evaluate_architecture(ARCH, smoke, smoke_data, seed=-1)
    with pytest.raises(ValueError, match="pcm_paper"):
        evaluate_architecture(ARCH, smoke.with_overrides(["hardware_preset=memristor9000"]), smoke_data, seed=0)
    other = synthetic(512, 200, 16, 10, 0)
    with pytest.raises(ValueError, match="does not match profile"):
        evaluate_architecture(ARCH, smoke, other, seed=0)


def test_unreadable_data_path_is_a_clear_error(tmp_path):
    profile = get_profile("cifar_lowcost")
    with pytest.raises(ValueError, match="does not exist"):
        load_profile_data(profile, tmp_path / "nowhere.tar.gz")


def test_smoke_data_is_seeded(smoke):
    a, b = load_profile_data(smoke), load_profile_data(smoke)
    assert np.array_equal(a.train_x, b.train_x) and a.provenance == b.provenance
    c = load_profile_data(smoke.with_overrides(data_seed=1))
    assert not np.array_equal(a.train_x, c.train_x)
