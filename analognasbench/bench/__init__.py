"""The benchmark query API: load a measured dataset once and ask it about architectures, typed and fast.

>>> from analognasbench.bench import AnalogNASBench        # doctest: +SKIP
>>> bench = AnalogNASBench()                               # embedded default, or $ANB_DATASET, or a path
>>> rec = bench.query("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|")
>>> rec["analog_drift_86400"].mean, rec.resolved_by_isomorphism

The original release's interface lives in :mod:`analognasbench.data` (``query_metric`` and friends, same object).
Datasets are ``<name>.parquet`` + ``<name>.json`` (:func:`write_dataset` / :func:`read_dataset`); the original
``data.anb`` pickle loads through the restricted unpickler of :mod:`analognasbench.release`, which also imports the
published release. Whether a dataset is good enough and how it ranks against the release:
:mod:`analognasbench.fidelity`.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any

from analognasbench.bench.benchmark import (
    COMPAT_METRICS,
    DETAILS_NOT_FOUND,
    NOT_FOUND,
    AnalogNASBench,
    Benchmark,
    Coverage,
    format_details,
)
from analognasbench.bench.drift import DriftMeasurement, parse_drift
from analognasbench.bench.errors import (
    BenchmarkError,
    DatasetError,
    DatasetIntegrityError,
    DatasetNotFoundError,
    UnknownArchitectureError,
    UnknownMetricError,
    UnmeasuredArchitectureError,
    UnsafePickleError,
)
from analognasbench.bench.files import DatasetMeta, dataset_paths, read_dataset, read_meta, write_dataset
from analognasbench.bench.records import ArchitectureRecord, ClassView, MetricValue, parse_metric
from analognasbench.bench.registry import (
    DATASETS_DIR,
    DEFAULT_DATASET,
    ENV_VAR,
    available_datasets,
    resolve_dataset,
)

#: Modules that moved out of ``bench`` (old name -> new name). The old names still import, as the same module
#: object, with a DeprecationWarning; no file is left at the old path, so a branch that edits the old file merges
#: into the new one (git follows the rename).
MOVED_MODULES = {
    "analognasbench.bench.quality": "analognasbench.fidelity.quality",
    "analognasbench.bench.calibration": "analognasbench.fidelity.calibration",
    "analognasbench.bench.original": "analognasbench.release.original",
    "analognasbench.bench.pickle_scan": "analognasbench.release.pickle_scan",
    "analognasbench.bench.import_original": "analognasbench.release.import_original",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import hook answering :data:`MOVED_MODULES`' old names with the moved module itself."""

    def __init__(self) -> None:
        self._specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        return importlib.util.spec_from_loader(fullname, self) if fullname in MOVED_MODULES else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED_MODULES[spec.name]
        warnings.warn(f"{spec.name} moved to {new}; import it from there", DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        self._specs[spec.name] = module.__spec__  # the import system sets the old name's spec on it: undone below
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run (the moved module is already imported); give the module back its own spec."""
        module.__spec__ = self._specs.pop(module.__spec__.name, module.__spec__)


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())

__all__ = [
    "COMPAT_METRICS",
    "DATASETS_DIR",
    "DEFAULT_DATASET",
    "DETAILS_NOT_FOUND",
    "ENV_VAR",
    "NOT_FOUND",
    "AnalogNASBench",
    "ArchitectureRecord",
    "Benchmark",
    "BenchmarkError",
    "ClassView",
    "Coverage",
    "DatasetError",
    "DatasetIntegrityError",
    "DatasetMeta",
    "DatasetNotFoundError",
    "DriftMeasurement",
    "MetricValue",
    "UnknownArchitectureError",
    "UnknownMetricError",
    "UnmeasuredArchitectureError",
    "UnsafePickleError",
    "available_datasets",
    "dataset_paths",
    "format_details",
    "parse_drift",
    "parse_metric",
    "read_dataset",
    "read_meta",
    "resolve_dataset",
    "write_dataset",
]
