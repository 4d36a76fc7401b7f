"""Optuna's TPE sampler as a search method."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analognasbench.search.base import MethodConfig
from analognasbench.search.optuna_base import OptunaSearch


@dataclass(frozen=True)
class TPEConfig(MethodConfig):
    #: Random trials before TPE models the observations (Optuna's default).
    n_startup_trials: int = 10
    #: Candidates drawn from the good-trial model per suggestion, the best by expected improvement kept (Optuna's
    #: default).
    n_ei_candidates: int = 24

    def __post_init__(self) -> None:
        self._check("n_startup_trials", integer=True, low=0)
        self._check("n_ei_candidates", integer=True, low=1)


class OptunaTPE(OptunaSearch):
    """Tree-structured Parzen Estimator through Optuna's ``TPESampler`` (Bergstra, Bardenet, Bengio & Kegl,
    "Algorithms for Hyper-Parameter Optimization", NeurIPS 2011; Watanabe, "Tree-Structured Parzen Estimator:
    Understanding Its Algorithm Components", 2023; Akiba et al., "Optuna", KDD 2019).

    The six edges are categorical parameters; after ``n_startup_trials`` random trials each suggestion maximises
    the ratio of the good-trial to the bad-trial Parzen density (multivariate over the edges, Optuna's default
    for one objective). Under several objectives it is Optuna's MOTPE (good trials by non-domination rank and
    hypervolume contribution). Not in the AnalogNAS-Bench paper: it is here so a study started from Optuna can be
    compared with the paper's methods under the same budget and seeds (see ``search.optuna_base``).
    """

    name = "optuna_tpe"
    citation = "Bergstra et al., NeurIPS 2011; Watanabe 2023 (Optuna TPESampler, Akiba et al., KDD 2019)"
    Config = TPEConfig

    def sampler(self, optuna: Any, seed: int) -> Any:
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=self.config.n_startup_trials,
                                          n_ei_candidates=self.config.n_ei_candidates)
