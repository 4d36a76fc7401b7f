"""The common loop of the Optuna samplers as search methods (``optuna_tpe``, ``optuna_random``, ``optuna_nsga2``).

Each method is an Optuna sampler driven by ask-and-tell on an in-memory study: a trial suggests a cell through
:func:`analognasbench.integrations.optuna.suggest_architecture` (six categorical edges over the whole space), the
cell goes to ``ctx.evaluate`` and the observation is told back. So the budget is counted exactly as for the
paper's methods: only the first evaluation of a class is charged; a repeated or isomorphic cell is free; the
search stops when the context says so (budget, ``Budget.max_stale`` free proposals in a row, every class
evaluated). A repeat is told its cached value (Optuna's advice for duplicates), except where ``tell_repeats`` is
False (NSGA-II): there it is told as a failed trial, which keeps it out of the populations.

A cell whose class the dataset lacks, or one over the parameter cap, is free too and is told the *worst* value any
candidate has (per term). The paper's methods search the space conditioned on candidates (``ctx.sample``,
``ctx.mutate``); a sampler over six independent categorical edges cannot be restricted to an arbitrary subset, so
it is steered away from non-candidates instead. Telling them as failed trials does not work: samplers skip failed
trials, so TPE keeps proposing the same unmeasured cell (on a table of 496 classes it stopped after 16
evaluations, 2,000 free proposals in a row) and NSGA-II's populations fill slowly. On the release every cell is
measured, so without a parameter cap this never happens.

Under a multi-objective (``--objectives``) the study has one direction per term and is told every term
(``ctx.vector``), so TPE becomes MOTPE and NSGA-II ranks by non-domination; otherwise it maximises the single
objective. The sampler's seed is drawn from the run's seeded generator, so ``--seed`` fixes the whole run.
Optuna is optional: :meth:`check_available` raises the one-line error naming the ``optuna`` extra.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np

from analognasbench.search.base import BudgetExhausted, SearchContext, SearchMethod
from analognasbench.search.multiobjective import MultiObjectiveContext, term_arrays


class OptunaSearch(SearchMethod):
    """Base of the methods that run an Optuna sampler (abstract: subclasses build the sampler)."""

    paper_evaluator = "tabular"  # not in the paper; the table is what a user's Optuna study queries
    #: The in-memory Optuna study of the last run (every proposal as a trial), e.g. for Optuna's plots.
    study: Any = None
    #: Tell a repeated cell its cached value (True), or tell it as a failed trial so that the sampler never holds
    #: a cell twice (False: duplicate elimination, for genetic algorithms).
    tell_repeats: ClassVar[bool] = True

    @classmethod
    def check_available(cls) -> None:
        from analognasbench.integrations.optuna import check_optuna

        check_optuna(f"search method {cls.name}")

    @abstractmethod
    def sampler(self, optuna: Any, seed: int) -> Any:
        """The Optuna sampler of this method, seeded with ``seed``."""

    def _search(self, ctx: SearchContext, rng: np.random.Generator) -> None:
        from analognasbench.integrations.optuna import optuna_direction, quiet_optuna, suggest_architecture

        multi = ctx if isinstance(ctx, MultiObjectiveContext) else None
        directions = [optuna_direction(t) for t in multi.terms] if multi else ["maximize"]
        worst = _worst_candidate(ctx)
        seed = int(rng.integers(2**32 - 1))  # numpy's legacy RandomState, which Optuna seeds, takes < 2**32
        with quiet_optuna() as optuna:
            study = self.study = optuna.create_study(directions=directions, sampler=self.sampler(optuna, seed))
            while True:  # ctx.evaluate raises BudgetExhausted to stop
                ctx.next_round()
                trial = study.ask()
                arch = suggest_architecture(trial)
                repeat = ctx.is_candidate(arch) and ctx.is_evaluated(arch)
                value = ctx.evaluate(arch)
                if repeat and not self.tell_repeats:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                elif value is None:
                    study.tell(trial, worst)
                elif multi:
                    study.tell(trial, multi.vector(arch).tolist())
                else:
                    study.tell(trial, value)


def _worst_candidate(ctx: SearchContext) -> float | list[float]:
    """What a non-candidate proposal is told: per term the worst value the search could observe on a candidate."""
    evaluator = ctx.evaluator
    rows = evaluator.row_of_cells()[ctx.candidate_classes()]
    if not rows.size:  # as ctx.sample says it
        raise BudgetExhausted("no candidate architecture: the dataset holds none within the constraints")
    if isinstance(ctx, MultiObjectiveContext):
        points = term_arrays(evaluator, ctx.objective, observed=True)[rows]
        signs = np.where(np.asarray(ctx.maximize), 1.0, -1.0)
        return (np.nanmin(points * signs, axis=0) * signs).tolist()
    return float(np.nanmin(evaluator.observed(ctx.objective.metric)[rows]))
