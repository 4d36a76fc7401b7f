"""Multi-objective genetic search for analog IMC hardware (NSGA-II on accuracy vs. parameters)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analognasbench.search.base import MethodConfig, SearchContext, SearchMethod
from analognasbench.search.operators import per_edge_mutation, repair, uniform_crossover
from analognasbench.space import NUM_EDGES, Architecture


@dataclass(frozen=True)
class GAConfig(MethodConfig):
    population_size: int = 20
    crossover_rate: float = 0.9
    #: Per-edge mutation probability.
    mutation_rate: float = 1.0 / NUM_EDGES

    def __post_init__(self) -> None:
        self._check("population_size", integer=True, low=1)
        self._check("crossover_rate", low=0, high=1)
        self._check("mutation_rate", low=0, high=1)


def non_dominated_fronts(points: np.ndarray) -> list[list[int]]:
    """Fast non-dominated sorting (Deb et al. 2002) of rows of ``points``, every column maximised."""
    n = len(points)
    ge = (points[:, None, :] >= points[None, :, :]).all(axis=2)
    gt = (points[:, None, :] > points[None, :, :]).any(axis=2)
    dominates = ge & gt  # dominates[i, j]: i dominates j
    counts = dominates.sum(axis=0)
    fronts, current = [], [i for i in range(n) if counts[i] == 0]
    while current:
        fronts.append(current)
        nxt = []
        for i in current:
            for j in np.flatnonzero(dominates[i]):
                counts[j] -= 1
                if counts[j] == 0:
                    nxt.append(int(j))
        current = nxt
    return fronts


def crowding_distance(points: np.ndarray) -> np.ndarray:
    n, m = points.shape
    dist = np.zeros(n)
    for k in range(m):
        order = np.argsort(points[:, k])
        span = points[order[-1], k] - points[order[0], k]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0 and n > 2:
            dist[order[1:-1]] += (points[order[2:], k] - points[order[:-2], k]) / span
    return dist


class GeneticIMC(SearchMethod):
    """Genetic search for analog IMC AI hardware (Krestinskaya, Salama & James, "Automating Analogue AI Chip Design
    with Genetic Search", Advanced Intelligent Systems 2(8), 2020).

    The paper evolves network and crossbar parameters together with a multi-objective genetic algorithm that
    trades accuracy against hardware cost. Network part only (as in the AnalogNAS-Bench paper): NSGA-II
    (Deb et al. 2002) on two objectives, maximise the observed objective and minimise the parameter count
    (the closest hardware cost the benchmark holds: crossbar area grows with the weights to store). Binary
    tournaments on (rank, crowding), uniform crossover, per-edge mutation, repair into the measured feasible set.
    The final architecture is the best-objective point of the Pareto front of everything evaluated (the incumbent;
    NSGA-II never drops it, its crowding distance is infinite). Missing parameter counts count as 0.
    """

    name = "ga_imc"
    citation = "Krestinskaya et al., Adv. Intell. Syst. 2020; Deb et al., IEEE TEVC 2002"
    Config = GAConfig

    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        cfg = self.config
        pop: dict[int, tuple[Architecture, float, float]] = {}  # row -> (arch, value, -params)
        rows = ctx.evaluator.row_of_cells()
        stale = 0
        while len(pop) < cfg.population_size and stale < 10 * cfg.population_size:
            arch = ctx.sample_unevaluated(rng)
            stale += int(rows[arch.index]) in pop
            pop.setdefault(int(rows[arch.index]), (arch, ctx.evaluate(arch), -_params(ctx, arch)))
        while True:
            ctx.next_round()
            members = list(pop.values())
            pts = np.array([[v, p] for _, v, p in members])
            rank, crowd = _rank_and_crowding(pts)

            def tournament(members: list = members, rank: np.ndarray = rank, crowd: np.ndarray = crowd) -> Architecture:
                i, j = rng.integers(len(members), size=2)
                better = i if (rank[i], -crowd[i]) < (rank[j], -crowd[j]) else j
                return members[int(better)][0]

            offspring: dict[int, tuple[Architecture, float, float]] = {}
            for _ in range(cfg.population_size):
                a, b = tournament(), tournament()
                child = uniform_crossover(a, b, rng) if rng.random() < cfg.crossover_rate else a
                child = repair(ctx, per_edge_mutation(child, cfg.mutation_rate, rng), rng)
                value = ctx.evaluate(child)
                if value is not None:
                    offspring.setdefault(int(rows[child.index]), (child, value, -_params(ctx, child)))
            union = {**pop, **offspring}
            keys = list(union)
            pts = np.array([[union[k][1], union[k][2]] for k in keys])
            survivors: list[int] = []
            for front in non_dominated_fronts(pts):
                if len(survivors) + len(front) <= cfg.population_size:
                    survivors += front
                else:
                    crowd = crowding_distance(pts[front])
                    survivors += [front[int(i)] for i in np.argsort(-crowd)[: cfg.population_size - len(survivors)]]
                    break
            pop = {keys[i]: union[keys[i]] for i in survivors}


def _rank_and_crowding(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rank = np.zeros(len(pts), dtype=int)
    crowd = np.zeros(len(pts))
    for r, front in enumerate(non_dominated_fronts(pts)):
        rank[front] = r
        crowd[front] = crowding_distance(pts[front])
    return rank, crowd


def _params(ctx: SearchContext, arch: Architecture) -> float:
    p = ctx.params(arch)
    return 0.0 if np.isnan(p) else p
