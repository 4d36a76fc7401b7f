"""Variation operators shared by the evolutionary methods, all confined to candidate cells of the space."""

from __future__ import annotations

import numpy as np

from analognasbench.search.base import SearchContext
from analognasbench.space import NUM_EDGES, NUM_OPS, Architecture


def uniform_crossover(a: Architecture, b: Architecture, rng: np.random.Generator) -> Architecture:
    """Each edge's op taken from either parent with probability 1/2."""
    take = rng.random(NUM_EDGES) < 0.5
    return Architecture(x if t else y for x, y, t in zip(a, b, take))


def per_edge_mutation(a: Architecture, rate: float, rng: np.random.Generator) -> Architecture:
    """Each edge independently, with probability ``rate``, gets a different op chosen uniformly."""
    ops = list(a)
    for e in range(NUM_EDGES):
        if rng.random() < rate:
            ops[e] = int((ops[e] + rng.integers(1, NUM_OPS)) % NUM_OPS)
    return Architecture(ops)


def repair(ctx: SearchContext, arch: Architecture, rng: np.random.Generator) -> Architecture:
    """``arch`` itself when it is a candidate, else a candidate neighbour (else a random candidate): operators
    may produce unmeasured or over-budget cells, and this keeps proposals inside the searchable set."""
    if ctx.is_candidate(arch):
        return arch
    return ctx.mutate(arch, rng, prefer_new=False)
