"""Small helpers shared by the ``anb`` subcommands that read a dataset (query, list, info, export)."""

from __future__ import annotations

import argparse
import logging
import math
import operator
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analognasbench.bench.benchmark import EXTRA_NUMERIC, AnalogNASBench
from analognasbench.bench.costs import COST_COLUMNS, is_cost_column
from analognasbench.bench.derived import DERIVABLE, derived_column, network_of
from analognasbench.bench.errors import MissingValuesError, UnknownMetricError
from analognasbench.bench.files import dataset_paths, existing_pair_member
from analognasbench.bench.records import parse_metric
from analognasbench.bench.registry import ENV_VAR, ORIGINAL_SUFFIXES

logger = logging.getLogger(__name__)


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2, no traceback (``anb`` catches it)."""


def architecture_type(text: str):
    """argparse ``type`` of an architecture option (an op-index tuple, a NAS-Bench-201 string or an index): the
    parsed :class:`~analognasbench.space.Architecture`, or argparse's one-line error naming the option."""
    from analognasbench.space import parse

    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_dataset_argument(parser: argparse.ArgumentParser, *, dataset: bool = True) -> None:
    """``--dataset`` (unless the command names its dataset otherwise) and the integrity options every reader has."""
    if dataset:
        parser.add_argument("--dataset", "-d", default=None, metavar="PATH|NAME",
                            help=f"dataset to read: a path (name.parquet, or an original data.anb) or an embedded "
                                 f"name (default: ${ENV_VAR}, else the embedded default)")
    parser.add_argument("--no-verify", action="store_true",
                        help="load a dataset whose metadata records no SHA-256, or whose table no longer matches it "
                             "(skips the checksum; a warning says so; values are still checked)")
    parser.add_argument("--drop-invalid", action="store_true",
                        help="drop rows whose values are out of range (a warning names them) instead of refusing "
                             "the dataset")


def load_options(args: argparse.Namespace) -> dict[str, object]:
    """``verify`` / ``on_invalid`` keyword arguments from the options of :func:`add_dataset_argument`."""
    return {"verify": not getattr(args, "no_verify", False),
            "on_invalid": "drop" if getattr(args, "drop_invalid", False) else "raise"}


def open_benchmark(args: argparse.Namespace) -> AnalogNASBench:
    return AnalogNASBench(args.dataset, **load_options(args))  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------- where output goes
def _first_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def check_output_file(path: str | os.PathLike[str], option: str, *, inputs: Iterable[Path] = (),
                      force: bool = False, refuse_existing: bool = False) -> Path:
    """Refuse, before any work, an output file that cannot be written (a directory, under a file, unwritable) or
    that would destroy an input of the same command or a file of an existing dataset pair (unless ``force``);
    with ``refuse_existing``, any existing file unless ``force`` (the command's ``--force``)."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise CLIError(f"{option} {p}: is a directory; expected a file path")
    if p.exists() and not p.is_file():  # a device or pipe: a rename would replace it with a regular file
        raise CLIError(f"{option} {p}: is not a regular file; expected a file path")
    base = _first_existing(p.parent)
    if not base.is_dir():
        raise CLIError(f"{option} {p}: {base} is a file, not a directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise CLIError(f"{option} {p}: directory {base} is not writable")
    if p.exists() and not os.access(p, os.W_OK) and not os.access(p.parent, os.W_OK):
        raise CLIError(f"{option} {p}: is not writable")
    if force:
        return p
    for source in inputs:
        if p.exists() and source.exists() and os.path.samefile(p, source):
            raise CLIError(f"{option} {p} is an input of this command; writing it would destroy what is being read: "
                           "choose another path, or pass --force")
    pair = existing_pair_member(p)
    if pair is not None and p.exists():
        raise CLIError(f"{option} {p} is part of the dataset {pair[0].name} + {pair[1].name}; overwriting it would "
                       "break that dataset: choose another path, or pass --force")
    if refuse_existing and p.exists():
        raise CLIError(f"{option} {p} already exists; pass --force to replace it")
    return p


def check_output_dir(path: str | os.PathLike[str], option: str) -> Path:
    """Create ``path`` and prove it writable now, before the long work whose results go there."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise CLIError(f"{option} {p}: is a file; expected a directory")
    base = _first_existing(p)
    if not base.is_dir():
        raise CLIError(f"{option} {p}: {base} is a file, not a directory")
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".anb-write-check.", dir=p)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CLIError(f"{option} {p}: cannot write there ({exc.strerror or exc}); expected a writable "
                       "directory") from None
    return p


def dataset_files(path: Path | None) -> list[Path]:
    """The files a loaded dataset was read from (its table and sidecar, or the pickle)."""
    if path is None:
        return []
    return [path] if path.suffix in ORIGINAL_SUFFIXES else list(dataset_paths(path))


_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">=": operator.ge, "<=": operator.le, "!=": operator.ne, "==": operator.eq, ">": operator.gt, "<": operator.lt,
}
_FILTER_RE = re.compile(r"^\s*([a-z0-9_]+)\s*(>=|<=|!=|==|>|<)\s*([-+0-9.eE]+|nan)\s*$")


@dataclass(frozen=True)
class RowFilter:
    """``column OP number`` over one metric mean (or ``<metric>_std``, ``params``, ``flops``)."""

    column: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: str) -> RowFilter:
        match = _FILTER_RE.match(text)
        if not match:
            raise ValueError(f"bad filter {text!r}; expected COLUMN OP NUMBER with OP one of "
                             f"{', '.join(_OPS)}, e.g. 'analog_accuracy>=80' or 'params<500000'")
        column, op, value = match.groups()
        check_column(column)
        return cls(column, op, float(value))

    def mask(self, bench: AnalogNASBench) -> np.ndarray:
        values = column_values(bench, self.column, required=not math.isnan(self.value))
        with np.errstate(invalid="ignore"):
            return _OPS[self.op](values, self.value) & ~np.isnan(values) if not math.isnan(self.value) else \
                np.isnan(values) == (self.op == "==")


def check_column(column: str) -> None:
    """Accept a metric, ``<metric>_std``, ``params`` or ``flops``; anything else lists the valid names."""
    if column in EXTRA_NUMERIC or is_cost_column(column):
        return
    try:
        parse_metric(column[:-4] if column.endswith("_std") else column)
    except UnknownMetricError as exc:
        raise UnknownMetricError(f"{exc} (also: <metric>_std, {', '.join(EXTRA_NUMERIC)}, the hardware-cost "
                                 f"estimates {', '.join(COST_COLUMNS)})") from None


def column_values(bench: AnalogNASBench, column: str, *, required: bool = True) -> np.ndarray:
    """One column over the rows of ``bench``; a column the dataset holds no value of is computed when it follows
    from the architecture (``params``, ``flops``: :mod:`analognasbench.bench.derived`), else refused when
    ``required`` (filters, sorting) -- never answered as if it held values -- or left NaN (display)."""
    check_column(column)
    values = bench.metric_array(column[:-4], std=True) if column.endswith("_std") else bench.metric_array(column)
    if len(values) and np.isnan(values).all():
        computed = derived_values(bench, column)
        if computed is None and not required:
            return values
        if computed is None:
            raise MissingValuesError(
                f"the dataset {bench.meta.name!r} holds no values for {column}"
                + (" (its network skeleton is not recorded, so they cannot be computed)" if column in DERIVABLE
                   else "") + "; choose another column")
        return computed
    return values


def derived_values(bench: AnalogNASBench, column: str) -> np.ndarray | None:
    """``params`` / ``flops`` of every row computed from the architectures, or None where that is not possible."""
    network = network_of(bench.meta)
    if column not in DERIVABLE or network is None:
        return None
    logger.info("%s: no %s in the dataset; computed from the architectures (%s)", bench.meta.name, column, network)
    return derived_column(column, bench.df["arch_index"].to_numpy(), network)


def require_values(bench: AnalogNASBench, column: str, option: str) -> None:
    """Refuse an objective or constraint over a column with no values (missing is not zero)."""
    values = bench.metric_array(column)
    if len(values) == 0 or np.isnan(values).all():
        raise MissingValuesError(f"{option}: the dataset {bench.meta.name!r} holds no values for {column}")


def with_derived_columns(bench: AnalogNASBench) -> AnalogNASBench:
    """``bench`` with ``params``/``flops`` computed where the dataset has none at all and the skeleton is known
    (a new benchmark object: the loaded table is never modified in place)."""
    df = None
    for column in DERIVABLE:
        if len(bench) and np.isnan(bench.metric_array(column)).all():
            computed = derived_values(bench, column)
            if computed is not None:
                df = bench.df.copy() if df is None else df
                df[column] = computed.astype(np.int64) if column == "params" else computed
    return bench if df is None else AnalogNASBench.from_frame(df, bench.meta, bench.path)


def time_label(seconds: float | None) -> str:
    """Time after programming as people say it: 0 s, 60 s, 1 h, 1 day, 30 days."""
    if seconds is None:
        return "-"
    for unit, size in (("days", 86400), ("h", 3600)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} day" if unit == "days" and n == 1 else f"{n} {unit}"
    return f"{seconds:g} s"
