"""Wall time of 100- and 1,000-evaluation tabular runs of every search method, and of a full comparison.

    python benchmarks/search_speed.py [--dataset PATH] [--seeds 3] [--compare-seeds 10]

Without --dataset it uses the synthetic 6,466-class landscape (analognasbench.search.synthetic), since the
embedded dataset may not be shipped yet. Issue targets: random search and evolution well under 1 s for 1,000
evaluations; the full ten-seed comparison under 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: threaded BLAS only adds overhead

import numpy as np  # noqa: E402

from analognasbench.search import Budget, TabularEvaluator, get_method  # noqa: E402
from analognasbench.search.compare import CompareConfig, default_methods, run_comparison  # noqa: E402
from analognasbench.search.synthetic import synthetic_frame  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default=None, help="benchmark dataset (default: synthetic landscape)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per timing (median reported)")
    p.add_argument("--compare-seeds", type=int, default=10, help="seeds of the full comparison (0 skips it)")
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args()
    if args.dataset:
        from analognasbench.bench import AnalogNASBench

        df = AnalogNASBench(args.dataset).df
    else:
        df = synthetic_frame(seed=0, rugged=0.3)
    evaluator = TabularEvaluator(df)
    print(f"dataset: {args.dataset or 'synthetic'} ({len(df)} classes), tabular evaluator")
    print(f"{'method':<24s} {'100 evals (s)':>14s} {'1000 evals (s)':>15s}")
    for name in default_methods():
        cls = get_method(name)
        times = []
        for budget in (100, 1000):
            runs = [cls().run(evaluator, budget=Budget(budget), seed=s).wall_time_s for s in range(args.seeds)]
            times.append(float(np.median(runs)))
        print(f"{name:<24s} {times[0]:14.3f} {times[1]:15.3f}")
    if args.compare_seeds:
        start = time.perf_counter()
        run_comparison(df, CompareConfig(seeds=args.compare_seeds, budget=100, workers=args.workers))
        print(f"full comparison, {args.compare_seeds} seeds x {len(default_methods())} methods, budget 100, "
              f"{args.workers} worker(s): {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
