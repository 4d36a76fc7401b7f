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
from analognasbench.pipeline.steps import GraphedStep, TrainStep, make_step, sgd_update_
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
        return GraphedStep(model, optimizer, CPU, BATCH, varying_lr=varying_lr, recorder=recorder,
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
        seen_at_capture.append(([layer.reads_back_in_training for layer in analog_layers(model)
                                 if layer.training_forwards], len(generators)))
        return body

    records, step, optimizer = train(model, graphed(recorder), epochs=4)
    assert step.captured and step.not_captured is None
    (reads_back, n_generators), = seen_at_capture
    assert n_generators == len(analog_layers(model))
    assert reads_back and not any(reads_back)  # every layer that trains had its 3 initialising steps
    # the convolutions on the cell's pruned edges never run (and get no gradient)
    unused = [layer.training_forwards == 0 for layer in analog_layers(model)]
    assert 0 < sum(unused) < len(unused)
    # 56 images in batches of 16: three full batches and one of 8 per epoch; epoch 1 runs eagerly (3 steps
    # initialise the ranges, 3 warm up), then every full batch replays
    assert step.replays == 3 * 3 and step.eager_steps == 4 + 3
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
        return GraphedStep(m, o, CPU, BATCH, varying_lr=True, recorder=rerun)

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
    assert type(make_step(model, optimizer, CPU, 16, graphs=True)) is TrainStep
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
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    step = GraphedStep(model, adam, CPU, BATCH, recorder=rerun)
    assert step.not_captured == "the optimiser's learning rate is a number: a graph would keep it as captured"
    damped = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, dampening=0.1)
    assert "dampening" in GraphedStep(model, damped, CPU, BATCH).not_captured
    adam = torch.optim.Adam(model.parameters(), lr=torch.tensor(1e-3))
    assert "only SGD" in GraphedStep(model, adam, CPU, BATCH, varying_lr=True).not_captured


def test_graphed_qat_steps_follow_the_plateau_schedulers_rate_through_its_tensor():
    """QAT's step on CUDA: Adam (capturable there) with its learning rate in a tensor that the plateau scheduler
    changes in place between epochs, gradient-norm clipping in the graph; trains what eager steps train."""
    from analognasbench.pipeline.training import keep_lr_tensor

    def run(graphed_steps: bool):
        model = build_network((0, 3, 0, 2, 4, 1), C=4, N=1, generator=torch.Generator().manual_seed(0))
        lr = torch.tensor(0.01)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=5e-4)
        # patience 0 and threshold 1: the rate halves after every epoch but the first (it sets the best)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=0,
                                                               threshold=1.0)
        step = (GraphedStep(model, optimizer, CPU, BATCH, grad_clip_norm=1.0, recorder=rerun) if graphed_steps
                else TrainStep(model, optimizer, CPU, grad_clip_norm=1.0))
        data, gen, records = device_data(), torch.Generator().manual_seed(2), []
        for _ in range(3):
            loss, acc, _ = _epoch(step, data, BATCH, True, gen, None, 0)
            records.append((loss, acc, float(optimizer.param_groups[0]["lr"])))
            scheduler.step(acc)
            keep_lr_tensor(optimizer, lr)
            assert optimizer.param_groups[0]["lr"] is lr  # the tensor the captured step reads
        return model, step, records

    graphed_model, step, records = run(True)
    eager_model, _, records_eager = run(False)
    assert step.captured and step.replays == 2 * 3  # epoch 1 warms up; then the 3 full batches of epochs 2, 3
    assert [r[2] for r in records] == pytest.approx([0.01, 0.01, 0.005])  # float32 in the tensor
    assert records == records_eager
    assert_same_state(graphed_model, eager_model)


def test_a_scheduler_that_assigns_a_number_still_reaches_the_graphs_rate():
    from analognasbench.pipeline.training import keep_lr_tensor

    lr = torch.tensor(0.01)
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=lr)
    optimizer.param_groups[0]["lr"] = 0.002  # what an older torch's scheduler does
    keep_lr_tensor(optimizer, lr)
    assert optimizer.param_groups[0]["lr"] is lr and float(lr) == pytest.approx(0.002)


@pytest.mark.parametrize("saved_graphed", [True, False])
def test_a_qat_checkpoint_continues_in_the_other_kind_of_run(saved_graphed):
    """A GPU run's QAT checkpoint (capturable Adam, a tensor rate) continues in an eager run on the CPU and the other
    way round: the rate's value and the moments carry over, the resuming optimiser stays as it was built."""
    from analognasbench.pipeline.training import _restore_optimizer

    def adam(graphed: bool):
        p = torch.nn.Parameter(torch.arange(3.0))
        return p, torch.optim.Adam([p], lr=torch.tensor(0.01) if graphed else 0.01)

    p, saver = adam(saved_graphed)
    p.grad = torch.ones(3)
    saver.step()
    saver.param_groups[0]["lr"] = torch.tensor(0.004) if saved_graphed else 0.004
    state = saver.state_dict()
    state["param_groups"][0]["capturable"] = saved_graphed  # as a CUDA run saves it (not creatable on the CPU)
    q, resumer = adam(not saved_graphed)
    built_lr = resumer.param_groups[0]["lr"]
    _restore_optimizer(resumer, state)
    group = resumer.param_groups[0]
    assert group["capturable"] is False and float(group["lr"]) == pytest.approx(0.004)
    assert (group["lr"] is built_lr) if not saved_graphed else isinstance(group["lr"], float)
    assert torch.equal(resumer.state[q]["exp_avg"], saver.state[p]["exp_avg"])
    assert resumer.state[q]["step"].device.type == "cpu"
    q.grad = torch.ones(3)
    resumer.step()  # an eager CPU Adam refuses a capturable group or, under foreach, a tensor rate


def test_a_measurement_whose_hwt_replays_its_steps_stops_and_resumes_to_the_eager_row(monkeypatch, tmp_path):
    """The pipeline's HWT (the release's constant learning rate) with replayed steps, stopped in the epoch of the
    capture and continued from its checkpoint, gives the uninterrupted eager measurement's row."""
    import analognasbench.pipeline.training as training
    from analognasbench.pipeline.measure import VOLATILE_COLUMNS, evaluate_architecture, load_profile_data
    from analognasbench.pipeline.profiles import get_profile
    from analognasbench.pipeline.resume import MeasurementCheckpoint

    # 512 images in batches of 32: 16 steps per epoch; HWT captures at its 51st step (50 steps initialise the
    # input ranges), in its 4th epoch
    profile = get_profile("paper-original").with_overrides({
        "dataset": "synthetic", "image_size": 8, "train_subset": 512, "test_subset": 200, "C": 4, "N": 2,
        "batch_size": 32, "epochs": 2, "qat_epochs": 1, "hwt_epochs": 5, "repetitions": 2, "tta_passes": 2,
        "eval_batch_size": 100, "calibration_batches": 2})
    data = load_profile_data(profile)
    expected = evaluate_architecture((0, 3, 1, 0, 4, 1), profile, data, 0, device="cpu")
    steps = []
    eager_step = training.make_step

    def replaying(model, optimizer, device, batch_size, *, graphs, varying_lr=False, **hooks):
        # the digital stage's cosine and QAT stay eager, so HWT starts from the eager run's weights
        if varying_lr or not isinstance(optimizer, torch.optim.SGD):
            return eager_step(model, optimizer, device, batch_size, graphs=graphs, varying_lr=varying_lr, **hooks)
        steps.append(GraphedStep(model, optimizer, device, batch_size, recorder=rerun, **hooks))
        return steps[-1]

    monkeypatch.setattr(training, "make_step", replaying)
    checkpoint = MeasurementCheckpoint(tmp_path / "ck", interval_s=0)

    def stop(name: str, k: int, total: int) -> None:
        if (name, k) == ("hwt", 4):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate_architecture((0, 3, 1, 0, 4, 1), profile, data, 0, device="cpu", checkpoint=checkpoint,
                              progress=stop)
    assert steps[0].captured and steps[0].replays == 4 * 16 - 50
    row = evaluate_architecture((0, 3, 1, 0, 4, 1), profile, data, 0, device="cpu", checkpoint=checkpoint)
    for column, value in expected.items():
        if column not in VOLATILE_COLUMNS and column != "software":
            assert row[column] == value or (value != value and row[column] != row[column]), column


def test_a_bad_cuda_graphs_setting_is_one_clear_error_before_anything_runs(monkeypatch, tmp_path, capsys):
    from analognasbench.cli import main

    monkeypatch.setenv("ANB_CUDA_GRAPHS", "on")
    store = tmp_path / "runs.sqlite"
    assert main(["generate", "--profile", "smoke", "--archs", "sample:1", "--store", str(store), "--no-progress"]) == 2
    assert "ANB_CUDA_GRAPHS must be 0 or 1, got 'on'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
