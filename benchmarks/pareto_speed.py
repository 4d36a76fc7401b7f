"""Speed of the project's Pareto front, non-dominated ranks and 2-D hypervolume (``search.pareto``) against Optuna's.

    python benchmarks/pareto_speed.py [--repeat 5]

Prints, per point-set size and number of objectives, the median time of each and the ratio ours / Optuna's
(below 1: ours is faster), measured in this run. Sets are random with ties (values on a grid), the shape of the
fronts ``anb compare`` computes: a run's evaluations (100-1,000 points) and the whole release (15,625 rows).
Optuna's functions are private (``optuna.study._multi_objective``, ``optuna._hypervolume``); the project keeps
its own because Optuna is an optional extra (tests/test_integrations_optuna.py checks that both agree).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from functools import partial

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from analognasbench.integrations.optuna import require_optuna  # noqa: E402
from analognasbench.search.pareto import hypervolume_2d, nondominated_ranks, pareto_mask  # noqa: E402


def _time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=5, help="timings per case (median reported)")
    args = p.parse_args()
    require_optuna("benchmarks/pareto_speed.py")
    rng = np.random.default_rng(0)
    print(f"{'case':<34s} {'ours (ms)':>10s} {'optuna (ms)':>12s} {'ours/optuna':>12s}")
    for k in (2, 3):
        for n in (100, 1000, 15625):
            points = np.round(rng.normal(size=(n, k)), 2)  # ties on a 0.01 grid
            for what, ours, theirs in _cases(points, (True,) + (False,) * (k - 1)):
                a, b = _time(ours, args.repeat), _time(theirs, args.repeat)
                print(f"{what + f' ({k} obj, n={n})':<34s} {a * 1e3:10.2f} {b * 1e3:12.2f} {a / b:12.2f}")


def _cases(points: np.ndarray, maximize: tuple[bool, ...]) -> list[tuple[str, Callable[[], object],
                                                                          Callable[[], object]]]:
    """(what, ours, Optuna's) on one point set; Optuna minimises, so it gets the points as losses."""
    from optuna._hypervolume import compute_hypervolume
    from optuna.study._multi_objective import _fast_non_domination_rank, _is_pareto_front

    loss = points * np.where(maximize, -1.0, 1.0)
    cases = [("front", partial(pareto_mask, points, maximize),
              partial(_is_pareto_front, loss, assume_unique_lexsorted=False))]
    if len(points) <= 1000:  # every rank: one front after another, slow on large sets for both
        cases.append(("ranks", partial(nondominated_ranks, points, maximize), partial(_fast_non_domination_rank, loss)))
    if points.shape[1] == 2:
        ref = loss.max(axis=0) + 0.1
        cases.append(("hypervolume", partial(hypervolume_2d, points, ref * np.where(maximize, -1.0, 1.0), maximize),
                      partial(compute_hypervolume, loss, ref)))
    return cases

if __name__ == "__main__":
    main()
