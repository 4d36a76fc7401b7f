"""Converting the published AnalogNAS-Bench release into this project's dataset format.

The release's data ships inside PyPI's ``analog-nasbench`` 0.1.3 wheel as ``analognasbench/data.anb`` (a pickle of
15,625 records). That package's top-level module is also called ``analognasbench``, so it must never be installed
beside this project: :func:`fetch_release_wheel` only *downloads* the pinned wheel (``pip download --no-deps``) into
a temporary directory, the data file is read from the wheel's zip archive, checked against the pinned SHA-256, read
through the restricted unpickler of :mod:`analognasbench.release.original`, and written as ``<name>.parquet`` +
``<name>.json`` with its provenance. Offline, or on any mismatch, nothing is written.

What the conversion adds and what it cannot: parameter counts are computed from the networks (C = 16, N = 5, as
the release trained them; the release published none), FLOPs likewise; every cell keeps its own row (the release
trained isomorphic cells separately). The release publishes no error for baseline/PTQ/QAT/noisy/analog accuracy
(their ``*_std`` are NaN: not published) and no raw repetitions.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from analognasbench.bench.derived import NB201_CIFAR10, derived_column
from analognasbench.bench.errors import DatasetError, DatasetIntegrityError
from analognasbench.bench.files import DatasetMeta, dataset_paths, write_dataset
from analognasbench.release.original import load_original

logger = logging.getLogger(__name__)

RELEASE_PACKAGE = "analog-nasbench"
RELEASE_VERSION = "0.1.3"
#: SHA-256 of ``analognasbench/data.anb`` inside the pinned wheel.
RELEASE_SHA256 = "85f3435b877aa2d36268d55ce07f6ff6d73643d17a840f1941745da5eb80db32"
RELEASE_MEMBER = "analognasbench/data.anb"
#: Name of the converted dataset embedded in this package.
ORIGINAL_DATASET = "analognas-original"

#: The release's protocol, as its training script (IBM/analog-nas ``analognasbench/training_script.py``) ran it;
#: recorded in the converted dataset's metadata so the fidelity is machine-readable (keys as in pipeline profiles).
RELEASE_PROFILE: dict[str, object] = {
    "name": "original-release",
    "dataset": "cifar10",
    "image_size": 32,
    "train_subset": 50000,
    "test_subset": 10000,
    "C": 16,
    "N": 5,
    "num_classes": 10,
    "batch_size": 256,
    "train": {"epochs": 200, "lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.0005,
              "schedule": "cosine per epoch"},
    "qat": {"epochs": 20, "optimizer": "adam", "lr": 0.001, "weight_decay": 0.0001,
            "recipe": "torch FX x86 (7-bit histogram activations, BN folded)", "plateau_on": "test accuracy"},
    "hwt": {"epochs": 200, "optimizer": "aihwkit AnalogSGD", "lr": 0.01, "momentum": 0.9, "nesterov": True,
            "weight_decay": 0.0005, "schedule": "constant (the cosine scheduler is bound to the digital optimizer)"},
    "repetitions": 25,
    "hardware_preset": "pcm_paper",
    "drift_times": [60, 3600, 86400, 2592000],
    "reprogram_each_rep": False,
    "t0_metrics": "unprogrammed converted network (DAC/ADC and output noise only), mean of 25 passes",
    "test_time_augmentation": True,
    "normalisation": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
    "simulator": "IBM AIHWKit, InferenceRPUConfig + PCMLikeNoiseModel(g_max=25) + GlobalDriftCompensation",
}

FIDELITY = ("the published AnalogNAS-Bench release (analog-nasbench 0.1.3): CIFAR-10 32x32, C=16 N=5, 200 epochs "
            "+ QAT 20 + HWT 200, 25 evaluations per metric on AIHWKit's PCM model; one training run per cell")

NOTES = (
    "Converted from PyPI analog-nasbench 0.1.3 (IBM analog-nas, Apache-2.0; see NOTICE), file analognasbench/data.anb. "
    "Every one of the 15,625 cells is its own row and its own training run (isomorphic cells were trained "
    "separately). noisy_accuracy and analog_accuracy are the converted networks evaluated BEFORE programming "
    "(DAC/ADC quantisation and output noise only), the mean of 25 passes with test-time augmentation; drift values "
    "are one programming per network read 25 times (their std is read-out spread of one chip, not chip-to-chip). "
    "Not published: errors of baseline/PTQ/QAT/noisy/analog accuracy (*_std NaN), raw repetitions, training curves, "
    "parameter counts (params and flops here are computed from the networks by this project). The release names "
    "the digitally trained network's drift baseline_drift_T; this project calls it noisy_drift_T and accepts both.")


class ReleaseImportError(DatasetError):
    """The release could not be fetched or did not match its pinned hash: nothing was written."""


def fetch_release_wheel(dest: str | os.PathLike[str], *, timeout: float = 300.0) -> Path:
    """Download (never install) the pinned release wheel into ``dest`` with ``pip download --no-deps``."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
           "-q", "-d", os.fspath(dest), f"{RELEASE_PACKAGE}=={RELEASE_VERSION}"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReleaseImportError(f"could not run pip to download {RELEASE_PACKAGE}=={RELEASE_VERSION}: {exc}") from None
    wheels = sorted(Path(dest).glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ReleaseImportError(
            f"could not download {RELEASE_PACKAGE}=={RELEASE_VERSION} from the package index (offline?): {tail[0]}. "
            "Download the wheel elsewhere and pass it with --wheel")
    return wheels[0]


def release_bytes(wheel: str | os.PathLike[str]) -> bytes:
    """The ``data.anb`` bytes inside a release wheel, checked against :data:`RELEASE_SHA256`."""
    return _release_member(wheel)[0]


def _release_member(wheel: str | os.PathLike[str]) -> tuple[bytes, str]:
    """``(data.anb bytes, its timestamp in the wheel as ISO 8601)``, the bytes checked against the pinned hash."""
    path = Path(wheel)
    try:
        with zipfile.ZipFile(path) as zf:
            data = zf.read(RELEASE_MEMBER)
            stamp = datetime(*zf.getinfo(RELEASE_MEMBER).date_time, tzinfo=timezone.utc).isoformat()
    except FileNotFoundError:
        raise ReleaseImportError(f"wheel {path} does not exist") from None
    except KeyError:
        raise ReleaseImportError(f"{path} holds no {RELEASE_MEMBER}: not the {RELEASE_PACKAGE} release wheel") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReleaseImportError(f"{path} is not a readable wheel (zip archive): {exc}") from None
    check_release_sha256(data, str(path))
    return data, stamp


def check_release_sha256(data: bytes, where: str) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if digest != RELEASE_SHA256:
        raise ReleaseImportError(f"{where}: data.anb has SHA-256 {digest}, expected {RELEASE_SHA256} "
                                 f"({RELEASE_PACKAGE} {RELEASE_VERSION}); refusing to convert a different file")


def convert_release(data_file: str | os.PathLike[str], *, sha256: str | None = RELEASE_SHA256,
                    name: str = ORIGINAL_DATASET) -> tuple[pd.DataFrame, DatasetMeta]:
    """The release's ``data.anb`` as a frame in this project's schema, with computed params/flops and provenance.

    ``sha256=None`` skips the pinned-hash check (for files in the release's format that are not the release, e.g.
    test fixtures); the metadata then records the file's own hash as the source.
    """
    df, meta = load_original(data_file, sha256=sha256)
    df["params"] = derived_column("params", df["arch_index"], NB201_CIFAR10).astype("int64")
    df["flops"] = derived_column("flops", df["arch_index"], NB201_CIFAR10)
    pinned = sha256 == RELEASE_SHA256
    meta = replace(
        meta, name=name, version=RELEASE_VERSION if pinned else "original-format", source="original-release",
        fidelity=FIDELITY if pinned else meta.fidelity, profile=dict(RELEASE_PROFILE), profile_hash="",
        repetitions=25, hardware_preset="pcm_paper",
        notes=NOTES if pinned else meta.notes + "; params/flops computed from the networks (C=16, N=5)",
        extra={
            "provenance": {
                "package": RELEASE_PACKAGE, "version": RELEASE_VERSION if pinned else None,
                "file": RELEASE_MEMBER, "file_sha256": meta.sha256,
                "license": "Apache-2.0", "attribution": "IBM, analog-nas (AnalogNAS-Bench), see NOTICE",
                "url": f"https://pypi.org/project/{RELEASE_PACKAGE}/{RELEASE_VERSION}/",
            },
            "computed_columns": {"params": "parameters of the C=16 N=5 network, computed by this project",
                                 "flops": "multiply-accumulates per 32x32 image, computed by this project"},
            "t0_semantics": "unprogrammed",
            "drift_programming": "one programming per network",
        },
    )
    return df, meta


def import_original(out: str | os.PathLike[str], *, wheel: str | os.PathLike[str] | None = None,
                    force: bool = False) -> Path:
    """Fetch (or take ``wheel``), verify, convert and write the release as ``out.parquet`` + ``out.json``.

    Refuses to overwrite an existing dataset unless ``force``. Nothing is written on any failure.
    """
    parquet, meta_path = dataset_paths(out)
    if not force and (parquet.exists() or meta_path.exists()):
        raise ReleaseImportError(f"{parquet} or {meta_path} exists; pass --force to replace it")
    with tempfile.TemporaryDirectory(prefix="anb-release-") as tmp:
        whl = Path(wheel) if wheel is not None else fetch_release_wheel(tmp)
        data, stamp = _release_member(whl)
        data_file = Path(tmp) / "data.anb"
        data_file.write_bytes(data)
        try:
            df, meta = convert_release(data_file, name=parquet.stem)
        except DatasetIntegrityError as exc:
            raise ReleaseImportError(f"{whl}: {exc}") from None
        meta = replace(meta, created=stamp)  # the release file's own date: the conversion is reproducible
    path = write_dataset(df, meta, parquet, overwrite=force)
    logger.info("wrote the release as %s (%d rows)", path, len(df))
    return path
