"""The noisy-drop ablation (issue 23): which setting makes a network lose accuracy on the unprogrammed chip.

The release's networks lose about 27 points between digital and the unprogrammed chip (its ``noisy_accuracy``),
the project's N = 1 calibration profiles about 3. This module varies one factor at a time from a cheap base
profile toward the release's and measures only what the question needs: train digitally, read the baseline, then
read the same trained network on the chip before programming (:func:`~.measure.unprogrammed_accuracies`) under one
or more hardware variants. No QAT, HWT or drift: the drop is decided before them.

* :class:`AblationSetting` -- one cell of the ablation: a factor, its value, the training profile and the
  evaluation variant (:class:`EvalVariant`: hardware changes, calibrated input ranges, test-time augmentation).
* :func:`ablation_settings` -- the one-factor-at-a-time grid from a base profile (the settings builder).
* :func:`measure_drops` -- one architecture under every setting that shares a training: one training, many reads.
* :class:`DropStore` -- an append-only JSON-lines file of finished records, so a killed run loses at most the
  architecture in flight and a rerun resumes.
* :func:`layer_diagnostics` -- inside one network: per analog layer, the input range's clipping, the DAC levels
  its inputs use and the signal-to-noise ratio of the tile output against the exact product.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from analognasbench.datasets import ImageData
from analognasbench.pipeline.profiles import NB201_MEAN, NB201_STD, Profile
from analognasbench.pipeline.seeds import SeedPurpose, generator
from analognasbench.space import canonical_index, parse


@dataclass(frozen=True)
class EvalVariant:
    """How the trained network is read on the unprogrammed chip.

    Attributes:
        out_noise: output noise std (normalised units; ``None``: the preset's, 0.04 for ``pcm_paper``).
        ideal_converters: no DAC/ADC quantisation (bounds and noise stay).
        calibrate_inputs: set each tile's input range to 3 std of its inputs on training batches instead of the
            fixed 3.0 the release read its digital networks with.
        tta: read the test set with the training crop + flip (the release's test-time augmentation), one
            augmented pass per read (and the baseline as the mean over as many passes).
    """

    out_noise: float | None = None
    ideal_converters: bool = False
    calibrate_inputs: bool = False
    tta: bool = False

    def hardware(self, preset: str) -> Any:
        """The preset's :class:`~analognasbench.analog.config.HardwareConfig` with this variant's changes."""
        from analognasbench.analog import presets

        config = presets.get(preset)
        io = config.io
        if self.out_noise is not None:
            io = dataclasses.replace(io, out_noise=float(self.out_noise))
        if self.ideal_converters:
            io = dataclasses.replace(io, inp_res=None, out_res=None)
        return config.replace(io=io)


@dataclass(frozen=True)
class AblationSetting:
    """One setting of the ablation: ``factor`` set to ``value`` (a label), everything else the base's.

    ``jpeg_generations`` re-encodes the images that many more times the way the shipped ones were encoded
    (:mod:`analognasbench.datasets.recompress`) before training and testing: what the source's lossy
    compression costs."""

    factor: str
    value: str
    profile: Profile
    variant: EvalVariant = field(default_factory=EvalVariant)
    jpeg_generations: int = 0

    @property
    def key(self) -> str:
        """Stable identifier of the setting in stores and tables."""
        return f"{self.factor}={self.value}"

    @property
    def training_key(self) -> str:
        """Settings with the same training key read the same trained network (one training, several reads)."""
        return self.profile.hash() + (f"+jpeg{self.jpeg_generations}" if self.jpeg_generations else "")


#: Evaluation-only factors: (factor, value label, variant). Read on the networks of the base and of the deepest N.
EVAL_FACTORS: tuple[tuple[str, str, EvalVariant], ...] = (
    ("out_noise", "0", EvalVariant(out_noise=0.0)),
    ("out_noise", "0.08", EvalVariant(out_noise=0.08)),
    ("converters", "ideal", EvalVariant(ideal_converters=True)),
    ("periphery", "exact", EvalVariant(out_noise=0.0, ideal_converters=True)),
    ("input_range", "calibrated", EvalVariant(calibrate_inputs=True)),
    ("tta", "on", EvalVariant(tta=True)),
)


def ablation_settings(base: Profile, *, depths: Sequence[int] = (2, 3, 5), widths: Sequence[int] = (16,),
                      image_sizes: Sequence[int] = (32,), epochs: Sequence[int] = (12, 20),
                      normalisation: bool = True, eval_factors: Sequence[tuple[str, str, EvalVariant]] = EVAL_FACTORS,
                      eval_at_depth: int | None = 5,
                      combined: Sequence[dict[str, Any]] = (),
                      jpeg_generations: Sequence[int] = ()) -> list[AblationSetting]:
    """The one-factor-at-a-time grid from ``base``: the base itself (factor ``base``), then each training factor
    (``N``, ``C``, ``image_size``, ``epochs``, ``normalisation``: the base's one value changed), then each
    evaluation-only factor read on the base's networks and, with ``eval_at_depth``, on the networks of that depth
    (factor name suffixed ``@N5``: whether a hardware factor matters can depend on how deep the network is), then
    each of ``combined``: several profile overrides at once (factor ``combined``, value e.g. ``N5 32px``), to see
    whether the factors that move the drop alone add up; then each of ``jpeg_generations`` (factor ``jpeg``, value
    e.g. ``+1``): the base trained and tested on images compressed that many more times.

    Values equal to the base's are left out (they are the base). Raises ``ValueError`` for an invalid value (the
    profile's own validation, e.g. an image size not a multiple of 4)."""
    if not isinstance(base, Profile):
        raise ValueError(f"base must be a Profile, got {type(base).__name__}")
    settings = [AblationSetting("base", _describe(base), base)]

    def add(factor: str, key: str, values: Iterable[Any], current: Any) -> None:
        for v in values:
            if v != current:
                settings.append(AblationSetting(factor, str(v), base.with_overrides({key: v})))

    add("N", "N", depths, base.N)
    add("C", "C", widths, base.C)
    add("image_size", "image_size", image_sizes, base.image_size)
    add("epochs", "epochs", epochs, base.train.epochs)
    if normalisation and base.protocol.norm_mean != NB201_MEAN:
        nb201 = dataclasses.replace(base.protocol, norm_mean=NB201_MEAN, norm_std=NB201_STD)
        settings.append(AblationSetting("normalisation", "nb201", dataclasses.replace(base, protocol=nb201)))
    deep = base.with_overrides({"N": eval_at_depth}) if eval_at_depth and eval_at_depth != base.N else None
    for factor, label, variant in eval_factors:
        settings.append(AblationSetting(factor, label, base, variant))
        if deep is not None:
            settings.append(AblationSetting(f"{factor}@N{eval_at_depth}", label, deep, variant))
    for overrides in combined:
        profile = base.with_overrides(dict(overrides))
        settings.append(AblationSetting("combined", _describe(profile, changed_from=base), profile))
    for g in jpeg_generations:
        if g:
            settings.append(AblationSetting("jpeg", f"+{g}", base, jpeg_generations=g))
    keys = [s.key for s in settings]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate ablation settings: {sorted(k for k in keys if keys.count(k) > 1)}")
    return settings


def _describe(p: Profile, changed_from: Profile | None = None) -> str:
    """``N5 C8 16px e4 half``; with ``changed_from``, only the parts that differ from that profile, and the
    training images (``train10000``, ``full-train``) when they differ."""
    norm = "half" if p.protocol.norm_mean == (0.5, 0.5, 0.5) else "nb201"
    parts = [f"N{p.N}", f"C{p.C}", f"{p.image_size}px", f"e{p.train.epochs}", norm]
    if changed_from is not None:
        parts = [a for a, b in zip(parts, _describe(changed_from).split()) if a != b] or parts
        if p.train_subset != changed_from.train_subset:
            parts.append(f"train{p.train_subset}" if p.train_subset else "full-train")
    return " ".join(parts)


# -- measurement ---------------------------------------------------------------------------------------------------


def _unprogrammed_reads(net: nn.Module, setting: AblationSetting, ddata: Any, test: Any, reads: int, seed: int,
                        calib: list[torch.Tensor]) -> list[float]:
    from analognasbench.analog import calibrate_input_ranges, to_analog
    from analognasbench.pipeline.measure import unprogrammed_accuracies

    anet = to_analog(net, setting.variant.hardware(setting.profile.hardware_preset))
    if setting.variant.calibrate_inputs:
        calibrate_input_ranges(anet, calib)
    return unprogrammed_accuracies(anet, test, reads, seed, SeedPurpose.NOISY_UNPROGRAMMED)


def measure_drops(arch: Any, settings: Sequence[AblationSetting], data: ImageData, seed: int, *,
                  reads: int = 3, device: str | torch.device = "cpu") -> list[dict[str, Any]]:
    """One architecture under ``settings`` that share one training (same :attr:`~AblationSetting.training_key`):
    re-encodes ``data`` as the settings say, trains once on ``device``, then per setting the baseline and ``reads``
    unprogrammed chip reads. Returns one record per setting (accuracies in percent, the drop, the training and
    reading seconds, the thread count, the device)."""
    if not settings:
        return []
    _check_one_training(settings)
    return _measure_encoded(arch, settings, _encoded(data, settings[0].jpeg_generations), seed, reads=reads,
                            device=device)


def _check_one_training(settings: Sequence[AblationSetting]) -> None:
    if len({s.training_key for s in settings}) != 1:
        raise ValueError("measure_drops needs settings that share one training (one training_key)")


def _encoded(data: ImageData, jpeg_generations: int) -> ImageData:
    """``data`` with the setting's further JPEG generations (about a minute per generation for 60,000 images on
    one core)."""
    if not jpeg_generations:
        return data
    from analognasbench.datasets.recompress import recompressed

    return recompressed(data, jpeg_generations)


def _measure_encoded(arch: Any, settings: Sequence[AblationSetting], data: ImageData, seed: int, *, reads: int,
                     device: str | torch.device) -> list[dict[str, Any]]:
    """:func:`measure_drops` on ``data`` already in the settings' encoding."""
    from analognasbench.nets import build_network
    from analognasbench.pipeline.measure import (
        EvalPasses,
        check_data,
        device_label,
        resolve_device,
    )
    from analognasbench.pipeline.training import DeviceData, calibration_inputs, train_sgd

    architecture = parse(arch)
    profile = settings[0].profile
    check_data(profile, data)
    proto = profile.protocol
    dev = resolve_device(device)
    ddata = DeviceData.from_arrays(data.train_x, data.train_y, data.test_x, data.test_y, dev,
                                   proto.norm_mean, proto.norm_std)
    net = build_network(architecture, profile.C, profile.N, profile.num_classes,
                        generator=generator(seed, SeedPurpose.INIT)).to(dev)
    start = time.perf_counter()
    train_sgd(net, ddata, profile.train, batch_size=profile.batch_size, augment=profile.augment,
              generator=generator(seed, SeedPurpose.TRAIN))
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)  # the training's last kernels belong to its time
    train_s = time.perf_counter() - start
    calib = calibration_inputs(ddata, profile.calibration_batches, profile.batch_size,
                               generator(seed, SeedPurpose.CALIB))
    records = []
    for setting in settings:
        start = time.perf_counter()
        tta = dataclasses.replace(profile, protocol=dataclasses.replace(proto, test_time_augmentation=True,
                                                                        tta_passes=reads))
        test = EvalPasses(ddata, tta if setting.variant.tta else profile, seed)
        baseline = test.mean_accuracy(net)[0]
        values = _unprogrammed_reads(net, setting, ddata, test, reads, seed, calib)
        records.append({
            "setting": setting.key, "factor": setting.factor, "value": setting.value,
            "arch": architecture.short, "arch_index": architecture.index,
            "canonical_index": canonical_index(architecture), "seed": seed,
            "jpeg_generations": setting.jpeg_generations,
            "baseline_accuracy": baseline, "noisy_accuracy": float(np.mean(values)),
            "noisy_reads": [float(v) for v in values], "noisy_drop": baseline - float(np.mean(values)),
            "train_s": train_s, "eval_s": time.perf_counter() - start, "threads": torch.get_num_threads(),
            "device": device_label(dev), "profile_hash": setting.training_key,
        })
    return records


class DropStore:
    """Finished ablation records, one JSON object per line, appended and flushed to disk one architecture at a
    time (a kill loses at most the architecture in flight; a torn last line is ignored on reading)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            if isinstance(record, dict):
                out.append(record)
        return out

    def _torn(self) -> bool:
        """The file's last line has no end (a write cut short)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return False
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) != b"\n"

    def done(self) -> set[tuple[str, int, int]]:
        return {(r["setting"], int(r["arch_index"]), int(r["seed"])) for r in self.records()}

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
        if not text:
            return
        if self._torn():  # a kill mid-line: end that line, or the next record would join it and be lost with it
            text = "\n" + text
        with self.path.open("a") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())


def run_ablation(archs: Sequence[Any], settings: Sequence[AblationSetting], store: DropStore, data_path: str | Path,
                 seed: int = 0, reads: int = 3, log: Any = print, device: str | torch.device = "cpu") -> int:
    """Every (architecture, setting) not yet in ``store``: architectures in the outer loop, so every setting has
    the same classes at any time; settings sharing a training are measured together. Returns the records added."""
    from analognasbench.pipeline.measure import load_profile_data

    groups: dict[str, list[AblationSetting]] = {}
    for s in settings:
        groups.setdefault(s.training_key, []).append(s)
    cache: dict[tuple[str, int], ImageData] = {}  # (data, further JPEG generations)
    added = 0
    for arch in archs:
        architecture = parse(arch)
        done = store.done()
        for group in groups.values():
            todo = [s for s in group if (s.key, architecture.index, seed) not in done]
            if not todo:
                continue
            p = todo[0].profile
            data_key = f"{p.image_size}/{p.train_subset}/{p.test_subset}/{p.data_seed}"
            if (data_key, 0) not in cache:
                cache[data_key, 0] = load_profile_data(p, data_path)
            encoding = (data_key, todo[0].jpeg_generations)
            if encoding not in cache:  # re-encoded once for every architecture
                cache[encoding] = _encoded(cache[data_key, 0], todo[0].jpeg_generations)
            records = _measure_encoded(architecture, todo, cache[encoding], seed, reads=reads, device=device)
            store.append(records)
            added += len(records)
            drops = ", ".join(f"{r['setting']}: {r['noisy_drop']:.1f}" for r in records)
            log(f"{architecture.short} {drops} (train {records[0]['train_s']:.0f}s)")
    return added


# -- looking inside ------------------------------------------------------------------------------------------------


@torch.no_grad()
def layer_diagnostics(net: nn.Module, hardware: Any, x: torch.Tensor, *, seed: int = 0) -> list[dict[str, Any]]:
    """Per analog layer of ``net`` converted to ``hardware`` (unprogrammed, fixed input ranges), on the batch
    ``x``: its name and fan-in, the input range r, the fraction of inputs clipped at r, the mean |input| / r,
    the fraction of the DAC's levels the median |input| reaches, and the signal-to-noise ratio (dB) of the tile
    output against the exact digital product of the same (analog-path) input."""
    from analognasbench.analog import analog_layers, to_analog

    anet = to_analog(net, hardware)
    anet.eval()
    names = {id(m): n for n, m in anet.named_modules()}
    for index, layer in enumerate(analog_layers(anet)):
        layer.noise.reseed(seed + index)
    rows: list[dict[str, Any]] = []

    def hook(layer: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        xin = inputs[0]
        exact = layer.to_digital()(xin)
        err = (output - exact).double()
        signal = (exact - exact.mean()).double()
        r = float(layer._ranges().mean())
        step = hardware.io.inp_step
        mags = xin.abs()
        rows.append({
            "layer": names.get(id(layer), type(layer).__name__), "kind": type(layer).__name__,
            "fan_in": int(layer.weight[0].numel()), "input_range": r,
            "clipped": float((mags > r).float().mean()), "mean_abs_over_range": float(mags.mean()) / r,
            "median_dac_levels": (float(mags.median()) / r) / step if step else math.nan,
            "snr_db": 10 * math.log10(float(signal.pow(2).mean()) / max(float(err.pow(2).mean()), 1e-30)),
        })

    handles = [layer.register_forward_hook(hook) for layer in analog_layers(anet)]
    try:
        anet(x)
    finally:
        for h in handles:
            h.remove()
    return rows


__all__ = [
    "EVAL_FACTORS",
    "AblationSetting",
    "DropStore",
    "EvalVariant",
    "ablation_settings",
    "layer_diagnostics",
    "measure_drops",
    "run_ablation",
]
