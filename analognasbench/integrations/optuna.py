"""Optuna on the benchmark: a cell suggested from a trial, and objectives answered from the table.

A user's own study needs two things from the benchmark. :func:`suggest_architecture` turns a trial into a cell
(six categorical parameters ``edge_1_2`` ... ``edge_3_4``, one per edge in the project's edge order, each an op
index 0-4, see :mod:`analognasbench.space`). :class:`TableObjective` is a ready objective for one metric or several:
any name ``anb search --objective/--objectives`` accepts (``NAME``, ``NAME:max``, ``NAME:min``; metrics default to
max, ``hw_*`` cost-model columns to min), answered with the dataset's measured means and the cost model::

    objective = TableObjective(bench, ["analog_drift_86400", "hw_energy_uj"])
    study = optuna.create_study(directions=objective.directions)
    study.optimize(objective, n_trials=100)

The search methods ``optuna_tpe``, ``optuna_random`` and ``optuna_nsga2`` (``analognasbench.search``) drive
Optuna's samplers through the same :func:`suggest_architecture`, under the benchmark's budget and caching.

Optuna is optional (``pip install "analognasbench[optuna]"``); it is imported when first needed, and a missing
Optuna raises :class:`~analognasbench.integrations.MissingExtraError` naming the extra.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterable, Iterator, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from analognasbench import hardware
from analognasbench.integrations import MissingExtraError
from analognasbench.pipeline.schema import Metric
from analognasbench.search.base import DEFAULT_METRIC
from analognasbench.search.evaluators import from_bench
from analognasbench.search.multiobjective import ObjectiveTerm
from analognasbench.space import EDGES, NUM_OPS, Architecture, parse

#: Trial parameter of each edge, in the project's edge order ((1->2), (1->3), (1->4), (2->3), (2->4), (3->4)).
EDGE_PARAMS: tuple[str, ...] = tuple(f"edge_{i}_{j}" for i, j in EDGES)
#: The categorical choices of every edge: op indices (0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1,
#: 4 avg_pool_3x3).
OP_CHOICES: tuple[int, ...] = tuple(range(NUM_OPS))


def require_optuna(what: str = "the Optuna integration") -> ModuleType:
    """The ``optuna`` module; :class:`MissingExtraError` naming the ``optuna`` extra when it is not installed."""
    try:
        import optuna
    except ImportError:
        raise MissingExtraError("optuna", "optuna", what) from None
    return optuna


def check_optuna(what: str = "the Optuna integration") -> None:
    """Raise :class:`MissingExtraError` when Optuna is not installed, without importing it (``anb`` asks this of
    every method while building its help, and importing Optuna takes a while)."""
    if importlib.util.find_spec("optuna") is None:
        raise MissingExtraError("optuna", "optuna", what)


def suggest_architecture(trial: Any) -> Architecture:
    """The cell an Optuna trial (``optuna.Trial``) suggests: one categorical op index per edge."""
    return Architecture(tuple(trial.suggest_categorical(name, OP_CHOICES) for name in EDGE_PARAMS))


def architecture_params(arch: Iterable[int] | str | int) -> dict[str, int]:
    """The trial parameters of a cell (any encoding), e.g. for ``study.enqueue_trial`` to start from known cells."""
    return dict(zip(EDGE_PARAMS, parse(arch)))


@contextlib.contextmanager
def quiet_optuna() -> Iterator[ModuleType]:
    """Optuna with its per-trial INFO lines silenced inside the block (warnings still show); the verbosity the
    caller had is restored afterwards, so a user's own logging setting is left alone."""
    optuna = require_optuna()
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield optuna
    finally:
        optuna.logging.set_verbosity(before)


def optuna_direction(term: ObjectiveTerm) -> str:
    """Optuna's name of a term's direction."""
    return "maximize" if term.maximize else "minimize"


class TableObjective:
    """An Optuna objective answered from a benchmark table: measured means of metrics, cost-model ``hw_*`` values.

    ``objectives`` is one name or a sequence of names as ``anb search --objective/--objectives`` takes them. One
    name gives a single-objective callable returning a float; several give a tuple, in order. ``directions`` is
    what ``optuna.create_study(directions=...)`` needs. ``hw_*`` columns are computed on ``chip`` for the dataset's
    network size (as ``anb search --objectives`` does). A cell is answered by its row: its own measurement on the
    release, its class's where the table holds one row per class. A cell whose class the table does not hold (or
    whose value is missing) answers NaN, which Optuna records as a failed trial that samplers skip.
    """

    def __init__(self, bench: Any = None, objectives: str | ObjectiveTerm | Sequence[str | ObjectiveTerm] =
                 DEFAULT_METRIC.value, *, chip: str | hardware.ChipPreset = hardware.DEFAULT_CHIP.value) -> None:
        if bench is None:
            from analognasbench.bench import AnalogNASBench

            bench = AnalogNASBench()
        names = [objectives] if isinstance(objectives, (str, ObjectiveTerm)) else list(objectives)
        if not names:
            raise ValueError("an objective needs at least one metric or hw_* column")
        self.terms = tuple(ObjectiveTerm.parse(t) for t in names)
        if len({t.name for t in self.terms}) != len(self.terms):
            raise ValueError(f"objective terms must be distinct; got {', '.join(t.name for t in self.terms)}")
        evaluator = from_bench(bench)
        self._row = evaluator.row_of_cells()
        costs = None
        if any(t.is_cost for t in self.terms):
            from analognasbench.bench.costs import cost_columns

            costs = cost_columns(evaluator.df, getattr(bench, "meta", None), chip)
        columns = [costs[t.name].to_numpy(dtype=np.float64) if t.is_cost and costs is not None
                   else evaluator.measured(Metric.parse(t.name)) for t in self.terms]
        self._values = np.stack(columns, axis=1)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.terms)

    @property
    def directions(self) -> list[str]:
        """Per term ``"maximize"`` or ``"minimize"``, for ``optuna.create_study(directions=...)``."""
        return [optuna_direction(t) for t in self.terms]

    def values(self, arch: Iterable[int] | str | int) -> tuple[float, ...]:
        """Every term of a cell (any encoding); NaN where the table has no value."""
        row = int(self._row[parse(arch).index])
        if row < 0:
            return (float("nan"),) * len(self.terms)
        return tuple(float(v) for v in self._values[row])

    def __call__(self, trial: Any) -> float | tuple[float, ...]:
        values = self.values(suggest_architecture(trial))
        return values[0] if len(values) == 1 else values

    def __repr__(self) -> str:
        return f"TableObjective({', '.join(str(t) for t in self.terms)})"


__all__ = ["EDGE_PARAMS", "OP_CHOICES", "MissingExtraError", "TableObjective", "architecture_params",
           "check_optuna", "optuna_direction", "quiet_optuna", "require_optuna", "suggest_architecture"]
