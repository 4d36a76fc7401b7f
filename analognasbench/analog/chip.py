"""Model-level inference and training operations: program a chip, drift it, clip, calibrate.

Seeds: ``program(model, seed)`` defines one independent chip. Every random draw below derives from that seed
through ``numpy.random.SeedSequence`` with a key per (layer, purpose[, time]), so

* programming noise and device state depend only on (seed, layer),
* ``drift_to(model, t)`` depends only on (seed, layer, t) -- time points can be evaluated in any order,
* output noise restarts from (seed, layer, t) at every ``drift_to`` (from (seed, layer) after ``program``), and
  then draws fresh numbers on every forward,

so a whole evaluation (R programmings x T times x B batches) is reproducible from the seeds on one device.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from analognasbench.analog.convert import analog_layers
from analognasbench.analog.layers import AnalogLayer, NotProgrammedError

logger = logging.getLogger(__name__)

_PROGRAM, _PROGRAM_READOUT, _DRIFT, _DRIFT_NOISE = 0, 1, 2, 3


def _layers(model: nn.Module) -> list[AnalogLayer]:
    layers = analog_layers(model)
    if not layers:
        raise ValueError("the model has no analog layers; convert it with to_analog() first")
    return layers


def derive_seed(seed: int, *key: int) -> int:
    """A 63-bit seed derived from ``seed`` and a key path (independent streams for different keys)."""
    sequence = np.random.SeedSequence(entropy=int(seed), spawn_key=tuple(int(k) for k in key))
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _time_key(t: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", float(t)))[0]


def _generator(device: torch.device, seed: int) -> torch.Generator:
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def _chip_seed(seed: int | torch.Generator) -> int:
    if isinstance(seed, torch.Generator):
        return int(torch.randint(0, 2**62, (1,), generator=seed, device=seed.device).item())
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    raise ValueError(f"seed must be a non-negative int or a torch.Generator; got {seed!r}")


@torch.no_grad()
def program(model: nn.Module, seed: int | torch.Generator) -> int:
    """Program every analog layer onto a new chip: draw programming noise and every device's drift state.

    Returns the chip seed used (``seed`` itself for an int). Cheap and repeatable on the same model: evaluating
    R chips is R calls of ``program`` (and ``drift_to``), never a rebuild of the model.
    """
    chip = _chip_seed(seed)
    for index, layer in enumerate(_layers(model)):
        device = layer.weight.device
        layer.noise.reseed(derive_seed(chip, index, _PROGRAM_READOUT))
        layer.program(chip, _generator(device, derive_seed(chip, index, _PROGRAM)))
    return chip


@torch.no_grad()
def drift_to(model: nn.Module, t_seconds: float) -> None:
    """Read the programmed chip at ``t_seconds`` after programming: drift, fresh 1/f read noise, and the global
    drift compensation factor of each tile (its identity-matrix readout now versus right after programming).
    ``t_seconds = 0`` is allowed (read noise but no drift)."""
    t = float(t_seconds)
    if not np.isfinite(t) or t < 0:
        raise ValueError(f"t_seconds must be a finite time >= 0 (seconds after programming); got {t_seconds!r}")
    layers = _layers(model)
    for layer in layers:
        if not layer.is_programmed:
            raise NotProgrammedError("drift_to() needs program(model, seed) first: no chip has been programmed")
    key = _time_key(t)
    for index, layer in enumerate(layers):
        assert layer._seed is not None
        chip = layer._seed
        device = layer.weight.device
        layer.noise.reseed(derive_seed(chip, index, _DRIFT_NOISE, key))
        layer.drift_to(t, _generator(device, derive_seed(chip, index, _DRIFT, key)))


def is_programmed(model: nn.Module) -> bool:
    """Whether every analog layer holds a programmed chip."""
    return all(layer.is_programmed for layer in _layers(model))


@torch.no_grad()
def clip_weights_(model: nn.Module) -> None:
    """HWT hook: call after every ``optimizer.step()``; clips each tile's weights to +-clip_sigma std."""
    for layer in _layers(model):
        layer.clip_weights_()


@torch.no_grad()
def scale_grads_by_input_range_(model: nn.Module) -> None:
    """HWT hook for AIHWKit's update rule: call between ``backward()`` and ``optimizer.step()``.

    AIHWKit's InferenceTile hands the optimizer the gradient of the tile-normalised weights as
    ``(d / alpha) x (clip(x) / r)`` (``pre_update`` in ``tiles/periphery.py``), with alpha the tile's mapping scale
    and r its input range, where the exact gradient is ``alpha * d x x``. In logical units the SGD step is then
    ``dW = -(lr / r) grad W - lr * wd * W``: the weight gradient is divided by the tile's input range, weight
    decay is not (it acts on the stored weights) and the digital bias is untouched. This divides each analog
    layer's weight gradient by the input range of the input tile each weight row sits on.
    """
    for layer in _layers(model):
        grad = layer.weight.grad
        if grad is None:
            continue
        ranges = layer._ranges().to(grad.dtype)
        inv = torch.cat([torch.full((b - a,), 1.0, dtype=grad.dtype, device=grad.device) / ranges[t]
                         for t, (a, b) in enumerate(layer.layout.in_slices)])
        grad.mul_(inv.view(1, *grad.shape[1:]))


@torch.no_grad()
def calibrate_input_ranges(model: nn.Module, batches: Iterable[torch.Tensor]) -> int:
    """Set every tile's input range to ``init_std_alpha`` x the std of its inputs, averaged over ``batches``.

    Not part of the paper's protocol: AIHWKit evaluates a digitally trained network converted to analog with
    the initial input range (``input_range.init_value`` = 3), since its data initialisation runs only in
    training. Use this to study the effect of calibration. Returns the number of batches used.
    """
    layers = _layers(model)
    was_training = model.training
    model.eval()
    for layer in layers:
        layer.input_range_updates.zero_()
        layer._calibrating = True
    count = 0
    try:
        for batch in batches:
            device = layers[0].weight.device
            model(batch.to(device))
            count += 1
    finally:
        for layer in layers:
            layer._calibrating = False
            layer.invalidate()
        model.train(was_training)
    if count == 0:
        raise ValueError("calibrate_input_ranges needs at least one batch")
    return count


__all__ = [
    "NotProgrammedError",
    "calibrate_input_ranges",
    "clip_weights_",
    "derive_seed",
    "drift_to",
    "is_programmed",
    "program",
    "scale_grads_by_input_range_",
]
