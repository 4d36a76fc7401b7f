"""Speed of the hardware-cost table: all 15,625 cells (target, issue 17: under 10 s on this CPU).

Prints the time of a cold build (the fixed part's module walk plus the vectorised per-edge sums, cache cleared
first), of a cached lookup, and of the per-network module walk for a few cells, extrapolated to all 15,625 --
what the table would cost without the per-edge decomposition.

    python benchmarks/cost_speed.py [--chip ibm_hermes_pcm_14nm] [--C 16] [--N 5] [--input-size 32] [--walk 50]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from analognasbench import hardware
from analognasbench.hardware import table as table_module
from analognasbench.space import NUM_ARCHITECTURES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chip", default=hardware.DEFAULT_CHIP.value)
    parser.add_argument("--C", type=int, default=16)
    parser.add_argument("--N", type=int, default=5)
    parser.add_argument("--input-size", type=int, default=32)
    parser.add_argument("--walk", type=int, default=50, help="cells costed by the per-network walk (default 50)")
    args = parser.parse_args()
    net = {"C": args.C, "N": args.N, "input_size": args.input_size}
    hardware.network_cost(0, args.chip, **net)  # imports and first-call costs out of the way
    table_module._full_table.cache_clear()
    start = time.perf_counter()
    table = hardware.cost_table(None, args.chip, **net)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    hardware.cost_table(None, args.chip, **net)
    warm = time.perf_counter() - start
    cells = np.random.default_rng(0).choice(NUM_ARCHITECTURES, size=args.walk, replace=False)
    start = time.perf_counter()
    for i in cells:
        hardware.network_cost(int(i), args.chip, **net)
    walk = (time.perf_counter() - start) / args.walk
    print(f"chip {args.chip}, C={args.C} N={args.N} {args.input_size}x{args.input_size}: {len(table):,} cells x "
          f"{len(hardware.COST_COLUMNS)} hw_* columns")
    print(f"  full table, cold          {cold:8.3f} s   (target < 10 s: {'met' if cold < 10 else 'MISSED'})")
    print(f"  full table, cached        {warm:8.3f} s")
    print(f"  per-network walk          {walk * 1e3:8.2f} ms per cell -> {walk * NUM_ARCHITECTURES:.1f} s for all "
          f"(the table is {walk * NUM_ARCHITECTURES / cold:.0f}x faster)")


if __name__ == "__main__":
    main()
