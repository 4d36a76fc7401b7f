"""Export of the proxy store to an embedded table (``<name>.parquet`` + ``<name>.json``) and its loader.

Same sidecar format as the measured datasets (:class:`~analognasbench.bench.files.DatasetMeta`: row count and the
Parquet file's SHA-256, checked on load), with ``source = "zero-cost-proxies"`` so the benchmark's dataset list
never offers it as measurements. One row per isomorphism class (its representative), columns ``zc_<proxy>``.
Where a class has rows from several devices, the CPU row is exported (the reference arithmetic) and the device
column says which one each row is; the metadata records the seeds, batch size, images, devices and versions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

from analognasbench.bench.errors import DatasetExistsError, DatasetIntegrityError, DatasetNotFoundError
from analognasbench.bench.files import DatasetMeta, dataset_paths, file_sha256
from analognasbench.bench.registry import DATASETS_DIR, PROXY_SOURCE
from analognasbench.predict.config import ProxyConfig
from analognasbench.predict.registry import COLUMN_PREFIX, PROXY_SET_VERSION, get_proxy
from analognasbench.predict.store import ProxyStore

#: The embedded proxy table of the release's network on CIFAR-10.
DEFAULT_PROXY_TABLE = "proxies-cifar10"
_DEVICE_PREFERENCE = {"cpu": 0, "cuda": 1}


def _software() -> dict[str, str]:
    out = {}
    for package in ("analognasbench", "torch", "numpy", "pandas", "pyarrow"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[package] = metadata.version(package)
    return out


def store_table(store: ProxyStore, config: ProxyConfig) -> pd.DataFrame:
    """One row per class of ``config``'s rows in ``store`` (CPU preferred), ``zc_`` columns, sorted by index."""
    from analognasbench.space import from_index, to_nb201_str

    raw = store.frame(config)
    if raw.empty:
        raise ValueError(f"{store.path} holds no rows of these proxy settings (hash {config.hash()})")
    raw = raw.assign(_pref=raw.device.map(_DEVICE_PREFERENCE).fillna(9))
    raw = raw.sort_values(["arch_index", "_pref"]).drop_duplicates("arch_index").sort_values("arch_index")
    from analognasbench.predict.registry import proxy_names

    registered = set(proxy_names())  # a proxy removed from the set (e.g. one found constant) is not exported
    names = [c for c in raw.columns if c in registered]
    out = pd.DataFrame({
        "arch_index": raw.arch_index.astype("int64").to_numpy(),
        "arch": [str(tuple(from_index(int(i)))) for i in raw.arch_index],
        "arch_str": [to_nb201_str(from_index(int(i))) for i in raw.arch_index],
        "canonical_index": raw.arch_index.astype("int64").to_numpy(),
        "device": raw.device.to_numpy(),
    })
    for name in sorted(names):
        out[COLUMN_PREFIX + name] = raw[name].astype("float64").to_numpy()
    times = [c for c in raw.columns if c.startswith("time_")]
    out["time_proxies_s"] = raw[times].sum(axis=1).to_numpy()
    return out.reset_index(drop=True)


def export_store(store_path: str | Path, out: str | Path, config: ProxyConfig,
                 name: str = DEFAULT_PROXY_TABLE, *, overwrite: bool = False) -> tuple[Path, int]:
    """Write the store's rows of ``config`` as the table ``out`` (.parquet + .json); returns (parquet, rows).
    An existing table is replaced only with ``overwrite`` (as every dataset pair)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not overwrite and any(p.exists() for p in dataset_paths(out)):
        raise DatasetExistsError(f"{dataset_paths(out)[0]} (or its .json) exists; refusing to overwrite it: choose "
                                 "another path, or pass --force (overwrite=True)")
    with ProxyStore(store_path) as store:
        df = store_table(store, config)
        configs = store.configs()
    parquet, meta_path = dataset_paths(out)
    parquet.parent.mkdir(parents=True, exist_ok=True)
    tmp = parquet.with_name(f".{parquet.name}.{os.getpid()}.tmp")
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp, compression="zstd")
    os.replace(tmp, parquet)
    columns = {c: get_proxy(c).description for c in df.columns if c.startswith(COLUMN_PREFIX)}
    signs = {c: get_proxy(c).sign for c in columns}
    meta = DatasetMeta(
        name=name, version=PROXY_SET_VERSION, source=PROXY_SOURCE,
        fidelity=f"zero-cost proxies at initialisation (estimates, NOT measurements): {config.describe()}",
        profile=config.to_dict(), profile_hash=config.hash(), hardware_preset=config.hardware_preset,
        software=_software(), created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        row_count=len(df), sha256=file_sha256(parquet),
        notes=("Columns zc_<proxy> are proxies computed by analognasbench.predict, never measured metrics; "
               "join on canonical_index. See DATASET.md, 'Zero-cost proxies'."),
        extra={"kind": "proxies", "columns": columns, "signs": signs,
               "devices": {str(k): int(v) for k, v in df.device.value_counts().items()},
               "classes_total": 6466, "store_configs": configs, "host": socket.gethostname()})
    tmp_meta = meta_path.with_name(f".{meta_path.name}.{os.getpid()}.tmp")
    tmp_meta.write_text(meta.to_json(), encoding="utf-8")
    os.replace(tmp_meta, meta_path)
    return parquet, len(df)


def load_proxies(spec: str | Path = DEFAULT_PROXY_TABLE) -> tuple[pd.DataFrame, DatasetMeta]:
    """A proxy table (embedded name or path), verified against its sidecar's SHA-256 and row count."""
    text = os.fspath(spec)
    path = DATASETS_DIR / text if "/" not in text and os.sep not in text and not text.endswith(".parquet") else Path(text)
    parquet, meta_path = dataset_paths(path)
    if not meta_path.is_file() or not parquet.is_file():
        raise DatasetNotFoundError(f"proxy table {parquet} (with {meta_path.name}) does not exist; compute one with "
                                   "'anb proxies --all --store S' and 'anb proxies --export PATH --store S'")
    meta = DatasetMeta.from_json(meta_path.read_text(encoding="utf-8"))
    if meta.source != PROXY_SOURCE:
        raise DatasetIntegrityError(f"{meta_path} is not a proxy table (source {meta.source!r})")
    if meta.sha256 and file_sha256(parquet) != meta.sha256:
        raise DatasetIntegrityError(f"{parquet} is truncated, corrupted or was modified (SHA-256 differs from "
                                    f"{meta_path.name})")
    df = pd.read_parquet(parquet)
    if len(df) != meta.row_count:
        raise DatasetIntegrityError(f"{parquet} holds {len(df)} rows but {meta_path.name} records {meta.row_count}")
    return df, meta


def proxy_config_of(meta: DatasetMeta) -> ProxyConfig:
    return ProxyConfig.from_dict(dataclasses.asdict(meta)["profile"])
