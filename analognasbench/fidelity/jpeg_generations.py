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
    return pd.read_csv(SHIPPED_RECORDS, dtype={"arch": str}) if SHIPPED_RECORDS.is_file() else pd.DataFrame()


def generation_table(records: pd.DataFrame | Iterable[dict], release: pd.DataFrame) -> pd.DataFrame:
    """One row per class of the records: the digital accuracy (``baseline_+G``) and the unprogrammed chip's drop
    (``drop_+G``) after G further JPEG generations (means over the seeds that measured every generation of the class,
    so that the differences stay paired), the accuracy lost per generation (minus the least-squares slope over the
    generations, the mean over those seeds; ``NaN`` with fewer than two generations), its standard deviation over
    seeds (with two or more) and the release members' mean digital accuracy. Records of several profiles (e.g.
    training lengths) are refused: their accuracies do not compare."""
    frame = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    if frame.empty:
        return pd.DataFrame()
    missing = {"canonical_index", "arch", "seed", "jpeg_generations", "baseline_accuracy", "noisy_drop",
               "profile_hash"} - set(frame)
    if missing:
        raise ValueError(f"records lack the columns {sorted(missing)}: expected benchmarks/jpeg_generations.py's")
    if frame["profile_hash"].astype(str).str.split("+").str[0].nunique() > 1:  # the hash before "+jpegG"
        raise ValueError("records from more than one profile (e.g. different --epochs): export one at a time")
    release_baseline = release_by_class(release)[Metric.BASELINE.value]
    rows = []
    for cls, part in frame.groupby("canonical_index", sort=False):
        per_seed = part.groupby("seed")["jpeg_generations"].nunique()
        complete = per_seed.index[per_seed == part["jpeg_generations"].nunique()]
        part = part[part["seed"].isin(complete)]
        means = part.groupby("jpeg_generations")[["baseline_accuracy", "noisy_drop"]].mean().sort_index()
        arch = parse(int(part["arch_index"].iloc[0])) if "arch_index" in part else parse(str(part["arch"].iloc[0]))
        row: dict[str, object] = {"canonical_index": int(cls), "arch": arch.short,  # a CSV reads "000011" as 11
                                  "seeds": len(complete)}
        for column, prefix in (("baseline_accuracy", "baseline"), ("noisy_drop", "drop")):
            for g, value in means[column].items():
                row[f"{prefix}_+{g}"] = float(value)
        losses = [] if len(means) < 2 else [
            -np.polyfit(s["jpeg_generations"].to_numpy(float), s["baseline_accuracy"].to_numpy(float), 1)[0]
            for _, s in part.groupby("seed")]
        row["loss_per_generation"] = float(np.mean(losses)) if losses else np.nan
        row["loss_sd_over_seeds"] = float(np.std(losses, ddof=1)) if len(losses) >= 2 else np.nan
        row["release_baseline"] = float(release_baseline.get(int(cls), np.nan))
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["SHIPPED_RECORDS", "generation_table", "shipped_generation_records"]
