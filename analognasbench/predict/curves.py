"""Learning curves of few-label surrogates, and the bar they are measured against (the project's low-cost data).

For each target, label count N and seed: draw N training classes at random from the pool (``numpy`` generator
seeded by (seed, N)), fit every model on their labels, and score Kendall's tau of its predictions on *all other*
pool classes. The pool is the classes every model can be fitted on (with proxies: the classes the proxy table
holds), restricted to the subset (``all``, or ``b80``: class-mean baseline > 80 %), so models are compared on the
same held-out classes.

The bar: the shipped ``cifar10-lowcost`` dataset measured 1,180 classes at low cost (smaller network, 5 epochs,
16 px); its Kendall's tau with the release's class means over the classes both hold, per target. Its
``noisy_accuracy`` is the programmed chip without a drift read, so for noisy targets the ``noisy_drift_60``
column is compared as well.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from analognasbench.predict.surrogates import ModelSpec, fit_predict
from analognasbench.predict.targets import TARGETS, proxy_frame, subset_mask

log = logging.getLogger(__name__)

LABEL_COUNTS: tuple[int, ...] = (10, 20, 50, 100, 200, 500, 1000)
SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)


def learning_curves(targets: pd.DataFrame, proxies: pd.DataFrame | None, models: Iterable[str],
                    *, target_names: Iterable[str] = TARGETS, label_counts: Iterable[int] = LABEL_COUNTS,
                    seeds: Iterable[int] = SEEDS, subset: str = "all", min_test: int = 50,
                    restrict_to_proxies: bool | None = None,
                    skip: set[tuple] | None = None) -> pd.DataFrame:
    """Long table: pool, subset, target, model, labels, seed, kendall, spearman, n_test, seconds.

    ``proxies``: a proxy table (see :func:`~analognasbench.predict.targets.proxy_frame`) or None. The pool is the
    classes of the proxy table when a model uses proxies or ``restrict_to_proxies`` is true
    (``pool`` = ``proxy-classes`` unless the table covers every class), else every class of ``targets``
    (``all-classes``). Keys
    ``(pool, subset, target, model, labels, seed)`` in ``skip`` are not computed."""
    specs = [ModelSpec.parse(m) for m in models]
    proxies = None if proxies is None else proxy_frame(proxies)
    pool_index = targets.index
    if restrict_to_proxies is None:
        restrict_to_proxies = any(s.uses_proxies for s in specs)
    if proxies is not None and restrict_to_proxies:
        pool_index = pool_index.intersection(proxies.index)
    elif any(s.uses_proxies for s in specs):
        raise ValueError("models with proxies (…:zc) need a proxy table")
    # A proxy table that covers every class leaves the pool whole: then the curves are comparable with (and
    # resume from) the proxy-free ones.
    pool_name = "proxy-classes" if len(pool_index) < len(targets.index) else "all-classes"
    pool_frame = targets.loc[pool_index]
    pool_frame = pool_frame[subset_mask(pool_frame, subset)]
    rows = []
    for target in target_names:
        y_all = pool_frame[target].dropna()
        pool = y_all.index.to_numpy()
        log.info("learning curves: %s, %s, pool %s of %d classes", target, subset, pool_name, len(pool))
        for n in label_counts:
            if n > len(pool) - min_test:
                log.info("skip %s at %d labels: pool of %d leaves fewer than %d test classes", target, n, len(pool),
                         min_test)
                continue
            for seed in seeds:
                rng = np.random.default_rng([seed, n])
                perm = rng.permutation(len(pool))
                train, test = pool[perm[:n]], pool[perm[n:]]
                for spec in specs:
                    if skip and (pool_name, subset, target, spec.label, n, seed) in skip:
                        continue  # computed before (see run_study's resume)
                    start = time.perf_counter()
                    pred = fit_predict(spec, train, test, y_all.loc[train].to_numpy(), proxies, seed)
                    truth = y_all.loc[test].to_numpy()
                    rows.append({"pool": pool_name, "subset": subset, "target": target, "model": spec.label, "labels": n, "seed": seed,
                                 "kendall": float(stats.kendalltau(pred, truth)[0]),
                                 "spearman": float(stats.spearmanr(pred, truth)[0]), "n_test": len(test),
                                 "seconds": time.perf_counter() - start})
    return pd.DataFrame(rows)


def curve_summary(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean and std of Kendall's tau over seeds, per subset, target, model and label count."""
    return (curves.groupby(["pool", "subset", "target", "model", "labels"])["kendall"]
            .agg(["mean", "std", "count"]).reset_index())


def lowcost_bar(release_targets: pd.DataFrame, lowcost_targets: pd.DataFrame,
                target_names: Iterable[str] = TARGETS, subsets: Iterable[str] = ("all", "b80")) -> pd.DataFrame:
    """Kendall's tau of the low-cost dataset's class values with the release's, per subset and target (and, for
    noisy targets, with the low-cost ``noisy_drift_60``)."""
    joined = release_targets.join(lowcost_targets.add_suffix("_lowcost"), how="inner")
    rows = []
    for subset in subsets:
        part = joined[subset_mask(joined, subset)]
        for target in target_names:
            sources = [target]
            if (target.startswith("noisy") or target == "noisy_drop") and target != "noisy_drift_60":
                sources.append("noisy_drift_60")
            for source in sources:
                col = f"{source}_lowcost"
                if col not in part or target not in part:
                    continue
                ok = part[[target, col]].dropna()
                tau = float(stats.kendalltau(ok[target], ok[col])[0]) if len(ok) > 2 else np.nan
                sign = -1 if (target == "noisy_drop" and source != target) else 1
                rows.append({"subset": subset, "target": target, "lowcost_column": source, "kendall": sign * tau,
                             "n": len(ok)})
    return pd.DataFrame(rows)


def overtakes(summary: pd.DataFrame, bar: pd.DataFrame) -> pd.DataFrame:
    """Per subset and target: the best model at each label count, and the fewest labels at which some model's
    mean tau beats the low-cost bar (its best column)."""
    best_bar = bar.groupby(["subset", "target"])["kendall"].max()
    rows = []
    for (pool, subset, target), part in summary.groupby(["pool", "subset", "target"]):
        bar_tau = best_bar.get((subset, target), np.nan)
        first = None
        for n, at_n in part.groupby("labels"):
            top = at_n.sort_values("mean", ascending=False).iloc[0]
            if first is None and np.isfinite(bar_tau) and top["mean"] > bar_tau:
                first = (int(n), top["model"])
        best = part.sort_values("mean", ascending=False).iloc[0]
        at200 = part[part.labels == 200].sort_values("mean", ascending=False)
        rows.append({"pool": pool, "subset": subset, "target": target, "lowcost_tau": bar_tau,
                     "best_model": best["model"], "best_labels": int(best["labels"]), "best_tau": best["mean"],
                     "best_at_200": at200.iloc[0]["model"] if len(at200) else None,
                     "tau_at_200": at200.iloc[0]["mean"] if len(at200) else np.nan,
                     "overtakes_at": first[0] if first else None, "overtaking_model": first[1] if first else None})
    return pd.DataFrame(rows)
