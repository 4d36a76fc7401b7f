"""``anb report``: run every analysis of the paper on a dataset and write an HTML/Markdown report."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from analognasbench.bench.cliutil import CLIError, add_dataset_argument, check_output_dir, load_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report", help="analyse a dataset: HTML + Markdown report with figures and CSV tables",
        description="Run every analysis of the AnalogNAS-Bench paper (distributions, noise robustness, HWT, drift, "
                    "graph features, the three key claims) on a dataset and write index.html, report.md, "
                    "figures/*.png and tables/*.csv.")
    p.add_argument("--dataset", default="default",
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
                   help="quantile of baseline accuracy above which architectures count as accurate (default 0.5)")
    p.add_argument("--robust-quantile", type=float, default=None,
                   help="quantile of the accuracy drop below which architectures count as robust (default 0.25)")
    p.add_argument("--alpha", type=float, default=None, help="family-wise significance level (default 0.05)")
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

    if args.nas_budget is not None and args.nas_budget < 1:
        raise CLIError(f"--nas-budget must be at least 1 evaluation per search run, got {args.nas_budget}")
    if args.nas_seeds < 1:
        raise CLIError(f"--nas-seeds must be at least 1, got {args.nas_seeds}")
    if args.nas is not None and not args.nas.is_dir():
        raise CLIError(f"--nas {args.nas}: expected a directory written by 'anb compare' (table1.csv, anytime.csv)")
    overrides = {k: v for k, v in (("baseline_quantile", args.baseline_quantile),
                                   ("robust_quantile", args.robust_quantile), ("alpha", args.alpha)) if v is not None}
    if args.only:
        from analognasbench.report.build import check_analysis_names

        try:
            check_analysis_names(args.only)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    check_output_dir(args.out, "--out")  # before the analyses, not after them
    start = time.perf_counter()
    dataset = load_source(AnalogNASBench(None if args.dataset == "default" else args.dataset, **load_options(args)))
    params = AnalysisParams.for_dataset(dataset.meta, **overrides)
    if args.nas:
        nas = load_nas_comparison(args.nas)
    elif args.no_nas:
        nas = None
    else:
        budget = args.nas_budget if args.nas_budget is not None else max(5, min(100, len(dataset.df) // 5))
        if not args.quiet:
            print(f"[0] running the NAS comparison ({args.nas_seeds} seeds x {budget} evaluations)",
                  file=sys.stderr, flush=True)
        nas = run_nas_comparison(dataset.df, seeds=args.nas_seeds, budget=budget)

    def progress(step: int, total: int, message: str) -> None:
        if not args.quiet:
            print(f"[{step}/{total}] {time.perf_counter() - start:5.1f} s  {message}", file=sys.stderr, flush=True)

    out = build_report(dataset, args.out, params=params, only=args.only, nas=nas,
                       reference=_companion(args.reference, fidelity_reference, dataset.name),
                       seed_check=_companion(args.seed_check, seed_check, dataset.name),
                       release=_companion(args.release, lambda _: shipped_release(), dataset.name),
                       extra_sections=_calibration_sections(args.calibration)
                       + _predict_sections(args.predict, dataset.meta),
                       progress=progress)
    for line in out.summary:
        print("- " + line.replace("**", ""))
    print(f"{len(out.figures)} figures, {len(out.tables)} tables in {out.timings['total']:.1f} s")
    print(f"report: {out.html.resolve()}")
    return 0


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


def _companion(choice: str, shipped, name: str) -> str | None:
    """A check dataset from its option: 'auto' (the embedded dataset's own, if shipped), 'none', or a path/name."""
    if choice == "auto":
        return shipped(name)
    return None if choice == "none" else choice
