"""The protocol switches (issue 18): each one changes exactly what it says, on small synthetic data."""

from __future__ import annotations

import dataclasses
from functools import partial

import numpy as np
import pytest
import torch
from torch import nn

from analognasbench.analog import (
    AnalogLinear,
    analog_layers,
    presets,
    program,
    scale_grads_by_input_range_,
    to_analog,
)
from analognasbench.analog.config import MappingConfig
from analognasbench.pipeline.measure import (
    EvalPasses,
    evaluate_architecture,
    load_profile_data,
    unprogrammed_accuracies,
)
from analognasbench.pipeline.profiles import (
    HALF,
    CalibrationData,
    HWTUpdateRule,
    LRSchedule,
    Profile,
    ProtocolConfig,
    QATStage,
    QuantizationRecipe,
    SGDStage,
    get_profile,
)
from analognasbench.pipeline.training import (
    DeviceData,
    accuracy,
    calibration_inputs,
    evaluation_batches,
    train_qat,
    train_sgd,
)


def _data(n_train: int = 64, n_test: int = 40, size: int = 8, seed: int = 0) -> DeviceData:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n_train, 3, size, size), dtype=np.uint8)
    xt = rng.integers(0, 256, (n_test, 3, size, size), dtype=np.uint8)
    return DeviceData.from_arrays(x, rng.integers(0, 10, n_train), xt, rng.integers(0, 10, n_test),
                                  torch.device("cpu"))


# -- the profile fields ----------------------------------------------------------------------------------------


def test_defaults_are_the_project_protocol_and_original_is_the_release():
    p = ProtocolConfig()
    assert p.reprogram_each_rep and not p.test_time_augmentation and p.deviations() == []
    assert p.hwt_lr_schedule == LRSchedule.COSINE and p.hwt_update_rule == HWTUpdateRule.LOGICAL
    o = ProtocolConfig.original()
    assert not o.reprogram_each_rep and o.test_time_augmentation and o.tta_passes == 25
    assert o.norm_mean == HALF and o.norm_std == HALF and o.calibration_data == CalibrationData.TEST
    assert o.hwt_lr_schedule == LRSchedule.CONSTANT and o.hwt_update_rule == HWTUpdateRule.AIHWKIT
    assert o.quantization_recipe == QuantizationRecipe.FX_X86
    paper, original = get_profile("paper"), get_profile("paper-original")
    assert dataclasses.replace(original, name="paper", protocol=ProtocolConfig()) == paper
    assert original.hash() != paper.hash()


def test_switches_take_overrides_round_trip_and_change_the_hash():
    base = get_profile("smoke")
    p = base.with_overrides(["reprogram_each_rep=false", "hwt_lr_schedule=constant", "norm_mean=[0.5,0.5,0.5]",
                             "protocol.calibration_data=test", "test_time_augmentation=true", "tta_passes=3"])
    assert not p.reprogram_each_rep and p.protocol.hwt_lr_schedule == LRSchedule.CONSTANT
    assert p.protocol.norm_mean == HALF and p.protocol.calibration_data == CalibrationData.TEST
    assert Profile.from_dict(p.to_dict()) == p
    assert len({base.hash(), p.hash(), base.with_overrides(["tta_passes=3"]).hash()}) == 3


def test_legacy_profiles_with_a_top_level_reprogram_flag_still_load():
    data = get_profile("smoke").to_dict()
    del data["protocol"]
    data["reprogram_each_rep"] = False
    assert Profile.from_dict(data).protocol.reprogram_each_rep is False


@pytest.mark.parametrize("override, message", [
    ("hwt_lr_schedule=linear", "cosine"),
    ("hwt_update_rule=adam", "aihwkit"),
    ("calibration_data=val", "train"),
    ("norm_mean=[0.5,0.5]", "three numbers"),
    ("norm_std=[0.5,0,0.5]", "positive"),
    ("tta_passes=0", ">= 1"),
    ("test_time_augmentation=maybe", "true or false"),
])
def test_bad_switch_values_are_rejected_with_the_valid_ones(override, message):
    with pytest.raises(ValueError, match=message):
        get_profile("smoke").with_overrides([override])


def test_fx_x86_recipe_builds_real_int8_models_close_to_float():
    """The release's recipe: FX prepare/convert with the x86 qconfig gives quantised (int8-kernel) modules, unlike
    the project's fake quantisation, and on a trained network its accuracy stays near the float one."""
    from analognasbench.nets import build_network
    from analognasbench.pipeline import quantization as q

    d = _data(n_train=256, n_test=200)
    torch.manual_seed(0)
    net = build_network((1, 2, 3, 3, 2, 1), 4, 1, 10, generator=torch.Generator().manual_seed(0))
    train_sgd(net, d, SGDStage(epochs=2, lr=0.05), batch_size=32, augment=False,
              generator=torch.Generator().manual_seed(0))
    net.eval()
    test = evaluation_batches(d, 1000)
    calib = calibration_inputs(d, 2, 32, torch.Generator().manual_seed(1))
    ptq = q.fx_x86_ptq(net, calib)
    kinds = {type(m).__module__ for m in ptq.modules()}
    assert any("quantized" in k for k in kinds), kinds
    assert not q.quant_layers(ptq) and q.quant_layers(q.quantise_ptq(net, calib))
    assert abs(accuracy(ptq, test) - accuracy(net, test)) < 10.0
    qat = q.fx_x86_prepare_qat(net, calib[0])
    train_qat(qat, d, QATStage(epochs=1), batch_size=32, augment=False, generator=torch.Generator().manual_seed(2))
    assert any("quantized" in k for k in {type(m).__module__ for m in q.fx_x86_convert(qat).modules()})


@pytest.mark.parametrize("arch", [(1, 2, 3, 3, 2, 1), (2, 3, 0, 2, 4, 3), (0, 0, 0, 0, 4, 1)])
def test_a_measurement_runs_with_the_fx_x86_recipe(arch):
    # Every op kind, pooling included: FX traces the pooling edge as the reference's nn.AvgPool2d (its CPU fast
    # path has control flow FX cannot trace), so `paper-original` measures pooling cells too.
    profile = get_profile("smoke").with_overrides(["quantization_recipe=fx_x86", "repetitions=2",
                                                   "drift_times=[86400]"])
    row = evaluate_architecture(arch, profile, load_profile_data(profile), 0)
    assert 0 <= row["ptq_accuracy"] <= 100 and 0 <= row["qat_accuracy"] <= 100


def test_paper_original_measures_the_cells_chosen_to_reproduce_the_release():
    """The whole `paper-original` protocol (TTA, FX int8, one programming, AIHWKit-rule HWT, test-split
    calibration), shrunk to synthetic 8x8 images and one epoch per stage, on the cells of
    scripts/reproduce-archs.txt: what a lent GPU will run for hours must not fail at its first pooling edge."""
    from pathlib import Path

    from analognasbench.fidelity.calibration import read_arch_file

    archs = read_arch_file(Path(__file__).resolve().parent.parent / "scripts" / "reproduce-archs.txt")
    profile = get_profile("paper-original").with_overrides({
        "dataset": "synthetic", "image_size": 8, "train_subset": 512, "test_subset": 200, "C": 4, "N": 2,
        "batch_size": 32, "epochs": 1, "qat_epochs": 1, "hwt_epochs": 1, "repetitions": 2, "tta_passes": 2,
        "eval_batch_size": 100, "calibration_batches": 2})
    data = load_profile_data(profile)
    for arch in archs:
        row = evaluate_architecture(arch, profile, data, 0)
        assert all(0 <= row[m] <= 100 for m in ("ptq_accuracy", "qat_accuracy", "noisy_accuracy",
                                                "analog_drift_2592000")), arch


# -- normalisation -----------------------------------------------------------------------------------------------


def test_normalisation_constants_set_every_batch():
    d = _data()
    half = dataclasses.replace(d, mean=HALF, std=HALF)
    (x, _), = evaluation_batches(half, 1000)
    assert torch.allclose(x, d.test_x.float() / 255 * 2 - 1, atol=1e-6)
    (x_default, _), = evaluation_batches(d, 1000)
    assert not torch.allclose(x, x_default)
    calib = calibration_inputs(half, 1, 16, torch.Generator().manual_seed(0))
    assert calib[0].min() >= -1 and calib[0].max() <= 1


# -- test-time augmentation ------------------------------------------------------------------------------------


def test_tta_evaluates_seeded_augmented_passes_and_off_means_the_clean_set():
    d = _data()
    clean = evaluation_batches(d, 1000)
    profile = get_profile("smoke")
    off = EvalPasses(d, profile, seed=0)
    assert off.n == 1 and off.get(3)[0][0].equal(clean[0][0])
    on_profile = profile.with_overrides(["test_time_augmentation=true", "tta_passes=4"])
    on = EvalPasses(d, on_profile, seed=0)
    again = EvalPasses(d, on_profile, seed=0)
    assert on.n == 4
    passes = [on.get(k)[0][0].clone() for k in range(4)]
    assert not passes[0].equal(clean[0][0]) and not passes[0].equal(passes[1])
    assert again.get(1)[0][0].equal(passes[1]) and on.get(5)[0][0].equal(passes[1])  # modulo n
    # the pass mean is the mean of the per-pass accuracies
    net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 10))
    mean, std = on.mean_accuracy(net)
    values = [accuracy(net, on.get(k)) for k in range(4)]
    assert mean == pytest.approx(np.mean(values)) and std == pytest.approx(np.std(values, ddof=1))


# -- calibration data ------------------------------------------------------------------------------------------


def test_calibration_data_comes_from_the_chosen_split():
    d = dataclasses.replace(_data(), mean=HALF, std=HALF)
    gen = torch.Generator().manual_seed(0)
    test_images = {tuple(v) for v in (d.test_x.float() / 255 * 2 - 1).flatten(1).round(decimals=4).tolist()}
    train_images = {tuple(v) for v in (d.train_x.float() / 255 * 2 - 1).flatten(1).round(decimals=4).tolist()}
    for split, pool in (("test", test_images), ("train", train_images)):
        (batch,) = calibration_inputs(d, 1, 8, gen, split=split)
        assert all(tuple(v) in pool for v in batch.flatten(1).round(decimals=4).tolist()), split
    with pytest.raises(ValueError, match="train"):
        calibration_inputs(d, 1, 8, gen, split="val")


# -- HWT learning-rate schedule --------------------------------------------------------------------------------


def test_constant_schedule_keeps_the_lr_and_cosine_anneals_it():
    d = _data()
    stage = SGDStage(epochs=3, lr=0.05)
    lrs = {}
    for schedule in ("cosine", "constant"):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 10))
        curve = train_sgd(net, d, stage, batch_size=16, augment=False, generator=torch.Generator().manual_seed(0),
                          schedule=schedule)
        lrs[schedule] = [r.lr for r in curve]
    assert lrs["constant"] == [0.05] * 3
    assert lrs["cosine"][0] < 0.05 and lrs["cosine"][-1] < 0.05 * 0.05  # annealed towards 0 by the last step
    with pytest.raises(ValueError, match="constant"):
        train_sgd(net, d, stage, batch_size=16, augment=False, generator=torch.Generator(), schedule="step")


# -- HWT update rule -------------------------------------------------------------------------------------------


def _two_tile_linear() -> AnalogLinear:
    cfg = presets.get("pcm_paper").replace(mapping=MappingConfig(max_input_size=4, max_output_size=512))
    layer = AnalogLinear(nn.Linear(8, 3), cfg)
    with torch.no_grad():
        layer.input_range.copy_(torch.tensor([2.0, 4.0]))
    return layer


def test_aihwkit_rule_divides_each_weight_gradient_by_its_tiles_input_range():
    layer = _two_tile_linear()
    model = nn.Sequential(layer)
    grad = torch.randn_like(layer.weight)
    layer.weight.grad = grad.clone()
    layer.bias.grad = torch.ones_like(layer.bias)
    layer.input_range.grad = torch.ones_like(layer.input_range)
    scale_grads_by_input_range_(model)
    flat, original = layer.weight.grad.view(3, 8), grad.view(3, 8)
    assert torch.allclose(flat[:, :4], original[:, :4] / 2.0) and torch.allclose(flat[:, 4:], original[:, 4:] / 4.0)
    assert torch.equal(layer.bias.grad, torch.ones(3)) and torch.equal(layer.input_range.grad, torch.ones(2))


def test_aihwkit_rule_scales_the_sgd_step_but_not_weight_decay():
    """One SGD step (no momentum): dW = -(lr / r) grad W - lr wd W under the AIHWKit rule, -lr (grad W + wd W)
    under the logical one (one input tile per layer, r its input range when the update happens)."""
    d = _data(n_train=16)
    steps = {}
    for rule in ("logical", "aihwkit"):
        torch.manual_seed(0)
        net = to_analog(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 8 * 8, 10)),
                        presets.get("pcm_paper"))
        before = [layer.weight.detach().clone() for layer in analog_layers(net)]
        hook = partial(scale_grads_by_input_range_, net) if rule == "aihwkit" else None
        grads, ranges = [], []

        def capture(net=net, grads=grads, ranges=ranges):
            grads.append([layer.weight.grad.detach().clone() for layer in analog_layers(net)])
            ranges.append([float(layer._ranges()[0]) for layer in analog_layers(net)])

        def before_update(hook=hook, capture=capture):
            capture()
            if hook is not None:
                hook()

        train_sgd(net, d, SGDStage(epochs=1, lr=0.1, momentum=0.0, nesterov=False, weight_decay=0.01),
                  batch_size=16, augment=False, generator=torch.Generator().manual_seed(0), schedule="constant",
                  before_update=before_update)
        assert all(layer.layout.n_in == 1 for layer in analog_layers(net))
        steps[rule] = [(layer.weight.detach() - w0, g, w0, r)
                       for layer, w0, g, r in zip(analog_layers(net), before, grads[0], ranges[0])]
    for (delta_l, g_l, w0, _), (delta_a, g_a, w0_a, r) in zip(steps["logical"], steps["aihwkit"]):
        assert torch.equal(w0, w0_a) and torch.allclose(g_l, g_a)  # same start, same gradient
        assert torch.allclose(delta_l, -0.1 * (g_l + 0.01 * w0), atol=1e-6)
        assert torch.allclose(delta_a, -0.1 * (g_a / r + 0.01 * w0), atol=1e-6)
        assert abs(r - 1.0) > 0.1


# -- the t = 0 readings ------------------------------------------------------------------------------------------


def test_unprogrammed_reading_is_the_exact_weights_through_the_periphery():
    d = _data()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 10)).eval()
    test = evaluation_batches(d, 1000)
    ideal = to_analog(net, presets.get("ideal"))
    assert unprogrammed_accuracies(ideal, test, 3, seed=0, purpose=8) == [accuracy(net, test)] * 3
    noisy = to_analog(net, presets.get("pcm_paper"))
    first = unprogrammed_accuracies(noisy, test, 4, seed=0, purpose=8)
    assert first == unprogrammed_accuracies(noisy, test, 4, seed=0, purpose=8)  # seeded output noise
    program(noisy, 0)
    with pytest.raises(ValueError, match="not been programmed"):
        unprogrammed_accuracies(noisy, test, 1, seed=0, purpose=8)


def test_a_row_holds_both_t0_readings_with_their_passes_and_programmings():
    profile = get_profile("smoke").with_overrides(["repetitions=2", "drift_times=[86400]"])
    row = evaluate_architecture((1, 2, 3, 3, 2, 1), profile, load_profile_data(profile), 0)
    for prefix in ("noisy", "analog"):
        assert len(row[f"{prefix}_accuracy_reps"]) == 2 and len(row[f"{prefix}_programmed_accuracy_reps"]) == 2
        assert row[f"{prefix}_accuracy"] == pytest.approx(np.mean(row[f"{prefix}_accuracy_reps"]))
    tta = profile.with_overrides(["test_time_augmentation=true", "tta_passes=3"])
    row = evaluate_architecture((1, 2, 3, 3, 2, 1), tta, load_profile_data(tta), 0)
    assert len(row["noisy_accuracy_reps"]) == 3 and len(row["noisy_programmed_accuracy_reps"]) == 2
    assert row["baseline_accuracy_std"] > 0  # the augmented passes differ
