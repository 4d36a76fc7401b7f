"""NACIM, network part: a reinforcement-learning controller rewarded with accuracy under device variation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analognasbench.search.base import MethodConfig, SearchContext, SearchMethod
from analognasbench.space import NUM_EDGES, NUM_OPS, Architecture


@dataclass(frozen=True)
class NACIMConfig(MethodConfig):
    learning_rate: float = 0.2
    #: Architectures sampled per policy update.
    batch_size: int = 5
    #: Decay of the exponential moving-average reward baseline.
    baseline_decay: float = 0.9
    #: Probability of replacing an edge's sampled op by a uniform one (keeps exploring after convergence).
    epsilon: float = 0.05

    def __post_init__(self) -> None:
        self._check("learning_rate", low=0, low_open=True)
        self._check("batch_size", integer=True, low=1)  # 0: no architecture sampled, no evaluation, ever
        self._check("baseline_decay", low=0, high=1)
        self._check("epsilon", low=0, high=1)


class NACIM(SearchMethod):
    """NACIM (Jiang, Lou, Yan, Hu & Shi, "Device-Circuit-Architecture Co-Exploration for Computing-in-Memory Neural
    Accelerators", IEEE Transactions on Computers 70(4), 2021), network part only, as in the AnalogNAS-Bench paper.

    NACIM's explorer is a recurrent (LSTM) controller trained with REINFORCE; its reward is the accuracy of the
    sampled network under the device's variation (noise-injection training and Monte-Carlo evaluation), with the
    hardware choices (device, ADC, crossbar) and hardware-cost penalties dropped here. Substitute, documented:
    for a 6-decision cell the LSTM is replaced by independent softmax policies per edge (the controller's
    factorised form; the LSTM only adds conditioning between the six choices), trained with REINFORCE
    (Williams 1992) using a moving-average baseline and advantage normalisation. The reward is one noisy observation
    per class (a stored chip repetition, else mean + std * N(0, 1)), divided by 100. Sampled cells that the
    dataset does not hold, or that break the parameter cap, cost no budget and give no gradient.
    """

    name = "nacim"
    citation = "Jiang et al., IEEE Trans. Comput. 2021; Williams, Mach. Learn. 1992"
    Config = NACIMConfig
    paper_evaluator = "tabular"

    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        cfg = self.config
        logits = np.zeros((NUM_EDGES, NUM_OPS))
        baseline, spread = None, 0.05
        while True:
            ctx.next_round()
            grads, rewards = [], []
            while len(rewards) < cfg.batch_size:
                probs = np.exp(logits - logits.max(axis=1, keepdims=True))
                probs /= probs.sum(axis=1, keepdims=True)
                u = rng.random(NUM_EDGES)[:, None]
                ops = np.minimum((np.cumsum(probs, axis=1) < u).sum(axis=1), NUM_OPS - 1)  # inverse-CDF draw
                explore = rng.random(NUM_EDGES) < cfg.epsilon
                ops[explore] = rng.integers(NUM_OPS, size=int(explore.sum()))
                value = ctx.evaluate_noisy(Architecture(ops.tolist()))
                if value is None:
                    continue
                onehot = np.eye(NUM_OPS)[ops]
                grads.append(onehot - probs)  # gradient of log pi(ops) w.r.t. the logits
                rewards.append(value / 100.0)
            r = np.array(rewards)
            if baseline is None:
                baseline = float(r.mean())
            adv = (r - baseline) / max(spread, 1e-3)
            logits += cfg.learning_rate * np.mean([a * g for a, g in zip(adv, grads)], axis=0)
            spread = cfg.baseline_decay * spread + (1 - cfg.baseline_decay) * float(np.abs(r - baseline).mean())
            baseline = cfg.baseline_decay * baseline + (1 - cfg.baseline_decay) * float(r.mean())
