"""``anb query ARCH [--metric M] [--json]``: every metric of one architecture, with what each number means."""

from __future__ import annotations

import argparse

from analognasbench.bench import strict_json
from analognasbench.bench.cliutil import add_dataset_argument, open_benchmark, time_label
from analognasbench.bench.costs import cost_record, describe
from analognasbench.bench.errors import BenchmarkError
from analognasbench.bench.records import ArchitectureRecord, parse_metric
from analognasbench.cli import CLIError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "query", help="metrics of one architecture",
        description="Show the measured metrics of one architecture. ARCH: a 6-tuple '(0,0,0,4,3,2)', a short form "
                    "'000432', an index 0..15624, or a NAS-Bench-201 string. Isomorphic architectures resolve to "
                    "their measured representative, and the output says so.")
    parser.add_argument("arch", metavar="ARCH")
    parser.add_argument("--metric", "-m", default=None, help="print only this metric (mean ± std)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_dataset_argument(parser)
    parser.set_defaults(func=run)


def _table(record: ArchitectureRecord) -> str:
    a = record.arch
    lines = [f"architecture  {tuple(a)}  index {a.index}  {a.nb201_str}"]
    if record.resolved_by_isomorphism:
        lines.append(f"measured as   {tuple(record.measured)} (index {record.measured.index}; isomorphic, same network)")
    lines.append(f"params        {record.params if record.params is not None else 'unknown'}")
    lines.append("")
    lines.append(f"{'metric':<22} {'mean':>8} {'std':>7} {'R':>3}  {'unit':<8} {'network':<8} {'hardware':<9} t after programming")
    for v in record:
        info = v.info
        t = time_label(info.time_s)
        std = f"{v.std:7.2f}" if v.std == v.std else f"{'-':>7}"  # NaN: no error published
        lines.append(f"{v.metric.value:<22} {v.mean:8.2f} {std} {len(v.reps):3d}  {info.unit:<8} "
                     f"{info.network:<8} {info.hardware or '-':<9} {t}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    try:
        bench = open_benchmark(args)
        record = bench.query(args.arch)
        if args.metric is not None:
            v = record[parse_metric(args.metric)]
            if args.json:
                print(strict_json.dumps({"arch": list(record.arch), "measured": list(record.measured),
                                  "resolved_by_isomorphism": record.resolved_by_isomorphism, "metric": v.metric.value,
                                  "mean": v.mean, "std": v.std, "reps": list(v.reps), "unit": v.info.unit}))
            else:
                known = v.metric.repeated and v.std == v.std  # NaN std: no error published
                print(f"{v.mean} ± {v.std}" if known else f"{v.mean}")
            return 0
        cost = cost_record(bench.costs(), record.row)
        if args.json:
            print(strict_json.dumps({**record.as_dict(), "hardware_cost_estimate": {
                "chip": bench.costs().attrs.get("chip"), **cost}}, indent=2))
        else:
            print(_table(record))
            print(f"\nhardware cost (model estimate, not measured; {describe(bench.meta)}):")
            for name, value in cost.items():
                info = bench.metric_info(name)
                print(f"  {name:<24} {value:>14,.4g}  {info.unit}")
    except BenchmarkError as exc:
        raise CLIError(str(exc)) from None
    return 0
