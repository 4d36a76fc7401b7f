"""The benchmark object: load a dataset once, answer queries fast, typed or in the original release's style.

Isomorphism: a pipeline dataset measures one architecture per isomorphism class (6,466 classes of the 15,625
cells; the published release has every cell as its own row). A cell without its own row is answered from a measured
cell of its class -- the typed :meth:`AnalogNASBench.query` says so in ``resolved_by_isomorphism``; the
compatibility methods answer silently, which is what keeps scripts of the original release (whose table listed all
15,625 tuples) working. Only cells whose whole class is unmeasured are "not found".
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from analognasbench.bench import costs
from analognasbench.bench.drift import DriftMeasurement
from analognasbench.bench.errors import (
    DatasetIntegrityError,
    UnknownArchitectureError,
    UnknownMetricError,
    UnmeasuredArchitectureError,
)
from analognasbench.bench.files import DatasetMeta, checked_frame
from analognasbench.bench.records import ArchitectureRecord, ClassView, MetricValue, parse_metric
from analognasbench.bench.registry import load
from analognasbench.hardware import DEFAULT_CHIP
from analognasbench.pipeline.schema import METRIC_ALIASES, METRICS, TRAIN_STAGES, Metric, MetricInfo
from analognasbench.space import (
    NUM_ARCHITECTURES,
    NUM_CLASSES,
    Architecture,
    from_index,
    parse,
    to_indices,
)
from analognasbench.space.isomorphism import class_table
from analognasbench.space.ops import NUM_EDGES, NUM_OPS

logger = logging.getLogger(__name__)

#: What the original release's ``query_metric`` returns for an architecture it has no data for.
NOT_FOUND = "architecture not found"
#: What its ``get_architecture_details`` returns then.
DETAILS_NOT_FOUND = "Architecture not found."
#: Metric names of the original release's ``query_metric``, in its order.
COMPAT_METRICS: tuple[str, ...] = (
    "architecture", "baseline_accuracy", "ptq_accuracy", "qat_accuracy", "noisy_accuracy", "analog_accuracy",
    "noisy_drift_60", "noisy_drift_3600", "noisy_drift_86400", "noisy_drift_2592000",
    "analog_drift_60", "analog_drift_3600", "analog_drift_86400", "analog_drift_2592000", "params",
)
_COMPAT_SET = frozenset(COMPAT_METRICS) | frozenset(METRIC_ALIASES)
#: Numeric per-architecture columns that are not metrics but can be read as arrays.
EXTRA_NUMERIC = ("params", "flops")
#: What ``params``/``flops`` mean: exact counts derived from the network, not measurements (DATASET.md).
_DERIVED = ("derived from the architecture and the network skeleton (an exact count, not a measurement; computed by "
            "this project where the dataset publishes none)")
EXTRA_INFO: MappingProxyType[str, MetricInfo] = MappingProxyType({
    "params": MetricInfo("params", "trainable parameters of the whole network", "count", "any", None, None, _DERIVED),
    "flops": MetricInfo("flops", "multiply-accumulates of all conv and linear layers for one input image",
                        "multiply-accumulates", "any", None, None, _DERIVED),
})
_POWERS = NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)
#: The metrics ``query_metric`` answers (the release's, through its aliases too): a newer metric is refused there.
_COMPAT_KINDS = tuple((m, m.value, m.is_drift) for m in METRICS if m.value in _COMPAT_SET)
_PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3
_REPEATED_KINDS = tuple((m, m.repeated) for m in METRICS)


@lru_cache(maxsize=1)
def _space_tables() -> tuple[list[tuple[int, ...]], np.ndarray]:
    """Every cell as a plain tuple, and the representative index of every cell (built once per process)."""
    digits = (np.arange(NUM_ARCHITECTURES)[:, None] // _POWERS) % NUM_OPS
    tuples = [tuple(t) for t in digits.tolist()]
    canon = class_table().astype(np.int64)
    canon.setflags(write=False)
    return tuples, canon


@lru_cache(maxsize=1)
def _arch_texts() -> np.ndarray:
    """The stored ``arch`` text of every cell, e.g. ``"(0, 0, 0, 4, 3, 2)"`` (built once per process)."""
    return np.array([str(t) for t in _space_tables()[0]], dtype=object)


def _int_ops(arch: tuple[Any, ...]) -> bool:
    """Whether a tuple holds six plain ints: only such a tuple (or an Architecture) may be answered from a cache keyed
    by tuples, since ``True == 1 == 1.0`` would let a key that parse refuses hit a cached answer (unrolled: this is
    the fast path of every query)."""
    return (len(arch) == NUM_EDGES and arch[0].__class__ is int and arch[1].__class__ is int
            and arch[2].__class__ is int and arch[3].__class__ is int and arch[4].__class__ is int
            and arch[5].__class__ is int)


def _plain_tuple_index(arch: Any) -> int:
    """The index of a plain 6-tuple of op ints (the release's key type) without a full parse; -1 for anything else."""
    if arch.__class__ is not tuple or len(arch) != NUM_EDGES:
        return -1
    index = 0
    for op in arch:
        if op.__class__ is not int or not 0 <= op < NUM_OPS:
            return -1
        index = index * NUM_OPS + op
    return index


class _ListsOf(dict):
    """Per metric, a column as a plain list, converted on first use (a query path reads lists, not arrays)."""

    def __init__(self, arrays: dict[Metric, np.ndarray]) -> None:
        super().__init__()
        self._arrays = arrays

    def __missing__(self, metric: Metric) -> list[float]:
        values = self[metric] = self._arrays[metric].tolist()
        return values


@dataclass(frozen=True)
class Coverage:
    """How much of the search space a dataset answers."""

    rows: int  # measured architectures (rows of the table)
    classes: int  # isomorphism classes with a measurement, of 6,466
    architectures: int  # cells answerable (directly or through isomorphism), of 15,625

    def __str__(self) -> str:
        return (f"{self.classes:,} of {NUM_CLASSES:,} isomorphism classes ({100 * self.classes / NUM_CLASSES:.1f} %), "
                f"{self.architectures:,} of {NUM_ARCHITECTURES:,} architectures "
                f"({100 * self.architectures / NUM_ARCHITECTURES:.1f} %), {self.rows:,} measured rows")


@runtime_checkable
class Benchmark(Protocol):
    """What search methods and analyses need from a benchmark (inject this, not a concrete class)."""

    def query(self, arch: Any) -> ArchitectureRecord: ...

    def metric_array(self, metric: str | Metric, archs: Any = None, *, std: bool = False,
                     allow_missing: bool = False) -> np.ndarray: ...

    def __contains__(self, arch: object) -> bool: ...


def _float(x: Any) -> float:
    return float(x) if x is not None else math.nan


def _handout(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of an internal frame that the caller may edit without changing any answer: shallow (about 25 us for
    the release) under pandas' Copy-on-Write -- always on from pandas 3 -- and deep where it is off."""
    return frame.copy(deep=not (_PANDAS_3 or pd.options.mode.copy_on_write is True))


def _owned(values: Any) -> np.ndarray:
    """A float array the benchmark owns, read-only: no frame handed out can share (and so change) its memory."""
    out = np.array(values, dtype=float)
    out.setflags(write=False)
    return out


def _extra_column(metric: Any) -> str | None:
    """``metric`` when it names a derived (``params``, ``flops``) or hardware-cost (``hw_*``) column, else None."""
    if isinstance(metric, str) and not isinstance(metric, Metric) and (
            metric in EXTRA_NUMERIC or costs.is_cost_column(metric)):
        return metric
    return None


def _parse_metric(metric: Any) -> Metric:
    """:func:`parse_metric`, whose refusal also names the columns that the benchmark's column readers take."""
    try:
        return parse_metric(metric)
    except UnknownMetricError as exc:
        raise UnknownMetricError(f"{exc}; also the derived columns {', '.join(EXTRA_NUMERIC)} and the cost model's "
                                 f"estimates {', '.join(costs.COST_COLUMNS)}") from None


class AnalogNASBench:
    """A loaded benchmark dataset.

    ``AnalogNASBench()`` loads ``$ANB_DATASET`` or the embedded default; ``AnalogNASBench(path)`` a dataset written by
    the pipeline (``name.parquet`` + ``name.json``) or the original release's ``data.anb``.
    """

    def __init__(self, dataset: str | os.PathLike[str] | None = None, *, verify: bool = True,
                 on_invalid: str = "raise") -> None:
        df, meta, path = load(dataset, verify=verify, on_invalid=on_invalid)
        self._setup(df, meta, path)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, meta: DatasetMeta, path: Path | None = None, *,
                   on_invalid: str = "raise") -> AnalogNASBench:
        """A benchmark over an in-memory table (e.g. straight from the pipeline, before it is written), checked as
        :func:`~analognasbench.bench.files.read_dataset` checks a file (columns, value ranges; ``on_invalid``
        alike), so it never serves what loading the written table would refuse."""
        df = checked_frame(df, str(path) if path is not None else f"dataset {meta.name!r}", on_invalid)
        bench = cls.__new__(cls)
        bench._setup(df, meta, path)
        return bench

    # ------------------------------------------------------------------ loading
    def _setup(self, df: pd.DataFrame, meta: DatasetMeta, path: Path | None) -> None:
        where = str(path) if path is not None else f"dataset {meta.name!r}"
        df = df.sort_values("arch_index", kind="stable").reset_index(drop=True)
        try:
            indices = df["arch_index"].to_numpy(dtype=np.int64)
        except (ValueError, TypeError) as exc:
            raise DatasetIntegrityError(f"{where}: column 'arch_index' must hold integers: {exc}") from None
        if len(indices) and (indices.min() < 0 or indices.max() >= NUM_ARCHITECTURES):
            raise DatasetIntegrityError(f"{where}: arch_index outside 0..{NUM_ARCHITECTURES - 1}")
        if len(np.unique(indices)) != len(indices):
            dup = pd.Series(indices)[pd.Series(indices).duplicated()].iloc[0]
            raise DatasetIntegrityError(f"{where}: architecture index {dup} appears in more than one row")
        tuples, canon_of = _space_tables()
        canon = canon_of[indices]
        texts = df["arch"].to_numpy(dtype=object)
        stored_canon = df["canonical_index"].to_numpy()
        bad = np.flatnonzero((texts != _arch_texts()[indices]) | (stored_canon != canon))
        if bad.size:
            row = int(bad[0])
            i = int(indices[row])
            raise DatasetIntegrityError(
                f"{where}: row {row} is inconsistent: arch_index {i} is {tuples[i]}, but arch is {texts[row]!r} "
                f"and canonical_index {stored_canon[row]} (expected {canon[row]})")
        row_tuples = [tuples[i] for i in indices.tolist()]

        self._df = df
        self._meta = meta
        self._path = path
        self._row_tuples = row_tuples
        self._arch_cache: list[Architecture] | None = None
        self._means = {m: _owned(df[m.value]) for m in METRICS}
        self._stds = {m: _owned(df[f"{m.value}_std"]) for m in METRICS}
        self._params = _owned(df["params"])
        self._flops = _owned(df["flops"])
        self._mean_lists = _ListsOf(self._means)
        self._std_lists = _ListsOf(self._stds)
        self._reps: dict[Metric, np.ndarray] = {}
        self._row_values: list[MappingProxyType[Metric, MetricValue] | None] = [None] * len(df)

        # The measured row answering every cell: its own row, else its class representative's, else the lowest
        # measured member of its class.
        class_row: dict[int, int] = {}
        for row, (i, c) in enumerate(zip(indices.tolist(), canon.tolist())):
            if c not in class_row or i == c:
                class_row[c] = row
        own = np.full(NUM_ARCHITECTURES, -1, dtype=np.int64)
        own[indices] = np.arange(len(indices))
        by_class = np.full(NUM_ARCHITECTURES, -1, dtype=np.int64)
        by_class[np.fromiter(class_row.keys(), dtype=np.int64, count=len(class_row))] = list(class_row.values())
        row_of = np.where(own >= 0, own, by_class[canon_of])
        row_of.setflags(write=False)
        self._row_of = row_of
        self._class_rows = class_row

        # Compatibility table: plain tuple -> {metric name -> plain value}, filled on first use of each tuple (building
        # all 15,625 eagerly would cost more than the rest of the load).
        self._compat: dict[tuple[int, ...], dict[str, Any]] = {}
        self._records: dict[tuple[int, ...], ArchitectureRecord] = {}
        self._class_members: dict[int, list[int]] | None = None
        self._costs: dict[str, pd.DataFrame] = {}
        self.metrics: list[str] = list(COMPAT_METRICS)
        logger.info("loaded %s: %d rows, %s", where, len(df), self.coverage())

    def _compat_values(self, index: int) -> dict[str, Any] | None:
        """Metric name (release aliases included) -> the plain value the original release returned, for one cell."""
        row = int(self._row_of[index])
        if row < 0:
            return None
        t = _space_tables()[0][index]
        values: dict[str, Any] = {"architecture": t}
        for m, name, is_drift in _COMPAT_KINDS:
            mean = self._mean_lists[m][row]
            values[name] = DriftMeasurement(mean, self._std_lists[m][row]) if is_drift else mean
        for alias, target in METRIC_ALIASES.items():
            values[alias] = values[target]
        p = self._params[row]
        values["params"] = None if math.isnan(p) else int(p)
        self._compat[t] = values
        return values

    @property
    def _archs(self) -> list[Architecture]:
        if self._arch_cache is None:
            self._arch_cache = [Architecture(t) for t in self._row_tuples]
        return self._arch_cache

    def _values(self, row: int) -> MappingProxyType[Metric, MetricValue]:
        cached = self._row_values[row]
        if cached is None:
            values = {}
            for m, repeated in _REPEATED_KINDS:
                reps: tuple[float, ...] = ()
                if repeated:
                    column = self._reps.get(m)
                    if column is None:
                        column = self._reps[m] = self._df[f"{m.value}_reps"].to_numpy()
                    raw = column[row]
                    reps = tuple(map(float, raw)) if isinstance(raw, (list, tuple, np.ndarray)) else ()
                values[m] = MetricValue(m, self._mean_lists[m][row], self._std_lists[m][row], reps)
            cached = self._row_values[row] = MappingProxyType(values)
        return cached

    # ------------------------------------------------------------------ typed API
    @property
    def df(self) -> pd.DataFrame:
        """The whole table, one row per measured architecture, sorted by ``arch_index``.

        A fresh copy on every access (shallow under pandas' Copy-on-Write, about 25 us for the release): editing or
        re-sorting it never changes what the benchmark answers. In a loop, read it once."""
        return _handout(self._df)

    @property
    def meta(self) -> DatasetMeta:
        """What the dataset is and how it was measured (profile, R, hardware preset, software, SHA-256): read it
        before comparing numbers across datasets."""
        return self._meta

    @property
    def path(self) -> Path | None:
        """The file the dataset was loaded from (its Parquet table or the release's pickle); None for an in-memory
        table (:meth:`from_frame` without a path)."""
        return self._path

    def coverage(self) -> Coverage:
        """How much of the space this dataset answers (rows, classes, cells): a dataset of class representatives
        answers every cell of a measured class, so rows alone understate it."""
        return Coverage(len(self._df), len(self._class_rows), int(np.count_nonzero(self._row_of >= 0)))

    @staticmethod
    def metric_info(metric: str | Metric) -> MetricInfo:
        """What a metric's number means: unit, network, hardware, time after programming, aggregation. Also the
        derived ``params``/``flops`` and the hardware-cost model's ``hw_*`` columns (not measurements; their
        ``aggregation`` says what they are)."""
        extra = _extra_column(metric)
        if extra is not None:
            return EXTRA_INFO[extra] if extra in EXTRA_INFO else costs.cost_metric_info(extra)
        return _parse_metric(metric).info

    def costs(self, chip: str = DEFAULT_CHIP) -> pd.DataFrame:
        """The hardware-cost model's ``hw_*`` columns for every row of :attr:`df` (same order): MODEL ESTIMATES
        from each row's own architecture at the dataset's network size (``frame.attrs`` records chip and size),
        computed on first use per chip, never stored as measurements (README, "Hardware cost"). A copy, like
        :attr:`df`: editing it changes no answer."""
        return _handout(self._cost_frame(chip))

    def _cost_frame(self, chip: str = DEFAULT_CHIP) -> pd.DataFrame:
        frame = self._costs.get(chip)
        if frame is None:
            frame = self._costs[chip] = costs.cost_columns(self._df, self._meta, chip)
        return frame

    @staticmethod
    def metrics_info(*, derived: bool = False) -> dict[str, MetricInfo]:
        """What every measured metric means, by name (:meth:`metric_info` of each): the names every record answers.
        ``derived=True`` adds the columns that are not measurements but are read by name too (:meth:`metric_array`,
        :meth:`value`, :meth:`query_many`): ``params``/``flops`` (derived counts) and ``hw_*`` (cost-model estimates
        on the default chip); their ``aggregation`` says so."""
        out = {m.value: m.info for m in METRICS}
        if derived:
            out.update(EXTRA_INFO)
            out.update({name: costs.cost_metric_info(name) for name in costs.COST_COLUMNS})
        return out

    @staticmethod
    def _parse(arch: Any) -> Architecture:
        try:
            return parse(arch)
        except (ValueError, TypeError) as exc:
            raise UnknownArchitectureError(str(exc)) from None

    def _row(self, a: Architecture) -> int:
        row = int(self._row_of[a.index])
        if row < 0:
            raise UnmeasuredArchitectureError(
                f"architecture {a} ({a.nb201_str}) is not measured in dataset {self._meta.name!r}, nor is any "
                f"architecture isomorphic to it ({self.coverage().classes} of {NUM_CLASSES} classes are measured)")
        return row

    def query(self, arch: Any) -> ArchitectureRecord:
        """Every metric of ``arch`` (any encoding) as one immutable record.

        Raises :class:`UnknownArchitectureError` for input that is no architecture and
        :class:`UnmeasuredArchitectureError` when neither it nor any isomorphic cell is measured.
        """
        kind = arch.__class__
        # exact types only: (True, ...) or (2.0, ...) equal a cached key but are refused by parse
        if kind is Architecture or (kind is tuple and _int_ops(arch)):
            record = self._records.get(arch)
            if record is not None:
                return record
        a = self._parse(arch)
        record = self._records.get(a)
        if record is None:
            row = self._row(a)
            measured = Architecture(self._row_tuples[row])
            p, f = self._params[row], self._flops[row]
            record = ArchitectureRecord(
                arch=a, measured=measured, resolved_by_isomorphism=measured != a,
                params=None if math.isnan(p) else int(p), flops=None if math.isnan(f) else float(f),
                values=self._values(row), row=row)
            self._records[a] = record
        return record

    __getitem__ = query

    def class_view(self, arch: Any) -> ClassView:
        """Every measured member of ``arch``'s isomorphism class, with their values, mean and spread (see
        :class:`ClassView`). Raises :class:`UnmeasuredArchitectureError` when no member is measured."""
        a = self._parse(arch)
        canon = int(_space_tables()[1][a.index])
        if self._class_members is None:
            canon_rows = _space_tables()[1][self._df["arch_index"].to_numpy(dtype=np.int64)]
            groups: dict[int, list[int]] = {}
            for row, c in enumerate(canon_rows.tolist()):
                groups.setdefault(c, []).append(row)
            self._class_members = groups
        rows = self._class_members.get(canon)
        if not rows:
            self._row(a)  # raises the unmeasured error with its message
        rows_t = tuple(rows)
        members = tuple(int(self._df["arch_index"].iat[r]) for r in rows_t)
        values = {m: tuple(self._mean_lists[m][r] for r in rows_t) for m in METRICS}
        return ClassView(canon, members, rows_t, MappingProxyType(values))

    def value(self, arch: Any, metric: str | Metric) -> float:
        """The mean of one metric of one architecture; also a derived (``params``, ``flops``) or cost (``hw_*``)
        column's value, as :meth:`metric_array` reads it."""
        record = self.query(arch)
        if _extra_column(metric) is not None:
            return float(self._column(metric)[record.row])
        return record.values[_parse_metric(metric)].mean

    def resolve(self, arch: Any) -> Architecture:
        """The measured architecture that answers for ``arch`` (itself, or an isomorphic cell)."""
        return self._archs[self._row(self._parse(arch))]

    def __contains__(self, arch: object) -> bool:
        try:
            return self._row_of[parse(arch).index] >= 0
        except (ValueError, TypeError):
            return False

    def __len__(self) -> int:
        return len(self._df)

    def __iter__(self) -> Iterator[Architecture]:
        return iter(self._archs)

    def __repr__(self) -> str:
        return f"AnalogNASBench({self._meta.name!r}, source={self._meta.source!r}, {self.coverage()})"

    def curves(self, arch: Any) -> dict[str, list[Any] | None]:
        """Per-epoch training curves of the measured architecture, per training stage (None where not kept)."""
        row = self._row(self._parse(arch))
        out: dict[str, list[Any] | None] = {}
        for stage in TRAIN_STAGES:
            text = self._df[f"curve_{stage}"].iat[row]
            out[stage] = json.loads(text) if isinstance(text, str) and text else None
        return out

    # ------------------------------------------------------------------ vectorised API
    def _indices(self, archs: Any) -> np.ndarray:
        """Project indices of many architectures, read by :func:`analognasbench.space.to_indices` (an int array of
        indices, an (n, 6) array, or any encodings; a plain tuple or list of ints is a sequence of indices; one
        :class:`Architecture` or string is refused, not read as six indices or as characters)."""
        try:
            return to_indices(archs)
        except ValueError as exc:
            raise UnknownArchitectureError(str(exc)) from None

    def rows_of(self, archs: Any, *, allow_missing: bool = False) -> np.ndarray:
        """Row positions in :attr:`df` answering each architecture (-1 for unmeasured ones if ``allow_missing``)."""
        indices = self._indices(archs)  # once: ``archs`` may be a generator
        rows = self._row_of[indices]
        if not allow_missing and (rows < 0).any():
            self._row(from_index(int(indices[np.flatnonzero(rows < 0)[0]])))
        return rows

    def _column(self, metric: str | Metric, std: bool = False) -> np.ndarray:
        """The internal array of one metric's means (or stds) or of a derived or cost column, row-aligned."""
        extra = _extra_column(metric)
        if extra is None:
            m = _parse_metric(metric)
            return self._stds[m] if std else self._means[m]
        if std:
            what = "an exact count" if extra in EXTRA_NUMERIC else "a model estimate"
            raise UnknownMetricError(f"{extra!r} is {what} and has no std")
        if extra == "params":
            return self._params
        if extra == "flops":
            return self._flops
        return self._cost_frame()[extra].to_numpy(dtype=float)

    def metric_array(self, metric: str | Metric, archs: Any = None, *, std: bool = False,
                     allow_missing: bool = False) -> np.ndarray:
        """One metric (mean, or its std) as a float array: over all rows of :attr:`df`, or over ``archs`` in order.

        ``metric`` may also be ``"params"``, ``"flops"`` or a hardware-cost column ``hw_*`` (model estimates on
        the default chip, :meth:`costs`). Unmeasured architectures raise, or give NaN with ``allow_missing``.
        """
        column = self._column(metric, std)
        if archs is None:
            return column.copy()
        rows = self.rows_of(archs, allow_missing=allow_missing)
        out = np.full(len(rows), np.nan)
        found = rows >= 0
        out[found] = column[rows[found]]
        return out

    def query_many(self, archs: Any, metrics: Sequence[str | Metric] | None = None, *,
                   allow_missing: bool = False) -> pd.DataFrame:
        """A frame with one row per requested architecture (in order): the measured one, whether it was resolved
        through isomorphism, and each metric's mean and std (only the value for a derived or ``hw_*`` column).
        ``metrics`` is a sequence of names: one name alone is refused (wrap it in a list)."""
        if isinstance(metrics, (str, bytes)):
            raise UnknownMetricError(f"metrics must be a sequence of metric names, got the single name {metrics!r}; "
                                     f"wrap it in a list: metrics=[{metrics!r}]")
        indices = self._indices(archs)
        rows = self.rows_of(indices, allow_missing=allow_missing)
        chosen = ([_extra_column(m) or _parse_metric(m) for m in metrics] if metrics is not None
                  else list(METRICS))
        found = rows >= 0
        measured = np.full(len(rows), -1, dtype=np.int64)
        measured[found] = self._df["arch_index"].to_numpy(dtype=np.int64)[rows[found]]
        data: dict[str, Any] = {
            "arch_index": indices,
            "arch": [str(from_index(int(i))) for i in indices],
            "measured_index": measured,
            "resolved_by_isomorphism": found & (measured != indices),
            "found": found,
        }
        for m in chosen:
            name = m.value if isinstance(m, Metric) else m
            data[name] = self.metric_array(m, indices, allow_missing=True)
            if isinstance(m, Metric):
                data[f"{name}_std"] = self.metric_array(m, indices, std=True, allow_missing=True)
        return pd.DataFrame(data)

    # ------------------------------------------------------------------ compatibility API (original release)
    def query_metric(self, architecture: Any, metric: str) -> Any:
        """One metric of one architecture, as the original release answered: a float, a :class:`DriftMeasurement`
        for drift metrics, an int for ``params``, the tuple for ``architecture``; the string
        ``"architecture not found"`` when there is no data for it. Unknown metrics raise ``ValueError``."""
        try:
            values = self._compat[architecture]
            # the cache matches by equality (True == 1 == 1.0): answer from it only for the cached tuple itself
            # or plain ints, so the answer never depends on what was asked before
            kind = architecture.__class__
            if (values["architecture"] is architecture or kind is Architecture
                    or (kind is tuple and _int_ops(architecture))):
                return values[metric]  # only the release's names are cached: others take the slow path's refusal
        except (KeyError, TypeError):
            pass
        return self._query_metric_slow(architecture, metric)

    def _query_metric_slow(self, architecture: Any, metric: Any) -> Any:
        if isinstance(metric, Metric):
            metric = metric.value
        if not (isinstance(metric, str) and metric in _COMPAT_SET):
            raise UnknownMetricError(f"Metric {metric!r} not found. Available metrics: {list(COMPAT_METRICS)} "
                                     f"(also the release's names {', '.join(METRIC_ALIASES)})")
        index = _plain_tuple_index(architecture)
        if index < 0:
            try:
                index = parse(architecture).index
            except (ValueError, TypeError):
                return NOT_FOUND
        values = self._compat.get(_space_tables()[0][index]) or self._compat_values(index)
        return NOT_FOUND if values is None else values[metric]

    def get_architecture_details(self, architecture: Any) -> str:
        """A readable text block of every metric of ``architecture``; ``"Architecture not found."`` without data."""
        try:
            record = self.query(architecture)
        except (UnknownArchitectureError, UnmeasuredArchitectureError):
            return DETAILS_NOT_FOUND
        return format_details(record, self._meta)

    def list_available_architectures(self) -> list[tuple[int, ...]]:
        """The measured architectures as plain 6-tuples (one per measured row, i.e. per measured isomorphism class
        in a dataset of class representatives). Isomorphic cells not listed are still answered."""
        return list(self._row_tuples)


def format_details(record: ArchitectureRecord, meta: DatasetMeta) -> str:
    """The text block of :meth:`AnalogNASBench.get_architecture_details`."""
    v = record.values
    lines = [
        "",
        "Architecture Details:",
        "--------------------",
        f"Architecture:           {tuple(record.arch)}",
        f"NAS-Bench-201 string:   {record.arch.nb201_str}",
    ]
    if record.resolved_by_isomorphism:
        lines.append(f"Measured as:            {tuple(record.measured)} (isomorphic: the same network)")
    lines += [
        f"Number of parameters:   {record.params if record.params is not None else 'unknown'}",
        f"Dataset:                {meta.name} ({meta.source}; {meta.fidelity or 'fidelity not recorded'})",
        "",
        "Accuracy (top-1 test, percent):",
        f"  Baseline (float32):   {v[Metric.BASELINE]}",
        f"  PTQ (int8):           {v[Metric.PTQ]}",
        f"  QAT (int8):           {v[Metric.QAT]}",
        f"  Noisy (t = 0):        {v[Metric.NOISY]}",
        f"  Analog HWT (t = 0):   {v[Metric.ANALOG]}",
    ]
    for title, prefix in (("Noisy drift (digitally trained network on the chip)", "noisy"),
                          ("Analog drift (hardware-aware trained network on the chip)", "analog")):
        lines += ["", f"{title}:"]
        for m in METRICS:
            if m.is_drift and m.value.startswith(prefix + "_"):
                label = f"{int(m.info.time_s)} s:"
                lines.append(f"  - {label:<18} {v[m]}")
    return "\n".join(lines) + "\n"
