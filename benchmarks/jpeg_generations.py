"""What the JPEG source costs the digital accuracy (issue 23, step 3): train the reproduce cells at the release's
network and data, once on the shipped images and once on each number of further JPEG generations.

    python benchmarks/jpeg_generations.py --run --store /work/runs/jpeg.jsonl [--archs FILE] [--epochs 12]
    python benchmarks/jpeg_generations.py [--store /work/runs/jpeg.jsonl] [--markdown] [--export]
    python benchmarks/jpeg_generations.py --psnr 500     # signal lost per further generation, shipped test images

At ``paper-original``'s protocol our digital networks are 2-3.6 points below the release's members on the three
reproduce cells; the shipped images are JPEG (quality 75, 4:2:0), the release's were lossless. The first
generation's cost cannot be measured without the lossless files; each further generation, its block grid moved
(:mod:`analognasbench.datasets.recompress`), loses about as much signal as the one before, so the accuracy lost per
added generation estimates it. Shorter training than the release's (``--epochs``, default 12 of 200), the same
seed for every generation (the same initialisation and augmentation draws: paired differences), one clean test
pass (no test-time augmentation) and 3 reads of the unprogrammed chip (whether the source moves the noisy drop).
Resumable (:class:`~analognasbench.pipeline.ablation.DropStore`): run one process per architecture file.
Without ``--store`` the table is read from the shipped records (``analognasbench/fidelity/jpeg-generations.csv``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

from analognasbench.bench.registry import load
from analognasbench.fidelity.calibration import read_arch_file
from analognasbench.fidelity.jpeg_generations import (
    SHIPPED_RECORDS,
    generation_table,
    shipped_generation_records,
)
from analognasbench.pipeline.ablation import DropStore, ablation_settings, run_ablation
from analognasbench.pipeline.profiles import get_profile

ROOT = Path(__file__).resolve().parent.parent
ARCHS = ROOT / "scripts" / "reproduce-archs.txt"
GENERATIONS = (1, 2)


def settings(epochs: int):
    """paper-original's digital training shortened to ``epochs``, read clean; the shipped images, then each of
    :data:`GENERATIONS` more."""
    base = get_profile("paper-original").with_overrides({"epochs": epochs,
                                                         "protocol.test_time_augmentation": False})
    return ablation_settings(base, depths=(), widths=(), image_sizes=(), epochs=(), normalisation=False,
                             eval_factors=(), eval_at_depth=None, jpeg_generations=GENERATIONS)


def print_psnr(p: argparse.ArgumentParser, data: str, n: int) -> int:
    """The premise of the estimate, measured: each moved generation loses about as much as the one before."""
    from analognasbench.datasets import load_cifar10
    from analognasbench.datasets.recompress import GRID_OFFSETS, generation_psnr

    if not 10 <= n <= 10000:
        p.error(f"--psnr must be between 10 and 10000 test images, got {n}")
    if not Path(data).exists():
        p.error(f"--data {data}: no such file; expected the CIFAR-10 archive")
    images = load_cifar10(data, image_size=32, train_subset=10, test_subset=n, seed=0).test_x
    for g, db in enumerate(generation_psnr(images, len(GRID_OFFSETS)), start=1):
        print(f"+{g} (grid offset {GRID_OFFSETS[g - 1]}): {db:.2f} dB against +{g - 1}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", action="store_true", help="measure what the store lacks (resumable)")
    p.add_argument("--store", help="JSON-lines record store (default: read the shipped records)")
    p.add_argument("--data", default=os.environ.get("ANB_CIFAR10", str(ROOT.parent / "shared/data/cifar10-jpeg.tar.gz")))
    p.add_argument("--archs", type=Path, default=ARCHS, help="with --run: architectures, one per line "
                                                             "(default: the three reproduce cells)")
    p.add_argument("--epochs", type=int, default=12, help="with --run: digital epochs (default 12)")
    p.add_argument("--seed", type=int, default=0, help="with --run: the training seed (default 0; the same for "
                                                       "every generation)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown (DATASET.md's)")
    p.add_argument("--export", action="store_true", help="copy the store's records into the shipped CSV")
    p.add_argument("--psnr", type=int, metavar="N", help="print the peak signal-to-noise ratio of generations "
                                                          "+1..+4 against their input on N test images and exit")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error(f"--epochs must be at least 1, got {args.epochs}")
    if args.seed < 0:
        p.error(f"--seed must be a non-negative integer, got {args.seed}")
    if args.psnr is not None:
        return print_psnr(p, args.data, args.psnr)
    if args.run:
        if not args.store:
            p.error("--run needs --store")
        if not args.archs.is_file():
            p.error(f"--archs {args.archs}: no such file; expected one architecture per line")
        if not Path(args.data).exists():
            p.error(f"--data {args.data}: no such file; expected the CIFAR-10 archive")
        added = run_ablation(read_arch_file(args.archs), settings(args.epochs), DropStore(args.store), args.data,
                             seed=args.seed, log=lambda s: print(s, flush=True))
        print(f"added {added} records")
        return 0
    if args.export and not args.store:
        p.error("--export needs --store")
    if args.store and not Path(args.store).is_file():
        p.error(f"--store {args.store}: no such file")
    frame = pd.DataFrame(DropStore(args.store).records()) if args.store else shipped_generation_records()
    if frame.empty:
        p.error(f"no records in {args.store or SHIPPED_RECORDS}; measure them with --run --store FILE")
    if args.export:
        frame.drop(columns=["noisy_reads"]).to_csv(SHIPPED_RECORDS, index=False, float_format="%.4f")
        print(f"wrote {len(frame)} records to {SHIPPED_RECORDS}")
    release, _, _ = load("original")
    table = generation_table(frame, release)
    if args.markdown:
        from analognasbench.report.render import markdown_table

        print("\n".join(markdown_table(table.round(2), max_rows=None)[0]))  # DATASET.md's table
    else:
        with pd.option_context("display.width", 200, "display.max_columns", 20):
            print(table.round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
