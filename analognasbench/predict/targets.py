"""What the predictors are scored against: per isomorphism class, the mean of the release's (or any dataset's)
measured metrics over the class's cells, and two derived differences.

Decision (issue 19): the release measured isomorphic cells separately (15,625 rows, 6,466 classes) and agrees
with itself at Kendall's tau ~0.7 across them on noisy accuracy; a proxy is a property of the class's network,
so it is scored against the class mean (less noisy than any one cell). Derived targets:

* ``noisy_drop`` = baseline_accuracy - noisy_accuracy (accuracy lost when the digitally trained network is
  programmed onto the chip; larger is worse);
* ``hwt_recovery`` = analog_accuracy - noisy_accuracy (accuracy hardware-aware training wins back on the chip).
"""

from __future__ import annotations

import pandas as pd

from analognasbench.pipeline.schema import METRIC_ALIASES

#: Measured metrics scored, in table order (release metric names).
MEASURED_TARGETS: tuple[str, ...] = (
    "baseline_accuracy", "noisy_accuracy", "analog_accuracy",
    "noisy_drift_60", "noisy_drift_3600", "noisy_drift_86400", "noisy_drift_2592000",
    "analog_drift_60", "analog_drift_3600", "analog_drift_86400", "analog_drift_2592000",
)
#: Derived targets and their definitions.
DERIVED_TARGETS: dict[str, tuple[str, str]] = {
    "noisy_drop": ("baseline_accuracy", "noisy_accuracy"),
    "hwt_recovery": ("analog_accuracy", "noisy_accuracy"),
}
TARGETS: tuple[str, ...] = MEASURED_TARGETS + tuple(DERIVED_TARGETS)
#: The targets of the issue's goals.
GOAL_TARGETS: tuple[str, ...] = ("noisy_accuracy", "analog_drift_86400")
#: Threshold of the "well-trained cells" subset: class-mean baseline accuracy above this (percent).
BASELINE_SUBSET = 80.0


def parse_target(name: str) -> str:
    """A target's name; the release's metric names (``baseline_drift_T``) give this project's (``noisy_drift_T``),
    as in query and search, so a name copied from the release works everywhere."""
    name = METRIC_ALIASES.get(name, name)
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; valid targets: {', '.join(TARGETS)} (also the release's names "
                         f"{', '.join(METRIC_ALIASES)})")
    return name


def class_targets(df: pd.DataFrame) -> pd.DataFrame:
    """Per class (index: canonical_index), the mean of each measured metric over its rows, plus derived targets.

    Works on the release (15,625 rows) and on class-level datasets (one row per class) alike."""
    present = [m for m in MEASURED_TARGETS if m in df.columns]
    if "canonical_index" not in df.columns or not present:
        raise ValueError("expected a dataset frame with canonical_index and metric columns "
                         f"({', '.join(MEASURED_TARGETS)})")
    out = df.groupby("canonical_index")[present].mean()
    for name, (a, b) in DERIVED_TARGETS.items():
        if a in out and b in out:
            out[name] = out[a] - out[b]
    out.index = out.index.astype("int64")
    return out


def proxy_frame(proxies: pd.DataFrame) -> pd.DataFrame:
    """A proxy table indexed by ``canonical_index``: every consumer joins it on the class, so this is the one check.

    :func:`~analognasbench.predict.export.load_proxies` returns ``canonical_index`` as a column (the stored form):
    it becomes the index. A table already indexed by ``canonical_index`` passes as is. Anything else is refused,
    as are repeated classes: joined on a positional index, the rows silently pair with the wrong classes."""
    if proxies.index.name != "canonical_index":
        if "canonical_index" not in proxies.columns:
            raise ValueError("a proxy table must be indexed by canonical_index or hold a canonical_index column (as "
                             f"load_proxies returns it); got index {proxies.index.name!r} and columns "
                             f"{', '.join(map(str, proxies.columns[:8]))}")
        proxies = proxies.set_index("canonical_index")
    if not proxies.index.is_unique:
        dup = proxies.index[proxies.index.duplicated()][0]
        raise ValueError(f"a proxy table holds one row per class; canonical_index {dup} repeats (a store frame with "
                         "several devices or configs? export it first)")
    return proxies


def subset_mask(targets: pd.DataFrame, subset: str) -> pd.Series:
    """``all`` or ``b80`` (class-mean baseline accuracy > 80 %)."""
    if subset == "all":
        return pd.Series(True, index=targets.index)
    if subset == "b80":
        return targets["baseline_accuracy"] > BASELINE_SUBSET
    raise ValueError(f"unknown subset {subset!r}; valid: all, b80")
