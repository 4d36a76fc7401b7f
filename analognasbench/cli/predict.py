"""``anb predict``: few-label surrogates and the zero-cost proxies' agreement with the release.

    anb predict --metric noisy_accuracy --labels 200 [--model gnn:graph] [--subset b80]
        train on 200 random release classes, rank the rest, print Kendall / Spearman (and the low-cost bar)
    anb predict --evaluate --out out/predict [--quick]
        every table and figure of the study (proxy agreement, learning curves, goals), CSV + Markdown + PNG

The release defaults to the embedded ``analognas-original`` dataset if shipped, else ``$ANB_RELEASE`` or the
original pickle at /tmp/orig/whl/analognasbench/data.anb. Proxies default to the embedded ``proxies-cifar10``
table; ``--proxies`` also takes a table path or a proxy store (.sqlite).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from analognasbench.cli import CLIError

_ORIGINAL_PICKLE = Path("/tmp/orig/whl/analognasbench/data.anb")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "predict", help="few-label surrogates and zero-cost proxies measured against the release",
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None)
    p.add_argument("--metric", "-m", default="noisy_accuracy", help="target (a release metric, noisy_drop or "
                                                                     "hwt_recovery)")
    p.add_argument("--labels", "-n", type=int, default=200, help="labelled release classes to train on")
    p.add_argument("--model", default="gnn:graph", help="KIND:FEATURES, e.g. ridge:onehot, xgb:onehot+zc, gnn:zc")
    p.add_argument("--subset", default="b80", choices=("all", "b80"), help="all classes, or baseline > 80 %%")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--evaluate", action="store_true", help="run the whole study and write it to --out")
    p.add_argument("--out", type=Path, default=Path("out/predict"), help="folder of --evaluate")
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
    p.add_argument("--full-network", default="proxies-cifar10-c16n5-sample",
                   help="--evaluate: proxies of the release's network (C=16, N=5) on a sample, compared with the "
                        "table's settings ('' for none)")
    p.add_argument("--lowcost", default="cifar10-lowcost", help="the low-cost dataset of the bar ('' for none)")
    p.set_defaults(func=run)


def _release(spec: str | None):
    from analognasbench.bench.registry import available_datasets, load

    if spec is None:
        spec = os.environ.get("ANB_RELEASE")
    if spec is None:
        if "analognas-original" in available_datasets():
            spec = "analognas-original"
        elif _ORIGINAL_PICKLE.is_file():
            spec = str(_ORIGINAL_PICKLE)
        else:
            raise CLIError("no release found: pass --release (the original data.anb or a dataset name/path)")
    return load(spec)[0]


def _proxies(spec: str | None):
    """``(proxy table, raw store rows or None, how they were computed)``; no table: ``(None, None, "")``."""
    from analognasbench.predict import ProxyConfig, ProxyStore
    from analognasbench.predict.export import DEFAULT_PROXY_TABLE, load_proxies, store_table

    if spec is not None and spec.endswith(".sqlite"):
        if not Path(spec).is_file():
            raise CLIError(f"proxy store {spec} does not exist")
        config = ProxyConfig()
        with ProxyStore(spec) as store:
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


def _lowcost(spec: str):
    if not spec:
        return None
    from analognasbench.bench.registry import load

    return load(spec)[0]


def _single(args: argparse.Namespace) -> int:
    from scipy import stats

    from analognasbench.predict.curves import lowcost_bar
    from analognasbench.predict.surrogates import ModelSpec, fit_predict
    from analognasbench.predict.targets import class_targets, parse_target, subset_mask

    target = parse_target(args.metric)
    spec = ModelSpec.parse(args.model)
    targets = class_targets(_release(args.release))
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
    low = _lowcost(args.lowcost)
    if low is not None:
        bar = lowcost_bar(targets, class_targets(low), [target], [args.subset])
        for _, r in bar.iterrows():
            print(f"  bar: {args.lowcost} {r.lowcost_column} vs release, Kendall tau {r.kendall:.3f} "
                  f"over {r.n} shared classes")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from analognasbench.predict.study import StudyConfig, run_study
    from analognasbench.predict.targets import TARGETS, parse_target
    from analognasbench.report.predict import write_study_report

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
                       full_network_proxies=None if proxies is None else _full_network(args.full_network),
                       proxy_settings=settings)
    md = write_study_report(result)
    print(f"wrote {len(result.tables)} tables, figures and {md} under {args.out}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    return _evaluate(args) if args.evaluate else _single(args)
