"""Reading datasets written under an older schema without reinterpreting their numbers.

Schema 1 -> 2 (the t = 0 metrics, issue 18): schema 1's pipeline rows measured the *programmed* chip at t = 0 and
stored it under the release's names ``noisy_accuracy`` / ``analog_accuracy``; schema 2 gives those names the
release's meaning (the network before programming) and stores the programmed reading as
``noisy_programmed_accuracy`` / ``analog_programmed_accuracy``. So for a schema-1 pipeline dataset:

* ``noisy_accuracy{,_std,_reps}`` move to ``noisy_programmed_accuracy{,_std,_reps}`` (same for analog);
* ``noisy_accuracy`` / ``analog_accuracy`` become NaN (std NaN, no reps): *not measured in this dataset*;
* the metadata records the migration (``schema_version`` 2, a ``migrated_from_schema`` key and a note).

A schema-1 ``original-release`` dataset already has the release's meaning: its columns stay, and the programmed
columns are added as NaN. Used by :func:`analognasbench.bench.files.read_dataset`; :func:`migrate` is pure.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd

from analognasbench.pipeline.schema import PROGRAMMED_T0, SCHEMA_VERSION

#: Note appended to a migrated pipeline dataset's metadata.
MIGRATION_NOTE = ("Migrated from schema 1: this dataset measured the programmed chip at t = 0, now in "
                  "noisy_programmed_accuracy / analog_programmed_accuracy; noisy_accuracy / analog_accuracy (the "
                  "release's meaning: the network before programming) were not measured in it and are NaN.")


def _empty_reps(n: int) -> list[list[float]]:
    return [[] for _ in range(n)]


def migrate(df: pd.DataFrame, meta: Any) -> tuple[pd.DataFrame, Any]:
    """``(frame, meta)`` in the current schema. ``meta`` is a :class:`~analognasbench.bench.files.DatasetMeta`
    (duck-typed: ``schema_version``, ``source``, ``notes``, ``extra``). Frames already current are returned as
    they are; the input frame is never modified."""
    version = int(getattr(meta, "schema_version", SCHEMA_VERSION) or SCHEMA_VERSION)
    if version >= 2:
        return df, meta
    out = df.copy()
    release = getattr(meta, "source", "pipeline") == "original-release"
    for unprogrammed, programmed in PROGRAMMED_T0.items():
        u, p = unprogrammed.value, programmed.value
        if release or u not in out.columns:
            out[p], out[f"{p}_std"] = math.nan, math.nan
            out[f"{p}_reps"] = _empty_reps(len(out))
            continue
        out[p] = out[u].astype(float)
        out[f"{p}_std"] = out[f"{u}_std"].astype(float) if f"{u}_std" in out.columns else math.nan
        out[f"{p}_reps"] = out[f"{u}_reps"] if f"{u}_reps" in out.columns else _empty_reps(len(out))
        out[u], out[f"{u}_std"] = math.nan, math.nan
        out[f"{u}_reps"] = _empty_reps(len(out))
    extra = {**dict(getattr(meta, "extra", {}) or {}), "migrated_from_schema": version}
    changes: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "extra": extra}
    if not release:
        notes = getattr(meta, "notes", "") or ""
        changes["notes"] = f"{notes} {MIGRATION_NOTE}".strip() if MIGRATION_NOTE not in notes else notes
    return out, dataclasses.replace(meta, **changes)


def was_migrated(meta: Any) -> bool:
    """Whether a dataset's programmed t = 0 values came from a schema-1 file (their release-named columns are NaN)."""
    return "migrated_from_schema" in (getattr(meta, "extra", {}) or {})


__all__ = ["MIGRATION_NOTE", "migrate", "was_migrated"]
