"""Value checks on load: a damaged number is refused, never answered.

A checksum proves the table is the one its metadata vouches for, not that its values make sense (a hand-edited
table with a recomputed checksum, a buggy writer, a converted release). So every table is checked against the
schema's ranges when it is loaded:

* accuracies (every metric mean, every repetition) lie in [0, 100]; NaN means "not measured" and is allowed;
* stds are finite and >= 0 (at most 100); NaN means "not published" (the original release publishes none for its
  non-drift metrics) and is allowed -- negative or infinite ones are not;
* a row that keeps repetitions has a mean consistent with them (within rounding, :data:`REPS_TOLERANCE`);
* ``params``, ``flops`` and the ``time_*`` columns are >= 0 and finite where present.

A failure names the architecture and the column. The dataset is refused (:class:`InvalidValuesError`), unless the
caller asks to drop the failing rows (``on_invalid="drop"``, ``--drop-invalid``), which is logged as a warning.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analognasbench.bench.errors import DatasetIntegrityError
from analognasbench.enums import ClosedSet
from analognasbench.pipeline.schema import METRICS

logger = logging.getLogger(__name__)

#: How far a stored mean may differ from the mean of its stored repetitions (percentage points): rounding only.
REPS_TOLERANCE = 0.01
_SHOWN = 5


class OnInvalid(ClosedSet, what="on_invalid choice", plural="on_invalid choices"):
    """What loading does with rows whose values fail the checks."""

    RAISE = "raise"
    DROP = "drop"


class InvalidValuesError(DatasetIntegrityError):
    """Values outside the schema's ranges (the message lists architectures and columns)."""


@dataclass(frozen=True)
class Violation:
    row: int
    arch: str
    column: str
    value: Any
    expected: str

    def __str__(self) -> str:
        return f"architecture {self.arch} column {self.column} = {_shown(self.value)} (expected {self.expected})"


def _shown(value: Any) -> str:
    """A stored value as the user would write it: ``150.0``, not ``np.float64(150.0)``; text stays quoted."""
    if isinstance(value, (np.generic, np.ndarray)):
        value = value.tolist()
    return f"{value!r:.120}"


def _arch_labels(df: pd.DataFrame) -> list[str]:
    if "arch" in df.columns:
        return [str(a) for a in df["arch"].tolist()]
    return [f"row {i}" for i in range(len(df))]


def _numeric(df: pd.DataFrame, column: str) -> np.ndarray | None:
    try:
        return pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    except (TypeError, ValueError):
        return None


def _range_check(df: pd.DataFrame, column: str, lo: float, hi: float, expected: str, labels: list[str],
                 out: list[Violation]) -> None:
    values = _numeric(df, column)
    if values is None:
        return
    raw = df[column].to_numpy()
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(values) & ~((values >= lo) & (values <= hi))
    # text that is not a number at all is damaged too (NaN after coercion but not a missing value)
    bad |= np.isnan(values) & ~pd.isna(df[column]).to_numpy()
    for row in np.flatnonzero(bad).tolist():
        out.append(Violation(row, labels[row], column, raw[row], expected))


def find_violations(df: pd.DataFrame, table: Any = None) -> list[Violation]:
    """Every value of ``df`` outside the schema's ranges (see the module docstring). ``table``, the Arrow table
    ``df`` was read from (same rows), makes the repetitions check vectorised."""
    labels = _arch_labels(df)
    out: list[Violation] = []
    for m in METRICS:
        if m.value in df.columns:
            _range_check(df, m.value, 0.0, 100.0, "a percentage in [0, 100], or NaN if not measured", labels, out)
        std = f"{m.value}_std"
        if std in df.columns:
            _range_check(df, std, 0.0, 100.0, "a finite std >= 0, or NaN if not published", labels, out)
        reps = f"{m.value}_reps"
        if m.repeated and reps in df.columns and m.value in df.columns:
            _check_reps(df, m.value, reps, labels, out, table)
    for column in ("params", "flops"):
        if column in df.columns:
            _range_check(df, column, 0.0, math.inf, "a finite count >= 0, or missing", labels, out)
    for column in df.columns:
        if isinstance(column, str) and column.startswith("time_"):
            _range_check(df, column, 0.0, math.inf, "finite seconds >= 0, or NaN", labels, out)
    return out


def _reps_all_fine(column: Any, means: np.ndarray) -> bool:
    """Vectorised screen of a repetitions column given as an Arrow list column: True when every cell is missing,
    empty, or a list of percentages whose mean is its row's mean. Only when it is False does the per-row check
    below run, to name what is wrong (a Python loop over 15,625 rows x 12 columns would dominate the load)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_list(arr.type) or not pa.types.is_floating(arr.type.value_type):
        return False
    flat = pc.list_flatten(arr).to_numpy(zero_copy_only=False).astype(float)
    if flat.size == 0:
        return True
    if not np.all(np.isfinite(flat)) or flat.min() < 0 or flat.max() > 100:
        return False
    parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False)
    lengths = np.bincount(parents, minlength=len(arr))
    sums = np.bincount(parents, weights=flat, minlength=len(arr))
    rows = lengths > 0
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.abs(sums[rows] / lengths[rows] - means[rows]) <= REPS_TOLERANCE))


def _check_reps(df: pd.DataFrame, mean_col: str, reps_col: str, labels: list[str], out: list[Violation],
                table: Any = None) -> None:
    means = _numeric(df, mean_col)
    if means is None:
        return
    if table is not None and reps_col in table.column_names and _reps_all_fine(table.column(reps_col), means):
        return
    for row, reps in enumerate(df[reps_col].tolist()):
        if reps is None or (isinstance(reps, float) and math.isnan(reps)):
            continue
        try:
            values = np.asarray(list(reps), dtype=float)
        except (TypeError, ValueError):
            out.append(Violation(row, labels[row], reps_col, reps, "a list of numbers"))
            continue
        if values.size == 0:
            continue
        if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 100:
            out.append(Violation(row, labels[row], reps_col, values.tolist(), "percentages in [0, 100]"))
        elif math.isnan(means[row]) or abs(float(values.mean()) - means[row]) > REPS_TOLERANCE:
            out.append(Violation(row, labels[row], mean_col, means[row],
                                 f"the mean of its {values.size} repetitions, {values.mean():.4f}"))


def validate_frame(df: pd.DataFrame, where: str, on_invalid: OnInvalid | str = OnInvalid.RAISE,
                   table: Any = None) -> pd.DataFrame:
    """``df`` if every value is in range; else raise :class:`InvalidValuesError`, or drop the failing rows.
    ``table``: the Arrow table ``df`` was read from, if any (speeds up the repetitions check)."""
    mode = OnInvalid.parse(on_invalid)
    violations = find_violations(df, table)
    if not violations:
        return df
    rows = sorted({v.row for v in violations})
    shown = "; ".join(str(v) for v in violations[:_SHOWN])
    more = f" (and {len(violations) - _SHOWN} more)" if len(violations) > _SHOWN else ""
    if mode is OnInvalid.RAISE:
        raise InvalidValuesError(
            f"{where}: {len(violations)} invalid value(s) in {len(rows)} row(s): {shown}{more}; the dataset is "
            "refused (load the other rows with on_invalid='drop' / --drop-invalid)")
    logger.warning("%s: dropping %d row(s) with invalid values, as asked: %s%s", where, len(rows), shown, more)
    return df.drop(index=df.index[rows]).reset_index(drop=True)
