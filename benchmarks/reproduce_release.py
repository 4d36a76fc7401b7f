"""End-to-end reproduction of release cells (issue 23): our paper-original rows against the release's members.

    anb generate --profile paper-original --archs scripts/reproduce-archs.txt --data DATA --store runs/po.sqlite
    python benchmarks/reproduce_release.py --store runs/po.sqlite [--markdown]
    python benchmarks/reproduce_release.py --checkpoints .resume/checkpoints   # measurements still in progress
    python benchmarks/reproduce_release.py --checkpoints DIR --probe --data DATA  # digital trainings in progress

Per class and metric: our value, the release members' mean and standard deviation, and whether ours lies within 3
spreads (``analognasbench.fidelity.reproduce``). With ``--checkpoints`` the measurements still in progress (e.g. a
lent GPU's minutes ended inside HWT) are compared on the stages they finished
(``analognasbench.pipeline.partial``); a class with a whole row in the store is taken from the store. ``--probe``
reads the networks of digital trainings still in progress on the clean test set and on the unprogrammed chip
(a few passes, on the CPU): an early sign, printed beside the release, never stored.
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
    p.add_argument("--probe", action="store_true", help="with --checkpoints: read the digital trainings in progress")
    p.add_argument("--reads", type=int, default=3, help="with --probe: evaluation passes per reading (default 3)")
    p.add_argument("--data", help="with --probe: the dataset path (e.g. ../shared/data/cifar10-jpeg.tar.gz)")
    p.add_argument("--markdown", action="store_true")
    args = p.parse_args(argv)
    if not (args.store or args.checkpoints):
        p.error("give --store, --checkpoints or both")
    if args.probe:
        if not args.checkpoints or args.reads < 1:
            p.error("--probe needs --checkpoints and --reads >= 1")
        return probe(args.checkpoints, args.data, args.reads, args.markdown)
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


def probe(root: str, data_path: str | None, reads: int, markdown: bool) -> int:
    """Print the probe of every digital training in progress under ``root`` beside the release's members."""
    from pathlib import Path

    from analognasbench.pipeline.measure import load_profile_data
    from analognasbench.pipeline.partial import probe_digital_training
    from analognasbench.pipeline.profiles import get_profile

    release = load("original")[0]
    rows, cache = [], {}
    for path in sorted(Path(root).glob("*/*-seed*/digital.pt")):
        name, _, profile_hash = path.parent.parent.name.rpartition("-")
        profile = get_profile(name)
        if profile.hash() != profile_hash:
            print(f"skipped {path}: profile {name} has changed since (hash {profile.hash()}, saved {profile_hash})")
            continue
        if name not in cache:
            cache[name] = load_profile_data(profile, data_path)
        arch, seed = path.parent.name.split("-seed")
        row = probe_digital_training(path, int(arch), profile, cache[name], int(seed), reads=reads)
        members = release[release["canonical_index"] == row["canonical_index"]]
        for metric in ("baseline", "noisy"):
            values = members[f"{metric}_accuracy"]
            row[f"release_{metric}"] = f"{values.mean():.2f} ± {values.std(ddof=1):.2f} ({len(values)})"
        rows.append(row)
    if not rows:
        print("no digital training in progress")
        return 0
    table = pd.DataFrame(rows).drop(columns=["canonical_index"]).round(2)
    if markdown:
        from analognasbench.report.render import markdown_table

        print("\n".join(markdown_table(table)[0]))
    else:
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
