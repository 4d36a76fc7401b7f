"""``anb export --format csv|parquet|json``: the whole table, for tools outside Python or for archiving."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from analognasbench.bench.cliutil import add_dataset_argument, open_benchmark
from analognasbench.bench.errors import BenchmarkError
from analognasbench.bench.files import write_dataset
from analognasbench.cli import CLIError
from analognasbench.enums import ClosedSet


class ExportFormat(ClosedSet, what="format", plural="formats"):
    CSV = "csv"
    PARQUET = "parquet"  # the dataset format itself: name.parquet + name.json sidecar
    JSON = "json"  # records, one object per architecture


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="export the dataset table",
                                   description="Write the whole dataset table as CSV, Parquet (with its JSON "
                                               "metadata sidecar) or JSON records.")
    parser.add_argument("--format", "-F", required=True, choices=[f.value for f in ExportFormat])
    parser.add_argument("--output", "-o", type=Path, default=None,
                        help="output file (default: standard output; required for parquet)")
    add_dataset_argument(parser)
    parser.set_defaults(func=run)


def _plain(value: object) -> object:
    if isinstance(value, np.ndarray):
        return [float(x) for x in value]
    return value


def run(args: argparse.Namespace) -> int:
    fmt = ExportFormat.parse(args.format)
    try:
        bench = open_benchmark(args)
        df = bench.df
        if fmt is ExportFormat.PARQUET:
            if args.output is None:
                raise CLIError("--format parquet needs --output PATH (a binary file is not written to the terminal)")
            print(write_dataset(df, bench.meta, args.output))
            return 0
        flat = df.copy()
        for col in flat.columns:
            if col.endswith("_reps"):
                flat[col] = [strict_json.dumps(v) if v is not None else None for v in flat[col]]
        if fmt is ExportFormat.CSV:
            text = flat.to_csv(index=False)
        else:
            text = flat.to_json(orient="records", indent=1)
    except BenchmarkError as exc:
        raise CLIError(str(exc)) from None
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(args.output)
    return 0
