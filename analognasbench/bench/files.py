"""The dataset file format: ``<name>.parquet`` (one row per measured architecture) + ``<name>.json`` (metadata).

The JSON sidecar records the row count and the SHA-256 of the Parquet file, so a truncated, corrupted or modified
table is detected on load and reported with the file's name. Column layout: :func:`analognasbench.pipeline.schema.all_columns`;
``arch`` is text ``"(a, b, c, d, e, f)"``, ``<metric>_reps`` lists of floats, ``curve_<stage>`` JSON text.
Both files are written atomically (temporary file + rename), Parquet first, so a crash never leaves a sidecar that
vouches for a half-written table.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analognasbench.bench.errors import DatasetIntegrityError, DatasetNotFoundError
from analognasbench.bench.migrate import migrate
from analognasbench.pipeline.schema import (
    ID_COLUMNS,
    METRICS,
    PROVENANCE_COLUMNS,
    SCHEMA_VERSION,
    TRAIN_STAGES,
    all_columns,
)

logger = logging.getLogger(__name__)

PARQUET_SUFFIX = ".parquet"
META_SUFFIX = ".json"


@dataclass(frozen=True)
class DatasetMeta:
    """What a dataset is: where it came from, how faithfully it was measured, on what, and its integrity data.

    Unknown keys found in a sidecar are kept in ``extra`` and written back, so newer files survive a round trip.
    """

    name: str
    version: str = "0"
    schema_version: int = SCHEMA_VERSION
    source: str = "pipeline"  # "pipeline" | "original-release" | ...
    fidelity: str = ""  # human text: e.g. "smoke profile: 1 epoch, 512 test images"
    profile: dict[str, Any] = field(default_factory=dict)  # the full measurement profile
    profile_hash: str = ""
    repetitions: int = 0  # R, programmings of the chip per repeated metric
    hardware_preset: str = ""
    hardware: dict[str, Any] = field(default_factory=dict)
    software: dict[str, Any] = field(default_factory=dict)  # package -> version
    created: str = ""  # ISO 8601
    row_count: int = 0
    sha256: str = ""  # of the Parquet file
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**self.extra, **data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, default=str) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetMeta:
        if not isinstance(data, Mapping):
            raise ValueError(f"dataset metadata must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        if "name" not in data:
            raise ValueError("dataset metadata lacks the required key 'name'")
        kwargs = {k: v for k, v in data.items() if k in known}
        extra = {k: v for k, v in data.items() if k not in known}
        if isinstance(data.get("extra"), Mapping):
            extra = {**data["extra"], **{k: v for k, v in extra.items() if k != "extra"}}
        return cls(**kwargs, extra=extra)

    @classmethod
    def from_json(cls, text: str) -> DatasetMeta:
        return cls.from_dict(json.loads(text))


def dataset_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``(<stem>.parquet, <stem>.json)`` for a path given with either suffix or none."""
    p = Path(path)
    if p.suffix in (PARQUET_SUFFIX, META_SUFFIX):
        p = p.with_suffix("")
    return p.with_name(p.name + PARQUET_SUFFIX), p.with_name(p.name + META_SUFFIX)


def _column_types() -> dict[str, Any]:
    import pyarrow as pa

    types: dict[str, Any] = {
        "arch_index": pa.int64(), "arch": pa.string(), "arch_str": pa.string(), "canonical_index": pa.int64(),
        "params": pa.int64(), "flops": pa.float64(),
        "profile_name": pa.string(), "profile_hash": pa.string(), "seed": pa.int64(), "device": pa.string(),
        "repetitions": pa.int64(), "created": pa.string(), "time_total_s": pa.float64(),
    }
    for m in METRICS:
        types[m.value] = pa.float64()
        types[f"{m.value}_std"] = pa.float64()
        if m.repeated:
            types[f"{m.value}_reps"] = pa.list_(pa.float64())
    for col in all_columns():
        if col.startswith("curve_"):
            types[col] = pa.string()
        elif col.startswith("time_"):
            types[col] = pa.float64()
    return types


def _prepare_column(name: str, series: pd.Series) -> Any:
    """Values of one column in its stored form (text arch, float lists, JSON curves)."""
    if name == "arch":
        return [None if v is None else (v if isinstance(v, str) else str(tuple(int(x) for x in v))) for v in series]
    if name.endswith("_reps"):
        return [None if v is None or (isinstance(v, float) and v != v) else [float(x) for x in v] for v in series]
    if name.startswith("curve_"):
        return [None if v is None or (isinstance(v, float) and v != v) else (v if isinstance(v, str) else json.dumps(v))
                for v in series]
    return series


def _to_table(df: pd.DataFrame) -> Any:
    import pyarrow as pa

    missing = [c for c in all_columns() if c not in df.columns]
    if missing:
        raise DatasetIntegrityError(f"dataset frame lacks schema columns: {', '.join(missing)}")
    types = _column_types()
    arrays, names = [], []
    for col in df.columns:
        values = _prepare_column(col, df[col])
        try:
            arrays.append(pa.array(values, type=types.get(col), from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            expected = types.get(col)
            raise DatasetIntegrityError(f"column {col!r} cannot be stored as {expected}: {exc}") from exc
        names.append(str(col))
    return pa.Table.from_arrays(arrays, names=names)


def _atomic_write(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; datasets are meant to be read by everyone
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_dataset(df: pd.DataFrame, meta: DatasetMeta, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` as ``<path>.parquet`` and ``meta`` (with row_count and sha256 filled in) as ``<path>.json``.

    Returns the Parquet path. The frame must hold every schema column; extra columns are kept.
    """
    import pyarrow.parquet as pq

    parquet_path, meta_path = dataset_paths(path)
    table = _to_table(df)
    _atomic_write(parquet_path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    final = dataclasses.replace(meta, row_count=len(df), sha256=file_sha256(parquet_path),
                                schema_version=meta.schema_version or SCHEMA_VERSION)
    _atomic_write(meta_path, lambda tmp: Path(tmp).write_text(final.to_json(), encoding="utf-8"))
    logger.info("wrote %d rows to %s (sha256 %s)", len(df), parquet_path, final.sha256[:12])
    return parquet_path


def read_meta(path: str | os.PathLike[str]) -> DatasetMeta:
    """Only the metadata sidecar of a dataset (cheap: does not read or verify the table)."""
    _, meta_path = dataset_paths(path)
    if not meta_path.is_file():
        raise DatasetNotFoundError(f"dataset metadata {meta_path} does not exist")
    try:
        return DatasetMeta.from_json(meta_path.read_text(encoding="utf-8"))
    except (ValueError, TypeError) as exc:
        raise DatasetIntegrityError(f"dataset metadata {meta_path} is not valid: {exc}") from exc


def read_dataset(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, DatasetMeta]:
    """Read and verify a dataset written by :func:`write_dataset`: checksum, row count, schema version, columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet_path, meta_path = dataset_paths(path)
    meta = read_meta(path)
    if not parquet_path.is_file():
        raise DatasetNotFoundError(f"dataset table {parquet_path} does not exist (its metadata {meta_path} does)")
    if meta.schema_version > SCHEMA_VERSION:
        raise DatasetIntegrityError(f"{parquet_path} uses schema version {meta.schema_version}; this version of "
                                    f"analognasbench reads up to {SCHEMA_VERSION}: upgrade the package")
    actual = file_sha256(parquet_path)
    if meta.sha256 and actual != meta.sha256:
        raise DatasetIntegrityError(
            f"{parquet_path} is truncated, corrupted or was modified: its SHA-256 is {actual}, but {meta_path.name} "
            f"records {meta.sha256}")
    try:
        df = pq.read_table(parquet_path).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise DatasetIntegrityError(f"{parquet_path} is not a readable Parquet file: {exc}") from exc
    df, meta = migrate(df, meta)  # older schemas, without reinterpreting their numbers (bench/migrate.py)
    if len(df) != meta.row_count:
        raise DatasetIntegrityError(f"{parquet_path} holds {len(df)} rows but {meta_path.name} records {meta.row_count}")
    missing = [c for c in all_columns() if c not in df.columns]
    if missing:
        raise DatasetIntegrityError(f"{parquet_path} lacks schema columns: {', '.join(missing)}")
    return df, meta


#: Columns whose values are per-row provenance rather than measurements.
NON_METRIC_COLUMNS: tuple[str, ...] = ID_COLUMNS + PROVENANCE_COLUMNS + tuple(f"curve_{s}" for s in TRAIN_STAGES)
