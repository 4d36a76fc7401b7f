"""``anb report``: run every analysis of the paper on a dataset and write an HTML/Markdown report."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from analognasbench.bench.cliutil import CLIError, add_dataset_argument, check_output_dir, load_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report", help="analyse a dataset: HTML + Markdown report with figures and CSV tables",
        description="Run every analysis of the AnalogNAS-Bench paper (distributions, noise robustness, HWT, drift, "
                    "graph features, the three key claims) on a dataset and write index.html, report.md, "
                    "figures/*.png and tables/*.csv.")
    p.add_argument("--dataset", "-d", default="default",
                   help="'default' (the embedded dataset or $ANB_DATASET), an embedded dataset name, a dataset "
                        "path (name.parquet + name.json) or the original release's data.anb")
    p.add_argument("--reference", default="auto",
                   help="higher-fidelity dataset of some of the same architectures, for the fidelity check of the "
                        "data-quality section: a path or embedded name, 'none', or 'auto' (the embedded dataset's own "
                        "check, e.g. cifar10-highfid-check for cifar10-lowcost)")
    p.add_argument("--seed-check", default="auto",
                   help="the same profile trained from another seed (rows of anb generate --seed), for the seed check "
                        "of the data-quality section: a path or embedded name, 'none', or 'auto' (the embedded "
                        "dataset's own, e.g. cifar10-seed1-check for cifar10-lowcost)")
    p.add_argument("--release", default="auto",
                   help="the published release to compare the dataset's rankings with (data-quality section): a path "
                        "or embedded name, 'none', or 'auto' (the embedded analognas-original, unless the dataset is "
                        "the release itself)")
    p.add_argument("--predict", default="auto", metavar="DIR|auto|none",
                   help="the predictor section (zero-cost proxies and few-label surrogates against the release): a "
                        "directory written by 'anb predict --evaluate --out DIR', 'none', or 'auto' (the shipped "
                        "study, when the report is on the release)")
    p.add_argument("--calibration", default="auto", choices=("auto", "none"),
                   help="the calibration section (the low-cost profiles' agreement with the release and its cost "
                        "frontier, from the shipped calibration datasets): 'auto' (when the release is shipped) or "
                        "'none'")
    p.add_argument("--out", default="anb-report", type=Path, help="output directory (default: ./anb-report)")
    p.add_argument("--only", nargs="+", metavar="ANALYSIS", help="run only these analyses")
    nas = p.add_mutually_exclusive_group()
    nas.add_argument("--nas", type=Path, metavar="DIR",
                     help="take the NAS comparison from a directory written by 'anb compare' (table1.csv, anytime.csv) "
                          "instead of running it")
    nas.add_argument("--no-nas", action="store_true", help="leave out the NAS comparison (Table 1)")
    p.add_argument("--nas-seeds", type=int, default=10, help="seeds per search method (default 10)")
    p.add_argument("--nas-budget", type=int, default=None,
                   help="evaluations per search run (default: 100, or a fifth of the measured architectures when "
                        "the dataset is small, so that the search is not exhaustive)")
    p.add_argument("--baseline-quantile", type=float, default=None,
                   help="quantile of baseline accuracy above which architectures count as accurate, in [0, 1) "
                        "(default 0.5)")
    p.add_argument("--robust-quantile", type=float, default=None,
                   help="quantile of the accuracy drop below which architectures count as robust, strictly between "
                        "0 and 1 (default 0.25)")
    p.add_argument("--alpha", type=float, default=None,
                   help="family-wise significance level, strictly between 0 and 1 (default 0.05)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    add_dataset_argument(p, dataset=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from analognasbench.analysis.registry import AnalysisParams
    from analognasbench.bench import AnalogNASBench
    from analognasbench.bench.registry import fidelity_reference, seed_check, shipped_release
    from analognasbench.report import build_report, load_nas_comparison
    from analognasbench.report.nas import run_nas_comparison
    from analognasbench.report.source import load_source

    # Every input is checked (datasets read, the study and the NAS directory loaded) before --out is created, so
    # that bad input leaves no directory behind; the output directory is proven writable before the long work.
    overrides = _check_numbers(args)
    if args.nas is not None and not args.nas.is_dir():
        raise CLIError(f"--nas {args.nas}: expected a directory written by 'anb compare' (table1.csv, anytime.csv)")
    if args.only:
        from analognasbench.report.build import check_analysis_names

        try:
            check_analysis_names(args.only)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    start = time.perf_counter()
    dataset = load_source(AnalogNASBench(None if args.dataset == "default" else args.dataset, **load_options(args)))
    params = AnalysisParams.for_dataset(dataset.meta, **overrides)
    needed = not args.only  # the data-quality section, the only reader of the check datasets, runs without --only
    reference = _companion(args.reference, fidelity_reference, dataset.name, "--reference", needed)
    seeds = _companion(args.seed_check, seed_check, dataset.name, "--seed-check", needed)
    release = _companion(args.release, lambda _: shipped_release(), dataset.name, "--release", needed)
    predict = _predict_sections(args.predict, dataset.meta)
    nas = load_nas_comparison(args.nas) if args.nas else None
    check_output_dir(args.out, "--out")  # before the analyses, not after them
    if not args.nas and not args.no_nas:
        budget = args.nas_budget if args.nas_budget is not None else max(5, min(100, len(dataset.df) // 5))
        if not args.quiet:
            print(f"[0] running the NAS comparison ({args.nas_seeds} seeds x {budget} evaluations)",
                  file=sys.stderr, flush=True)
        nas = run_nas_comparison(dataset.df, seeds=args.nas_seeds, budget=budget)

    def progress(step: int, total: int, message: str) -> None:
        if not args.quiet:
            print(f"[{step}/{total}] {time.perf_counter() - start:5.1f} s  {message}", file=sys.stderr, flush=True)

    out = build_report(dataset, args.out, params=params, only=args.only, nas=nas, reference=reference,
                       seed_check=seeds, release=release,
                       extra_sections=_calibration_sections(args.calibration) + predict, progress=progress)
    for line in out.summary:
        print("- " + line.replace("**", ""))
    print(f"{len(out.figures)} figures, {len(out.tables)} tables in {out.timings['total']:.1f} s")
    print(f"report: {out.html.resolve()}")
    return 0


def _check_numbers(args: argparse.Namespace) -> dict[str, float]:
    """The numeric options, each refused with its valid range; returns the analysis thresholds given. A quantile
    of 1 (or 0 for the robust one) and alpha 0 or 1 are accepted by the formulas but leave one group empty or
    every test significant or none, so the report would state findings about nothing."""
    if args.nas_budget is not None and args.nas_budget < 1:
        raise CLIError(f"--nas-budget must be at least 1 evaluation per search run, got {args.nas_budget}")
    if args.nas_seeds < 1:
        raise CLIError(f"--nas-seeds must be at least 1, got {args.nas_seeds}")
    checks = (("--baseline-quantile", "baseline_quantile", args.baseline_quantile, True,
               "a quantile in [0, 1) (0 counts every architecture as accurate; 1 would leave only the best)"),
              ("--robust-quantile", "robust_quantile", args.robust_quantile, False,
               "a quantile strictly between 0 and 1 (0 or 1 leaves no contrast between robust and not)"),
              ("--alpha", "alpha", args.alpha, False, "a significance level strictly between 0 and 1, e.g. 0.05"))
    overrides = {}
    for option, name, value, zero_ok, expected in checks:
        if value is None:
            continue
        if not (0.0 <= value < 1.0 if zero_ok else 0.0 < value < 1.0):
            raise CLIError(f"{option} {value:g}: expected {expected}")
        overrides[name] = value
    return overrides


def _predict_sections(choice: str, meta: dict) -> list:
    """The predictor study's section: a study directory ('anb predict --evaluate'), or the shipped one ('auto', on
    the release only: the study is about the release), or none."""
    from analognasbench.predict.study import SHIPPED_STUDY, load_study
    from analognasbench.report.predict import predict_section

    if choice == "none" or (choice == "auto" and (meta.get("source") != "original-release"
                                                   or not (SHIPPED_STUDY / "study.json").is_file())):
        return []
    try:
        return [predict_section(load_study(SHIPPED_STUDY if choice == "auto" else Path(choice)))]
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from None


def _calibration_sections(choice: str) -> list:
    """The calibration section from the shipped calibration datasets, when the release is shipped."""
    from analognasbench.bench.registry import load, shipped_release

    release = shipped_release()
    if choice == "none" or release is None:
        return []
    from analognasbench.fidelity.calibration import CHOSEN_PROFILE
    from analognasbench.fidelity.drop_ablation import shipped_records
    from analognasbench.fidelity.jpeg_generations import shipped_generation_records
    from analognasbench.fidelity.reproduce import shipped_reproduction
    from analognasbench.report.calibration import calibration_section, shipped_candidates

    return [calibration_section(shipped_candidates(), load(release)[0], CHOSEN_PROFILE, ablation=shipped_records(),
                                reproduction=shipped_reproduction(), jpeg=shipped_generation_records())]


def _companion(choice: str, shipped: Callable[[str], str | None], name: str, option: str, needed: bool) -> Any:
    """A check dataset from its option, read now so that a bad path or name fails before --out exists: 'auto' (the
    embedded dataset's own, if shipped), 'none', or a path/name. Only resolved, not read, when not ``needed``."""
    from analognasbench.bench.registry import resolve_dataset
    from analognasbench.report.source import load_source

    spec = shipped(name) if choice == "auto" else None if choice == "none" else choice
    if spec is None:
        return None
    try:
        if not needed:
            resolve_dataset(spec)  # unused under --only, but a name or path that does not exist is still refused
            return None
        return load_source(spec)
    except (OSError, ValueError) as exc:
        raise CLIError(f"{option} {choice}: {' '.join(str(exc).split())}") from None
