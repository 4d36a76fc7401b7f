"""Chip presets of the AIMC cost model: nested frozen dataclasses, a unit and a source on every field.

Two named presets (:class:`ChipName`), and any number of user presets in a JSON or YAML file with the same keys
(:func:`load_chip`, :func:`get_chip`). Every number is checked on construction; a bad value raises
:class:`ChipPresetError` naming the field, the value and what was expected.

How the Hermes numbers are derived (Le Gallo et al., "A 64-core mixed-signal in-memory compute chip based on
phase-change memory for deep neural network inference", Nature Electronics 6, 680-693, 2023): the chip has 64
cores, each one 256x256 crossbar with 8-bit input (pulse-width modulated) and 8-bit output (current-controlled
oscillator ADC) conversion. One full MVM is 2 x 256 x 256 = 131,072 operations. In one-phase read mode the chip
reaches 63.1 TOPS at 9.76 TOPS/W, so

* MVMs per second per core = 63.1e12 / (64 x 131,072) = 7.52e6  ->  one MVM takes 1 / 7.52e6 s = 133 ns;
* energy per operation = 1 / 9.76e12 J = 0.1025 pJ  ->  one full MVM costs 131,072 x 0.1025 pJ = 13.4 nJ.

(Four-phase mode, 16.1 TOPS at 2.48 TOPS/W, would give 521 ns and 52.9 nJ.) The paper reports these totals only;
how the 13.4 nJ splits into a fixed part, input (DAC) conversions, output (ADC) conversions and the array read is
an ASSUMPTION of this model (:class:`MVMSpec`), as are the digital throughput and the on-chip data-movement energy.

Digital-operation and memory energies are Horowitz, "Computing's energy problem (and what we can do about it)",
ISSCC 2014, 45 nm: 16-bit floating-point add 0.4 pJ, multiply 1.1 pJ; a 64-bit read of a 32 KB SRAM 20 pJ, i.e.
2.5 pJ per byte. They are not rescaled to 14 nm (which would lower them), so digital work is if anything
over-weighted.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from analognasbench.configfile import ConfigFileError, read_config_file
from analognasbench.enums import ClosedSet


class ChipPresetError(ValueError):
    """A chip preset (built in code or read from a file) has a missing, unknown or out-of-range field."""


class ChipName(ClosedSet, what="chip preset", plural="chip presets"):
    """Closed set of the built-in chip presets."""

    IBM_HERMES_PCM_14NM = "ibm_hermes_pcm_14nm"
    RELEASE_512 = "release_512"


#: Bounds of every number of a preset: wide beyond any real chip, narrow enough that every derived quantity
#: (energies, latencies, throughput) stays finite in float64 for the largest network the cost model accepts
#: (``analognasbench.nets.config``: C 1024, N 64, 1024x1024 inputs; about 1e17 MVMs on 1x1 crossbars). Without them
#: ``mvm.energy_nj: 1e308`` passed and printed an infinite energy.
MAX_ENERGY = 1e6
"""Largest energy of one MVM (nJ), one digital operation or one moved byte (pJ)."""
MIN_TIME, MAX_TIME = 1e-3, 1e9
"""Range of one MVM's latency, ns (1 ps .. 1 s); a shorter one would make the throughput overflow."""
MIN_RATE, MAX_RATE = 1e-3, 1e6
"""Range of the digital throughput, operations per ns."""
MAX_CROSSBAR, MAX_CORES, MAX_BITS = 1 << 20, 1 << 30, 64


def _number(name: str, value: Any, *, positive: bool, unit: str, low: float | None = None,
            high: float = MAX_ENERGY) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > 0 if positive else value >= 0) and value <= high and (low is None or value >= low)
    if not ok:
        bound = ("> 0" + (f" (at least {low:g})" if low is not None else "")) if positive else ">= 0"
        raise ChipPresetError(f"{name} must be a finite number {bound} and <= {high:g} ({unit}); got {value!r}")


def _integer(name: str, value: Any, minimum: int, unit: str, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ChipPresetError(f"{name} must be an integer >= {minimum} and <= {maximum:,} ({unit}); got {value!r}")


@dataclass(frozen=True)
class CrossbarSpec:
    """The analog cores: one crossbar (tile) per core, every weight layer split into tiles of this size."""

    rows: int
    """Crossbar rows = inputs of one MVM (DACs per core); a layer's k*k*C_in inputs are split over tiles of at
    most this many rows (equal pieces, like AIHWKit's ``TileModuleArray``). Hermes: 256."""
    cols: int
    """Crossbar columns = outputs of one MVM (ADCs per core). Hermes: 256."""
    cores: int
    """Crossbars on one chip (weights stay resident: a network needs one core per tile). Hermes: 64."""
    input_bits: int = 8
    """DAC resolution, bits (sets the bytes per activation moved). Hermes: 8."""
    output_bits: int = 8
    """ADC resolution, bits. Hermes: 8."""

    def __post_init__(self) -> None:
        _integer("crossbar.rows", self.rows, 1, "crossbar rows, i.e. inputs per MVM", MAX_CROSSBAR)
        _integer("crossbar.cols", self.cols, 1, "crossbar columns, i.e. outputs per MVM", MAX_CROSSBAR)
        _integer("crossbar.cores", self.cores, 1, "crossbars on one chip", MAX_CORES)
        _integer("crossbar.input_bits", self.input_bits, 1, "DAC bits", MAX_BITS)
        _integer("crossbar.output_bits", self.output_bits, 1, "ADC bits", MAX_BITS)


@dataclass(frozen=True)
class MVMSpec:
    """Energy and time of one analog matrix-vector multiplication on one core.

    The energy of an MVM that uses ``r`` of the ``R`` rows and ``c`` of the ``C`` columns is

        E(r, c) = energy_nj * (fixed_fraction + dac_fraction * r/R + adc_fraction * c/C + array_fraction * r*c/(R*C))

    so a full MVM costs ``energy_nj``, each input conversion ``energy_nj * dac_fraction / R`` and each output
    conversion ``energy_nj * adc_fraction / C``. The four fractions must sum to 1; ``fixed_fraction = 1`` charges
    every MVM in full whatever its size.
    """

    energy_nj: float
    """Energy of one full (all rows, all columns) MVM including its DAC and ADC conversions, nJ."""
    latency_ns: float
    """Time of one MVM (any size: inputs are applied in parallel, the pulse width sets the time), ns."""
    fixed_fraction: float
    """Share of ``energy_nj`` paid by every MVM whatever its size (core control, clocking, references)."""
    dac_fraction: float
    """Share paid per used row (input conversion and row driving), at all rows used."""
    adc_fraction: float
    """Share paid per used column (output conversion), at all columns used."""
    array_fraction: float
    """Share paid per used cell (read current of the programmed devices), at all cells used."""

    def __post_init__(self) -> None:
        _number("mvm.energy_nj", self.energy_nj, positive=False, unit="nJ per full MVM")
        _number("mvm.latency_ns", self.latency_ns, positive=True, unit="ns per MVM", low=MIN_TIME, high=MAX_TIME)
        parts = ("fixed_fraction", "dac_fraction", "adc_fraction", "array_fraction")
        for name in parts:
            value = getattr(self, name)
            _number(f"mvm.{name}", value, positive=False, unit="a fraction of the full-MVM energy in [0, 1]", high=1.0)
            if value > 1:
                raise ChipPresetError(f"mvm.{name} must be a fraction of the full-MVM energy in [0, 1]; got {value!r}")
        total = sum(getattr(self, name) for name in parts)
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ChipPresetError(f"mvm fractions ({', '.join(parts)}) must sum to 1; they sum to {total!r}")


@dataclass(frozen=True)
class DigitalSpec:
    """The digital units beside the crossbars (batch norm, ReLU, pooling, additions, partial sums)."""

    add_pj: float = 0.4
    """Energy of one addition, subtraction or comparison (ReLU), pJ. Horowitz ISSCC 2014: 16-bit FP add, 45 nm."""
    mul_pj: float = 1.1
    """Energy of one multiplication (batch-norm scale, pooling's 1/count), pJ. Horowitz 2014: 16-bit FP mult."""
    ops_per_ns: float = 64.0
    """Digital operations per ns the chip sustains (ASSUMPTION: a 64-lane vector unit at 1 GHz); sets the
    digital share of the latency."""

    def __post_init__(self) -> None:
        _number("digital.add_pj", self.add_pj, positive=False, unit="pJ per addition")
        _number("digital.mul_pj", self.mul_pj, positive=False, unit="pJ per multiplication")
        _number("digital.ops_per_ns", self.ops_per_ns, positive=True, unit="digital operations per ns", low=MIN_RATE,
                high=MAX_RATE)


@dataclass(frozen=True)
class MemorySpec:
    """On-chip movement of activations between layers."""

    byte_pj: float = 2.5
    """Energy per activation byte moved (read or written), pJ. Horowitz 2014: 20 pJ per 64-bit read of a 32 KB
    SRAM = 2.5 pJ per byte (ASSUMPTION: activations live in such local SRAM; no off-chip traffic)."""

    def __post_init__(self) -> None:
        _number("memory.byte_pj", self.byte_pj, positive=False, unit="pJ per activation byte moved")


@dataclass(frozen=True)
class ChipPreset:
    """A chip for the cost model: crossbars, MVM energy and time, digital units, activation movement."""

    name: str
    crossbar: CrossbarSpec
    mvm: MVMSpec
    digital: DigitalSpec = field(default_factory=DigitalSpec)
    memory: MemorySpec = field(default_factory=MemorySpec)
    source: str = ""
    """Where the numbers come from (free text)."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ChipPresetError(f"name must be a non-empty string (the preset's name); got {self.name!r}")
        for key, kind in _NESTED.items():
            value = getattr(self, key)
            if isinstance(value, dict):
                object.__setattr__(self, key, _build(kind, value, key))
            elif not isinstance(value, kind):
                raise ChipPresetError(f"{key} must be a {kind.__name__} or a mapping of its fields; got {value!r}")
        if not isinstance(self.source, str):
            raise ChipPresetError(f"source must be a string; got {self.source!r}")

    @property
    def dac_energy_pj(self) -> float:
        """Energy of one input conversion (one row driven for one MVM), pJ."""
        return 1e3 * self.mvm.energy_nj * self.mvm.dac_fraction / self.crossbar.rows

    @property
    def adc_energy_pj(self) -> float:
        """Energy of one output conversion (one column read for one MVM), pJ."""
        return 1e3 * self.mvm.energy_nj * self.mvm.adc_fraction / self.crossbar.cols

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; :func:`chip_from_dict` reads it back."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


_NESTED: dict[str, type] = {"crossbar": CrossbarSpec, "mvm": MVMSpec, "digital": DigitalSpec, "memory": MemorySpec}


def _build(kind: type, data: Any, owner: str) -> Any:
    if not isinstance(data, dict):
        raise ChipPresetError(f"{owner} must be a mapping of {kind.__name__} fields; got {data!r}")
    valid = [f.name for f in fields(kind)]
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise ChipPresetError(f"unknown key {owner}.{unknown[0]}; valid keys of {owner}: {', '.join(valid)}")
    required = [f.name for f in fields(kind)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [k for k in required if k not in data]
    if missing:
        raise ChipPresetError(f"{owner} lacks the required key {owner}.{missing[0]} (required: {', '.join(required)})")
    return kind(**data)


def chip_from_dict(data: Any) -> ChipPreset:
    """A :class:`ChipPreset` from a mapping with the keys of :meth:`ChipPreset.to_dict` (unknown keys rejected)."""
    if not isinstance(data, dict):
        raise ChipPresetError(f"a chip preset must be a mapping (JSON object); got {type(data).__name__}")
    valid = [f.name for f in fields(ChipPreset)]
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise ChipPresetError(f"unknown key {unknown[0]!r} in the chip preset; valid keys: {', '.join(valid)}")
    for key in ("name", "crossbar", "mvm"):
        if key not in data:
            raise ChipPresetError(f"the chip preset lacks the required key {key!r}")
    return ChipPreset(**{k: (_build(_NESTED[k], v, k) if k in _NESTED else v) for k, v in data.items()})


def load_chip(path: str | Path) -> ChipPreset:
    """A chip preset from a ``.json`` file, or a ``.yaml``/``.yml`` file when PyYAML is installed."""
    p = Path(path)
    try:
        data = read_config_file(p, "chip preset file")
    except ConfigFileError as exc:
        raise ChipPresetError(str(exc)) from None
    try:
        return chip_from_dict(data)
    except ChipPresetError as exc:
        raise ChipPresetError(f"{p}: {exc}") from None


# ----- the built-in presets ---------------------------------------------------------------------------------------

_HERMES_OPS_PER_MVM = 2 * 256 * 256
_HERMES_TOPS, _HERMES_TOPS_PER_W, _HERMES_CORES = 63.1, 9.76, 64
#: Derived as in the module docstring: 132.9 ns and 13.43 nJ per full 256x256 MVM (one-phase read mode).
HERMES_MVM_LATENCY_NS = 1e9 * _HERMES_CORES * _HERMES_OPS_PER_MVM / (_HERMES_TOPS * 1e12)
HERMES_MVM_ENERGY_NJ = 1e9 * _HERMES_OPS_PER_MVM / (_HERMES_TOPS_PER_W * 1e12)
#: ASSUMED split of a full MVM's energy (the paper gives the total only): fixed, DAC, ADC, array.
HERMES_ENERGY_SPLIT = (0.1, 0.2, 0.4, 0.3)


def ibm_hermes_pcm_14nm() -> ChipPreset:
    """IBM's 64-core 14 nm PCM chip (Le Gallo et al., Nature Electronics 2023), one-phase read mode: 64 cores of
    256x256, 8-bit I/O, 133 ns and 13.4 nJ per full MVM (derived in the module docstring). The split of the MVM
    energy (10 % fixed, 20 % DAC, 40 % ADC, 30 % array), the digital throughput and the movement energy are
    assumptions; digital energies are Horowitz (ISSCC 2014)."""
    fixed, dac, adc, array = HERMES_ENERGY_SPLIT
    return ChipPreset(
        name=ChipName.IBM_HERMES_PCM_14NM.value,
        crossbar=CrossbarSpec(rows=256, cols=256, cores=_HERMES_CORES, input_bits=8, output_bits=8),
        mvm=MVMSpec(energy_nj=HERMES_MVM_ENERGY_NJ, latency_ns=HERMES_MVM_LATENCY_NS, fixed_fraction=fixed,
                    dac_fraction=dac, adc_fraction=adc, array_fraction=array),
        source="Le Gallo et al., Nature Electronics 6, 680 (2023): 63.1 TOPS, 9.76 TOPS/W one-phase, 64 cores of "
               "256x256, 8-bit I/O; energy split, digital throughput and movement energy assumed; digital energies "
               "Horowitz ISSCC 2014",
    )


def release_512() -> ChipPreset:
    """The 512x512 tiles of the release's AIHWKit simulation (its ``max_input_size = max_output_size = 512``) on a
    hypothetical Hermes-like chip. ASSUMPTIONS (no such chip was measured): 64 cores; the same per-conversion and
    per-cell energies as Hermes, so a full 512x512 MVM costs 13.4 nJ x (0.1 + 0.2 x 2 + 0.4 x 2 + 0.3 x 4) =
    33.6 nJ; the same 133 ns per MVM (the input pulse width, not the array size, sets the time)."""
    fixed, dac, adc, array = HERMES_ENERGY_SPLIT
    scale = (fixed, dac * 2, adc * 2, array * 4)
    energy = HERMES_MVM_ENERGY_NJ * sum(scale)
    return ChipPreset(
        name=ChipName.RELEASE_512.value,
        crossbar=CrossbarSpec(rows=512, cols=512, cores=_HERMES_CORES, input_bits=8, output_bits=8),
        mvm=MVMSpec(energy_nj=energy, latency_ns=HERMES_MVM_LATENCY_NS,
                    fixed_fraction=scale[0] / sum(scale), dac_fraction=scale[1] / sum(scale),
                    adc_fraction=scale[2] / sum(scale), array_fraction=scale[3] / sum(scale)),
        source="tile size of the AnalogNAS-Bench release's AIHWKit mapping (512x512); core count, energies and "
               "latency assumed from the Hermes preset (per-conversion and per-cell energies kept)",
    )


_FACTORIES = {ChipName.IBM_HERMES_PCM_14NM: ibm_hermes_pcm_14nm, ChipName.RELEASE_512: release_512}
DEFAULT_CHIP = ChipName.IBM_HERMES_PCM_14NM


def chip_names() -> list[str]:
    return [c.value for c in ChipName]


def get_chip(spec: ChipPreset | ChipName | str | Path = DEFAULT_CHIP) -> ChipPreset:
    """A chip preset: itself, a built-in name (:class:`ChipName`), or the path of a JSON/YAML preset file."""
    if isinstance(spec, ChipPreset):
        return spec
    if isinstance(spec, Path) or (isinstance(spec, str) and spec.lower().endswith((".json", ".yaml", ".yml"))):
        return load_chip(spec)
    if not isinstance(spec, str):
        raise ChipPresetError(f"a chip must be a ChipPreset, a preset name or a preset file; got {type(spec).__name__}")
    try:
        return _FACTORIES[ChipName.parse(spec)]()
    except ValueError as exc:
        raise ChipPresetError(f"{exc} (or the path of a .json/.yaml preset file)") from None
