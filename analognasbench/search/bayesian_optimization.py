"""Bayesian optimisation with a Gaussian process on cells and expected improvement."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analognasbench.search.base import MethodConfig, SearchContext, SearchMethod
from analognasbench.search.multiobjective import MultiObjectiveContext
from analognasbench.search.predictors import HammingGP, expected_improvement
from analognasbench.space import NUM_EDGES, from_index
from analognasbench.space.features import Encoding, cell_canonical, encode


@dataclass(frozen=True)
class BOConfig(MethodConfig):
    #: Random architectures evaluated before the first GP fit.
    n_init: int = 10
    #: Random candidates scored by EI each step (plus every neighbour of the best few).
    n_random_candidates: int = 300
    #: The best evaluated architectures whose neighbours join the candidate pool.
    n_local_parents: int = 5
    #: GP training set cap (the best half and the most recent half), to keep each step O(max_train^3) small.
    max_train: int = 256
    #: EI exploration margin, in objective units.
    xi: float = 0.0

    def __post_init__(self) -> None:
        self._check("n_init", integer=True, low=1)  # the first GP needs a point, and EI a best value
        self._check("n_random_candidates", integer=True, low=0)  # 0: neighbours of the best only
        self._check("n_local_parents", integer=True, low=0)  # 0: random candidates only
        self._check("max_train", integer=True, low=1)
        self._check("xi", low=0)


class BayesianOptimization(SearchMethod):
    """GP Bayesian optimisation with expected improvement (Jones, Schonlau & Welch, "Efficient Global Optimization
    of Expensive Black-Box Functions", J. Global Optim. 1998; Snoek, Larochelle & Adams, "Practical Bayesian
    Optimization of Machine Learning Algorithms", NeurIPS 2012).

    Architecture kernel: exponential Hamming kernel on the one-hot encoding of the class representative
    (isomorphic cells share features), hyper-parameters by maximum marginal likelihood on a grid, refitted every
    step. EI is maximised over a pool of random unevaluated candidates plus all neighbours of the best few
    (a standard discrete acquisition optimiser). Adapted: the training set is capped at ``max_train`` points.
    Under a multi-objective (``search.multiobjective``) it is ParEGO (Knowles, "ParEGO: A Hybrid Algorithm With
    On-Line Landscape Approximation for Expensive Multiobjective Optimization Problems", IEEE TEC 2006): each step
    the GP models the augmented Chebyshev scalarisation of the normalised objectives under a new random weight
    vector.
    """

    name = "bayesian_optimization"
    citation = "Jones et al., J. Global Optim. 1998; Snoek et al., NeurIPS 2012"
    Config = BOConfig

    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        cfg = self.config
        canon = cell_canonical()
        seen: list[tuple[int, float]] = []  # (cell index, observed value), new classes only
        while len(seen) < cfg.n_init:
            arch = ctx.sample_unevaluated(rng)
            fresh = not ctx.is_evaluated(arch)
            value = ctx.evaluate(arch)
            if fresh:
                seen.append((arch.index, value))
        gp = HammingGP(NUM_EDGES)
        while True:
            ctx.next_round()
            scored = _scored(ctx, seen, rng)
            train = _training_subset(scored, cfg.max_train)
            x = encode([i for i, _ in train], Encoding.ONEHOT)
            gp.fit(x, np.array([v for _, v in train]))
            best = sorted(scored, key=lambda t: -t[1])[: cfg.n_local_parents]
            pool = np.concatenate([ctx.sample_indices(rng, cfg.n_random_candidates)]
                                  + [ctx.neighbour_indices(i) for i, _ in best])
            pool = ctx.unevaluated(pool)
            _, first = np.unique(canon[pool], return_index=True)
            pool = pool[np.sort(first)]
            if not pool.size:
                arch = ctx.sample_unevaluated(rng)
            else:
                mean, std = gp.predict(encode(pool, Encoding.ONEHOT))
                ei = expected_improvement(mean, std, max(v for _, v in scored), cfg.xi)
                arch = from_index(int(pool[int(np.argmax(ei))]))
            fresh = not ctx.is_evaluated(arch)
            value = ctx.evaluate(arch)
            if fresh and value is not None:
                seen.append((arch.index, value))


def _scored(ctx: SearchContext, seen: list[tuple[int, float]], rng: np.random.Generator) -> list[tuple[int, float]]:
    """The values the GP models: the observed objective, or under several objectives ParEGO's scalarisation with
    a fresh random weight vector (Knowles, IEEE TEC 2006)."""
    if not isinstance(ctx, MultiObjectiveContext):
        return seen
    values = ctx.parego_values([i for i, _ in seen], rng)
    return [(i, float(v)) for (i, _), v in zip(seen, values)]


def _training_subset(seen: list[tuple[int, float]], cap: int) -> list[tuple[int, float]]:
    if len(seen) <= cap:
        return seen
    order = sorted(range(len(seen)), key=lambda j: -seen[j][1])
    keep = set(order[: cap // 2]) | set(range(len(seen) - (cap - cap // 2), len(seen)))
    return [seen[j] for j in sorted(keep)]
