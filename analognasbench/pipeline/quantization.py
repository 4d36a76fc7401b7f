"""Int8 quantisation simulated in pure torch (fake quantisation): post-training (PTQ) and quantisation-aware (QAT).

What is quantised, as in an int8 inference engine:

* **weights** of every Conv2d and Linear: symmetric, per output channel, integers in [-127, 127], scale
  ``max|W_c| / 127``. BatchNorm stays a float per-channel affine after the convolution; with per-channel symmetric
  weight scales this is exactly what folding BN into the conv would give (the folded integer weights are identical up
  to sign), so it is not simulated separately. Biases stay in float (int32 in an engine, negligible error).
* **activations** entering every Conv2d and Linear: per-tensor affine uint8 (scale ``(max - min) / 255``, integer
  zero point, zero exactly representable), the range observed as the min/max over calibration batches of training
  data (PyTorch's ``MinMaxObserver``). Element-wise sums inside cells are not re-quantised.

QAT trains through the fake quantisers with the straight-through estimator (gradients pass unchanged inside the
clipping range, zero outside); activation ranges start from the calibration and follow an exponential moving
average of batch min/max (constant 0.01, PyTorch's ``MovingAverageMinMaxObserver``) in training mode.

The release's recipe (``protocol.quantization_recipe = "fx_x86"``): torch.ao FX graph mode, ``prepare_fx`` with
``get_default_qconfig("x86")`` (HistogramObserver, 7-bit activations ``reduce_range``, per-channel symmetric int8
weights; every op boundary quantised, BN folded) then ``convert_fx`` to real int8 x86 kernels, which run on the CPU
only (:class:`OnCPU` moves inputs there and outputs back); QAT with ``get_default_qat_qconfig_mapping("x86")`` and
``prepare_qat_fx`` (fresh observers, Conv+BN fused for training), trained on the model's device, then converted.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from enum import Enum

import torch
import torch.nn.functional as F
from torch import nn

logger = logging.getLogger(__name__)

QMAX_WEIGHT = 127
QMAX_ACT = 255
EMA_CONSTANT = 0.01


class QuantPhase(str, Enum):
    """What a :class:`FakeQuantLayer` does in its forward pass."""

    FLOAT = "float"  # plain float layer
    OBSERVE = "observe"  # float, recording the input min/max (calibration)
    QUANT = "quant"  # fake-quantised; in training mode the activation range follows an EMA


def fake_quant_weight(weight: torch.Tensor) -> torch.Tensor:
    """Per-output-channel symmetric int8 fake quantisation with a straight-through gradient."""
    flat = weight.detach().reshape(weight.shape[0], -1)
    scale = (flat.abs().amax(dim=1) / QMAX_WEIGHT).clamp_min(torch.finfo(weight.dtype).tiny)
    scale = scale.reshape(-1, *([1] * (weight.dim() - 1)))
    quantised = torch.clamp(torch.round(weight.detach() / scale), -QMAX_WEIGHT, QMAX_WEIGHT) * scale
    return weight + (quantised - weight.detach())


def act_qparams(lo: torch.Tensor, hi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and zero point of per-tensor affine uint8 for the range [lo, hi] (extended to include 0)."""
    lo = torch.clamp(lo, max=0.0)
    hi = torch.clamp(hi, min=0.0)
    scale = ((hi - lo) / QMAX_ACT).clamp_min(1e-8)
    zero_point = torch.clamp(torch.round(-lo / scale), 0, QMAX_ACT)
    return scale, zero_point


def fake_quant_activation(x: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Per-tensor affine uint8 fake quantisation; straight-through inside the range, zero gradient outside."""
    scale, zero_point = act_qparams(lo, hi)
    clipped = torch.clamp(x, (0 - zero_point) * scale, (QMAX_ACT - zero_point) * scale)
    quantised = (torch.clamp(torch.round(clipped.detach() / scale) + zero_point, 0, QMAX_ACT) - zero_point) * scale
    return clipped + (quantised - clipped.detach())


class FakeQuantLayer(nn.Module):
    """A Conv2d or Linear whose input and weight pass through int8 fake quantisers (see the module docstring)."""

    def __init__(self, layer: nn.Conv2d | nn.Linear) -> None:
        super().__init__()
        if not isinstance(layer, (nn.Conv2d, nn.Linear)):
            raise TypeError(f"FakeQuantLayer wraps Conv2d or Linear, got {type(layer).__name__}")
        self.layer = layer
        self.phase = QuantPhase.FLOAT
        self.register_buffer("in_min", torch.tensor(float("inf")))
        self.register_buffer("in_max", torch.tensor(float("-inf")))

    @property
    def calibrated(self) -> bool:
        return bool(torch.isfinite(self.in_min) and torch.isfinite(self.in_max))

    def _run(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        if isinstance(self.layer, nn.Conv2d):
            return self.layer._conv_forward(x, weight, self.layer.bias)
        return F.linear(x, weight, self.layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.phase == QuantPhase.FLOAT:
            return self.layer(x)
        if self.phase == QuantPhase.OBSERVE:
            with torch.no_grad():
                self.in_min.copy_(torch.minimum(self.in_min, x.detach().min()))
                self.in_max.copy_(torch.maximum(self.in_max, x.detach().max()))
            return self.layer(x)
        if not self.calibrated:
            raise RuntimeError("int8 activation ranges are not calibrated: run calibrate_int8 before quantised use")
        if self.training:
            with torch.no_grad():
                self.in_min.lerp_(x.detach().min(), EMA_CONSTANT)
                self.in_max.lerp_(x.detach().max(), EMA_CONSTANT)
        xq = fake_quant_activation(x, self.in_min, self.in_max)
        return self._run(xq, fake_quant_weight(self.layer.weight))


def quant_layers(model: nn.Module) -> list[FakeQuantLayer]:
    return [m for m in model.modules() if isinstance(m, FakeQuantLayer)]


def prepare_int8(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every Conv2d and Linear wrapped in a :class:`FakeQuantLayer` (phase FLOAT)."""
    qmodel = copy.deepcopy(model)
    targets = [(name, m) for name, m in qmodel.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if not targets:
        raise ValueError("model has no Conv2d or Linear layer to quantise")
    for name, layer in targets:
        parent_name, _, attr = name.rpartition(".")
        parent = qmodel.get_submodule(parent_name) if parent_name else qmodel
        setattr(parent, attr, FakeQuantLayer(layer))
    return qmodel


def set_phase(qmodel: nn.Module, phase: QuantPhase | str) -> None:
    phase = QuantPhase(phase)
    for layer in quant_layers(qmodel):
        layer.phase = phase


@torch.no_grad()
def calibrate_int8(qmodel: nn.Module, batches: Iterable[torch.Tensor]) -> int:
    """Observe activation ranges over ``batches`` (inputs only, eval mode), then switch to QUANT; returns the count."""
    layers = quant_layers(qmodel)
    if not layers:
        raise ValueError("calibrate_int8 needs a model from prepare_int8")
    was_training = qmodel.training
    qmodel.eval()
    for layer in layers:
        layer.in_min.fill_(float("inf"))
        layer.in_max.fill_(float("-inf"))
    set_phase(qmodel, QuantPhase.OBSERVE)
    count = 0
    for x in batches:
        qmodel(x)
        count += 1
    if count == 0:
        raise ValueError("calibrate_int8 got no calibration batches")
    set_phase(qmodel, QuantPhase.QUANT)
    qmodel.train(was_training)
    return count


def quantise_ptq(model: nn.Module, batches: Iterable[torch.Tensor]) -> nn.Module:
    """Post-training int8: a fake-quantised copy of ``model`` calibrated on ``batches``; ``model`` is untouched."""
    qmodel = prepare_int8(model)
    calibrate_int8(qmodel, batches)
    return qmodel.eval()


# -- the release's recipe: torch.ao FX graph mode, x86 qconfig ------------------------------------------------------


class OnCPU(nn.Module):
    """Runs a CPU-only (int8 kernel) model on inputs from any device; outputs go back to the input's device."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.cpu()).to(x.device)


@torch.no_grad()
def fx_x86_ptq(model: nn.Module, batches: Iterable[torch.Tensor]) -> nn.Module:
    """The release's PTQ: FX ``prepare_fx`` with the x86 default qconfig, calibration over ``batches`` (on CPU),
    ``convert_fx`` to int8; returns an eval-mode :class:`OnCPU` model. ``model`` is untouched."""
    from torch.ao.quantization import QConfigMapping, get_default_qconfig
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    batches = [b.cpu() for b in batches]
    if not batches:
        raise ValueError("fx_x86_ptq got no calibration batches")
    float_model = copy.deepcopy(model).cpu().eval()
    prepared = prepare_fx(float_model, QConfigMapping().set_global(get_default_qconfig("x86")),
                          example_inputs=(batches[0],))
    for x in batches:
        prepared(x)
    return OnCPU(convert_fx(prepared)).eval()


def fx_x86_prepare_qat(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """The release's QAT model before training: ``prepare_qat_fx`` with the x86 QAT qconfig mapping on a copy of
    ``model`` (fresh observers, Conv+BN fused), on ``model``'s device, in training mode."""
    from torch.ao.quantization import get_default_qat_qconfig_mapping
    from torch.ao.quantization.quantize_fx import prepare_qat_fx

    return prepare_qat_fx(copy.deepcopy(model).train(), get_default_qat_qconfig_mapping("x86"),
                          example_inputs=(example,))


def fx_x86_convert(qat_model: nn.Module) -> nn.Module:
    """int8 model from a trained :func:`fx_x86_prepare_qat` model (a CPU copy; the original is untouched)."""
    from torch.ao.quantization.quantize_fx import convert_fx

    return OnCPU(convert_fx(copy.deepcopy(qat_model).cpu().eval())).eval()


__all__ = [
    "FakeQuantLayer",
    "OnCPU",
    "fx_x86_convert",
    "fx_x86_prepare_qat",
    "fx_x86_ptq",
    "QuantPhase",
    "act_qparams",
    "calibrate_int8",
    "fake_quant_activation",
    "fake_quant_weight",
    "prepare_int8",
    "quant_layers",
    "quantise_ptq",
    "set_phase",
]
