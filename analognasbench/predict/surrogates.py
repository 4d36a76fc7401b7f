"""Few-label surrogates: fit on N labelled classes, rank the rest. Each model is a small class with fit/predict.

* ``ridge``: ridge regression (alpha chosen by exact leave-one-out error over a grid, numpy only);
* ``xgb``: gradient-boosted trees (XGBoost, 300 trees of depth 4, learning rate 0.05, row/column subsampling);
* ``gnn``: a small graph network on the cell's operation graph (:func:`~analognasbench.predict.features.cell_graph`):
  three rounds of message passing along and against the data flow (hidden 32, ReLU), sum pooling and an MLP
  read-out, optionally concatenated with the proxy features; full-batch Adam (lr 0.005), 300 steps, seeded.

* ``best``: no model -- the one proxy (and sign) that agrees best with the training labels.

Labels are standardised on the training set; only the ranking of the predictions is scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from analognasbench.predict.features import N_TYPES, graph_batch


class Surrogate:
    """``fit(index, X, y)`` / ``predict(index, X)``; ``index`` are class representatives (for graph models)."""

    name: str = ""

    def fit(self, index: np.ndarray, x: np.ndarray, y: np.ndarray) -> Surrogate:
        raise NotImplementedError

    def predict(self, index: np.ndarray, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class RidgeSurrogate(Surrogate):
    """Ridge regression with an intercept; alpha minimises the exact leave-one-out error (closed form via SVD)."""

    name = "ridge"
    alphas = np.logspace(-2, 3, 11)

    def fit(self, index: np.ndarray, x: np.ndarray, y: np.ndarray) -> RidgeSurrogate:
        self.x_mean, self.y_mean = x.mean(axis=0), float(y.mean())
        xc, yc = x - self.x_mean, y - self.y_mean
        u, sv, vt = np.linalg.svd(xc, full_matrices=False)
        uty = u.T @ yc
        best = (np.inf, None)
        for alpha in self.alphas:
            shrink = sv**2 / (sv**2 + alpha)
            fitted = u @ (shrink * uty)
            hat = (u**2) @ shrink + 1.0 / len(y)  # diagonal of the hat matrix (with the intercept)
            loo = np.mean(((yc - fitted) / np.clip(1.0 - hat, 1e-6, None)) ** 2)
            if loo < best[0]:
                best = (loo, vt.T @ (sv / (sv**2 + alpha) * uty))
        self.coef = best[1]
        return self

    def predict(self, index: np.ndarray, x: np.ndarray) -> np.ndarray:
        return (x - self.x_mean) @ self.coef + self.y_mean


@dataclass
class XGBSurrogate(Surrogate):
    seed: int = 0
    name = "xgb"

    def fit(self, index: np.ndarray, x: np.ndarray, y: np.ndarray) -> XGBSurrogate:
        import xgboost as xgb  # the native API: scikit-learn is not a dependency

        params = {"max_depth": 4, "eta": 0.05, "subsample": 0.8, "colsample_bytree": 0.8, "min_child_weight": 1.0,
                  "seed": self.seed, "nthread": 1, "verbosity": 0, "objective": "reg:squarederror"}
        self.model = xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=300)
        return self

    def predict(self, index: np.ndarray, x: np.ndarray) -> np.ndarray:
        import xgboost as xgb

        return self.model.predict(xgb.DMatrix(x))


class BestProxySurrogate(Surrogate):
    """No model: the single feature (proxy) whose Kendall's tau with the training labels is largest in magnitude,
    with that sign. The few-label way to pick a zero-cost proxy (and its direction) for a new target."""

    name = "best"

    def fit(self, index: np.ndarray, x: np.ndarray, y: np.ndarray) -> BestProxySurrogate:
        from scipy import stats

        taus = np.array([stats.kendalltau(x[:, j], y)[0] if np.ptp(x[:, j]) > 0 else 0.0 for j in range(x.shape[1])])
        taus = np.nan_to_num(taus)
        self.column = int(np.argmax(np.abs(taus)))
        self.sign = 1.0 if taus[self.column] >= 0 else -1.0
        return self

    def predict(self, index: np.ndarray, x: np.ndarray) -> np.ndarray:
        return self.sign * x[:, self.column]


class _GraphNet(nn.Module):
    def __init__(self, extra: int, hidden: int = 32, rounds: int = 3) -> None:
        super().__init__()
        self.embed = nn.Linear(N_TYPES, hidden)
        # One linear map per round of [own state, sum over predecessors, sum over successors].
        self.rounds = nn.ModuleList(nn.Linear(3 * hidden, hidden) for _ in range(rounds))
        self.head = nn.Sequential(nn.Linear(hidden + extra, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor, adj: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        mask = (x.sum(-1, keepdim=True) > 0).float()  # dropped ("none") nodes stay zero
        h = torch.relu(self.embed(x)) * mask
        adj_t = adj.transpose(1, 2)
        for layer in self.rounds:
            h = torch.relu(layer(torch.cat([h, adj_t @ h, adj @ h], dim=-1))) * mask
        return self.head(torch.cat([h.sum(1), extra], dim=1)).squeeze(-1)


@dataclass
class GNNSurrogate(Surrogate):
    seed: int = 0
    steps: int = 300
    lr: float = 5e-3
    name = "gnn"

    def _inputs(self, index: np.ndarray, x: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        nodes, adj = graph_batch(index)
        return torch.from_numpy(nodes), torch.from_numpy(adj), torch.from_numpy(np.asarray(x, dtype=np.float32))

    def fit(self, index: np.ndarray, x: np.ndarray, y: np.ndarray) -> GNNSurrogate:
        gen = torch.Generator().manual_seed(self.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
            self.net = _GraphNet(extra=x.shape[1])
        nodes, adj, extra = self._inputs(index, x)
        target = torch.from_numpy(np.asarray(y, dtype=np.float32))
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr, weight_decay=1e-4)
        for _ in range(self.steps):
            opt.zero_grad()
            loss = nn.functional.mse_loss(self.net(nodes, adj, extra), target)
            loss.backward()
            opt.step()
        return self

    def predict(self, index: np.ndarray, x: np.ndarray) -> np.ndarray:
        nodes, adj, extra = self._inputs(index, x)
        with torch.no_grad():
            return self.net(nodes, adj, extra).numpy()


@dataclass(frozen=True)
class ModelSpec:
    """A surrogate kind and its feature set, e.g. ``xgb:onehot+zc`` or ``gnn:zc`` (graph plus proxies)."""

    kind: str
    feature_set: str

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.feature_set}"

    @property
    def uses_proxies(self) -> bool:
        return "zc" in self.feature_set.split("+")

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        from analognasbench.predict.features import FEATURE_SETS

        kind, _, fs = text.partition(":")
        if kind not in ("ridge", "xgb", "gnn", "best"):
            raise ValueError(f"unknown surrogate {kind!r} in {text!r}; valid: ridge, xgb, gnn, best (as KIND:FEATURES)")
        fs = fs or {"gnn": "graph", "best": "zc"}.get(kind, "onehot")
        if kind == "best" and fs != "zc":
            raise ValueError(f"'best' picks one proxy: its features are 'zc'; got {fs!r}")
        if kind == "gnn" and fs not in ("graph", "zc"):
            raise ValueError(f"the gnn reads the cell graph; its extra features are 'graph' (none) or 'zc'; got {fs!r}")
        if kind != "gnn" and fs not in FEATURE_SETS:
            raise ValueError(f"unknown feature set {fs!r}; valid: {', '.join(FEATURE_SETS)}")
        return cls(kind, fs)

    def make(self, seed: int) -> Surrogate:
        if self.kind == "ridge":
            return RidgeSurrogate()
        if self.kind == "xgb":
            return XGBSurrogate(seed=seed)
        if self.kind == "best":
            return BestProxySurrogate()
        return GNNSurrogate(seed=seed)


DEFAULT_MODELS: tuple[str, ...] = ("best:zc", "ridge:onehot", "ridge:onehot+zc", "xgb:onehot", "xgb:onehot+zc",
                                   "xgb:path", "xgb:zc", "gnn:graph", "gnn:zc")


def fit_predict(spec: ModelSpec, train: np.ndarray, test: np.ndarray, y_train: np.ndarray,
                proxies, seed: int) -> np.ndarray:
    """Fit ``spec`` on classes ``train`` with labels ``y_train``; predictions for ``test``."""
    from analognasbench.predict.features import features, proxy_matrix

    pool = np.concatenate([train, test])
    if spec.kind == "gnn":
        x = proxy_matrix(proxies, pool) if spec.feature_set == "zc" else np.zeros((len(pool), 0))
    else:
        x = features(spec.feature_set, pool, proxies)
    mu, sd = y_train.mean(), y_train.std() or 1.0
    model = spec.make(seed).fit(train, x[: len(train)], (y_train - mu) / sd)
    return model.predict(test, x[len(train):])
