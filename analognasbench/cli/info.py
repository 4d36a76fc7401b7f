"""``anb info``: the dataset card -- what was measured, how faithfully, on what, and how much of the space."""

from __future__ import annotations

import argparse

from analognasbench.bench import strict_json
from analognasbench.bench.cliutil import add_dataset_argument, open_benchmark, time_label
from analognasbench.bench.costs import describe
from analognasbench.bench.errors import BenchmarkError
from analognasbench.bench.registry import available_datasets
from analognasbench.cli import CLIError
from analognasbench.pipeline.schema import METRICS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="dataset card: fidelity, coverage, hardware, versions",
                                   description="Describe a dataset from its metadata, and every metric it holds.")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--metrics", action="store_true", help="also describe every metric")
    add_dataset_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        bench = open_benchmark(args)
    except BenchmarkError as exc:
        raise CLIError(str(exc)) from None
    meta, cov = bench.meta, bench.coverage()
    if args.json:
        out = {"meta": meta.to_dict(), "path": str(bench.path) if bench.path else None,
               "coverage": {"rows": cov.rows, "classes": cov.classes, "classes_total": 6466,
                            "architectures": cov.architectures, "architectures_total": 15625},
               "metrics": {m.value: vars(m.info) for m in METRICS}}
        print(strict_json.dumps(out, indent=2))
        return 0
    lines = [
        f"dataset       {meta.name} (version {meta.version}, schema {meta.schema_version})",
        f"source        {meta.source}",
        f"fidelity      {meta.fidelity or '(not recorded)'}",
        f"coverage      {cov}",
        f"repetitions   R = {meta.repetitions} {_reps_meaning(meta)}",
        f"t = 0         {_t0_meaning(bench)}",
        f"hardware      {meta.hardware_preset or '(not recorded)'}",
        f"profile       {meta.profile.get('name', '') if isinstance(meta.profile, dict) else ''} "
        f"(hash {meta.profile_hash or '-'})",
        f"software      {', '.join(f'{k} {v}' for k, v in meta.software.items()) or '(not recorded)'}",
        f"created       {meta.created or '(not recorded)'}",
        f"file          {bench.path}",
        f"sha256        {meta.sha256 or '-'}",
    ]
    lines.append(f"cost          hw_* columns: model estimates (not measured) on {describe(meta)}; anb cost")
    if meta.notes:
        lines.append(f"notes         {meta.notes}")
    lines.extend(_agreement_lines(meta.release_agreement))
    lines.append(f"embedded      {', '.join(available_datasets()) or '(none shipped yet)'}")
    print("\n".join(lines))
    if args.metrics:
        print()
        for m in METRICS:
            i = m.info
            t = time_label(i.time_s)
            chip = {True: "; programmed", False: "; not programmed", None: ""}[i.programmed]
            print(f"{m.value:<26} [{i.unit}; network {i.network}; hardware {i.hardware or '-'}{chip}; t {t}] "
                  f"{i.description}; {i.aggregation}")
    return 0


def _agreement_lines(card: dict) -> list[str]:
    """The card's measured agreement with the published release, one metric a line."""
    metrics = card.get("metrics") if isinstance(card, dict) else None
    if not metrics:
        return []
    lines = [f"vs release    rank agreement with {card.get('reference', 'the release')} over the classes both hold "
             "(Kendall tau / Spearman rho / top-10 % overlap):"]
    for name, r in metrics.items():
        lines.append(f"  {name:<44} n {r['n']:>5}  tau {r['kendall_tau']:.2f}  rho {r['spearman_rho']:.2f}  "
                     f"top10 {r['top10_overlap']:.2f}")
    return lines


def _reps_meaning(meta) -> str:
    profile = meta.profile if isinstance(meta.profile, dict) else {}
    if profile.get("reprogram_each_rep") is False:
        return "read-outs of one programming per network (the release's protocol) per drift metric"
    return "independent programmings per chip metric"


def _t0_meaning(bench) -> str:
    """Which t = 0 readings the dataset holds: the release's (before programming) and/or the programmed chip."""
    df = bench.df
    held = [name for name in ("noisy_accuracy", "noisy_programmed_accuracy")
            if name in df.columns and df[name].notna().any()]
    parts = []
    if "noisy_accuracy" in held:
        parts.append("noisy_accuracy/analog_accuracy = networks before programming (the release's meaning)")
    if "noisy_programmed_accuracy" in held:
        parts.append("noisy_programmed_accuracy/analog_programmed_accuracy = the programmed chip")
    return "; ".join(parts) or "no t = 0 reading measured"
