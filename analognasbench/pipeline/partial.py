"""Measurements in progress, read from their checkpoints: the metrics of the stages that already finished.

At the paper's protocol one architecture trains 420 epochs; a lent accelerator's minutes may end inside the
hardware-aware training, long after the digital network, its int8 models and its unprogrammed and programmed chip
readings were measured. Those values sit in the checkpoint's ``stages.json`` (:mod:`.resume`); this module turns
them into partial dataset rows (the columns of the finished stages, the others NaN), so that they can be compared
with the release before the row is complete (``benchmarks/reproduce_release.py --checkpoints``). They are never
written into a run store: a row there is a whole measurement.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from analognasbench.datasets import ImageData
from analognasbench.pipeline.measure import (
    EvalPasses,
    chip_hardware,
    digital_on_chip,
    reading_columns,
    unprogrammed_accuracies,
)
from analognasbench.pipeline.profiles import CalibrationData, Profile
from analognasbench.pipeline.resume import StageCheckpoint, parse_run_directory
from analognasbench.pipeline.seeds import SeedPurpose, generator
from analognasbench.pipeline.training import DeviceData, calibration_inputs
from analognasbench.space import canonical_index, parse

#: The stages that save results, in the order a measurement runs them.
_STAGE_ORDER = ("baseline", "noisy", "noisy_programmed", "ptq", "qat", "analog")
#: Stages whose saved values are row columns as they stand (besides a training curve).
_PLAIN_STAGES = ("baseline", "ptq", "qat")
#: Training stages (checkpoint name, the profile's stage field) and the stage whose results end them: a saved
#: training without those results is still in progress.
_TRAININGS = (("digital", "train", "baseline"), ("qat", "qat", "qat"), ("hwt", "hwt", "analog"))
#: Stages whose saved values are chip readings (:func:`.measure.reading_columns`; the programmed chip's series of
#: ``noisy`` is its own stage, ``noisy_programmed``).
_CHIP_STAGES = ("noisy", "analog")


def rows_in_progress(root: str | os.PathLike[str]) -> pd.DataFrame:
    """One row per measurement under the checkpoint root ``root`` that finished at least one stage: ``profile_name``,
    ``profile_hash``, ``arch_index``, ``arch``, ``canonical_index``, ``seed``, ``stages_finished`` (comma-separated,
    in the order they ran), ``in_progress`` (:func:`trainings_in_progress`) and the columns those stages measure.
    Empty frame when there is none; ``ValueError`` when ``root`` is not a directory."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"checkpoint root {str(root)!r} is not a directory (expected what --checkpoints wrote)")
    rows = []
    for results in sorted(root.glob("*/*/stages.json")):
        run = parse_run_directory(results.parent)
        if run is None:
            continue
        name, profile_hash, arch_index, seed = run
        done: dict[str, Any] = json.loads(results.read_text())
        architecture = parse(arch_index)
        row: dict[str, Any] = {
            "profile_name": name, "profile_hash": profile_hash, "arch_index": architecture.index,
            "arch": str(tuple(architecture)), "canonical_index": canonical_index(architecture),
            "seed": seed, "stages_finished": ",".join(s for s in _STAGE_ORDER if s in done),
            "stage_seconds": math.fsum(float(d["seconds"]) for d in done.values()),
            "in_progress": trainings_in_progress(results.parent, done, registered_profile(name, profile_hash)),
        }
        for stage in _PLAIN_STAGES:
            if stage in done:
                row.update({k: v for k, v in done[stage]["values"].items() if k != "curve"})
        for stage in _CHIP_STAGES:
            if stage in done:
                readings = {**done[stage]["values"], **done.get(f"{stage}_programmed", {}).get("values", {})}
                row.update(reading_columns(stage, readings))
        rows.append(row)
    return pd.DataFrame(rows)


def trainings_in_progress(directory: str | os.PathLike[str], done: dict[str, Any], profile: Profile | None) -> str:
    """The trainings of the measurement in ``directory`` saved but not finished, e.g. ``hwt at epoch 9 of 200``
    (``of N`` only with the measurement's ``profile``); ``""`` when none. ``done``: its finished stages."""
    parts = []
    for name, field, result in _TRAININGS:
        state = None if result in done else StageCheckpoint(Path(directory) / f"{name}.pt").load()
        if state is not None:
            total = f" of {getattr(profile, field).epochs}" if profile is not None else ""
            parts.append(f"{name} at epoch {int(state['epoch'])}{total}")
    return ", ".join(parts)


def registered_profile(name: str, profile_hash: str) -> Profile | None:
    """The registered profile ``name`` when it is still the one a checkpoint saved with ``profile_hash`` measured;
    ``None`` when it has changed since (its epochs or seeds may differ) or is not registered (an overridden one)."""
    from analognasbench.pipeline.profiles import get_profile

    try:
        profile = get_profile(name)
    except ValueError:
        return None
    return profile if profile.hash() == profile_hash else None


def digital_network_of(path: str | os.PathLike[str], arch: Any, profile: Profile) -> tuple[torch.nn.Module, int]:
    """The network saved in the digital training checkpoint ``path`` (in eval mode, on the CPU) and its epoch;
    ``ValueError`` when ``path`` holds no training checkpoint."""
    from analognasbench.nets import build_network

    state = StageCheckpoint(Path(path)).load()
    if state is None:
        raise ValueError(f"{str(path)!r} is not a training checkpoint")
    net = build_network(parse(arch), profile.C, profile.N, profile.num_classes)
    net.load_state_dict(state["model"])
    return net.eval(), int(state["epoch"])


def probe_digital_training(path: str | os.PathLike[str], arch: Any, profile: Profile, data: ImageData, seed: int,
                           *, reads: int = 3) -> dict[str, Any]:
    """An early look at a digital training still in progress (its checkpoint ``path``, e.g. ``digital.pt``): the
    saved network's test accuracy and its accuracy on the unprogrammed chip, each over the first ``reads`` of the
    protocol's evaluation passes with the noisy stage's seeds. Columns end in ``_probe``: these are not the
    dataset's metrics (the network has not finished training and the reads are fewer), only a sign of where
    they are heading. On the CPU."""
    from analognasbench.pipeline.training import accuracy

    architecture = parse(arch)
    net, epoch = digital_network_of(path, architecture, profile)
    proto = profile.protocol
    ddata = DeviceData.from_arrays(data.train_x, data.train_y, data.test_x, data.test_y, torch.device("cpu"),
                                   proto.norm_mean, proto.norm_std)
    test = EvalPasses(ddata, profile, seed)
    calib = calibration_inputs(ddata, profile.calibration_batches, profile.batch_size,
                               generator(seed, SeedPurpose.CALIB),
                               split=proto.calibration_data.value,
                               augment=proto.calibration_data == CalibrationData.TEST and proto.test_time_augmentation)
    baseline = [accuracy(net, test.get(k)) for k in range(reads)]
    anet = digital_on_chip(net, chip_hardware(profile), profile, calib)
    noisy = unprogrammed_accuracies(anet, test, reads, seed, SeedPurpose.NOISY_UNPROGRAMMED)
    b, n = sum(baseline) / reads, sum(noisy) / reads
    return {"arch": str(tuple(architecture)), "canonical_index": canonical_index(architecture),
            "epoch": epoch, "epochs": profile.train.epochs, "reads": reads,
            "baseline_probe": b, "noisy_probe": n, "noisy_drop_probe": b - n}


__all__ = ["digital_network_of", "probe_digital_training", "rows_in_progress"]
