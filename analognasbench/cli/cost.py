"""``anb cost``: hardware cost (model estimates) of one architecture on an AIMC chip preset, or the whole table."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from analognasbench import hardware, space
from analognasbench.bench.cliutil import check_output_file
from analognasbench.bench.files import atomic_write
from analognasbench.cli import CLIError


def _network(args: argparse.Namespace) -> dict[str, int]:
    """The network size, checked against the cost model's bounds (``nets.config``) before any work."""
    from analognasbench.nets.config import NetworkConfig, check_image_size

    net = {"C": args.C, "N": args.N, "num_classes": args.num_classes, "input_size": args.input_size}
    if args.profile:
        from analognasbench.pipeline.profiles import resolve_profile

        given = [f"--{k.replace('_', '-')}" for k, v in net.items() if v is not None]
        if given:  # silently ignoring them printed the cost of another network than asked for
            raise CLIError(f"--profile sets the network size; drop {', '.join(given)} (or --profile)")
        profile = resolve_profile(args.profile)
        net.update(C=profile.C, N=profile.N, num_classes=profile.num_classes, input_size=profile.image_size)
    net = {k: (16, 5, 10, 32)[i] if v is None else v for i, (k, v) in enumerate(net.items())}
    NetworkConfig(C=net["C"], N=net["N"], num_classes=net["num_classes"])
    check_image_size(net["input_size"])
    return net


def _plain(value: Any) -> Any:
    """Strict-JSON value: NaN and infinities become null, numpy scalars Python ones."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _output(args: argparse.Namespace) -> Path | None:
    """The -o file, checked before any work: .parquet or .csv, and an existing file only with --force."""
    if args.output is None:
        if args.all:
            raise CLIError("--all needs -o/--output FILE (.parquet or .csv)")
        if args.force:
            raise CLIError("--force replaces an -o/--output file; no -o was given")
        return None
    if args.json or args.per_layer:
        raise CLIError("-o/--output writes the hw_* table; --json and --per-layer print one architecture instead")
    out = Path(args.output)
    if out.suffix not in (".parquet", ".csv"):
        raise CLIError(f"--output must end in .parquet or .csv; got {out.name!r}")
    return check_output_file(out, "--output", force=args.force, refuse_existing=True)


def _run(args: argparse.Namespace) -> int:
    if args.all and args.arch:
        raise CLIError("give an architecture or --all, not both")
    if not args.all and not args.arch:
        raise CLIError("give an architecture (e.g. 222222, an index 0..15624, a 6-tuple or a NAS-Bench-201 string) "
                       "or --all")
    chip = hardware.get_chip(args.chip)
    net = _network(args)
    arch = None if args.all else space.parse(args.arch)
    out = _output(args)
    if out is not None:  # the table of every cell (--all), or the one row of ARCH with the same columns
        start = time.perf_counter()
        table = hardware.cost_table(None if arch is None else [arch], chip,
                                    include_unused_edges=args.include_unused_edges, **net)
        elapsed = time.perf_counter() - start
        atomic_write(out, lambda tmp: table.to_csv(tmp, index=False) if out.suffix == ".csv"
                     else table.to_parquet(tmp, index=False))
        what = f"{len(table):,} architectures" if arch is None else f"architecture {arch.short}"
        print(f"wrote {what} x {len(hardware.COST_COLUMNS)} hw_* columns to {out} "
              f"(chip {chip.name}, C={net['C']} N={net['N']} {net['input_size']}x{net['input_size']}; "
              f"computed in {elapsed:.2f} s; model estimates, not measurements)")
        return 0
    cost = hardware.network_cost(arch, chip, include_unused_edges=args.include_unused_edges, **net)
    totals = cost.totals()
    if args.json:
        doc: dict[str, Any] = {
            "arch": list(cost.arch), "arch_str": cost.arch.nb201_str, "chip": chip.to_dict(), "network": net,
            "include_unused_edges": args.include_unused_edges, "note": hardware.MODEL_NOTE,
            "cost": {k: _plain(v) for k, v in totals.items()},
            "units": {k: hardware.COLUMN_INFO[k].unit for k in totals},
        }
        if args.per_layer:
            doc["layers"] = [{k: _plain(v) for k, v in layer.as_dict(chip).items()} for layer in cost.layers]
        json.dump(doc, sys.stdout, indent=2, allow_nan=False)
        print()
        return 0
    print(f"{cost.arch.nb201_str}  ({cost.arch.short})")
    print(f"chip {chip.name}: {chip.crossbar.rows}x{chip.crossbar.cols} crossbars, {chip.crossbar.cores} cores; "
          f"network C={net['C']} N={net['N']} {net['input_size']}x{net['input_size']}; {hardware.MODEL_NOTE}")
    for key, value in totals.items():
        unit = hardware.COLUMN_INFO[key].unit
        text = f"{value:,.4g}" if isinstance(value, float) else f"{value:,}" if not isinstance(value, bool) else str(value)
        print(f"  {key:<26s} {text:>14s}  {unit}")
    if args.per_layer:
        frame = cost.layer_frame()[["name", "kind", "rows", "cols", "pixels", "tiles", "mvms", "dac_conversions",
                                    "adc_conversions", "digital_ops", "energy_pj", "latency_ns"]]
        print(frame.to_string(index=False, float_format=lambda x: f"{x:,.1f}"))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "cost", help="hardware cost of an architecture on an AIMC chip (tiles, MVMs, energy, latency; model estimates)",
        description="Analytic cost of weight-stationary AIMC inference (README 'Hardware cost'): crossbar tiles, "
                    "MVMs, DAC/ADC conversions, digital operations, energy, latency, throughput and whether the "
                    "network fits one chip. Model estimates, not measurements.")
    p.add_argument("arch", nargs="?", metavar="ARCH",
                   help="architecture: 6 digits (e.g. 222222), an index 0..15624 (e.g. 7562), a 6-tuple or a "
                        "NAS-Bench-201 string")
    p.add_argument("--chip", default=hardware.DEFAULT_CHIP.value,
                   help=f"chip preset: {', '.join(hardware.chip_names())}, or a .json/.yaml preset file "
                        f"(default {hardware.DEFAULT_CHIP.value})")
    p.add_argument("--C", type=int, default=None, help="stem channels, 1..1024 (default 16)")
    p.add_argument("--N", type=int, default=None, help="cells per stage, 1..64 (default 5)")
    p.add_argument("--num-classes", type=int, default=None, help="classifier outputs, 2..100,000 (default 10)")
    p.add_argument("--input-size", type=int, default=None,
                   help="input side in pixels, a multiple of 4 in 4..1024 (default 32)")
    p.add_argument("--profile", default=None,
                   help="take C, N, classes and input size from a measurement profile (e.g. cifar_lowcost; not "
                        "with --C/--N/--num-classes/--input-size)")
    p.add_argument("--include-unused-edges", action="store_true",
                   help="also map and run edges that cannot reach a cell output (as AIHWKit maps every conv)")
    p.add_argument("--json", action="store_true", help="print strict JSON (null for undefined numbers)")
    p.add_argument("--per-layer", action="store_true", help="also list every layer and digital step")
    p.add_argument("--all", action="store_true", help="the table of all 15,625 cells (needs -o)")
    p.add_argument("-o", "--output", default=None,
                   help="write the hw_* table (.parquet or .csv): of all cells with --all, else the one row of ARCH")
    p.add_argument("--force", action="store_true", help="replace an existing -o file")
    p.set_defaults(func=_run)
