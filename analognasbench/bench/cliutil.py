"""Small helpers shared by the ``anb`` subcommands that read a dataset (query, list, info, export)."""

from __future__ import annotations

import argparse
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analognasbench.bench.benchmark import EXTRA_NUMERIC, AnalogNASBench
from analognasbench.bench.costs import COST_COLUMNS, is_cost_column
from analognasbench.bench.errors import UnknownMetricError
from analognasbench.bench.records import parse_metric
from analognasbench.bench.registry import ENV_VAR


def add_dataset_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", "-d", default=None, metavar="PATH|NAME",
                        help=f"dataset to read: a path (name.parquet, or an original data.anb) or an embedded name "
                             f"(default: ${ENV_VAR}, else the embedded default)")


def open_benchmark(args: argparse.Namespace) -> AnalogNASBench:
    return AnalogNASBench(args.dataset)


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
        values = column_values(bench, self.column)
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


def column_values(bench: AnalogNASBench, column: str) -> np.ndarray:
    check_column(column)
    if column.endswith("_std"):
        return bench.metric_array(column[:-4], std=True)
    return bench.metric_array(column)


def time_label(seconds: float | None) -> str:
    """Time after programming as people say it: 0 s, 60 s, 1 h, 1 day, 30 days."""
    if seconds is None:
        return "-"
    for unit, size in (("days", 86400), ("h", 3600)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return f"{n} day" if unit == "days" and n == 1 else f"{n} {unit}"
    return f"{seconds:g} s"
