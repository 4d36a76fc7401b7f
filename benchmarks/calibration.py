"""Calibration of low-cost profiles against the published release (issue 18): rerun the comparison from stores.

Prints, per candidate profile and per metric, Kendall's tau, Spearman's rho and top-10 % overlap with the release
on the classes both hold, the noisy-drop distribution against the release's on the same classes, and the cost per
architecture (median wall seconds; core-seconds for CPU rows). Writes ``calibration.csv`` (one row per profile and
metric) and ``frontier.png`` (agreement versus cost) into ``--out``. The computation lives in
:mod:`analognasbench.fidelity.calibration`.

    python benchmarks/calibration.py                    # the shipped candidates (cifar10-calib-*, cifar10-lowcost, ...)
    python benchmarks/calibration.py --store calib-n2=/work/runs/calib-n2.sqlite --gpu-stores /work/runs/gpu \\
        --dataset cifar10-lowcost=analognasbench/bench/datasets/cifar10-lowcost.parquet --out /work/runs/calibration
    python benchmarks/calibration.py --write-sample 120          # regenerate scripts/calibration-archs.txt
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import pandas as pd

from analognasbench.bench.registry import load
from analognasbench.fidelity.calibration import (
    CALIBRATION_METRICS,
    CROSS_METRICS,
    SAMPLE_SEED,
    calibration_sample,
    calibration_table,
    drop_summary,
    release_drop_on,
)
from analognasbench.report.calibration import plot_frontier, shipped_candidates, summary_table
from analognasbench.report.render import markdown_table

DEFAULT_RELEASE = os.environ.get("ANB_RELEASE", "original")  # the embedded analognas-original
SAMPLE_FILE = Path(__file__).resolve().parent.parent / "scripts" / "calibration-archs.txt"


def _labelled(items: list[str], what: str) -> list[tuple[str, Path]]:
    out = []
    for item in items:
        label, sep, path = item.partition("=")
        if not sep:
            label, path = Path(item).stem, item
        if not Path(path).exists():
            sys.exit(f"{what} {path} does not exist")
        out.append((label, Path(path)))
    return out


def load_rows(args: argparse.Namespace) -> dict[str, pd.DataFrame]:
    from analognasbench.bench.files import read_dataset
    from analognasbench.pipeline.store import RunStore

    stores = _labelled(args.store, "store")
    if args.gpu_stores:
        stores += [(f"{p.stem} (gpu)", p) for p in sorted(Path(args.gpu_stores).glob("*.sqlite"))]
    rows = {label: RunStore(path).to_dataframe() for label, path in stores}
    for label, path in _labelled(args.dataset, "dataset"):
        rows[label] = read_dataset(path)[0]
    return {k: v for k, v in rows.items() if len(v)}


def _fmt(value: float, digits: int = 2) -> str:
    return "n/m" if digits == 1 and isinstance(value, float) and math.isnan(value) else "not measured" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def print_table(table: pd.DataFrame, rows: dict[str, pd.DataFrame], release: pd.DataFrame) -> None:
    print(f"{'profile':<26} {'metric (ours~release where they differ)':<52} {'n':>4} {'tau':>13} {'+-':>5} "
          f"{'rho':>13} {'top10%':>13}")
    for _, r in table.iterrows():
        print(f"{r.profile:<26} {r.metric:<52} {r.n:>4} {_fmt(r.kendall_tau):>13} {_fmt(r.tau_se):>5} "
              f"{_fmt(r.spearman_rho):>13} "
              f"{_fmt(r.top10_overlap):>13}")
    print()
    print(f"{'profile':<26} {'n':>4} {'noisy drop q25/med/q75':>24} {'release, same classes':>22} "
          f"{'programmed drop':>17} {'s/arch':>8} {'core-s/arch':>12}")
    for label, df in rows.items():
        ours = drop_summary(df)
        theirs = release_drop_on(release, df["canonical_index"].unique())
        sub = table[table.profile == label].iloc[0]
        q = "/".join(_fmt(ours[k], 1) for k in ("drop_q25", "drop_median", "drop_q75"))
        t = "/".join(_fmt(theirs[k], 1) for k in ("drop_q25", "drop_median", "drop_q75"))
        pq = "/".join(_fmt(ours[k], 1) for k in ("programmed_drop_q25", "programmed_drop_median",
                                                   "programmed_drop_q75"))
        print(f"{label:<26} {len(df):>4} {q:>24} {t:>22} {pq:>17} {_fmt(sub.seconds_per_arch, 0):>8} "
              f"{_fmt(sub.core_seconds_per_arch, 0):>12}")
    print("(drop: baseline minus noisy accuracy, points; 'programmed drop' uses the programmed t = 0 reading)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", action="append", default=[], metavar="LABEL=PATH", help="a run store (repeatable)")
    p.add_argument("--gpu-stores", help="folder of GPU stores (scripts/gpu-calibration.sh's OUTDIR)")
    p.add_argument("--dataset", action="append", default=[], metavar="LABEL=PATH",
                   help="a dataset file (.parquet), e.g. a shipped one (repeatable)")
    p.add_argument("--release", default=DEFAULT_RELEASE,
                   help="the published release: an embedded name, a dataset path or a data.anb (default %(default)s)")
    p.add_argument("--out", type=Path, help="folder for calibration.csv and frontier.png")
    p.add_argument("--write-sample", type=int, metavar="N", help=f"write the N-architecture sample to {SAMPLE_FILE}")
    p.add_argument("--markdown", action="store_true", help="also print the summary table in Markdown (DATASET.md's)")
    args = p.parse_args()
    release, _, _ = load(args.release)
    if args.write_sample:
        sample = calibration_sample(release, args.write_sample, SAMPLE_SEED)
        header = [f"# Calibration sample (issue 18): {len(sample)} isomorphism-class representatives, one per "
                  "equal-count stratum of the", f"# release's noisy_accuracy, seed {SAMPLE_SEED}, in seeded random "
                  "order (every prefix spans the range).", f"# Regenerate: python benchmarks/calibration.py "
                  f"--write-sample {args.write_sample}"]
        SAMPLE_FILE.write_text("\n".join(header + [str(tuple(a)) for a in sample]) + "\n")
        print(f"wrote {len(sample)} architectures to {SAMPLE_FILE}")
        return 0
    rows = load_rows(args) if args.store or args.gpu_stores or args.dataset else shipped_candidates()
    if not rows:
        sys.exit("no rows: give --store, --gpu-stores or --dataset with measured architectures")
    table = calibration_table(rows, release, (*CALIBRATION_METRICS, *CROSS_METRICS))
    print_table(table, rows, release)
    if args.markdown:
        drops = {k: release_drop_on(release, v["canonical_index"].unique()) for k, v in rows.items()}
        print()
        print("\n".join(markdown_table(summary_table(table, drops), max_rows=None)[0]))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out / "calibration.csv", index=False)
        plot_frontier(table).savefig(args.out / "frontier.png", dpi=120)
        print(f"\nwrote {args.out / 'calibration.csv'} and {args.out / 'frontier.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
