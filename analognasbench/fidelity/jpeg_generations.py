"""What the JPEG source costs the digital accuracy: the records of ``benchmarks/jpeg_generations.py`` per class.

At ``paper-original``'s protocol the project's digital networks are 2-3.6 points below the release's members on
the reproduce cells (:mod:`.reproduce`). The shipped images are one JPEG generation away from the lossless files
the release trained on; the experiment trains the same cells on the shipped images and on one and two further
generations (:mod:`analognasbench.datasets.recompress`), and :func:`generation_table` reads off the accuracy lost
per generation: an estimate of what the first generation cost, set beside the gap it would explain.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from analognasbench.fidelity.calibration import release_by_class
from analognasbench.pipeline.schema import Metric
from analognasbench.space import parse

#: The experiment's records as exported by ``benchmarks/jpeg_generations.py --export`` (CSV, without the per-read
#: values).
SHIPPED_RECORDS = Path(__file__).resolve().parent / "jpeg-generations.csv"


def shipped_generation_records() -> pd.DataFrame:
    """The shipped records (empty when none are shipped)."""
    return pd.read_csv(SHIPPED_RECORDS) if SHIPPED_RECORDS.is_file() else pd.DataFrame()


def generation_table(records: pd.DataFrame | Iterable[dict], release: pd.DataFrame) -> pd.DataFrame:
    """One row per class of the records: the digital accuracy (``baseline_+G``) and the unprogrammed chip's drop
    (``drop_+G``) after G further JPEG generations (mean over seeds), the accuracy lost per generation (minus the
    least-squares slope over the generations measured; ``NaN`` with fewer than two) and the release members' mean
    digital accuracy. Records of several profiles (e.g. training lengths) are refused: their accuracies do not
    compare."""
    frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    if frame.empty:
        return pd.DataFrame()
    missing = {"canonical_index", "arch", "jpeg_generations", "baseline_accuracy", "noisy_drop", "profile_hash"} - set(frame)
    if missing:
        raise ValueError(f"records lack the columns {sorted(missing)}: expected benchmarks/jpeg_generations.py's")
    trainings = frame.groupby("jpeg_generations")["profile_hash"].nunique()
    if (trainings > 1).any() or frame["profile_hash"].str.split("+").str[0].nunique() > 1:
        raise ValueError("records from more than one profile (e.g. different --epochs): export one at a time")
    release_baseline = release_by_class(release)[Metric.BASELINE.value]
    rows = []
    for cls, part in frame.groupby("canonical_index", sort=False):
        means = part.groupby("jpeg_generations")[["baseline_accuracy", "noisy_drop"]].mean().sort_index()
        gens = means.index.to_numpy(float)
        row: dict[str, object] = {"canonical_index": int(cls), "arch": parse(part["arch"].iloc[0]).short,
                                  "seeds": int(part["seed"].nunique()) if "seed" in part else 1}
        for g, values in means.iterrows():
            row[f"baseline_+{g}"] = float(values["baseline_accuracy"])
        for g, values in means.iterrows():
            row[f"drop_+{g}"] = float(values["noisy_drop"])
        slope = np.polyfit(gens, means["baseline_accuracy"].to_numpy(float), 1)[0] if len(gens) >= 2 else np.nan
        row["loss_per_generation"] = float(-slope)
        row["release_baseline"] = float(release_baseline.get(int(cls), np.nan))
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["SHIPPED_RECORDS", "generation_table", "shipped_generation_records"]
