"""``anb compare``: every search method over K seeds -> Table 1, anytime curves, regret and the figure."""

from __future__ import annotations

import argparse
import sys

from analognasbench.bench.cliutil import CLIError, check_output_dir
from analognasbench.cli.search import (
    DEFAULT_BUDGET,
    add_search_arguments,
    check_budget,
    check_surrogate_samples,
    make_objective,
    open_searchable,
)
from analognasbench.search.compare import (
    CompareConfig,
    Comparison,
    default_methods,
    hypervolume_reference,
    run_comparison,
    unavailable_methods,
    write_outputs,
)
from analognasbench.search.evaluators import TabularEvaluator
from analognasbench.space.features import cell_canonical


def _run(args: argparse.Namespace) -> int:
    check_budget(args.budget, None)
    if args.seeds < 1 or args.workers < 1:
        raise CLIError(f"--seeds and --workers must be >= 1; got {args.seeds}, {args.workers}")
    check_surrogate_samples(args)
    bench = open_searchable(args)
    config = CompareConfig(methods=tuple(args.methods or default_methods()), seeds=args.seeds,
                           budget=DEFAULT_BUDGET if args.budget is None else args.budget,
                           objective=make_objective(args, bench),
                           evaluator=args.evaluator, surrogate_samples=args.surrogate_samples, workers=args.workers)
    hypervolume_reference(TabularEvaluator(bench.df), config.objective)
    # Every input checked: only now the output directory is created (bad input leaves none), before the runs.
    out = check_output_dir(args.out, "--out")
    if not args.methods:
        for name, reason in unavailable_methods().items():
            print(f"anb compare: note: {name} left out ({reason})", file=sys.stderr)
    comparison = run_comparison(bench.df, config)
    paths = write_outputs(comparison, out)
    table = comparison.table1(formatted=True)
    print(table.to_string(index=False))
    print(table.attrs.get("avm", ""))
    print(f"exhaustive optimum: {comparison.optimum:.2f} % ({optimum_label(comparison)}); {config.seeds} seeds, "
          f"budget {config.budget}, evaluator {config.evaluator.value}")
    if comparison.hv_reference is not None:
        where = "--hv-reference" if args.hv_reference else "the worst value of each objective in the dataset"
        print(f"hypervolume of the exhaustive front: {comparison.hv_optimum:.6g} (reference point "
              f"{tuple(round(v, 4) for v in comparison.hv_reference)}: {where}); HV ratio = a run's front / the "
              "exhaustive front")
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def optimum_label(comparison: Comparison) -> str:
    """Which architecture the optimum is and over what it was searched: on a table whose isomorphic cells were
    measured separately (the release) the optimum is a cell, not a class."""
    n = f"{comparison.candidates:,} " if comparison.candidates is not None else ""
    index = comparison.optimum_canonical_index
    if comparison.unit == "cell":
        return (f"cell {index}, class representative {int(cell_canonical()[index])}; searched {n}cells, isomorphic "
                "cells measured separately")
    return f"class {index}; searched {n}isomorphism classes"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "compare", help="compare NAS methods over seeds: Table 1, anytime curves, figure",
        description="Run every search method (or --methods) for --seeds seeds on a dataset and write the paper's "
                    "Table 1, the anytime curves, regret and the figure under --out.")
    p.add_argument("--methods", nargs="+", default=None, metavar="METHOD",
                   help=f"methods to run (default all: {', '.join(default_methods())})")
    p.add_argument("--seeds", type=int, default=10, help="seeds per method (default 10)")
    p.add_argument("--evaluator", choices=["tabular", "surrogate", "paper"], default="tabular",
                   help="tabular (default), surrogate, or paper: surrogate except for BANANAS, NAS4RRAM, NACIM, Gibbon")
    p.add_argument("--workers", type=int, default=1, help="worker processes, one seed at a time each (default 1)")
    p.add_argument("--out", default="out/compare", help="output directory (default out/compare)")
    add_search_arguments(p)
    p.set_defaults(func=_run)
