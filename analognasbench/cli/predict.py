"""anb predict: few-label surrogates and the zero-cost proxies' agreement with the release.

    anb predict --metric noisy_accuracy --labels 200 [--model gnn:graph] [--subset b80]
        train on 200 random release classes, rank the rest, print Kendall / Spearman (and the low-cost bar)
    anb predict --evaluate --out out/predict [--quick]
        every table and figure of the study (proxy agreement, learning curves, goals), CSV + Markdown + PNG

The release is --release, else $ANB_RELEASE, else the embedded analognas-original dataset (anb import-original
writes it). Proxies default to the embedded proxies-cifar10 table; --proxies also takes a table path or a proxy
store (.sqlite). The low-cost bar compares the embedded cifar10-lowcost dataset with the release; it is left out,
in one line, where that dataset holds no values of --metric.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from analognasbench.cli import CLIError

#: The low-cost dataset of the bar when --lowcost is not given (left out where it has no values of the target).
DEFAULT_LOWCOST = "cifar10-lowcost"


#: The options of one surrogate fit and their values when not given (the parser's defaults are None, "not given":
#: --evaluate runs its own grid of targets, models, label counts, subsets and seeds, and refuses them).
_SINGLE_DEFAULTS = {"metric": "noisy_accuracy", "labels": 200, "model": "gnn:graph", "subset": "b80", "seed": 0}

#: The release network's proxies that --evaluate compares with the table's settings when --full-network is not given.
DEFAULT_FULL_NETWORK = "proxies-cifar10-c16n5-sample"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "predict", help="few-label surrogates and zero-cost proxies measured against the release",
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    d = _SINGLE_DEFAULTS
    p.add_argument("--metric", "-m", help="target: a release metric (the release's names baseline_drift_T for "
                   f"noisy_drift_T work too), noisy_drop or hwt_recovery (default {d['metric']})")
    p.add_argument("--labels", "-n", type=int, help=f"labelled release classes to train on (default {d['labels']})")
    p.add_argument("--model", help=f"KIND:FEATURES, e.g. ridge:onehot, xgb:onehot+zc, gnn:zc (default {d['model']})")
    p.add_argument("--subset", choices=("all", "b80"), help=f"all classes, or baseline > 80 %% (default {d['subset']})")
    p.add_argument("--seed", type=int, help=f"seed of the label draw and the model (default {d['seed']})")
    p.add_argument("--evaluate", action="store_true",
                   help="run the whole study and write it to --out: about an hour on 2 CPU cores (--quick: minutes)")
    p.add_argument("--out", type=Path, default=None, help="folder of --evaluate (default out/predict)")
    p.add_argument("--quick", action="store_true", help="--evaluate with 2 seeds, 3 label counts, no GNN with "
                                                        "proxies (minutes instead of an hour)")
    p.add_argument("--models", default=None, help="--evaluate: comma-separated KIND:FEATURES list")
    p.add_argument("--seeds", type=int, default=None, help="--evaluate: number of seeds (default 5)")
    p.add_argument("--curve-targets", default=None, help="--evaluate: comma-separated targets of the curves")
    p.add_argument("--release", default=None, help="the release (dataset name, path or original pickle)")
    p.add_argument("--proxies", default=None, help="proxy table (name or path) or proxy store (.sqlite)")
    p.add_argument("--no-proxies", action="store_true", help="--evaluate without proxies (encodings only)")
    p.add_argument("--resume", action="store_true", help="--evaluate: keep the proxy-free learning-curve rows "
                                                         "already in --out")
    p.add_argument("--full-network", default=None,
                   help="--evaluate: proxies of the release's network (C=16, N=5) on a sample, compared with the "
                        f"table's settings (default {DEFAULT_FULL_NETWORK}; '' for none)")
    p.add_argument("--lowcost", default=None, help=f"the low-cost dataset of the bar (default {DEFAULT_LOWCOST}, left "
                   "out where it has no values of --metric; given, a bar of nothing is an error; '' for none)")
    p.set_defaults(func=run)


def _release(spec: str | None):
    """The release's table: --release, else $ANB_RELEASE, else the embedded analognas-original."""
    from analognasbench.bench.registry import load, shipped_release

    if spec is None:
        spec = os.environ.get("ANB_RELEASE")
    if spec is None:
        spec = shipped_release()
    if spec is None:
        raise CLIError("no release found: pass --release (the original data.anb or a dataset name/path), set "
                       "$ANB_RELEASE, or run anb import-original")
    return load(spec)[0]


def _proxies(spec: str | None):
    """``(proxy table, raw store rows or None, how they were computed)``; no table: ``(None, None, "")``."""
    from analognasbench.predict import ProxyConfig, ProxyStore
    from analognasbench.predict.export import DEFAULT_PROXY_TABLE, load_proxies, store_table

    if spec is not None and spec.endswith(".sqlite"):
        if not Path(spec).is_file():
            raise CLIError(f"proxy store {spec} " + ("is a directory" if Path(spec).is_dir() else "does not exist"))
        config = ProxyConfig()
        with ProxyStore(spec, read_only=True) as store:
            return store_table(store, config), store.frame(config), f"store {spec}, {config.describe()}"
    try:
        table, meta = load_proxies(spec or DEFAULT_PROXY_TABLE)
    except FileNotFoundError:
        if spec is not None:
            raise
        print("no proxy table shipped yet: surrogates on encodings only", file=sys.stderr)
        return None, None, ""
    return table, None, meta.fidelity.split(": ", 1)[-1]


def _full_network(spec: str):
    """The proxies of the release's network on a sample of classes (the settings comparison), if shipped."""
    from analognasbench.predict.export import load_proxies

    if not spec:
        return None
    try:
        return load_proxies(spec)[0]
    except FileNotFoundError:
        print(f"no proxy table {spec}: the settings comparison is left out", file=sys.stderr)
        return None


def _lowcost(spec: str | None):
    if spec == "":
        return None
    from analognasbench.bench.registry import load

    return load(DEFAULT_LOWCOST if spec is None else spec)[0]


#: Options that only ``--evaluate`` reads (given without it they would be silently ignored).
_EVALUATE_ONLY = (("--out", "out"), ("--quick", "quick"), ("--models", "models"), ("--seeds", "seeds"),
                  ("--curve-targets", "curve_targets"), ("--no-proxies", "no_proxies"), ("--resume", "resume"),
                  ("--full-network", "full_network"))


def _bar(targets, low, target: str, subset: str, name: str):
    """The low-cost bar's rows with enough shared classes, and a line saying why each other row is left out."""
    import pandas as pd

    from analognasbench.predict.curves import lowcost_bar
    from analognasbench.predict.targets import class_targets

    low_targets = class_targets(low)
    bar = lowcost_bar(targets, low_targets, [target], [subset])
    notes = []
    for _, r in bar[bar.n < 3].iterrows() if len(bar) else []:
        column = r.lowcost_column
        values = low_targets[column].dropna() if column in low_targets else pd.Series(dtype=float)
        why = (f"{name} holds no {column} values" if values.empty else
               f"{name}'s {len(values)} classes with {column} share {r.n} with the release's {target} values "
               f"({subset})")
        notes.append(f"  bar: {name} {column} vs release left out: {why}")
    return bar[bar.n >= 3], notes


def _single(args: argparse.Namespace) -> int:
    from scipy import stats

    from analognasbench.predict.surrogates import ModelSpec, fit_predict
    from analognasbench.predict.targets import class_targets, parse_target, subset_mask

    given = [option for option, key in _EVALUATE_ONLY if getattr(args, key) not in (None, False)]
    if given:
        raise CLIError(f"{', '.join(given)}: used only with --evaluate; add --evaluate or drop it")
    for key, default in _SINGLE_DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, default)
    target = parse_target(args.metric)
    spec = ModelSpec.parse(args.model)
    if args.proxies is not None and not spec.uses_proxies:
        raise CLIError(f"--proxies: model {spec.label} uses no proxies; choose a model with zc features "
                       "(e.g. xgb:onehot+zc, gnn:zc) or drop --proxies")
    if args.labels < 2:
        raise CLIError(f"--labels must be at least 2; got {args.labels}")
    if args.seed < 0:  # numpy's own error would not name the option
        raise CLIError(f"--seed must be >= 0; got {args.seed}")
    targets = class_targets(_release(args.release))
    bar, notes = None, []
    low = _lowcost(args.lowcost)
    lowcost = args.lowcost or DEFAULT_LOWCOST
    if low is not None:  # before training: a bar of nothing is never printed as "Kendall tau nan over 0 classes"
        bar, notes = _bar(targets, low, target, args.subset, lowcost)
        if bar.empty and args.lowcost is not None:  # asked for by name: an error, as any option not honoured
            raise CLIError(f"--lowcost {lowcost}: no low-cost bar for {target} ({args.subset}): "
                           + "; ".join(n.split(": ", 2)[-1] for n in notes or ["no column to compare"])
                           + " (pass --lowcost '' to leave the bar out)")
        if bar.empty:  # the default dataset: left out, saying why, as for one row of the bar
            bar, notes = None, notes or [f"  bar: {lowcost} left out: no column to compare with {target}"]
    proxies = None
    if spec.uses_proxies:
        proxies = _proxies(args.proxies)[0]
        if proxies is None:
            raise CLIError(f"model {spec.label} needs proxies: pass --proxies TABLE|STORE.sqlite")
        proxies = proxies.set_index("canonical_index")
        targets = targets.loc[targets.index.intersection(proxies.index)]
    pool = targets[subset_mask(targets, args.subset)][target].dropna()
    if not 2 <= args.labels <= len(pool) - 10:
        raise CLIError(f"--labels must lie in 2..{len(pool) - 10} (the pool holds {len(pool)} classes)")
    perm = np.random.default_rng([args.seed, args.labels]).permutation(len(pool))
    train, test = pool.index.to_numpy()[perm[: args.labels]], pool.index.to_numpy()[perm[args.labels:]]
    pred = fit_predict(spec, train, test, pool.loc[train].to_numpy(), proxies, args.seed)
    truth = pool.loc[test].to_numpy()
    print(f"{spec.label} trained on {args.labels} release classes ({args.subset}), ranking {len(test)} held-out "
          f"classes on {target}:")
    print(f"  Kendall tau {stats.kendalltau(pred, truth)[0]:.3f}   Spearman {stats.spearmanr(pred, truth)[0]:.3f}")
    for _, r in bar.iterrows() if bar is not None else []:
        print(f"  bar: {lowcost} {r.lowcost_column} vs release, Kendall tau {r.kendall:.3f} over {r.n} shared classes")
    for note in notes:
        print(note)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from analognasbench.bench.cliutil import check_output_dir
    from analognasbench.predict.study import StudyConfig, run_study
    from analognasbench.predict.targets import TARGETS, parse_target
    from analognasbench.report.predict import write_study_report

    given = [f"--{key}" for key in _SINGLE_DEFAULTS if getattr(args, key) is not None]
    if given:
        raise CLIError(f"{', '.join(given)}: not used with --evaluate, which runs its own grid of targets, models, "
                       "label counts, subsets and seeds (see --models, --seeds, --curve-targets); drop "
                       f"{'it' if len(given) == 1 else 'them'}")
    if args.seeds is not None and args.seeds < 1:
        raise CLIError(f"--seeds must be >= 1; got {args.seeds}")
    proxy_options = [option for option, value in (("--proxies", args.proxies), ("--full-network", args.full_network))
                     if value is not None]
    if args.no_proxies and proxy_options:
        raise CLIError(f"{', '.join(proxy_options)}: not used with --no-proxies, which runs the study on encodings "
                       f"only; drop {'it' if len(proxy_options) == 1 else 'them'} or --no-proxies")
    args.out = check_output_dir(args.out or Path("out/predict"), "--out")  # before the hour of work, not after
    print(f"predict --evaluate: the {'quick' if args.quick else 'whole'} study takes "
          f"{'a few minutes' if args.quick else 'about an hour'} on 2 CPU cores; writing to {args.out}",
          file=sys.stderr, flush=True)
    proxies, frame, settings = (None, None, "") if args.no_proxies else _proxies(args.proxies)
    config = StudyConfig()
    if args.quick:
        config = StudyConfig(models=("ridge:onehot", "ridge:onehot+zc", "xgb:onehot", "xgb:onehot+zc", "gnn:graph"),
                             label_counts=(20, 200, 1000), seeds=(0, 1),
                             curve_targets=("baseline_accuracy", "noisy_accuracy", "analog_drift_86400"))
    if args.models:
        config.models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    if args.seeds:
        config.seeds = tuple(range(args.seeds))
    if args.curve_targets:
        config.curve_targets = tuple(parse_target(t.strip()) for t in args.curve_targets.split(","))
    config.targets = TARGETS
    result = run_study(_release(args.release), proxies, args.out, lowcost=_lowcost(args.lowcost),
                       store_frame=frame, config=config, resume=args.resume,
                       full_network_proxies=None if proxies is None else _full_network(
                           DEFAULT_FULL_NETWORK if args.full_network is None else args.full_network),
                       proxy_settings=settings)
    md = write_study_report(result)
    print(f"wrote {len(result.tables)} tables, figures and {md} under {args.out}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    return _evaluate(args) if args.evaluate else _single(args)
