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
