"""Measurement profiles: everything that sets the fidelity of one architecture's measurement.

A :class:`Profile` is a frozen dataclass (nested stage settings for digital training, QAT and hardware-aware
training). Its :meth:`Profile.hash` identifies the *measurement*: rows of different hashes are different
measurements and must never be mixed. The hash covers every field except the label ``name`` and the default
``seed`` (several seeds of one profile are meant to be pooled), plus :data:`METHOD_VERSION`, which is bumped
whenever the measurement procedure itself changes.

Registered profiles (:class:`ProfileName`):

* ``paper`` -- the AnalogNAS-Bench paper: CIFAR-10 32x32, C=16, N=5, 200 epochs SGD, 20 QAT epochs, HWT as long
  as the digital training (the original release's script), R=25 on ``pcm_paper``.
* ``smoke`` -- a few seconds per architecture on synthetic data, for tests.
* ``cifar_lowcost`` -- a first guess for 2-core CPUs (C=8, N=1, 16x16, class-stratified subsets); tuned by
  measurement in the dataset issue.
* ``cifar_highfid`` -- a higher-fidelity CIFAR-10 profile for fidelity checks against ``cifar_lowcost``.
* ``paper-original`` -- the original release's script with every protocol deviation switched on
  (:func:`ProtocolConfig.original`): one programming per network, test-time augmentation, mean = std = 0.5,
  constant-lr HWT with AIHWKit's update rule, PTQ calibrated on the test set.
* ``calib-*`` -- candidate low-cost profiles of the calibration against the published release (issue 18,
  ``benchmarks/calibration.py``).

Protocol switches (:class:`ProtocolConfig`, field ``protocol``; every deviation of the original release's
training script from the corrected protocol is one documented switch, see ``paper-original``):

Repetition modes (``protocol.reprogram_each_rep``, flat alias ``reprogram_each_rep``):

* ``True`` (default): every repetition programs the chip anew, drawing new programming noise *and* new drift
  coefficients -- R independent chip instances; the spread over repetitions is chip-to-chip variability.
* ``False`` (the original release's script): programming noise and drift coefficients are drawn once; repetitions
  only redraw read noise and output noise. The spread is then read-out variability of one chip, which is smaller,
  and the mean carries the luck of a single programming.

Profiles load from JSON or YAML files (:func:`load_profile_file`) and take dotted or flat overrides
(``epochs=3``, ``hwt.epochs=2``, ``repetitions=5``; see :meth:`Profile.with_overrides`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from analognasbench.configfile import read_config_file
from analognasbench.enums import ClosedSet
from analognasbench.pipeline.schema import DRIFT_TIMES

#: Version of the measurement procedure; part of every profile hash, bumped when the procedure changes.
METHOD_VERSION = 2  # 2: the unprogrammed t = 0 metrics (release semantics) next to the programmed ones


class DatasetName(ClosedSet, what="dataset", plural="datasets"):
    """Image datasets a profile can train on."""

    SYNTHETIC = "synthetic"
    CIFAR10 = "cifar10"


class ProfileName(ClosedSet, what="profile", plural="profiles"):
    """Names of the registered profiles."""

    PAPER = "paper"
    SMOKE = "smoke"
    CIFAR_LOWCOST = "cifar_lowcost"
    CIFAR_HIGHFID = "cifar_highfid"
    PAPER_ORIGINAL = "paper-original"
    CALIB_N1 = "calib-n1"
    CALIB_N2 = "calib-n2"
    CALIB_N1_ORIG = "calib-n1-orig"
    CALIB_N2_C16 = "calib-n2-c16"
    CALIB_N3_32PX = "calib-n3-32px"
    CALIB_N1_FAST = "calib-n1-fast"
    CALIB_N1_E10 = "calib-n1-e10"
    CALIB_N2_FAST = "calib-n2-fast"
    CALIB_N1_TINY = "calib-n1-tiny"
    CALIB_N1_TEST2500 = "calib-n1-test2500"
    CALIB_N1_TEST5000 = "calib-n1-test5000"
    CALIB_N5_FAST = "calib-n5-fast"


class LRSchedule(ClosedSet, what="learning-rate schedule", plural="learning-rate schedules"):
    """How an SGD stage's learning rate evolves."""

    COSINE = "cosine"  # annealed to 0 per optimizer step over the stage
    CONSTANT = "constant"  # the stage's lr throughout (the release's HWT: its scheduler sat on the other optimizer)


class HWTUpdateRule(ClosedSet, what="HWT update rule", plural="HWT update rules"):
    """How hardware-aware training updates the analog layers' weights."""

    LOGICAL = "logical"  # plain SGD on the logical weights: dW = -lr (grad W + wd W)
    AIHWKIT = "aihwkit"  # AIHWKit's InferenceTile: dW = -(lr / r) grad W - lr wd W, r the tile's input range


class QuantizationRecipe(ClosedSet, what="quantisation recipe", plural="quantisation recipes"):
    """How the int8 PTQ/QAT models are built."""

    PROJECT = "project"  # fake-quant of Conv/Linear inputs and weights, MinMax 8-bit activations (quantization.py)
    FX_X86 = "fx_x86"  # torch.ao FX prepare_fx/convert_fx with get_default_qconfig("x86") (the release's)


class CalibrationData(ClosedSet, what="calibration data split", plural="calibration data splits"):
    """Which split calibrates the int8 activation ranges (and the noisy input ranges when enabled)."""

    TRAIN = "train"
    TEST = "test"  # the release's (it leaks the test set into the PTQ model)


def _check_positive(owner: str, **values: float) -> None:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{owner}.{key} must be a positive number, got {value!r}")


def _check_non_negative(owner: str, **values: float) -> None:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{owner}.{key} must be a non-negative number, got {value!r}")


def _check_int(owner: str, minimum: int, **values: int) -> None:
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{owner}.{key} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class SGDStage:
    """SGD with momentum, learning rate cosine-annealed to 0 over the stage (per optimizer step).

    Used for digital training (the paper: lr 0.1, Nesterov momentum 0.9, weight decay 5e-4) and for hardware-aware
    training (HWT). For HWT the original release's script used SGD lr 0.01, Nesterov momentum 0.9, weight decay 5e-4
    starting from the digital weights; its cosine scheduler was attached to the wrong optimizer, so its lr stayed
    at 0.01. We anneal it to 0 (a short fine-tune converges better with a decaying rate).
    """

    epochs: int
    lr: float
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4

    def __post_init__(self) -> None:
        _check_int("stage", 0, epochs=self.epochs)
        _check_positive("stage", lr=self.lr)
        _check_non_negative("stage", momentum=self.momentum, weight_decay=self.weight_decay)
        if self.nesterov and self.momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0")


@dataclass(frozen=True)
class QATStage:
    """Quantisation-aware fine-tuning: Adam, ReduceLROnPlateau, gradient-norm clipping (the original release's).

    The original script stepped the plateau scheduler on *test* accuracy; we step it on the epoch's training
    accuracy (mode ``max``) so the test set never steers training.
    """

    epochs: int
    lr: float = 1e-3
    weight_decay: float = 1e-4
    plateau_factor: float = 0.1
    plateau_patience: int = 3
    grad_clip_norm: float = 1.0

    def __post_init__(self) -> None:
        _check_int("qat", 0, epochs=self.epochs, plateau_patience=self.plateau_patience)
        _check_positive("qat", lr=self.lr, grad_clip_norm=self.grad_clip_norm)
        _check_non_negative("qat", weight_decay=self.weight_decay)
        if not 0 < self.plateau_factor < 1:
            raise ValueError(f"qat.plateau_factor must be in (0, 1), got {self.plateau_factor!r}")


#: NAS-Bench-201's CIFAR-10 normalisation (the project's default) and the release's mean = std = 0.5.
NB201_MEAN: tuple[float, float, float] = (125.3 / 255, 123.0 / 255, 113.9 / 255)
NB201_STD: tuple[float, float, float] = (63.0 / 255, 62.1 / 255, 66.7 / 255)
HALF: tuple[float, float, float] = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class ProtocolConfig:
    """The measurement protocol's switches, each one a documented deviation of the original release's training
    script (``IBM/analog-nas`` ``training_script.py``) from the corrected protocol. The defaults are the project's
    (corrected) protocol; :meth:`original` gives the release's.

    Attributes:
        reprogram_each_rep: ``True``: every repetition programs an independent chip (new programming noise and
            drift coefficients). ``False`` (release): one programming per network, reused for every drift time
            and repetition; repetitions redraw read and output noise only.
        test_time_augmentation: evaluate the test set with the training crop + flip (release), ``tta_passes``
            independently augmented passes averaged for baseline/PTQ/QAT and the unprogrammed t = 0 metrics;
            every chip repetition reads one augmented pass. ``False``: the clean test set.
        tta_passes: number of augmented passes of the test set (release: 25); ignored without TTA.
        norm_mean / norm_std: per-channel normalisation of pixels in [0, 1] (project: NAS-Bench-201's CIFAR-10
            statistics; release: 0.5 / 0.5, inputs in [-1, 1], which uses a third of the DAC range at r = 3).
        hwt_lr_schedule: ``cosine`` (annealed to 0) or ``constant`` (release: its HWT scheduler was attached to
            the digital optimizer, so the lr stayed 0.01 for all epochs).
        hwt_update_rule: ``logical`` (plain SGD on the logical weights) or ``aihwkit`` (AIHWKit's InferenceTile
            update: the tile receives ``(d / alpha) x (clip(x) / r)``, so in logical units
            ``dW = -(lr / r) grad W`` with r the tile's input range; weight decay and the digital bias unchanged).
        quantization_recipe: ``project`` (fake-quant of Conv/Linear inputs and weights, 8-bit MinMax) or
            ``fx_x86`` (release: torch.ao FX with the x86 qconfig, 7-bit histogram activations, every op boundary
            quantised, BN folded, int8 kernels evaluated on the CPU; see :mod:`.quantization`).
        calibration_data: split that calibrates the int8 activation ranges: ``train`` (project) or ``test``
            (release, which calibrated on the whole, augmented test set).
    """

    reprogram_each_rep: bool = True
    test_time_augmentation: bool = False
    tta_passes: int = 25
    norm_mean: tuple[float, ...] = NB201_MEAN
    norm_std: tuple[float, ...] = NB201_STD
    hwt_lr_schedule: LRSchedule = LRSchedule.COSINE
    hwt_update_rule: HWTUpdateRule = HWTUpdateRule.LOGICAL
    quantization_recipe: QuantizationRecipe = QuantizationRecipe.PROJECT
    calibration_data: CalibrationData = CalibrationData.TRAIN

    def __post_init__(self) -> None:
        for key in ("reprogram_each_rep", "test_time_augmentation"):
            if not isinstance(getattr(self, key), bool):
                raise ValueError(f"protocol.{key} must be true or false, got {getattr(self, key)!r}")
        _check_int("protocol", 1, tta_passes=self.tta_passes)
        for key in ("norm_mean", "norm_std"):
            value = getattr(self, key)
            if not isinstance(value, (list, tuple)) or len(value) != 3 or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise ValueError(f"protocol.{key} must be three numbers (one per RGB channel), got {value!r}")
            object.__setattr__(self, key, tuple(float(v) for v in value))
        if any(v <= 0 for v in self.norm_std):
            raise ValueError(f"protocol.norm_std must be positive, got {self.norm_std}")
        object.__setattr__(self, "hwt_lr_schedule", LRSchedule.parse(self.hwt_lr_schedule))
        object.__setattr__(self, "hwt_update_rule", HWTUpdateRule.parse(self.hwt_update_rule))
        object.__setattr__(self, "quantization_recipe", QuantizationRecipe.parse(self.quantization_recipe))
        object.__setattr__(self, "calibration_data", CalibrationData.parse(self.calibration_data))

    @classmethod
    def original(cls) -> ProtocolConfig:
        """The original release's protocol (its training script), as far as the pipeline implements it (not:
        QAT's plateau scheduler stepped on test accuracy, observers updated during its test validations)."""
        return cls(reprogram_each_rep=False, test_time_augmentation=True, tta_passes=25, norm_mean=HALF,
                   norm_std=HALF, hwt_lr_schedule=LRSchedule.CONSTANT, hwt_update_rule=HWTUpdateRule.AIHWKIT,
                   quantization_recipe=QuantizationRecipe.FX_X86, calibration_data=CalibrationData.TEST)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for key in ("hwt_lr_schedule", "hwt_update_rule", "quantization_recipe", "calibration_data"):
            out[key] = getattr(self, key).value
        out["norm_mean"], out["norm_std"] = list(self.norm_mean), list(self.norm_std)
        return out

    def deviations(self) -> list[str]:
        """Names of the switches that differ from the project's default protocol."""
        default = ProtocolConfig().to_dict()
        return [k for k, v in self.to_dict().items() if default[k] != v]


@dataclass(frozen=True)
class Profile:
    """Everything that sets the fidelity of a measurement (see the module docstring).

    Attributes:
        name: label of the profile (not part of the hash).
        dataset: ``synthetic`` or ``cifar10``.
        image_size: side of the (square) images the networks see, in pixels.
        train_subset / test_subset: class-stratified subset sizes (``None``: the whole split). For synthetic data
            they are the generated split sizes and must be set.
        C / N / num_classes: NAS-Bench-201 macro network: stem channels, cells per stage, classes.
        batch_size: training batch size of every stage. eval_batch_size: batch size of test evaluations.
        augment: the paper's random crop (padding 4, scaled to the image size) and horizontal flip in training.
        train / qat / hwt: stage settings (epochs 0 skips the stage's training, not its evaluation).
        repetitions: R, programmings of the chip per noisy/analog metric.
        hardware_preset: name of an ``analognasbench.analog`` preset.
        drift_times: seconds after programming; a subset of :data:`~analognasbench.pipeline.schema.DRIFT_TIMES`
            (others are reported as NaN).
        protocol: the protocol switches (:class:`ProtocolConfig`; ``reprogram_each_rep`` lives there).
        calibration_batches: training batches (no augmentation) used to calibrate int8 activation ranges (and the
            analog input ranges of the digitally trained network when ``calibrate_noisy_inputs``).
        calibrate_noisy_inputs: set the chip's input ranges of the digitally trained network from training data
            before the noisy evaluation. ``False`` is the paper's protocol: AIHWKit converts the trained network
            and reads it with the initial input range (3.0); only HWT learns the ranges.
        data_seed: seed of the class-stratified subsets and of synthetic data generation.
        seed: default per-architecture seed of sweeps (not part of the hash).
    """

    name: str
    dataset: DatasetName
    image_size: int
    train_subset: int | None
    test_subset: int | None
    C: int
    N: int
    num_classes: int
    batch_size: int
    train: SGDStage
    qat: QATStage
    hwt: SGDStage
    repetitions: int
    hardware_preset: str = "pcm_paper"
    drift_times: tuple[int, ...] = DRIFT_TIMES
    protocol: ProtocolConfig = dataclasses.field(default_factory=ProtocolConfig)
    calibration_batches: int = 10
    calibrate_noisy_inputs: bool = False
    eval_batch_size: int = 1000
    augment: bool = True
    data_seed: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "dataset", DatasetName.parse(self.dataset))
        object.__setattr__(self, "drift_times", tuple(int(t) for t in self.drift_times))
        for key, kind in (("train", SGDStage), ("qat", QATStage), ("hwt", SGDStage), ("protocol", ProtocolConfig)):
            value = getattr(self, key)
            if isinstance(value, Mapping):
                object.__setattr__(self, key, _build(kind, value, key))
            elif not isinstance(value, kind):
                raise ValueError(f"profile.{key} must be a {kind.__name__}, got {value!r}")
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"profile.name must be a non-empty string, got {self.name!r}")
        _check_int("profile", 1, image_size=self.image_size, C=self.C, N=self.N, batch_size=self.batch_size,
                   eval_batch_size=self.eval_batch_size, repetitions=self.repetitions,
                   calibration_batches=self.calibration_batches)
        _check_int("profile", 2, num_classes=self.num_classes)
        _check_int("profile", 0, data_seed=self.data_seed, seed=self.seed)
        for key in ("train_subset", "test_subset"):
            value = getattr(self, key)
            if value is not None:
                _check_int("profile", self.num_classes, **{key: value})
            elif self.dataset == DatasetName.SYNTHETIC:
                raise ValueError(f"profile.{key} must be set for synthetic data (it is the generated split size)")
        if self.image_size % 4:
            raise ValueError(f"profile.image_size must be a multiple of 4 (the network halves it twice), "
                             f"got {self.image_size}")
        bad = [t for t in self.drift_times if t not in DRIFT_TIMES]
        if bad or len(set(self.drift_times)) != len(self.drift_times):
            raise ValueError(f"profile.drift_times must be distinct values of {DRIFT_TIMES}; got {self.drift_times}")
        object.__setattr__(self, "drift_times", tuple(sorted(self.drift_times)))
        if not isinstance(self.hardware_preset, str) or not self.hardware_preset:
            raise ValueError(f"profile.hardware_preset must be a preset name, got {self.hardware_preset!r}")
        for key in ("augment", "calibrate_noisy_inputs"):
            if not isinstance(getattr(self, key), bool):
                raise ValueError(f"profile.{key} must be true or false, got {getattr(self, key)!r}")

    # -- serialisation -------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable form (enums as their values, tuples as lists)."""
        out = dataclasses.asdict(self)
        out["dataset"] = self.dataset.value
        out["drift_times"] = list(self.drift_times)
        out["protocol"] = self.protocol.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError`` naming the valid ones. A top-level
        ``reprogram_each_rep`` (profiles written before :class:`ProtocolConfig`) moves into ``protocol``."""
        if isinstance(data, Mapping) and "reprogram_each_rep" in data:
            data = dict(data)
            protocol = dict(data.get("protocol") or {})
            protocol["reprogram_each_rep"] = data.pop("reprogram_each_rep")
            data["protocol"] = protocol
        return _build(cls, data, "profile")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=2)

    def canonical_json(self) -> str:
        """The hashed content: every field except ``name`` and ``seed``, the method version, and the hardware
        preset's full parameters (so a change to a preset's definition is a different measurement too)."""
        from analognasbench.analog import presets

        content = self.to_dict()
        del content["name"], content["seed"]
        content["method_version"] = METHOD_VERSION
        content["hardware"] = presets.get(self.hardware_preset).to_dict()
        return json.dumps(content, sort_keys=True, separators=(",", ":"))

    def hash(self) -> str:
        """Stable 16-hex-digit SHA-256 prefix of :meth:`canonical_json`."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()[:16]

    # -- derived views -------------------------------------------------------------------------------------------

    @property
    def reprogram_each_rep(self) -> bool:
        """``protocol.reprogram_each_rep`` (kept as an attribute for readers of older code)."""
        return self.protocol.reprogram_each_rep

    @property
    def epochs(self) -> int:
        """Digital training epochs."""
        return self.train.epochs

    @property
    def qat_epochs(self) -> int:
        return self.qat.epochs

    @property
    def hwt_epochs(self) -> int:
        return self.hwt.epochs

    def describe(self) -> str:
        """One line for logs."""
        subset = f"{self.train_subset or 'all'}/{self.test_subset or 'all'} images"
        return (f"{self.name} [{self.hash()}]: {self.dataset.value} {self.image_size}px {subset}, C={self.C} N={self.N}, "
                f"epochs {self.train.epochs}+QAT {self.qat.epochs}+HWT {self.hwt.epochs}, R={self.repetitions} on "
                f"{self.hardware_preset}{'' if self.reprogram_each_rep else ' (one programming)'}"
                + (f", protocol deviations: {', '.join(self.protocol.deviations())}" if self.protocol.deviations()
                   else ""))

    # -- overrides -----------------------------------------------------------------------------------------------

    def with_overrides(self, overrides: Mapping[str, Any] | Iterable[str] | None = None, **kwargs: Any) -> Profile:
        """A copy with some fields changed.

        Keys are field names (``repetitions``), dotted stage fields (``hwt.epochs``) or the flat aliases in
        :data:`FLAT_ALIASES` (``epochs`` = ``train.epochs``, ``qat_epochs``, ``hwt_lr``, ...). ``overrides`` may also
        be ``KEY=VALUE`` strings as on a command line; values are then read as JSON where possible (``3``,
        ``true``, ``null``, ``[60, 3600]``), else as text.
        """
        items: dict[str, Any] = {}
        if isinstance(overrides, Mapping):
            items.update(overrides)
        elif overrides is not None:
            for text in overrides:
                key, sep, raw = str(text).partition("=")
                if not sep or not key.strip():
                    raise ValueError(f"override {text!r} must look like KEY=VALUE, e.g. 'epochs=3' or 'hwt.epochs=2'")
                items[key.strip()] = _parse_value(raw.strip())
        items.update(kwargs)
        data = self.to_dict()
        for key, value in items.items():
            path = FLAT_ALIASES.get(key, key).split(".")
            target = data
            for part in path[:-1]:
                if not isinstance(target.get(part), dict):
                    raise ValueError(f"unknown profile field {key!r}; valid: {', '.join(_valid_keys())}")
                target = target[part]
            if path[-1] not in target:
                raise ValueError(f"unknown profile field {key!r}; valid: {', '.join(_valid_keys())}")
            target[path[-1]] = value
        return Profile.from_dict(data)


#: Flat override names for the stage fields.
FLAT_ALIASES: dict[str, str] = {
    "epochs": "train.epochs",
    "lr": "train.lr",
    "momentum": "train.momentum",
    "nesterov": "train.nesterov",
    "weight_decay": "train.weight_decay",
    **{f"qat_{f.name}": f"qat.{f.name}" for f in fields(QATStage)},
    **{f"hwt_{f.name}": f"hwt.{f.name}" for f in fields(SGDStage)},
    **{f.name: f"protocol.{f.name}" for f in fields(ProtocolConfig)},
}


def _valid_keys() -> list[str]:
    top = [f.name for f in fields(Profile) if f.name not in ("train", "qat", "hwt", "protocol")]
    nested = [f"{stage}.{f.name}" for stage, kind in (("train", SGDStage), ("qat", QATStage), ("hwt", SGDStage),
                                                      ("protocol", ProtocolConfig)) for f in fields(kind)]
    return top + nested + sorted(FLAT_ALIASES)


def _parse_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        lowered = raw.lower()
        if lowered in ("none", "null"):
            return None
        if lowered in ("true", "false"):
            return lowered == "true"
        return raw


def _coerce(value: Any, annotation: str) -> Any:
    """Light type coercion for values read from text (``"3"`` -> 3 where an int is expected)."""
    if value is None:
        return value
    if annotation.startswith("int") and isinstance(value, float) and value.is_integer():
        return int(value)
    if annotation.startswith("float") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation.startswith("tuple") and isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def _build(cls: Any, data: Mapping[str, Any], owner: str) -> Any:
    if not isinstance(data, Mapping):
        raise ValueError(f"{owner} must be a mapping of field names to values, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown {owner} field(s) {unknown}; valid: {', '.join(known)}")
    kwargs = {k: _coerce(v, str(known[k].type)) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a missing required field
        raise ValueError(f"incomplete {owner}: {exc}") from None


# -- registry ------------------------------------------------------------------------------------------------------


def _paper() -> Profile:
    return Profile(
        name=ProfileName.PAPER.value, dataset=DatasetName.CIFAR10, image_size=32, train_subset=None, test_subset=None,
        C=16, N=5, num_classes=10, batch_size=256,
        train=SGDStage(epochs=200, lr=0.1), qat=QATStage(epochs=20), hwt=SGDStage(epochs=200, lr=0.01),
        repetitions=25, calibration_batches=10, eval_batch_size=1000,
    )


def _smoke() -> Profile:
    return Profile(
        # 8x8 images: the paper's 4-pixel-padded crop would wipe out most of the signal, so no augmentation.
        name=ProfileName.SMOKE.value, dataset=DatasetName.SYNTHETIC, image_size=8, train_subset=512, test_subset=200,
        C=4, N=1, num_classes=10, batch_size=32, augment=False,
        train=SGDStage(epochs=2, lr=0.1), qat=QATStage(epochs=1), hwt=SGDStage(epochs=1, lr=0.01),
        repetitions=3, calibration_batches=2, eval_batch_size=500,
    )


def _cifar_lowcost() -> Profile:
    # Chosen by measurement on one CPU thread (DATASET.md, "Choosing the profile"): about a minute per architecture
    # with R = 10. No augmentation: over a few epochs the crop+flip costs 6-7 points (41% vs 48% on the all-conv cell)
    # and only pays off in long training. Batch 128 for 5 epochs beats batch 256 for 4 (55% vs 48%) and batch 64 for
    # 4 (52%) at about the same cost. HWT lr 0.05 for one epoch recovers most of the noise loss (noisy 42.6% ->
    # analog 45.9%), where lr 0.01 recovered none.
    return Profile(
        name=ProfileName.CIFAR_LOWCOST.value, dataset=DatasetName.CIFAR10, image_size=16, train_subset=10000,
        test_subset=1000, C=8, N=1, num_classes=10, batch_size=128, augment=False,
        train=SGDStage(epochs=5, lr=0.1), qat=QATStage(epochs=1), hwt=SGDStage(epochs=1, lr=0.05),
        repetitions=10, calibration_batches=4, eval_batch_size=1000,
    )


def _cifar_highfid() -> Profile:
    # The reference of cifar_lowcost's fidelity check (DATASET.md): the same 10,000 training images at their native
    # 32x32 (4x the pixels), 8 epochs instead of 5, twice the test images. The check compares baseline, noisy,
    # analog and 1-day accuracy, so the chip is read at t = 0 and 1 day only, R = 5: about 5 minutes per
    # architecture on one CPU thread (the first version, 20,000 images x 6 epochs, took 16).
    return Profile(
        name=ProfileName.CIFAR_HIGHFID.value, dataset=DatasetName.CIFAR10, image_size=32, train_subset=10000,
        test_subset=2000, C=8, N=1, num_classes=10, batch_size=128, augment=False,
        train=SGDStage(epochs=8, lr=0.1), qat=QATStage(epochs=1), hwt=SGDStage(epochs=1, lr=0.05),
        repetitions=5, drift_times=(86400,), calibration_batches=4, eval_batch_size=1000,
    )


def _paper_original() -> Profile:
    # The release's training script (IBM/analog-nas training_script.py) as far as the pipeline implements it: the
    # paper's fidelity with every protocol deviation switched on (see ProtocolConfig.original), 25 TTA passes,
    # R = 25 read-outs of one programming. Not implemented: the FX x86 int8 recipe, QAT's plateau scheduler on test
    # accuracy, the binary CIFAR-10 source (pass it with --data).
    return dataclasses.replace(_paper(), name=ProfileName.PAPER_ORIGINAL.value, protocol=ProtocolConfig.original())


# -- calibration candidates (issue 18): low-cost profiles compared against the published release ------------------
# All read the release's t = 0 semantics (every profile measures both readings). They vary what the release's
# noisy drop depends on: depth N (the release has 5 cells per stage: many noisy layers in series), width C, image
# size, training length, and the protocol (one programming, mean = std = 0.5 normalisation, which uses a third of
# the DAC range at the fixed input range 3.0; TTA; constant-lr AIHWKit-rule HWT). The chip is read at t = 0, 1 day
# and 30 days only (the compared drift times), R = 5: the chip evaluations were 60 % of the cost at R = 10 and all
# four times (calib-n2, one architecture: 176 s on a loaded core, 102 s of it reading the chip).


def _calib(name: ProfileName, *, N: int, C: int = 8, image_size: int = 16, train_subset: int = 10000,
           test_subset: int = 1000, epochs: int = 5, hwt_epochs: int = 1, hwt_lr: float = 0.05, augment: bool = False,
           protocol: ProtocolConfig | None = None, repetitions: int = 5,
           drift_times: tuple[int, ...] = (86400, 2592000)) -> Profile:
    return Profile(
        name=name.value, dataset=DatasetName.CIFAR10, image_size=image_size, train_subset=train_subset,
        test_subset=test_subset, C=C, N=N, num_classes=10, batch_size=128, augment=augment,
        train=SGDStage(epochs=epochs, lr=0.1), qat=QATStage(epochs=1), hwt=SGDStage(epochs=hwt_epochs, lr=hwt_lr),
        repetitions=repetitions, drift_times=drift_times, calibration_batches=4, eval_batch_size=1000,
        protocol=protocol or ProtocolConfig(),
    )


#: The release-like protocol of the cheap candidates: one programming, normalisation 0.5/0.5, AIHWKit-rule HWT at
#: a constant lr; no test-time augmentation (without training augmentation at few epochs it only costs accuracy).
_RELEASE_LIKE = ProtocolConfig(reprogram_each_rep=False, norm_mean=HALF, norm_std=HALF,
                               hwt_lr_schedule=LRSchedule.CONSTANT, hwt_update_rule=HWTUpdateRule.AIHWKIT)


def _calib_n1() -> Profile:
    # cifar_lowcost's training, the project's protocol: the reference point of the calibration.
    return _calib(ProfileName.CALIB_N1, N=1)


def _calib_n1_orig() -> Profile:
    # cifar_lowcost's fidelity under the release-like protocol: what the protocol alone changes.
    return _calib(ProfileName.CALIB_N1_ORIG, N=1, protocol=_RELEASE_LIKE)


def _calib_n2() -> Profile:
    # Twice the depth (2 cells per stage), release-like protocol, one epoch fewer to stay near a minute on one core.
    return _calib(ProfileName.CALIB_N2, N=2, epochs=4, protocol=_RELEASE_LIKE)


def _calib_n2_c16() -> Profile:
    # The release's width (C = 16) at N = 2, release-like protocol (about 3x calib-n2's cost; a GPU candidate).
    return _calib(ProfileName.CALIB_N2_C16, N=2, C=16, epochs=4, protocol=_RELEASE_LIKE)


def _calib_n3_32px() -> Profile:
    # Higher fidelity for the GPU: N = 3, C = 16, 32x32, 12,000 training images (the packed data must fit the GPU
    # machine's 64 MiB carry next to the 16 px data), 10 epochs with augmentation, 1,500 test images, the
    # release's full protocol with 5 TTA passes, R = 10 read-outs of one programming.
    return _calib(ProfileName.CALIB_N3_32PX, N=3, C=16, image_size=32, train_subset=12000, test_subset=1500,
                  epochs=10, hwt_epochs=2, hwt_lr=0.02, augment=True, repetitions=10,
                  # the project's int8 recipe: the FX int8 kernels run on the CPU, untested on a GPU worker
                  protocol=dataclasses.replace(ProtocolConfig.original(), tta_passes=5,
                                               quantization_recipe=QuantizationRecipe.PROJECT))


def _fast(name: ProfileName, **changes: Any) -> Profile:
    """calib-n1-fast's settings with ``changes``: N = 1, C = 8, 16 px, 5,000 training / 500 test images, 4 epochs,
    no QAT training (its row is the PTQ model's int8 accuracy), one HWT epoch, R = 3 read-outs of one programming,
    the release-like protocol."""
    settings = {"N": 1, "train_subset": 5000, "test_subset": 500, "epochs": 4, "repetitions": 3, **changes}
    return _calib(name, protocol=_RELEASE_LIKE, **settings).with_overrides(["qat_epochs=0"])


def _calib_n1_fast() -> Profile:
    # What a shared, overloaded 2-core machine can measure for the calibration in an hour (no GPU lent): about
    # 20-35 core-seconds per architecture.
    return _fast(ProfileName.CALIB_N1_FAST)


def _calib_n1_e10() -> Profile:
    # Trained 2.5x longer (10 epochs): calib-n1-fast's networks reach only ~43 % digital accuracy, so its rankings
    # are mostly training noise; this candidate asks what training length alone buys (~45 core-s).
    return _fast(ProfileName.CALIB_N1_E10, epochs=10)


def _calib_n2_fast() -> Profile:
    # Twice the depth (2 cells per stage): more noisy layers in series, the release's main difference in noisy drop
    # (~45 core-s).
    return _fast(ProfileName.CALIB_N2_FAST, N=2)


def _calib_n1_tiny() -> Profile:
    # The cheap end of the frontier: half the training images (2,500) for 3 epochs (~15 core-s).
    return _fast(ProfileName.CALIB_N1_TINY, train_subset=2500, epochs=3)


def _calib_n1_test2500() -> Profile:
    # Read on 2,500 test images instead of 500, R = 2: at 500 images one accuracy carries a binomial error of ~2.2
    # points, as large as the spread across the sample's architectures (IQR ~3), which bounds any rank agreement;
    # the extra images cost only evaluation time (~45 core-s).
    return _fast(ProfileName.CALIB_N1_TEST2500, test_subset=2500, repetitions=2)


def _calib_n1_test5000() -> Profile:
    # 5,000 test images (binomial error ~0.7 points): the next step along the axis the calibration found to matter
    # most, near the top of the 60-90 s budget (~70 core-s).
    return _fast(ProfileName.CALIB_N1_TEST5000, test_subset=5000, repetitions=2)


def _calib_n5_fast() -> Profile:
    # The release's depth (5 cells per stage) at calib-n1-fast's width, resolution and training (issue 23): the
    # cell's sum nodes pass the input's magnitude on along skip and pooling edges, so activations compound over
    # the cells of a stage and reach the fixed input range (3.0) of the unprogrammed chip only at the release's
    # depth (DATASET.md, 'Why the release's chip loses 27 points'). 1,000 test images, 1-day drift only.
    return _fast(ProfileName.CALIB_N5_FAST, N=5, test_subset=1000, drift_times=(86400,))


_REGISTRY = {
    ProfileName.PAPER: _paper,
    ProfileName.SMOKE: _smoke,
    ProfileName.CIFAR_LOWCOST: _cifar_lowcost,
    ProfileName.CIFAR_HIGHFID: _cifar_highfid,
    ProfileName.PAPER_ORIGINAL: _paper_original,
    ProfileName.CALIB_N1: _calib_n1,
    ProfileName.CALIB_N1_ORIG: _calib_n1_orig,
    ProfileName.CALIB_N2: _calib_n2,
    ProfileName.CALIB_N2_C16: _calib_n2_c16,
    ProfileName.CALIB_N3_32PX: _calib_n3_32px,
    ProfileName.CALIB_N1_FAST: _calib_n1_fast,
    ProfileName.CALIB_N1_E10: _calib_n1_e10,
    ProfileName.CALIB_N2_FAST: _calib_n2_fast,
    ProfileName.CALIB_N1_TINY: _calib_n1_tiny,
    ProfileName.CALIB_N1_TEST2500: _calib_n1_test2500,
    ProfileName.CALIB_N1_TEST5000: _calib_n1_test5000,
    ProfileName.CALIB_N5_FAST: _calib_n5_fast,
}

#: The calibration's candidate profiles, cheapest first.
CALIBRATION_PROFILES: tuple[str, ...] = (ProfileName.CALIB_N1_TINY.value, ProfileName.CALIB_N1_FAST.value,
                                         ProfileName.CALIB_N1_E10.value, ProfileName.CALIB_N1_TEST2500.value,
                                         ProfileName.CALIB_N1_TEST5000.value,
                                         ProfileName.CALIB_N2_FAST.value, ProfileName.CALIB_N5_FAST.value,
                                         ProfileName.CALIB_N1.value,
                                         ProfileName.CALIB_N1_ORIG.value, ProfileName.CALIB_N2.value, ProfileName.CALIB_N2_C16.value,
                                         ProfileName.CALIB_N3_32PX.value)


def profile_names() -> list[str]:
    return [p.value for p in ProfileName]


def get_profile(name: str | ProfileName, overrides: Mapping[str, Any] | Iterable[str] | None = None) -> Profile:
    """A registered profile by name, optionally with overrides (see :meth:`Profile.with_overrides`)."""
    profile = _REGISTRY[ProfileName.parse(name)]()
    return profile.with_overrides(overrides) if overrides else profile


def load_profile_file(path: str | Path) -> Profile:
    """A profile from a JSON or YAML file (YAML needs PyYAML). The file may hold a full profile, or
    ``{"base": "<registered name>", "overrides": {...}}`` (``name`` optional) to derive from a registered one."""
    p = Path(path)
    data = read_config_file(p, "profile file")  # the reader chip presets use: one set of errors, YAML tags refused
    if not isinstance(data, dict):
        raise ValueError(f"profile file {p} must hold a mapping, got {type(data).__name__}")
    if "base" in data:
        extra = sorted(set(data) - {"base", "overrides", "name"})
        if extra:
            raise ValueError(f"profile file {p}: with 'base' only 'overrides' and 'name' are allowed, got {extra}")
        profile = get_profile(data["base"], data.get("overrides") or None)
        return profile.with_overrides(name=data["name"]) if "name" in data else profile
    return Profile.from_dict(data)


def resolve_profile(spec: str | Path | Profile, overrides: Mapping[str, Any] | Iterable[str] | None = None) -> Profile:
    """A :class:`Profile` from a profile, a registered name or a JSON/YAML file path, with overrides applied."""
    if isinstance(spec, Profile):
        profile = spec
    elif isinstance(spec, Path) or (isinstance(spec, str) and (spec.endswith((".json", ".yaml", ".yml")) or "/" in spec)):
        profile = load_profile_file(spec)
    else:
        profile = get_profile(spec)
    return profile.with_overrides(overrides) if overrides else profile


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def explain_hash_mismatch(recorded: Mapping[str, Any] | None, profile: Profile,
                          recorded_method_version: int | None = None) -> str:
    """Why results recorded for the profile settings ``recorded`` (the dict a store or an export keeps) carry
    another hash than ``profile``: the fields that differ, or, where the settings are equal, an earlier (or later)
    version of the measurement procedure (:data:`METHOD_VERSION`, the hardware preset's definition). A message that
    named the profile twice ("profile 'cifar_lowcost', not profile 'cifar_lowcost'") told the user nothing."""
    if not isinstance(recorded, Mapping):
        return "the store does not record the settings it was measured with"
    try:
        old = Profile.from_dict(recorded)
    except (ValueError, TypeError) as exc:
        return f"its recorded settings cannot be read by this version ({exc})"
    if old.hash() == profile.hash():
        version = (f"method version {recorded_method_version}, this code measures version {METHOD_VERSION}"
                   if recorded_method_version is not None else
                   f"this code measures method version {METHOD_VERSION}")
        return (f"the settings are the same, but the results were measured with another version of the measurement "
                f"procedure ({version}; the hash also covers the hardware preset's definition), and results of "
                "different procedures never mix")
    a, b = _flat(old.to_dict()), _flat(profile.to_dict())
    a.pop("name", None), b.pop("name", None), a.pop("seed", None), b.pop("seed", None)
    diff = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if not diff:
        return "the hardware preset's definition changed since the results were measured"
    shown = "; ".join(f"{k}: {a.get(k)!r} recorded, {b.get(k)!r} requested" for k in diff[:3])
    more = f" (and {len(diff) - 3} more)" if len(diff) > 3 else ""
    return f"different settings: {shown}{more}"


__all__ = [
    "CALIBRATION_PROFILES",
    "FLAT_ALIASES",
    "METHOD_VERSION",
    "DatasetName",
    "explain_hash_mismatch",
    "Profile",
    "CalibrationData",
    "HWTUpdateRule",
    "LRSchedule",
    "ProfileName",
    "ProtocolConfig",
    "QuantizationRecipe",
    "QATStage",
    "SGDStage",
    "get_profile",
    "load_profile_file",
    "profile_names",
    "resolve_profile",
]
