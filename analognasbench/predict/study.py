"""The whole evaluation of issue 19 in one call: proxy agreement, learning curves, the low-cost bar, the goals.

:func:`run_study` takes the release frame, the proxy table and the low-cost dataset, and writes every table as CSV
under ``out`` (``proxy_agreement.csv``, ``best_proxies.csv``, ``zero_label.csv``, ``curves.csv``,
``curve_summary.csv``, ``lowcost_bar.csv``, ``overtakes.csv``, ``goals.csv``, ``device_agreement.csv``,
``study.json``). :mod:`analognasbench.report.predict` lays them out as a report section with figures.

The zero-label predictor is chosen without labels: it is the rank average of the proxies, each oriented by its
registered sign, restricted to a fixed list chosen from the literature and the AIMC reasoning (no tuning on the
release): the data-independent and data-dependent proxies listed in :data:`ZERO_LABEL_COMBO`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analognasbench.predict.curves import (
    LABEL_COUNTS,
    SEEDS,
    curve_summary,
    learning_curves,
    lowcost_bar,
    overtakes,
)
from analognasbench.predict.evaluate import (
    agreement,
    best_proxies,
    device_agreement,
    proxy_table,
    settings_agreement,
)
from analognasbench.predict.registry import COLUMN_PREFIX, get_proxy
from analognasbench.predict.surrogates import DEFAULT_MODELS
from analognasbench.predict.targets import GOAL_TARGETS, TARGETS, class_targets, proxy_frame, subset_mask

log = logging.getLogger(__name__)

#: The study shipped with the package (its CSV tables and study.json; ``anb predict --evaluate --out DIR``
#: recomputes it): the report's predictor section on the release.
SHIPPED_STUDY = Path(__file__).resolve().parent / "shipped_study"
#: Proxies of the label-free combination (rank average, each oriented by its registered sign).
ZERO_LABEL_COMBO: tuple[str, ...] = ("synflow", "nwot", "jacov", "aimc_agree_1d", "hw_rows_mean")


@dataclass
class StudyConfig:
    """What :func:`run_study` computes (defaults: the issue's full protocol)."""

    models: tuple[str, ...] = DEFAULT_MODELS
    label_counts: tuple[int, ...] = LABEL_COUNTS
    seeds: tuple[int, ...] = SEEDS
    targets: tuple[str, ...] = TARGETS
    #: Targets of the learning curves (all targets by default; the GNN makes them the slow part).
    curve_targets: tuple[str, ...] = TARGETS
    subsets: tuple[str, ...] = ("all", "b80")
    #: Subsets of the learning curves.
    curve_subsets: tuple[str, ...] = ("b80",)


@dataclass
class StudyResult:
    out: Path
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    info: dict = field(default_factory=dict)


def zero_label_scores(proxies: pd.DataFrame, names: tuple[str, ...] = ZERO_LABEL_COMBO) -> pd.Series:
    """Rank average (0..1) of the named proxies, each oriented by its sign; NaN-safe (missing ranks ignored).
    Indexed by canonical_index (``proxies``: see :func:`proxy_frame`), so it joins with the targets."""
    proxies = proxy_frame(proxies)
    cols = [COLUMN_PREFIX + n for n in names if COLUMN_PREFIX + n in proxies]
    if not cols:
        return pd.Series(np.nan, index=proxies.index)
    ranks = pd.DataFrame({c: (get_proxy(c).sign * proxies[c]).rank(pct=True) for c in cols})
    return ranks.mean(axis=1)


def _zero_label(proxies: pd.DataFrame, targets: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    joined = targets.join(zero_label_scores(proxies).rename("combo"), how="inner")
    rows = []
    for subset in config.subsets:
        part = joined[subset_mask(joined, subset)]
        for target in config.targets:
            rows.append({"subset": subset, "target": target, "predictor": "rank average " + "+".join(ZERO_LABEL_COMBO),
                         **agreement(part["combo"].to_numpy(), part[target].to_numpy())})
    return pd.DataFrame(rows)


def _goals(zero: pd.DataFrame, best: pd.DataFrame, over: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for subset in zero.subset.unique():
        z = zero[(zero.subset == subset) & (zero.target == "noisy_accuracy")]
        b = best[(best.subset == subset) & (best.target == "noisy_accuracy")]
        for label, frame, note in (("a-priori rank average", z, ""),
                                   ("best single proxy", b, "chosen on the release (post hoc), sign allowed to flip")):
            tau = float(frame.kendall.iloc[0]) if len(frame) else np.nan
            value = abs(tau) if note else tau
            rows.append({"goal": "zero-label Kendall tau >= 0.5 on noisy_accuracy", "subset": subset,
                         "value": value, "reached": bool(value >= 0.5),
                         "model": label + (f" ({frame.proxy.iloc[0]}; {note})" if note and len(frame) else "")})
    for _, r in over.iterrows():
        if r.target in GOAL_TARGETS:
            rows.append({"goal": f"200-label surrogate tau >= 0.6 on {r.target}", "subset": f"{r.subset}, {r.pool}",
                         "value": r.tau_at_200, "reached": bool(r.tau_at_200 >= 0.6),
                         "model": r.best_at_200})
    return pd.DataFrame(rows)


def run_study(release: pd.DataFrame, proxies: pd.DataFrame | None, out: str | Path, *,
              lowcost: pd.DataFrame | None = None, store_frame: pd.DataFrame | None = None,
              config: StudyConfig | None = None, resume: bool = False,
              full_network_proxies: pd.DataFrame | None = None, proxy_settings: str = "") -> StudyResult:
    """Compute and write every table. ``proxies``: a proxy table (see :func:`proxy_frame`; None: surrogates on
    encodings only); ``lowcost``: the low-cost dataset frame; ``store_frame``: raw store rows for the CPU/GPU
    comparison; ``full_network_proxies``: proxies of the same classes at other settings (the release's network on a
    sample), compared with ``proxies`` (:func:`settings_agreement`); ``proxy_settings``: how the proxies were computed
    (the table's fidelity text, for the report). ``resume``: keep every ``all-classes`` learning-curve row of an
    earlier run in ``out`` (they do not depend on the proxies) and compute only the missing ones; runs with different
    model or target selections thus add up."""
    config = config or StudyConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    targets = class_targets(release)
    result = StudyResult(out)
    models = [m for m in config.models if proxies is not None or ":zc" not in m and "+zc" not in m]
    if proxies is not None:
        proxies = proxy_frame(proxies)
        table = proxy_table(proxies, targets, target_names=config.targets, subsets=config.subsets)
        result.tables["proxy_agreement"] = table
        result.tables["best_proxies"] = best_proxies(table)
        result.tables["zero_label"] = _zero_label(proxies, targets, config)
        if full_network_proxies is not None:
            result.tables["settings_agreement"] = settings_agreement(proxies, full_network_proxies, targets)
    frames, skip = [], set()
    prior = out / "curves.csv"
    if resume and prior.is_file():
        old = pd.read_csv(prior)
        old = old[old["pool"] == "all-classes"]  # every earlier proxy-free row, whatever this run's selection
        frames.append(old)
        skip = set(old[["pool", "subset", "target", "model", "labels", "seed"]].itertuples(index=False, name=None))
        log.info("resuming: %d learning-curve rows kept from %s", len(old), prior)
    for s in config.curve_subsets:
        complete = proxies is not None and targets.index.isin(proxies.index).all()
        if proxies is not None:  # every model on the classes with proxies (same held-out classes for all)
            frames.append(learning_curves(targets, proxies, models, target_names=config.curve_targets,
                                          label_counts=config.label_counts, seeds=config.seeds, subset=s,
                                          restrict_to_proxies=True, skip=skip))
        if not complete:  # until the proxy table is complete: the encoding-only models on every class too
            plain = [m for m in models if ":zc" not in m and "+zc" not in m]
            frames.append(learning_curves(targets, None, plain, target_names=config.curve_targets,
                                          label_counts=config.label_counts, seeds=config.seeds, subset=s,
                                          restrict_to_proxies=False, skip=skip))
    curves = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    result.tables["curves"] = curves
    summary = curve_summary(curves) if len(curves) else pd.DataFrame()
    result.tables["curve_summary"] = summary
    if lowcost is not None:
        bar = lowcost_bar(targets, class_targets(lowcost), config.targets, config.subsets)
        result.tables["lowcost_bar"] = bar
        if len(summary):
            result.tables["overtakes"] = overtakes(summary, bar)
    if proxies is not None and "overtakes" in result.tables:
        result.tables["goals"] = _goals(result.tables["zero_label"], result.tables["best_proxies"],
                                        result.tables["overtakes"])
    if store_frame is not None:
        result.tables["device_agreement"] = device_agreement(store_frame)
    result.info = {"config": asdict(config), "classes_with_proxies": 0 if proxies is None else int(len(proxies)),
                   "classes_in_release": int(len(targets)), "models": models,
                   "zero_label_combo": list(ZERO_LABEL_COMBO), "proxy_settings": proxy_settings}
    for name, df in result.tables.items():
        df.to_csv(out / f"{name}.csv", index=False)
    (out / "study.json").write_text(json.dumps(result.info, indent=2, default=str) + "\n")
    return result


def load_study(out: str | Path) -> StudyResult:
    """The tables a previous :func:`run_study` wrote into ``out``."""
    path = Path(out)
    if not (path / "study.json").is_file():
        raise FileNotFoundError(f"{path} holds no study (study.json); run 'anb predict --evaluate --out {path}'")
    tables = {p.stem: pd.read_csv(p) for p in sorted(path.glob("*.csv"))}
    return StudyResult(path, tables, json.loads((path / "study.json").read_text()))
