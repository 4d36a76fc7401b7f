"""Query speed of the benchmark API: loads per second, and queries per second for ``query_metric`` (the
compatibility path) and ``query`` (typed records), on one core.

Usage: ``python benchmarks/query_speed.py [DATASET] [--seconds S]`` (DATASET: a path or embedded name; default
``$ANB_DATASET`` or the embedded default). Targets (issue 15, on the 15,625-row release): first load < 0.3 s in
a fresh process, >= 1,000,000 query_metric/s,
>= 100,000 query/s. For reference it also times a plain dict lookup, what the original release's query_metric did.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from analognasbench.bench import AnalogNASBench


def rate(fn: Callable[[], int], seconds: float) -> float:
    """Calls per second of ``fn`` (which performs and returns a batch count), repeated for about ``seconds``."""
    done, start = 0, time.perf_counter()
    while True:
        done += fn()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", nargs="?", default=None)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()

    start = time.perf_counter()
    bench = AnalogNASBench(args.dataset)
    first = time.perf_counter() - start
    loads = rate(lambda: (AnalogNASBench(args.dataset), 1)[1], args.seconds)
    print(f"dataset: {bench.meta.name} ({bench.meta.source}), {bench.coverage()}")
    print(f"first load (incl. one-off isomorphism tables): {first:.3f} s")
    print(f"loads/s:                 {loads:12,.1f}   ({1 / loads:.3f} s per load)")

    rng = random.Random(0)
    archs = bench.list_available_architectures()
    keys = [rng.choice(archs) for _ in range(10_000)]
    metrics = ["analog_accuracy", "analog_drift_86400", "noisy_drift_3600", "baseline_accuracy"]
    pairs = [(k, metrics[i % len(metrics)]) for i, k in enumerate(keys)]
    qm = bench.query_metric
    q = bench.query

    def batch_query_metric() -> int:
        for a, m in pairs:
            qm(a, m)
        return len(pairs)

    def batch_query() -> int:
        for a in keys:
            q(a)
        return len(keys)

    plain = {a: {m: 1.0 for m in metrics} for a in archs}

    def batch_dict() -> int:
        for a, m in pairs:
            plain.get(a)[m]  # noqa: B018 -- the original release's lookup, for comparison
        return len(pairs)

    start = time.perf_counter()
    batch_query()
    print(f"query/s, first pass:     {len(keys) / (time.perf_counter() - start):12,.0f}   (records built on first use)")
    print(f"query_metric/s:          {rate(batch_query_metric, args.seconds):12,.0f}   (target >= 1,000,000)")
    print(f"query/s:                 {rate(batch_query, args.seconds):12,.0f}   (target >= 100,000)")
    print(f"plain dict lookups/s:    {rate(batch_dict, args.seconds):12,.0f}   (what the original release did)")


if __name__ == "__main__":
    main()
