"""BANANAS: Bayesian optimisation with neural architectures (ensemble predictors on path encodings)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analognasbench.search.base import MethodConfig, SearchContext, SearchMethod
from analognasbench.search.predictors import MLPConfig, MLPEnsemble
from analognasbench.space import from_index
from analognasbench.space.features import Encoding, cell_canonical, encode


@dataclass(frozen=True)
class BananasConfig(MethodConfig):
    n_init: int = 10
    ensemble_size: int = 5
    mlp: MLPConfig = field(default_factory=lambda: MLPConfig(hidden=(32, 32), epochs=100, learning_rate=0.01))
    #: Candidates generated per iteration by mutating the best architectures.
    n_candidates: int = 100
    #: How many of the best evaluated architectures are mutated.
    n_parents: int = 10
    #: Architectures evaluated per iteration (the top by the acquisition).
    batch_size: int = 10
    encoding: Encoding = Encoding.PATH

    def __post_init__(self) -> None:
        for name in ("n_init", "ensemble_size", "n_candidates", "n_parents", "batch_size"):
            self._check(name, integer=True, low=1)
        self._check_type("mlp", MLPConfig, "an MLPConfig")
        self._check_choice("encoding", Encoding)


class Bananas(SearchMethod):
    """BANANAS (White, Neiswanger & Savani, "BANANAS: Bayesian Optimization with Neural Architectures for Neural
    Architecture Search", AAAI 2021).

    As in the paper: an ensemble of feed-forward networks trained on the path encoding predicts the objective;
    candidates come from mutating the best evaluated architectures (mutation-based acquisition optimisation);
    the acquisition is independent Thompson sampling (one draw per candidate from a Gaussian with the ensemble's
    mean and spread); the top ``batch_size`` are evaluated each iteration. Adapted: smaller networks (2 x 32 units,
    100 Adam epochs, squared loss) to keep ten-seed comparisons fast; the path encoding is taken on the class
    representative.
    """

    name = "bananas"
    citation = "White et al., AAAI 2021"
    Config = BananasConfig
    paper_evaluator = "tabular"

    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        cfg = self.config
        canon = cell_canonical()
        seen: dict[int, float] = {}  # canonical index -> observed value
        cell_of: dict[int, int] = {}
        while len(seen) < cfg.n_init:
            arch = ctx.sample_unevaluated(rng)
            value = ctx.evaluate(arch)
            seen.setdefault(int(canon[arch.index]), value)
            cell_of.setdefault(int(canon[arch.index]), arch.index)
        while True:
            ctx.next_round()
            keys = list(seen)
            ensemble = MLPEnsemble(cfg.ensemble_size, cfg.mlp, rng)
            ensemble.fit(encode(keys, cfg.encoding), np.array([seen[k] for k in keys]))
            parents = sorted(keys, key=lambda k: -seen[k])[: cfg.n_parents]
            pool: dict[int, int] = {}
            for j in range(cfg.n_candidates):
                child = ctx.mutate(from_index(cell_of[parents[j % len(parents)]]), rng)
                if not ctx.is_evaluated(child):
                    pool.setdefault(int(canon[child.index]), child.index)
            if not pool:
                child = ctx.sample_unevaluated(rng)
                pool[int(canon[child.index])] = child.index
            cells = list(pool.values())
            mean, std = ensemble.predict(encode(cells, cfg.encoding))
            theta = rng.normal(mean, std)  # independent Thompson sampling
            for j in np.argsort(-theta)[: cfg.batch_size]:
                arch = from_index(cells[int(j)])
                value = ctx.evaluate(arch)
                if value is not None:
                    seen.setdefault(int(canon[arch.index]), value)
                    cell_of.setdefault(int(canon[arch.index]), arch.index)
