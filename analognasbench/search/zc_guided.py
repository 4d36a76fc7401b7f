"""Zero-cost-guided search: a proxy warm start, then surrogate-ranked proposals on encodings plus proxies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analognasbench.search.base import MethodConfig, SearchContext, SearchMethod
from analognasbench.space import from_index
from analognasbench.space.features import cell_canonical, encode


@dataclass(frozen=True)
class ZCGuidedConfig(MethodConfig):
    #: Architectures of the warm start, drawn uniformly from the best ``warm_fraction`` of candidate classes by the
    #: label-free proxy score (random candidates when no proxy table is shipped).
    n_init: int = 10
    warm_fraction: float = 0.1
    #: Candidates scored per iteration: mutations of the ``n_parents`` best evaluated classes plus random ones.
    n_candidates: int = 200
    n_parents: int = 10
    n_random: int = 50
    #: Architectures evaluated per iteration (the top by the surrogate).
    batch_size: int = 5
    #: Boosting rounds of the XGBoost surrogate.
    rounds: int = 100
    #: The proxy table (embedded name or path); "" for none.
    proxies: str = "proxies-cifar10"

    def __post_init__(self) -> None:
        self._check("warm_fraction", low=0, high=1, low_open=True)
        for name in ("n_init", "n_candidates", "n_parents", "batch_size", "rounds"):
            self._check(name, integer=True, low=1)
        self._check("n_random", integer=True, low=0)
        self._check_type("proxies", str, 'a proxy table name or path, or "" for none')


def _proxy_features(table: str) -> tuple[dict[int, int], np.ndarray, np.ndarray] | None:
    """(row of each class, standardised proxy features, label-free score) of the proxy table; None if absent."""
    if not table:
        return None
    from analognasbench.bench.errors import BenchmarkError
    from analognasbench.predict.export import load_proxies
    from analognasbench.predict.features import proxy_matrix
    from analognasbench.predict.study import zero_label_scores

    try:
        df, _ = load_proxies(table)
    except (BenchmarkError, FileNotFoundError):
        return None
    df = df.set_index("canonical_index")
    rows = {int(c): i for i, c in enumerate(df.index)}
    return rows, proxy_matrix(df, df.index.to_numpy()), zero_label_scores(df).to_numpy()


class ZCGuided(SearchMethod):
    """Zero-cost-guided search (this project, issue 19), after the zero-cost warm start of Abdelfattah et al.,
    "Zero-Cost Proxies for Lightweight NAS", ICLR 2021, and the predictor-guided loop of White et al., "How
    Powerful are Performance Predictors in Neural Architecture Search?", NeurIPS 2021.

    Warm start: ``n_init`` classes drawn uniformly from the top ``warm_fraction`` of candidates by the label-free
    proxy score (the rank average of :data:`analognasbench.predict.study.ZERO_LABEL_COMBO`, from the embedded
    ``proxies-cifar10`` table; uniformly random candidates when it is not shipped). Then, each iteration, an
    XGBoost model on the one-hot encoding plus the proxies (missing proxies: the table's median) is fitted to the
    observed values and ranks a pool of mutations of the best classes plus random candidates; the top
    ``batch_size`` are evaluated. The proxies cost no training, so they are free to the budget, as parameter
    counts are.
    """

    name = "zc_guided"
    citation = "Abdelfattah et al., ICLR 2021 (warm start); White et al., NeurIPS 2021 (predictor-guided search)"
    Config = ZCGuidedConfig

    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        import xgboost as xgb

        cfg = self.config
        canon = cell_canonical()
        zc = _proxy_features(cfg.proxies)
        seen: dict[int, float] = {}
        cell_of: dict[int, int] = {}

        def features(cells: list[int]) -> np.ndarray:
            x = encode(cells, "onehot").astype(float)
            if zc is None:
                return x
            rows, matrix, _ = zc
            extra = np.array([matrix[rows[int(canon[c])]] if int(canon[c]) in rows else np.zeros(matrix.shape[1])
                              for c in cells])
            return np.concatenate([x, extra], axis=1)

        def evaluate(index: int) -> None:
            value = ctx.evaluate(from_index(index))
            if value is not None:
                seen.setdefault(int(canon[index]), value)
                cell_of.setdefault(int(canon[index]), index)

        classes = ctx.candidate_classes()
        if zc is not None:
            rows, _, score = zc
            s = np.array([score[rows[int(c)]] if int(c) in rows else -np.inf for c in classes])
            top = classes[np.argsort(-s, kind="stable")[: max(cfg.n_init, int(cfg.warm_fraction * len(classes)))]]
            for index in rng.permutation(top)[: cfg.n_init]:
                evaluate(int(index))
        while len(seen) < cfg.n_init:
            evaluate(ctx.sample_unevaluated(rng).index)
        while True:
            ctx.next_round()
            keys = list(seen)
            params = {"max_depth": 3, "eta": 0.1, "subsample": 0.8, "nthread": 1, "verbosity": 0,
                      "seed": int(rng.integers(2**31 - 1))}
            model = xgb.train(params, xgb.DMatrix(features([cell_of[k] for k in keys]),
                                                  label=np.array([seen[k] for k in keys])), cfg.rounds)
            parents = sorted(keys, key=lambda k: -seen[k])[: cfg.n_parents]
            pool: dict[int, int] = {}
            for j in range(cfg.n_candidates):
                child = ctx.mutate(from_index(cell_of[parents[j % len(parents)]]), rng)
                pool.setdefault(int(canon[child.index]), child.index)
            for index in ctx.sample_indices(rng, cfg.n_random):
                pool.setdefault(int(canon[index]), int(index))
            cells = [c for c in pool.values() if not ctx.is_evaluated(from_index(c))]
            if not cells:
                cells = [ctx.sample_unevaluated(rng).index]
            pred = model.predict(xgb.DMatrix(features(cells)))
            for j in np.argsort(-pred, kind="stable")[: cfg.batch_size]:
                evaluate(int(cells[int(j)]))
