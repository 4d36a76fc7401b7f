"""Gibbon, network part: predictor-assisted evolutionary search."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analognasbench.search.base import MethodConfig, SearchContext, SearchMethod
from analognasbench.search.operators import per_edge_mutation, repair, uniform_crossover
from analognasbench.search.predictors import MLPConfig, MLPEnsemble
from analognasbench.space import NUM_EDGES, Architecture
from analognasbench.space.features import Encoding, cell_canonical, encode


@dataclass(frozen=True)
class GibbonConfig(MethodConfig):
    population_size: int = 20
    #: Offspring generated per generation and ranked by the predictor.
    n_offspring: int = 60
    #: Of those, how many are actually evaluated.
    n_evaluate: int = 10
    crossover_rate: float = 0.5
    mutation_rate: float = 1.0 / NUM_EDGES
    ensemble_size: int = 3
    mlp: MLPConfig = field(default_factory=lambda: MLPConfig(hidden=(32,), epochs=100, learning_rate=0.01))
    encoding: Encoding = Encoding.BOTH

    def __post_init__(self) -> None:
        for name in ("population_size", "n_offspring", "n_evaluate", "ensemble_size"):
            self._check(name, integer=True, low=1)  # n_evaluate 0: the loop would train and never evaluate
        self._check("crossover_rate", low=0, high=1)
        self._check("mutation_rate", low=0, high=1)
        self._check_type("mlp", MLPConfig, "an MLPConfig")
        self._check_choice("encoding", Encoding)


class Gibbon(SearchMethod):
    """Gibbon (Sun, Wang, Yang, Li, Zhang, Yu, Li, Han & Li, "Gibbon: Efficient Co-Exploration of NN Model and
    Processing-In-Memory Architecture", DATE 2022; extended in IEEE TCAD 2023), network part only, as in the
    AnalogNAS-Bench paper.

    Gibbon runs an evolutionary search whose offspring are screened by a learned performance predictor, so that
    only the most promising are evaluated. Here: each generation breeds ``n_offspring`` unevaluated children
    (tournament selection, uniform crossover, per-edge mutation, repair into the measured feasible set), a small
    MLP ensemble trained online on everything evaluated so far ranks them, the top ``n_evaluate`` are evaluated,
    and the population keeps the fittest. Substitutes, documented: Gibbon's recurrent predictor of accuracy and
    PIM hardware metrics becomes an MLP ensemble on one-hot + path features predicting the objective; the PIM
    architecture parameters and their adaptive priority are dropped.
    """

    name = "gibbon"
    citation = "Sun et al., DATE 2022 / IEEE TCAD 2023"
    Config = GibbonConfig
    paper_evaluator = "tabular"

    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        cfg = self.config
        canon = cell_canonical()
        seen: dict[int, tuple[Architecture, float]] = {}  # canonical -> (arch, value)
        stale = 0
        while len(seen) < cfg.population_size and stale < 10 * cfg.population_size:
            arch = ctx.sample_unevaluated(rng)
            stale += int(canon[arch.index]) in seen
            seen.setdefault(int(canon[arch.index]), (arch, ctx.evaluate(arch)))
        population = list(seen.values())
        while True:
            ctx.next_round()
            keys = list(seen)
            ensemble = MLPEnsemble(cfg.ensemble_size, cfg.mlp, rng)
            ensemble.fit(encode(keys, cfg.encoding), np.array([seen[k][1] for k in keys]))
            children: dict[int, Architecture] = {}
            for _ in range(cfg.n_offspring * 3):
                if len(children) >= cfg.n_offspring:
                    break
                a, b = (_tournament(population, rng) for _ in range(2))
                child = uniform_crossover(a, b, rng) if rng.random() < cfg.crossover_rate else a
                child = repair(ctx, per_edge_mutation(child, cfg.mutation_rate, rng), rng)
                if not ctx.is_evaluated(child):
                    children.setdefault(int(canon[child.index]), child)
            if not children:
                child = ctx.sample_unevaluated(rng)
                children[int(canon[child.index])] = child
            cells = list(children.values())
            mean, _ = ensemble.predict(encode([c.index for c in cells], cfg.encoding))
            for j in np.argsort(-mean)[: cfg.n_evaluate]:
                child = cells[int(j)]
                value = ctx.evaluate(child)
                if value is not None:
                    seen.setdefault(int(canon[child.index]), (child, value))
                    population.append((child, value))
            population = sorted(population, key=lambda item: -item[1])[: cfg.population_size]


def _tournament(population: list[tuple[Architecture, float]], rng: np.random.Generator, k: int = 2) -> Architecture:
    picks = rng.choice(len(population), size=min(k, len(population)), replace=False)
    return max((population[int(i)] for i in picks), key=lambda item: item[1])[0]
