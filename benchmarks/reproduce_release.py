"""End-to-end reproduction of release cells (issue 23): our paper-original rows against the release's members.

    anb generate --profile paper-original --archs scripts/reproduce-archs.txt --data DATA --store runs/po.sqlite
    python benchmarks/reproduce_release.py --store runs/po.sqlite [--markdown]

Per class and metric: our value, the release members' mean and standard deviation, and whether ours lies within 3
spreads (``analognasbench.fidelity.reproduce``). Runs on a GPU (``scripts/gpu-sweep.sh``-style); on a 2-core CPU one
cell of the release's protocol takes days.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from analognasbench.bench.registry import load
from analognasbench.fidelity.reproduce import compare_with_members, reproduction_summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", required=True, help="run store (SQLite) or dataset path with the measured rows")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    from analognasbench.bench.errors import DatasetNotFoundError
    from analognasbench.pipeline.store import RunStore, StoreError

    try:
        if args.store.endswith(".sqlite"):
            with RunStore(args.store, read_only=True) as store:
                rows = store.to_dataframe(store.profile_hash)
        else:
            rows = load(args.store)[0]
    except (StoreError, DatasetNotFoundError, ValueError) as exc:
        p.error(str(exc))
    release = load("original")[0]
    cmp = compare_with_members(rows, release)
    if cmp.empty:
        print("no measured class has several members in the release")
        return 0
    if args.markdown:
        from analognasbench.report.render import markdown_table

        print("\n".join(markdown_table(cmp)[0]))
    else:
        with pd.option_context("display.width", 200):
            print(cmp.round(2).to_string(index=False))
    print(reproduction_summary(cmp).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
