"""The measurement of one architecture under a profile: one row of the dataset (see :mod:`.schema`).

Steps (the AnalogNAS-Bench paper, Section 2 and Appendix C):

1. **digital**: SGD training from a seeded initialisation (:class:`~.profiles.SGDStage`, augmentation).
2. **baseline**: float test accuracy (clean test set, or the mean of augmented passes under test-time augmentation).
3. **noisy**: the trained weights converted to the chip (``hardware_preset``) at input range 3.0 (calibrated only
   with ``calibrate_noisy_inputs``). First evaluated unprogrammed (exact weights, periphery only; the release's
   ``noisy_accuracy``, mean over passes), then (stage ``noisy_programmed`` of a checkpoint) R programmings, each
   read at t = 0 (``noisy_programmed_accuracy``) and at every drift time (global drift compensation is the
   simulator's).
4. **ptq**: int8 fake quantisation of the trained network, activation ranges calibrated on training batches (test
   batches under ``protocol.calibration_data="test"``); or the release's FX x86 recipe (``quantization_recipe``).
5. **qat**: quantisation-aware fine-tuning of a copy of the trained network, then int8 test accuracy.
6. **hwt**: hardware-aware training of an analog copy starting from the trained weights.
7. **analog**: the HWT network, unprogrammed (``analog_accuracy``), then R programmings at t = 0
   (``analog_programmed_accuracy``) and every drift time.

Unprogrammed passes: ``protocol.tta_passes`` under test-time augmentation (one augmented test pass each), else R
passes of the clean test set (they differ by the output noise only).

Each stage's values depend on its own seeds only, so the order of the stages changes no value (the chip readings
come before the int8 models, whose evaluation runs on the CPU and is the slowest part on a GPU machine).
Repetitions program the same converted model again (it is never rebuilt). Every random draw comes from a seed
derived from ``(seed, purpose)`` (:mod:`.seeds`), so a seed gives identical rows on CPU; the device only changes
floating-point rounding.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from analognasbench.datasets import ImageData, load_cifar10, synthetic
from analognasbench.nets import build_network, count_flops, count_parameters
from analognasbench.pipeline import quantization as q
from analognasbench.pipeline.profiles import (
    CalibrationData,
    DatasetName,
    HWTUpdateRule,
    Profile,
    QuantizationRecipe,
    get_profile,
)
from analognasbench.pipeline.resume import MeasurementCheckpoint, StageCheckpoint
from analognasbench.pipeline.schema import DRIFT_TIMES, EVAL_STAGES, TRAIN_STAGES, Metric, all_columns
from analognasbench.pipeline.seeds import SeedPurpose, derived_seed, generator
from analognasbench.pipeline.training import (
    DeviceData,
    Progress,
    accuracy,
    calibration_inputs,
    curve_json,
    evaluation_batches,
    train_qat,
    train_sgd,
)
from analognasbench.space import Architecture, canonical_index, parse

logger = logging.getLogger(__name__)

STAGES: tuple[str, ...] = ("digital", "baseline", "ptq", "qat", "noisy", "hwt", "analog")


# -- data ----------------------------------------------------------------------------------------------------------


def load_profile_data(profile: Profile | str, data_path: str | Path | None = None) -> ImageData:
    """The images a profile trains and tests on: generated (seeded) for ``synthetic``, else CIFAR-10 from
    ``data_path`` (``None``: the datasets module's default location) reduced to the profile's size and subsets,
    or the subset itself from a packed ``.npz`` (:mod:`analognasbench.pipeline.packed`)."""
    profile = get_profile(profile) if isinstance(profile, str) else profile
    if data_path is not None and Path(data_path).suffix == ".npz":
        from analognasbench.pipeline.packed import load_packed

        return load_packed(Path(data_path).expanduser(), profile)
    if profile.dataset == DatasetName.SYNTHETIC:
        return synthetic(profile.train_subset, profile.test_subset, profile.image_size, profile.num_classes,
                         profile.data_seed)
    if data_path is not None:
        path = Path(data_path).expanduser()
        if not path.exists():
            raise ValueError(f"CIFAR-10 data path {path} does not exist (expected a cifar-10 archive or directory)")
        if path.is_file():
            try:
                with path.open("rb") as fh:
                    fh.read(1)
            except OSError as exc:
                raise ValueError(f"CIFAR-10 data file {path} is not readable: {exc.strerror or exc}") from None
    return load_cifar10(data_path, image_size=profile.image_size, train_subset=profile.train_subset,
                        test_subset=profile.test_subset, seed=profile.data_seed)


def check_data(profile: Profile, data: ImageData) -> None:
    """Refuse data that is not what the profile measures on (dataset, image size, classes, split sizes)."""
    prov = data.provenance
    problems = []
    if prov.name != profile.dataset.value:
        problems.append(f"dataset {prov.name!r} instead of {profile.dataset.value!r}")
    if data.image_shape != (3, profile.image_size, profile.image_size):
        problems.append(f"images {data.image_shape} instead of (3, {profile.image_size}, {profile.image_size})")
    if data.num_classes != profile.num_classes:
        problems.append(f"{data.num_classes} classes instead of {profile.num_classes}")
    for split, want in (("train", profile.train_subset), ("test", profile.test_subset)):
        have = len(getattr(data, f"{split}_y"))
        if want is not None and have != want:
            problems.append(f"{have} {split} images instead of {want}")
    if problems:
        raise ValueError(f"data does not match profile {profile.name!r}: {'; '.join(problems)} "
                         "(load it with load_profile_data(profile, path))")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` picks CUDA when available, else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available")
    return dev


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"cpu ({platform.machine()}, {torch.get_num_threads()} threads)"


def software_versions() -> dict[str, str]:
    import analognasbench

    versions = {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                "analognasbench": analognasbench.__version__}
    if torch.version.cuda:
        versions["cuda"] = torch.version.cuda
    return versions


# -- the analog chip -----------------------------------------------------------------------------------------------


def chip_hardware(profile: Profile) -> Any:
    """The profile's hardware preset (the analog tiles' configuration)."""
    from analognasbench.analog import presets

    return presets.get(profile.hardware_preset)


def _reread(anet: nn.Module, t: float, seed: int) -> None:
    """Read the already programmed chip again at ``t`` with read and output noise drawn from ``seed`` (the
    one-programming mode; the simulator's own ``drift_to`` ties its read noise to the chip seed and ``t``)."""
    from analognasbench.analog import analog_layers

    for index, layer in enumerate(analog_layers(anet)):
        layer.noise.reseed(derived_seed(seed, index, 1))
        if t > 0:
            gen = torch.Generator(device=layer.weight.device).manual_seed(derived_seed(seed, index, 2))
            layer.drift_to(t, gen)


TestBatches = list[tuple[torch.Tensor, torch.Tensor]]


class EvalPasses:
    """The test set as the protocol evaluates it: the clean set, or (test-time augmentation) ``n`` independently
    augmented passes, built on demand from seeded generators so no more than one pass is held at a time."""

    def __init__(self, data: DeviceData, profile: Profile, seed: int) -> None:
        self.data, self.batch_size, self.seed = data, profile.eval_batch_size, seed
        self.augmented = profile.protocol.test_time_augmentation
        self.n = profile.protocol.tta_passes if self.augmented else 1
        self._clean: TestBatches | None = None
        self._last: tuple[int, TestBatches] | None = None

    def get(self, k: int) -> TestBatches:
        """Pass ``k`` (taken modulo the number of passes)."""
        if not self.augmented:
            if self._clean is None:
                self._clean = evaluation_batches(self.data, self.batch_size)
            return self._clean
        k %= self.n
        if self._last is None or self._last[0] != k:
            self._last = (k, evaluation_batches(self.data, self.batch_size, generator(self.seed, SeedPurpose.TTA, k)))
        return self._last[1]

    def mean_accuracy(self, model: nn.Module) -> tuple[float, float]:
        """Mean and std (ddof 1; 0 for one pass) of the accuracy over the passes."""
        values = [accuracy(model, self.get(k)) for k in range(self.n)]
        mean, std = _mean_std(values)
        return mean, std


def unprogrammed_accuracies(anet: nn.Module, tests: EvalPasses | TestBatches, passes: int, seed: int,
                            purpose: int) -> list[float]:
    """The converted network evaluated BEFORE programming (exact weights; DAC/ADC quantisation and output noise
    only; the release's t = 0 metrics): ``passes`` evaluations, each with output noise drawn from
    ``(seed, purpose, pass)`` and, under test-time augmentation, its own augmented pass of the test set."""
    from analognasbench.analog import analog_layers

    layers = analog_layers(anet)
    if any(layer.is_programmed for layer in layers):
        raise ValueError("unprogrammed_accuracies needs a network that has not been programmed yet")
    values = []
    for k in range(passes):
        for index, layer in enumerate(layers):
            layer.noise.reseed(derived_seed(seed, purpose, 1 + k * len(layers) + index))
        test = tests.get(k) if isinstance(tests, EvalPasses) else tests
        values.append(accuracy(anet, test))
    return values


def chip_accuracies(anet: nn.Module, test: EvalPasses | TestBatches, profile: Profile, seed: int,
                    purpose: int, progress: Progress | None = None, name: str = "noisy") -> dict[int, list[float]]:
    """Accuracy at t = 0 and every drift time over R repetitions: ``{t: [R values]}``.

    t = 0 is the chip right after programming (programming noise, no read noise: AIHWKit's reading before any
    ``drift_analog_weights``); later times drift it with global drift compensation. ``reprogram_each_rep``:
    each repetition programs an independent chip (new programming noise and drift coefficients); otherwise the
    chip is programmed once and each repetition draws only new read noise and output noise. Under test-time
    augmentation (``test`` a :class:`EvalPasses`) repetition r reads augmented pass r.
    """
    from analognasbench.analog import drift_to, program

    times = (0, *profile.drift_times)
    result: dict[int, list[float]] = {t: [] for t in times}
    chip = derived_seed(seed, purpose, 0)
    for rep in range(profile.repetitions):
        if profile.reprogram_each_rep:
            chip = derived_seed(seed, purpose, rep)
        for i, t in enumerate(times):
            if t == 0:
                program(anet, chip)  # same chip seed -> the same programmed chip
            if profile.reprogram_each_rep:
                if t > 0:
                    drift_to(anet, float(t))
            elif rep > 0:  # repetition 0 is the simulator's own read-out, as in the other mode
                _reread(anet, float(t), derived_seed(seed, purpose, 1_000_000 + rep * len(times) + i))
            elif t > 0:
                drift_to(anet, float(t))
            result[t].append(accuracy(anet, test.get(rep) if isinstance(test, EvalPasses) else test))
        if progress is not None:
            progress(name, rep + 1, profile.repetitions)
    return result


def _hardware_aware_training(net: nn.Module, hardware: Any, data: DeviceData, profile: Profile, seed: int,
                             progress: Progress | None,
                             checkpoint: StageCheckpoint | None = None) -> tuple[nn.Module, list]:
    """HWT of an analog copy of ``net``. The simulator's training weight noise draws from torch's global RNG,
    so it runs under a forked, seeded global RNG (restored afterwards) to stay deterministic."""
    from analognasbench.analog import analog_layers, clip_weights_, scale_grads_by_input_range_, to_analog

    hnet = to_analog(net, hardware)
    rule = profile.protocol.hwt_update_rule
    before_update = partial(scale_grads_by_input_range_, hnet) if rule == HWTUpdateRule.AIHWKIT else None
    for index, layer in enumerate(analog_layers(hnet)):
        layer.noise.reseed(derived_seed(seed, SeedPurpose.HWT, 1 + index))
    devices = [data.device] if data.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(derived_seed(seed, SeedPurpose.HWT, 0))
        curve = train_sgd(hnet, data, profile.hwt, batch_size=profile.batch_size, augment=profile.augment,
                          generator=generator(seed, SeedPurpose.HWT), after_step=partial(clip_weights_, hnet),
                          progress=progress, name="hwt", schedule=profile.protocol.hwt_lr_schedule.value,
                          before_update=before_update, checkpoint=checkpoint)
    return hnet, curve


# -- one architecture ----------------------------------------------------------------------------------------------


class _Timer:
    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.times: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - start


def _mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def validate_inputs(arch: Any, profile: Profile | str, data: ImageData) -> tuple[Architecture, Profile]:
    """Every check that can fail before work starts: architecture, profile, hardware preset, data."""
    architecture = parse(arch)
    profile = get_profile(profile) if isinstance(profile, str) else profile
    if not isinstance(profile, Profile):
        raise ValueError(f"profile must be a Profile or a registered profile name, got {type(profile).__name__}")
    chip_hardware(profile)  # unknown preset -> ValueError listing the valid ones
    if not isinstance(data, ImageData):
        raise ValueError(f"data must be an ImageData (see load_profile_data), got {type(data).__name__}")
    check_data(profile, data)
    return architecture, profile


def digital_on_chip(net: nn.Module, hardware: Any, profile: Profile, calib: list[torch.Tensor]) -> nn.Module:
    """The digitally trained ``net`` on the chip (an analog copy), its input ranges set from ``calib`` when the
    profile says so: the network of the ``noisy`` metrics."""
    from analognasbench.analog import calibrate_input_ranges, to_analog

    anet = to_analog(net, hardware)
    if profile.calibrate_noisy_inputs:
        calibrate_input_ranges(anet, calib)
    return anet


def reading_columns(prefix: str, readings: dict[str, Any]) -> dict[str, Any]:
    """The row's columns of one chip stage (``prefix`` ``noisy`` or ``analog``) from its saved readings
    (``{"unprogrammed": [...], "series": [[t, [R values]], ...]}``): mean, std and repetitions of the unprogrammed
    reading (``<prefix>_accuracy``), of the programmed chip at t = 0 and of every drift time (NaN where not read,
    or where ``series`` is missing: a measurement stopped before the programmed chip was read)."""
    row: dict[str, Any] = {}
    series, unprogrammed = {int(t): v for t, v in readings.get("series", [])}, readings["unprogrammed"]
    for t in (0, *DRIFT_TIMES):
        name = f"{prefix}_programmed_accuracy" if t == 0 else f"{prefix}_drift_{t}"
        reps = series.get(t, [])
        row[name], row[f"{name}_std"] = _mean_std(reps)
        row[f"{name}_reps"] = [float(v) for v in reps]
    name = f"{prefix}_accuracy"
    row[name], row[f"{name}_std"] = _mean_std(unprogrammed)
    row[f"{name}_reps"] = [float(v) for v in unprogrammed]
    return row


def evaluate_architecture(arch: Any, profile: Profile | str, data: ImageData, seed: int, *,
                          device: str | torch.device | None = None,
                          progress: Progress | None = None,
                          checkpoint: MeasurementCheckpoint | None = None) -> dict[str, Any]:
    """Measure one architecture; returns one dataset row with every column of :func:`.schema.all_columns`
    (plus ``software``). Deterministic for a fixed ``seed`` on CPU, apart from the timings and ``created``.

    With ``checkpoint`` (:class:`~analognasbench.pipeline.resume.MeasurementCheckpoint`) a measurement that was
    stopped continues where it stood: finished stages are not run again and training stages go on from their last
    saved epoch; the row equals an uninterrupted run's, its stage times summed over the attempts."""
    architecture, profile = validate_inputs(arch, profile, data)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    dev = resolve_device(device)

    hardware = chip_hardware(profile)
    timer = _Timer(dev)
    start = time.perf_counter()
    row: dict[str, Any] = {}
    logger.info("measuring %s with %s, seed %d on %s", architecture.short, profile.describe(), seed, dev)

    proto = profile.protocol
    ddata = DeviceData.from_arrays(data.train_x, data.train_y, data.test_x, data.test_y, dev, proto.norm_mean,
                                   proto.norm_std)
    test = EvalPasses(ddata, profile, seed)
    passes = proto.tta_passes if proto.test_time_augmentation else profile.repetitions
    calib = calibration_inputs(ddata, profile.calibration_batches, profile.batch_size,
                               generator(seed, SeedPurpose.CALIB),
                               split=proto.calibration_data.value,
                               augment=proto.calibration_data == CalibrationData.TEST and proto.test_time_augmentation)
    fit = {"batch_size": profile.batch_size, "augment": profile.augment}

    net = build_network(architecture, profile.C, profile.N, profile.num_classes,
                        generator=generator(seed, SeedPurpose.INIT)).to(dev)
    done = checkpoint.finished() if checkpoint is not None else {}
    earlier = 0.0  # seconds of work done by earlier attempts and restored from the checkpoint

    def stage(name: str, run: Any, *, timed: bool = True) -> dict[str, Any]:
        """``run()``'s JSON values (timed as stage ``name`` unless ``run`` times itself), or the values a finished
        stage saved in the checkpoint."""
        nonlocal earlier
        if name in done:
            timer.times[name] = done[name]["seconds"]
            earlier += done[name]["seconds"]
            return dict(done[name]["values"])
        if timed:
            with timer.stage(name):
                values = run()
        else:
            values = run()
        if checkpoint is not None:
            checkpoint.finish(name, values, timer.times[name])
        return values

    def train(name: str, fit_stage: Any, *args: Any, global_rng: bool = False, **kwargs: Any) -> Any:
        """A training stage under timer ``name``, continued from its checkpoint (earlier attempts' seconds added)."""
        nonlocal earlier
        ck = checkpoint.stage(name, global_rng=global_rng) if checkpoint is not None else None
        with timer.stage(name):
            result = fit_stage(*args, checkpoint=ck, **kwargs)
        if ck is not None:
            timer.times[name] += ck.previous_s
            earlier += ck.previous_s
        return result

    curves = {"digital": curve_json(train("digital", train_sgd, net, ddata, profile.train, progress=progress,
                                          generator=generator(seed, SeedPurpose.TRAIN), **fit))}

    def accuracy_of(model: nn.Module, metric: Metric) -> dict[str, Any]:
        return dict(zip((metric.value, f"{metric.value}_std"), test.mean_accuracy(model)))

    row.update(stage("baseline", lambda: accuracy_of(net, Metric.BASELINE)))

    # The chip readings of the digital network come before the int8 models: at the paper's protocol on a GPU
    # machine the int8 evaluations run on the CPU (x86 kernels) and are the slowest stages, so a measurement
    # cut short keeps the readings the analog benchmark is about. Every stage draws from its own seeds: the
    # order changes no value. Two stages, each saved when it ends: the unprogrammed reading (the release's
    # noisy_accuracy) is kept even when a stop falls in the programmed chip's drift series (R x drift times).
    noisy = stage("noisy", lambda: {"unprogrammed": unprogrammed_accuracies(
        digital_on_chip(net, hardware, profile, calib), test, passes, seed, SeedPurpose.NOISY_UNPROGRAMMED)})
    if "series" not in noisy:  # (a checkpoint of an earlier version holds both in "noisy")
        noisy |= stage("noisy_programmed", lambda: {"series": [[t, v] for t, v in chip_accuracies(
            digital_on_chip(net, hardware, profile, calib), test, profile, seed, SeedPurpose.NOISY, progress,
            "noisy").items()]})
        timer.times["noisy"] += timer.times.pop("noisy_programmed")

    fx = proto.quantization_recipe == QuantizationRecipe.FX_X86
    row.update(stage("ptq", lambda: accuracy_of(q.fx_x86_ptq(net, calib) if fx else q.quantise_ptq(net, calib),
                                                Metric.PTQ)))

    def qat() -> dict[str, Any]:
        qnet = q.fx_x86_prepare_qat(net, calib[0]) if fx else q.quantise_ptq(net, calib)
        records = train("qat", train_qat, qnet, ddata, profile.qat, progress=progress,
                        generator=generator(seed, SeedPurpose.QAT), **fit)
        with timer.stage("qat"):
            values = accuracy_of(q.fx_x86_convert(qnet) if fx else qnet, Metric.QAT)
        return {**values, "curve": curve_json(records)}

    qat_values = stage("qat", qat, timed=False)
    curves["qat"] = qat_values.pop("curve")
    row.update(qat_values)

    def chip_readings(anet: nn.Module, purpose: int, unprogrammed_purpose: int, name: str) -> dict[str, Any]:
        unprogrammed = unprogrammed_accuracies(anet, test, passes, seed, unprogrammed_purpose)
        series = chip_accuracies(anet, test, profile, seed, purpose, progress, name)
        return {"unprogrammed": unprogrammed, "series": [[t, v] for t, v in series.items()]}

    def hwt_and_analog() -> dict[str, Any]:
        # One resumable unit: HWT's network is not kept once read, so the reading is redone after a kill during it.
        hnet, records = train("hwt", _hardware_aware_training, net, hardware, ddata, profile, seed, progress,
                              global_rng=True)
        with timer.stage("analog"):
            readings = chip_readings(hnet, SeedPurpose.ANALOG, SeedPurpose.ANALOG_UNPROGRAMMED, "analog")
        return {**readings, "curve": curve_json(records), "hwt_s": timer.times["hwt"]}

    analog = stage("analog", hwt_and_analog, timed=False)
    curves["hwt"] = analog.pop("curve")
    timer.times["hwt"] = analog.pop("hwt_s")
    if "analog" in done:
        earlier += timer.times["hwt"]

    row.update(reading_columns("noisy", noisy))
    row.update(reading_columns("analog", analog))

    row.update({
        "arch_index": architecture.index,
        "arch": str(tuple(architecture)),
        "arch_str": architecture.nb201_str,
        "canonical_index": canonical_index(architecture),
        "params": count_parameters(net),
        "flops": count_flops(architecture, profile.C, profile.N, profile.num_classes, profile.image_size),
    })
    for name in TRAIN_STAGES:
        row[f"curve_{name}"] = curves[name]
    for name in TRAIN_STAGES + EVAL_STAGES:
        row[f"time_{name}_s"] = timer.times[name]
    row["time_total_s"] = time.perf_counter() - start + earlier
    row.update({
        "profile_name": profile.name,
        "profile_hash": profile.hash(),
        "seed": seed,
        "device": device_label(dev),
        "repetitions": profile.repetitions,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "software": json.dumps({**software_versions(), "training_steps": ddata.training_steps}, sort_keys=True),
    })
    ordered = {c: row[c] for c in all_columns()}
    ordered["software"] = row["software"]
    logger.info("measured %s in %.1f s: %s", architecture.short, row["time_total_s"], format_stage_times(ordered))
    return ordered


# -- timings -------------------------------------------------------------------------------------------------------

#: Columns that vary between identical measurements (wall times and creation time).
VOLATILE_COLUMNS: tuple[str, ...] = tuple(f"time_{s}_s" for s in TRAIN_STAGES + EVAL_STAGES) + ("time_total_s",
                                                                                                   "created")


def stage_times(row: dict[str, Any]) -> dict[str, float]:
    """Wall seconds per stage in pipeline order, plus ``total``, from a row."""
    out = {s: float(row[f"time_{s}_s"]) for s in STAGES}
    out["total"] = float(row["time_total_s"])
    return out


def format_stage_times(row: dict[str, Any]) -> str:
    """``digital 1.2s (40%) | baseline 0.1s (3%) | ... | total 3.0s`` for logs and benchmarks."""
    times = stage_times(row)
    total = times.pop("total")
    parts = [f"{s} {t:.2f}s ({100 * t / total:.0f}%)" if total > 0 else f"{s} {t:.2f}s" for s, t in times.items()]
    return " | ".join(parts + [f"total {total:.2f}s"])


def summarise_row(row: dict[str, Any]) -> str:
    """A short human-readable line of the headline metrics."""
    def ms(m: str) -> str:
        return f"{row[m]:.1f}+-{row[m + '_std']:.1f}"

    return (f"baseline {row['baseline_accuracy']:.1f}, ptq {row['ptq_accuracy']:.1f}, qat {row['qat_accuracy']:.1f}, "
            f"noisy {ms('noisy_accuracy')} (programmed {ms('noisy_programmed_accuracy')}), analog "
            f"{ms('analog_accuracy')} (programmed {ms('analog_programmed_accuracy')}), noisy 1d "
            f"{ms('noisy_drift_86400')}, analog 1d {ms('analog_drift_86400')}")
