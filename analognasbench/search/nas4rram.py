"""NAS4RRAM: evolutionary search evaluating every candidate under device noise."""

from __future__ import annotations

import numpy as np

from analognasbench.search.base import SearchContext, SearchMethod
from analognasbench.search.regularized_evolution import EvolutionConfig, aging_evolution


class NAS4RRAM(SearchMethod):
    """NAS4RRAM (Yuan, Tang, Zhang, Qu, Wang & Yang, "NAS4RRAM: neural network architecture search for inference
    on RRAM-based accelerators", Science China Information Sciences 64, 2021).

    NAS4RRAM runs an evolutionary search in which each sampled network is evaluated with simulated RRAM device
    variation, so the search sees noisy accuracies. Here the evolution is aging evolution (tournament + one-edge
    mutation), and each class's fitness is *one* noisy observation: one of the dataset's stored repetitions (one
    programming of the chip), else mean + std * N(0, 1). The search never sees the mean; the final architecture is
    the best by its noisy observation and is reported with measured values. Adapted: NAS4RRAM's own space (layer
    widths/kernels of a ResNet-like net) becomes the NAS-Bench-201 cell; the RRAM model becomes this dataset's PCM
    repetitions. Hardware co-design is left out, as in the AnalogNAS-Bench paper.
    """

    name = "nas4rram"
    citation = "Yuan et al., Sci. China Inf. Sci. 2021"
    Config = EvolutionConfig
    paper_evaluator = "tabular"

    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        aging_evolution(ctx, rng, self.config, noisy=True)
