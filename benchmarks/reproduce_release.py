"""End-to-end reproduction of release cells (issue 23): our paper-original rows against the release's members.

    anb generate --profile paper-original --archs scripts/reproduce-archs.txt --data DATA --store runs/po.sqlite
    python benchmarks/reproduce_release.py --store runs/po.sqlite [--markdown]
    python benchmarks/reproduce_release.py --checkpoints .resume/checkpoints   # measurements still in progress

Per class and metric: our value, the release members' mean and standard deviation, and whether ours lies within 3
spreads (``analognasbench.fidelity.reproduce``). With ``--checkpoints`` the measurements still in progress (e.g. a
lent GPU's minutes ended inside HWT) are compared on the stages they finished
(``analognasbench.pipeline.partial``); a class with a whole row in the store is taken from the store.
The measurements run on a GPU (``scripts/gpu-reproduce.sh``); on one CPU core a cell takes 10-20 hours.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from analognasbench.bench.registry import load
from analognasbench.fidelity.reproduce import compare_with_members, reproduction_summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", help="run store (SQLite) or dataset path with the measured rows")
    p.add_argument("--checkpoints", help="checkpoint root of measurements in progress (anb generate --checkpoints)")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    if not (args.store or args.checkpoints):
        p.error("give --store, --checkpoints or both")
    from analognasbench.bench.errors import DatasetNotFoundError
    from analognasbench.pipeline.partial import rows_in_progress
    from analognasbench.pipeline.store import RunStore, StoreError

    frames = []
    try:
        if args.store and args.store.endswith(".sqlite"):
            with RunStore(args.store, read_only=True) as store:
                frames.append(store.to_dataframe(store.profile_hash))
        elif args.store:
            frames.append(load(args.store)[0])
        if args.checkpoints:
            partial = rows_in_progress(args.checkpoints)
            done = set(frames[0]["canonical_index"]) if frames else set()
            if not partial.empty:
                print(partial[["arch", "stages_finished", "stage_seconds"]].to_string(index=False))
                frames.append(partial[~partial["canonical_index"].isin(done)])
    except (StoreError, DatasetNotFoundError, ValueError) as exc:
        p.error(str(exc))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if rows.empty:
        print("nothing measured yet")
        return 0
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
