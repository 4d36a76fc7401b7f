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

Repetition modes (``reprogram_each_rep``):

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

from analognasbench.enums import ClosedSet
from analognasbench.pipeline.schema import DRIFT_TIMES

#: Version of the measurement procedure; part of every profile hash, bumped when the procedure changes.
METHOD_VERSION = 1


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
        reprogram_each_rep: independent programming per repetition (``True``) or the original release's mode.
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
    reprogram_each_rep: bool = True
    calibration_batches: int = 10
    calibrate_noisy_inputs: bool = False
    eval_batch_size: int = 1000
    augment: bool = True
    data_seed: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "dataset", DatasetName.parse(self.dataset))
        object.__setattr__(self, "drift_times", tuple(int(t) for t in self.drift_times))
        for key, kind in (("train", SGDStage), ("qat", QATStage), ("hwt", SGDStage)):
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
        for key in ("reprogram_each_rep", "augment", "calibrate_noisy_inputs"):
            if not isinstance(getattr(self, key), bool):
                raise ValueError(f"profile.{key} must be true or false, got {getattr(self, key)!r}")

    # -- serialisation -------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable form (enums as their values, tuples as lists)."""
        out = dataclasses.asdict(self)
        out["dataset"] = self.dataset.value
        out["drift_times"] = list(self.drift_times)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError`` naming the valid ones."""
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
                f"{self.hardware_preset}{'' if self.reprogram_each_rep else ' (one programming)'}")

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
}


def _valid_keys() -> list[str]:
    top = [f.name for f in fields(Profile) if f.name not in ("train", "qat", "hwt")]
    nested = [f"{stage}.{f.name}" for stage, kind in (("train", SGDStage), ("qat", QATStage), ("hwt", SGDStage))
              for f in fields(kind)]
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


_REGISTRY = {
    ProfileName.PAPER: _paper,
    ProfileName.SMOKE: _smoke,
    ProfileName.CIFAR_LOWCOST: _cifar_lowcost,
    ProfileName.CIFAR_HIGHFID: _cifar_highfid,
}


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
    try:
        text = p.read_text()
    except OSError as exc:
        raise ValueError(f"cannot read profile file {p}: {exc.strerror or exc}") from None
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped]
        except ImportError:
            raise ValueError(f"reading {p} needs PyYAML (pip install pyyaml), or write the profile as JSON") from None
        data = yaml.safe_load(text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"profile file {p} is not valid JSON: {exc}") from None
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


__all__ = [
    "FLAT_ALIASES",
    "METHOD_VERSION",
    "DatasetName",
    "Profile",
    "ProfileName",
    "QATStage",
    "SGDStage",
    "get_profile",
    "load_profile_file",
    "profile_names",
    "resolve_profile",
]
