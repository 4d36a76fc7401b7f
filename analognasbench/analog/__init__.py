"""Analog in-memory computing simulator: PCM/RRAM crossbar inference, drift, hardware-aware training.

A native-PyTorch implementation of the statistical hardware model of IBM AIHWKit's ``InferenceRPUConfig`` with
``PCMLikeNoiseModel`` and ``GlobalDriftCompensation`` (the AnalogNAS-Bench paper's setup), running on CPU or
CUDA at close to the speed of the digital network. See ``README.md`` ("Analog simulator") for the model.

>>> import torch
>>> from torch import nn
>>> from analognasbench import analog
>>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 8 * 8, 10))
>>> anet = analog.to_analog(net, analog.presets.get("pcm_paper"))
>>> anet = anet.eval()
>>> analog.program(anet, seed=0)
0
>>> analog.drift_to(anet, 3600.0)
>>> anet(torch.randn(2, 3, 8, 8)).shape
torch.Size([2, 10])
"""

from analognasbench.analog import presets
from analognasbench.analog.chip import (
    calibrate_input_ranges,
    clip_weights_,
    derive_seed,
    drift_to,
    is_programmed,
    program,
    scale_grads_by_input_range_,
)
from analognasbench.analog.config import (
    AnalogConfigError,
    DeviceKind,
    HardwareConfig,
    HWTConfig,
    InputRangeConfig,
    IOConfig,
    MappingConfig,
    PCMNoiseConfig,
    RRAMNoiseConfig,
)
from analognasbench.analog.convert import (
    DEFAULT_LAYER_MAP,
    analog_layers,
    resolve_config,
    to_analog,
    to_digital,
)
from analognasbench.analog.gaussian import GaussianSource, NoiseMethod
from analognasbench.analog.layers import AnalogConv2d, AnalogLayer, AnalogLinear, NotProgrammedError
from analognasbench.analog.presets import Preset

__all__ = [
    "DEFAULT_LAYER_MAP",
    "AnalogConfigError",
    "AnalogConv2d",
    "AnalogLayer",
    "AnalogLinear",
    "DeviceKind",
    "GaussianSource",
    "HWTConfig",
    "HardwareConfig",
    "IOConfig",
    "InputRangeConfig",
    "MappingConfig",
    "NoiseMethod",
    "NotProgrammedError",
    "PCMNoiseConfig",
    "Preset",
    "RRAMNoiseConfig",
    "analog_layers",
    "calibrate_input_ranges",
    "clip_weights_",
    "derive_seed",
    "drift_to",
    "is_programmed",
    "presets",
    "program",
    "resolve_config",
    "scale_grads_by_input_range_",
    "to_analog",
    "to_digital",
]
