"""Small numpy predictors used inside search methods: an MLP ensemble and a Gaussian process.

Both are deliberately tiny (a few hundred training points, tens of hidden units) so that a ten-seed comparison
of every method runs in minutes on two cores, and both draw their initialisation from a given Generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.stats import norm

from analognasbench.search.base import check_number, check_sequence


@dataclass(frozen=True)
class MLPConfig:
    """Feed-forward regressor trained full-batch with Adam on standardised targets (mean squared error)."""

    hidden: tuple[int, ...] = (32, 32)
    epochs: int = 200
    learning_rate: float = 0.01
    weight_decay: float = 1e-4

    def __post_init__(self) -> None:
        """Checked with the search layer's one helper, so a method config holding a bad MLP fails when made."""
        hidden = check_sequence("MLPConfig.hidden", self.hidden, "(32, 32)")
        object.__setattr__(self, "hidden", tuple(check_number(f"MLPConfig.hidden[{i}]", h, integer=True, low=1)
                                                 for i, h in enumerate(hidden)))
        object.__setattr__(self, "epochs", check_number("MLPConfig.epochs", self.epochs, integer=True, low=1))
        object.__setattr__(self, "learning_rate", check_number("MLPConfig.learning_rate", self.learning_rate,
                                                               low=0, low_open=True))
        object.__setattr__(self, "weight_decay", check_number("MLPConfig.weight_decay", self.weight_decay, low=0))


class MLPEnsemble:
    """``size`` independently initialised ReLU MLPs trained side by side (stacked weights, one numpy pass);
    the spread of their predictions is the uncertainty, as in BANANAS."""

    def __init__(self, size: int, config: MLPConfig, rng: np.random.Generator):
        if size < 1:
            raise ValueError(f"ensemble size must be >= 1; got {size!r}")
        self.size, self.config, self.rng = size, config, rng

    def _forward(self, x: np.ndarray) -> list[np.ndarray]:
        acts = [np.broadcast_to(x, (self.size, *x.shape))]
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            z = acts[-1] @ w + b[:, None, :]
            acts.append(np.maximum(z, 0.0) if i < len(self.w) - 1 else z)
        return acts

    def fit(self, x: np.ndarray, y: np.ndarray) -> MLPEnsemble:
        """Full-batch Adam on the mean squared error of standardised targets."""
        x = np.asarray(x, dtype=np.float64)
        self.mu, self.sd = float(np.mean(y)), float(np.std(y)) or 1.0
        z = ((np.asarray(y, dtype=np.float64) - self.mu) / self.sd).reshape(1, -1, 1)
        sizes = (x.shape[1], *self.config.hidden, 1)
        self.w = [self.rng.normal(0.0, np.sqrt(2.0 / a), size=(self.size, a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros((self.size, b)) for b in sizes[1:]]
        params = self.w + self.b
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        lr, wd, b1, b2 = self.config.learning_rate, self.config.weight_decay, 0.9, 0.999
        n = len(x)
        for step in range(1, self.config.epochs + 1):
            acts = self._forward(x)
            grad = 2.0 * (acts[-1] - z) / n
            gw, gb = [], []
            for i in range(len(self.w) - 1, -1, -1):
                gw.append(acts[i].transpose(0, 2, 1) @ grad + wd * self.w[i])
                gb.append(grad.sum(axis=1))
                if i:
                    grad = (grad @ self.w[i].transpose(0, 2, 1)) * (acts[i] > 0)
            c1, c2 = 1 - b1**step, 1 - b2**step
            for p, g, mi, vi in zip(params, gw[::-1] + gb[::-1], m, v):
                mi *= b1
                mi += (1 - b1) * g
                vi *= b2
                vi += (1 - b2) * g * g
                p -= lr * (mi / c1) / (np.sqrt(vi / c2) + 1e-8)
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over members, in target units."""
        preds = self._forward(np.asarray(x, dtype=np.float64))[-1][:, :, 0] * self.sd + self.mu
        return preds.mean(axis=0), preds.std(axis=0)


class HammingGP:
    """Gaussian process on one-hot cell encodings with the exponential Hamming kernel
    ``k(a, b) = exp(-d(a, b) / l)`` (d: number of edges whose op differs), a positive-definite kernel on
    categorical strings. Length scale and noise are chosen by maximum marginal likelihood over a small grid.
    """

    LENGTHSCALES = (0.5, 1.0, 2.0, 4.0, 8.0)
    NOISES = (1e-3, 1e-2, 1e-1)

    def __init__(self, n_edges: int):
        self.n_edges = n_edges

    def _dist(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.n_edges - a @ b.T

    def fit(self, x: np.ndarray, y: np.ndarray) -> HammingGP:
        self.x = x = np.asarray(x, dtype=np.float64)
        self.mu, self.sd = float(np.mean(y)), float(np.std(y)) or 1.0
        z = (y - self.mu) / self.sd
        d = self._dist(x, x)
        best = None
        for ls in self.LENGTHSCALES:
            k = np.exp(-d / ls)
            for noise in self.NOISES:
                try:
                    c = cho_factor(k + noise * np.eye(len(x)), lower=True)
                except np.linalg.LinAlgError:
                    continue
                alpha = cho_solve(c, z)
                lml = -0.5 * z @ alpha - np.log(np.diag(c[0])).sum()
                if best is None or lml > best[0]:
                    best = (lml, ls, c, alpha)
        if best is None:
            raise np.linalg.LinAlgError("GP covariance not positive definite for any hyper-parameter")
        _, self.lengthscale, chol, self._alpha = best
        self._linv = solve_triangular(np.tril(chol[0]), np.eye(len(x)), lower=True)
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function, in target units."""
        ks = np.exp(-self._dist(x, self.x) / self.lengthscale)
        mean = ks @ self._alpha
        v = self._linv @ ks.T
        var = np.maximum(1.0 - (v * v).sum(axis=0), 1e-12)
        return mean * self.sd + self.mu, np.sqrt(var) * self.sd


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """EI for maximisation."""
    std = np.maximum(std, 1e-12)
    z = (mean - best - xi) / std
    return (mean - best - xi) * norm.cdf(z) + std * norm.pdf(z)
