"""Hardware configuration of the simulated analog in-memory computing (AIMC) accelerator.

Nested frozen dataclasses, a physical unit and a source on every field, no callables inside, and a
lossless round trip through :meth:`HardwareConfig.to_dict` / :meth:`HardwareConfig.from_dict` (plain JSON
types) so stored results keep saying which hardware produced them.

Units follow IBM AIHWKit's ``IOParameters`` ("normalised units"): inside a crossbar tile the weights are
scaled so that the tile's largest ``|w|`` is 1, the inputs are divided by the tile's input range so that they
lie in ``[-inp_bound, inp_bound]``, and an output of 1 is what one input at 1 produces through one weight at 1.
A resolution ``res`` is a fraction of the *full* range ``2 * bound``: the DAC/ADC step is ``res * 2 * bound``
(AIHWKit's ``UniformQuantize``), so ``inp_res = out_res = 1/(2**8 - 2)`` with ``inp_bound = 1`` and
``out_bound = 10`` gives input steps of ``2/254`` (levels ``-127..127``) and output steps of ``20/254``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


class AnalogConfigError(ValueError):
    """A hardware configuration value is out of its valid range."""


class DeviceKind(str, enum.Enum):
    """Closed set of device noise families."""

    PCM = "pcm"
    RRAM = "rram"


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise AnalogConfigError(message)


def _finite_nonneg(name: str, value: float) -> None:
    _check(
        isinstance(value, (int, float)) and math.isfinite(value) and value >= 0,
        f"{name} must be a finite number >= 0; got {value!r}",
    )


def _positive(name: str, value: float) -> None:
    _check(
        isinstance(value, (int, float)) and math.isfinite(value) and value > 0,
        f"{name} must be a finite number > 0; got {value!r}",
    )


def _resolution(name: str, value: float | None) -> None:
    _check(
        value is None or (isinstance(value, (int, float)) and 0 < value <= 1),
        f"{name} must be None (no quantisation) or a fraction of the full range in (0, 1], e.g. 1/(2**8-2); "
        f"got {value!r}",
    )


@dataclass(frozen=True)
class IOConfig:
    """Peripheral DAC/ADC and analog MVM non-idealities of one tile (AIHWKit ``IOParameters``, forward)."""

    inp_bound: float = 1.0
    """DAC input bound, normalised units (AIHWKit ``inp_bound``)."""
    inp_res: float | None = 1 / (2**8 - 2)
    """DAC resolution as a fraction of ``2*inp_bound`` (8 bits: 1/254); None = no input quantisation."""
    out_bound: float | None = 10.0
    """ADC output bound, normalised units; outputs are clipped to ``[-out_bound, out_bound]``; None = unbounded."""
    out_res: float | None = 1 / (2**8 - 2)
    """ADC resolution as a fraction of ``2*out_bound`` (8 bits: 1/254); None = no output quantisation."""
    out_noise: float = 0.04
    """Std of additive Gaussian noise on every MVM output before the ADC, normalised units (paper Table 2)."""
    is_perfect: bool = False
    """Skip every IO non-ideality (exact MVM); device noise still applies (AIHWKit ``is_perfect``)."""

    def __post_init__(self) -> None:
        _positive("io.inp_bound", self.inp_bound)
        _resolution("io.inp_res", self.inp_res)
        _check(
            self.out_bound is None or (math.isfinite(self.out_bound) and self.out_bound > 0),
            f"io.out_bound must be None or a finite number > 0; got {self.out_bound!r}",
        )
        _resolution("io.out_res", self.out_res)
        _check(
            self.out_res is None or self.out_bound is not None,
            "io.out_res is a fraction of 2*out_bound, so it needs a finite out_bound",
        )
        _finite_nonneg("io.out_noise", self.out_noise)

    @property
    def inp_step(self) -> float | None:
        """DAC step in normalised units (``inp_res * 2 * inp_bound``)."""
        return None if self.inp_res is None else self.inp_res * 2 * self.inp_bound

    @property
    def out_step(self) -> float | None:
        """ADC step in normalised units (``out_res * 2 * out_bound``)."""
        return None if self.out_res is None or self.out_bound is None else self.out_res * 2 * self.out_bound


@dataclass(frozen=True)
class MappingConfig:
    """How a layer's weight matrix (out x in*k*k) is split onto crossbar tiles (AIHWKit ``MappingParameter``)."""

    max_input_size: int = 512
    """Max tile rows (inputs); a layer is split into equal pieces along the input dimension, like AIHWKit."""
    max_output_size: int = 512
    """Max tile columns (outputs); split into equal pieces likewise."""

    def __post_init__(self) -> None:
        for name in ("max_input_size", "max_output_size"):
            value = getattr(self, name)
            _check(
                isinstance(value, int) and value > 0, f"mapping.{name} must be an int > 0; got {value!r}"
            )


@dataclass(frozen=True)
class PCMNoiseConfig:
    """PCM programming noise, drift and 1/f read noise (Nandakumar et al., ICECS 2019; AIHWKit
    ``PCMLikeNoiseModel``), one differential pair per weight, ``max|W_tile| -> g_max``."""

    kind: DeviceKind = DeviceKind.PCM
    g_max: float = 25.0
    """Conductance the tile's largest ``|w|`` maps to, uS."""
    prog_coeff: tuple[float, ...] = (0.26348, 1.9650, -1.1731)
    """sigma_P(g_T) = c0 + c1 (g_T/g_max) + c2 (g_T/g_max)^2 in uS (fitted at g_max = 25 uS). At another g_max
    the absolute noise stays, so the relative noise scales with 25/g_max (AIHWKit instead rescales the
    coefficients with g_max, which makes g_max a no-op there)."""
    t0: float = 20.0
    """Drift reference time t0, s (time of the first read after programming)."""
    t_read: float = 250e-9
    """Read duration of the 1/f noise model, s."""
    prog_noise_scale: float = 1.0
    """Multiplier of the programming noise std (1 = published model)."""
    read_noise_scale: float = 1.0
    """Multiplier of the accumulated 1/f read noise std."""
    drift_scale: float = 1.0
    """Multiplier of the drift exponents nu."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DeviceKind(self.kind))
        object.__setattr__(self, "prog_coeff", tuple(float(c) for c in self.prog_coeff))
        _check(len(self.prog_coeff) >= 1, "noise.prog_coeff needs at least one coefficient")
        for name in ("g_max", "t0", "t_read"):
            _positive(f"noise.{name}", getattr(self, name))
        for name in ("prog_noise_scale", "read_noise_scale", "drift_scale"):
            _finite_nonneg(f"noise.{name}", getattr(self, name))


@dataclass(frozen=True)
class RRAMNoiseConfig:
    """RRAM conductance deviations after programming, from Wan et al., Nature 608, 504 (2022), as fitted in
    AIHWKit's ``ReRamWan2022NoiseModel``: the std of g - g_T is a 4th-order polynomial of g_T/g_max (uS at
    g_max = 40 uS) measured 1 s, 1 day and 2 days after programming. RRAM shows no power-law drift; its
    conductances relax randomly. Our time model (a choice; AIHWKit only allows the three fitted times): each
    device keeps one standard-normal deviation z drawn at programming, g(t) = g_T + sigma(g_T, t) z, with sigma
    interpolated linearly in log10(t) between the fitted times and held constant outside them (t < 1 s uses
    the 1 s fit)."""

    kind: DeviceKind = DeviceKind.RRAM
    g_max: float = 40.0
    """Conductance the tile's largest ``|w|`` maps to, uS."""
    times: tuple[float, ...] = (1.0, 86400.0, 172800.0)
    """Times (s after programming) of the polynomial fits, ascending."""
    coeffs: tuple[tuple[float, ...], ...] = (
        (0.348, 16.030, -43.853, 45.393, -16.815),
        (0.701, 22.086, -50.773, 47.095, -16.458),
        (0.782, 20.274, -43.507, 37.062, -11.934),
    )
    """Per time, sigma(g_T) = sum_i c_i (g_T/g_max)^i in uS (fitted at g_max = 40 uS; absolute at other g_max)."""
    noise_scale: float = 1.0
    """Multiplier of the deviation std."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DeviceKind(self.kind))
        object.__setattr__(self, "times", tuple(float(t) for t in self.times))
        object.__setattr__(self, "coeffs", tuple(tuple(float(c) for c in row) for row in self.coeffs))
        _positive("noise.g_max", self.g_max)
        _finite_nonneg("noise.noise_scale", self.noise_scale)
        _check(
            len(self.times) >= 1 and len(self.times) == len(self.coeffs),
            "noise.times and noise.coeffs must be non-empty and of equal length",
        )
        _check(
            all(t > 0 for t in self.times) and list(self.times) == sorted(set(self.times)),
            f"noise.times must be positive and strictly ascending; got {self.times}",
        )


DeviceNoiseConfig = PCMNoiseConfig | RRAMNoiseConfig


@dataclass(frozen=True)
class InputRangeConfig:
    """Per-tile input range: inputs are clipped to [-r, r] and divided by r before the DAC
    (AIHWKit ``InputRangeParameter``)."""

    enable: bool = True
    """If False the tile sees the raw input (r = 1), as in AIHWKit without input ranges."""
    init_value: float = 3.0
    """Initial r, activation units. A digitally trained network converted to analog and evaluated directly keeps
    this value, exactly as AIHWKit does (its data initialisation runs only in training mode)."""
    learn: bool = True
    """Learn r in HWT training (AIHWKit's custom gradient: clipping-driven growth plus ``decay``)."""
    init_from_data: int = 50
    """Number of first training forwards whose input std initialises r (running mean of ``init_std_alpha``*std)."""
    init_std_alpha: float = 3.0
    """r = alpha * std(inputs) during the data initialisation."""
    decay: float = 0.01
    """Relative shrink rate of r (gradient term decay*r) while more than ``input_min_percentage`` is unclipped."""
    input_min_percentage: float = 0.995
    """Fraction of unclipped inputs above which r decays."""

    def __post_init__(self) -> None:
        _positive("input_range.init_value", self.init_value)
        _check(
            isinstance(self.init_from_data, int) and self.init_from_data >= 0,
            f"input_range.init_from_data must be an int >= 0; got {self.init_from_data!r}",
        )
        _positive("input_range.init_std_alpha", self.init_std_alpha)
        _finite_nonneg("input_range.decay", self.decay)
        _check(
            0 <= self.input_min_percentage <= 1,
            f"input_range.input_min_percentage must be in [0, 1]; got {self.input_min_percentage!r}",
        )


@dataclass(frozen=True)
class HWTConfig:
    """Hardware-aware training (paper setup: AIHWKit ``WeightModifierType.ADD_NORMAL`` and
    ``WeightClipType.LAYER_GAUSSIAN``)."""

    weight_noise: float = 0.06
    """Std of the Gaussian added to the weights at every training forward, relative to the tile's max|W|."""
    clip_sigma: float | None = 2.0
    """After each optimizer step (``clip_weights_``) clip each tile's weights to +-clip_sigma * std(tile);
    None = no clipping."""

    def __post_init__(self) -> None:
        _finite_nonneg("hwt.weight_noise", self.weight_noise)
        _check(
            self.clip_sigma is None or (math.isfinite(self.clip_sigma) and self.clip_sigma > 0),
            f"hwt.clip_sigma must be None or > 0; got {self.clip_sigma!r}",
        )


@dataclass(frozen=True)
class HardwareConfig:
    """Everything that defines the simulated chip. Build from :mod:`analognasbench.analog.presets`."""

    name: str = "custom"
    io: IOConfig = field(default_factory=IOConfig)
    mapping: MappingConfig = field(default_factory=MappingConfig)
    noise: DeviceNoiseConfig | None = field(default_factory=PCMNoiseConfig)
    """Device model for :func:`program` / :func:`drift_to`; None = devices hold their targets exactly."""
    drift_compensation: bool = True
    """Global drift compensation per tile (AIHWKit ``GlobalDriftCompensation``)."""
    input_range: InputRangeConfig = field(default_factory=InputRangeConfig)
    hwt: HWTConfig = field(default_factory=HWTConfig)

    def __post_init__(self) -> None:
        _check(isinstance(self.io, IOConfig), f"io must be an IOConfig; got {type(self.io).__name__}")
        _check(
            isinstance(self.mapping, MappingConfig),
            f"mapping must be a MappingConfig; got {type(self.mapping).__name__}",
        )
        _check(
            self.noise is None or isinstance(self.noise, (PCMNoiseConfig, RRAMNoiseConfig)),
            f"noise must be None, PCMNoiseConfig or RRAMNoiseConfig; got {type(self.noise).__name__}",
        )
        _check(
            isinstance(self.input_range, InputRangeConfig),
            f"input_range must be an InputRangeConfig; got {type(self.input_range).__name__}",
        )
        _check(isinstance(self.hwt, HWTConfig), f"hwt must be an HWTConfig; got {type(self.hwt).__name__}")

    def replace(self, **changes: Any) -> HardwareConfig:
        """A copy with top-level fields replaced (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (enums as strings, tuples as lists)."""

        def plain(value: Any) -> Any:
            if isinstance(value, enum.Enum):
                return value.value
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [plain(v) for v in value]
            return value

        return plain(asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HardwareConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise an :class:`AnalogConfigError`."""

        def build(klass: type, values: dict[str, Any] | None) -> Any:
            if values is None:
                return None
            known = {f.name for f in fields(klass)}
            unknown = set(values) - known
            _check(not unknown, f"unknown {klass.__name__} keys {sorted(unknown)}; valid: {sorted(known)}")
            return klass(**values)

        data = dict(data)
        noise = data.get("noise")
        if noise is not None:
            kind = DeviceKind(noise.get("kind", DeviceKind.PCM))
            noise = dict(noise)
            if kind is DeviceKind.RRAM:
                noise["coeffs"] = tuple(tuple(row) for row in noise.get("coeffs", RRAMNoiseConfig.coeffs))
                noise = build(RRAMNoiseConfig, noise)
            else:
                noise = build(PCMNoiseConfig, noise)
        return build(
            cls,
            {
                **data,
                "io": build(IOConfig, data.get("io", {})),
                "mapping": build(MappingConfig, data.get("mapping", {})),
                "noise": noise,
                "input_range": build(InputRangeConfig, data.get("input_range", {})),
                "hwt": build(HWTConfig, data.get("hwt", {})),
            },
        )
