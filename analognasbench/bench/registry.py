"""Where datasets come from: the ones embedded in the package, a path, or the original release's pickle.

``AnalogNASBench()`` with no argument loads the dataset named by the environment variable ``ANB_DATASET`` (an embedded
name or a path) or else :data:`DEFAULT_DATASET` from ``analognasbench/bench/datasets/``.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pandas as pd

from analognasbench.bench.errors import DatasetNotFoundError
from analognasbench.bench.files import DatasetMeta, dataset_paths, read_dataset

#: Name of the embedded dataset that ``AnalogNASBench()`` loads by default.
DEFAULT_DATASET = "analognas-original"
#: Environment variable that overrides the default: an embedded dataset's name or a path.
ENV_VAR = "ANB_DATASET"
DATASETS_DIR = Path(__file__).resolve().parent / "datasets"
#: Embedded datasets that have a higher-fidelity measurement of some of their architectures (their fidelity check).
FIDELITY_REFERENCES = {"cifar10-lowcost": "cifar10-highfid-check"}
#: Embedded datasets that have some of their architectures trained again from another seed (their seed check).
SEED_CHECKS = {"cifar10-lowcost": "cifar10-seed1-check"}
#: Short names accepted wherever an embedded dataset's name is.
ALIASES = {"original": "analognas-original", "release": "analognas-original"}
#: File suffixes read as original-release pickles.
ORIGINAL_SUFFIXES = (".anb", ".pkl", ".pickle")


#: ``source`` of embedded tables that hold proxy estimates, not measurements (read by ``analognasbench.predict``).
PROXY_SOURCE = "zero-cost-proxies"


def available_datasets() -> list[str]:
    """Names of the measured datasets embedded in the installed package (proxy tables are not datasets).

    Many calls ask this (every embedded-name lookup, the fidelity and seed checks), so the sidecars are read once
    per state of the directory: the answer is cached on the listing with each file's size and modification time,
    and a dataset written, replaced or removed since shows at the next call."""
    return list(_dataset_names(_listing(DATASETS_DIR)))


def _listing(directory: Path) -> tuple[str, tuple[tuple[str, int, int], ...]]:
    """``(directory, ((name, mtime_ns, size), ...))`` of the dataset files in ``directory``: the cache key."""
    entries = []
    try:
        with os.scandir(directory) as it:
            for entry in it:
                if entry.name.endswith((".json", ".parquet")) and entry.is_file():
                    stat = entry.stat()
                    entries.append((entry.name, stat.st_mtime_ns, stat.st_size))
    except FileNotFoundError:
        pass
    return str(directory), tuple(sorted(entries))


@functools.lru_cache(maxsize=16)
def _dataset_names(listing: tuple[str, tuple[tuple[str, int, int], ...]]) -> tuple[str, ...]:
    directory, entries = Path(listing[0]), listing[1]
    names = {name for name, _, _ in entries}
    out = []
    for name in sorted(names):
        stem = name.removesuffix(".json")
        if (stem != name and f"{stem}.parquet" in names
                and json.loads((directory / name).read_text()).get("source") != PROXY_SOURCE):
            out.append(stem)
    return tuple(out)


def fidelity_reference(name: str) -> str | None:
    """The embedded fidelity-check dataset of the embedded dataset ``name``, if it is shipped."""
    return _shipped(FIDELITY_REFERENCES.get(name))


def seed_check(name: str) -> str | None:
    """The embedded seed-check dataset (other training seeds) of the embedded dataset ``name``, if it is shipped."""
    return _shipped(SEED_CHECKS.get(name))


def shipped_release() -> str | None:
    """The embedded published release (``analognas-original``), if shipped."""
    return _shipped(ALIASES["original"])


def _shipped(name: str | None) -> str | None:
    return name if name in available_datasets() else None


def resolve_dataset(spec: str | os.PathLike[str] | None = None) -> Path:
    """The file behind ``spec``: None (env var, then the default), an embedded name, or a path."""
    if spec is None:
        spec = os.environ.get(ENV_VAR) or DEFAULT_DATASET
        origin = f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "the default dataset"
    else:
        origin = "the requested dataset"
    text = os.fspath(spec)
    text = ALIASES.get(text, text) if not Path(text).exists() else text
    if os.sep not in text and "/" not in text and Path(text).suffix == "":
        embedded = DATASETS_DIR / text
        if dataset_paths(embedded)[1].is_file():
            return embedded
        if not Path(text).exists() and not dataset_paths(text)[1].is_file():
            names = available_datasets()
            shipped = f"embedded datasets: {', '.join(names)}" if names else (
                "no embedded dataset is shipped yet (the pipeline has not produced one)")
            raise DatasetNotFoundError(
                f"{origin} {text!r} is not an embedded dataset; {shipped}. Pass a dataset path "
                f"(AnalogNASBench('path/to/name.parquet'), an original 'data.anb') or set ${ENV_VAR}")
    path = Path(text).expanduser()
    if path.suffix in ORIGINAL_SUFFIXES:
        if not path.is_file():
            raise DatasetNotFoundError(f"original-release pickle {path} does not exist")
        return path
    parquet, meta = dataset_paths(path)
    if not meta.is_file():
        raise DatasetNotFoundError(f"dataset {parquet} has no metadata sidecar {meta} (or does not exist)")
    return parquet.with_suffix("")


def load(spec: str | os.PathLike[str] | None = None, *, verify: bool = True,
         on_invalid: str = "raise") -> tuple[pd.DataFrame, DatasetMeta, Path]:
    """``(frame, metadata, path)`` of any dataset ``spec`` names, verified (checksum unless ``verify=False``) and
    its values checked (``on_invalid="drop"`` drops failing rows instead of refusing the dataset)."""
    path = resolve_dataset(spec)
    if path.suffix in ORIGINAL_SUFFIXES:
        from analognasbench.bench.validate import validate_frame
        from analognasbench.release.original import load_original

        df, meta = load_original(path)
        return validate_frame(df, str(path), on_invalid), meta, path
    df, meta = read_dataset(path, verify=verify, on_invalid=on_invalid)
    return df, meta, dataset_paths(path)[0]
