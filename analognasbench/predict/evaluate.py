"""Agreement of zero-cost proxies (and of any score column) with measured targets: Spearman, Kendall, top-10 %.

``top10`` (:func:`analognasbench.agreement.top_overlap`, the package's one definition) is the fraction of the 10 %
best classes by the target (highest value; for ``noisy_drop`` that is the largest drop, so every target is read as
"higher value") that are also among the 10 % best by the score, with the score oriented by the proxy's registered
sign. Correlations are reported raw (negative: the proxy ranks the
other way), so a table shows both the strength and the direction.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats

from analognasbench.agreement import rank_agreement
from analognasbench.agreement import top_overlap as top_overlap  # re-exported: its old home
from analognasbench.predict.registry import COLUMN_PREFIX, get_proxy
from analognasbench.predict.targets import TARGETS, proxy_frame, subset_mask


def agreement(score: np.ndarray, target: np.ndarray, sign: int = 1) -> dict[str, float]:
    """Spearman, Kendall (tau-b), top-10 % overlap and n over the pairs where both are finite
    (:func:`analognasbench.agreement.rank_agreement`; the correlations raw, the overlap of ``sign * score``)."""
    s, t = np.asarray(score, dtype=float), np.asarray(target, dtype=float)
    raw = rank_agreement(s, t)
    top = raw.top_overlap if sign == 1 or np.isnan(raw.top_overlap) else top_overlap(sign * s, t)
    return {"spearman": raw.spearman_rho, "kendall": raw.kendall_tau, "top10": top, "n": raw.n}


def proxy_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith(COLUMN_PREFIX)]


def proxy_table(proxies: pd.DataFrame, targets: pd.DataFrame, *, target_names: Iterable[str] = TARGETS,
                subsets: Iterable[str] = ("all", "b80")) -> pd.DataFrame:
    """Long table: one row per (subset, target, proxy) with spearman, kendall, top10, n.

    ``proxies``: a proxy table (``zc_`` columns; as :func:`~analognasbench.predict.export.load_proxies` returns it,
    or indexed by canonical_index, see :func:`proxy_frame`), ``targets`` from :func:`class_targets`."""
    proxies = proxy_frame(proxies)
    joined = targets.join(proxies[proxy_columns(proxies)], how="inner")
    rows = []
    for subset in subsets:
        part = joined[subset_mask(joined, subset)]
        for target in target_names:
            if target not in part:
                continue
            for col in proxy_columns(proxies):
                sign = get_proxy(col).sign
                rows.append({"subset": subset, "target": target, "proxy": col[len(COLUMN_PREFIX):],
                             **agreement(part[col].to_numpy(), part[target].to_numpy(), sign)})
    return pd.DataFrame(rows)


def best_proxies(table: pd.DataFrame, stat: str = "kendall") -> pd.DataFrame:
    """Per (subset, target), the proxy with the largest |stat| and its value."""
    t = table.dropna(subset=[stat]).assign(_abs=lambda d: d[stat].abs())
    best = t.sort_values("_abs", ascending=False).groupby(["subset", "target"], sort=False).head(1)
    return best.drop(columns="_abs").sort_values(["subset", "target"]).reset_index(drop=True)


def device_agreement(frame: pd.DataFrame) -> pd.DataFrame:
    """CPU versus CUDA values of the classes computed on both (a store frame): per proxy, n, the largest relative
    difference, and the rank correlation across those classes."""
    if "device" not in frame or frame.device.nunique() < 2:
        return pd.DataFrame(columns=["proxy", "n", "max_rel_diff", "spearman"])
    names = [c for c in frame.columns if not c.startswith("time_") and c not in
             ("arch_index", "config_hash", "device", "host", "created")]
    cpu = frame[frame.device == "cpu"].set_index("arch_index")
    gpu = frame[frame.device == "cuda"].set_index("arch_index")
    both = cpu.index.intersection(gpu.index)
    rows = []
    for name in names:
        a, b = cpu.loc[both, name].astype(float), gpu.loc[both, name].astype(float)
        rel = (a - b).abs() / a.abs().clip(lower=1e-12)
        rho = stats.spearmanr(a, b)[0] if len(both) > 2 else np.nan
        rows.append({"proxy": name, "n": len(both), "max_rel_diff": float(rel.max()) if len(both) else np.nan,
                     "spearman": float(rho)})
    return pd.DataFrame(rows)


def settings_agreement(small: pd.DataFrame, full: pd.DataFrame, targets: pd.DataFrame,
                       target_names: Iterable[str] = ("baseline_accuracy", "noisy_accuracy", "analog_drift_86400")
                       ) -> pd.DataFrame:
    """What computing proxies on a smaller network changes, over the classes both tables hold.

    ``small`` and ``full`` are proxy tables of two settings (see :func:`proxy_frame`), e.g. the shipped table's
    C=8, N=1 network and the release's C=16, N=5 on a sample. Per proxy: n, Spearman's rho between the two
    settings' values, and per target Kendall's tau of each setting with the release on the same classes
    (``tau_<target>_small`` / ``tau_<target>_full``)."""
    small, full = proxy_frame(small), proxy_frame(full)
    both = small.index.intersection(full.index)
    rows = []
    for col in [c for c in proxy_columns(small) if c in full.columns]:
        a, b = small.loc[both, col].astype(float), full.loc[both, col].astype(float)
        row = {"proxy": col[len(COLUMN_PREFIX):], "n": int(len(both)),
               "spearman_small_vs_full": agreement(a.to_numpy(), b.to_numpy())["spearman"]}
        for target in target_names:
            t = targets[target].reindex(both).to_numpy(dtype=float)
            row[f"tau_{target}_small"] = agreement(a.to_numpy(), t)["kendall"]
            row[f"tau_{target}_full"] = agreement(b.to_numpy(), t)["kendall"]
        rows.append(row)
    return pd.DataFrame(rows)
