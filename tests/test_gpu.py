"""The pipeline on a CUDA device (skipped without one): what a lent GPU runs for its whole lease must not fail in
its first minute. ``scripts/gpu-reproduce.sh`` runs this module first on the device and stops if it fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from analognasbench.fidelity.calibration import read_arch_file
from analognasbench.pipeline.measure import evaluate_architecture, load_profile_data
from analognasbench.pipeline.profiles import get_profile
from analognasbench.pipeline.resume import MeasurementCheckpoint

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

ROOT = Path(__file__).resolve().parent.parent
#: The whole paper-original protocol shrunk to synthetic 8x8 images (as in test_protocol.py), on the device.
SHRUNK = {"dataset": "synthetic", "image_size": 8, "train_subset": 512, "test_subset": 200, "C": 4, "N": 2,
          "batch_size": 32, "epochs": 2, "qat_epochs": 1, "hwt_epochs": 2, "repetitions": 2, "tta_passes": 2,
          "eval_batch_size": 100, "calibration_batches": 2}


class Stop(Exception):
    pass


def test_paper_original_runs_on_cuda_on_the_reproduce_cells():
    profile = get_profile("paper-original").with_overrides(SHRUNK)
    data = load_profile_data(profile)
    for arch in read_arch_file(ROOT / "scripts" / "reproduce-archs.txt"):
        row = evaluate_architecture(arch, profile, data, 0, device="cuda")
        assert row["device"].startswith("cuda"), row["device"]
        for metric in ("baseline_accuracy", "ptq_accuracy", "qat_accuracy", "noisy_accuracy",
                       "noisy_drift_86400", "analog_accuracy", "analog_drift_2592000"):
            assert 0 <= row[metric] <= 100, (arch, metric)


def test_paper_original_trains_with_graphed_steps_on_cuda(monkeypatch, caplog):
    """The pipeline with ``ANB_CUDA_GRAPHS=1``: the digital and HWT stages both capture their step (HWT after its
    50 steps of input-range initialisation: 5 epochs of 16 steps here) and the row says so; QAT's capturable Adam
    is captured too or, if its fake quantisation cannot be, trains on eagerly, saying why."""
    import json
    import logging

    monkeypatch.setenv("ANB_CUDA_GRAPHS", "1")
    profile = get_profile("paper-original").with_overrides({**SHRUNK, "hwt_epochs": 5})
    data = load_profile_data(profile)
    with caplog.at_level(logging.INFO, logger="analognasbench.pipeline.steps"):
        row = evaluate_architecture((0, 0, 1, 0, 4, 1), profile, data, 0, device="cuda")
    messages = [r.getMessage() for r in caplog.records]
    for stage in ("digital", "hwt"):
        assert sum(m.startswith(f"{stage} step captured in a CUDA graph after") for m in messages) == 1, messages
    assert sum(m.startswith("qat step") for m in messages) == 1, messages
    assert json.loads(row["software"])["training_steps"] == "cuda-graphs"
    for metric in ("baseline_accuracy", "noisy_accuracy", "analog_accuracy", "analog_drift_2592000"):
        assert 0 <= row[metric] <= 100, metric


@pytest.mark.parametrize("stopped_on", ["cuda", "cpu"])
def test_a_measurement_stopped_in_hwt_continues_on_cuda(tmp_path, stopped_on):
    """Also from a CPU checkpoint: session 13's GPU call lost the identity cell to 'RNG state is wrong size' when
    its HWT, begun on the CPU, went on on CUDA (the noise streams' generators differ per device)."""
    profile = get_profile("paper-original").with_overrides(SHRUNK)
    data = load_profile_data(profile)
    checkpoint = MeasurementCheckpoint(tmp_path / "ck", interval_s=0)

    def stop(name: str, k: int, total: int) -> None:
        if (name, k) == ("hwt", 1):
            raise Stop

    with pytest.raises(Stop):
        evaluate_architecture((0, 0, 0, 0, 4, 1), profile, data, 0, device=stopped_on, checkpoint=checkpoint,
                              progress=stop)
    assert set(checkpoint.finished()) == {"baseline", "noisy", "noisy_programmed", "ptq", "qat"}
    seen: list[str] = []
    row = evaluate_architecture((0, 0, 0, 0, 4, 1), profile, data, 0, device="cuda", checkpoint=checkpoint,
                                progress=lambda name, k, total: seen.append(f"{name} {k}"))
    assert seen[0] == "hwt 2"  # went on from the saved epoch, on the device
    assert 0 <= row["analog_drift_86400"] <= 100


def test_the_exact_chip_reads_the_same_on_cuda_and_cpu():
    """With the periphery exact (no output noise, ideal converters) the unprogrammed chip is the digital network:
    CUDA and CPU agree to float32 rounding."""
    from analognasbench.analog import to_analog
    from analognasbench.nets import build_network
    from analognasbench.pipeline.ablation import EvalVariant

    net = build_network((3, 2, 1, 0, 4, 3), C=8, N=1, generator=torch.Generator().manual_seed(0)).eval()
    hardware = EvalVariant(out_noise=0.0, ideal_converters=True).hardware("pcm_paper")
    x = torch.randn(16, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        cpu = to_analog(net, hardware)(x)
        gpu = to_analog(net.cuda(), hardware)(x.cuda()).cpu()
    torch.testing.assert_close(gpu, cpu, rtol=1e-3, atol=1e-3)


def test_the_drop_ablation_measures_on_cuda():
    from analognasbench.pipeline.ablation import AblationSetting, measure_drops

    profile = get_profile("smoke").with_overrides({"epochs": 1})
    records = measure_drops((0, 0, 0, 0, 4, 1), [AblationSetting("base", "smoke", profile)],
                            load_profile_data(profile), 0, device="cuda")
    assert records[0]["device"].startswith("cuda")
    assert 0 <= records[0]["noisy_accuracy"] <= 100


def _graph_training(hardware_changes: dict, graphs: bool, epochs: int = 3):
    """A small analog network's HWT on CUDA (64 synthetic 8x8 images in batches of 16: every batch full), with the
    graphed step (``graphs``) or the eager one; returns the model, the step and the noise generators' states after
    each epoch."""
    from dataclasses import replace

    from analognasbench.analog import (
        analog_layers,
        clip_weights_,
        presets,
        scale_grads_by_input_range_,
        to_analog,
    )
    from analognasbench.datasets import synthetic
    from analognasbench.nets import build_network
    from analognasbench.pipeline.steps import GraphedStep, TrainStep
    from analognasbench.pipeline.training import DeviceData, _epoch

    cuda = torch.device("cuda")
    hardware = presets.get("pcm_paper")
    hardware = replace(hardware, input_range=replace(hardware.input_range, init_from_data=3), **hardware_changes)
    net = build_network((0, 3, 0, 2, 4, 1), C=4, N=1, generator=torch.Generator().manual_seed(0))
    model = to_analog(net, hardware).to(cuda)
    d = synthetic(n_train=64, n_test=16, image_size=8, seed=1)
    data = DeviceData.from_arrays(d.train_x, d.train_y, d.test_x, d.test_y, cuda)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    hooks = {"before_update": lambda: scale_grads_by_input_range_(model), "after_step": lambda: clip_weights_(model)}
    step = (GraphedStep(model, optimizer, cuda, 16, varying_lr=False, **hooks) if graphs
            else TrainStep(model, optimizer, cuda, **hooks))
    gen, states = torch.Generator().manual_seed(2), []
    for _ in range(epochs):
        _epoch(step, data, 16, True, gen, None, 0)
        states.append([layer.noise.torch_generator.get_state() for layer in analog_layers(model)
                       if layer.training_forwards])  # (the cell's pruned edges never run)
    return model, step, states


def test_hwt_steps_are_captured_in_a_cuda_graph_that_draws_fresh_noise():
    model, step, states = _graph_training({}, graphs=True, epochs=4)
    assert step.captured, step.not_captured
    assert step.replays >= 8 and step.replays + step.eager_steps == 16
    # epochs 3 and 4 are replays only: each moved every noise stream on (a graph without its generators registered
    # would draw the capture's numbers again and again)
    assert states[3] and all(not torch.equal(a, b) for a, b in zip(states[2], states[3]))
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_graphed_hwt_steps_match_eager_ones_on_a_noise_free_chip():
    """Without output and weight noise the step is deterministic up to cuDNN's summation order: the replayed steps
    train the eager steps' network."""
    from analognasbench.analog.config import HWTConfig, IOConfig

    quiet = {"io": IOConfig(out_noise=0.0), "hwt": HWTConfig(weight_noise=0.0)}
    torch.backends.cudnn.deterministic = True
    try:
        graphed, step, _ = _graph_training(quiet, graphs=True)
        eager, _, _ = _graph_training(quiet, graphs=False)
    finally:
        torch.backends.cudnn.deterministic = False
    assert step.captured, step.not_captured
    for (key, a), b in zip(graphed.state_dict().items(), eager.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4, msg=key)
