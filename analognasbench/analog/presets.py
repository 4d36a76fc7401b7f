"""Named hardware configurations.

>>> from analognasbench.analog import presets
>>> presets.get("pcm_paper").io.out_noise
0.04
>>> sorted(p.value for p in presets.Preset)
['ideal', 'pcm_paper', 'rram_wan2022']
"""

from __future__ import annotations

from analognasbench.analog.config import (
    HardwareConfig,
    HWTConfig,
    InputRangeConfig,
    IOConfig,
    RRAMNoiseConfig,
)
from analognasbench.enums import ClosedSet


class Preset(ClosedSet, what="hardware preset", plural="presets"):
    """Closed set of preset names."""

    PCM_PAPER = "pcm_paper"
    IDEAL = "ideal"
    RRAM_WAN2022 = "rram_wan2022"


def pcm_paper() -> HardwareConfig:
    """The AnalogNAS-Bench paper's chip (its Table 2, IBM/analog-nas ``training_script.py``): AIHWKit
    ``InferenceRPUConfig`` with 8-bit DAC/ADC, out_bound 10, output noise 0.04, no noise/bound management,
    512x512 tiles, ``PCMLikeNoiseModel(g_max=25)``, global drift compensation, learned input ranges (init 3 std
    over 50 batches, decay 0.01, 99.5 %), HWT weight noise 0.06 and layer-Gaussian clipping at 2 std."""
    return HardwareConfig(name=Preset.PCM_PAPER.value)


def ideal() -> HardwareConfig:
    """No noise, no quantisation, no bounds, no input clipping: the analog net computes the digital function."""
    return HardwareConfig(
        name=Preset.IDEAL.value,
        io=IOConfig(inp_res=None, out_res=None, out_bound=None, out_noise=0.0, is_perfect=True),
        noise=None,
        drift_compensation=False,
        input_range=InputRangeConfig(enable=False, learn=False, init_from_data=0),
        hwt=HWTConfig(weight_noise=0.0, clip_sigma=None),
    )


def rram_wan2022() -> HardwareConfig:
    """The paper's periphery (8-bit DAC/ADC, output noise, tiles, HWT) with RRAM devices instead of PCM:
    conductance-dependent programming/relaxation deviations of Wan et al., Nature 608, 504 (2022), g_max 40 uS
    (see :class:`RRAMNoiseConfig`). RRAM does not drift in the PCM sense, so drift compensation is off."""
    return HardwareConfig(name=Preset.RRAM_WAN2022.value, noise=RRAMNoiseConfig(), drift_compensation=False)


_FACTORIES = {
    Preset.PCM_PAPER: pcm_paper,
    Preset.IDEAL: ideal,
    Preset.RRAM_WAN2022: rram_wan2022,
}


def get(name: Preset | str) -> HardwareConfig:
    """The preset called ``name`` (a :class:`Preset` or its string value)."""
    return _FACTORIES[Preset.parse(name)]()


__all__ = ["Preset", "get", "ideal", "pcm_paper", "rram_wan2022"]
