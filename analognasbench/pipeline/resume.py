"""Stopping and resuming one architecture's measurement part-way (issue 23, step 4).

A sweep resumes per architecture: what a kill interrupts is measured again from the start. At the paper's protocol
one architecture trains 420 epochs (tens of GPU minutes, days on a CPU core), longer than a lent accelerator's
call or a cluster job's wall-time limit, so that loses everything. With a checkpoint directory every training stage
saves its whole state (weights, optimiser and scheduler, every random stream) at most every ``interval_s`` seconds
and at its end, and every finished evaluation stage saves its results; a rerun continues from there and gives the
row an uninterrupted run gives (on the CPU bit for bit: ``tests/test_resume.py``). A file is written under a
temporary name, flushed and renamed, so a kill during a write leaves the previous checkpoint whole.

The directory of one measurement is ``<root>/<profile name>-<profile hash>/<arch index>-seed<seed>``: another
profile, architecture or seed never reads it. A sweep deletes it once the row is in the run store
(:class:`analognasbench.pipeline.sweep.Checkpoints`).
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

from analognasbench.pipeline.profiles import Profile

#: Default seconds between two checkpoints of a training stage (a kill loses at most about this much training).
DEFAULT_INTERVAL_S = 60.0


def check_interval(interval_s: float) -> float:
    """``interval_s`` as seconds between two checkpoints; ``ValueError`` unless a finite number >= 0."""
    if not (interval_s >= 0 and math.isfinite(interval_s)):
        raise ValueError(f"interval_s must be a finite number of seconds >= 0, got {interval_s!r}")
    return float(interval_s)


def _atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class StageCheckpoint:
    """The saved state of one training stage (one ``.pt`` file).

    ``global_rng``: the stage also draws from torch's global random generator (hardware-aware training's weight
    noise), so its state is saved and restored too."""

    def __init__(self, path: Path, *, interval_s: float = DEFAULT_INTERVAL_S, global_rng: bool = False) -> None:
        self.path = Path(path)
        self.interval_s = check_interval(interval_s)
        self.global_rng = global_rng
        #: Seconds the stage ran in earlier attempts (set when the training loop restores the checkpoint).
        self.previous_s = 0.0
        self._last_save = time.monotonic()

    def load(self) -> dict[str, Any] | None:
        """The last saved state, or ``None`` when the stage has not saved one."""
        if not self.path.exists():
            return None
        return torch.load(self.path, map_location="cpu", weights_only=True)

    def due(self, final: bool) -> bool:
        """Whether to save now: at the stage's end, or ``interval_s`` after the last save."""
        return final or time.monotonic() - self._last_save >= self.interval_s

    def save(self, state: dict[str, Any]) -> None:
        _atomic_write(self.path, lambda fh: torch.save(state, fh))
        self._last_save = time.monotonic()


class MeasurementCheckpoint:
    """The checkpoints of one measurement: one :class:`StageCheckpoint` per training stage and the results of the
    finished stages (``stages.json``)."""

    def __init__(self, directory: str | os.PathLike[str], *, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.directory = Path(directory)
        self.interval_s = float(interval_s)
        self.directory.mkdir(parents=True, exist_ok=True)

    @classmethod
    def for_run(cls, root: str | os.PathLike[str], profile: Profile, arch_index: int, seed: int, *,
                interval_s: float = DEFAULT_INTERVAL_S) -> MeasurementCheckpoint:
        """The directory of (profile, architecture, seed) under ``root``."""
        return cls(run_directory(root, profile, arch_index, seed), interval_s=interval_s)

    def stage(self, name: str, *, global_rng: bool = False) -> StageCheckpoint:
        return StageCheckpoint(self.directory / f"{name}.pt", interval_s=self.interval_s, global_rng=global_rng)

    @property
    def _results(self) -> Path:
        return self.directory / "stages.json"

    def finished(self) -> dict[str, dict[str, Any]]:
        """``{stage: {"values": ..., "seconds": ...}}`` of the stages that finished."""
        if not self._results.exists():
            return {}
        return json.loads(self._results.read_text())

    def finish(self, stage: str, values: dict[str, Any], seconds: float) -> None:
        """Record a finished stage's results (JSON values) and the seconds it took."""
        done = self.finished()
        done[stage] = {"values": values, "seconds": float(seconds)}
        text = json.dumps(done, sort_keys=True).encode()
        _atomic_write(self._results, lambda fh: fh.write(text))


def run_directory(root: str | os.PathLike[str], profile: Profile, arch_index: int, seed: int) -> Path:
    """Where the checkpoints of (profile, architecture, seed) live under ``root``."""
    return Path(root) / f"{profile.name}-{profile.hash()}" / f"{int(arch_index)}-seed{int(seed)}"


def parse_run_directory(directory: str | os.PathLike[str]) -> tuple[str, str, int, int] | None:
    """The inverse of :func:`run_directory`: ``(profile name, profile hash, arch index, seed)`` of a measurement's
    directory, or ``None`` when ``directory`` is not one."""
    directory = Path(directory)
    match = re.fullmatch(r"(\d+)-seed(\d+)", directory.name)
    name, _, profile_hash = directory.parent.name.rpartition("-")
    if match is None or not name:
        return None
    return name, profile_hash, int(match.group(1)), int(match.group(2))


__all__ = ["DEFAULT_INTERVAL_S", "MeasurementCheckpoint", "StageCheckpoint", "check_interval", "parse_run_directory",
           "run_directory"]
