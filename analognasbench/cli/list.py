"""``anb list [--filter EXPR] [--sort M] [--limit N]``: the measured architectures, filtered and sorted."""

from __future__ import annotations

import argparse

import numpy as np

from analognasbench.bench.cliutil import (
    RowFilter,
    add_dataset_argument,
    check_column,
    column_values,
    open_benchmark,
)
from analognasbench.bench.errors import BenchmarkError
from analognasbench.cli import CLIError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "list", help="list measured architectures",
        description="List the measured architectures, one row per measured cell, optionally filtered and sorted "
                    "by metrics. A dataset of class representatives has one row per measured isomorphism class; "
                    "the published release (analognas-original) has all 15,625 cells, each its own row. The last "
                    "line counts the rows shown, matching the filters, and measured.")
    parser.add_argument("--filter", "-f", action="append", default=[], metavar="EXPR",
                        help="keep rows where EXPR holds, e.g. 'analog_accuracy>=80', 'params<500000' (repeatable)")
    parser.add_argument("--sort", "-s", default=None, metavar="COLUMN", help="sort by this column (descending)")
    parser.add_argument("--ascending", action="store_true", help="sort ascending instead")
    parser.add_argument("--limit", "-n", type=int, default=None, help="print at most N rows")
    parser.add_argument("--column", "-c", action="append", default=None, metavar="COLUMN",
                        help="columns to show (default: baseline_accuracy, analog_accuracy, analog_drift_2592000)")
    add_dataset_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 0:
        raise CLIError(f"--limit must be >= 0, got {args.limit}")
    filters = [RowFilter.parse(text) for text in args.filter]
    columns = args.column or ["baseline_accuracy", "analog_accuracy", "analog_drift_2592000"]
    for c in columns + ([args.sort] if args.sort else []):
        check_column(c)
    try:
        bench = open_benchmark(args)
        keep = np.ones(len(bench), dtype=bool)
        unknown: dict[str, int] = {}
        for f in filters:
            values = column_values(bench, f.column)
            keep &= f.mask(bench)
            if not np.isnan(f.value) and np.isnan(values).any():
                unknown[f.column] = int(np.isnan(values).sum())
        rows = np.flatnonzero(keep)
        matching = len(rows)
        if args.sort:
            values = column_values(bench, args.sort)[rows]
            order = np.argsort(values if args.ascending else -values, kind="stable")  # NaN (no value) last
            rows = rows[order]
        if args.limit is not None:
            rows = rows[: args.limit]
        data = {c: column_values(bench, c, required=False) for c in columns}
    except BenchmarkError as exc:
        raise CLIError(str(exc)) from None
    archs = bench.list_available_architectures()
    indices = bench.df["arch_index"].to_numpy()
    print(f"{'index':>5}  {'arch':<18}  " + "  ".join(f"{c:>{max(len(c), 8)}}" for c in columns))
    for r in rows:
        cells = "  ".join(_cell(c, data[c][r]) for c in columns)
        print(f"{indices[r]:>5}  {str(archs[r]):<18}  {cells}")
    note = "".join(f"; {n} without a value for {c} (not compared)" for c, n in unknown.items())
    counts = f"{len(rows)} of {matching} matching, {len(bench)} measured" if filters else \
        f"{len(rows)} of {len(bench)} measured architectures"
    print(f"# {counts}{note}")
    return 0


def _cell(column: str, value: float) -> str:
    width = max(len(column), 8)
    if np.isnan(value):
        return f"{'-':>{width}}"  # no value in the dataset: never printed as a number
    return f"{int(value):>{width}d}" if column == "params" else f"{value:>{width}.2f}"
