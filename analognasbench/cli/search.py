"""``anb search``: run one search method on the benchmark and print the architecture it finds."""

from __future__ import annotations

import argparse

from analognasbench.bench import AnalogNASBench, strict_json
from analognasbench.bench.cliutil import (
    CLIError,
    add_dataset_argument,
    open_benchmark,
    require_values,
    with_derived_columns,
)
from analognasbench.pipeline.schema import Metric
from analognasbench.search import Budget, Objective, from_bench, get_method, method_names
from analognasbench.search.base import DEFAULT_METRIC, avm_metrics


def _run(args: argparse.Namespace) -> int:
    cls = get_method(args.method)
    objective = Objective(args.objective, params_cap=args.params_cap)
    budget = Budget(evaluations=args.budget, seconds=args.seconds)
    bench = open_searchable(args)
    options = {} if args.evaluator == "tabular" else {"n_train": args.surrogate_samples}
    evaluator = from_bench(bench, args.evaluator, seed=args.seed, **options)
    result = cls().run(evaluator, objective, budget, seed=args.seed)
    if result.final is None:  # e.g. a --params-cap below the smallest network: the request cannot be met
        raise CLIError(f"{args.method}: no architecture evaluated ({result.stop_reason}); expected a --params-cap, "
                       "--budget and --seconds that leave at least one architecture to evaluate")
    final = result.final
    if args.json:
        print(strict_json.dumps({"method": result.method, "seed": result.seed, "evaluator": result.evaluator,
                          "objective": objective.metric.value, "evaluations": result.evaluations,
                          "stop_reason": result.stop_reason, "search_time_s": result.wall_time_s,
                          "arch": list(final.arch), "arch_str": final.arch.nb201_str,
                          "canonical_index": final.canonical_index, "params": final.params,
                          "avm": final.avm(objective.metric), "measured": final.values}, indent=2))
        return 0
    start, end = avm_metrics(objective.metric)
    print(f"{result.method} ({cls.citation})")
    print(f"  evaluator       {result.evaluator}, seed {result.seed}")
    print(f"  evaluations     {result.evaluations} ({result.stop_reason}; {result.repeats} free repeats)")
    print(f"  search time     {result.wall_time_s:.3f} s")
    print(f"  best            {tuple(final.arch)}  {final.arch.nb201_str}")
    print(f"  objective       {objective.metric.value} = {final[objective.metric]:.2f} % (measured)")
    print(f"  AVM             {final.avm(objective.metric):.2f} % ({start.value} - {end.value})")
    print(f"  params          {final.params / 1e3:.1f} K" if final.params is not None else "  params          unknown")
    print("  measured metrics")
    for m in Metric:
        if m.value in final.values:
            print(f"    {m.value:<22s} {final.values[m.value]:7.2f}")
    return 0


def open_searchable(args: argparse.Namespace) -> AnalogNASBench:
    """The benchmark a search runs on: parameter counts computed if the dataset has none (a cap and the reported
    size need them), and refused when the objective or the cap has nothing to go on (missing is not zero)."""
    bench = with_derived_columns(open_benchmark(args))
    require_values(bench, args.objective, "--objective")
    if args.params_cap is not None:
        require_values(bench, "params", "--params-cap")
    return bench


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by ``anb search`` and ``anb compare``."""
    p.add_argument("--budget", type=int, default=100, help="architecture evaluations per run (default 100)")
    p.add_argument("--objective", default=DEFAULT_METRIC.value, choices=[m.value for m in Metric], metavar="METRIC",
                   help=f"metric to maximise (default {DEFAULT_METRIC.value}, 1-day accuracy)")
    p.add_argument("--params-cap", type=float, default=None, help="only architectures with at most this many parameters")
    p.add_argument("--surrogate-samples", type=int, default=900,
                   help="architectures the XGBoost surrogate is trained on (default 900, as in the paper)")
    add_dataset_argument(p)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("search", help="run one NAS method on the benchmark and print what it finds")
    p.add_argument("method", choices=method_names(), metavar="METHOD", help=f"one of: {', '.join(method_names())}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--evaluator", choices=["tabular", "surrogate"], default="tabular",
                   help="answer queries from the table (default) or an XGBoost surrogate trained on part of it")
    p.add_argument("--seconds", type=float, default=None, help="also stop after this much wall time")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_search_arguments(p)
    p.set_defaults(func=_run)
