"""What the report runs on: an AnalogNASBench-like object (anything with ``.df`` and ``.meta``), a dataset path
(pipeline Parquet + JSON, or the original release's pickle), an embedded dataset's name, or "default"."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class ReportDataset:
    df: pd.DataFrame
    name: str
    meta: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    @property
    def fidelity(self) -> str:
        return str(self.meta.get("fidelity") or "")


def _meta_dict(meta: Any) -> dict[str, Any]:
    if meta is None:
        return {}
    if isinstance(meta, dict):
        return dict(meta)
    if hasattr(meta, "to_dict"):
        return dict(meta.to_dict())
    if dataclasses.is_dataclass(meta):
        return dataclasses.asdict(meta)
    return {k: v for k, v in vars(meta).items() if not k.startswith("_")}


def load_source(source: Any = "default") -> ReportDataset:
    """Resolve ``source`` into a DataFrame plus metadata, using the benchmark's own loaders for paths and names."""
    if hasattr(source, "df") and hasattr(source, "meta"):
        meta = _meta_dict(source.meta)
        path = getattr(source, "path", None)
        return ReportDataset(source.df, str(meta.get("name") or "dataset"), meta, str(path) if path else None)
    if isinstance(source, pd.DataFrame):
        return ReportDataset(source, "dataframe")
    if source is None or isinstance(source, (str, os.PathLike)):
        from analognasbench.bench.registry import load

        spec = None if source is None or str(source) == "default" else source
        df, meta, path = load(spec)
        m = _meta_dict(meta)
        return ReportDataset(df, str(m.get("name") or Path(path).stem), m, str(path))
    raise TypeError("expected an AnalogNASBench (or any object with .df and .meta), a pandas DataFrame, a dataset "
                    f"path, an embedded dataset name or 'default'; got {type(source).__name__}")
