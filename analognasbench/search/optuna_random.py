"""Optuna's random sampler as a search method."""

from __future__ import annotations

from typing import Any

from analognasbench.search.optuna_base import OptunaSearch


class OptunaRandom(OptunaSearch):
    """Random search through Optuna's ``RandomSampler`` (Bergstra & Bengio, "Random Search for Hyper-Parameter
    Optimization", JMLR 13, 2012; Akiba et al., "Optuna", KDD 2019).

    Each edge is drawn uniformly from the five ops, so it samples the raw space of 15,625 cells: unlike the
    project's ``random``, which draws only among measured, feasible cells, its unmeasured or over-cap proposals are
    free failed trials (on the release every cell is measured, and the two differ only in their random streams).
    The baseline an Optuna user compares a sampler against; see ``search.optuna_base`` for how trials are counted.
    """

    name = "optuna_random"
    citation = "Bergstra & Bengio, JMLR 2012 (Optuna RandomSampler, Akiba et al., KDD 2019)"

    def sampler(self, optuna: Any, seed: int) -> Any:
        return optuna.samplers.RandomSampler(seed=seed)
