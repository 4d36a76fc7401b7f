"""The dataset file format: ``<name>.parquet`` (one row per measured architecture) + ``<name>.json`` (metadata).

The JSON sidecar records the row count and the SHA-256 of the Parquet file, so a truncated, corrupted or modified
table is detected on load and reported with the file's name. Column layout: :func:`analognasbench.pipeline.schema.all_columns`;
``arch`` is text ``"(a, b, c, d, e, f)"``, ``<metric>_reps`` lists of floats, ``curve_<stage>`` JSON text.
Writing the pair (:func:`write_dataset`): both files are written in full to temporary files next to their
destination and flushed to disk, then renamed into place, Parquet first and the sidecar last. A reader therefore
never *accepts* one without the other: a table without its sidecar is "not a dataset", and a new table next to the
old sidecar (a reader between the two renames, or a crash there) fails the SHA-256 check and is named; the reader
re-reads the sidecar once before reporting, so a concurrent rewrite is not mistaken for damage. An existing pair is
never replaced unless the caller says so (``overwrite=True``, ``--force`` on the command line).

Reading (:func:`read_dataset`): a sidecar without a SHA-256 is refused unless the caller skips verification
explicitly (``verify=False``, ``--no-verify``, logged as a warning), and every value is checked against the schema
(:mod:`analognasbench.bench.validate`).
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

from analognasbench.bench import strict_json
from analognasbench.bench.errors import (
    DatasetError,
    DatasetExistsError,
    DatasetIntegrityError,
    DatasetNotFoundError,
)
from analognasbench.bench.migrate import migrate
from analognasbench.bench.validate import InvalidValuesError, OnInvalid, find_violations, validate_frame
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
    #: Measured rank agreement with the published release (:func:`analognasbench.fidelity.quality.release_agreement`);
    #: empty where not measured (and then not written).
    release_agreement: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name != "extra" and not (f.name == "release_agreement" and not self.release_agreement)}
        return {**self.extra, **data}

    def to_json(self) -> str:
        return strict_json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetMeta:
        if not isinstance(data, Mapping):
            raise ValueError(f"dataset metadata must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        if "name" not in data:
            raise ValueError("dataset metadata lacks the required key 'name'")
        kwargs = {k: v for k, v in data.items() if k in known}
        for key, value in kwargs.items():
            _check_meta_field(key, value)
        extra = {k: v for k, v in data.items() if k not in known}
        if isinstance(data.get("extra"), Mapping):
            extra = {**data["extra"], **{k: v for k, v in extra.items() if k != "extra"}}
        return cls(**kwargs, extra=extra)

    @classmethod
    def from_json(cls, text: str) -> DatasetMeta:
        return cls.from_dict(json.loads(text))


_META_TYPES: dict[str, tuple[type, str]] = {
    **{f.name: (str, "a string") for f in dataclasses.fields(DatasetMeta) if f.type in ("str", str)},
    **{f.name: (int, "an integer >= 0") for f in dataclasses.fields(DatasetMeta) if f.type in ("int", int)},
    **{f.name: (dict, "an object") for f in dataclasses.fields(DatasetMeta) if str(f.type).startswith("dict")},
}


def _check_meta_field(key: str, value: Any) -> None:
    """A sidecar value of the wrong type is damage, reported by key (not a TypeError deep inside a command)."""
    kind, expected = _META_TYPES.get(key, (object, "anything"))
    ok = isinstance(value, kind) and not (kind is int and (isinstance(value, bool) or value < 0))
    if not ok:
        raise ValueError(f"key {key!r} must be {expected}, got {value!r:.80}")
    if key == "sha256" and value and not (len(value) == 64 and all(c in "0123456789abcdef" for c in value.lower())):
        raise ValueError(f"key 'sha256' must be 64 hexadecimal digits, got {value!r:.80}")


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


def _require_columns(df: pd.DataFrame, where: str) -> None:
    missing = [c for c in all_columns() if c not in df.columns]
    if missing:
        raise DatasetIntegrityError(f"{where} lacks schema columns: {', '.join(missing)}")


def checked_frame(df: pd.DataFrame, where: str, on_invalid: OnInvalid | str = OnInvalid.RAISE,
                  table: Any = None) -> pd.DataFrame:
    """``df`` once it holds every schema column and its values pass
    :func:`~analognasbench.bench.validate.validate_frame` (or without the failing rows, ``on_invalid="drop"``).
    One check for every way a table enters the benchmark -- read from a file, or handed to
    ``AnalogNASBench.from_frame`` -- so none serves what another refuses. ``where`` names the table in errors."""
    _require_columns(df, where)
    return validate_frame(df, where, on_invalid, table)


def _to_table(df: pd.DataFrame, where: str = "dataset frame") -> Any:
    import pyarrow as pa

    _require_columns(df, where)
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


def _write_temp(path: Path, write: Any) -> Path:
    """Write a whole file next to ``path`` under a temporary name, flushed to disk; the caller renames it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; datasets are meant to be read by everyone
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
    except OSError as exc:  # e.g. a full disk: name the destination (write errors carry no file name)
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename: a reader sees the old file or the new one."""
    return atomic_write(path, lambda t: Path(t).write_text(text, encoding="utf-8"))


def atomic_write(path: str | os.PathLike[str], write: Any) -> Path:
    """``write(temporary_path)`` then rename onto ``path``: a reader sees the old file or the whole new one."""
    p = Path(path)
    tmp = _write_temp(p, write)
    try:
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return p


def existing_pair_member(path: str | os.PathLike[str]) -> tuple[Path, Path] | None:
    """``(parquet, json)`` of the dataset ``path`` belongs to when that dataset exists (its table, or a JSON file
    that reads as a dataset sidecar), else None: a lone ``e.json`` of an earlier JSON export is no dataset."""
    p = Path(path)
    if p.suffix not in (PARQUET_SUFFIX, META_SUFFIX, ""):
        return None
    parquet, meta = dataset_paths(p)
    if parquet.exists():
        return parquet, meta
    if not meta.is_file():
        return None
    try:
        read_meta(meta)
    except (DatasetError, OSError):
        return None
    return parquet, meta


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_dataset(df: pd.DataFrame, meta: DatasetMeta, path: str | os.PathLike[str], *,
                  overwrite: bool = False, check_values: bool = True) -> Path:
    """Write ``df`` as ``<path>.parquet`` and ``meta`` (with row_count and sha256 filled in) as ``<path>.json``.

    Returns the Parquet path. The frame must hold every schema column; extra columns are kept. Its values are
    checked as :func:`read_dataset` checks them, so nothing is written that a reader would refuse
    (:class:`~analognasbench.bench.validate.InvalidValuesError`, before any file is touched); ``check_values=False``
    skips that, only to write deliberately damaged tables (tests of the read side). An existing file of the pair
    raises :class:`DatasetExistsError` unless ``overwrite``. See the module docstring for the write order.
    """
    import pyarrow.parquet as pq

    parquet_path, meta_path = dataset_paths(path)
    if not overwrite:
        for p in (parquet_path, meta_path):
            if p.exists():
                raise DatasetExistsError(f"{p} exists (dataset {parquet_path.name} + {meta_path.name}); refusing to "
                                         "overwrite it: choose another path, or pass --force (overwrite=True)")
    table = _to_table(df, f"refusing to write {parquet_path}: the frame")
    violations = find_violations(df, table) if check_values else []
    if violations:
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise InvalidValuesError(f"refusing to write {parquet_path}: {violations[0]}{more}; a reader would refuse "
                                 "this table")
    tmp_parquet = _write_temp(parquet_path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    try:
        final = dataclasses.replace(meta, row_count=len(df), sha256=file_sha256(tmp_parquet),
                                    schema_version=meta.schema_version or SCHEMA_VERSION)
        tmp_meta = _write_temp(meta_path, lambda tmp: Path(tmp).write_text(final.to_json(), encoding="utf-8"))
    except BaseException:
        tmp_parquet.unlink(missing_ok=True)
        raise
    try:
        os.replace(tmp_parquet, parquet_path)
        os.replace(tmp_meta, meta_path)
    finally:
        tmp_parquet.unlink(missing_ok=True)
        tmp_meta.unlink(missing_ok=True)
    logger.info("wrote %d rows to %s (sha256 %s)", len(df), parquet_path, final.sha256[:12])
    return parquet_path


def read_meta(path: str | os.PathLike[str]) -> DatasetMeta:
    """Only the metadata sidecar of a dataset (cheap: does not read or verify the table)."""
    _, meta_path = dataset_paths(path)
    if not meta_path.is_file():
        if meta_path.exists():
            raise DatasetIntegrityError(f"dataset metadata {meta_path} is not a file (expected a JSON object)")
        raise DatasetNotFoundError(f"dataset metadata {meta_path} does not exist")
    try:
        text = meta_path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetIntegrityError(f"dataset metadata {meta_path} is not UTF-8 text: {exc}") from None
    try:
        return DatasetMeta.from_json(text)
    except (ValueError, TypeError, RecursionError) as exc:
        raise DatasetIntegrityError(f"dataset metadata {meta_path} is not valid: {exc}") from None


def read_dataset(path: str | os.PathLike[str], *, verify: bool = True,
                 on_invalid: OnInvalid | str = OnInvalid.RAISE) -> tuple[pd.DataFrame, DatasetMeta]:
    """Read and verify a dataset written by :func:`write_dataset`: checksum, row count, schema version, columns,
    values (:func:`analognasbench.bench.validate.validate_frame`).

    ``verify=False`` skips the SHA-256 check (and accepts a sidecar without one), with a warning. ``on_invalid``
    ``"drop"`` loads the rows whose values pass, instead of refusing the dataset.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    on_invalid = OnInvalid.parse(on_invalid)
    parquet_path, meta_path = dataset_paths(path)
    meta = read_meta(path)
    if not parquet_path.is_file():
        raise DatasetNotFoundError(f"dataset table {parquet_path} does not exist (its metadata {meta_path} does)")
    if meta.schema_version > SCHEMA_VERSION:
        raise DatasetIntegrityError(f"{parquet_path} uses schema version {meta.schema_version}; this version of "
                                    f"analognasbench reads up to {SCHEMA_VERSION}: upgrade the package")
    if not verify:
        logger.warning("%s: SHA-256 verification skipped as asked (--no-verify): a truncated, corrupted or modified "
                       "table would go unnoticed except by the value checks", parquet_path)
    elif not meta.sha256:
        raise DatasetIntegrityError(
            f"{meta_path} records no SHA-256 for {parquet_path.name}, so the table cannot be verified; the dataset is "
            "refused (load it unverified with verify=False / --no-verify, or write it again with write_dataset)")
    else:
        meta = _verified(parquet_path, meta_path, meta, path)
    try:
        table = pq.read_table(parquet_path)
        df = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError, TypeError, IndexError, RuntimeError) as exc:
        raise DatasetIntegrityError(f"{parquet_path} is not a readable Parquet file: {exc}") from None
    migrated, meta = migrate(df, meta)  # older schemas, without reinterpreting their numbers (bench/migrate.py)
    if migrated is not df:
        table = None  # the columns moved: check the migrated frame row by row
    df = migrated
    if len(df) != meta.row_count:
        raise DatasetIntegrityError(f"{parquet_path} holds {len(df)} rows but {meta_path.name} records {meta.row_count}")
    return checked_frame(df, str(parquet_path), on_invalid, table), meta


def _verified(parquet_path: Path, meta_path: Path, meta: DatasetMeta, path: str | os.PathLike[str]) -> DatasetMeta:
    """``meta`` once the table's SHA-256 matches it; a mismatch is re-checked against a fresh read of the sidecar
    (a writer renames the table first, the sidecar last), then reported."""
    actual = file_sha256(parquet_path)
    if actual != meta.sha256:
        fresh = read_meta(path)
        if fresh.sha256 != meta.sha256 and fresh.sha256 == actual:
            return fresh
        raise DatasetIntegrityError(
            f"{parquet_path} is truncated, corrupted or was modified: its SHA-256 is {actual}, but {meta_path.name} "
            f"records {meta.sha256}")
    return meta


#: Columns whose values are per-row provenance rather than measurements.
NON_METRIC_COLUMNS: tuple[str, ...] = ID_COLUMNS + PROVENANCE_COLUMNS + tuple(f"curve_{s}" for s in TRAIN_STAGES)
