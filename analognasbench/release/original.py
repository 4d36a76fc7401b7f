"""Reading the original AnalogNAS-Bench release's ``data.anb``: a pickled dict from 6-tuple to record objects.

A pickle can run arbitrary code when loaded, so this unpickler admits only what that file legitimately contains:
the release's two data classes (``analognasbench.data.Architecture`` and ``analognasbench.data.DriftMeasurement``,
mapped onto inert stand-ins here), plain builtin containers and numbers, and numpy numeric scalars (the release built
its records from pandas rows, so numbers may be ``numpy.float64``). Anything else -- ``os.system``, ``eval``, any
other class -- is refused with :class:`UnsafePickleError` before it can be called.

The records become a frame in this project's schema: means as they were, drift uncertainties as ``*_std``, no raw
repetitions (the release kept none), flops unknown.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import pickle
import types
from datetime import datetime, timezone
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analognasbench.bench.drift import DriftMeasurement, parse_drift
from analognasbench.bench.errors import DatasetIntegrityError, DatasetNotFoundError, UnsafePickleError
from analognasbench.bench.files import DatasetMeta
from analognasbench.pipeline.schema import DRIFT_TIMES, METRICS, SCHEMA_VERSION, Metric, all_columns
from analognasbench.release.pickle_scan import RELEASE_SHA256, PickleFormatError, PickleScanError, scan_pickle
from analognasbench.space import canonical_index, parse

logger = logging.getLogger(__name__)

ORIGINAL_MODULE = "analognasbench.data"
_SAFE_BUILTINS = frozenset({"object", "tuple", "list", "dict", "set", "frozenset", "int", "float", "str", "bool"})
_NUMERIC_DTYPES = frozenset({"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"})
#: Attribute names of the first release ("baseline_drift_*": the digitally trained network on the chip).
_ALIASES = {f"baseline_drift_{t}": f"noisy_drift_{t}" for t in DRIFT_TIMES}
_RECORD_FIELDS = frozenset({"architecture", "params", *(m.value for m in METRICS), *_ALIASES})


class _Inert:
    """Stand-in for an original class: holds its attribute dict as data and runs nothing."""

    __slots__ = ("state",)

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict state, slots state)
            merged: dict[str, Any] = {}
            for part in state:
                if part is not None:
                    merged.update(part)
            state = merged
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise UnsafePickleError(f"unexpected object state of type {type(state).__name__}")
        self.state = state


class _OriginalRecord(_Inert):
    __slots__ = ()


class _OriginalDrift(_Inert):
    __slots__ = ()


_CLASSES: dict[str, type[_Inert]] = {"Architecture": _OriginalRecord, "DriftMeasurement": _OriginalDrift}


def _reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """Protocol 0/1 object creation, limited to the stand-ins with no base-class initialiser."""
    if cls not in _CLASSES.values() or base is not object or state is not None:
        raise UnsafePickleError("copyreg._reconstructor used with something other than the release's data classes")
    return object.__new__(cls)


class _DtypeStandIn:
    """What ``numpy.dtype(spec)`` makes while unpickling: a fresh inert object, so that the BUILD which follows it in
    every numpy pickle sets state on this object (checked), never on numpy's shared dtype singletons."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype

    def __setstate__(self, state: Any) -> None:
        if not (isinstance(state, tuple) and 8 <= len(state) <= 9 and state[1] in ("<", ">", "|", "=")
                and all(v is None or isinstance(v, (int, str)) for v in state)):
            raise UnsafePickleError("numpy dtype state is not that of a plain numeric type")
        if state[1] == ">":
            self.dtype = self.dtype.newbyteorder(">")


def _dtype(spec: Any, align: Any = False, copy: Any = True) -> _DtypeStandIn:
    if not (isinstance(spec, str) and spec in _NUMERIC_DTYPES):
        raise UnsafePickleError(f"numpy dtype {spec!r} is not a plain numeric type")
    return _DtypeStandIn(np.dtype(spec))


def _scalar(dtype: Any, data: Any = None) -> Any:
    if isinstance(dtype, _DtypeStandIn):
        dtype = dtype.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "fiub" or not isinstance(data, bytes):
        raise UnsafePickleError("numpy scalar of a non-numeric type")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _latin1(text: Any, encoding: Any = "latin1") -> bytes:
    """Protocol 0-2 spelling of ``bytes`` (``_codecs.encode(str, "latin1")``), e.g. a numpy scalar's raw data."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError("_codecs.encode used for something other than latin-1 bytes")
    return text.encode("latin1")


_NUMPY_MODULES = ("numpy", "numpy.core.multiarray", "numpy._core.multiarray")
#: Every global :class:`RestrictedUnpickler` resolves: the opcode scan (:mod:`.pickle_scan`) refuses any other.
ALLOWED_GLOBALS = frozenset(
    {(ORIGINAL_MODULE, n) for n in _CLASSES} | {(m, n) for m in ("builtins", "__builtin__") for n in _SAFE_BUILTINS}
    | {("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor"), ("_codecs", "encode")}
    | {(m, n) for m in _NUMPY_MODULES for n in ("dtype", "scalar")})
#: Objects a BUILD opcode may give state to: the release's two records, and the numpy dtype stand-in.
BUILDABLE = frozenset({(ORIGINAL_MODULE, n) for n in _CLASSES} | {(m, "dtype") for m in _NUMPY_MODULES})


def _fresh(func: Any) -> Any:
    """A new function object with ``func``'s code: whatever a pickle does to what it gets (defaults, ``__dict__``),
    the module's own function stays as it was."""
    return types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__)


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the release's data classes, plain builtins and numpy numeric scalars."""

    def find_class(self, module: str, name: str) -> Any:
        return _resolve(module, name)


def _resolve(module: str, name: str) -> Any:
    found = _find_class(module, name)
    return _fresh(found) if isinstance(found, types.FunctionType) else found


def _find_class(module: str, name: str) -> Any:
    if module == ORIGINAL_MODULE and name in _CLASSES:
        return _CLASSES[name]
    if module in ("builtins", "__builtin__") and name in _SAFE_BUILTINS:
        return getattr(__import__("builtins"), name)
    if module in ("copyreg", "copy_reg") and name == "_reconstructor":
        return _reconstructor
    if module == "_codecs" and name == "encode":
        return _latin1
    if module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray") and name in ("dtype", "scalar"):
        return _dtype if name == "dtype" else _scalar
    raise UnsafePickleError(f"refusing to load {module}.{name}: an original-release pickle holds only "
                            f"{ORIGINAL_MODULE}.Architecture/DriftMeasurement records and plain numbers")


def load_original_pickle(path: str | os.PathLike[str]) -> dict[Any, Any]:
    """The raw dict of a ``data.anb`` file, with records as inert stand-ins (no code from the file runs)."""
    p = Path(path)
    if not p.is_file():
        raise DatasetNotFoundError(f"original-release pickle {p} does not exist")
    data = p.read_bytes()
    if hashlib.sha256(data).hexdigest() != RELEASE_SHA256:  # the published file was scanned once and for all
        try:
            scan_pickle(data, ALLOWED_GLOBALS, BUILDABLE)
        except PickleScanError as exc:
            raise UnsafePickleError(f"{p}: refused before loading: {exc}") from None
        except PickleFormatError as exc:
            raise DatasetIntegrityError(f"{p} is not a readable original-release pickle (truncated or "
                                        f"corrupted?): {exc}") from None
    try:
        obj = RestrictedUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{p}: {exc}") from None
    except Exception as exc:  # truncated/corrupted pickles raise many types (EOFError, UnpicklingError, ...)
        raise DatasetIntegrityError(f"{p} is not a readable original-release pickle "
                                    f"(truncated or corrupted?): {type(exc).__name__}: {exc}") from None
    if not isinstance(obj, dict):
        raise DatasetIntegrityError(f"{p} holds a {type(obj).__name__}; an original-release pickle holds a dict "
                                    "from architecture tuple to record")
    return obj


def _number(value: Any, what: str) -> float:
    if isinstance(value, (Real, np.number)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise ValueError(f"{what} must be a number, got {value!r}")


def _drift(value: Any, what: str) -> DriftMeasurement:
    if isinstance(value, _OriginalDrift):
        s = value.state
        return DriftMeasurement(_number(s.get("value"), what), _number(s.get("uncertainty", 0.0), what))
    if isinstance(value, np.number):
        value = float(value)
    try:
        return parse_drift(value)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def original_to_frame(raw: dict[Any, Any], *, source: str = "data.anb") -> pd.DataFrame:
    """Rows in this project's schema from the release's records (one row per stored tuple)."""
    rows = []
    for key, record in raw.items():
        try:
            arch = parse(tuple(key) if isinstance(key, (tuple, list)) else key)
        except (ValueError, TypeError):
            raise DatasetIntegrityError(f"{source}: key {key!r} is not a NAS-Bench-201 6-tuple") from None
        if isinstance(record, _OriginalRecord):
            attrs = record.state
        elif isinstance(record, dict):
            attrs = record
        else:
            raise DatasetIntegrityError(f"{source}: record for {key!r} is a {type(record).__name__}, not an "
                                        f"{ORIGINAL_MODULE}.Architecture")
        attrs = {_ALIASES.get(k, k): v for k, v in attrs.items() if k in _RECORD_FIELDS}
        row: dict[str, Any] = {c: None for c in all_columns()}
        row.update(arch_index=arch.index, arch=str(arch), arch_str=arch.nb201_str,
                   canonical_index=canonical_index(arch), flops=math.nan, profile_name="original-release",
                   profile_hash="", seed=None, device="", repetitions=0, created="")
        params = attrs.get("params")
        try:
            row["params"] = None if params is None else int(_number(params, "params"))
            for m in METRICS:
                value = attrs.get(m.value)
                what = f"{source}: {key!r}.{m.value}"
                if value is None:
                    mean, std = math.nan, math.nan
                elif m.is_drift:
                    d = _drift(value, what)
                    mean, std = d.value, d.uncertainty
                else:
                    mean = _number(value, what)
                    std = math.nan  # the release publishes no error for its non-drift metrics
                row[m.value], row[f"{m.value}_std"] = mean, std
                if m.repeated:
                    row[f"{m.value}_reps"] = None  # not published (null: also 25x faster to load than [])
        except ValueError as exc:
            raise DatasetIntegrityError(str(exc)) from None
        for c in all_columns():
            if c.startswith("time_"):
                row[c] = math.nan
        rows.append(row)
    df = pd.DataFrame(rows, columns=all_columns())
    return df.sort_values("arch_index", kind="stable").reset_index(drop=True)


def load_original(path: str | os.PathLike[str], *, sha256: str | None = None) -> tuple[pd.DataFrame, DatasetMeta]:
    """The release's ``data.anb`` as ``(frame, metadata)``; ``sha256``, if given, must match the file."""
    p = Path(path)
    if not p.is_file():
        raise DatasetNotFoundError(f"original-release pickle {p} does not exist")
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    if sha256 is not None and digest != sha256.lower():
        raise DatasetIntegrityError(f"{p} is truncated, corrupted or was modified: its SHA-256 is {digest}, "
                                    f"expected {sha256}")
    df = original_to_frame(load_original_pickle(p), source=str(p))
    n_classes = df["canonical_index"].nunique()
    meta = DatasetMeta(
        name=p.stem, version="original", schema_version=SCHEMA_VERSION, source="original-release",
        fidelity="original AnalogNAS-Bench release (CIFAR-10): means and drift std as published; no raw "
                 "repetitions, no training curves",
        created=datetime.fromtimestamp(p.stat().st_mtime, tz=timezone.utc).isoformat(timespec="seconds"),
        row_count=len(df), sha256=digest,
        notes=f"converted from {p.name}: {len(df)} architectures in {n_classes} isomorphism classes; "
              f"no error published for the non-drift metrics (their *_std, e.g. {Metric.NOISY.value}_std, are NaN)",
    )
    return df, meta
