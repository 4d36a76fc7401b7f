"""Evaluators: what a search observes when it evaluates an architecture.

* :class:`TabularEvaluator` answers from the measured table, as the original release's examples query the benchmark.
* :class:`SurrogateEvaluator` answers with an XGBoost regressor trained on a seeded sample of measured architectures
  (the AnalogNAS-Bench paper uses 900), as the paper does for every method but BANANAS, NAS4RRAM, NACIM and Gibbon.
  It predicts only for measured classes, so the final architecture can always be reported with measured values.

Both take a pandas DataFrame in the dataset schema (one row per measured isomorphism class: ``arch_index`` and/or
``canonical_index``, metric columns ``m``/``m_std``/``m_reps``, ``params``), or anything with such a ``.df``
(:func:`from_bench`, e.g. an ``AnalogNASBench``). Cells whose class has no row are unmeasured.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from analognasbench.enums import ClosedSet
from analognasbench.pipeline.schema import Metric
from analognasbench.search.base import Evaluator, Measurement, UnmeasuredArchitecture
from analognasbench.space import NUM_ARCHITECTURES, from_index, parse
from analognasbench.space.features import Encoding, cell_canonical, encode

log = logging.getLogger(__name__)

#: Training-set size of the paper's surrogate.
PAPER_SURROGATE_SAMPLES = 900


class EvaluatorKind(ClosedSet, what="evaluator"):
    TABULAR = "tabular"
    SURROGATE = "surrogate"


class TabularEvaluator(Evaluator):
    """Answers every query with the measured table (mean over repetitions)."""

    kind: ClassVar[str] = "tabular"

    def __init__(self, df: pd.DataFrame):
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"expected a pandas DataFrame in the dataset schema, got {type(df).__name__}")
        if "canonical_index" in df.columns:
            canon = df["canonical_index"].to_numpy(dtype=np.int64)
        elif "arch_index" in df.columns:
            canon = cell_canonical()[df["arch_index"].to_numpy(dtype=np.int64)]
        else:
            raise ValueError("the dataset needs an 'arch_index' or 'canonical_index' column (one row per class)")
        if len(canon) == 0:
            raise ValueError("the dataset has no rows")
        if canon.min() < 0 or canon.max() >= NUM_ARCHITECTURES:
            raise ValueError(f"architecture indices must be 0..{NUM_ARCHITECTURES - 1}")
        canon = cell_canonical()[canon]  # tolerate a non-representative index in canonical_index
        cells = df["arch_index"].to_numpy(dtype=np.int64) if "arch_index" in df.columns else canon
        #: True when the table holds several separately measured members of a class (the original release):
        #: then every measured cell is its own candidate with its own value, as the release measured it.
        self.members = bool(pd.Series(canon).duplicated().any() and not pd.Series(cells).duplicated().any())
        if self.members:
            order = np.argsort(cells, kind="stable")
            self.df = df.iloc[order].reset_index(drop=True)
            self._canon, self._cells = canon[order], cells[order]
            row_of_cell = np.full(NUM_ARCHITECTURES, -1, dtype=np.int64)
            row_of_cell[self._cells] = np.arange(len(self._cells))
            # An unmeasured cell is answered by the lowest measured member of its class.
            first = ~pd.Series(self._canon).duplicated().to_numpy()
            row_of_class = np.full(NUM_ARCHITECTURES, -1, dtype=np.int64)
            row_of_class[self._canon[first]] = np.flatnonzero(first)
            self._row = np.where(row_of_cell >= 0, row_of_cell, row_of_class[cell_canonical()])
        else:
            keep = ~pd.Series(canon).duplicated().to_numpy()
            if not keep.all():
                log.warning("dataset has %d rows of already-present classes; keeping the first of each", (~keep).sum())
            self.df = df.loc[keep].reset_index(drop=True)
            self._canon = canon[keep]
            self._cells = self._canon
            row_of_class = np.full(NUM_ARCHITECTURES, -1, dtype=np.int64)
            row_of_class[self._canon] = np.arange(len(self._canon))
            self._row = row_of_class[cell_canonical()]
        self._row.setflags(write=False)
        self._cols: dict[str, np.ndarray] = {}

    # ----- table access -----------------------------------------------------------------------------------------
    def column(self, name: str) -> np.ndarray:
        """A numeric column as float64 (cached, read-only: every search on this evaluator shares it)."""
        if name not in self._cols:
            if name not in self.df.columns:
                have = [m.value for m in Metric if m.value in self.df.columns]
                raise ValueError(f"the dataset has no column {name!r}; metrics present: {', '.join(have) or 'none'}")
            values = self.df[name].to_numpy(dtype=np.float64)  # a copy when the column is not float64
            values.setflags(write=False)
            self._cols[name] = values
        return self._cols[name]

    def row_of_cells(self) -> np.ndarray:
        return self._row

    def row(self, arch: Iterable[int]) -> int:
        """Table row of ``arch``'s class; raises :class:`UnmeasuredArchitecture`."""
        a = parse(arch)
        row = int(self._row[a.index])
        if row < 0:
            raise UnmeasuredArchitecture(f"no measurement for {a} (class representative "
                                         f"{from_index(int(cell_canonical()[a.index]))}) in this dataset")
        return row

    @property
    def measured_classes(self) -> np.ndarray:
        """Canonical indices of the measured rows' classes, in table order."""
        return self._canon

    @property
    def measured_cells(self) -> np.ndarray:
        """Project index of the architecture each row measured (its class representative in class mode)."""
        return self._cells

    def measured(self, metric: Metric) -> np.ndarray:
        return self.column(Metric.parse(metric).value)

    def observed(self, metric: Metric) -> np.ndarray:
        return self.measured(metric)

    def params(self) -> np.ndarray:
        if "params" not in self.df.columns:
            return np.full(len(self.df), np.nan)
        return self.column("params")

    def std(self, metric: Metric) -> np.ndarray:
        name = f"{Metric.parse(metric).value}_std"
        return self.column(name) if name in self.df.columns else np.zeros(len(self.df))

    def noisy_draw(self, row: int, metric: Metric, rng: np.random.Generator) -> float:
        """One stored repetition when the dataset keeps them (``m_reps``), else mean + std * N(0, 1)."""
        metric = Metric.parse(metric)
        reps_col = f"{metric.value}_reps"
        if reps_col in self.df.columns:
            reps = self.df[reps_col].iat[row]
            if reps is not None and not (np.isscalar(reps) and pd.isna(reps)):
                reps = np.asarray(reps, dtype=np.float64).ravel()
                if reps.size:
                    return float(reps[rng.integers(reps.size)])
        mean = self.observed(metric)[row]
        return float(mean + self.std(metric)[row] * rng.standard_normal())

    def measurement(self, arch: Iterable[int]) -> Measurement:
        a = parse(arch)
        row = self.row(a)
        values = {m.value: float(self.column(m.value)[row]) for m in Metric if m.value in self.df.columns}
        return Measurement(a, int(self._canon[row]), float(self.params()[row]), values)

    def optimum(self, metric: Metric | str, params_cap: float | None = None) -> tuple[int, float]:
        """(index, value) of the best measured row: the exhaustive optimum that regret refers to. The index is the
        measured cell's (with several members of a class, the release's best measured cell), which in a table of
        class representatives is the class's canonical index."""
        values = self.measured(Metric.parse(metric)).copy()
        if params_cap is not None:
            values[~(self.params() <= params_cap)] = np.nan
        if not np.isfinite(values).any():
            raise ValueError("no measured architecture satisfies the constraints")
        best = int(np.nanargmax(values))
        return int(self._cells[best]), float(values[best])


class SurrogateEvaluator(TabularEvaluator):
    """Answers with an XGBoost regressor per metric, trained on ``n_train`` measured classes drawn with ``seed``.

    Models are trained lazily, once per metric, and predict all measured classes at once (so a search pays one
    array lookup per query). Trees are capped (``n_estimators``) to keep ten-seed comparisons fast.
    """

    kind: ClassVar[str] = "surrogate"

    def __init__(self, df: pd.DataFrame, n_train: int = PAPER_SURROGATE_SAMPLES, seed: int = 0,
                 encoding: Encoding | str = Encoding.BOTH, n_estimators: int = 150, max_depth: int = 6,
                 learning_rate: float = 0.1):
        super().__init__(df)
        if not isinstance(n_train, (int, np.integer)) or n_train < 2:
            raise ValueError(f"n_train must be an integer >= 2; got {n_train!r}")
        self.encoding = Encoding.parse(encoding)
        self.seed, self.n_estimators, self.max_depth, self.learning_rate = int(seed), n_estimators, max_depth, learning_rate
        n = len(self.df)
        if n_train > n:
            log.warning("surrogate asked for %d training architectures but the dataset has %d; using all", n_train, n)
        rng = np.random.default_rng(self.seed)
        self.train_rows = np.sort(rng.choice(n, size=min(n_train, n), replace=False))
        self._x = encode(self._cells, self.encoding)
        self._pred: dict[str, np.ndarray] = {}

    def observed(self, metric: Metric) -> np.ndarray:
        """The cached predictions, read-only as the table's columns are: every later search on this evaluator
        reads the same array, so a caller's in-place write must fail rather than change their results."""
        metric = Metric.parse(metric)
        if metric.value not in self._pred:
            pred = self._fit_predict(metric)
            pred.setflags(write=False)
            self._pred[metric.value] = pred
        return self._pred[metric.value]

    def _fit_predict(self, metric: Metric) -> np.ndarray:
        import xgboost as xgb

        y = self.measured(metric)[self.train_rows]
        ok = np.isfinite(y)
        if ok.sum() < 2:
            raise ValueError(f"fewer than 2 training architectures have a value for {metric.value}")
        params = {"max_depth": self.max_depth, "eta": self.learning_rate, "subsample": 0.9, "seed": self.seed,
                  "nthread": 1, "tree_method": "hist", "objective": "reg:squarederror"}
        train = xgb.DMatrix(self._x[self.train_rows[ok]], label=y[ok])
        booster = xgb.train(params, train, num_boost_round=self.n_estimators)
        pred = booster.predict(xgb.DMatrix(self._x)).astype(np.float64)
        pred[~np.isfinite(self.measured(metric))] = np.nan  # nothing to report for these: keep them out of reach
        log.info("surrogate for %s trained on %d architectures", metric.value, int(ok.sum()))
        return pred

    def noisy_draw(self, row: int, metric: Metric, rng: np.random.Generator) -> float:
        """The prediction plus the measured repetition spread: mean-free noise of the stored std."""
        return float(self.observed(metric)[row] + self.std(metric)[row] * rng.standard_normal())


def make_evaluator(kind: EvaluatorKind | str, df: pd.DataFrame, seed: int = 0, **options: Any) -> TabularEvaluator:
    """``tabular`` or ``surrogate`` evaluator on ``df`` (options go to :class:`SurrogateEvaluator`)."""
    kind = EvaluatorKind.parse(kind)
    if kind is EvaluatorKind.TABULAR:
        if options:
            raise ValueError(f"the tabular evaluator takes no options; got {sorted(options)}")
        return TabularEvaluator(df)
    return SurrogateEvaluator(df, seed=seed, **options)


def from_bench(bench: Any, kind: EvaluatorKind | str = EvaluatorKind.TABULAR, seed: int = 0,
               **options: Any) -> TabularEvaluator:
    """Evaluator over a benchmark object: anything with a ``.df`` in the dataset schema (e.g. ``AnalogNASBench``)."""
    df = getattr(bench, "df", None)
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"expected a benchmark with a pandas DataFrame .df; got {type(bench).__name__}")
    return make_evaluator(kind, df, seed=seed, **options)
