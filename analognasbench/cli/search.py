"""``anb search``: run one search method on the benchmark and print the architecture it finds."""

from __future__ import annotations

import argparse
import math

from analognasbench.bench import AnalogNASBench, strict_json
from analognasbench.bench.cliutil import (
    CLIError,
    add_dataset_argument,
    open_benchmark,
    require_values,
    with_derived_columns,
)
from analognasbench.hardware import DEFAULT_CHIP, chip_names
from analognasbench.pipeline.schema import Metric
from analognasbench.search import Budget, Objective, from_bench, get_method, method_names
from analognasbench.search.base import DEFAULT_METRIC, NUM_ARCHITECTURES, avm_metrics
from analognasbench.search.compare import hypervolume_reference
from analognasbench.search.multiobjective import parse_objective

#: Evaluations of a method whose --budget is not given (exhaustive search: every candidate, see search_budget).
DEFAULT_BUDGET = 100


def search_budget(cls: type, evaluations: int | None, seconds: float | None) -> Budget:
    """The budget of one ``anb search`` run. A method that enumerates the space (``exhaustive``) evaluates every
    candidate unless ``--budget`` is given explicitly: with the shared default of 100 it returned the best of the
    first 100 cells (89.40) instead of the optimum (90.53). ``anb compare`` passes its own budgets."""
    check_budget(evaluations, seconds)
    if evaluations is None:
        evaluations = NUM_ARCHITECTURES if cls.uses_full_space else DEFAULT_BUDGET
    return Budget(evaluations=evaluations, seconds=seconds)


def check_budget(evaluations: int | None, seconds: float | None) -> None:
    """One line for a budget no search can run on, before the dataset is read."""
    if evaluations is not None and evaluations < 1:
        raise CLIError(f"--budget must be a positive number of evaluations; got {evaluations}")
    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        raise CLIError(f"--seconds must be a positive number of seconds; got {seconds}")


def check_surrogate_samples(args: argparse.Namespace) -> None:
    """One line for a surrogate training set no regressor can be fitted on, before the dataset is read."""
    if args.surrogate_samples < 2:
        raise CLIError(f"--surrogate-samples must be at least 2 architectures; got {args.surrogate_samples}")


def _run(args: argparse.Namespace) -> int:
    cls = get_method(args.method)
    budget = search_budget(cls, args.budget, args.seconds)
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0; got {args.seed}")
    check_surrogate_samples(args)
    bench = open_searchable(args)
    objective = make_objective(args, bench)
    options = {} if args.evaluator == "tabular" else {"n_train": args.surrogate_samples}
    evaluator = from_bench(bench, args.evaluator, seed=args.seed, **options)
    hv_reference = hypervolume_reference(evaluator, objective)  # a degenerate --hv-reference fails before the run
    result = cls().run(evaluator, objective, budget, seed=args.seed)
    if result.final is None:  # e.g. a --params-cap below the smallest network: the request cannot be met
        raise CLIError(f"{args.method}: no architecture evaluated ({result.stop_reason}); expected a --params-cap, "
                       "--budget and --seconds that leave at least one architecture to evaluate")
    final = result.final
    hv = _hypervolume(evaluator, objective, result, hv_reference)
    if args.json:
        print(strict_json.dumps({"method": result.method, "seed": result.seed, "evaluator": result.evaluator,
                          "objective": objective.metric.value, "evaluations": result.evaluations,
                          "stop_reason": result.stop_reason, "search_time_s": result.wall_time_s,
                          "arch": list(final.arch), "arch_str": final.arch.nb201_str,
                          "canonical_index": final.canonical_index, "params": final.params,
                          "avm": final.avm(objective.metric), "measured": final.values,
                          **_front_json(result), **hv}, indent=2))
        return 0
    start, end = avm_metrics(objective.metric)
    print(f"{result.method} ({cls.citation})")
    print(f"  evaluator       {result.evaluator}, seed {result.seed}")
    print(f"  evaluations     {result.evaluations} ({result.stop_reason}; {result.repeats} free repeats)")
    if cls.uses_full_space and args.budget is None:
        done = result.stop_reason == f"every candidate {result.unit} evaluated"
        what = f"{result.evaluations:,} candidates, one per " + (
            "cell (the dataset measured isomorphic cells separately)" if result.unit == "cell" else "isomorphism class")
        print(f"  {result.method}: " + (f"evaluated all {what}" if done else
                                          f"stopped after {what} ({result.stop_reason})"))
    print(f"  search time     {result.wall_time_s:.3f} s")
    print(f"  best            {tuple(final.arch)}  {final.arch.nb201_str}")
    print(f"  objective       {objective.metric.value} = {final[objective.metric]:.2f} % (measured)")
    print(f"  AVM             {final.avm(objective.metric):.2f} % ({start.value} - {end.value})")
    print(f"  params          {final.params / 1e3:.1f} K" if final.params is not None else "  params          unknown")
    print("  measured metrics")
    shown = [m.value for m in Metric if m.value in final.values and final.values[m.value] == final.values[m.value]]
    width = max(map(len, shown), default=0)  # NaN: a metric this dataset does not measure, left out
    for name in shown:
        print(f"    {name:<{width}s} {final.values[name]:7.2f}")
    if result.pareto is not None:
        print(f"  Pareto front    {len(result.pareto)} architectures ({objective.describe()}; hw_* are model "
              f"estimates on chip {objective.chip})")
        print("    " + result.pareto.to_string(index=False).replace("\n", "\n    "))
    if hv:
        where = "--hv-reference" if args.hv_reference else "the worst value of each objective in the dataset"
        print(f"  hypervolume     {hv['hypervolume']:.6g} (reference point {tuple(round(v, 4) for v in hv['hv_reference'])}: "
              f"{where}); HV ratio {hv['hv_ratio']:.4f} of the exhaustive front's {hv['hv_exhaustive']:.6g}")
    return 0


def _hypervolume(evaluator: object, objective: Objective, result: object, ref: tuple[float, ...] | None) -> dict:
    """Hypervolume of a two-objective run's front, its reference point ``ref`` and its ratio to the exhaustive
    front's; empty without a reference (a single objective, or more than two objectives)."""
    from analognasbench.search.multiobjective import exhaustive_hypervolume, run_hypervolume

    if ref is None:
        return {}
    hv, best = run_hypervolume(result, ref), exhaustive_hypervolume(evaluator, objective, ref)  # type: ignore[arg-type]
    return {"hypervolume": hv, "hv_reference": list(ref), "hv_exhaustive": best,
            "hv_ratio": hv / best if best > 0 else float("nan")}


def make_objective(args: argparse.Namespace, bench: object) -> Objective:
    """``--objective`` (one metric), or ``--objectives`` (several terms; hw_* costs at the dataset's network size)."""
    network = None
    if args.objectives:
        from analognasbench.bench.costs import cost_network

        network = cost_network(getattr(bench, "meta", None)).cost_kwargs()
    return parse_objective(args.objectives, args.objective, args.params_cap, args.chip, network, args.hv_reference)


def _front_json(result: object) -> dict:
    front = getattr(result, "pareto", None)
    if front is None:
        return {}
    records = [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
               for row in front.to_dict(orient="records")]
    return {"objectives": [str(t) for t in result.objective.terms], "pareto": records}


def open_searchable(args: argparse.Namespace) -> AnalogNASBench:
    """The benchmark a search runs on: parameter counts computed if the dataset has none (a cap and the reported
    size need them), and refused when the objective or the cap has nothing to go on (missing is not zero)."""
    bench = with_derived_columns(open_benchmark(args))
    require_values(bench, args.objective, "--objective")
    if args.params_cap is not None:
        require_values(bench, "params", "--params-cap")
    return bench


def _metric_name(text: str) -> str:
    """A metric name (release aliases resolved) for argparse; unknown names list the valid ones."""
    try:
        return Metric.parse(text).value
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by ``anb search`` and ``anb compare``."""
    p.add_argument("--budget", type=int, default=None,
                   help=f"architecture evaluations per run (default {DEFAULT_BUDGET}; anb search exhaustive: every "
                        "candidate unless given)")
    p.add_argument("--objective", default=DEFAULT_METRIC.value, type=_metric_name, metavar="METRIC",
                   help=f"metric to maximise (default {DEFAULT_METRIC.value}, 1-day accuracy); the release's names "
                        "(baseline_drift_T for noisy_drift_T) work too")
    p.add_argument("--params-cap", type=float, default=None, help="only architectures with at most this many parameters")
    p.add_argument("--objectives", nargs="+", default=None, metavar="NAME[:max|min]",
                   help="search several objectives together and report the Pareto front, e.g. "
                        "'analog_drift_86400:max hw_energy_uj:min' (hw_* are cost-model estimates, see anb cost; "
                        "the first metric term is the single objective of Table 1)")
    p.add_argument("--hv-reference", nargs="+", type=float, default=None, metavar="VALUE",
                   help="hypervolume reference point, one value per objective (default: the worst value of each "
                        "objective in the dataset)")
    p.add_argument("--chip", default=DEFAULT_CHIP.value,
                   help=f"chip preset of hw_* objectives: {', '.join(chip_names())} or a .json/.yaml file "
                        f"(default {DEFAULT_CHIP.value})")
    p.add_argument("--surrogate-samples", type=int, default=900,
                   help="architectures the XGBoost surrogate is trained on (default 900, as in the paper)")
    add_dataset_argument(p)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "search", help="run one NAS method on the benchmark and print what it finds",
        description="Run one search method on a dataset under a budget and print the architecture it returns, "
                    "with its measured values (and, with --objectives, its Pareto front and hypervolume).")
    p.add_argument("method", choices=method_names(), metavar="METHOD", help=f"one of: {', '.join(method_names())}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--evaluator", choices=["tabular", "surrogate"], default="tabular",
                   help="answer queries from the table (default) or an XGBoost surrogate trained on part of it")
    p.add_argument("--seconds", type=float, default=None, help="also stop after this much wall time")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_search_arguments(p)
    p.set_defaults(func=_run)
