"""Training steps replayed from a captured CUDA graph (:mod:`analognasbench.pipeline.steps`), checked on the CPU.

A CPU cannot capture a CUDA graph, so the recorder here replays by running the captured step's code again. That
exercises everything around the capture (the static batch, the eager warm-up until the input ranges are
initialised, the graphed SGD update on torch's own momentum buffers, the epoch sums, the eager last batch, the
fall-back when capture fails); ``tests/test_gpu.py`` captures for real on a CUDA device.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import replace

import pytest
import torch

from analognasbench.analog import (
    analog_layers,
    clip_weights_,
    presets,
    scale_grads_by_input_range_,
    to_analog,
)
from analognasbench.datasets import synthetic
from analognasbench.nets import build_network
from analognasbench.pipeline.steps import GraphedSGDStep, TrainStep, sgd_step, sgd_update_
from analognasbench.pipeline.training import DeviceData, _epoch, cosine_lr, cuda_graphs_wanted

CPU = torch.device("cpu")
BATCH = 16


def rerun(body, generators, device):
    """The CPU's stand-in for a CUDA graph: each replay runs the captured step's code again."""
    return body


def hwt_network(init_from_data: int = 3) -> torch.nn.Module:
    hardware = presets.get("pcm_paper")
    hardware = replace(hardware, input_range=replace(hardware.input_range, init_from_data=init_from_data))
    net = build_network((0, 3, 0, 2, 4, 1), C=4, N=1, generator=torch.Generator().manual_seed(0))
    return to_analog(net, hardware)


def device_data(n_train: int = 56) -> DeviceData:
    d = synthetic(n_train=n_train, n_test=16, image_size=8, seed=1)
    return DeviceData.from_arrays(d.train_x, d.train_y, d.test_x, d.test_y, CPU)


def train(model: torch.nn.Module, make_step, epochs: int = 3, cosine: bool = False, n_train: int = 56):
    """``train_sgd``'s loop with the step ``make_step(model, optimizer)`` builds; returns the records, the step and
    the optimiser."""
    data = device_data(n_train)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    total = epochs * -(-n_train // BATCH)

    def set_lr(k: int) -> None:
        optimizer.param_groups[0]["lr"] = cosine_lr(0.05, k, total)

    step = make_step(model, optimizer)
    gen = torch.Generator().manual_seed(2)
    records, k = [], 0
    for _ in range(epochs):
        loss, acc, steps = _epoch(step, data, BATCH, True, gen, set_lr if cosine else None, k)
        k += steps
        records.append((loss, acc))
    return records, step, optimizer


def hwt_hooks(model):
    return {"before_update": lambda: scale_grads_by_input_range_(model), "after_step": lambda: clip_weights_(model)}


def eager(model, optimizer):
    return TrainStep(model, optimizer, CPU, **hwt_hooks(model))


def graphed(recorder=rerun, varying_lr=False):
    def make(model, optimizer):
        return GraphedSGDStep(model, optimizer, CPU, BATCH, varying_lr=varying_lr, recorder=recorder,
                              **hwt_hooks(model))
    return make


def assert_same_state(a: torch.nn.Module, b: torch.nn.Module, exact: bool = True) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        if exact:
            assert torch.equal(sa[key], sb[key]), key
        else:
            torch.testing.assert_close(sa[key], sb[key], rtol=1e-4, atol=1e-5, msg=key)


def test_sgd_update_is_torchs_sgd_step_for_step():
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(5, 3, generator=gen, requires_grad=True), torch.randn(7, generator=gen, requires_grad=True)]
    mine = [p.detach().clone() for p in params]
    for nesterov in (True, False):
        optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=nesterov, weight_decay=5e-4)
        buffers = None
        for _ in range(4):
            grads = [torch.randn(p.shape, generator=gen) for p in params]
            for p, g in zip(params, grads):
                p.grad = g.clone()
            optimizer.step()
            if buffers is None:  # SGD's first step creates the buffers; the graphed update starts after it
                buffers = [optimizer.state[p]["momentum_buffer"].clone() for p in params]
                mine = [p.detach().clone() for p in params]
                continue
            sgd_update_(mine, grads, buffers, 0.1, momentum=0.9, weight_decay=5e-4, nesterov=nesterov)
            for p, m, b in zip(params, mine, buffers):
                assert torch.equal(p.detach(), m)
                assert torch.equal(optimizer.state[p]["momentum_buffer"], b)


def test_sgd_update_with_a_device_learning_rate_matches_to_rounding():
    p = torch.randn(100, generator=torch.Generator().manual_seed(0))
    g = torch.randn(100, generator=torch.Generator().manual_seed(1))
    a, b = p.clone(), p.clone()
    buf_a, buf_b = g.clone(), g.clone()
    sgd_update_([a], [g], [buf_a], 0.037, momentum=0.9, weight_decay=5e-4, nesterov=True)
    sgd_update_([b], [g], [buf_b], torch.tensor(0.037), momentum=0.9, weight_decay=5e-4, nesterov=True)
    torch.testing.assert_close(a, b, rtol=2.5e-7, atol=0)  # one float32 rounding of lr * d
    with pytest.raises(ValueError, match="one momentum buffer per parameter"):
        sgd_update_([a], [g], None, 0.1, momentum=0.9, weight_decay=0.0, nesterov=False)


def test_graphed_hwt_trains_exactly_like_eager_steps_at_a_constant_learning_rate():
    """The release's HWT (constant learning rate): replayed steps give the eager run's weights, momentum, input
    ranges, noise streams and epoch records bit for bit; capture waited for the ranges' initialisation."""
    reference = hwt_network()
    model = copy.deepcopy(reference)
    records_eager, _, opt_eager = train(reference, eager, epochs=4)
    seen_at_capture = []

    def recorder(body, generators, device):
        seen_at_capture.append(([layer.initialising_ranges for layer in analog_layers(model)], len(generators)))
        return body

    records, step, optimizer = train(model, graphed(recorder), epochs=4)
    assert step.captured and step.not_captured is None
    (initialising, n_generators), = seen_at_capture
    assert n_generators == len(analog_layers(model))
    # the convolutions fed only by the cell's zero edges never initialise (no spread in their inputs): capture
    # waited the warm-up plus init_from_data steps for them, and they go on initialising on the device
    dead = [int(layer.input_range_updates) == 0 for layer in analog_layers(model)]
    assert initialising == dead and 0 < sum(dead) < len(dead)
    # 56 images in batches of 16: three full batches and one of 8 per epoch; 3 + 3 eager steps before capture
    assert step.replays == 1 + 3 + 3 and step.eager_steps == 4 + 2 + 1 + 1 + 1
    assert records == records_eager
    assert_same_state(model, reference)
    for p, q in zip(model.parameters(), reference.parameters()):
        a, b = optimizer.state[p].get("momentum_buffer"), opt_eager.state[q].get("momentum_buffer")
        assert (a is None) == (b is None) and (a is None or torch.equal(a, b))  # None: a pruned edge's weight
    for a, b in zip(analog_layers(model), analog_layers(reference)):
        assert a.noise.get_state()["bits"] == b.noise.get_state()["bits"]


def test_graphed_steps_follow_a_schedule_through_a_device_learning_rate():
    reference = build_network((0, 3, 0, 2, 4, 1), C=4, N=1, generator=torch.Generator().manual_seed(0))
    model = copy.deepcopy(reference)
    records_eager, _, _ = train(reference, lambda m, o: TrainStep(m, o, CPU), cosine=True)

    def make(m, o):
        return GraphedSGDStep(m, o, CPU, BATCH, varying_lr=True, recorder=rerun)

    records, step, _ = train(model, make, cosine=True)
    assert step.captured and step.replays == 6  # a digital network: captured after the warm-up steps alone
    assert step._lr is not None and float(step._lr) == pytest.approx(cosine_lr(0.05, 10, 12))  # last full batch
    assert_same_state(model, reference, exact=False)
    for (loss, acc), (loss_e, acc_e) in zip(records, records_eager):
        assert loss == pytest.approx(loss_e, rel=1e-4) and acc == pytest.approx(acc_e, abs=100 / 56 + 1e-9)


def test_a_failed_capture_trains_on_eagerly_and_says_why(caplog):
    def refuses(body, generators, device):
        raise RuntimeError("operation not permitted when stream is capturing")

    reference = hwt_network()
    model = copy.deepcopy(reference)
    records_eager, _, _ = train(reference, eager)
    with caplog.at_level(logging.WARNING, logger="analognasbench.pipeline.steps"):
        records, step, _ = train(model, graphed(refuses))
    assert not step.captured and step.replays == 0 and step.eager_steps == 12
    assert "capture failed: RuntimeError: operation not permitted" in step.not_captured
    assert sum("not captured" in r.getMessage() for r in caplog.records) == 1  # said once, not every step
    assert records == records_eager
    assert_same_state(model, reference)


def test_steps_are_captured_only_on_cuda_and_can_be_turned_off(monkeypatch):
    model = build_network((0, 0, 0, 0, 0, 0), C=4, N=1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    assert type(sgd_step(model, optimizer, CPU, 16, varying_lr=False, graphs=True)) is TrainStep
    assert device_data().training_steps == "eager"
    monkeypatch.delenv("ANB_CUDA_GRAPHS", raising=False)
    assert cuda_graphs_wanted() is False  # off until measured on a GPU
    monkeypatch.setenv("ANB_CUDA_GRAPHS", "1")
    assert cuda_graphs_wanted() is True and DeviceData(*device_data().__dict__.values()).graphs
    monkeypatch.setenv("ANB_CUDA_GRAPHS", "0")
    assert cuda_graphs_wanted() is False
    monkeypatch.setenv("ANB_CUDA_GRAPHS", "yes")
    with pytest.raises(ValueError, match="ANB_CUDA_GRAPHS must be 0 or 1, got 'yes'"):
        cuda_graphs_wanted()


def test_an_optimiser_without_a_graphed_update_is_never_captured():
    model = build_network((0, 0, 0, 0, 0, 0), C=4, N=1)
    adam = torch.optim.Adam(model.parameters())
    step = GraphedSGDStep(model, adam, CPU, BATCH, varying_lr=False, recorder=rerun)  # type: ignore[arg-type]
    assert step.not_captured == "the optimiser is not SGD with one parameter group"
    damped = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, dampening=0.1)
    assert "dampening" in GraphedSGDStep(model, damped, CPU, BATCH, varying_lr=False).not_captured
