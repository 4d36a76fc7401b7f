"""Typed, immutable answers of the benchmark: one :class:`MetricValue` per metric, one :class:`ArchitectureRecord`
per queried architecture."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from analognasbench.bench.drift import DriftMeasurement
from analognasbench.bench.errors import UnknownMetricError
from analognasbench.pipeline.schema import METRIC_ALIASES, METRICS, Metric, MetricInfo
from analognasbench.space import Architecture

_BY_NAME: dict[str, Metric] = {m.value: m for m in METRICS}
_BY_NAME.update({alias: Metric(target) for alias, target in METRIC_ALIASES.items()})


def parse_metric(name: str | Metric) -> Metric:
    """A :class:`Metric` from its name; unknown names raise :class:`UnknownMetricError` listing the valid ones."""
    if isinstance(name, Metric):
        return name
    metric = _BY_NAME.get(name) if isinstance(name, str) else None
    if metric is None:
        hint = ""
        if name in ("params", "flops") or (isinstance(name, str) and name.startswith("hw_")):
            where = f"the record's attribute rec.{name} or " if name in ("params", "flops") else ""
            hint = f"; {name!r} is not a measurement: read it with {where}AnalogNASBench.value / metric_array"
        raise UnknownMetricError(f"unknown metric {name!r}; valid metrics: {', '.join(m.value for m in METRICS)} "
                                 f"(also the release's names {', '.join(METRIC_ALIASES)}){hint}")
    return metric


@dataclass(frozen=True, slots=True)
class MetricValue:
    """One metric of one architecture: the mean, its std over R programmings (0 for single evaluations), the raw
    repetitions, and what the number means (``info``: unit, network, hardware, time after programming)."""

    metric: Metric
    mean: float
    std: float
    reps: tuple[float, ...]

    @property
    def info(self) -> MetricInfo:
        return self.metric.info

    @property
    def value(self) -> float:
        return self.mean

    def as_drift(self) -> DriftMeasurement:
        return DriftMeasurement(self.mean, self.std)

    def __str__(self) -> str:
        """``mean ± std``; just the mean where no error is known (std NaN: not published), ``n/a`` if unmeasured."""
        if self.mean != self.mean:
            return "n/a"
        if self.metric.repeated and self.std == self.std:
            return f"{self.mean:.2f} ± {self.std:.2f}"
        return f"{self.mean:.2f}"


@dataclass(frozen=True, slots=True)
class ArchitectureRecord:
    """Everything the dataset knows about one architecture.

    ``arch`` is what was asked for; ``measured`` is the architecture whose row answers it. They differ exactly when
    ``resolved_by_isomorphism`` is true: the dataset measured an isomorphic cell (same network) instead.
    """

    arch: Architecture
    measured: Architecture
    resolved_by_isomorphism: bool
    params: int | None
    flops: float | None
    values: Mapping[Metric, MetricValue]
    row: int  # position of the measured row in ``bench.df``

    def __getitem__(self, metric: str | Metric) -> MetricValue:
        return self.values[parse_metric(metric)]

    def __iter__(self) -> Iterator[MetricValue]:
        return iter(self.values.values())

    def mean(self, metric: str | Metric) -> float:
        return self[metric].mean

    def std(self, metric: str | Metric) -> float:
        return self[metric].std

    def reps(self, metric: str | Metric) -> tuple[float, ...]:
        return self[metric].reps

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (used by ``anb query --json``)."""
        return {
            "arch": list(self.arch),
            "arch_str": self.arch.nb201_str,
            "measured": list(self.measured),
            "resolved_by_isomorphism": self.resolved_by_isomorphism,
            "params": self.params,
            "flops": self.flops,
            "metrics": {
                m.value: {"mean": v.mean, "std": v.std, "reps": list(v.reps), "unit": v.info.unit}
                for m, v in self.values.items()
            },
        }


@dataclass(frozen=True)
class ClassView:
    """The measured members of one isomorphism class: their values, mean and spread.

    A dataset of class representatives holds one member per class (spread NaN). The published release trained
    every cell separately, so a class there holds up to dozens of independent measurements of the same network:
    their spread is the error of one measurement, which the release does not publish otherwise.
    """

    canonical_index: int
    members: tuple[int, ...]  # project indices of the measured members, ascending
    rows: tuple[int, ...]  # their positions in ``bench.df``
    values: Mapping[Metric, tuple[float, ...]]  # per metric, the members' means in ``members`` order

    @property
    def size(self) -> int:
        return len(self.members)

    def of(self, metric: str | Metric) -> tuple[float, ...]:
        return self.values[parse_metric(metric)]

    def mean(self, metric: str | Metric) -> float:
        """Mean over the members that have a value (NaN if none)."""
        v = [x for x in self.of(metric) if x == x]
        return sum(v) / len(v) if v else float("nan")

    def std(self, metric: str | Metric) -> float:
        """Sample std (ddof = 1) over the members that have a value; NaN with fewer than two."""
        v = [x for x in self.of(metric) if x == x]
        if len(v) < 2:
            return float("nan")
        m = sum(v) / len(v)
        return (sum((x - m) ** 2 for x in v) / (len(v) - 1)) ** 0.5

    def spread(self, metric: str | Metric) -> float:
        """Largest minus smallest member value (0 for one member, NaN for none)."""
        v = [x for x in self.of(metric) if x == x]
        return max(v) - min(v) if v else float("nan")
