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


def datasets_holding(column: str) -> list[str]:
    """The embedded datasets that hold at least one value of ``column`` (for "measured in ..." hints in errors:
    reads only that column of each table, unverified; a table that cannot be read is left out)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out = []
    for name in available_datasets():
        try:
            values = pq.read_table(dataset_paths(DATASETS_DIR / name)[0], columns=[column]).column(column)
            if pc.sum(pc.invert(pc.is_nan(values.drop_null()))).as_py():
                out.append(name)
        except (OSError, ValueError, pa.ArrowException):  # a hint only: no such column, or a damaged file
            continue
    return out


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


#: What a dataset argument may be, for error messages.
_EXPECTED = ("expected a dataset path (name.parquet next to its name.json sidecar, or an original-release data.anb) "
             "or an embedded name")


def resolve_dataset(spec: str | os.PathLike[str] | None = None) -> Path:
    """The file behind ``spec``: None (env var, then the default), an embedded name, or a path. Errors say what was
    given, where it came from (``$ANB_DATASET`` when that is what is wrong) and what is expected. Anything but
    None, a str or a path is a TypeError saying what a dataset spec is (not ``os.fspath``'s bare one)."""
    if spec is not None and not isinstance(spec, (str, os.PathLike)):
        raise TypeError(f"a dataset must be given as a path or an embedded name, not {type(spec).__name__} "
                        f"{spec!r:.80}: {_EXPECTED}, or None for ${ENV_VAR} or the default ({DEFAULT_DATASET})")
    env = os.environ.get(ENV_VAR) if spec is None else None
    if env:
        return _resolve(env, f"${ENV_VAR}={env}", f"set ${ENV_VAR} to a dataset path (name.parquet next to its "
                        f"name.json sidecar, or an original-release data.anb) or an embedded name, or unset it to "
                        f"load the default ({DEFAULT_DATASET})")
    text = DEFAULT_DATASET if spec is None else os.fsdecode(spec)
    return _resolve(text, "", _EXPECTED)


def _resolve(text: str, origin: str, expected: str) -> Path:
    """:func:`resolve_dataset` of ``text``; errors start with ``origin`` (where ``text`` came from) and end with
    ``expected``."""
    prefix = f"{origin}: " if origin else ""
    if not text.strip():
        raise DatasetNotFoundError("the dataset name is empty", f"{expected} ({_embedded_names()})")
    text = ALIASES.get(text, text) if not Path(text).exists() else text
    if os.sep not in text and "/" not in text and Path(text).suffix == "":
        embedded = DATASETS_DIR / text
        if dataset_paths(embedded)[1].is_file():
            return embedded
        if not Path(text).exists() and not dataset_paths(text)[1].is_file():
            raise DatasetNotFoundError(f"{origin or repr(text)} is not a known dataset: no such embedded dataset or "
                                       f"file ({_embedded_names()})", expected)
    path = Path(text).expanduser()
    if path.is_dir():
        raise DatasetNotFoundError(f"{prefix}{path} is a directory", expected)
    if path.suffix in ORIGINAL_SUFFIXES:
        if not path.is_file():
            raise DatasetNotFoundError(f"{prefix}original-release pickle {path} does not exist")
        return path
    parquet, meta = dataset_paths(path)
    if path.is_file() and path not in (parquet, meta) and not meta.is_file():
        raise DatasetNotFoundError(f"{prefix}{path} is not a dataset file", expected)
    if not meta.is_file():
        if not parquet.exists():
            raise DatasetNotFoundError(f"{prefix}dataset {parquet} does not exist", expected)
        raise DatasetNotFoundError(f"{prefix}dataset {parquet} has no metadata sidecar {meta}; a table without its "
                                   "sidecar is not a dataset")
    return parquet.with_suffix("")


def _embedded_names() -> str:
    names = available_datasets()
    return (f"embedded: {', '.join(names)}" if names
            else f"no embedded dataset is shipped yet; pass a path or set ${ENV_VAR}")


def load(spec: str | os.PathLike[str] | None = None, *, verify: bool = True,
         on_invalid: str = "raise") -> tuple[pd.DataFrame, DatasetMeta, Path]:
    """``(frame, metadata, path)`` of any dataset ``spec`` names, verified (checksum unless ``verify=False``) and
    its values checked (``on_invalid="drop"`` drops failing rows instead of refusing the dataset)."""
    if not isinstance(verify, bool):  # verify="no" is truthy: it must not silently mean "verify"
        raise TypeError(f"verify must be True or False, got {verify!r:.80}")
    path = resolve_dataset(spec)
    if path.suffix in ORIGINAL_SUFFIXES:
        from analognasbench.bench.validate import validate_frame
        from analognasbench.release.original import load_original

        df, meta = load_original(path)
        return validate_frame(df, str(path), on_invalid), meta, path
    df, meta = read_dataset(path, verify=verify, on_invalid=on_invalid)
    return df, meta, dataset_paths(path)[0]
