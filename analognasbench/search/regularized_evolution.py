"""Regularized (aging) evolution."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from analognasbench.search.base import MethodConfig, SearchContext, SearchMethod
from analognasbench.search.multiobjective import MultiObjectiveContext
from analognasbench.space import Architecture


@dataclass(frozen=True)
class EvolutionConfig(MethodConfig):
    #: Architectures alive at once (the oldest dies when a child is born).
    population_size: int = 20
    #: Tournament size: the best of this many random members is the parent.
    sample_size: int = 5

    def __post_init__(self) -> None:
        self._check("population_size", integer=True, low=1)
        self._check("sample_size", integer=True, low=1)


def aging_evolution(ctx: SearchContext, rng: np.random.Generator, config: EvolutionConfig, noisy: bool) -> None:
    """The loop of Real et al.: random population, then tournament -> one-edge mutation -> add child, kill oldest."""
    evaluate = ctx.evaluate_noisy if noisy else ctx.evaluate
    population: deque[tuple[Architecture, float]] = deque()
    while len(population) < config.population_size:
        arch = ctx.sample(rng)
        population.append((arch, evaluate(arch)))
    while True:
        ctx.next_round()
        picks = rng.choice(len(population), size=min(config.sample_size, len(population)), replace=False)
        if isinstance(ctx, MultiObjectiveContext):  # several objectives: the best non-dominated rank wins
            parent = ctx.best_of([population[int(i)][0] for i in picks], rng)
        else:
            parent = max((population[int(i)] for i in picks), key=lambda item: item[1])[0]
        child = ctx.mutate(parent, rng)
        population.append((child, evaluate(child)))
        population.popleft()


class RegularizedEvolution(SearchMethod):
    """Regularized evolution (Real, Aggarwal, Huang & Le, "Regularized Evolution for Image Classifier Architecture
    Search", AAAI 2019).

    The paper's Algorithm 1: random initial population, tournament selection, one single-edge mutation, aging
    removal of the oldest. Adapted to a table: the mutation is drawn uniformly among the parent's neighbours that
    are measured, feasible and not yet evaluated (a repeat would cost no budget and teach nothing; when no such
    neighbour exists the child is a random unevaluated candidate). A repeated class re-enters the population with
    its cached value, free. Under a multi-objective (``search.multiobjective``) the tournament is won by a
    member of the best non-dominated rank among the sampled ones (ties: uniformly).
    """

    name = "regularized_evolution"
    citation = "Real et al., AAAI 2019"
    Config = EvolutionConfig

    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        aging_evolution(ctx, rng, self.config, noisy=False)
