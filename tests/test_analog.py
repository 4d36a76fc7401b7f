"""Analog simulator: conversion, statistics of the device model against its formulas, IO semantics, HWT, errors."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from analognasbench import analog
from analognasbench.analog import devices
from analognasbench.analog.config import (
    AnalogConfigError,
    HardwareConfig,
    HWTConfig,
    InputRangeConfig,
    IOConfig,
    MappingConfig,
    PCMNoiseConfig,
    RRAMNoiseConfig,
)

torch.set_num_threads(1)


def small_cnn(seed: int = 0, c: int = 8) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(3, c, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=False),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * c * 4 * 4, 10),
    )
    for p in net.parameters():
        with torch.no_grad():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return net.eval()


def images(n: int = 16, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, 3, 8, 8, generator=torch.Generator().manual_seed(seed))


def single_linear(weights: torch.Tensor, config: HardwareConfig | str) -> analog.AnalogLinear:
    """One analog Linear on a single tile (whatever its size), so one weight sets the tile max."""
    config = analog.resolve_config(config)
    config = config.replace(mapping=MappingConfig(max_input_size=10**7, max_output_size=10**7))
    lin = nn.Linear(weights.shape[1], weights.shape[0], bias=False)
    with torch.no_grad():
        lin.weight.copy_(weights)
    return analog.to_analog(lin, config)


# ---------------------------------------------------------------- ideal preset and tiling


@pytest.mark.parametrize("max_in", [512, 20, 7])
def test_ideal_preset_equals_digital_for_any_tiling(max_in: int) -> None:
    net = small_cnn()
    cfg = analog.presets.get("ideal").replace(mapping=MappingConfig(max_input_size=max_in, max_output_size=5))
    anet = analog.to_analog(net, cfg).eval()
    x = images()
    assert torch.allclose(anet(x), net(x), atol=1e-5, rtol=1e-5)
    analog.program(anet, 3)
    analog.drift_to(anet, 1e6)
    assert torch.allclose(anet(x), net(x), atol=1e-5, rtol=1e-5)
    rows = [27, 72, 256]  # 3x3x3, 8x3x3, 256 inputs: tiles of 7 rows cut through channels
    assert [layer.layout.n_in for layer in analog.analog_layers(anet)] == [math.ceil(r / max_in) for r in rows]


def test_to_analog_is_pure_and_to_digital_round_trips() -> None:
    net = small_cnn()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    anet = analog.to_analog(net, "pcm_paper")
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert isinstance(anet[0], analog.AnalogConv2d) and isinstance(anet[5], analog.AnalogLinear)
    assert isinstance(net[0], nn.Conv2d)
    back = analog.to_digital(anet)
    x = images()
    assert type(back[0]) is nn.Conv2d and type(back[5]) is nn.Linear
    assert torch.equal(back(x), net(x))


@pytest.mark.parametrize("max_in", [512, 40, 20])
def test_no_grad_inference_equals_the_graph_path_for_any_tiling(max_in: int) -> None:
    """The no-grad pass (in place, by chunks, tiles summed per chunk) gives the graph path's numbers exactly."""
    cfg = analog.presets.get("pcm_paper").replace(mapping=MappingConfig(max_input_size=max_in, max_output_size=5))
    anet = analog.to_analog(small_cnn(), cfg).eval()
    analog.program(anet, 2)
    analog.drift_to(anet, 60.0)
    x = images(700)  # several chunks in the largest layer
    outs = []
    for graph in (False, True):
        for i, layer in enumerate(analog.analog_layers(anet)):
            layer.noise.reseed(i)
        with torch.set_grad_enabled(graph):
            outs.append(anet(x).detach())
    assert torch.equal(outs[0], outs[1])
    assert max(layer.layout.n_in for layer in analog.analog_layers(anet)) == math.ceil(256 / max_in)


def test_tile_split_matches_aihwkit_rule() -> None:
    assert analog.layers.split_sizes(576, 512) == [288, 288]
    assert analog.layers.split_sizes(1025, 512) == [342, 342, 341]
    conv = nn.Conv2d(64, 64, 3, padding=1)
    layer = analog.to_analog(conv, "pcm_paper")
    assert layer.layout.n_in == 2 and layer.layout.gather is None  # 32 channels x 9 per tile, no gather


# ---------------------------------------------------------------- IO semantics


def test_dac_and_adc_steps_follow_aihwkit_units() -> None:
    """inp_res is a fraction of 2*inp_bound scaled by the input range; out_res a fraction of 2*out_bound."""
    cfg = analog.presets.get("pcm_paper").replace(
        io=IOConfig(out_noise=0.0), noise=None, drift_compensation=False
    )
    layer = single_linear(torch.tensor([[1.0]]), cfg).eval()  # max|W| = 1, input range 3
    x = torch.linspace(-4, 4, 2001).view(-1, 1)
    y = layer(x).view(-1)
    in_step, out_step = 2 / 254, 20 / 254
    codes = torch.round(x.view(-1).clamp(-3, 3) / 3 / in_step)  # DAC: input range 3, 255 levels
    adc = codes * in_step / out_step
    expected = torch.round(adc) * out_step * 3
    not_tie = (adc - adc.floor() - 0.5).abs() > 1e-4  # exact .5 ties may round either way in float
    assert not_tie.float().mean() > 0.9
    assert torch.allclose(y[not_tie], expected[not_tie], atol=1e-5)
    assert len(torch.unique(y)) == 2 * 13 + 1  # ADC levels reachable from |input| <= 1: 127*0.1 -> 12.7
    big = single_linear(torch.full((1, 20), 1.0), cfg).eval()
    assert torch.allclose(big(torch.full((1, 20), 3.0)), torch.tensor([[10.0 * 3]]))  # ADC bound 10


def test_output_noise_std_per_tile_in_normalised_units() -> None:
    cfg = analog.presets.get("pcm_paper").replace(
        io=IOConfig(out_res=None), noise=None, drift_compensation=False
    )
    w = torch.full((1, 4), 0.5)
    layer = single_linear(w, cfg).eval()
    x = torch.zeros(20000, 4)
    y = layer(x).view(-1)
    # noise 0.04 in tile units -> times max|W| (0.5) times input range (3) in activation units
    assert y.std().item() == pytest.approx(0.04 * 0.5 * 3, rel=0.03)
    assert abs(y.mean().item()) < 0.003


# ---------------------------------------------------------------- device statistics


def _level_weights(level: float, n: int = 40000) -> torch.Tensor:
    w = torch.full((1, n), level)
    w[0, 0] = 1.0  # tile max
    return w


@pytest.mark.parametrize("level", [0.1, 0.5, 0.9])
def test_programming_noise_std_follows_polynomial(level: float) -> None:
    pcm = PCMNoiseConfig()
    cfg = analog.presets.get("pcm_paper")
    layer = single_linear(_level_weights(level), cfg)
    analog.program(layer, 11)
    g = layer.programmed_state.weights.view(-1)[1:] * pcm.g_max
    c0, c1, c2 = pcm.prog_coeff
    sigma_plus = c0 + c1 * level + c2 * level**2
    var_minus = c0**2 * (0.5 - 1 / (2 * math.pi))  # the g- device at 0 reads max(0, c0 N)
    assert g.std().item() == pytest.approx(math.sqrt(sigma_plus**2 + var_minus), rel=0.03)
    assert g.mean().item() == pytest.approx(level * pcm.g_max - c0 / math.sqrt(2 * math.pi), abs=0.02)


@pytest.mark.parametrize("level", [0.05, 0.3, 1.0])
def test_drift_exponents_follow_formulas(level: float) -> None:
    layer = single_linear(_level_weights(level), analog.presets.get("pcm_paper"))
    analog.program(layer, 5)
    nu = layer.programmed_state.plus.view(-1)[1:]
    mu = min(max(-0.0155 * math.log(level) + 0.0244, 0.049), 0.1)
    sigma = min(max(-0.0125 * math.log(level) - 0.0059, 0.008), 0.045)
    folded_mean = sigma * math.sqrt(2 / math.pi) * math.exp(-(mu**2) / (2 * sigma**2)) + mu * math.erf(
        mu / (sigma * math.sqrt(2))
    )
    assert nu.mean().item() == pytest.approx(folded_mean, rel=0.02)
    assert (nu >= 0).all()
    folded_var = mu**2 + sigma**2 - folded_mean**2
    assert nu.std().item() == pytest.approx(math.sqrt(folded_var), rel=0.03)


def test_t0_read_noise_without_drift_and_mean_drift_over_time() -> None:
    pcm = PCMNoiseConfig()
    cfg = analog.presets.get("pcm_paper").replace(drift_compensation=False)
    layer = single_linear(_level_weights(0.8), cfg)
    analog.program(layer, 2)
    w_prog = layer.programmed_state.weights.view(-1)[1:]
    analog.drift_to(layer, 0.0)
    w0 = layer.weights_at_time.view(-1)[1:]
    rel = (w0 - w_prog) / w_prog
    q = min(0.0088 / max(0.8**0.65, 1e-3), 0.2)  # Q at g_P/g_max ~ 0.8 (g_P varies only a few %)
    expected = q * math.sqrt(math.log((pcm.t0 + pcm.t_read) / (2 * pcm.t_read)))
    assert abs(rel.mean().item()) < 0.002  # no drift at t = 0
    assert rel.std().item() == pytest.approx(expected, rel=0.06)
    t = 86400.0
    analog.drift_to(layer, t)
    nu = layer.programmed_state.plus.view(-1)[1:]
    ratio = layer.weights_at_time.view(-1)[1:] / w_prog
    expected_ratio = ((t + pcm.t0) / pcm.t0) ** (-nu)
    assert ratio.mean().item() == pytest.approx(expected_ratio.mean().item(), rel=0.01)


def test_drift_compensation_restores_scale() -> None:
    cfg = analog.presets.get("pcm_paper").replace(io=IOConfig(out_noise=0.0, out_res=None))
    layer = single_linear(_level_weights(0.6, 4000), cfg).eval()
    x = torch.zeros(1, 4000)
    x[0, 1:401] = 0.05  # 400 devices read; tile output ~3.8 stays inside the ADC bound 10
    analog.program(layer, 1)
    analog.drift_to(layer, 0.0)
    y0 = layer(x).item()
    analog.drift_to(layer, 30 * 86400.0)
    assert layer(x).item() == pytest.approx(y0, rel=0.02)
    raw = single_linear(_level_weights(0.6, 4000), cfg.replace(drift_compensation=False)).eval()
    analog.program(raw, 1)
    analog.drift_to(raw, 30 * 86400.0)
    assert raw(x).item() < 0.7 * y0


def test_program_is_reproducible_and_chips_differ() -> None:
    anet = analog.to_analog(small_cnn(), "pcm_paper").eval()
    x = images()
    outs = []
    for seed in (4, 4, 5):
        analog.program(anet, seed)
        analog.drift_to(anet, 3600.0)
        outs.append(anet(x))
    assert torch.equal(outs[0], outs[1])
    assert not torch.equal(outs[0], outs[2])
    analog.program(anet, 4)
    analog.drift_to(anet, 60.0)  # time points in any order give the same result
    analog.drift_to(anet, 3600.0)
    assert torch.equal(anet(x), outs[0])
    assert not torch.equal(anet(x), outs[0])  # fresh output noise on the next forward


def test_rram_preset_has_no_drift_but_relaxation() -> None:
    cfg = analog.presets.get("rram_wan2022")
    layer = single_linear(_level_weights(0.5), cfg)
    analog.program(layer, 0)
    rram = cfg.noise
    assert isinstance(rram, RRAMNoiseConfig)
    stds = []
    for t in (1.0, 86400.0):
        analog.drift_to(layer, t)
        stds.append((layer.weights_at_time.view(-1)[1:] * rram.g_max).std().item())
    g = torch.tensor([0.5 * rram.g_max])
    for std, t in zip(stds, (1.0, 86400.0)):
        sigma = devices.rram_std(rram, g, t).item()
        assert std == pytest.approx(math.sqrt(sigma**2 + devices.rram_std(rram, torch.zeros(1), t).item() ** 2
                                              * (0.5 - 1 / (2 * math.pi))), rel=0.05)


# ---------------------------------------------------------------- accuracy-level behaviour


def _trained_classifier() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(4, 3, 8, 8, generator=gen)
    labels = torch.randint(0, 4, (768,), generator=gen)
    x = centers[labels] + 0.9 * torch.randn(768, 3, 8, 8, generator=gen)
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(64, 4),
    )
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(3):
        for i in range(0, 512, 64):
            opt.zero_grad()
            nn.functional.cross_entropy(net(x[i : i + 64]), labels[i : i + 64]).backward()
            opt.step()
    return net.eval(), x[512:], labels[512:]


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def test_drift_compensation_keeps_30_day_accuracy() -> None:
    net, x, y = _trained_classifier()
    digital = _accuracy(net, x, y)
    assert digital > 0.9
    accs = {}
    for comp in (True, False):
        anet = analog.to_analog(net, analog.presets.get("pcm_paper").replace(drift_compensation=comp)).eval()
        runs = []
        for seed in range(3):
            analog.program(anet, seed)
            analog.drift_to(anet, 30 * 86400.0)
            runs.append(_accuracy(anet, x, y))
        accs[comp] = sum(runs) / len(runs)
    assert accs[True] > digital - 0.1
    assert accs[True] > accs[False] + 0.15


def test_hwt_training_step_with_any_optimizer_learns_input_ranges() -> None:
    net, x, y = _trained_classifier()
    anet = analog.to_analog(net, "pcm_paper")
    anet.train()
    opt = torch.optim.Adam(anet.parameters(), lr=1e-3)
    layers = analog.analog_layers(anet)
    for i in range(3):
        opt.zero_grad()
        nn.functional.cross_entropy(anet(x[i * 32 : (i + 1) * 32]), y[i * 32 : (i + 1) * 32]).backward()
        opt.step()
        before = [layer.weight.detach().clone() for layer in layers]
        analog.clip_weights_(anet)
        for layer, w in zip(layers, before):  # every layer here is one tile
            bound = 2.0 * w.std(unbiased=False)
            assert torch.allclose(layer.weight, w.clamp(-bound, bound))
    assert all(int(layer.input_range_updates) == 3 for layer in layers)
    assert all(layer.input_range.grad is not None and layer.weight.grad is not None for layer in layers)
    trained = analog.to_digital(anet).eval()
    assert _accuracy(trained, x, y) > 0.8


def test_calibrate_input_ranges_sets_three_std() -> None:
    layer = single_linear(torch.randn(4, 16, generator=torch.Generator().manual_seed(0)), "pcm_paper")
    batches = [torch.randn(256, 16, generator=torch.Generator().manual_seed(i)) * 2 for i in range(3)]
    assert analog.calibrate_input_ranges(layer, batches) == 3
    assert layer.input_range.item() == pytest.approx(3 * 2, rel=0.05)


@pytest.mark.parametrize("stride, max_in", [(1, 10**7), (2, 40), (1, 27)])
def test_input_range_data_init_is_the_std_of_each_tiles_unfolded_patches(stride: int, max_in: int) -> None:
    """The first training forward sets r = 3 x std of the tile's unfolded input patches (padding included),
    computed without unfolding; checked against an explicit float64 unfold, tiles not aligned with channels."""
    conv = nn.Conv2d(7, 5, 3, stride=stride, padding=1, bias=False)
    config = analog.resolve_config("pcm_paper").replace(mapping=MappingConfig(max_input_size=max_in))
    layer = analog.to_analog(conv, config).train()
    x = torch.randn(6, 7, 9, 9, generator=torch.Generator().manual_seed(2)) * 0.8 + 0.4
    layer(x)
    patches = nn.functional.unfold(x.double(), 3, padding=1, stride=stride)  # (B, C*9, L), channel slowest
    expected = torch.stack([3 * patches[:, a:b].std() for a, b in layer.layout.in_slices])
    assert len(expected) == layer.layout.n_in
    assert torch.allclose(layer.input_range.detach().double(), expected, rtol=1e-6)


def _plain_range_grad(x, ranges, grad, group, decay, min_pct):
    """AIHWKit's input-range gradient written out directly (the reference for the fused backward)."""
    shape = [1, -1] + [1] * (x.dim() - 2)
    r = ranges.repeat_interleave(group).view(shape)
    per_channel = ((x >= r) * grad).clamp(max=0.0) - ((x <= -r) * grad).clamp(min=0.0)
    dims = [d for d in range(x.dim()) if d != 1]
    g = per_channel.sum(dim=dims).view(-1, group).sum(1) * ranges
    inside = (x.abs() < r).to(grad.dtype).mean(dim=dims).view(-1, group).mean(1)
    return g + decay * ranges * (inside > min_pct).to(grad.dtype)


@pytest.mark.parametrize("min_pct", [0.5, 0.9999])
def test_input_range_gradient_equals_the_plain_formula(min_pct: float) -> None:
    from analognasbench.analog.layers import _range_grad

    gen = torch.Generator().manual_seed(4)
    x = torch.randn(8, 6, 5, 5, generator=gen) * 2
    x[0, 0, 0, :2] = torch.tensor([1.5, -1.5])  # exactly at +-r
    grad = torch.randn(x.shape, generator=gen)
    ranges = torch.tensor([1.5, 0.7, 2.5])
    got = _range_grad(x, ranges, grad, 2, 0.01, min_pct)
    assert torch.equal(got, _plain_range_grad(x, ranges, grad, 2, 0.01, min_pct))


# ---------------------------------------------------------------- every parameter matters

_EFFECTS = [
    ("io", "inp_bound", 0.5),
    ("io", "inp_res", 1 / 14),
    ("io", "out_bound", 0.5),
    ("io", "out_res", 1 / 30),
    ("io", "out_noise", 0.2),
    ("io", "is_perfect", True),
    ("mapping", "max_input_size", 9),
    ("mapping", "max_output_size", 3),
    ("noise", "g_max", 10.0),
    ("noise", "prog_coeff", (1.0, 1.0, 0.0)),
    ("noise", "t0", 1.0),
    ("noise", "t_read", 1e-3),
    ("noise", "prog_noise_scale", 3.0),
    ("noise", "read_noise_scale", 3.0),
    ("noise", "drift_scale", 3.0),
    ("input_range", "enable", False),
    ("input_range", "init_value", 0.5),
    ("top", "drift_compensation", False),
]


def _inference_output(cfg: HardwareConfig) -> torch.Tensor:
    anet = analog.to_analog(small_cnn(), cfg).eval()
    analog.program(anet, 7)
    analog.drift_to(anet, 86400.0)
    return anet(images())


@pytest.mark.parametrize(("group", "name", "value"), _EFFECTS)
def test_every_inference_parameter_changes_the_output(group: str, name: str, value: object) -> None:
    base = analog.presets.get("pcm_paper")
    if group == "top":
        changed = base.replace(**{name: value})
    else:
        changed = base.replace(**{group: dataclasses.replace(getattr(base, group), **{name: value})})
    assert not torch.allclose(_inference_output(base), _inference_output(changed))


_HWT_EFFECTS = [
    ("input_range", "learn", False),
    ("input_range", "init_from_data", 0),
    ("input_range", "init_std_alpha", 2.0),
    ("input_range", "decay", 0.5),
    ("input_range", "input_min_percentage", 1.0),
    ("hwt", "weight_noise", 0.3),
    ("hwt", "clip_sigma", 1.0),
]


def _after_training_step(cfg: HardwareConfig) -> torch.Tensor:
    anet = analog.to_analog(small_cnn(), cfg)
    analog.program(anet, 1)  # seeds the noise sources
    anet.train()
    opt = torch.optim.SGD(anet.parameters(), lr=0.1)
    opt.zero_grad()
    anet(images()).pow(2).mean().backward()
    opt.step()
    analog.clip_weights_(anet)
    return torch.cat([p.detach().flatten() for p in anet.parameters()])


@pytest.mark.parametrize(("group", "name", "value"), _HWT_EFFECTS)
def test_every_training_parameter_changes_the_step(group: str, name: str, value: object) -> None:
    base = analog.presets.get("pcm_paper").replace(
        input_range=InputRangeConfig(input_min_percentage=0.5)
    )
    changed = base.replace(**{group: dataclasses.replace(getattr(base, group), **{name: value})})
    assert not torch.allclose(_after_training_step(base), _after_training_step(changed))


@pytest.mark.parametrize("name", ["g_max", "noise_scale", "times", "coeffs"])
def test_every_rram_parameter_changes_the_output(name: str) -> None:
    base = analog.presets.get("rram_wan2022")
    values = {"g_max": 10.0, "noise_scale": 3.0, "times": (10.0, 1e4, 1e6),
              "coeffs": ((1.0,), (2.0,), (3.0,))}
    changed = base.replace(noise=dataclasses.replace(base.noise, **{name: values[name]}))
    assert not torch.allclose(_inference_output(base), _inference_output(changed))


def test_config_round_trips_through_dict() -> None:
    for preset in analog.Preset:
        cfg = analog.presets.get(preset)
        assert HardwareConfig.from_dict(cfg.to_dict()) == cfg


# ---------------------------------------------------------------- bad input


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="no layer that can be made analog"):
        analog.to_analog(nn.Sequential(nn.ReLU(), nn.BatchNorm2d(3)), "pcm_paper")
    with pytest.raises(ValueError, match="valid presets: pcm_paper, ideal, rram_wan2022"):
        analog.presets.get("pcm")
    with pytest.raises(AnalogConfigError, match="out_noise must be a finite number >= 0"):
        IOConfig(out_noise=-0.1)
    with pytest.raises(AnalogConfigError, match="inp_res must be None"):
        IOConfig(inp_res=0.0)
    with pytest.raises(AnalogConfigError, match="prog_noise_scale"):
        PCMNoiseConfig(prog_noise_scale=-1.0)
    with pytest.raises(AnalogConfigError, match="clip_sigma"):
        HWTConfig(clip_sigma=0.0)
    with pytest.raises(AnalogConfigError, match="unknown IOConfig keys"):
        HardwareConfig.from_dict({**analog.presets.get("pcm_paper").to_dict(), "io": {"bits": 8}})
    anet = analog.to_analog(small_cnn(), "pcm_paper")
    with pytest.raises(analog.NotProgrammedError, match="program"):
        analog.drift_to(anet, 10.0)
    analog.program(anet, 0)
    with pytest.raises(ValueError, match="t_seconds must be a finite time >= 0"):
        analog.drift_to(anet, -1.0)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        analog.program(anet, -3)
    with pytest.raises(ValueError, match="no analog layers"):
        analog.program(small_cnn(), 0)
    with torch.no_grad():
        anet[0].weight.mul_(2)
    with pytest.raises(analog.NotProgrammedError, match="changed after program"):
        anet.eval()(images())
    with pytest.raises(ValueError, match="grouped convolutions"):
        analog.to_analog(nn.Conv2d(4, 4, 3, groups=2), "pcm_paper")


def _ranges_after_forward(anet: nn.Module) -> list[torch.Tensor]:
    anet.train()
    with torch.no_grad():
        anet(images())
    return [layer.input_range.detach().clone() for layer in analog.analog_layers(anet)]


def test_range_initialisation_follows_the_counter_a_checkpoint_restores() -> None:
    """The layer reads its data-initialisation counter back only when the buffer changed (a host read is a CUDA
    synchronisation on every training forward); a checkpoint loaded into the layer changes it, either way."""
    cfg = analog.presets.get("pcm_paper").replace(input_range=InputRangeConfig(init_from_data=3))
    done, fresh = analog.to_analog(small_cnn(), cfg), analog.to_analog(small_cnn(), cfg)
    for _ in range(3):
        _ranges_after_forward(done)
    assert all(int(layer.input_range_updates) == 3 for layer in analog.analog_layers(done))
    _ranges_after_forward(fresh)  # fresh has read its counter (1) and remembers it
    fresh.load_state_dict(done.state_dict())
    before = [layer.input_range.detach().clone() for layer in analog.analog_layers(fresh)]
    after = _ranges_after_forward(fresh)
    assert all(torch.equal(a, b) for a, b in zip(before, after))  # initialised already: ranges left alone
    done.load_state_dict(analog.to_analog(small_cnn(), cfg).state_dict())  # back to a counter of 0
    before = [layer.input_range.detach().clone() for layer in analog.analog_layers(done)]
    after = _ranges_after_forward(done)
    assert not any(torch.equal(a, b) for a, b in zip(before, after))  # initialised from the data again


def test_a_training_step_past_the_range_initialisation_reads_nothing_back(monkeypatch) -> None:
    """Host reads are CUDA synchronisations (and would keep the step from being captured as a CUDA graph): the
    data-initialisation check, the range gradient and the weight clipping make none (benchmarks/step_launches.py)."""
    cfg = analog.presets.get("pcm_paper").replace(input_range=InputRangeConfig(init_from_data=1))
    anet = analog.to_analog(small_cnn(), cfg)
    analog.program(anet, 1)
    anet.train()
    opt = torch.optim.SGD(anet.parameters(), lr=0.1)

    def step() -> None:
        opt.zero_grad()
        anet(images()).pow(2).mean().backward()
        opt.step()
        analog.clip_weights_(anet)

    step()  # the initialisation from data
    step()  # reads the counter once more after its last change
    reads = []
    for name in ("item", "__float__", "__int__", "__bool__"):
        original = getattr(torch.Tensor, name)
        monkeypatch.setattr(torch.Tensor, name,
                            lambda self, *a, _o=original, _n=name: reads.append(_n) or _o(self, *a))
    step()
    monkeypatch.undo()
    assert reads == []


def test_range_initialisation_on_the_device_gives_the_hosts_ranges_and_reads_nothing(monkeypatch) -> None:
    """A layer that keeps initialising on the device (a CUDA graph's step) updates where the host path would:
    not on a batch whose inputs have no spread, until init_from_data updates; the same numbers bit for bit."""
    cfg = analog.presets.get("pcm_paper").replace(input_range=InputRangeConfig(init_from_data=3))
    host, device = analog.to_analog(small_cnn(), cfg), analog.to_analog(small_cnn(), cfg)
    for layer in analog.analog_layers(device):
        layer.keep_initialising_on_device()
    reads = []
    for k, x in enumerate([torch.zeros_like(images()), images(seed=1), torch.zeros_like(images()), images(seed=2),
                           images(seed=3), images(seed=4)]):
        host.train()
        with torch.no_grad():
            host(x)
        device.train()
        for name in ("item", "__float__", "__int__", "__bool__"):
            original = getattr(torch.Tensor, name)
            monkeypatch.setattr(torch.Tensor, name,
                                lambda self, *a, _o=original, _n=name: reads.append(_n) or _o(self, *a))
        with torch.no_grad():
            device(x)
        monkeypatch.undo()
        for a, b in zip(analog.analog_layers(host), analog.analog_layers(device)):
            assert torch.equal(a.input_range, b.input_range), k
            assert int(a.input_range_updates) == int(b.input_range_updates), k
    assert reads == []
    assert [int(layer.input_range_updates) for layer in analog.analog_layers(device)][0] == 3
    assert all(layer.initialising_ranges for layer in analog.analog_layers(device))  # never asks the host again


def test_a_layer_whose_ranges_cannot_initialise_stops_reading_back_after_init_from_data_forwards(monkeypatch) -> None:
    """A tile fed only zeros (a cell's zero edges) never gets the spread its initialisation needs (AIHWKit skips
    such updates too); after init_from_data training forwards the layer stops asking the host on every one (a GPU
    synchronisation per step, and no CUDA graph) and goes on on the device."""
    cfg = analog.presets.get("pcm_paper").replace(input_range=InputRangeConfig(init_from_data=3))
    anet = analog.to_analog(small_cnn(), cfg)
    anet.train()
    first = analog.analog_layers(anet)[0]
    zeros = torch.zeros_like(images())
    for k in range(4):
        assert first.reads_back_in_training, k
        with torch.no_grad():
            anet(zeros)
    assert int(first.input_range_updates) == 0 and first.initialising_ranges and not first.reads_back_in_training
    reads = []
    for name in ("item", "__float__", "__int__", "__bool__"):
        original = getattr(torch.Tensor, name)
        monkeypatch.setattr(torch.Tensor, name, lambda self, *a, _o=original, _n=name: reads.append(_n) or _o(self, *a))
    with torch.no_grad():
        anet(images())  # spread at last: initialised on the device
    monkeypatch.undo()
    assert int(first.input_range_updates) == 1
    assert reads == [] and not any(layer.reads_back_in_training for layer in analog.analog_layers(anet))


def test_a_zero_input_range_already_makes_the_training_forward_non_finite() -> None:
    """Why the range gradient may assume r > 0 (it no longer checks, which cost a synchronisation per layer)."""
    anet = analog.to_analog(small_cnn(), analog.presets.get("pcm_paper"))
    anet.train()
    layer = analog.analog_layers(anet)[1]
    with torch.no_grad():
        layer.input_range.zero_()
    layer.input_range_updates.fill_(10**6)  # past the data initialisation, which would set the range again
    assert not torch.isfinite(anet(images())).all()


def test_the_no_grad_pass_works_by_cache_sized_chunks_on_the_cpu_only() -> None:
    """On the CPU the element-wise chains of a chip reading run by batch chunks that stay in cache; elsewhere each
    chunk would only cost its kernel launches again (the GPU's readings are launch-bound), so there is one."""
    from analognasbench.analog.layers import _CHUNK_ELEMENTS, _chunks

    shape = (1000, 16, 32, 32)
    cpu = _chunks(torch.empty(shape))
    assert len(cpu) > 1 and cpu[0] == (0, _CHUNK_ELEMENTS // (16 * 32 * 32)) and cpu[-1][1] == 1000
    assert _chunks(torch.empty(shape, device="meta")) == [(0, 1000)]
