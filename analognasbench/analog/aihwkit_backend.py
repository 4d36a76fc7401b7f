"""IBM AIHWKit as a second backend behind the same interface (optional; for cross-validation and timing).

AIHWKit 1.1.0's binary wheel imports only with torch 2.10.0, so it lives in its own virtual environment::

    scripts/aihwkit-venv.sh            # creates /work/venv-aihwkit (torch 2.10.0, aihwkit 1.1.0, this package)
    /work/venv-aihwkit/bin/python -m pytest tests/test_analog_aihwkit.py

The configuration reproduces the AnalogNAS-Bench paper's ``gen_rpu_config`` (IBM/analog-nas
``training_script.py``) from a :class:`HardwareConfig`. AIHWKit draws its noise from torch's global RNG and its
C++ tiles' own RNG, so :func:`program` seeds the global torch RNG (the only global state touched, here only).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
from torch import nn

from analognasbench.analog.config import HardwareConfig, PCMNoiseConfig
from analognasbench.analog.convert import resolve_config

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "aihwkit is not importable: it needs its own environment with torch==2.10.0 and aihwkit==1.1.0; "
    "create it with scripts/aihwkit-venv.sh and run there (e.g. /work/venv-aihwkit/bin/python -m pytest)"
)


def available() -> bool:
    """Whether aihwkit can be imported here."""
    try:
        import aihwkit  # noqa: F401
    except Exception:  # ImportError, or a binary mismatch with this torch
        return False
    return True


def _require() -> None:
    if not available():
        raise ImportError(INSTALL_HINT)


def rpu_config(config: HardwareConfig | str):  # -> aihwkit InferenceRPUConfig
    """AIHWKit ``InferenceRPUConfig`` with the same parameters as ``config`` (PCM or ideal presets)."""
    _require()
    from aihwkit.inference import GlobalDriftCompensation, PCMLikeNoiseModel
    from aihwkit.simulator.configs import (
        BoundManagementType,
        InferenceRPUConfig,
        IOParameters,
        NoiseManagementType,
        WeightClipType,
        WeightModifierType,
        WeightRemapType,
    )

    cfg = resolve_config(config)
    rc = InferenceRPUConfig()
    rc.mapping.digital_bias = True
    rc.mapping.weight_scaling_omega = 1.0
    rc.mapping.weight_scaling_columnwise = False
    rc.mapping.out_scaling_columnwise = False
    rc.mapping.max_input_size = cfg.mapping.max_input_size
    rc.mapping.max_output_size = cfg.mapping.max_output_size
    rc.remap.type = WeightRemapType.LAYERWISE_SYMMETRIC
    if cfg.hwt.weight_noise > 0:
        rc.modifier.type = WeightModifierType.ADD_NORMAL
        rc.modifier.std_dev = cfg.hwt.weight_noise
    if cfg.hwt.clip_sigma is not None:
        rc.clip.type = WeightClipType.LAYER_GAUSSIAN
        rc.clip.sigma = cfg.hwt.clip_sigma
    io = cfg.io
    rc.forward = IOParameters()
    rc.forward.is_perfect = io.is_perfect
    rc.forward.out_noise = io.out_noise
    rc.forward.inp_bound = io.inp_bound
    rc.forward.inp_res = io.inp_res if io.inp_res is not None else -1.0
    rc.forward.out_bound = io.out_bound if io.out_bound is not None else -1.0
    rc.forward.out_res = io.out_res if io.out_res is not None else -1.0
    rc.forward.bound_management = BoundManagementType.NONE
    rc.forward.noise_management = NoiseManagementType.NONE
    ir = cfg.input_range
    rc.pre_post.input_range.enable = ir.enable
    rc.pre_post.input_range.learn_input_range = ir.learn
    rc.pre_post.input_range.init_value = ir.init_value
    rc.pre_post.input_range.decay = ir.decay
    rc.pre_post.input_range.init_from_data = ir.init_from_data
    rc.pre_post.input_range.init_std_alpha = ir.init_std_alpha
    rc.pre_post.input_range.input_min_percentage = ir.input_min_percentage
    rc.pre_post.input_range.manage_output_clipping = False
    noise = cfg.noise
    if noise is None:
        rc.noise_model = PCMLikeNoiseModel(prog_noise_scale=0.0, read_noise_scale=0.0, drift_scale=0.0)
    elif isinstance(noise, PCMNoiseConfig):
        rc.noise_model = PCMLikeNoiseModel(
            prog_coeff=list(noise.prog_coeff),
            g_max=noise.g_max,
            t_read=noise.t_read,
            t_0=noise.t0,
            prog_noise_scale=noise.prog_noise_scale,
            read_noise_scale=noise.read_noise_scale,
            drift_scale=noise.drift_scale,
            # explicit prog_coeff with reference None: AIHWKit uses them in uS at this g_max (as we do); passing
            # the reference explicitly hits an AIHWKit 1.1.0 bug (the attribute is never set)
        )
    else:
        raise ValueError(f"the AIHWKit backend supports PCM and noise-free configs, not {type(noise).__name__}")
    rc.drift_compensation = GlobalDriftCompensation() if cfg.drift_compensation else None
    return rc


def to_aihwkit(model: nn.Module, config: HardwareConfig | str) -> nn.Module:
    """AIHWKit analog copy of ``model`` (``convert_to_analog``; Conv2d and Linear become analog)."""
    _require()
    from aihwkit.nn.conversion import convert_to_analog

    return convert_to_analog(model, rpu_config(config))


def program(model: nn.Module, seed: int) -> None:
    """Program a new chip (seeds torch's global RNG, which AIHWKit's noise models draw from; use seeds unrelated
    to the ones that made the weights, or the noise repeats the weights' own random numbers)."""
    torch.manual_seed(seed)
    model.program_analog_weights()


def drift_to(model: nn.Module, t_seconds: float) -> None:
    """Drift the programmed chip to ``t_seconds`` (AIHWKit ``drift_analog_weights``)."""
    if t_seconds < 0:
        raise ValueError(f"t_seconds must be >= 0; got {t_seconds!r}")
    model.drift_analog_weights(float(t_seconds))


def train_step_fn(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], torch.Tensor]:
    """One HWT step with AIHWKit's ``AnalogSGD`` (clipping/remapping happen in its post-update step)."""
    _require()
    from aihwkit.optim import AnalogSGD

    opt = AnalogSGD(model.parameters(), lr=1e-3, momentum=0.9)
    opt.regroup_param_groups(model)

    def step() -> torch.Tensor:
        model.train()
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step
