"""Optuna's NSGA-II sampler as a search method."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analognasbench.search.base import MethodConfig
from analognasbench.search.optuna_base import OptunaSearch


@dataclass(frozen=True)
class NSGA2Config(MethodConfig):
    #: Trials per generation. Optuna's default is 50; 20 here, as the project's regularized evolution, so that a
    #: budget of 100 evaluations spans several generations rather than two.
    population_size: int = 20
    #: Probability that a child is made by crossover of two parents (Optuna's default).
    crossover_prob: float = 0.9
    #: Per-parameter mutation probability; None: Optuna's default, 1 / number of parameters.
    mutation_prob: float | None = None

    def __post_init__(self) -> None:
        self._check("population_size", integer=True, low=2)  # Optuna's NSGAIISampler needs at least 2
        self._check("crossover_prob", low=0, high=1)
        self._check("mutation_prob", low=0, high=1, optional=True)


class OptunaNSGA2(OptunaSearch):
    """NSGA-II through Optuna's ``NSGAIISampler`` (Deb, Pratap, Agarwal & Meyarivan, "A Fast and Elitist
    Multiobjective Genetic Algorithm: NSGA-II", IEEE Trans. Evol. Comput. 6(2), 2002; Akiba et al., "Optuna",
    KDD 2019).

    Generations of ``population_size`` trials: parents are chosen by binary tournament on Pareto dominance,
    children made by uniform crossover of the edges and per-edge mutation to a random op, and the next parents
    are the elite of parents and children by non-domination rank, then crowding distance. Meant for several
    objectives (``--objectives``); with one it is an elitist genetic algorithm on that objective. Not in the
    AnalogNAS-Bench paper (see ``search.optuna_base`` for how trials are counted).

    Duplicates are eliminated, as pymoo's NSGA-II does by default: a child whose class was already evaluated is
    free and is told as a failed trial, so it never enters a population and the sampler draws another. Optuna's
    sampler alone keeps duplicates. Told their cached values, copies of the elite filled the populations: on the
    synthetic landscape, 1,000 evaluations cost 30,000 free repeats and 4 minutes, against 5,000-8,000 repeats
    and 10-20 s with elimination. At a budget of 100 on the release, regret over 10 seeds was 1.15 ± 0.37 with
    elimination and 1.04 ± 0.47 without, within the spread.
    """

    name = "optuna_nsga2"
    citation = "Deb et al., IEEE TEVC 2002 (Optuna NSGAIISampler, Akiba et al., KDD 2019)"
    Config = NSGA2Config
    tell_repeats = False

    def sampler(self, optuna: Any, seed: int) -> Any:
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=self.config.population_size,
                                             crossover_prob=self.config.crossover_prob,
                                             mutation_prob=self.config.mutation_prob)
