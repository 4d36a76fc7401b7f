"""Exhaustive search: evaluate every candidate (class, or cell where members were measured separately) once."""

from __future__ import annotations

import numpy as np

from analognasbench.search.base import SearchContext, SearchMethod


class ExhaustiveSearch(SearchMethod):
    """Evaluate every measured, feasible candidate in ascending index order: every isomorphism class in a table
    of class representatives, every cell in one whose isomorphic cells were measured separately (the release).

    The reference of the AnalogNAS-Bench paper's Table 1 (Section 4): with the tabular evaluator it returns the
    global optimum that regret is measured against. The order is fixed, so the result does not depend on the
    seed; ``compare`` gives it a budget of every candidate (``uses_full_space``).
    """

    name = "exhaustive"
    citation = "Exhaustive enumeration of the search space (AnalogNAS-Bench, Section 4, Table 1)"
    uses_full_space = True

    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        for index in ctx.candidate_classes():
            ctx.evaluate(int(index))
