"""``anb query ARCH [--metric M] [--json]``: every metric of one architecture, with what each number means."""

from __future__ import annotations

import argparse

import numpy as np

from analognasbench.bench import strict_json
from analognasbench.bench.benchmark import AnalogNASBench
from analognasbench.bench.cliutil import add_dataset_argument, open_benchmark, time_label
from analognasbench.bench.costs import cost_record, describe
from analognasbench.bench.errors import BenchmarkError
from analognasbench.bench.files import DatasetMeta
from analognasbench.bench.records import ArchitectureRecord, MetricValue, parse_metric
from analognasbench.bench.registry import datasets_holding
from analognasbench.cli import CLIError
from analognasbench.pipeline.schema import METRICS, Metric


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "query", help="metrics of one architecture",
        description="Show the measured metrics of one architecture. ARCH: a 6-tuple '(0,0,0,4,3,2)', a short form "
                    "'000432', an index 0..15624, or a NAS-Bench-201 string. Isomorphic architectures resolve to "
                    "their measured representative, and the output says so.")
    parser.add_argument("arch", metavar="ARCH")
    parser.add_argument("--metric", "-m", default=None,
                        help="print only this metric: mean ± std to 2 decimals (the mean alone where no std is "
                             "published); an error if the dataset holds no value of it")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_dataset_argument(parser)
    parser.set_defaults(func=run)


_NAME_WIDTH = max(len(m.value) for m in METRICS)


def _repetitions(v: MetricValue, meta: DatasetMeta) -> int | None:
    """How many repetitions the mean ± std of ``v`` summarises: the stored repetitions, else the dataset's R for a
    chip metric with a published std (the release keeps only mean and std), 1 for a single evaluation (std 0);
    None where no std is published (a single value) or the dataset does not record R."""
    if v.std != v.std:
        return None
    if v.reps:
        return len(v.reps)
    if not v.metric.repeated:
        return 1
    return meta.repetitions or None


def _table(record: ArchitectureRecord, meta: DatasetMeta) -> str:
    a = record.arch
    lines = [f"architecture  {tuple(a)}  index {a.index}  {a.nb201_str}"]
    if record.resolved_by_isomorphism:
        lines.append(f"measured as   {tuple(record.measured)} (index {record.measured.index}; isomorphic, same network)")
    lines.append(f"params        {record.params if record.params is not None else 'unknown'}")
    lines.append("")
    lines.append(f"{'metric':<{_NAME_WIDTH}} {'mean':>8} {'std':>7} {'R':>3}  {'unit':<8} {'network':<8} "
                 f"{'hardware':<9} t after programming")
    missing = []
    for v in record:
        info = v.info
        if v.mean != v.mean:
            missing.append(v.metric.value)
        mean = f"{v.mean:8.2f}" if v.mean == v.mean else f"{'-':>8}"
        std = f"{v.std:7.2f}" if v.std == v.std else f"{'-':>7}"  # NaN: no error published
        r = _repetitions(v, meta)
        r_text = str(r) if r is not None else "-" if v.std != v.std else "?"  # ?: a std whose R is not recorded
        lines.append(f"{v.metric.value:<{_NAME_WIDTH}} {mean} {std} {r_text:>3}  "
                     f"{info.unit:<8} {info.network:<8} {info.hardware or '-':<9} {time_label(info.time_s)}")
    lines.append("")
    lines.append("R: repetitions behind mean and std (anb info says what they are); '-' in std and R: no std "
                 "published, a single value")
    if missing:
        lines.append(f"not measured in {meta.name}: {', '.join(missing)}")
    return "\n".join(lines)


def _unmeasured(bench: AnalogNASBench, record: ArchitectureRecord, metric: Metric) -> str:
    """Why ``metric`` has no value for ``record``: the dataset does not measure it at all, or not this row."""
    if np.isnan(bench.metric_array(metric)).all():
        elsewhere = [name for name in datasets_holding(metric.value) if name != bench.meta.name]
        hint = f"; it is measured in: {', '.join(elsewhere)} (-d NAME)" if elsewhere else ""
        return f"the dataset {bench.meta.name!r} does not measure {metric.value}{hint}"
    return (f"the dataset {bench.meta.name!r} holds no value of {metric.value} for architecture "
            f"{tuple(record.measured)}")


def run(args: argparse.Namespace) -> int:
    try:
        bench = open_benchmark(args)
        record = bench.query(args.arch)
        if args.metric is not None:
            v = record[parse_metric(args.metric)]
            if v.mean != v.mean:
                raise CLIError(_unmeasured(bench, record, v.metric))
            if args.json:
                print(strict_json.dumps({"arch": list(record.arch), "measured": list(record.measured),
                                  "resolved_by_isomorphism": record.resolved_by_isomorphism, "metric": v.metric.value,
                                  "mean": v.mean, "std": v.std, "reps": list(v.reps),
                                  "repetitions": _repetitions(v, bench.meta), "unit": v.info.unit}))
            else:
                print(v)  # mean ± std to 2 decimals, or the mean alone where no error is published
            return 0
        cost = cost_record(bench.costs(), record.row)
        if args.json:
            doc = record.as_dict()
            for v in record:
                doc["metrics"][v.metric.value]["repetitions"] = _repetitions(v, bench.meta)
            print(strict_json.dumps({**doc, "hardware_cost_estimate": {
                "chip": bench.costs().attrs.get("chip"), **cost}}, indent=2))
        else:
            print(_table(record, bench.meta))
            print(f"\nhardware cost (model estimates, not measured) on {describe(bench.meta)}:")
            for name, value in cost.items():
                info = bench.metric_info(name)
                print(f"  {name:<24} {value:>14,.4g}  {info.unit}")
    except BenchmarkError as exc:
        raise CLIError(str(exc)) from None
    return 0
