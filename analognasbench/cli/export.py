"""``anb export --format csv|parquet|json``: the whole table, for tools outside Python or for archiving.

Nothing is overwritten by surprise: an input of the same command (the dataset being exported) or a file of an
existing dataset pair (``name.parquet`` + ``name.json``) is refused unless ``--force``; files are written to a
temporary name and renamed into place, so an interrupted export leaves the old file whole.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analognasbench.bench import strict_json
from analognasbench.bench.cliutil import (
    CLIError,
    add_dataset_argument,
    check_output_file,
    dataset_files,
    open_benchmark,
)
from analognasbench.bench.errors import BenchmarkError
from analognasbench.bench.files import atomic_write_text, dataset_paths, write_dataset
from analognasbench.enums import ClosedSet


class ExportFormat(ClosedSet, what="format", plural="formats"):
    CSV = "csv"
    PARQUET = "parquet"  # the dataset format itself: name.parquet + name.json sidecar
    JSON = "json"  # records, one object per architecture


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="export the dataset table",
                                   description="Write the whole dataset table as CSV, Parquet (with its JSON "
                                               "metadata sidecar) or JSON records. Refuses to overwrite the dataset "
                                               "it reads or any existing file unless --force.")
    parser.add_argument("--format", "-F", required=True, choices=[f.value for f in ExportFormat])
    parser.add_argument("--output", "-o", type=Path, default=None,
                        help="output file (default: standard output; required for parquet)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite an existing output file (a dataset pair, or the input dataset's own files too)")
    add_dataset_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fmt = ExportFormat.parse(args.format)
    if fmt is ExportFormat.PARQUET and args.output is None:
        raise CLIError("--format parquet needs --output PATH (a binary file is not written to the terminal)")
    targets = list(dataset_paths(args.output)) if fmt is ExportFormat.PARQUET and args.output else (
        [args.output] if args.output else [])
    for target in targets:  # unwritable places fail here, before the dataset is read
        check_output_file(target, "--output", force=True)
    try:
        bench = open_benchmark(args)
    except BenchmarkError as exc:
        raise CLIError(str(exc)) from None
    for target in targets:
        check_output_file(target, "--output", inputs=dataset_files(bench.path), force=args.force,
                          refuse_existing=True)
    df = bench.df
    if fmt is ExportFormat.PARQUET:
        try:
            print(write_dataset(df, bench.meta, args.output, overwrite=args.force))
        except BenchmarkError as exc:
            raise CLIError(str(exc)) from None
        return 0
    flat = df.copy()
    for col in flat.columns:
        if col.endswith("_reps"):
            flat[col] = [strict_json.dumps(v) if v is not None else None for v in flat[col]]
    text = flat.to_csv(index=False) if fmt is ExportFormat.CSV else flat.to_json(orient="records", indent=1)
    if args.output is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(args.output, text)
        print(args.output)
    return 0
