"""Random search."""

from __future__ import annotations

import numpy as np

from analognasbench.search.base import SearchContext, SearchMethod


class RandomSearch(SearchMethod):
    """Random search (Bergstra & Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 13, 2012; as a NAS
    baseline: Li & Talwalkar, "Random Search and Reproducibility for NAS", UAI 2019).

    Draws cells uniformly from the space conditioned on being measured and within the constraints (uniform over
    cells, so a class is drawn in proportion to its number of isomorphic cells, as sampling the raw space would).
    Re-drawn classes are free repeats.
    """

    name = "random"
    citation = "Bergstra & Bengio, JMLR 2012; Li & Talwalkar, UAI 2019"

    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        while True:
            ctx.evaluate(ctx.sample(rng))
